"""What the loaders keep of values known only in part: ``Encoded``, expressions read from
text where tfparse gives up, and Terraform provider blocks."""

from __future__ import annotations

import base64
import textwrap

import pytest

from kds_iac.loaders import load
from kds_iac.loaders.terraform_expr import read_expression, starts_with_fallback_call
from kds_iac.model import Encoded, FromInputs, Ref, Template, Unknown


def load_tf(tmp_path, text, **files):
    (tmp_path / "main.tf").write_text(textwrap.dedent(text))
    for name, content in files.items():
        (tmp_path / name.replace("__", ".")).write_text(content)
    model = load([str(tmp_path)])
    assert [d for d in model.diagnostics if d.level == "error"] == []
    return {r.address: r for r in model.resources}


def strip_inputs(value):
    while isinstance(value, FromInputs):
        value = value.value
    return value


# -- terraform_expr on its own ---------------------------------------------------------------


def ref(path):
    return ("ref", path)


def files(name, args):
    return ("file", name, args)


@pytest.mark.parametrize(
    "text,expected",
    [
        ('"plain"', "plain"),
        ('"a ${var.x} b"', Template(("a ", ("ref", "var.x"), " b"))),
        ('"esc $${x} %%{y} \\"q\\""', 'esc ${x} %{y} "q"'),
        ("[1, true, null]", [1, True, None]),
        ('{ a = "x", "b" : 2 }', {"a": "x", "b": 2}),
        ("{\n  a = 1\n  b = [\n    2,\n  ]\n}", {"a": 1, "b": [2]}),
        ('jsonencode({ k = var.v })', {"k": ("ref", "var.v")}),
        ('base64encode("hi")', base64.b64encode(b"hi").decode()),
        ('concat(["a"], list("b"))', ["a", "b"]),
        ('merge({ a = 1 }, { b = 2 })', {"a": 1, "b": 2}),
        ('join(",", ["a", var.b])', Template(("a,", ("ref", "var.b")))),
        ('templatefile("${path.module}/t.tftpl", { a = 1 })', ("file", "templatefile", ["/mod/t.tftpl", {"a": 1}])),
    ],
)
def test_read_expression(text, expected):
    assert read_expression(text, ref, files, "/mod") == expected


def test_read_expression_keeps_what_it_can_and_marks_the_rest_unknown():
    value = read_expression('{ a = var.x != null ? 1 : 2, b = [for i in var.l : i], c = lower("X"), d = "ok" }', ref, files)
    assert value["d"] == "ok"
    assert all(isinstance(value[k], Unknown) for k in "abc")
    encoded = read_expression('base64encode(<<-EOT\n  #!/bin/bash\n  echo ${var.x}\n  %{ if a }yes%{ endif }\n  EOT\n)', ref, files)
    assert isinstance(encoded, Encoded) and encoded.encoding == "base64"
    assert encoded.value == Template(("#!/bin/bash\necho ", ("ref", "var.x"), "\nyes\n"))
    assert isinstance(read_expression("((", ref, files), Unknown)


def test_only_some_calls_are_read_from_text():
    assert starts_with_fallback_call("  base64encode(x)")
    assert starts_with_fallback_call("jsonencode ({})")
    assert not starts_with_fallback_call("templatefile(x)")  # the loader's own file functions
    assert not starts_with_fallback_call("var.x")
    assert not starts_with_fallback_call("lower(x)")


# -- the Terraform loader ---------------------------------------------------------------


def test_base64encode_and_jsonencode_of_unknown_values_keep_their_text(tmp_path):
    resources = load_tf(
        tmp_path,
        """
        variable "secret" { type = string }
        variable "region" { default = "eu-west-1" }
        locals { stream = "events" }
        resource "aws_kinesis_stream" "s" {
          name        = local.stream
          shard_count = 1
        }
        resource "aws_instance" "a" {
          user_data = base64encode(<<-EOT
            key=${var.secret} region=${var.region} stream=${local.stream} arn=${aws_kinesis_stream.s.arn}
          EOT
          )
        }
        resource "aws_ecs_task_definition" "t" {
          family = "t"
          container_definitions = jsonencode([{
            name        = "app"
            environment = [{ name = "K", value = "literal" }, { name = "S", value = var.secret }]
          }])
        }
        """,
    )
    user_data = strip_inputs(resources["aws_instance.a"].attributes["user_data"])
    assert isinstance(user_data, Encoded)
    parts = user_data.value.parts
    assert parts[0] == "key=" and isinstance(strip_inputs(parts[1]), Unknown)
    assert parts[2] == " region=" and parts[3].value == "eu-west-1" and parts[3].inputs[0].name == "var.region"
    assert parts[4] == " stream=events arn="  # a local's value, evaluated by tfparse
    assert isinstance(parts[5], Ref) and parts[5].target.address == "aws_kinesis_stream.s"
    (container,) = strip_inputs(resources["aws_ecs_task_definition.t"].attributes["container_definitions"])
    assert container["environment"][0] == {"name": "K", "value": "literal"}
    assert isinstance(strip_inputs(container["environment"][1]["value"]), Unknown)


def test_jsonencode_that_tfparse_returns_with_nulls_is_read_from_text(tmp_path):
    resources = load_tf(
        tmp_path,
        """
        data "aws_caller_identity" "current" {}
        resource "aws_iam_policy" "p" {
          policy = jsonencode({
            Version   = "2012-10-17"
            Statement = [{ Effect = "Allow", Action = "kinesis:GetRecords", Resource = "arn:aws:kinesis:eu-west-1:${data.aws_caller_identity.current.account_id}:stream/s" }]
          })
        }
        resource "aws_iam_policy" "literal_null" {
          policy = jsonencode({ Version = "2012-10-17", Statement = [], Extra = null })
        }
        """,
    )
    policy = strip_inputs(resources["aws_iam_policy.p"].attributes["policy"])
    (statement,) = policy["Statement"]
    resource = statement["Resource"]
    assert isinstance(resource, Template) and isinstance(resource.parts[1], Ref)
    assert resource.parts[1].target.address == "data.aws_caller_identity.current"
    assert strip_inputs(resources["aws_iam_policy.literal_null"].attributes["policy"])["Statement"] == []


def test_templatefile_inside_base64encode(tmp_path):
    resources = load_tf(
        tmp_path,
        """
        resource "aws_kinesis_stream" "s" {
          name        = "events"
          shard_count = 1
        }
        resource "aws_launch_template" "lt" {
          user_data = base64encode(templatefile("${path.module}/init.tftpl", { stream = aws_kinesis_stream.s.arn }))
        }
        resource "aws_launch_template" "missing" {
          user_data = base64encode(templatefile("${path.module}/nowhere.tftpl", { stream = "x" }))
        }
        resource "aws_launch_template" "outside" {
          user_data = base64encode(file("/etc/hostname"))
        }
        """,
        init__tftpl="#!/bin/bash\nput --stream ${stream}\n",
    )
    encoded = strip_inputs(resources["aws_launch_template.lt"].attributes["user_data"])
    assert isinstance(encoded, Encoded)
    assert encoded.value.parts[0] == "#!/bin/bash\nput --stream "
    assert encoded.value.parts[1].target.address == "aws_kinesis_stream.s"
    missing = strip_inputs(resources["aws_launch_template.missing"].attributes["user_data"])
    assert isinstance(missing, Encoded) and isinstance(missing.value, Unknown)
    outside = strip_inputs(resources["aws_launch_template.outside"].attributes["user_data"])
    assert isinstance(outside, Encoded) and isinstance(outside.value, Unknown)  # outside the module: not read


def test_provider_blocks_are_resources(tmp_path):
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "main.tf").write_text('provider "aws" {\n  alias  = "inner"\n  region = "eu-west-1"\n}\n')
    resources = load_tf(
        tmp_path,
        """
        provider "aws" {
          region = "eu-west-1"
          #checkov:skip=CKV_KDS_12:Local testing only
        }
        provider "aws" {
          alias = "west"
        }
        module "m" {
          source = "./mod"
        }
        """,
    )
    assert resources["provider.aws"].type == "provider.aws"
    assert resources["provider.aws"].skips == {"CKV_KDS_12": "Local testing only"}
    assert resources["provider.aws.west"].attributes == {"alias": "west"}
    assert resources["module.m.provider.aws.inner"].location.file.endswith("mod/main.tf")


# -- the CloudFormation loader -------------------------------------------------------------


def test_fn_base64_of_a_value_known_at_deployment_keeps_it(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        textwrap.dedent(
            """
            Resources:
              S:
                Type: AWS::Kinesis::Stream
              I:
                Type: AWS::EC2::Instance
                Properties:
                  UserData:
                    Fn::Base64: !Sub "put --stream ${S} --region ${AWS::Region}"
              K:
                Type: AWS::EC2::Instance
                Properties:
                  UserData: !Base64 "known"
            """
        )
    )
    model = load([str(path)])
    resources = {r.address: r for r in model.resources}
    encoded = resources["I"].attributes["UserData"]
    assert isinstance(encoded, Encoded) and isinstance(encoded, Unknown) and not encoded
    assert encoded.value.parts[0] == "put --stream " and encoded.value.parts[1].target is resources["S"]
    assert resources["K"].attributes["UserData"] == base64.b64encode(b"known").decode()
