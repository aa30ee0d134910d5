"""Recognize a Serverless Framework service and the files it includes, cheaply.

Discovery asks this for every YAML and JSON file it meets, so it imports nothing heavy;
``kds_iac.loaders.serverless`` does the reading.
"""

from __future__ import annotations

import os
import re

SERVICE_FILE_NAMES = ("serverless.yml", "serverless.yaml", "serverless.json")
_SERVICE_KEY = re.compile(rb'^["\']?service["\']?[ \t]*:', re.MULTILINE)
_PROVIDER_KEY = re.compile(rb'^["\']?provider["\']?[ \t]*:', re.MULTILINE)
_AWS_NAME = re.compile(rb'["\']?name["\']?[ \t]*:[ \t]*["\']?aws["\']?[ \t]*[,}\r\n]')
_JSON_SERVICE = re.compile(rb'"service"\s*:')
_JSON_PROVIDER = re.compile(rb'"provider"\s*:')
_FILE_INCLUDE = re.compile(r"\$\{file\(\s*([^)\s]+)\s*\)")


def is_service_file(name: str, head: bytes) -> bool:
    """Whether discovery should read a file as a service: by its name, or by a top-level
    ``service`` and ``provider`` with ``name: aws`` in the first bytes (YAML or JSON)."""
    if os.path.basename(name).lower() in SERVICE_FILE_NAMES:
        return True
    if _SERVICE_KEY.search(head) and _PROVIDER_KEY.search(head):
        return bool(_AWS_NAME.search(head))
    stripped = head.lstrip()
    if stripped.startswith(b"{") and _JSON_SERVICE.search(head) and _JSON_PROVIDER.search(head):
        return bool(_AWS_NAME.search(head))
    return False


def included_files(path: str, text: str) -> list[str]:
    """The files a service names with ``${file(...)}``, as paths beside it: discovery does not
    report them as templates of their own (a fragment is often not a whole template)."""
    base = os.path.dirname(path)
    found = []
    for target in _FILE_INCLUDE.findall(text):
        target = target.strip("'\"")
        if "${" in target or os.path.isabs(target):
            continue
        found.append(os.path.normpath(os.path.join(base, target)))
    return found
