"""SAM templates expanded with aws-sam-translator, generated resources traced to their source."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kds_iac.loaders import sam
from kds_iac.loaders.cloudformation import load_template
from kds_iac.model import FromInputs, Location, Model, Ref, Template, Unknown

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "cloudformation"

KINESIS_CRUD_ACTIONS = [
    "kinesis:AddTagsToStream",
    "kinesis:CreateStream",
    "kinesis:DecreaseStreamRetentionPeriod",
    "kinesis:DeleteStream",
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetShardIterator",
    "kinesis:IncreaseStreamRetentionPeriod",
    "kinesis:ListTagsForStream",
    "kinesis:MergeShards",
    "kinesis:PutRecord",
    "kinesis:PutRecords",
    "kinesis:SplitShard",
    "kinesis:RemoveTagsFromStream",
]


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def plain(value: Any) -> Any:
    if isinstance(value, Ref):
        return ("Ref", value.target.address, value.attribute)
    if isinstance(value, FromInputs):
        return ("FromInputs", plain(value.value), tuple(i.name for i in value.inputs))
    if isinstance(value, Unknown):
        return ("Unknown", value.reason)
    if isinstance(value, Template):
        return ("Template",) + tuple(plain(part) for part in value.parts)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@pytest.fixture
def offline(monkeypatch):
    """No region in the environment, no AWS configuration, and no network at all."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)

    def refuse(*args, **kwargs):
        raise AssertionError("the SAM expansion tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def kinesis_model() -> Model:
    return load_template(fixture("sam-kinesis.yaml"))


def by_address(model: Model) -> dict:
    return {r.address: r for r in model.resources}


def test_function_with_kinesis_event_and_crud_policy(kinesis_model):
    assert kinesis_model.diagnostics == []
    resources = by_address(kinesis_model)
    assert [(r.address, r.type, r.generated_from) for r in kinesis_model.resources] == [
        ("Events", "AWS::Kinesis::Stream", None),
        ("Consumer", "AWS::Lambda::Function", "Consumer"),
        ("ConsumerRole", "AWS::IAM::Role", "Consumer"),
        ("ConsumerRecords", "AWS::Lambda::EventSourceMapping", "Consumer"),
        ("Alarm", "AWS::CloudWatch::Alarm", None),
    ]
    path = fixture("sam-kinesis.yaml")
    sam_location = Location(path, 16, 36, 3)
    for address in ("Consumer", "ConsumerRole", "ConsumerRecords"):
        assert resources[address].location == sam_location
    assert resources["Events"].location == Location(path, 11, 14, 3)
    assert resources["Alarm"].location == Location(path, 38, 50, 3)


def test_generated_role_holds_the_policy_template_statements(kinesis_model):
    role = by_address(kinesis_model)["ConsumerRole"]
    assert plain(role.attributes["Policies"]) == [
        {
            "PolicyName": "ConsumerRolePolicy0",
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": KINESIS_CRUD_ACTIONS,
                        "Effect": "Allow",
                        "Resource": (
                            "Template",
                            "arn:",
                            ("Unknown", "AWS::Partition"),
                            ":kinesis:",
                            ("Unknown", "AWS::Region"),
                            ":",
                            ("Unknown", "AWS::AccountId"),
                            ":stream/",
                            ("Ref", "Events", None),
                        ),
                    }
                ]
            },
        }
    ]
    assert role.attributes["ManagedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole",
    ]
    # A finding on the role's policies points at the SAM resource's Policies line.
    assert role.attribute_lines == {"Policies": 27, "ManagedPolicyArns": 27}
    statement = role.attributes["Policies"][0]["PolicyDocument"]["Statement"][0]
    assert statement["Resource"].parts[-1].target is by_address(kinesis_model)["Events"]


def test_generated_event_source_mapping(kinesis_model):
    resources = by_address(kinesis_model)
    mapping = resources["ConsumerRecords"]
    assert plain(mapping.attributes) == {
        "BatchSize": ("FromInputs", 50, ("BatchSize",)),
        "EventSourceArn": ("Ref", "Events", "Arn"),
        "FunctionName": ("Ref", "Consumer", None),
        "StartingPosition": "TRIM_HORIZON",
    }
    assert mapping.attributes["EventSourceArn"].target is resources["Events"]
    assert mapping.attributes["FunctionName"].target is resources["Consumer"]
    # Lines of the event that produced it: Records (31), Stream (34), StartingPosition, BatchSize.
    assert mapping.attribute_lines == {"BatchSize": 36, "EventSourceArn": 34, "FunctionName": 31, "StartingPosition": 35}


def test_generated_function_and_plain_resources(kinesis_model):
    resources = by_address(kinesis_model)
    function = resources["Consumer"]
    assert plain(function.attributes["Role"]) == ("Ref", "ConsumerRole", "Arn")
    assert function.attributes["Runtime"] == "python3.12"
    assert function.attribute_lines == {"Handler": 25, "Runtime": 24}
    # The skip written on the SAM resource covers what it generates.
    for address in ("Consumer", "ConsumerRole", "ConsumerRecords"):
        assert resources[address].skips == {"CKV_AWS_116": "No DLQ for the example"}
    alarm = resources["Alarm"]
    assert alarm.attributes["Dimensions"][0]["Value"].target is function
    assert alarm.attribute_lines["Dimensions"] == 43


def test_failed_translation_reports_and_keeps_plain_resources():
    model = load_template(fixture("sam-broken.yaml"))
    assert [(d.level, d.line, d.message) for d in model.diagnostics] == [
        (
            "error",
            11,
            "SAM transform failed: Resource with id [ConsumerRecords] is invalid. "
            "Missing required property 'Stream'; the serverless resources are not checked",
        )
    ]
    resources = by_address(model)
    assert list(resources) == ["Events", "ConsumerName"]
    # A reference to the SAM resource that could not be expanded is unknown, not an error.
    assert resources["ConsumerName"].attributes["Value"] == Unknown("Consumer is a SAM resource that could not be expanded")


def test_unpackaged_app_offline_without_region(offline):
    from samtranslator.translator.arn_generator import ArnGenerator

    before = ArnGenerator.BOTO_SESSION_REGION_NAME
    model = load_template(fixture("sam-unpackaged.yaml"))
    assert ArnGenerator.BOTO_SESSION_REGION_NAME == before
    assert "AWS_DEFAULT_REGION" not in os.environ and "AWS_REGION" not in os.environ
    assert [(d.level, d.line, d.message) for d in model.diagnostics] == [
        ("info", 28, "Shipper is a Serverless Application Repository application; its template is not scanned")
    ]
    resources = by_address(model)
    assert {a: (r.type, r.generated_from) for a, r in resources.items() if not a.startswith("ServerlessRestApiDeployment")} == {
        "Api": ("AWS::Lambda::Function", "Api"),
        "ApiRole": ("AWS::IAM::Role", "Api"),
        "ApiGetPermissionProd": ("AWS::Lambda::Permission", "Api"),
        "ServerlessRestApi": ("AWS::ApiGateway::RestApi", "Api"),  # the implicit API of Api's event
        "ServerlessRestApiProdStage": ("AWS::ApiGateway::Stage", "Api"),
        "Depsccceb35a57": ("AWS::Lambda::LayerVersion", "Deps"),
        "Shipper": ("AWS::CloudFormation::Stack", "Shipper"),
    }
    assert resources["ServerlessRestApi"].location.start_line == 12
    assert resources["Depsccceb35a57"].location == Location(fixture("sam-unpackaged.yaml"), 23, 26, 3)
    assert resources["Api"].attributes["Runtime"] == "python3.12"  # from Globals


def test_transforms_and_is_sam():
    assert sam.transforms({"Transform": "AWS::Serverless-2016-10-31"}) == ["AWS::Serverless-2016-10-31"]
    assert sam.transforms({"Transform": ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]}) == [
        "AWS::LanguageExtensions",
        "AWS::Serverless-2016-10-31",
    ]
    assert sam.transforms({}) == []
    assert sam.is_sam({"Transform": ["AWS::Serverless-2016-10-31"]})
    assert not sam.is_sam({"Transform": "AWS::Include"})


def test_other_transforms_are_reported_as_not_applied(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("Transform: AWS::CodeDeployBlueGreen\nResources:\n  T:\n    Type: AWS::SNS::Topic\n")
    model = load_template(str(path))
    assert [(d.level, d.line, d.message) for d in model.diagnostics] == [
        ("info", 1, "transform AWS::CodeDeployBlueGreen is not applied; the template is checked as written")
    ]
    assert [r.address for r in model.resources] == ["T"]


def test_samtranslator_is_imported_only_for_serverless_resources(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("Transform: AWS::Serverless-2016-10-31\nResources:\n  T:\n    Type: AWS::SNS::Topic\n")
    code = (
        "import sys\n"
        "from kds_iac.loaders.cloudformation import load_template\n"
        f"model = load_template({str(path)!r})\n"
        "assert [r.address for r in model.resources] == ['T'] and not model.diagnostics\n"
        "print('samtranslator' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


ALIAS_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: ./fn
      AutoPublishAlias: live
      DeploymentPreference:
        Type: AllAtOnce
  Out:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: !Ref Fn.Alias
"""


def test_plain_resource_referring_to_a_sam_alias_keeps_its_lines(tmp_path):
    path = tmp_path / "alias.yaml"
    path.write_text(ALIAS_TEMPLATE)
    model = load_template(str(path))
    assert model.diagnostics == []
    resources = by_address(model)
    out = resources["Out"]
    assert out.generated_from is None
    assert out.location == Location(str(path), 12, 16, 3)
    assert out.attribute_lines == {"Type": 15, "Value": 16}
    assert out.attributes["Value"].target is resources["FnAliaslive"]
    assert resources["FnAliaslive"].generated_from == "Fn"
    # Resources the deployment preference adds without the function's id still trace to it.
    assert resources["CodeDeployServiceRole"].generated_from == "Fn"


def test_translation_writes_nothing_to_stderr(tmp_path):
    path = tmp_path / "alias.yaml"
    path.write_text(ALIAS_TEMPLATE)
    code = (
        "from kds_iac.loaders.cloudformation import load_template\n"
        f"for name in ({fixture('sam-kinesis.yaml')!r}, {str(path)!r}):\n"
        "    assert not load_template(name).diagnostics\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
