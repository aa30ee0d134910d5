"""What the language server does with a saved file, without any LSP types.

A file belongs to a **unit**, what the engine must read to judge it, exactly as the command
line would: a ``.tf``/``.tf.json`` file is judged with its module directory (a variable
declared in a sibling file resolves; local modules it calls are read too), any other file
on its own (a CloudFormation template, SAM or CDK output, a plan JSON; other YAML/JSON is
not ours and gets no diagnostics).

``Validator.validate(path)`` runs ``kds_iac.engine.scan`` on the unit and returns a
``Problem`` list for every file of the unit, so saving ``variables.tf`` refreshes the
findings shown in ``main.tf``. The result is cached per unit with the modification time
and size of every file the engine read, the unit's directory listing and the settings
file: validating a file whose unit has not changed (re-opening it, opening a sibling,
saving without edits) costs a few ``stat`` calls.

A problem's range is the offending line from its first to its last non-blank character
(the resource's header line when the whole block is the problem), converted to the position
encoding the client agreed on (UTF-16 unless it asked for another).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Optional

from kds_iac.output.common import finding_column

if TYPE_CHECKING:  # pragma: no cover
    from kds_iac.engine import ScanResult

LOG = logging.getLogger("kds_iac.lsp")

SOURCE = "kds-iac"
TERRAFORM_UNIT = "terraform"
FILE_UNIT = "file"

# Same levels as SARIF: critical/high are errors, medium warnings, low/info information.
SEVERITY_LEVELS = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "information", "INFO": "information"}


@dataclass(frozen=True)
class Problem:
    """One diagnostic: 0-based lines; characters are code points of the line (``characters``
    converts them to the position encoding the client and server agreed on)."""

    file: str  # absolute path
    line: int
    start_character: int
    end_line: int
    end_character: int
    severity: str  # "error", "warning", "information"
    message: str
    code: Optional[str] = None  # rule id, or "parse"/"input" for problems with the input
    href: Optional[str] = None  # the rule's documentation
    resource: Optional[str] = None  # the resource address of a finding
    source: str = SOURCE
    line_text: str = field(default="", repr=False)  # the text of ``line``, for encodings

    def characters(self, encoding: str = "utf-16") -> tuple[int, int]:
        """(start, end) in the units of ``encoding``: "utf-8", "utf-16" (LSP's default) or "utf-32"."""
        return _units(self.line_text, self.start_character, encoding), _units(self.line_text, self.end_character, encoding)


@dataclass(frozen=True)
class Unit:
    kind: str  # TERRAFORM_UNIT or FILE_UNIT
    root: str  # the module directory, or the file itself (absolute, real path)

    def members(self) -> list[str]:
        """The files whose problems this unit owns (the files a user edits)."""
        if self.kind == FILE_UNIT:
            return [self.root]
        try:
            names = sorted(os.listdir(self.root))
        except OSError:
            return []
        return [os.path.join(self.root, n) for n in names if _is_terraform(n) and os.path.isfile(os.path.join(self.root, n))]

    def listing(self) -> tuple[str, ...]:
        """Names in the module directory that change what Terraform evaluates."""
        if self.kind == FILE_UNIT:
            return ()
        try:
            names = os.listdir(self.root)
        except OSError:
            return ()
        return tuple(sorted(n for n in names if _is_terraform(n) or n.endswith(".tfvars") or n.endswith(".tfvars.json")))


@dataclass
class Validation:
    """The problems of every file of a unit, and whether they came from the cache."""

    unit: Unit
    problems: dict[str, list[Problem]]  # absolute path -> problems (empty list: clear the file)
    cached: bool = False


@dataclass
class _Entry:
    fingerprint: tuple
    watched: tuple[str, ...]
    problems: dict[str, list[Problem]]
    config_source: Optional[str] = None


@dataclass
class Validator:
    """Validates files unit by unit and remembers each unit's problems until a file changes."""

    cache: dict[tuple[str, str], _Entry] = field(default_factory=dict)
    scans: int = 0  # engine runs so far (tests and benchmarks read it)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _failure_problems: dict[str, list[Problem]] = field(default_factory=dict)

    def unit_of(self, path: str) -> Unit:
        real = os.path.realpath(os.path.abspath(path))
        if _is_terraform(os.path.basename(real)):
            return Unit(TERRAFORM_UNIT, os.path.dirname(real))
        return Unit(FILE_UNIT, real)

    def validate(self, path: str) -> Validation:
        unit = self.unit_of(path)
        key = (unit.kind, unit.root)
        with self._lock:
            entry = self.cache.get(key)
            if entry is not None and entry.fingerprint == _fingerprint(unit, entry.watched):
                return Validation(unit, entry.problems, cached=True)
            entry = self._scan(unit)
            if entry is not None:
                self.cache[key] = entry
                return Validation(unit, entry.problems)
            self.cache.pop(key, None)
            return Validation(unit, self._failure_problems)

    def forget(self, path: Optional[str] = None) -> None:
        """Drop the cached unit of ``path`` (every unit when ``None``)."""
        with self._lock:
            if path is None:
                self.cache.clear()
            else:
                unit = self.unit_of(path)
                self.cache.pop((unit.kind, unit.root), None)

    # ------------------------------------------------------------------ one engine run

    def _scan(self, unit: Unit) -> Optional[_Entry]:
        from kds_iac.config import discovered_config

        members = unit.members()
        problems: dict[str, list[Problem]] = {m: [] for m in members}
        if not members:
            return _Entry(_fingerprint(unit, ()), (), problems)
        if unit.kind == FILE_UNIT and not _is_ours(unit.root):
            watched = (unit.root,)
            return _Entry(_fingerprint(unit, watched), watched, {unit.root: []})

        start = unit.root if unit.kind == TERRAFORM_UNIT else os.path.dirname(unit.root)
        config, config_source, error = discovered_config([start], start)
        if error is not None:
            problems[members[0]].append(_whole_file_problem(members[0], f"settings ignored: {error}", "config"))

        from kds_iac import engine

        self.scans += 1
        try:
            result = engine.scan(members, config=config)
        except Exception as error:  # a bug: say so in the editor, never silence
            LOG.exception("kds-iac: the engine failed on %s", unit.root)
            self._failure_problems = {
                members[0]: [_whole_file_problem(members[0], f"internal error, please report it: {error!r}", "internal")]
            }
            return None
        for file, found in problems_of(result).items():
            problems.setdefault(file, []).extend(found)
        watched = tuple(sorted({*members, *(_absolute(f) for f in result.files), *([config_source] if config_source else [])}))
        return _Entry(_fingerprint(unit, watched), watched, problems, config_source)



# --------------------------------------------------------------------------- findings -> problems


def problems_of(result: "ScanResult") -> dict[str, list[Problem]]:
    """Every finding and input diagnostic of ``result`` as a ranged problem, by absolute file."""
    texts = _Texts()
    out: dict[str, list[Problem]] = {}
    real: dict[str, str] = {}

    def absolute(path: str) -> str:
        found = real.get(path)
        if found is None:
            found = real[path] = _absolute(path)
        return found

    for diagnostic in result.diagnostics:
        file = absolute(diagnostic.file)
        line = max(diagnostic.line, 1)
        is_error = diagnostic.level == "error"
        start, end, text = texts.span(file, line, max(diagnostic.column, 1) if diagnostic.line >= 1 else 1)
        out.setdefault(file, []).append(
            Problem(
                file=file,
                line=line - 1,
                start_character=start,
                end_line=line - 1,
                end_character=end,
                severity="error" if is_error else "information",
                message=diagnostic.message,
                code="parse" if is_error else "input",
                line_text=text,
            )
        )
    for finding in result.findings:
        file = absolute(finding.location.file)
        line = finding.primary_line
        start, end, text = texts.span(file, line, finding_column(finding))
        rule = finding.rule
        out.setdefault(file, []).append(
            Problem(
                file=file,
                line=line - 1,
                start_character=start,
                end_line=line - 1,
                end_character=end,
                severity=SEVERITY_LEVELS[rule.severity.name],
                message=f"{_one_line(finding.message)} [{finding.address}]",
                code=rule.id,
                href=rule.help_uri,
                resource=finding.address,
                line_text=text,
            )
        )
    for found in out.values():
        found.sort(key=lambda p: (p.line, p.start_character, p.code or "", p.message))
    return out


class _Texts:
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


def _units(text: str, index: int, encoding: str) -> int:
    prefix = text[:index]
    if encoding == "utf-8":
        return len(prefix.encode("utf-8", errors="surrogatepass"))
    if encoding == "utf-32":
        return len(prefix)
    return len(prefix.encode("utf-16-le", errors="surrogatepass")) // 2


def _whole_file_problem(file: str, message: str, code: str) -> Problem:
    return Problem(file=file, line=0, start_character=0, end_line=0, end_character=0, severity="error", message=message, code=code)


# --------------------------------------------------------------------------- helpers


def _is_terraform(name: str) -> bool:
    return name.endswith(".tf") or name.endswith(".tf.json")


def _is_ours(path: str) -> bool:
    """A CloudFormation template or a plan JSON, recognized by content like the command line."""
    from kds_iac.loaders.discovery import discover

    found = discover([path])
    if found.cloudformation_templates or found.terraform_plans or found.serverless_services:
        return True
    # unreadable or too large: say so; "not a template" is someone else's YAML or JSON
    return any(not d.message.startswith("not a Terraform file") for d in found.diagnostics)


def _fingerprint(unit: Unit, watched: Iterable[str]) -> tuple:
    return (unit.listing(), tuple((path, _stat(path)) for path in watched))


def _stat(path: str) -> Optional[tuple[int, int]]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _absolute(path: str) -> str:
    return os.path.realpath(os.path.abspath(path))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
