"""The compute view: user data decoded, profiles and roles resolved, readers and their sources."""

from __future__ import annotations

import base64
import gzip
import textwrap

import pytest

from kds_iac.loaders import load
from kds_iac.model import Unknown
from kds_iac.views import compute
from kds_iac.views.credentials import PLACEHOLDER
from kds_iac.views.facts import ABSENT


def load_tf(tmp_path, text, **files):
    (tmp_path / "main.tf").write_text(textwrap.dedent(text))
    for name, content in files.items():
        (tmp_path / name.replace("__", ".")).write_text(content)
    model = load([str(tmp_path)])
    assert [d for d in model.diagnostics if d.level == "error"] == []
    return model


def load_cfn(tmp_path, text):
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(text))
    model = load([str(path)])
    assert [d for d in model.diagnostics if d.level == "error"] == []
    return model


def machine(model, address):
    return next(m for m in compute.machines(model) if m.address == address)


def user_text(model, address):
    data = machine(model, address).user_data
    return None if data is None or data.text is None else data.text.text


STREAM_TF = """
resource "aws_kinesis_stream" "events" {
  name        = "events"
  shard_count = 1
}
"""


def test_terraform_user_data_in_every_form(tmp_path):
    script = "#!/bin/bash\necho ready\n"
    gz = base64.b64encode(gzip.compress(script.encode())).decode()
    model = load_tf(
        tmp_path,
        STREAM_TF
        + f"""
        variable "nodefault" {{ type = string }}
        resource "aws_instance" "plain" {{
          user_data = "#!/bin/bash\\necho ready\\n"
        }}
        resource "aws_instance" "encoded_known" {{
          user_data = base64encode("#!/bin/bash\\necho ready\\n")
        }}
        resource "aws_instance" "encoded_unknown" {{
          user_data = base64encode("#!/bin/bash\\necho ${{var.nodefault}}\\n")
        }}
        resource "aws_launch_template" "gzip" {{
          user_data = "{gz}"
        }}
        resource "aws_launch_configuration" "from_file" {{
          user_data_base64 = filebase64("${{path.module}}/init.sh")
        }}
        resource "aws_instance" "template" {{
          user_data = templatefile("${{path.module}}/init.tftpl", {{ stream = aws_kinesis_stream.events.name, who = var.nodefault }})
        }}
        resource "aws_instance" "encoded_template" {{
          user_data = base64encode(templatefile("${{path.module}}/init.tftpl", {{ stream = aws_kinesis_stream.events.arn, who = "me" }}))
        }}
        resource "aws_instance" "encoded_reference" {{
          user_data = base64encode("#!/bin/bash\\nproducer --stream ${{aws_kinesis_stream.events.arn}}\\n")
        }}
        resource "aws_instance" "none" {{
          ami = "ami-1"
        }}
        """,
        init__sh=script,
        init__tftpl="#!/bin/bash\nproducer --stream-name ${stream} --by ${who}\n",
    )
    assert user_text(model, "aws_instance.plain") == script
    assert user_text(model, "aws_instance.encoded_known") == script
    assert user_text(model, "aws_instance.encoded_unknown") == f"#!/bin/bash\necho {PLACEHOLDER}\n"
    assert user_text(model, "aws_launch_template.gzip") == script
    assert user_text(model, "aws_launch_configuration.from_file") == script
    assert machine(model, "aws_launch_configuration.from_file").user_data.setting == "user_data_base64"
    template = machine(model, "aws_instance.template").user_data.text
    assert template.text == f"#!/bin/bash\nproducer --stream-name {PLACEHOLDER} --by {PLACEHOLDER}\n"
    assert [r.target.address for r in template.refs] == ["aws_kinesis_stream.events"]
    encoded_template = machine(model, "aws_instance.encoded_template").user_data.text
    assert encoded_template.text == f"#!/bin/bash\nproducer --stream-name {PLACEHOLDER} --by me\n"
    assert [r.target.address for r in encoded_template.refs] == ["aws_kinesis_stream.events"]
    # tfparse encodes a reference as a block id; the text is read again so the edge survives
    encoded_reference = machine(model, "aws_instance.encoded_reference").user_data.text
    assert [(r.target.address, r.attribute) for r in encoded_reference.refs] == [("aws_kinesis_stream.events", "arn")]
    assert machine(model, "aws_instance.none").user_data is None


def test_plain_user_data_that_merely_looks_like_base64_is_kept(tmp_path):
    model = load_tf(tmp_path, 'resource "aws_instance" "a" {\n  user_data = "abcd"\n}\n')
    assert user_text(model, "aws_instance.a") == "abcd"


def test_cloudformation_user_data(tmp_path):
    model = load_cfn(
        tmp_path,
        """
        Parameters:
          Name:
            Type: String
        Resources:
          Events:
            Type: AWS::Kinesis::Stream
            Properties: {ShardCount: 1}
          Literal:
            Type: AWS::EC2::Instance
            Properties:
              UserData: !Base64 "#!/bin/bash\\necho ready\\n"
          Substituted:
            Type: AWS::EC2::Instance
            Properties:
              UserData:
                Fn::Base64: !Sub "#!/bin/bash\\nproducer --stream-name ${Events} --by ${Name} in ${AWS::Region}\\n"
          Template:
            Type: AWS::EC2::LaunchTemplate
            Properties:
              LaunchTemplateData:
                UserData: !Base64 {"Fn::Join": ["", ["x ", !Ref Events]]}
          Configuration:
            Type: AWS::AutoScaling::LaunchConfiguration
            Properties:
              UserData: IyEvYmluL2Jhc2gK
        """,
    )
    assert user_text(model, "Literal") == "#!/bin/bash\necho ready\n"
    substituted = machine(model, "Substituted").user_data.text
    assert substituted.text == f"#!/bin/bash\nproducer --stream-name {PLACEHOLDER} --by {PLACEHOLDER} in {PLACEHOLDER}\n"
    assert [r.target.address for r in substituted.refs] == ["Events"]
    assert machine(model, "Template").user_data.setting == "LaunchTemplateData.UserData"
    assert user_text(model, "Template") == f"x {PLACEHOLDER}"
    assert user_text(model, "Configuration") == "#!/bin/bash\n"


def test_instance_profiles_and_their_roles(tmp_path):
    model = load_tf(
        tmp_path,
        """
        variable "profile" { type = string }
        variable "optional_profile" {
          type    = string
          default = null
        }
        resource "aws_iam_role" "producer" {
          name               = "producer"
          assume_role_policy = "{}"
        }
        resource "aws_iam_instance_profile" "producer" {
          name = "producer"
          role = aws_iam_role.producer.name
        }
        resource "aws_instance" "by_reference" {
          iam_instance_profile = aws_iam_instance_profile.producer.name
        }
        resource "aws_instance" "by_name" {
          iam_instance_profile = "producer"
        }
        resource "aws_instance" "unknown" {
          iam_instance_profile = var.profile
        }
        resource "aws_instance" "optional" {
          iam_instance_profile = var.optional_profile
        }
        resource "aws_launch_template" "block" {
          name = "producer"
          iam_instance_profile {
            arn = aws_iam_instance_profile.producer.arn
          }
        }
        resource "aws_launch_template" "none" {}
        resource "aws_instance" "from_template" {
          launch_template {
            name = aws_launch_template.block.name
          }
        }
        resource "aws_instance" "from_template_id" {
          launch_template {
            id = aws_launch_template.block.id
          }
        }
        """,
    )
    role = next(r for r in model.resources if r.address == "aws_iam_role.producer")
    for address in ("aws_instance.by_reference", "aws_instance.by_name", "aws_launch_template.block"):
        profile = machine(model, address).profile
        assert compute.present(profile) is True
        assert compute.profile_roles(profile, model).value == [role]
    assert compute.present(machine(model, "aws_instance.unknown").profile) is None
    optional = machine(model, "aws_instance.optional").profile
    assert compute.present(optional) is False and optional.provenance() == "var.optional_profile (default: null)"
    assert compute.present(machine(model, "aws_launch_template.none").profile) is False
    template = compute.launch_template_of(machine(model, "aws_instance.from_template"), model).value
    assert template.address == "aws_launch_template.block"
    assert compute.launch_template_of(machine(model, "aws_instance.by_name"), model).value is ABSENT
    # tfparse drops an attribute named "id" in a nested block (its own block ids): not known
    assert isinstance(compute.launch_template_of(machine(model, "aws_instance.from_template_id"), model).value, Unknown)


def test_cloudformation_profiles(tmp_path):
    model = load_cfn(
        tmp_path,
        """
        Parameters:
          Use: {Type: String, Default: "no"}
        Conditions:
          UseIt: !Equals [!Ref Use, "yes"]
        Resources:
          Role:
            Type: AWS::IAM::Role
            Properties: {AssumeRolePolicyDocument: {}}
          Profile:
            Type: AWS::IAM::InstanceProfile
            Properties: {Roles: [!Ref Role]}
          WithProfile:
            Type: AWS::EC2::Instance
            Properties: {IamInstanceProfile: !Ref Profile}
          Conditional:
            Type: AWS::EC2::LaunchTemplate
            Properties:
              LaunchTemplateData:
                IamInstanceProfile: !If [UseIt, {Name: !Ref Profile}, !Ref AWS::NoValue]
          Named:
            Type: AWS::EC2::LaunchTemplate
            Properties:
              LaunchTemplateData:
                IamInstanceProfile: {Name: !Ref Profile}
        """,
    )
    role = next(r for r in model.resources if r.address == "Role")
    assert compute.profile_roles(machine(model, "WithProfile").profile, model).value == [role]
    assert compute.profile_roles(machine(model, "Named").profile, model).value == [role]
    conditional = machine(model, "Conditional").profile
    assert compute.present(conditional) is False
    assert "condition UseIt (with defaults: false)" in conditional.provenance()


def test_functions_roles_and_event_source_mappings(tmp_path):
    model = load_tf(
        tmp_path,
        STREAM_TF
        + """
        variable "role_arn" { type = string }
        resource "aws_iam_role" "consumer" {
          name               = "consumer"
          assume_role_policy = "{}"
        }
        resource "aws_lambda_function" "by_reference" {
          function_name = "by-reference"
          role          = aws_iam_role.consumer.arn
          environment {
            variables = { A = "1" }
          }
        }
        resource "aws_lambda_function" "by_arn" {
          function_name = "by-arn"
          role          = "arn:aws:iam::123456789012:role/service/consumer"
        }
        resource "aws_lambda_function" "external" {
          function_name = "external"
          role          = var.role_arn
        }
        resource "aws_kinesis_stream_consumer" "fan_out" {
          name       = "fan-out"
          stream_arn = aws_kinesis_stream.events.arn
        }
        resource "aws_lambda_event_source_mapping" "stream" {
          event_source_arn = aws_kinesis_stream.events.arn
          function_name    = aws_lambda_function.by_reference.arn
        }
        resource "aws_lambda_event_source_mapping" "consumer" {
          event_source_arn = aws_kinesis_stream_consumer.fan_out.arn
          function_name    = "by-arn"
        }
        resource "aws_lambda_event_source_mapping" "by_arn" {
          event_source_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/elsewhere"
          function_name    = "arn:aws:lambda:eu-west-1:123456789012:function:external:live"
        }
        resource "aws_lambda_event_source_mapping" "queue" {
          event_source_arn = "arn:aws:sqs:eu-west-1:123456789012:jobs"
          function_name    = "unknown-function"
        }
        """,
    )
    role = next(r for r in model.resources if r.address == "aws_iam_role.consumer")
    functions = {f.address: f for f in compute.functions(model)}
    assert functions["aws_lambda_function.by_reference"].role.value is role
    assert functions["aws_lambda_function.by_arn"].role.value is role  # by the name in the ARN
    assert isinstance(functions["aws_lambda_function.external"].role.value, Unknown)
    assert list(functions["aws_lambda_function.by_reference"].environment.value) == ["A"]
    mappings = {m.resource.address: m for m in compute.event_source_mappings(model)}
    stream = mappings["aws_lambda_event_source_mapping.stream"]
    assert stream.source.value.stream.address == "aws_kinesis_stream.events" and not stream.source.value.fan_out
    assert stream.function.value is functions["aws_lambda_function.by_reference"]
    consumer = mappings["aws_lambda_event_source_mapping.consumer"].source.value
    assert consumer.fan_out and consumer.stream.address == "aws_kinesis_stream.events"
    assert mappings["aws_lambda_event_source_mapping.consumer"].function.value is functions["aws_lambda_function.by_arn"]
    elsewhere = mappings["aws_lambda_event_source_mapping.by_arn"]
    assert elsewhere.source.value.stream is None and elsewhere.source.value.arn.endswith("stream/elsewhere")
    assert elsewhere.function.value is functions["aws_lambda_function.external"]
    queue = mappings["aws_lambda_event_source_mapping.queue"]
    assert queue.source.value is ABSENT and isinstance(queue.function.value, Unknown)


def test_delivery_streams_with_a_kinesis_source_only(tmp_path):
    model = load_cfn(
        tmp_path,
        """
        Resources:
          Events:
            Type: AWS::Kinesis::Stream
            Properties: {ShardCount: 1}
          Role:
            Type: AWS::IAM::Role
            Properties: {AssumeRolePolicyDocument: {}}
          FromStream:
            Type: AWS::KinesisFirehose::DeliveryStream
            Properties:
              KinesisStreamSourceConfiguration:
                KinesisStreamARN: !Sub arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/${Events}
                RoleARN: !GetAtt Role.Arn
          Direct:
            Type: AWS::KinesisFirehose::DeliveryStream
            Properties:
              DeliveryStreamType: DirectPut
        """,
    )
    (delivery,) = compute.delivery_streams(model)
    assert delivery.resource.address == "FromStream"
    assert delivery.source.value.stream.address == "Events"
    assert delivery.role.value.address == "Role"
    assert delivery.role_setting == "KinesisStreamSourceConfiguration.RoleARN"


def test_task_definitions_containers_and_roles(tmp_path):
    model = load_tf(
        tmp_path,
        STREAM_TF
        + """
        variable "image" { type = string }
        resource "aws_ecs_task_definition" "t" {
          family             = "t"
          execution_role_arn = "arn:aws:iam::123456789012:role/exec"
          container_definitions = jsonencode([{
            name        = "app"
            image       = var.image
            environment = [{ name = "STREAM", value = aws_kinesis_stream.events.name }]
          }])
        }
        """,
    )
    (task,) = compute.task_definitions(model)
    assert compute.present(task.task_role) is False and compute.present(task.execution_role) is True
    (container,) = task.containers.value
    assert container.name == "app" and [n for n, _ in container.environment] == ["STREAM"]
    mentions = compute.mentions_in_value(container.definition, compute.streams_by_name(model))
    assert [(m.how, m.stream.address) for m in mentions] == [("edge", "aws_kinesis_stream.events")]


def test_stream_mentions_in_text(tmp_path):
    model = load_tf(tmp_path, STREAM_TF)
    names = compute.streams_by_name(model)
    stream = names["events"][0]

    def mentions(text):
        from kds_iac.views.credentials import text_of

        return [(m.how, m.stream.address if m.stream else m.text) for m in compute.mentions_in_text(text_of(text), names)]

    assert mentions("aws kinesis put-record --stream-name events --data x") == [("--stream-name", stream.address)]
    assert mentions('{"flows": [{"kinesisStream": "other"}]}') == [("agent flow", "other")]
    assert mentions("arn:aws:kinesis:eu-west-1:123456789012:stream/events") == [("arn", stream.address)]
    assert mentions("tail -f /var/log/events") == []  # a stream's name as an ordinary word names nothing


def test_providers(tmp_path):
    model = load_tf(
        tmp_path,
        """
        provider "aws" {
          region = "eu-west-1"
        }
        provider "aws" {
          alias      = "west"
          region     = "us-west-2"
          access_key = "AKIAIOSFODNN7EXAMPLE"
        }
        provider "random" {}
        """,
    )
    assert [p.address for p in compute.providers(model)] == ["provider.aws", "provider.aws.west"]
    assert {r.type for r in model.resources} == {"provider.aws", "provider.random"}
    west = next(r for r in model.resources if r.address == "provider.aws.west")
    assert west.attributes["access_key"] == "AKIAIOSFODNN7EXAMPLE" and west.line_of("access_key") == 8


@pytest.mark.parametrize("value,expected", [("", False), (ABSENT, False), ("x", True), (Unknown("y"), None)])
def test_present(value, expected):
    from kds_iac.views.facts import Fact

    assert compute.present(Fact(value)) is expected


def test_roles_by_name_need_exactly_one_match(tmp_path):
    model = load_tf(
        tmp_path,
        """
        resource "aws_iam_role" "a" {
          name               = "same"
          assume_role_policy = "{}"
        }
        resource "aws_iam_role" "b" {
          name               = "same"
          assume_role_policy = "{}"
        }
        """,
    )
    from kds_iac.views.facts import Fact

    assert isinstance(compute.role_of(Fact("arn:aws:iam::1:role/same"), model).value, Unknown)
    assert isinstance(compute.role_of(Fact("arn:aws:iam::1:role/*"), model).value, Unknown)
