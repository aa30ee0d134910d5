"""What the front-ends share, below all of them: finding and diagnostic positions, ranged
problems, rule descriptions and rule ids in other tools.

The language server and the cfn-lint pack both turn a scan into ranged problems
(``problems_of``); SARIF and the cfn-lint pack both describe a rule by its "What it does"
(``full_description``); the command line and the cfn-lint pack both name a rule's cfn-lint id
(``cfnlint_id``). Front-ends import this module, never each other (tests/test_layering.py).
Cheap to import: no engine, no cfn-lint, no pygls.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, Optional

from kds_iac.model import Diagnostic
from kds_iac.value import Value
from kds_iac.rules.base import Finding

if TYPE_CHECKING:  # pragma: no cover
    from kds_iac.engine import ScanResult

SOURCE = "kds-iac"

# Same levels as SARIF: critical/high are errors, medium warnings, low/info information.
SEVERITY_LEVELS = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "information", "INFO": "information"}


def finding_column(finding: Finding) -> int:
    """The resource's column when pointing at the block start; 1 for an attribute line."""
    if finding.line is None or finding.line == finding.resource.location.start_line:
        return max(finding.resource.location.column, 1)
    return 1


def diagnostic_position(diagnostic: Diagnostic) -> tuple[int, int]:
    """(line, column), both at least 1; line 0 means "the whole file" in the model."""
    return max(diagnostic.line, 1), max(diagnostic.column, 1)


def one_line(text: str) -> str:
    """Whitespace runs, newlines included, as one space: a message on one report line. Most
    messages are one line already: a text whose only whitespace is single inner spaces (space
    is the one printable whitespace character) comes back as it is, without a split and join."""
    if text.__class__ is str and text.isprintable() and "  " not in text and text[:1] != " " != text[-1:]:
        return text
    return " ".join(str(text).split())


def absolute_path(path: str) -> str:
    return os.path.realpath(os.path.abspath(path))


def full_description(doc: str) -> str:
    """The "What it does" section of a rule docstring, else its first paragraph."""
    match = re.search(r"^#+\s*What it does\s*$(.*?)(?=^#+\s|\Z)", doc, re.M | re.S)
    if match and match.group(1).strip():
        return " ".join(match.group(1).split())
    first = doc.split("\n\n", 1)[0].strip()
    return " ".join(first.split())


# --------------------------------------------------------------------------- cfn-lint ids
# ``KDS<nnn>`` becomes ``<L>9<nnn>``: the number is the rule's own, so two rules never
# collide and an id never changes while the rule keeps its severity; ``9`` is cfn-lint's
# range for user rules; the letter is cfn-lint's level, from the severity: critical and
# high -> ``E`` (error), medium and low -> ``W`` (warning), info -> ``I`` (informational,
# which cfn-lint leaves out unless asked). ``E9000`` is reserved for "kds-iac could not
# read the template" (no rule is numbered 000).

LETTERS = {"CRITICAL": "E", "HIGH": "E", "MEDIUM": "W", "LOW": "W", "INFO": "I"}
INPUT_ERROR_ID = "E9000"
_RULE_ID = re.compile(r"^KDS(\d{3})$")


def cfnlint_id(rule: Any) -> str:
    """``KDS001`` (high) -> ``E9001``; ``KDS003`` (medium) -> ``W9003``."""
    match = _RULE_ID.match(rule.id)
    if not match or match.group(1) == "000":
        raise ValueError(f"{rule.id}: cannot map to a cfn-lint id (expected KDS001..KDS999)")
    return f"{LETTERS[rule.severity.name]}9{match.group(1)}"


# --------------------------------------------------------------------------- ranged problems

class Problem(Value):
    """One diagnostic: 0-based lines; characters are code points of the line (``characters``
    converts them to the position encoding the client and server agreed on). A ``Value``, not
    a dataclass: the scan's text and JSON output import this module, and ``dataclasses`` costs
    start-up."""

    __slots__ = (
        "file", "line", "start_character", "end_line", "end_character", "severity", "message",
        "code", "kind", "href", "resource", "source", "line_text",
    )

    def __init__(
        self,
        file: str,  # absolute path
        line: int,
        start_character: int,
        end_line: int,
        end_character: int,
        severity: str,  # "error", "warning", "information"
        message: str,
        code: Optional[str] = None,  # rule id, or "parse"/"input" for problems with the input
        kind: Optional[str] = None,  # a diagnostic's ``DiagnosticCode`` (None for a finding)
        href: Optional[str] = None,  # the rule's documentation
        resource: Optional[str] = None,  # the resource address of a finding
        source: str = SOURCE,
        line_text: str = "",  # the text of ``line``, for encodings
    ):
        self.file = file
        self.line = line
        self.start_character = start_character
        self.end_line = end_line
        self.end_character = end_character
        self.severity = severity
        self.message = message
        self.code = code
        self.kind = kind
        self.href = href
        self.resource = resource
        self.source = source
        self.line_text = line_text

    def characters(self, encoding: str = "utf-16") -> tuple[int, int]:
        """(start, end) in the units of ``encoding``: "utf-8", "utf-16" (LSP's default) or "utf-32"."""
        return units(self.line_text, self.start_character, encoding), units(self.line_text, self.end_character, encoding)


def problems_of(result: "ScanResult") -> dict[str, list[Problem]]:
    """Every finding and input diagnostic of ``result`` as a ranged problem, by absolute file."""
    texts = Texts()
    out: dict[str, list[Problem]] = {}
    real: dict[str, str] = {}

    def add(path: str, line: int, column: int, **fields: Any) -> None:
        """A problem on 1-based ``line`` of ``path``, ranged from ``column`` to the line's end."""
        file = real.get(path)
        if file is None:
            file = real[path] = absolute_path(path)
        start, end, text = texts.span(file, line, column)
        problem = Problem(file=file, line=line - 1, start_character=start, end_line=line - 1, end_character=end,
                          line_text=text, **fields)
        out.setdefault(file, []).append(problem)

    for diagnostic in result.diagnostics:
        is_error = diagnostic.level == "error"
        line, column = diagnostic_position(diagnostic)
        add(diagnostic.file, line, column if diagnostic.line >= 1 else 1,
            severity="error" if is_error else "information", message=diagnostic.message,
            code="parse" if is_error else "input", kind=diagnostic.code)
    for finding in result.findings:
        rule = finding.rule
        add(finding.location.file, finding.primary_line, finding_column(finding),
            severity=SEVERITY_LEVELS[rule.severity.name], message=f"{one_line(finding.message)} [{finding.address}]",
            code=rule.id, href=rule.help_uri, resource=finding.address)
    for found in out.values():
        found.sort(key=lambda p: (p.line, p.start_character, p.code or "", p.message))
    return out


class Texts:
    """File lines, read once per validation, for the ranges."""

    def __init__(self) -> None:
        self._lines: dict[str, list[str]] = {}

    def span(self, file: str, line: int, column: int) -> tuple[int, int, str]:
        """(start, end, text) of 1-based ``line``: from ``column`` or the first non-blank
        character to the last non-blank one, in code points."""
        lines = self._lines.get(file)
        if lines is None:
            try:
                with open(file, encoding="utf-8", errors="replace", newline="") as handle:
                    lines = handle.read().splitlines()
            except OSError:
                lines = []
            self._lines[file] = lines
        if not 1 <= line <= len(lines):
            return 0, 0, ""
        text = lines[line - 1].rstrip()
        first = len(text) - len(text.lstrip())
        start = max(first, min(column - 1, len(text)))
        if start >= len(text):
            start = first
        return start, len(text), text


def units(text: str, index: int, encoding: str) -> int:
    prefix = text[:index]
    if encoding == "utf-8":
        return len(prefix.encode("utf-8", errors="surrogatepass"))
    if encoding == "utf-32":
        return len(prefix)
    return len(prefix.encode("utf-16-le", errors="surrogatepass")) // 2
