"""Blocks that input defaults do not create are judged, and one block is reported once.

Through the real ``kds-iac`` executable on ``examples/terraform/gated-module`` (a module whose
every block is switched off by default, with an example that calls it).
"""

from __future__ import annotations

import json
import subprocess

from tests.conftest import REPO, tool

GATED = "examples/terraform/gated-module"


def scan(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([tool("kds-iac"), "scan", *argv], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_gated_blocks_are_judged_and_each_place_reported_once():
    run = scan(GATED, "--format", "json")
    assert run.returncode == 1, run.stderr
    document = json.loads(run.stdout)
    assert document["diagnostics"] == []
    reported = {(f["rule_id"], f["resource"], tuple(f["instances"]), f["line"]) for f in document["findings"]}
    assert reported == {
        ("KDS010", "aws_iam_user.consumer", (), 23),
        ("KDS010", "module.streams.aws_iam_user.consumer[0]", (), 23),
        ("KDS011", "aws_iam_access_key.consumer", (), 30),
        ("KDS011", "module.streams.aws_iam_access_key.consumer[0]", (), 30),
        ("KDS004", "aws_iam_user_policy.consumer", (), 38),
        ("KDS004", "module.streams.aws_iam_user_policy.consumer[0]", (), 38),
        ("KDS005", "aws_iam_user_policy.consumer", (), 38),
        ("KDS005", "module.streams.aws_iam_user_policy.consumer[0]", (), 38),
        ("KDS001", "aws_kinesis_stream.this", (), 45),
        ("KDS001", 'module.streams.aws_kinesis_stream.this["clicks"]', (), 45),
        # the same block, the same finding: once, naming both instances
        (
            "KDS001",
            "module.archive.aws_kinesis_stream.archive",
            ("module.streams.module.archive.aws_kinesis_stream.archive",),
            4,
        ),
        (
            "KDS001",
            "module.legacy_archive.aws_kinesis_stream.archive",
            ("module.streams.module.legacy_archive.aws_kinesis_stream.archive",),
            4,
        ),
    }
    messages = {(f["rule_id"], f["resource"]): f["message"] for f in document["findings"]}
    assert messages[("KDS011", "aws_iam_access_key.consumer")].endswith(
        "; when created: count = var.create_consumer_user ? 1 : 0, "
        "set by var.create_consumer_user (default: false)"
    )
    assert messages[("KDS001", "aws_kinesis_stream.this")] == (
        "Kinesis stream aws_kinesis_stream.this is not encrypted at rest: encryption_type is not set, so records "
        "are stored unencrypted; when created: for_each = var.streams, set by var.streams (default: {})"
    )
    assert messages[("KDS001", "module.archive.aws_kinesis_stream.archive")].endswith(
        "; when created: module.archive: count = var.archive_enabled ? 1 : 0, "
        "set by var.archive_enabled (default: false)"
    )
    assert messages[("KDS001", "module.legacy_archive.aws_kinesis_stream.archive")].endswith(
        "; when created: module.legacy_archive: count = 0"
    )
    # the instance created by the example's call says nothing about creation
    assert "when created" not in messages[("KDS011", "module.streams.aws_iam_access_key.consumer[0]")]


def test_text_output_names_every_instance_of_a_merged_finding():
    run = scan(GATED, "--format", "text")
    archive = [line for line in run.stdout.splitlines() if "stream module.archive." in line]
    assert len(archive) == 1
    assert archive[0].endswith(
        "[module.archive.aws_kinesis_stream.archive, module.streams.module.archive.aws_kinesis_stream.archive]"
    )


def test_a_baseline_of_judged_blocks_stays_valid(tmp_path):
    baseline = tmp_path / "kds.baseline"
    created = scan(GATED, "--create-baseline", "--baseline", str(baseline))
    assert created.returncode == 0, created.stderr
    again = scan(GATED, "--baseline", str(baseline), "--format", "json")
    assert again.returncode == 0, again.stderr
    assert [f for f in json.loads(again.stdout)["findings"] if not f["suppressed"]] == []
