"""The rules' fixes applied to their bad examples, end to end: scan a copy of the example,
apply the fixes of one rule's findings (the safe ones; the unsafe ones in a case of their
own) through the writers and ``kds_iac.fixes.apply``, compare each changed file's whole text
with the stored expected file, and scan again: the fixed findings are gone and nothing new
is reported.

Which finding gets which fix (or none, and why) is checked as intents in
``test_rule_fix_intents.py``; here, what the fix does to the files. Set
``KDS_IAC_WRITE_EXPECTED=1`` to (re)write the expected files, then read their diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kds_iac.config import resolve_config
from kds_iac.engine import scan
from kds_iac.fixes import UNSAFE
from kds_iac.fixes.apply import Files, Scope, edits_for, plan
from kds_iac.rules import all_rules
from tests.conftest import EXAMPLES, REPO
from tests.fixes.test_rule_fix_intents import EXPECTED as INTENTS
from tests.fixes.test_rule_fix_intents import RULES

EXPECTED_DIR = REPO / "tests" / "data" / "fixes" / "expected"
WRITE_EXPECTED = os.environ.get("KDS_IAC_WRITE_EXPECTED") == "1"
MAX_PASSES = 5

# Fixes a rule offers that a writer declines (no edits: the fix is not offered to the user),
# by (rule, format, example, address), with the writer's reason.
WRITER_DECLINES = {
    # the stream is the body of an Fn::ForEach loop, not an entry of Resources
    ("KDS001", "cloudformation", "foreach-streams.yaml", "Tenant${Name}"),
    # the stream sits in a fragment file of the service (resources: ${file(...)}): a new
    # resource's name is only known to be free in the whole merged stack
    ("KDS001", "serverless", "service-bad", "OrdersStream"),
}


def _cases() -> list:
    """One case per (rule, bad example, kind of fix) that some finding of it offers."""
    cases = []
    for (rule_id, fmt, example), entries in INTENTS.items():
        kinds = {fix[0] for address, fix in entries.items() if fix and (rule_id, fmt, example, address) not in WRITER_DECLINES}
        for safety in sorted(kinds):
            cases.append(pytest.param(rule_id, fmt, example, safety, id=f"{rule_id}-{safety}-{fmt}-{example}"))
    return cases


def copy_example(tmp_path: Path, fmt: str, example: str) -> str:
    """The example under ``tmp_path/examples/`` with the examples' settings file, as scanned
    from the repository root; its path relative to ``tmp_path``."""
    shutil.copy(EXAMPLES / ".kds-iac.yaml", tmp_path / ".kds-iac.yaml")
    source, target = EXAMPLES / fmt / example, tmp_path / "examples" / fmt / example
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy(source, target)
    return os.path.join("examples", fmt, example)


def scanned(path: str):
    return scan([path], config=resolve_config(None, [path]))


def pairs(result) -> set[tuple[str, str]]:
    return {(f.rule.id, f.address) for f in result.findings}


@pytest.mark.parametrize("rule_id,fmt,example,safety", _cases())
def test_the_fix_changes_the_files_as_expected_and_the_finding_goes(rule_id, fmt, example, safety, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = copy_example(tmp_path, fmt, example)
    before = scanned(path)
    originals = {file: Path(file).read_text() for file in before.files if Path(file).is_file()}
    wanted = {
        address
        for address, fix in INTENTS[(rule_id, fmt, example)].items()
        if fix and fix[0] == safety and (rule_id, fmt, example, address) not in WRITER_DECLINES
    }

    applied, edited_blocks, result = set(), set(), before
    for _ in range(MAX_PASSES):  # as --fix does: fixes whose edits overlap wait for a re-scan
        candidates = [f for f in result.findings if f.rule.id == rule_id and f.fix is not None and f.fix.safety == safety]
        fixes = plan(candidates, unsafe=safety == UNSAFE, allowed=Scope([path], result.files).allows)
        if not fixes.planned:
            break
        fixes.apply()
        for planned in fixes.applied():
            applied.add(planned.finding.address)
            edited_blocks.add((planned.finding.location.file, planned.finding.location.start_line))
        result = scanned(path)
    assert applied == wanted

    changed = {file for file, text in originals.items() if Path(file).read_text() != text}
    expected_root = EXPECTED_DIR / f"{rule_id}-{safety}" / fmt / example
    got = {_within_example(file, path): Path(file).read_text() for file in changed}
    if WRITE_EXPECTED:
        shutil.rmtree(expected_root, ignore_errors=True)
        for relative, text in got.items():
            (expected_root / relative).parent.mkdir(parents=True, exist_ok=True)
            (expected_root / relative).write_text(text)
    stored = {
        (p.relative_to(expected_root).as_posix() if expected_root.is_dir() else "."): p.read_text()
        for p in ([*expected_root.rglob("*")] if expected_root.is_dir() else [expected_root])
        if p.is_file()
    }
    assert got == stored

    # the re-scan: everything reads, the fixed findings (and the other instances of the
    # blocks they sit on) are gone, and nothing new is reported
    assert [d for d in result.diagnostics if d.level == "error"] == []
    fixed = {
        (f.rule.id, f.address)
        for f in before.findings
        if f.rule.id == rule_id and (f.location.file, f.location.start_line) in edited_blocks
    }
    assert {(rule_id, address) for address in wanted} <= fixed
    assert pairs(result) == pairs(before) - fixed


def _within_example(file: str, example_path: str) -> str:
    """A changed file's path relative to the example ("." for a one-file example)."""
    relative = os.path.relpath(file, example_path)
    return "." if relative == "." else Path(relative).as_posix()


def test_the_writers_decline_exactly_the_fixes_listed():
    """Every fix the examples offer has edits, but those in WRITER_DECLINES."""
    declined = set()
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        for rule_id, fmt, example in INTENTS:
            path = os.path.join("examples", fmt, example)
            read = Files()
            for finding in scanned(path).findings:
                if finding.rule.id == rule_id and finding.fix is not None and edits_for(finding, read) is None:
                    declined.add((rule_id, fmt, example, finding.address))
    finally:
        os.chdir(cwd)
    assert declined == WRITER_DECLINES


def test_every_rule_with_fixes_has_its_cases():
    covered = {(param.values[0], param.values[3]) for param in _cases()}
    declared = {(m.rule.id, safety) for m in all_rules() if m.rule.id in RULES for safety in m.rule.fixes}
    # KDS002's safe fix needs a fit key beside a stream on the AWS managed key, which no
    # bad example has: test_rule_fix_intents.py checks its intents on a template made for it;
    # KDS016's unsafe fix needs a writer role of the scan not granted the key, which no bad
    # example has (their roles are inputs): test_a_firehose_role_not_granted_the_key_makes_the_fix_unsafe
    assert declared - covered == {("KDS002", "safe"), ("KDS016", "unsafe")}


def test_every_expected_file_belongs_to_a_case():
    cases = {f"{p.values[0]}-{p.values[3]}/{p.values[1]}/{p.values[2]}" for p in _cases()}
    stored = set()
    for file in EXPECTED_DIR.rglob("*"):
        if file.is_file() and not file.relative_to(EXPECTED_DIR).parts[0].startswith(("KDS004", "KDS005")):
            rule_and_safety, fmt, example = file.relative_to(EXPECTED_DIR).parts[:3]
            stored.add(f"{rule_and_safety}/{fmt}/{example}")
    assert stored <= cases
