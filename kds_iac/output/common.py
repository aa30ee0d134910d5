"""What every output format shares: the report context, ordering, paths and counts.

Formatters are pure functions ``render(result, context) -> str``; they never print, never
read the environment and never import the engine, so tests feed them hand-made results.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from typing import TYPE_CHECKING, Optional

from kds_iac.rules.base import Finding, Rule, RuleModule, Severity

if TYPE_CHECKING:  # pragma: no cover - the engine is only needed for the type
    from kds_iac.engine import ScanResult

TOOL_NAME = "kds-iac"
INFORMATION_URI = "https://github.com/kds-iac/kds-iac"

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


class ReportContext:
    """How the run was asked for, and how it ends: what a report says besides the findings."""

    __slots__ = (
        "tool_version", "fail_on", "soft_fail", "exit_code", "config_source", "cwd", "color", "baselined", "fixes",
        "unsafe_fixes",
    )

    def __init__(
        self,
        tool_version: str = "0.0.0",
        fail_on: Severity = Severity.INFO,
        soft_fail: bool = False,
        exit_code: int = EXIT_CLEAN,
        config_source: Optional[str] = None,
        cwd: Optional[str] = None,
        color: bool = False,
        baselined: int = 0,
        fixes: Optional[dict] = None,
        unsafe_fixes: bool = False,
    ):
        self.tool_version = tool_version
        self.fail_on = fail_on
        self.soft_fail = soft_fail
        self.exit_code = exit_code
        self.config_source = config_source
        self.cwd = os.getcwd() if cwd is None else cwd  # base of SARIF's relative URIs
        self.color = color  # text only
        self.baselined = baselined  # findings left out because the --baseline file lists them
        # id(finding) -> its fix's text edits (``kds_iac.fixes.apply.offered``), for the
        # findings whose fix can be written, when the format shows edits (JSON, SARIF); None
        # when they were not computed (text: a writer's work per fix would cost more than
        # the scan), and then a finding counts as fixable when its rule attached a fix
        self.fixes = fixes
        self.unsafe_fixes = unsafe_fixes  # --unsafe-fixes: unsafe fixes count as applicable

    def fix_edits(self, finding: Finding) -> Optional[list]:
        """The text edits of ``finding``'s fix, when they were computed and it can be written."""
        return self.fixes.get(id(finding)) if self.fixes else None

    def offers_fix(self, finding: Finding) -> bool:
        """Whether ``finding`` has a fix (one that can be written, when edits were computed)."""
        if self.fixes is None:
            return finding.fix is not None
        return self.fix_edits(finding) is not None

    def applicable(self, finding: Finding) -> bool:
        """Whether ``--fix`` (with the ``--unsafe-fixes`` given) would fix ``finding``."""
        return self.offers_fix(finding) and (finding.fix.is_safe or self.unsafe_fixes)


@lru_cache(maxsize=1)
def tool_version() -> str:
    """The installed version, read straight from the distribution's metadata file.

    ``importlib.metadata.version`` costs ~0.1 s at startup (it imports the ``email``
    package); the editor-on-save use of the CLI cannot afford that. The same search order
    (``sys.path``), with ``importlib.metadata`` as the fallback.
    """
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.startswith(_DIST_PREFIX) and name.endswith(".dist-info"):
                found = _metadata_version(os.path.join(entry, name, "METADATA"))
            elif name == "kds_iac.egg-info" or (name.startswith(_DIST_PREFIX) and name.endswith(".egg-info")):
                found = _metadata_version(os.path.join(entry, name, "PKG-INFO"))
            else:
                continue
            if found:
                return found
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return "0+unknown"
    try:
        return version(TOOL_NAME)
    except PackageNotFoundError:
        return "0+unknown"


_DIST_PREFIX = "kds_iac-"


def _metadata_version(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    break  # end of the headers
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip() or None
    except OSError:
        return None
    return None


def compute_exit_code(result: "ScanResult", fail_on: Severity, soft_fail: bool) -> int:
    """2 if any input could not be read; else 1 for a finding at or above ``fail_on``; else 0.

    ``soft_fail`` turns 1 into 0 but never hides 2. Suppressed findings never count.
    """
    if any(d.level == "error" for d in result.diagnostics):
        return EXIT_ERROR
    if not soft_fail and failing(result, fail_on):
        return EXIT_FINDINGS
    return EXIT_CLEAN


def failing(result: "ScanResult", fail_on: Severity) -> list[Finding]:
    return [f for f in result.findings if f.rule.severity >= fail_on]


def sort_key(finding: Finding) -> tuple:
    loc = finding.location
    return (loc.file, finding.primary_line, finding.rule.id, finding.address)


def all_findings(result: "ScanResult") -> list[tuple[Finding, bool]]:
    """Reported and suppressed findings in one stable order, each with ``suppressed``."""
    pairs = [(f, False) for f in result.findings] + [(f, True) for f in result.suppressed]
    pairs.sort(key=lambda pair: (sort_key(pair[0]), pair[1]))
    return pairs


def suppression_reason(finding: Finding) -> str:
    reason = finding.suppressed_reason
    return reason if reason else "suppressed"


def rules_in_report(result: "ScanResult") -> list[tuple[Rule, Optional[RuleModule]]]:
    """Every rule that ran, plus any rule a finding names that is not among them, by id."""
    seen: dict[str, tuple[Rule, Optional[RuleModule]]] = {}
    for module in result.rules:
        seen.setdefault(module.rule.id, (module.rule, module))
    for finding in list(result.findings) + list(result.suppressed):
        seen.setdefault(finding.rule.id, (finding.rule, None))
    return [seen[key] for key in sorted(seen)]


def severity_counts(findings: list[Finding]) -> dict[str, int]:
    counts = {s.name.lower(): 0 for s in sorted(Severity, reverse=True)}
    for finding in findings:
        counts[finding.rule.severity.name.lower()] += 1
    return counts


def summary_counts(result: "ScanResult", context: ReportContext) -> dict:
    """The numbers every format reports (the JSON ``summary`` object)."""
    return {
        "findings": len(result.findings),
        "by_severity": severity_counts(result.findings),
        "suppressed": len(result.suppressed),
        "failing": len(failing(result, context.fail_on)),
        "errors": sum(1 for d in result.diagnostics if d.level == "error"),
        "notes": sum(1 for d in result.diagnostics if d.level != "error"),
        "files_scanned": len(result.files),
        "rules_run": len(result.rules),
        "fail_on": context.fail_on.name.lower(),
        "soft_fail": context.soft_fail,
        "exit_code": context.exit_code,
    }


def summary_line(result: "ScanResult", context: ReportContext) -> str:
    """One human line: what was found, what was suppressed, what could not be read."""
    counts = summary_counts(result, context)
    n = counts["findings"]
    if n:
        parts = ", ".join(f"{count} {name}" for name, count in counts["by_severity"].items() if count)
        text = f"{_plural(n, 'finding')} ({parts})"
    else:
        text = "no findings"
    text += f" in {_plural(counts['files_scanned'], 'file')}"
    if counts["suppressed"]:
        text += f"; {counts['suppressed']} suppressed"
    if context.baselined:
        text += f"; {context.baselined} in the baseline"
    if counts["errors"]:
        text += f"; {_plural(counts['errors'], 'input')} could not be read"
    if counts["notes"]:
        text += f"; {_plural(counts['notes'], 'note')}"
    if n and context.soft_fail:
        text += "; soft-fail: findings do not fail the run"
    elif n and not counts["failing"]:
        text += f"; none at or above fail-on {counts['fail_on']}"
    return text


def artifact_uri(path: str, cwd: str) -> tuple[str, bool]:
    """``(uri, relative)``: a URI relative to ``cwd`` when the file lies under it, else ``file://``.

    Remembered for an absolute ``cwd`` (then nothing else goes in): a SARIF report asks for
    the same few files once a location, and pathlib's parsing cost it 0.5 s for 22,800
    findings (benchmarks/README.md)."""
    if os.path.isabs(cwd):
        return _artifact_uri(path, cwd)
    return _artifact_uri.__wrapped__(path, cwd)


@lru_cache(maxsize=4096)
def _artifact_uri(path: str, cwd: str) -> tuple[str, bool]:
    from pathlib import Path, PurePath  # SARIF only: the text report need not pay for it

    absolute = os.path.abspath(os.path.join(cwd, path))
    try:
        relative = os.path.relpath(absolute, cwd)
    except ValueError:  # another drive on Windows
        relative = None
    if relative is not None and not relative.startswith(os.pardir):
        from urllib.parse import quote  # SARIF only: the text report need not pay for it

        return quote(PurePath(relative).as_posix(), safe="/"), True
    return Path(absolute).as_uri(), False


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
