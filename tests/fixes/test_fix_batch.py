"""Fix edits computed a file at a time (``text_edits_many``, ``apply.offered``) give the same
answers as one fix at a time (``text_edits``, ``apply.edits_for``): batching shares the work of
composing and checking a template, never changes an edit."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from kds_iac.engine import scan
from kds_iac.fixes import SAFE, UNSAFE, Fix, NewResource, SetSetting, apply
from kds_iac.fixes import cloudformation
from kds_iac.fixes.cloudformation import text_edits, text_edits_many
from tests.conftest import EXAMPLES, REPO, audited_config

FIXTURES = REPO / "tests" / "data" / "fixes" / "cloudformation"


def _read(path: str) -> str:
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def _resources(path: Path) -> dict:
    return {r.address: r for r in scan([str(path)], config=audited_config()).model.resources}


def _cfn_fixes_by_file(*paths: Path) -> dict[str, list]:
    """The CloudFormation findings with a fix, by the file of the fix's first resource."""
    return fixes_by_file(text_edits, *paths)


def fixes_by_file(writer, *paths: Path) -> dict[str, list]:
    """The findings whose fix ``writer`` writes, by the file of the fix's first resource (how
    ``apply.edits_of`` batches them)."""
    out: dict[str, list] = defaultdict(list)
    for path in paths:
        for finding in scan([str(path)], config=audited_config()).findings:
            if finding.fix is not None and apply.writer_for(finding.fix) is writer:
                out[apply.fix_resources(finding.fix)[0].location.file].append(finding)
    return out


def test_a_batch_of_each_files_fixes_answers_as_each_fix_alone():
    by_file = _cfn_fixes_by_file(EXAMPLES / "cloudformation", FIXTURES)
    written = set()
    for findings in by_file.values():
        fixes = [finding.fix for finding in findings]
        alone = [text_edits(fix, _read) for fix in fixes]
        assert text_edits_many(fixes, _read) == alone
        written |= {(f.rule.id, f.address) for f, edits in zip(findings, alone) if edits is not None}
    # the comparison covers fixes that are written, in YAML and JSON
    assert {("KDS001", "Unencrypted"), ("KDS002", "AliasArnSub"), ("KDS001", "Empty"), ("KDS021", "LoggingOff")} <= written


def _spy_checks(monkeypatch) -> list[int]:
    """The number of expected changes of each self-check the writer runs."""
    calls: list[int] = []
    real = cloudformation._check

    def spy(doc, changed, changes):
        calls.append(len(changes))
        return real(doc, changed, changes)

    monkeypatch.setattr(cloudformation, "_check", spy)
    return calls


def test_fixes_of_a_file_are_checked_together_once(monkeypatch):
    path = FIXTURES / "streams.yaml"
    r = _resources(path)
    fixes = [
        Fix("type", SAFE, (SetSetting(r["Unencrypted"], "StreamEncryption.EncryptionType", "KMS"),)),
        Fix("key", SAFE, (SetSetting(r["ManagedKey"], "StreamEncryption.KeyId", "alias/mine"),)),
    ]
    alone = [text_edits(fix, _read) for fix in fixes]
    assert None not in alone
    calls = _spy_checks(monkeypatch)
    assert text_edits_many(fixes, _read) == alone
    assert calls == [2]


def test_fixes_whose_edits_touch_are_checked_alone(monkeypatch):
    path = FIXTURES / "streams.yaml"
    r = _resources(path)
    same = Fix("type", SAFE, (SetSetting(r["Unencrypted"], "StreamEncryption.EncryptionType", "KMS"),))
    refused = Fix("from a parameter", SAFE, (SetSetting(r["FromParameter"], "StreamEncryption.KeyId", "alias/x"),))
    fixes = [same, refused, same]
    alone = [text_edits(fix, _read) for fix in fixes]
    assert alone[0] is not None and alone[1] is None
    calls = _spy_checks(monkeypatch)
    assert text_edits_many(fixes, _read) == alone
    assert calls == [1, 1]  # the same edits twice: not applied together


def test_a_failed_check_together_falls_back_to_each_fix_alone(monkeypatch):
    path = FIXTURES / "streams.yaml"
    r = _resources(path)
    # Each new key is named Shared where it is alone; together the template would hold it twice.
    fixes = [
        Fix("key a", UNSAFE, (NewResource("kms_key", "Shared", r["Unencrypted"], ""),)),
        Fix("key b", UNSAFE, (NewResource("kms_key", "Shared", r["ManagedKey"], ""),)),
    ]
    alone = [text_edits(fix, _read) for fix in fixes]
    assert None not in alone
    calls = _spy_checks(monkeypatch)
    assert text_edits_many(fixes, _read) == alone
    assert calls == [2, 1, 1]


def _one_by_one(findings, read) -> dict[int, list]:
    out = {}
    for finding in findings:
        edits = apply.edits_for(finding, read)
        if edits is not None:
            out[id(finding)] = edits
    return out


def test_offered_gives_what_edits_for_gives_for_every_finding():
    findings = scan([str(EXAMPLES)], config=audited_config()).findings
    read = apply.Files()
    offered = apply.offered(findings, read)
    assert offered == _one_by_one(findings, read)
    formats = {apply.fix_resources(f.fix)[0].source_format for f in findings if id(f) in offered}
    assert formats == {"terraform", "cloudformation"}


def test_a_batch_writer_that_raises_leaves_each_fix_to_text_edits(monkeypatch):
    findings = scan([str(EXAMPLES / "cloudformation")], config=audited_config()).findings
    read = apply.Files()
    expected = _one_by_one(findings, read)
    assert expected

    def broken(fixes, read):
        raise RuntimeError("a writer bug")

    monkeypatch.setattr(cloudformation, "text_edits_many", broken)
    assert apply.offered(findings, read) == expected


def test_checking_the_edited_entries_alone_answers_as_reading_the_whole_template(monkeypatch):
    by_file = _cfn_fixes_by_file(EXAMPLES / "cloudformation", EXAMPLES / "serverless", FIXTURES)
    fixes = [finding.fix for findings in by_file.values() for finding in findings]
    shortcut_taken = []
    real = cloudformation._check_entries

    def spy(doc, items, changes):
        accepted = real(doc, items, changes)
        if accepted:
            shortcut_taken.append(doc.path)
        return accepted

    monkeypatch.setattr(cloudformation, "_check_entries", spy)
    with_entries = [text_edits(fix, _read) for fix in fixes]
    # entries under Resources, and under a Serverless service's resources.Resources
    assert {Path(path).name for path in shortcut_taken} >= {"streams.yaml", "long-form.yaml", "trails.yaml", "serverless.yml"}
    monkeypatch.setattr(cloudformation, "_check_entries", lambda doc, items, changes: False)
    assert [text_edits(fix, _read) for fix in fixes] == with_entries
