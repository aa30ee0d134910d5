"""The Terraform plan JSON loader, on hand-written `terraform show -json plan.out` fixtures."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kds_iac.loaders import load
from kds_iac.loaders.terraform_plan import load_plan
from kds_iac.model import Diagnostic, Location, Model, Ref, Resource, Unknown

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "terraform_plan"
AFTER_APPLY = Unknown("known after apply")


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def by_address(model: Model) -> dict[str, Resource]:
    return {r.address: r for r in model.resources}


def assert_ref(value, target: Resource, attribute) -> None:
    assert isinstance(value, Ref), value
    assert value.target is target
    assert value.attribute == attribute


# --------------------------------------------------------------------------- kms_stream.json


@pytest.fixture(scope="module")
def kms_plan() -> Model:
    return load_plan(fixture("kms_stream.json"))


def test_kms_stream_resources_and_locations(kms_plan: Model) -> None:
    path = fixture("kms_stream.json")
    assert kms_plan.diagnostics == []
    assert kms_plan.files == [path]
    assert [(r.type, r.address, r.location, r.module, r.unit, r.source_format) for r in kms_plan.resources] == [
        ("aws_kinesis_stream", "aws_kinesis_stream.managed", Location(path, 8, 36, 11), "", path, "terraform-plan"),
        ("aws_kinesis_stream", "aws_kinesis_stream.orders", Location(path, 38, 64, 11), "", path, "terraform-plan"),
        ("aws_kinesis_stream", "aws_kinesis_stream.plain", Location(path, 66, 87, 11), "", path, "terraform-plan"),
        ("aws_kms_key", "aws_kms_key.stream", Location(path, 89, 111, 11), "", path, "terraform-plan"),
        ("aws_kms_key_policy", "aws_kms_key_policy.stream", Location(path, 113, 123, 11), "", path, "terraform-plan"),
        # read while planning: only prior_state carries it
        ("aws_caller_identity", "data.aws_caller_identity.current", Location(path, 286, 299, 13), "", path, "terraform-plan"),
    ]


def test_kms_stream_key_known_after_apply_becomes_ref(kms_plan: Model) -> None:
    resources = by_address(kms_plan)
    key = resources["aws_kms_key.stream"]
    assert resources["aws_kinesis_stream.orders"].attributes == {
        "encryption_type": "KMS",
        "enforce_consumer_deletion": False,
        "name": "orders",
        "retention_period": 24,
        "shard_count": 1,
        "shard_level_metrics": None,
        "tags": {"team": "data"},
        "tags_all": {"team": "data"},
        "timeouts": None,
        "arn": AFTER_APPLY,
        "id": AFTER_APPLY,
        "kms_key_id": resources["aws_kinesis_stream.orders"].attributes["kms_key_id"],
        "stream_mode_details": AFTER_APPLY,
    }
    assert_ref(resources["aws_kinesis_stream.orders"].attributes["kms_key_id"], key, "arn")
    # the key policy attachment points at the key's id
    assert_ref(resources["aws_kms_key_policy.stream"].get("key_id"), key, "id")


def test_kms_stream_unknown_without_single_reference_stays_unknown(kms_plan: Model) -> None:
    resources = by_address(kms_plan)
    # jsonencode(...) over the caller identity and the key: two targets, no single edge
    assert resources["aws_kms_key_policy.stream"].get("policy") == AFTER_APPLY
    # no configuration expression at all (computed by the provider)
    assert resources["aws_kms_key.stream"].get("arn") == AFTER_APPLY
    assert resources["aws_kms_key.stream"].get("policy") == AFTER_APPLY
    assert resources["aws_kms_key.stream"].get("enable_key_rotation") is False


def test_kms_stream_known_values_are_kept(kms_plan: Model) -> None:
    resources = by_address(kms_plan)
    managed = resources["aws_kinesis_stream.managed"].attributes
    assert managed["kms_key_id"] == "alias/aws/kinesis"
    assert managed["encryption_type"] == "KMS"
    assert managed["stream_mode_details"] == [{"stream_mode": "ON_DEMAND"}]
    assert managed["tags_all"] == AFTER_APPLY
    plain = resources["aws_kinesis_stream.plain"].attributes
    assert plain["encryption_type"] == "NONE"
    assert plain["kms_key_id"] is None
    assert resources["data.aws_caller_identity.current"].attributes == {
        "account_id": "123456789012",
        "arn": "arn:aws:iam::123456789012:user/ci",
        "id": "123456789012",
        "user_id": "AIDAEXAMPLE",
    }


def test_kms_stream_attribute_lines(kms_plan: Model) -> None:
    resources = by_address(kms_plan)
    orders = resources["aws_kinesis_stream.orders"]
    assert orders.attribute_lines == {
        "encryption_type": 45,
        "enforce_consumer_deletion": 46,
        "name": 47,
        "retention_period": 48,
        "shard_count": 49,
        "shard_level_metrics": 50,
        "tags": 51,
        "tags_all": 54,
        "timeouts": 57,
    }
    assert orders.line_of("encryption_type") == 45
    # unknown values are not written in planned_values: the resource line stands in
    assert orders.line_of("kms_key_id") == 38
    # nested keys ("stream_mode" at line 24) are not top-level attributes
    assert "stream_mode" not in resources["aws_kinesis_stream.managed"].attribute_lines
    assert resources["aws_kinesis_stream.managed"].line_of("stream_mode_details") == 22


# ------------------------------------------------------------------------- module_count.json


@pytest.fixture(scope="module")
def module_plan() -> Model:
    return load_plan(fixture("module_count.json"))


def test_module_count_addresses_modules_and_locations(module_plan: Model) -> None:
    path = fixture("module_count.json")
    assert module_plan.diagnostics == []
    assert [(r.address, r.type, r.module, r.location) for r in module_plan.resources] == [
        ("aws_kinesis_stream_consumer.reader", "aws_kinesis_stream_consumer", "", Location(path, 13, 23, 11)),
        ("aws_kms_key.shared", "aws_kms_key", "", Location(path, 25, 39, 11)),
        ("module.audit.aws_kinesis_stream.audit", "aws_kinesis_stream", "module.audit", Location(path, 45, 57, 15)),
        (
            "module.audit.module.key.aws_kms_key.this",
            "aws_kms_key",
            "module.audit.module.key",
            Location(path, 64, 75, 19),
        ),
        ("module.streams[0].aws_iam_policy.read[0]", "aws_iam_policy", "module.streams[0]", Location(path, 84, 100, 15)),
        ("module.streams[0].aws_kinesis_stream.this", "aws_kinesis_stream", "module.streams[0]", Location(path, 102, 115, 15)),
        (
            "module.streams[0].data.aws_iam_policy_document.read[0]",
            "aws_iam_policy_document",
            "module.streams[0]",
            Location(path, 117, 146, 15),
        ),
        ("module.streams[1].aws_kinesis_stream.this", "aws_kinesis_stream", "module.streams[1]", Location(path, 153, 166, 15)),
    ]


def test_module_count_variable_passes_key_from_root(module_plan: Model) -> None:
    resources = by_address(module_plan)
    shared = resources["aws_kms_key.shared"]
    for index in (0, 1):
        stream = resources[f"module.streams[{index}].aws_kinesis_stream.this"]
        assert stream.attributes == {
            "encryption_type": "KMS",
            "name": f"events-{index}",
            "retention_period": 24,
            "shard_count": 1,
            "arn": AFTER_APPLY,
            "id": AFTER_APPLY,
            "kms_key_id": stream.attributes["kms_key_id"],
        }
        assert_ref(stream.get("kms_key_id"), shared, "arn")


def test_module_output_of_nested_module(module_plan: Model) -> None:
    resources = by_address(module_plan)
    assert_ref(
        resources["module.audit.aws_kinesis_stream.audit"].get("kms_key_id"),
        resources["module.audit.module.key.aws_kms_key.this"],
        "arn",
    )


def test_module_output_of_module_instance(module_plan: Model) -> None:
    resources = by_address(module_plan)
    assert_ref(
        resources["aws_kinesis_stream_consumer.reader"].get("stream_arn"),
        resources["module.streams[0].aws_kinesis_stream.this"],
        "arn",
    )


def test_deferred_data_source_and_references_inside_module(module_plan: Model) -> None:
    resources = by_address(module_plan)
    document = resources["module.streams[0].data.aws_iam_policy_document.read[0]"]
    stream = resources["module.streams[0].aws_kinesis_stream.this"]
    assert document.attributes["statement"][0]["actions"] == ["kinesis:GetRecords", "kinesis:GetShardIterator"]
    assert document.attributes["statement"][0]["effect"] == "Allow"
    (resource_ref,) = document.attributes["statement"][0]["resources"]
    assert_ref(resource_ref, stream, "arn")
    assert document.get("json") == AFTER_APPLY
    policy = resources["module.streams[0].aws_iam_policy.read[0]"]
    assert_ref(policy.get("policy"), document, "json")
    assert policy.get("name") == "events-0-read"


# ---------------------------------------------------------------------- foreach_update.json


@pytest.fixture(scope="module")
def update_plan() -> Model:
    return load_plan(fixture("foreach_update.json"))


def test_for_each_update_plan(update_plan: Model) -> None:
    path = fixture("foreach_update.json")
    assert update_plan.diagnostics == []
    assert [(r.address, r.location) for r in update_plan.resources] == [
        ('aws_kinesis_stream.team["analytics"]', Location(path, 8, 25, 11)),
        ('aws_kinesis_stream.team["billing"]', Location(path, 27, 41, 11)),
        ('aws_kms_key.team["analytics"]', Location(path, 43, 57, 11)),
        ('aws_kms_key.team["billing"]', Location(path, 59, 70, 11)),
        ("data.aws_kms_alias.kinesis", Location(path, 199, 213, 13)),
    ]  # aws_kinesis_stream.legacy is deleted by the plan: not checked


def test_for_each_pairs_instances_by_key(update_plan: Model) -> None:
    resources = by_address(update_plan)
    # aws_kms_key.team[each.key].arn: Terraform reports only "aws_kms_key.team" and "each.key"
    assert_ref(resources['aws_kinesis_stream.team["billing"]'].get("kms_key_id"), resources['aws_kms_key.team["billing"]'], None)
    # already in state: the known ARN equals the key's ARN, so it is the same edge
    assert_ref(
        resources['aws_kinesis_stream.team["analytics"]'].get("kms_key_id"),
        resources['aws_kms_key.team["analytics"]'],
        "arn",
    )
    assert resources['aws_kinesis_stream.team["analytics"]'].get("name") == "analytics"
    assert resources["data.aws_kms_alias.kinesis"].get("target_key_id") == "2222bbbb-2222-bbbb-2222-bbbb2222bbbb"


def test_minified_plan_points_at_columns(tmp_path: Path) -> None:
    """`terraform show -json` writes one line: the column tells resources apart."""
    document = json.loads((FIXTURES / "kms_stream.json").read_text())
    text = json.dumps(document, separators=(",", ":"))
    path = tmp_path / "plan.json"
    path.write_text(text)
    model = load_plan(str(path))
    assert model.diagnostics == []
    orders = by_address(model)["aws_kinesis_stream.orders"]
    column = text.index('"address":"aws_kinesis_stream.orders"') + 1
    assert orders.location == Location(str(path), 1, 1, column)
    assert orders.attribute_lines["encryption_type"] == 1
    assert_ref(orders.get("kms_key_id"), by_address(model)["aws_kms_key.stream"], "arn")


# ---------------------------------------------------------------------------- bad inputs


def test_broken_json_is_a_diagnostic() -> None:
    path = fixture("broken.json")
    model = load_plan(path)
    assert model.resources == []
    assert model.files == [path]
    assert model.diagnostics == [Diagnostic("error", path, 10, "invalid JSON: Expecting ',' delimiter", 11)]


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        (
            '{\n  "format_version": "1.0",\n  "terraform_version": "1.9.5",\n  "values": {"root_module": {}}\n}\n',
            1,
            1,
            "not a Terraform plan: this looks like state (`terraform show -json` without a plan file)",
        ),
        (
            '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}',
            1,
            1,
            "not a Terraform plan: no planned_values (expected `terraform show -json plan.out` output)",
        ),
        ("[1, 2]", 1, 1, "not a Terraform plan: the JSON document is not an object"),
        (
            '{\n  "format_version": "2.0",\n  "planned_values": {}\n}',
            2,
            3,
            "unsupported Terraform plan format_version 2.0; this loader reads 1.x",
        ),
        (
            '{\n  "format_version": "1.2",\n  "planned_values": []\n}',
            3,
            3,
            "not a Terraform plan: planned_values is not an object",
        ),
    ],
    ids=["state", "cloudformation", "array", "format-2", "planned-values-list"],
)
def test_json_that_is_not_a_plan(tmp_path: Path, text: str, line: int, column: int, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(text)
    model = load_plan(str(path))
    assert model.resources == []
    assert model.diagnostics == [Diagnostic("error", str(path), line, message, column)]


def test_empty_plan_has_no_resources(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text(
        '{"format_version":"1.2","terraform_version":"1.9.5","planned_values":{"root_module":{}},'
        '"configuration":{"root_module":{}},"applyable":false,"complete":true,"errored":false}'
    )
    model = load_plan(str(path))
    assert (model.resources, model.diagnostics, model.files) == ([], [], [str(path)])


def test_errored_plan_is_reported(tmp_path: Path) -> None:
    document = json.loads((FIXTURES / "kms_stream.json").read_text())
    document["errored"] = True
    path = tmp_path / "errored.json"
    path.write_text(json.dumps(document, indent=2))
    model = load_plan(str(path))
    assert len(model.resources) == 6
    (diagnostic,) = model.diagnostics
    assert diagnostic.level == "info"
    assert diagnostic.message.startswith("Terraform marked this plan as errored")
    assert diagnostic.line == path.read_text().splitlines().index('  "errored": true') + 1


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"format_version": "1.2", "x": "\xe9"}')
    model = load_plan(str(path))
    assert model.diagnostics == [
        Diagnostic("error", str(path), 1, "not UTF-8 text: byte 0xe9 cannot be decoded (invalid continuation byte)", 33)
    ]


# ------------------------------------------------------------------------ through discovery


def test_plan_found_by_content_in_a_directory(tmp_path: Path) -> None:
    pytest.importorskip("kds_iac.loaders.terraform")
    pytest.importorskip("kds_iac.loaders.cloudformation")
    target = tmp_path / "plans"
    target.mkdir()
    plan = target / "tfplan.json"
    plan.write_text((FIXTURES / "module_count.json").read_text())
    model = load([str(target)])
    assert model.scope == [str(target)]
    assert model.files == [os.path.normpath(str(plan))]
    assert "module.streams[1].aws_kinesis_stream.this" in by_address(model)
    assert {r.source_format for r in model.resources} == {"terraform-plan"}
