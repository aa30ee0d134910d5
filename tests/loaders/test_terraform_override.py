"""Override files (``override.tf``, ``*_override.tf``, ``.tf.json``) are merged into the block
they override, as Terraform does: one resource per address, at the original block."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from kds_iac.loaders.terraform import load_module
from kds_iac.model import Ref
from tests.conftest import tool

DATA = Path(__file__).resolve().parents[1] / "data" / "fixes" / "terraform" / "override"


def scan(directory) -> dict:
    done = subprocess.run(
        [tool("kds-iac"), "scan", ".", "--format", "json", "-q", "--no-progress"],
        cwd=directory, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def found(report: dict) -> set[tuple[str, str, str, int]]:
    return {(f["rule_id"], f["resource"], f["file"], f["line"]) for f in report["findings"]}


def write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (directory / name).write_text(text)


def test_the_override_fixture_gives_one_stream_per_address_at_the_original_block(tmp_path):
    shutil.copytree(DATA, tmp_path / "m")
    report = scan(tmp_path / "m")
    # encryption_type = "NONE" comes from streams_override.tf; attribute lines are of the
    # resource's own file, so the finding is on the original block's header
    assert found(report) == {
        ("KDS001", "aws_kinesis_stream.events", "main.tf", 1),
        ("KDS020", "aws_kinesis_stream.events", "main.tf", 1),
        ("KDS022", "aws_kinesis_stream.events", "main.tf", 1),
        ("KDS001", "aws_kinesis_stream.orders", "main.tf", 6),
        ("KDS020", "aws_kinesis_stream.orders", "main.tf", 6),
        ("KDS022", "aws_kinesis_stream.orders", "main.tf", 6),
    }
    events = [f for f in report["findings"] if f["rule_id"] == "KDS001" and f["resource"] == "aws_kinesis_stream.events"]
    assert "encryption_type is NONE" in events[0]["message"]
    assert report["diagnostics"] == []


MAIN = """\
resource "aws_kinesis_stream" "events" {
  name            = "events"
  shard_count     = 1
  encryption_type = "NONE"
}

resource "aws_kinesis_stream" "orders" {
  name            = "orders"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.orders.arn
}

resource "aws_kms_key" "orders" {
  enable_key_rotation = true
}

resource "aws_iam_policy" "put" {
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Action = "kinesis:PutRecord", Resource = aws_kinesis_stream.events.arn }]
  })
}
"""


def test_later_override_files_win_and_the_original_argument_is_not_judged(tmp_path):
    write(tmp_path, {
        "main.tf": MAIN,
        # applied in name order: a_ then b_ then override.tf.json
        "a_override.tf": 'resource "aws_kinesis_stream" "events" {\n  encryption_type = "NONE"\n  kms_key_id = "k"\n}\n',
        "b_override.tf": (
            'resource "aws_kinesis_stream" "events" {\n  encryption_type = "KMS"\n'
            '  kms_key_id = aws_kms_key.orders.arn\n}\n'
        ),
        "override.tf.json": json.dumps(
            {"resource": {"aws_kinesis_stream": {"orders": {"encryption_type": "NONE"}}}}, indent=2
        ),
    })
    report = scan(tmp_path)
    assert found(report) == {
        ("KDS020", "aws_kinesis_stream.events", "main.tf", 1),
        ("KDS022", "aws_kinesis_stream.events", "main.tf", 1),
        ("KDS001", "aws_kinesis_stream.orders", "main.tf", 7),  # NONE from override.tf.json
        ("KDS020", "aws_kinesis_stream.orders", "main.tf", 7),
        ("KDS022", "aws_kinesis_stream.orders", "main.tf", 7),
    }
    assert report["diagnostics"] == []


def test_merged_resource_holds_the_overrides_and_edges_reach_it(tmp_path):
    write(tmp_path, {
        "main.tf": MAIN,
        "streams_override.tf": (
            'resource "aws_kinesis_stream" "events" {\n'
            '  encryption_type = "KMS"\n'
            '  kms_key_id      = aws_kms_key.orders.arn\n'
            "  stream_mode_details {\n"
            '    stream_mode = "ON_DEMAND"\n'
            "  }\n"
            "}\n"
        ),
    })
    model = load_module(str(tmp_path))
    by_address: dict[str, list] = {}
    for resource in model.resources:
        by_address.setdefault(resource.address, []).append(resource)
    assert sorted(by_address) == [
        "aws_iam_policy.put", "aws_kinesis_stream.events", "aws_kinesis_stream.orders", "aws_kms_key.orders",
    ]
    assert all(len(v) == 1 for v in by_address.values())
    events = by_address["aws_kinesis_stream.events"][0]
    key = by_address["aws_kms_key.orders"][0]
    assert (events.location.file, events.location.start_line) == (str(tmp_path / "main.tf"), 1)
    assert events.attributes["name"] == "events"
    assert events.attributes["encryption_type"] == "KMS"
    assert isinstance(events.attributes["kms_key_id"], Ref) and events.attributes["kms_key_id"].target is key
    assert [b["stream_mode"] for b in _blocks(events.attributes["stream_mode_details"])] == ["ON_DEMAND"]
    # the argument the override replaced has no line in main.tf any more; the one it kept does
    assert events.line_of("encryption_type") == 1 and events.line_of("shard_count") == 3
    # tfparse gives references the override block's id: they reach the one resource kept
    assert events in list(_targets(by_address["aws_iam_policy.put"][0].attributes))
    assert [d for d in model.diagnostics if d.level != "info"] == []


def _blocks(value):
    return value if isinstance(value, list) else [value]


def _targets(value):
    if isinstance(value, Ref):
        yield value.target
    elif isinstance(value, dict):
        for v in value.values():
            yield from _targets(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _targets(v)
    else:
        for name in ("value", "parts", "when_true", "when_false"):
            if hasattr(value, name):
                yield from _targets(getattr(value, name))


def test_an_override_of_a_gated_block_is_merged_into_the_instance_judged(tmp_path):
    # tfparse creates the override block alone (it has no count); merged, it has the
    # original's gate and creates nothing with the defaults: judged as the gated instance
    write(tmp_path, {
        "main.tf": """\
variable "create" {
  default = false
}

resource "aws_kinesis_stream" "events" {
  count           = var.create ? 1 : 0
  name            = "events"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = "alias/aws/kinesis"
}
""",
        "streams_override.tf": 'resource "aws_kinesis_stream" "events" {\n  encryption_type = "NONE"\n}\n',
    })
    report = scan(tmp_path)
    assert found(report) == {
        ("KDS001", "aws_kinesis_stream.events", "main.tf", 5),
        ("KDS020", "aws_kinesis_stream.events", "main.tf", 5),
        ("KDS022", "aws_kinesis_stream.events", "main.tf", 5),
    }
    [kds001] = [f for f in report["findings"] if f["rule_id"] == "KDS001"]
    assert kds001["message"].endswith(
        "encryption_type is NONE; when created: count = var.create ? 1 : 0, set by var.create (default: false)"
    )
    assert report["diagnostics"] == []


def test_an_override_file_of_a_child_module_merges_into_each_instance(tmp_path):
    (tmp_path / "m").mkdir()
    write(tmp_path, {
        "main.tf": 'module "m" {\n  for_each = toset(["a", "b"])\n  source   = "./m"\n  name     = each.key\n}\n',
        "m/main.tf": (
            'variable "name" {}\n\n'
            'resource "aws_kinesis_stream" "s" {\n  name            = var.name\n  shard_count     = 1\n'
            '  encryption_type = "KMS"\n  kms_key_id      = aws_kms_key.k.arn\n}\n\n'
            'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n'
        ),
        "m/override.tf": 'resource "aws_kinesis_stream" "s" {\n  encryption_type = "NONE"\n}\n',
    })
    report = scan(tmp_path)
    a, b = 'module.m["a"].aws_kinesis_stream.s', 'module.m["b"].aws_kinesis_stream.s'
    assert found(report) == {("KDS001", a, "m/main.tf", 3), ("KDS020", a, "m/main.tf", 3), ("KDS022", a, "m/main.tf", 3)}
    assert {(f["rule_id"], tuple(f["instances"])) for f in report["findings"]} == {
        ("KDS001", (b,)), ("KDS020", (b,)), ("KDS022", (b,)),
    }
    model = load_module(str(tmp_path))
    streams = sorted((r.address, r.attributes["encryption_type"]) for r in model.resources if r.type == "aws_kinesis_stream")
    assert streams == [(a, "NONE"), (b, "NONE")]
