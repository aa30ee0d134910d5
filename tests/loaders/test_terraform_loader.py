"""The Terraform HCL loader: addresses, values, edges, inputs, lines, skips and diagnostics."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from kds_iac.loaders import terraform
from kds_iac.loaders.terraform import load_module
from kds_iac.loaders.hcl_syntax import mask
from kds_iac.model import Condition, Diagnostic, FromInputs, Input, Location, Ref, Template, Unknown

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "terraform"


@pytest.fixture
def in_fixtures(monkeypatch):
    """Load from the fixtures folder with relative paths, as a user in a repository would."""
    monkeypatch.chdir(FIXTURES)


def by_address(model):
    return {r.address: r for r in model.resources}


def var(name, default, has_default, file, start, end):
    return Input("variable", name, default, has_default, Location(file, start, end))


# -- streams: variables, tfvars, locals, edges, policies -----------------------------------


@pytest.fixture
def streams(in_fixtures):
    return load_module("streams")


def test_every_resource_and_data_block_with_terraform_addresses(streams):
    assert [r.address for r in streams.resources] == [
        "aws_kms_key.streams",
        "aws_kms_alias.streams",
        "aws_kinesis_stream.orders",
        "aws_kinesis_stream.optional",
        "aws_kinesis_stream.replicas[0]",
        "aws_kinesis_stream.replicas[1]",
        "data.aws_iam_policy_document.read",
        "aws_iam_policy.read",
        "aws_iam_policy.write",
        "aws_iam_policy.describe",
        "aws_iam_role_policy.heredoc",
    ]
    doc = by_address(streams)["data.aws_iam_policy_document.read"]
    assert doc.type == "aws_iam_policy_document"
    assert streams.diagnostics == []
    assert streams.files == ["streams/main.tf", "streams/policies.tf"]


def test_resource_location_format_module_and_unit(streams):
    orders = by_address(streams)["aws_kinesis_stream.orders"]
    assert orders.type == "aws_kinesis_stream"
    assert orders.location == Location("streams/main.tf", 44, 57)
    assert orders.source_format == "terraform"
    assert orders.module == ""
    assert orders.unit == "streams"
    replica = by_address(streams)["aws_kinesis_stream.replicas[1]"]
    assert replica.location == Location("streams/main.tf", 70, 74)
    assert replica.attributes == {"name": "replica-1", "shard_count": 1}  # no count, id, __tfmeta


def test_absolute_directory_gives_absolute_files():
    model = load_module(str(FIXTURES / "streams"))
    orders = by_address(model)["aws_kinesis_stream.orders"]
    assert orders.location.file == str(FIXTURES / "streams" / "main.tf")


def test_values_with_the_inputs_they_come_from(streams):
    orders = by_address(streams)["aws_kinesis_stream.orders"]
    main = "streams/main.tf"
    assert orders.attributes["encryption_type"] == FromInputs(
        "KMS", (var("var.encryption_type", "KMS", True, main, 3, 7),)
    )
    # terraform.tfvars sets environment; the input's default is the value the scan used
    assert orders.attributes["name"] == FromInputs(
        "app-prod-orders", (var("var.environment", "prod", True, main, 18, 21),)
    )
    # qa.auto.tfvars sets shard_count after terraform.tfvars
    assert orders.attributes["shard_count"] == FromInputs(2, (var("var.shard_count", 2, True, main, 23, 26),))
    assert orders.attributes["stream_mode_details"] == {"stream_mode": "PROVISIONED"}
    assert orders.attributes["tags"] == {"team": "payments"}


def test_conditional_on_a_null_default_keeps_the_input_through_locals(streams):
    optional = by_address(streams)["aws_kinesis_stream.optional"]
    kms = var("var.kms_key_id", None, True, "streams/main.tf", 9, 12)
    # encryption_type = local.mode -> local.encryption -> var.kms_key_id == null ? "NONE" : "KMS"
    assert optional.attributes["encryption_type"] == FromInputs("NONE", (kms,))
    # a reference to a null default: the value under defaults is null (not set)
    assert optional.attributes["kms_key_id"] == FromInputs(None, (kms,))


def test_variable_without_value_is_unknown_with_its_input(streams):
    optional = by_address(streams)["aws_kinesis_stream.optional"]
    assert optional.attributes["retention_period"] == FromInputs(
        Unknown("var.retention_hours has no value"),
        (var("var.retention_hours", None, False, "streams/main.tf", 14, 16),),
    )


def test_user_var_file_and_cli_variables_apply_after_tfvars(in_fixtures):
    model = load_module("streams", var_files=["var-files/retention.tfvars"], variables={"environment": "qa"})
    by = by_address(model)
    assert by["aws_kinesis_stream.optional"].attributes["retention_period"] == FromInputs(
        48, (var("var.retention_hours", 48, True, "streams/main.tf", 14, 16),)
    )
    assert by["aws_kinesis_stream.orders"].attributes["name"] == FromInputs(
        "app-qa-orders", (var("var.environment", "qa", True, "streams/main.tf", 18, 21),)
    )
    assert model.diagnostics == []


def test_missing_and_broken_var_files_are_diagnostics(in_fixtures):
    model = load_module("streams", var_files=["var-files/nope.tfvars", "var-files/broken.tfvars"])
    assert model.diagnostics == [
        Diagnostic("error", "var-files/nope.tfvars", 0, "var file not found; its values were not applied"),
        Diagnostic(
            "error",
            "var-files/broken.tfvars",
            1,
            "Invalid expression: Expected the start of an expression, but found an invalid expression token.",
            19,
        ),
    ]
    # the module is still loaded, with terraform.tfvars applied
    orders = by_address(model)["aws_kinesis_stream.orders"]
    assert orders.attributes["name"].value == "app-prod-orders"


def test_references_become_edges(streams):
    by = by_address(streams)
    key = by["aws_kms_key.streams"]
    kms_key_id = by["aws_kinesis_stream.orders"].attributes["kms_key_id"]
    assert isinstance(kms_key_id, Ref) and kms_key_id.target is key and kms_key_id.attribute is None
    target_key_id = by["aws_kms_alias.streams"].attributes["target_key_id"]
    assert isinstance(target_key_id, Ref) and target_key_id.target is key and target_key_id.attribute == "key_id"
    policy = by["aws_iam_policy.read"].attributes["policy"]
    assert isinstance(policy, Ref) and policy.target is by["data.aws_iam_policy_document.read"]
    statement = by["data.aws_iam_policy_document.read"].attributes["statement"]
    assert statement["sid"] == "Read"
    assert statement["actions"] == ["kinesis:GetRecords", "kinesis:GetShardIterator"]
    [stream] = statement["resources"]
    assert isinstance(stream, Ref) and stream.target is by["aws_kinesis_stream.orders"]


def test_jsonencode_without_references_stays_a_json_string(streams):
    policy = by_address(streams)["aws_iam_policy.describe"].attributes["policy"]
    assert policy == (
        '{"Statement":[{"Action":"kinesis:DescribeStream","Effect":"Allow","Resource":"*"}],'
        '"Version":"2012-10-17"}'
    )


def test_json_policy_with_references_is_decoded_so_its_edges_survive(streams):
    by = by_address(streams)
    orders = by["aws_kinesis_stream.orders"]
    written = by["aws_iam_policy.write"].attributes["policy"]
    statement = written["Statement"][0]
    assert written["Version"] == "2012-10-17"
    assert statement["Action"] == ["kinesis:PutRecord", "kinesis:PutRecords"]
    assert isinstance(statement["Resource"], Ref) and statement["Resource"].target is orders
    heredoc = by["aws_iam_role_policy.heredoc"].attributes["policy"]
    statement = heredoc["Statement"][0]
    resource = statement["Resource"]
    assert isinstance(resource, Template)
    assert resource.parts[0].target is orders and resource.parts[1:] == ("/*",)
    # an IAM policy variable ($${aws:username} in HCL) is literal text, not a reference
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalTag/team": "${aws:username}"}}


def test_attribute_lines(streams):
    by = by_address(streams)
    assert by["aws_kinesis_stream.orders"].attribute_lines == {
        "name": 45,
        "shard_count": 46,
        "encryption_type": 47,
        "kms_key_id": 48,
        "stream_mode_details": 50,
        "tags": 54,
    }
    assert by["aws_iam_role_policy.heredoc"].attribute_lines == {"name": 35, "role": 36, "policy": 37}
    assert by["aws_kinesis_stream.orders"].line_of("encryption_type") == 47
    assert by["aws_kinesis_stream.orders"].line_of("retention_period") == 44  # not written: block start


def test_skip_comments_inside_the_block(streams):
    by = by_address(streams)
    assert by["aws_kinesis_stream.optional"].skips == {
        "CKV_KDS_1": "Holds only synthetic load-test data",
        "CKV_KDS_2": "",
    }  # and not CKV_KDS_3, which sits inside a string
    assert by["aws_kinesis_stream.orders"].skips == {}


# -- modules ---------------------------------------------------------------------------


@pytest.fixture
def modules(in_fixtures):
    return load_module("modules")


def test_local_modules_with_for_each_and_count_addresses(modules):
    assert sorted(r.address for r in modules.resources) == [
        "aws_iam_policy.producer",
        "aws_kinesis_stream.mirror",
        'module.audit[0].aws_kinesis_stream.this',
        'module.events["clicks"].aws_kinesis_stream.this',
        'module.events["views"].aws_kinesis_stream.this',
        "module.single.aws_kinesis_stream.this",
    ]
    clicks = by_address(modules)['module.events["clicks"].aws_kinesis_stream.this']
    assert clicks.module == 'module.events["clicks"]'
    assert clicks.location == Location("modules/modules/stream/main.tf", 15, 20)
    assert clicks.unit == "modules"
    assert modules.files == ["modules/main.tf", "modules/modules/stream/main.tf"]


def test_child_module_inputs(modules):
    by = by_address(modules)
    child = "modules/modules/stream/main.tf"
    clicks = by['module.events["clicks"].aws_kinesis_stream.this']
    # the call passes var.key_arn: the root variable is the input
    assert clicks.attributes["kms_key_id"] == FromInputs(
        "alias/aws/kinesis", (var("var.key_arn", "alias/aws/kinesis", True, "modules/main.tf", 1, 4),)
    )
    # the call leaves encryption_type at the module's default: the child variable is the input
    assert clicks.attributes["encryption_type"] == FromInputs(
        "KMS", (var('module.events["clicks"].var.encryption_type', "KMS", True, child, 10, 13),)
    )
    # the call passes each.value: no input
    assert clicks.attributes["name"] == "clicks"
    assert clicks.condition == Condition(
        'module.events["clicks"]: for_each = var.streams',
        True,
        (var("var.streams", ["clicks", "views"], True, "modules/main.tf", 6, 9),),
    )
    single = by["module.single.aws_kinesis_stream.this"]
    assert single.attributes["encryption_type"] == "NONE"  # a literal in the call
    assert single.condition is None


def test_module_outputs_carry_values_inputs_and_edges(modules):
    by = by_address(modules)
    mirror = by["aws_kinesis_stream.mirror"]
    assert mirror.attributes["kms_key_id"] == FromInputs(
        "alias/aws/kinesis",
        (var("module.single.var.key_id", "alias/aws/kinesis", True, "modules/modules/stream/main.tf", 5, 8),),
    )
    statement = by["aws_iam_policy.producer"].attributes["policy"]["Statement"][0]
    assert statement["Resource"].target is by["module.single.aws_kinesis_stream.this"]


def test_remote_module_is_an_info_diagnostic(modules):
    assert modules.diagnostics == [
        Diagnostic(
            "info",
            "modules/main.tf",
            30,
            'module.vendor (source "terraform-aws-modules/kinesis/aws") was not checked: remote module '
            "sources are not downloaded; run terraform init to check it",
        )
    ]


def test_remote_module_installed_by_terraform_init_is_read(tmp_path):
    (tmp_path / "main.tf").write_text(
        'module "events" {\n'
        '  source  = "terraform-aws-modules/kinesis/aws"\n'
        '  version = "1.0.0"\n'
        '  name    = "events"\n'
        "}\n"
        'module "other" {\n'
        '  source = "git::https://example.com/streams.git?ref=v1"\n'
        "}\n"
    )
    installed = tmp_path / ".terraform" / "modules" / "events"
    installed.mkdir(parents=True)
    (installed / "main.tf").write_text(
        'variable "name" {}\n'
        'variable "encryption_type" {\n  default = "NONE"\n}\n'
        'resource "aws_kinesis_stream" "this" {\n'
        "  name            = var.name\n"
        "  encryption_type = var.encryption_type\n"
        "}\n"
    )
    (tmp_path / ".terraform" / "modules" / "modules.json").write_text(
        json.dumps(
            {
                "Modules": [
                    {"Key": "", "Source": "", "Dir": "."},
                    {
                        "Key": "events",
                        "Source": "registry.terraform.io/terraform-aws-modules/kinesis/aws",
                        "Version": "1.0.0",
                        "Dir": ".terraform/modules/events",
                    },
                ]
            }
        )
    )
    model = load_module(str(tmp_path))
    [stream] = model.resources
    assert stream.address == "module.events.aws_kinesis_stream.this"
    assert stream.location.file == str(installed / "main.tf")
    assert stream.attributes["name"] == "events"
    assert stream.attributes["encryption_type"] == FromInputs(
        "NONE",
        (var("module.events.var.encryption_type", "NONE", True, str(installed / "main.tf"), 2, 4),),
    )
    assert model.diagnostics == [
        Diagnostic(
            "info",
            str(tmp_path / "main.tf"),
            6,
            'module.other (source "git::https://example.com/streams.git?ref=v1") was not checked: remote '
            "module sources are not downloaded; run terraform init to check it",
        )
    ]


def test_terraform_0_11_syntax(in_fixtures):
    model = load_module("legacy")
    by = by_address(model)
    stream = by["module.base.aws_kinesis_stream.stream"]
    assert stream.attributes["name"] == FromInputs(
        "example-org-stream", (var("var.domain", "example.org", True, "legacy/main.tf", 2, 4),)
    )
    statement = by["module.base.aws_iam_user_policy.producer"].attributes["policy"]["Statement"][0]
    assert statement["Resource"].target is stream
    assert model.diagnostics == []


# -- broken input ----------------------------------------------------------------------


def test_broken_files_are_diagnostics_and_the_rest_is_loaded(in_fixtures):
    model = load_module("broken")
    assert [r.address for r in model.resources] == ["aws_kinesis_stream.ok"]
    assert model.diagnostics == [
        Diagnostic(
            "error",
            "broken/bad.tf",
            2,
            "Invalid expression: Expected the start of an expression, but found an invalid expression token.",
            10,
        ),
        Diagnostic(
            "error",
            "broken/worse.tf",
            5,
            "Missing expression: Expected the start of an expression, but found the end of the file.",
            1,
        ),
    ]
    assert model.files == ["broken/bad.tf", "broken/ok.tf", "broken/worse.tf"]


def test_broken_file_of_a_child_module_is_reported(in_fixtures):
    model = load_module("broken-child")
    assert model.resources == []  # tfparse leaves out the whole child module
    assert model.diagnostics == [
        Diagnostic(
            "error",
            "broken-child/child/bad.tf",
            3,
            "Invalid expression: Expected the start of an expression, but found an invalid expression token.",
            17,
        ),
        Diagnostic(
            "info",
            "broken-child/main.tf",
            1,
            'module.child (source "./child") was not checked: a file of the module has a syntax error',
        ),
    ]


def test_non_utf8_file(tmp_path):
    (tmp_path / "ok.tf").write_text('resource "aws_kinesis_stream" "ok" {\n  name = "ok"\n}\n')
    (tmp_path / "latin1.tf").write_bytes(b'resource "aws_kinesis_stream" "l" {\n  name = "caf\xe9"\n}\n')
    model = load_module(str(tmp_path))
    assert [r.address for r in model.resources] == ["aws_kinesis_stream.ok"]
    [diagnostic] = model.diagnostics
    assert (diagnostic.level, diagnostic.file, diagnostic.line) == ("error", str(tmp_path / "latin1.tf"), 2)
    assert diagnostic.message.startswith("Invalid character encoding")


def test_deep_nesting_is_a_diagnostic(tmp_path):
    depth = 3000
    (tmp_path / "deep.tf").write_text('resource "a_b" "c" {\n  x = ' + "[" * depth + "]" * depth + "\n}\n")
    model = load_module(str(tmp_path))
    assert model.resources == []
    assert model.diagnostics == [
        Diagnostic(
            "error",
            str(tmp_path / "deep.tf"),
            2,
            f"expressions are nested more than 200 levels deep; module {tmp_path} not checked",
        )
    ]


def test_too_large_file_is_a_diagnostic(tmp_path, monkeypatch):
    monkeypatch.setattr(terraform, "MAX_FILE_BYTES", 100)
    (tmp_path / "big.tf").write_text("# filler\n" * 20)
    model = load_module(str(tmp_path))
    assert model.diagnostics == [
        Diagnostic(
            "error",
            str(tmp_path / "big.tf"),
            1,
            f"file is 180 bytes, larger than the 100-byte limit; module {tmp_path} not checked",
        )
    ]


def test_evaluation_that_does_not_finish_is_a_diagnostic(tmp_path):
    # ~a minute; computed, so not capped like a literal count
    (tmp_path / "main.tf").write_text('locals {\n  n = 1000000\n}\nresource "a_b" "c" {\n  count = local.n\n}\n')
    model = load_module(str(tmp_path), timeout=0.2)  # the worker process is killed after 0.2 s
    assert model.diagnostics == [
        Diagnostic(
            "error", str(tmp_path), 0, "Terraform evaluation did not finish within 0.2 s; module not checked"
        )
    ]


def test_a_literal_count_over_the_limit_is_evaluated_as_its_first_instance(tmp_path):
    (tmp_path / "main.tf").write_text(
        'resource "aws_kinesis_stream" "many" {\n  count = 1000000\n  name  = "s-${count.index}"\n}\n'
        'resource "aws_kinesis_stream" "few" {\n  count = 2\n  name  = "f-${count.index}"\n}\n'
    )
    model = load_module(str(tmp_path))
    assert [(r.address, r.get("name")) for r in model.resources] == [
        ("aws_kinesis_stream.many[0]", "s-0"),
        ("aws_kinesis_stream.few[0]", "f-0"),
        ("aws_kinesis_stream.few[1]", "f-1"),
    ]
    assert model.diagnostics == [
        Diagnostic(
            "info",
            str(tmp_path / "main.tf"),
            2,
            "count = 1000000: evaluated with its numbers over 100 taken as 1 (instances differ only by their index "
            "or key)",
        )
    ]


@pytest.mark.parametrize(
    "gate, written, addresses",
    [
        ("count", "(((1000000)))", ["aws_kinesis_stream.s[0]"]),
        ("count", "var.on ? 1e6 : 0", ["aws_kinesis_stream.s[0]"]),
        ("for_each", "toset([for i in range(5000) : tostring(i)])", ['aws_kinesis_stream.s["0"]']),
        ("count", "2", ["aws_kinesis_stream.s[0]", "aws_kinesis_stream.s[1]"]),
    ],
)
def test_numbers_over_the_limit_in_a_gate_are_taken_as_one(tmp_path, gate, written, addresses):
    (tmp_path / "main.tf").write_text(
        f'variable "on" {{\n  default = true\n}}\nresource "aws_kinesis_stream" "s" {{\n  {gate} = {written}\n}}\n'
    )
    model = load_module(str(tmp_path))
    assert [r.address for r in model.resources] == addresses
    notes = [(d.line, d.message) for d in model.diagnostics]
    if written == "2":
        assert notes == []
    else:
        assert notes == [
            (5, f"{gate} = {written}: evaluated with its numbers over 100 taken as 1 (instances differ only by their "
                "index or key)")
        ]


def test_unexpected_failure_is_a_diagnostic_naming_the_directory(tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise MemoryError("boom")

    monkeypatch.setattr(terraform.Evaluation, "resources", explode)
    (tmp_path / "main.tf").write_text('resource "a_b" "c" {}\n')
    model = load_module(str(tmp_path))
    assert model.resources == []
    assert model.diagnostics == [
        Diagnostic(
            "error", str(tmp_path), 0, "Terraform module could not be loaded (MemoryError: boom); not checked"
        )
    ]


def test_one_unreadable_resource_is_a_diagnostic_and_the_others_stay(tmp_path, monkeypatch):
    fill = terraform.Evaluation._fill

    def picky(self, block, resource):
        if resource.address == "aws_kinesis_stream.odd":
            raise ValueError("odd value")
        fill(self, block, resource)

    monkeypatch.setattr(terraform.Evaluation, "_fill", picky)
    (tmp_path / "main.tf").write_text(
        'resource "aws_kinesis_stream" "odd" {\n  name = "odd"\n}\n'
        'resource "aws_kinesis_stream" "fine" {\n  name = "fine"\n}\n'
    )
    model = load_module(str(tmp_path))
    assert [r.address for r in model.resources] == ["aws_kinesis_stream.fine"]
    assert model.diagnostics == [
        Diagnostic(
            "error",
            str(tmp_path / "main.tf"),
            1,
            "aws_kinesis_stream.odd could not be read (ValueError: odd value); not checked",
        )
    ]


def test_resources_that_count_leaves_out_are_judged_as_the_instance_they_would_create(tmp_path):
    assert load_module(str(tmp_path)).resources == []
    (tmp_path / "main.tf").write_text(
        'variable "create" {\n  default = false\n}\n'
        'resource "aws_kinesis_stream" "maybe" {\n  count = var.create ? 1 : 0\n  name  = "maybe-${count.index}"\n}\n'
    )
    model = load_module(str(tmp_path))
    [stream] = model.resources
    assert stream.address == "aws_kinesis_stream.maybe"
    assert stream.get("name") == "maybe-0"  # the first instance
    assert stream.condition.name == "count = var.create ? 1 : 0"
    assert stream.condition.default is False
    assert [(i.name, i.default) for i in stream.condition.inputs] == [("var.create", False)]
    assert model.diagnostics == []
    assert model.uncreated == []


def test_module_calls_that_give_no_instance_are_judged_as_the_instance_they_would_create(tmp_path):
    (tmp_path / "child").mkdir()
    (tmp_path / "child" / "main.tf").write_text(
        'variable "enc" {\n  default = "NONE"\n}\n'
        'resource "aws_kinesis_stream" "s" {\n  name = "s"\n  encryption_type = var.enc\n}\n'
    )
    (tmp_path / "main.tf").write_text(
        'variable "create" {\n  default = false\n}\n'
        'variable "names" {}\n'
        'module "off" {\n  source = "./child"\n  count  = var.create ? 1 : 0\n}\n'
        'module "each" {\n  source   = "./child"\n  for_each = var.names\n  enc = each.value\n}\n'
    )
    model = load_module(str(tmp_path))
    assert model.diagnostics == []
    by_address = {r.address: r for r in model.resources}
    assert set(by_address) == {"module.off.aws_kinesis_stream.s", "module.each.aws_kinesis_stream.s"}
    off, each = by_address["module.off.aws_kinesis_stream.s"], by_address["module.each.aws_kinesis_stream.s"]
    assert (off.module, each.module) == ("module.off", "module.each")
    assert off.condition.name == "module.off: count = var.create ? 1 : 0"
    assert [(i.name, i.has_default) for i in off.condition.inputs] == [("var.create", True)]
    assert each.condition.name == "module.each: for_each = var.names"
    assert [(i.name, i.has_default) for i in each.condition.inputs] == [("var.names", False)]
    assert off.get("encryption_type").value == "NONE"
    assert [i.name for i in off.get("encryption_type").inputs] == ["module.off.var.enc"]
    assert isinstance(_plain_value(each.get("encryption_type")), Unknown)  # each.value is unknown


def _plain_value(value):
    while isinstance(value, FromInputs):
        value = value.value
    return value


def test_unknown_count_keeps_one_instance_with_an_undecided_condition(tmp_path):
    (tmp_path / "main.tf").write_text(
        'variable "create" {}\n'
        'resource "aws_kinesis_stream" "maybe" {\n  count = var.create ? 1 : 0\n  name  = "maybe"\n}\n'
    )
    [stream] = load_module(str(tmp_path)).resources
    assert stream.address == "aws_kinesis_stream.maybe[0]"
    assert stream.condition == Condition(
        "count = var.create ? 1 : 0",
        None,
        (var("var.create", None, False, str(tmp_path / "main.tf"), 1, 1),),
    )


def test_unresolved_interpolation_and_unknown_references(tmp_path):
    (tmp_path / "main.tf").write_text(
        'variable "suffix" {}\n'
        'resource "aws_kms_key" "k" {}\n'
        'resource "aws_kinesis_stream" "s" {\n'
        '  name       = "events-${var.suffix}"\n'
        "  kms_key_id = aws_kms_key.k.key_id\n"
        "  other      = aws_missing.m.arn\n"
        "}\n"
    )
    by = by_address(load_module(str(tmp_path)))
    attributes = by["aws_kinesis_stream.s"].attributes
    suffix = var("var.suffix", None, False, str(tmp_path / "main.tf"), 1, 1)
    assert attributes["name"] == FromInputs(
        Template(("events-", FromInputs(Unknown("var.suffix has no value"), (suffix,)))), (suffix,)
    )
    assert attributes["kms_key_id"].target is by["aws_kms_key.k"]
    assert attributes["kms_key_id"].attribute == "key_id"
    assert attributes["other"] == Unknown(
        "aws_missing.m.arn refers to a resource that is not in the configuration (or not created)"
    )


def test_tf_json_files(tmp_path):
    (tmp_path / "main.tf.json").write_text(
        json.dumps(
            {
                "variable": {"enc": {"default": "KMS"}},
                "resource": {"aws_kinesis_stream": {"s": {"name": "s", "encryption_type": "${var.enc}"}}},
            },
            indent=2,
        )
    )
    model = load_module(str(tmp_path))
    [stream] = model.resources
    file = str(tmp_path / "main.tf.json")
    assert stream.attributes == {
        "name": "s",
        "encryption_type": FromInputs("KMS", (var("var.enc", "KMS", True, file, 3, 5),)),
    }
    assert stream.attribute_lines == {"name": 10, "encryption_type": 11}
    assert model.files == [file]


# -- the HCL scanner ---------------------------------------------------------------------


def test_mask_keeps_offsets_code_and_interpolations():
    text = 'a = "x ${var.y} z" # var.c\nb = <<EOT\nline ${local.l}\n$${var.no}\nEOT\n'
    masked = mask(text)
    assert len(masked) == len(text)
    assert "var.y" in masked and "local.l" in masked
    assert "var.c" not in masked and "var.no" not in masked
    # the heredoc's own newlines are masked: only the ends of attributes a and b remain
    assert [i for i, c in enumerate(masked) if c == "\n"] == [text.index("\n"), len(text) - 1]


def test_var_file_relative_to_the_working_directory(in_fixtures, tmp_path):
    var_file = tmp_path / "mine.tfvars"
    var_file.write_text('environment = "stage"\n')
    model = load_module("streams", var_files=[str(var_file)])
    name = by_address(model)["aws_kinesis_stream.orders"].attributes["name"]
    assert name.value == "app-stage-orders"
    assert name.inputs[0].default == "stage"
