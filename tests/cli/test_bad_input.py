"""Broken input of every kind: a parse error with file and line, and the scan goes on.

Runs the real ``kds-iac`` executable on one directory that mixes broken files with a
readable template, as a user's repository would.
"""

from __future__ import annotations

import json
import subprocess

from tests.conftest import declare_organization_trail, tool

BILLION_LAUGHS = "\n".join(
    ["AWSTemplateFormatVersion: '2010-09-09'", 'a: &a ["x","x","x","x","x","x","x","x","x"]']
    + [f"{chr(c)}: &{chr(c)} [*{chr(c - 1)},*{chr(c - 1)},*{chr(c - 1)},*{chr(c - 1)},*{chr(c - 1)},*{chr(c - 1)},*{chr(c - 1)},*{chr(c - 1)},*{chr(c - 1)}]" for c in range(ord("b"), ord("j"))]
    + ["Resources:", "  S:", "    Type: AWS::Kinesis::Stream", "    Properties: {Tags: *i}"]
) + "\n"


def _write_inputs(root):
    declare_organization_trail(root)
    tf = root / "tf"
    tf.mkdir()
    (tf / "good.tf").write_text('resource "aws_kinesis_stream" "plain" {\n  name = "plain"\n}\n')
    (tf / "broken.tf").write_text('resource "aws_kinesis_stream" "b" {\n  name = \n}\n')
    cfn = root / "cfn"
    cfn.mkdir()
    (cfn / "good.yaml").write_text("Resources:\n  Plain:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      ShardCount: 1\n")
    (cfn / "broken.yaml").write_text("Resources:\n  S:\n    Type: AWS::Kinesis::Stream\n    Properties: [unclosed\n")
    (cfn / "broken.json").write_text('{\n  "Resources": {\n    "S": {"Type": "AWS::Kinesis::Stream",,}\n  }\n}\n')
    (cfn / "bomb.yaml").write_text(BILLION_LAUGHS)
    (cfn / "latin1.yaml").write_bytes(
        b"Resources:\n  S:\n    Type: AWS::Kinesis::Stream\n    Description: caf\xe9\n"
    )
    deep = "Resources:\n  S:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      Tags: " + "[" * 400 + "]" * 400 + "\n"
    (cfn / "deep.yaml").write_text(deep)
    (cfn / "not-a-template.yaml").write_text("inventory:\n  - Type: AWS::Kinesis::Stream\n    count: 3\n")
    (cfn / "notes.yaml").write_text("name: not a template, so not a finding nor an error\n")
    big = root / "big"
    big.mkdir()
    with open(big / "huge.yaml", "w") as handle:
        handle.write("AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n")
        handle.write("# padding\n" * 2_100_000)  # about 21 MB


def test_every_broken_file_is_reported_and_the_good_ones_are_scanned(tmp_path):
    _write_inputs(tmp_path)
    done = subprocess.run(
        [tool("kds-iac"), "scan", "tf", "cfn", "big", "--format", "json", "--no-progress"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in done.stderr
    assert done.returncode == 2, done.stderr
    report = json.loads(done.stdout)
    errors = {(d["file"], d["line"]) for d in report["diagnostics"] if d["level"] == "error"}
    assert errors == {
        ("tf/broken.tf", 2),
        ("cfn/broken.yaml", 5),
        ("cfn/broken.json", 3),
        ("cfn/bomb.yaml", 7),
        ("cfn/latin1.yaml", 4),
        ("cfn/deep.yaml", 5),
        ("big/huge.yaml", 1),
    }  # not-a-template.yaml does not claim to be a template (no Resources section): passed over
    assert {(f["rule_id"], f["file"], f["resource"]) for f in report["findings"]} == {
        ("KDS001", "tf/good.tf", "aws_kinesis_stream.plain"),
        ("KDS001", "cfn/good.yaml", "Plain"),
    }
