"""Baselines: adopt kds-iac on an existing code base and fail only on new findings.

``kds-iac scan DIR --create-baseline`` records the findings of today in a JSON file
(``DIR/.kds-iac.baseline`` unless ``--baseline FILE`` names another); later runs with
``--baseline FILE`` leave out every finding the file lists, so only new ones are reported
and fail the run. It works like checkov's ``--create-baseline``/``--baseline``.

A finding's identity is its **rule, file and resource address**, never a line number, the
same identity as SARIF's ``partialFingerprints``: editing above a resource, or changing the
message, keeps a finding baselined; a new resource, a renamed one, or the same problem in
another file is new. The file, version 1::

    {
      "version": 1,
      "tool": "kds-iac",
      "findings": [
        {"file": "infra/main.tf", "resource": "aws_kinesis_stream.events", "rule_ids": ["KDS001", "KDS002"]},
        {"file": "stacks/app.yaml", "resource": "Orders", "rule_ids": ["KDS001"]}
      ]
    }

``file`` is relative to the directory holding the baseline file, with ``/`` separators,
so the baseline works from any working directory and on any machine; entries are sorted
and carry no timestamp, so the file diffs cleanly in review. ``rule_ids`` may hold KDS ids
or checkov ids (``CKV_KDS_1``). Suppressed findings (skip comments) are not recorded:
they are already accepted where they are written.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Iterable, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from kds_iac.rules.base import Finding

FILE_NAME = ".kds-iac.baseline"
VERSION = 1
TOOL = "kds-iac"


class BaselineError(ValueError):
    """A baseline file that cannot be read or written; the message names the file."""


Identity = tuple[str, str, str]  # (rule id, file relative to the baseline's directory, resource address)


@dataclass
class Baseline:
    path: str
    entries: set[Identity] = field(default_factory=set)  # rule ids as written (KDS or CKV_KDS)

    @property
    def base(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))

    def identities(self, finding: Finding) -> tuple[Identity, Identity]:
        file = relative_file(finding.location.file, self.base)
        return (finding.rule.id, file, finding.address), (finding.rule.checkov_id, file, finding.address)

    def contains(self, finding: Finding) -> bool:
        return any(identity in self.entries for identity in self.identities(finding))

    def split(self, findings: Sequence[Finding]) -> tuple[list[Finding], list[Finding]]:
        """(new, known): the findings the baseline does not list, and those it does."""
        new: list[Finding] = []
        known: list[Finding] = []
        for finding in findings:
            (known if self.contains(finding) else new).append(finding)
        return new, known

    def stale(self, known: Iterable[Finding], scanned_files: Iterable[str]) -> list[Identity]:
        """Entries for files this scan read that no finding matched (fixed, renamed or moved)."""
        matched: set[Identity] = set()
        for finding in known:
            matched.update(self.identities(finding))
        files = {relative_file(f, self.base) for f in scanned_files}
        return sorted(e for e in self.entries if e[1] in files and e not in matched)


def default_path(paths: Sequence[str]) -> str:
    """``.kds-iac.baseline`` in the first scanned directory (a file's directory for a file)."""
    first = os.path.abspath(str(paths[0])) if paths else os.getcwd()
    directory = first if os.path.isdir(first) else os.path.dirname(first)
    return os.path.join(directory, FILE_NAME)


def relative_file(path: str, base: str) -> str:
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, base)
    except ValueError:  # another drive on Windows: keep it absolute
        return PurePath(absolute).as_posix()
    return PurePath(relative).as_posix()


def document(findings: Iterable[Finding], path: str) -> dict:
    base = os.path.dirname(os.path.abspath(path))
    grouped: dict[tuple[str, str], set[str]] = {}
    for finding in findings:
        key = (relative_file(finding.location.file, base), finding.address)
        grouped.setdefault(key, set()).add(finding.rule.id)
    return {
        "version": VERSION,
        "tool": TOOL,
        "findings": [
            {"file": file, "resource": resource, "rule_ids": sorted(rule_ids)}
            for (file, resource), rule_ids in sorted(grouped.items())
        ],
    }


def render(findings: Iterable[Finding], path: str) -> str:
    """The baseline file's text: one entry per line, sorted, so reviews show a clean diff."""
    data = document(findings, path)
    lines = ",\n".join("    " + json.dumps(entry, ensure_ascii=False) for entry in data["findings"])
    body = f"[\n{lines}\n  ]" if lines else "[]"
    return f'{{\n  "version": {VERSION},\n  "tool": "{TOOL}",\n  "findings": {body}\n}}\n'


def write(findings: Iterable[Finding], path: str) -> int:
    """Write the baseline of ``findings`` to ``path``; returns the number of entries."""
    text = render(findings, path)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)  # --baseline ci/kds.baseline
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as error:
        raise BaselineError(f"{path}: cannot write the baseline: {error.strerror or error}") from None
    return len(json.loads(text)["findings"])


def load(path: str) -> Baseline:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such baseline file (create it with --create-baseline)") from None
    except OSError as error:
        raise BaselineError(f"{path}: cannot read the baseline: {error.strerror or error}") from None
    except ValueError as error:
        raise BaselineError(f"{path}: not a kds-iac baseline (invalid JSON: {error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path}: not a kds-iac baseline (expected an object with a 'findings' list)")
    if data.get("version") != VERSION:
        raise BaselineError(f"{path}: baseline version {data.get('version')!r} is not supported (expected {VERSION})")
    baseline = Baseline(path)
    for index, entry in enumerate(data["findings"]):
        if not isinstance(entry, dict):
            raise BaselineError(f"{path}: findings[{index}] must be an object")
        file, resource, rule_ids = entry.get("file"), entry.get("resource"), entry.get("rule_ids")
        if not isinstance(file, str) or not isinstance(resource, str) or not isinstance(rule_ids, list):
            raise BaselineError(f"{path}: findings[{index}] needs 'file' and 'resource' strings and a 'rule_ids' list")
        for rule_id in rule_ids:
            if not isinstance(rule_id, str):
                raise BaselineError(f"{path}: findings[{index}].rule_ids must hold strings")
            baseline.entries.add((rule_id.strip().upper(), PurePath(file).as_posix(), resource))
    return baseline
