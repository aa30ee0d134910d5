"""A tiny stand-in for the format writers, for testing the plumbing around them (planning,
applying, reports, the language server) without depending on what a real writer decides.

It understands ``SetSetting(resource, name, value)`` for a top-level ``name = value`` line
of a block written ``name = value`` per line (HCL-like): it replaces the value when the line
is there, else inserts the line after the block's first line, indented two spaces more.
"""

from __future__ import annotations

import re
from typing import Callable, Optional

from kds_iac.fixes import Fix, NewResource, SetSetting, TextEdit
from kds_iac.model import Location, Resource
from kds_iac.rules.base import Finding, Rule, Severity


def render(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def text_edits(fix: Fix, read: Callable[[str], str]) -> Optional[list[TextEdit]]:
    edits = []
    for intent in fix.intents:
        if isinstance(intent, NewResource):
            return None
        assert isinstance(intent, SetSetting)
        location = intent.resource.location
        lines = read(location.file).split("\n")
        newline = "\r\n" if lines[0].endswith("\r") else "\n"
        for number in range(location.start_line + 1, location.end_line):
            match = re.match(rf"^(\s*{re.escape(intent.path)}\s*=\s*)(\S+)", lines[number - 1])
            if match:
                start = len(match.group(1)) + 1
                edits.append(TextEdit(location.file, number, start, number, start + len(match.group(2)), render(intent.value)))
                break
        else:
            header = lines[location.start_line - 1]
            indent = header[: len(header) - len(header.lstrip())] + "  "
            line = location.start_line + 1
            edits.append(TextEdit(location.file, line, 1, line, 1, f"{indent}{intent.path} = {render(intent.value)}{newline}"))
    return edits


RULE = Rule("KDS903", "CKV_KDS_903", Severity.MEDIUM, "Key rotation is off", ("aws_kms_key",), "ENCRYPTION")


def resource(file: str, start: int, end: int, address: str = "aws_kms_key.k", fmt: str = "terraform") -> Resource:
    return Resource("aws_kms_key", address, {}, Location(file, start, end), fmt)


def finding(res: Resource, path: str = "enable_key_rotation", value=True, safety: str = "safe", rule: Rule = RULE) -> Finding:
    fix = Fix(f"Set {path}", safety, (SetSetting(res, path, value),))
    return Finding(rule, res, f"{res.address}: {path} is not {render(value)}", fix=fix)
