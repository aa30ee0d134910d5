"""``kds-iac scan --fix``, ``--unsafe-fixes`` and ``--diff`` with the real executable on copies
of the bad examples: the whole fixed file, the findings that remain, what the summary says,
and that ``--diff`` writes nothing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kds_iac.output.text import PROBLEM_PATTERN
from tests.conftest import EXAMPLES, declare_organization_trail, tool


def kds_iac(cwd: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("kds-iac"), "scan", "--no-progress", *argv], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def remaining(stdout: str) -> set[tuple[str, str]]:
    """(rule id, resource address) of every finding line."""
    found = set()
    for line in stdout.splitlines():
        match = re.match(PROBLEM_PATTERN, line)
        assert match, line
        found.add((match.group(5), re.search(r"\[([^\]]+)\]$", line).group(1)))
    return found


def changed(text: str, *replacements: tuple[str, str]) -> str:
    """``text`` with each ``old`` (found exactly once) replaced by ``new``."""
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def copy(tmp_path: Path, example: str, audited: bool = False) -> Path:
    source = EXAMPLES / example
    target = tmp_path / source.name
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)
    if audited:
        declare_organization_trail(tmp_path)
    return target


TRAIL_FIXES = (
    ("  enable_logging             = false\n", "  enable_logging             = true\n"),
    (
        '  name                       = "single_region"\n'
        "  s3_bucket_name             = aws_s3_bucket.audit_logs.id\n"
        "  enable_log_file_validation = true\n"
        "  kms_key_id                 = aws_kms_key.audit.arn\n",
        '  name                       = "single_region"\n'
        "  s3_bucket_name             = aws_s3_bucket.audit_logs.id\n"
        "  enable_log_file_validation = true\n"
        "  kms_key_id                 = aws_kms_key.audit.arn\n"
        "  is_multi_region_trail      = true\n",
    ),
    (
        '  name                       = "no_validation"\n'
        "  s3_bucket_name             = aws_s3_bucket.audit_logs.id\n"
        "  is_multi_region_trail      = true\n"
        "  kms_key_id                 = aws_kms_key.audit.arn\n",
        '  name                       = "no_validation"\n'
        "  s3_bucket_name             = aws_s3_bucket.audit_logs.id\n"
        "  is_multi_region_trail      = true\n"
        "  kms_key_id                 = aws_kms_key.audit.arn\n"
        "  enable_log_file_validation = true\n",
    ),
    ("    include_management_events = false\n", "    include_management_events = true\n"),
    ('    read_write_type = "ReadOnly"\n', '    read_write_type = "All"\n'),
)


def test_fix_applies_safe_fixes_and_reports_what_remains(tmp_path):
    example = copy(tmp_path, "terraform/cloudtrail-defects")  # carries its own settings
    before = (example / "main.tf").read_text()
    completed = kds_iac(tmp_path, "cloudtrail-defects", "--fix")
    assert completed.returncode == 1, completed.stderr
    assert (example / "main.tf").read_text() == changed(before, *TRAIL_FIXES)
    # what no single setting fixes: a trail without a KMS key, advanced selectors without management events
    assert remaining(completed.stdout) == {("KDS021", "aws_cloudtrail.no_kms"), ("KDS021", "aws_cloudtrail.data_only")}
    assert completed.stderr.splitlines()[-2:] == [
        "kds-iac: 2 findings (2 medium) in 1 file",
        "kds-iac: 5 fixes applied (5 safe, 0 unsafe), 2 findings remain, 0 fixable with --unsafe-fixes",
    ]
    again = kds_iac(tmp_path, "cloudtrail-defects", "--diff")
    assert (again.returncode, again.stdout) == (0, "")
    assert again.stderr.splitlines()[-1] == "kds-iac: 0 fixes would be applied (0 safe, 0 unsafe), 0 fixable with --unsafe-fixes"


@pytest.mark.parametrize("flags", [["--diff"], ["--fix", "--diff"]])  # as ruff: --diff wins, nothing is written
def test_diff_prints_what_fix_would_change_and_writes_nothing(tmp_path, flags):
    example = copy(tmp_path, "terraform/weak-customer-key", audited=True)
    before = (example / "main.tf").read_bytes()
    completed = kds_iac(tmp_path, "weak-customer-key", *flags)
    assert completed.returncode == 1, completed.stderr
    assert completed.stdout == """\
--- a/weak-customer-key/main.tf
+++ b/weak-customer-key/main.tf
@@ -1,7 +1,8 @@
 # Customer managed keys that streams use, with weaknesses in the key itself.
 
 resource "aws_kms_key" "no_rotation" {
-  description = "Rotation left at its default (off)"
+  description         = "Rotation left at its default (off)"
+  enable_key_rotation = true
 }
 
 resource "aws_kms_key" "public_policy" {
"""
    assert completed.stderr.splitlines()[-1] == (
        "kds-iac: 1 fix would be applied (1 safe, 0 unsafe), 0 fixable with --unsafe-fixes"
    )
    assert (example / "main.tf").read_bytes() == before
    assert sorted(p.name for p in example.iterdir()) == ["main.tf"]


def test_unsafe_fixes_only_with_unsafe_fixes(tmp_path):
    example = copy(tmp_path, "terraform/unencrypted-streams", audited=True)
    before = (example / "main.tf").read_text()
    safe_only = kds_iac(tmp_path, "unencrypted-streams", "--fix")
    assert safe_only.returncode == 1, safe_only.stderr
    assert (example / "main.tf").read_text() == before
    assert safe_only.stderr.splitlines()[-1] == (
        "kds-iac: 0 fixes applied (0 safe, 0 unsafe), 4 findings remain, 2 fixable with --unsafe-fixes"
    )
    assert "[*]" not in safe_only.stdout  # [*]: what this --fix would fix

    completed = kds_iac(tmp_path, "unencrypted-streams", "--fix", "--unsafe-fixes")
    assert completed.returncode == 1, completed.stderr
    assert (example / "main.tf").read_text() == changed(
        before,
        (
            'resource "aws_kinesis_stream" "plain" {\n  name        = "plain"\n  shard_count = 1\n}\n',
            'resource "aws_kinesis_stream" "plain" {\n'
            '  name            = "plain"\n'
            "  shard_count     = 1\n"
            '  encryption_type = "KMS"\n'
            "  kms_key_id      = aws_kms_key.plain_key.arn\n"
            "}\n"
            "\n"
            'resource "aws_kms_key" "plain_key" {\n'
            '  description         = "Encrypts Kinesis stream aws_kinesis_stream.plain"\n'
            "  enable_key_rotation = true\n"
            "}\n",
        ),
        (
            '  encryption_type = "NONE"\n}\n',
            '  encryption_type = "KMS"\n'
            "  kms_key_id      = aws_kms_key.explicitly_none_key.arn\n"
            "}\n"
            "\n"
            'resource "aws_kms_key" "explicitly_none_key" {\n'
            '  description         = "Encrypts Kinesis stream aws_kinesis_stream.explicitly_none"\n'
            "  enable_key_rotation = true\n"
            "}\n",
        ),
    )
    # streams whose encryption comes from inputs get no fix: a fix would override the input
    assert remaining(completed.stdout) == {
        ("KDS001", "aws_kinesis_stream.from_variable"),
        ("KDS001", "aws_kinesis_stream.optional_key"),
    }
    assert completed.stderr.splitlines()[-1] == (
        "kds-iac: 2 fixes applied (0 safe, 2 unsafe), 2 findings remain, 0 fixable with --unsafe-fixes"
    )


def test_fix_cloudformation(tmp_path):
    template = copy(tmp_path, "cloudformation/weak-customer-key.yaml", audited=True)
    before = template.read_text()
    completed = kds_iac(tmp_path, "weak-customer-key.yaml", "--fix")
    assert completed.returncode == 1, completed.stderr
    assert template.read_text() == changed(
        before,
        (
            "      Description: Rotation left at its default (off)\n\n",
            "      Description: Rotation left at its default (off)\n      EnableKeyRotation: true\n\n",
        ),
    )
    assert remaining(completed.stdout) == {("KDS003", "PublicPolicyKey")}  # a public policy has no safe fix
    assert completed.stderr.splitlines()[-1] == (
        "kds-iac: 1 fix applied (1 safe, 0 unsafe), 1 finding remains, 0 fixable with --unsafe-fixes"
    )


def test_reports_show_the_fix(tmp_path):
    copy(tmp_path, "cloudformation/weak-customer-key.yaml", audited=True)
    text = kds_iac(tmp_path, "weak-customer-key.yaml")
    assert text.returncode == 1, text.stderr
    assert [line.split(": ", 1)[1][:16] for line in text.stdout.splitlines()] == [
        "MEDIUM KDS003 [*",  # NoRotationKey: --fix turns rotation on
        "MEDIUM KDS003 KM",  # PublicPolicyKey: no fix
    ]
    assert text.stderr.splitlines()[-1] == "kds-iac: [*] 1 fixable with --fix"

    document = json.loads(kds_iac(tmp_path, "weak-customer-key.yaml", "--format", "json").stdout)
    assert [(f["resource"], f["fix"]) for f in document["findings"]] == [
        (
            "NoRotationKey",
            {
                "title": "Turn on automatic rotation of NoRotationKey",
                "safety": "safe",
                "edits": [
                    {
                        "file": "weak-customer-key.yaml",
                        "start_line": 8,
                        "start_column": 54,
                        "end_line": 8,
                        "end_column": 54,
                        "text": "\n      EnableKeyRotation: true",
                    }
                ],
            },
        ),
        ("PublicPolicyKey", None),
    ]


def test_fix_refuses_create_baseline(tmp_path):
    copy(tmp_path, "cloudformation/weak-customer-key.yaml", audited=True)
    completed = kds_iac(tmp_path, "weak-customer-key.yaml", "--fix", "--create-baseline")
    assert completed.returncode == 2
    assert completed.stderr == "kds-iac: error: --fix and --diff cannot be used with --create-baseline\n"
    assert not (tmp_path / ".kds-iac.baseline").exists()


@pytest.mark.parametrize("flag", ["--fix", "--diff"])
def test_nothing_to_fix(tmp_path, flag):
    copy(tmp_path, "cloudformation/customer-managed-key.yaml", audited=True)
    before = (tmp_path / "customer-managed-key.yaml").read_bytes()
    completed = kds_iac(tmp_path, "customer-managed-key.yaml", flag)
    assert (completed.returncode, completed.stdout) == (0, ""), completed.stderr
    assert (tmp_path / "customer-managed-key.yaml").read_bytes() == before


def test_fixes_that_overlap_wait_for_the_next_pass_and_a_fix_is_applied_once(tmp_path, monkeypatch, capsys):
    """In-process, with a stand-in writer whose every fix inserts a line at the top of the
    file (so each overlaps the others) and fixes nothing: one fix per pass, each fix once,
    at most five passes, and the findings it did not fix are named."""
    from kds_iac import cli
    from kds_iac.fixes import TextEdit, apply

    def top_line(fix, read):
        file = fix.intents[0].resource.location.file
        return [TextEdit(file, 1, 1, 1, 1, f"# {fix.title}\n")]

    monkeypatch.setattr(apply, "writer_for", lambda fix: top_line)
    monkeypatch.chdir(tmp_path)
    example = copy(tmp_path, "terraform/cloudtrail-defects")
    before = (example / "main.tf").read_text()
    assert cli.main(["scan", "--no-progress", "cloudtrail-defects", "--fix"]) == 1
    out, err = capsys.readouterr()
    assert (example / "main.tf").read_text() == (
        "# Record management events in aws_cloudtrail.read_only\n"
        "# Record management events in aws_cloudtrail.management_excluded\n"
        "# Turn on log file validation of aws_cloudtrail.no_validation\n"
        "# Make aws_cloudtrail.single_region multi-region\n"
        "# Turn on logging of aws_cloudtrail.logging_off\n" + before
    )
    assert err.splitlines()[-7:] == [
        "kds-iac: warning: KDS021 [aws_cloudtrail.logging_off] is still reported after its fix was applied",
        "kds-iac: warning: KDS021 [aws_cloudtrail.single_region] is still reported after its fix was applied",
        "kds-iac: warning: KDS021 [aws_cloudtrail.no_validation] is still reported after its fix was applied",
        "kds-iac: warning: KDS021 [aws_cloudtrail.management_excluded] is still reported after its fix was applied",
        "kds-iac: warning: KDS021 [aws_cloudtrail.read_only] is still reported after its fix was applied",
        "kds-iac: 7 findings (7 medium) in 1 file",
        "kds-iac: 5 fixes applied (5 safe, 0 unsafe), 7 findings remain, 0 fixable with --unsafe-fixes",
    ]
    assert remaining(out) == {
        ("KDS021", f"aws_cloudtrail.{name}")
        for name in ("logging_off", "single_region", "no_validation", "no_kms", "management_excluded", "read_only",
                     "data_only")
    }


def test_a_file_linked_from_out_of_the_tree_is_not_written(tmp_path):
    (tmp_path / "tree").mkdir()
    (tmp_path / "outside").mkdir()
    target = copy(tmp_path / "outside", "cloudformation/weak-customer-key.yaml")
    (tmp_path / "tree" / "linked.yaml").symlink_to(target)
    declare_organization_trail(tmp_path)
    before = target.read_bytes()
    completed = kds_iac(tmp_path, "tree", "--fix")
    assert completed.returncode == 1, completed.stderr
    assert target.read_bytes() == before
    assert (tmp_path / "tree" / "linked.yaml").is_symlink()
    assert remaining(completed.stdout) == {("KDS003", "NoRotationKey"), ("KDS003", "PublicPolicyKey")}
    assert completed.stderr.splitlines()[-3:] == [
        "kds-iac: warning: tree/linked.yaml: the fix of KDS003 [NoRotationKey] is not applied: it would write a file "
        "the scan did not read or one a link leads to out of the scanned tree",
        "kds-iac: 2 findings (2 medium) in 1 file",
        "kds-iac: 0 fixes applied (0 safe, 0 unsafe), 2 findings remain, 0 fixable with --unsafe-fixes",
    ]


def test_everything_fixed_exits_0(tmp_path):
    template = copy(tmp_path, "cloudformation/datapath-failure-destinations.yaml", audited=True)
    before = template.read_text()
    completed = kds_iac(tmp_path, "datapath-failure-destinations.yaml", "--fix")
    assert (completed.returncode, completed.stdout) == (0, ""), completed.stderr
    assert template.read_text() == changed(
        before,
        ("      QueueName: events-failures\n", "      QueueName: events-failures\n      KmsMasterKeyId: !GetAtt StreamsKey.Arn\n"),
        (
            "      TopicName: events-failure-alerts\n",
            "      TopicName: events-failure-alerts\n      KmsMasterKeyId: !GetAtt StreamsKey.Arn\n",
        ),
    )
    assert completed.stderr.splitlines()[-2:] == [
        "kds-iac: no findings in 1 file",
        "kds-iac: 2 fixes applied (2 safe, 0 unsafe), 0 findings remain, 0 fixable with --unsafe-fixes",
    ]
