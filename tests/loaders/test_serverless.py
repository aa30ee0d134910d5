"""Serverless Framework services through the ``kds-iac`` command: what the framework's stack
holds (resources, fragments, the generated role, functions, stream events) is judged by every
rule, with variables resolved and nothing fetched."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kds_iac.loaders.serverless import load_service
from kds_iac.model import FromInputs, Ref, Template, Unknown
from tests.conftest import EXAMPLES, REPO, declare_organization_trail, tool

SERVERLESS = EXAMPLES / "serverless"


def scan(*paths: str, cwd: Path = REPO) -> tuple[int, dict[str, Any]]:
    run = subprocess.run(
        [tool("kds-iac"), "scan", "--format", "json", "--no-progress", *paths],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard, not a speed limit
    )
    assert run.returncode in (0, 1, 2), run.stderr
    return run.returncode, json.loads(run.stdout)


def findings(report: dict[str, Any]) -> set[tuple[str, str, str, int]]:
    return {(f["rule_id"], f["resource"], f["file"], f["line"]) for f in report["findings"]}


def diagnostics(report: dict[str, Any], level: str) -> set[tuple[str, int, str]]:
    return {(d["file"], d["line"], d["message"]) for d in report["diagnostics"] if d["level"] == level}


def test_service_with_fragments_and_legacy_statements_gives_exactly_its_findings():
    code, report = scan("examples/serverless/service-bad")
    base = "examples/serverless/service-bad"
    assert code == 1
    assert diagnostics(report, "error") == set()
    assert findings(report) == {
        ("KDS001", "OrdersStream", f"{base}/resources/streams.yml", 4),
        ("KDS001", "AuditStream", f"{base}/resources/streams.yml", 15),
        ("KDS004", "provider.iamRoleStatements[0]", f"{base}/serverless.yml", 12),
        ("KDS005", "provider.iamRoleStatements[0]", f"{base}/serverless.yml", 12),
    }
    audit = next(f for f in report["findings"] if f["resource"] == "AuditStream")
    assert 'opt:encryption (default: "NONE")' in audit["message"]


def test_good_service_gives_nothing():
    code, report = scan("examples/serverless/service-good")
    assert (code, report["findings"], diagnostics(report, "error")) == (0, [], set())


def test_fragment_named_alone_is_judged_with_its_service_and_only_its_findings_reported():
    code, report = scan("examples/serverless/service-bad/resources/streams.yml")
    base = "examples/serverless/service-bad"
    assert code == 1
    assert diagnostics(report, "error") == set()
    assert findings(report) == {
        ("KDS001", "OrdersStream", f"{base}/resources/streams.yml", 4),
        ("KDS001", "AuditStream", f"{base}/resources/streams.yml", 15),
    }


def test_service_named_alone_reports_its_fragments_too():
    code, report = scan("examples/serverless/service-bad/serverless.yml")
    assert code == 1
    assert {(r, a) for r, a, _, _ in findings(report)} == {
        ("KDS001", "OrdersStream"),
        ("KDS001", "AuditStream"),
        ("KDS004", "provider.iamRoleStatements[0]"),
        ("KDS005", "provider.iamRoleStatements[0]"),
    }


def test_service_recognized_by_content_without_functions_or_resources(tmp_path: Path):
    """Before: no ``Type: AWS::`` line, so the file was skipped and ``kinesis:*`` went unreported."""
    declare_organization_trail(tmp_path)
    (tmp_path / "app.yml").write_text(
        "service: legacy\n"
        "provider:\n"
        "  name: aws\n"
        "  iamRoleStatements:\n"
        "    - Effect: Allow\n"
        "      Action: 'kinesis:*'\n"
        "      Resource: '*'\n"
    )
    (tmp_path / "other.yml").write_text("service: not-a-service\nprovider: nothing\n")
    code, report = scan(str(tmp_path))
    assert code == 1
    assert diagnostics(report, "error") == set()
    assert findings(report) == {
        ("KDS004", "provider.iamRoleStatements[0]", str(tmp_path / "app.yml"), 5),
        ("KDS005", "provider.iamRoleStatements[0]", str(tmp_path / "app.yml"), 5),
    }


def test_json_service_and_provider_iam_role_statements(tmp_path: Path):
    declare_organization_trail(tmp_path)
    (tmp_path / "serverless.json").write_text(
        json.dumps(
            {
                "service": "j",
                "provider": {"name": "aws", "iam": {"role": {"statements": [
                    {"Effect": "Allow", "Action": "kinesis:GetRecords", "Resource": "arn:aws:kinesis:*:*:stream/*"}
                ]}}},
                "resources": {"Resources": {"T": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}}}},
            },
            indent=1,
        )
    )
    code, report = scan(str(tmp_path))
    path = str(tmp_path / "serverless.json")
    assert code == 1
    assert findings(report) == {
        ("KDS005", "provider.iam.role.statements[0]", path, 8),
        ("KDS001", "T", path, 19),
    }


def test_includes_outside_the_tree_absolute_or_missing_are_notes_and_unknown(tmp_path: Path):
    root = tmp_path / "service"
    root.mkdir()
    declare_organization_trail(root)
    (tmp_path / "outside.yml").write_text("Resources:\n  Out:\n    Type: AWS::Kinesis::Stream\n")
    (root / "serverless.yml").write_text(
        "service: s\n"
        "provider:\n"
        "  name: aws\n"
        "resources:\n"
        "  - ${file(../outside.yml)}\n"
        "  - ${file(/etc/hostname)}\n"
        "  - ${file(./missing.yml)}\n"
        "  - ${file(./handler.js):resources}\n"
    )
    code, report = scan(str(root))
    path = str(root / "serverless.yml")
    assert (code, report["findings"], diagnostics(report, "error")) == (0, [], set())
    assert diagnostics(report, "info") == {
        (path, 5, "${file(../outside.yml)}: ../outside.yml is outside the scanned tree; not read"),
        (path, 5, "${file(/etc/hostname)}: absolute paths are not read; what it includes is not checked"),
        (path, 5, "${file(./missing.yml)}: ./missing.yml does not exist; what it includes is not checked"),
        (path, 5, "${file(./handler.js):resources}: only YAML and JSON files are read (nothing is executed)"),
    }


def test_fragment_without_resources_key_is_not_a_broken_template(tmp_path: Path):
    declare_organization_trail(tmp_path)
    (tmp_path / "streams.yml").write_text(
        "Events:\n  Type: AWS::Kinesis::Stream\n  Properties:\n    ShardCount: 1\n"
    )
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\nresources:\n  Resources: ${file(./streams.yml)}\n"
    )
    code, report = scan(str(tmp_path))
    assert code == 1
    assert diagnostics(report, "error") == set()
    assert findings(report) == {("KDS001", "Events", str(tmp_path / "streams.yml"), 1)}


def test_other_providers_are_noted_not_checked(tmp_path: Path):
    (tmp_path / "serverless.yml").write_text("service: g\nprovider:\n  name: google\n")
    code, report = scan(str(tmp_path))
    path = str(tmp_path / "serverless.yml")
    assert (code, report["findings"]) == (0, [])
    assert diagnostics(report, "info") == {
        (path, 2, "Serverless Framework service for a provider other than aws; not checked")
    }


# --------------------------------------------------------------------------- the model


def _resource(model, address):
    [found] = [r for r in model.resources if r.address == address]
    return found


def test_variables_resolve_to_values_inputs_templates_and_unknowns(tmp_path: Path):
    (tmp_path / "serverless.yml").write_text(
        "service: orders\n"
        "provider:\n"
        "  name: aws\n"
        "  stage: ${opt:stage, 'dev'}\n"
        "  environment:\n"
        "    FROM_SELF: ${self:custom.streamName}\n"
        "    FROM_ENV: ${env:TABLE}\n"
        "    FROM_SSM: ${ssm:/orders/key}\n"
        "    NESTED: ${self:custom.${opt:stage, 'dev'}.arn}\n"
        "    REGION: ${aws:region}\n"
        "    LOOP: ${self:custom.a}\n"
        "custom:\n"
        "  streamName: ${self:service}-${self:provider.stage}-events\n"
        "  dev:\n"
        "    arn: arn:aws:kinesis:us-east-1:111122223333:stream/dev\n"
        "  a: ${self:custom.b}\n"
        "  b: ${self:custom.a}\n"
        "functions:\n"
        "  worker:\n"
        "    handler: h.main\n"
    )
    model = load_service(str(tmp_path / "serverless.yml"))
    worker = _resource(model, "functions.worker")
    assert worker.type == "AWS::Lambda::Function"
    variables = worker.attributes["Environment"]["Variables"]
    stage = FromInputs("dev", (variables["FROM_SELF"].parts[1].inputs[0],))
    assert variables["FROM_SELF"] == Template(("orders-", stage, "-events"))
    assert stage.inputs[0].describe() == 'opt:stage (default: "dev")'
    assert isinstance(variables["FROM_ENV"], FromInputs) and isinstance(variables["FROM_ENV"].value, Unknown)
    assert variables["FROM_ENV"].inputs[0].describe() == "env:TABLE (no default)"
    assert isinstance(variables["FROM_SSM"], Unknown)
    assert variables["NESTED"] == FromInputs("arn:aws:kinesis:us-east-1:111122223333:stream/dev", stage.inputs)
    assert variables["REGION"] == Unknown("AWS::Region")
    assert isinstance(variables["LOOP"], Unknown)
    role = worker.attributes["Role"]
    assert isinstance(role, Ref) and (role.target.address, role.attribute) == ("provider.iam.role", "Arn")


def test_generated_role_stream_event_and_custom_role(tmp_path: Path):
    (tmp_path / "serverless.yml").write_text(
        "service: s\n"
        "provider:\n"
        "  name: aws\n"
        "functions:\n"
        "  consumer:\n"
        "    handler: h.main\n"
        "    events:\n"
        "      - http: GET /\n"
        "      - stream: arn:aws:kinesis:us-east-1:111122223333:stream/events\n"
        "      - stream: arn:aws:dynamodb:us-east-1:111122223333:table/t/stream/x\n"
        "  own:\n"
        "    handler: h.main\n"
        "    role: OwnRole\n"
        "resources:\n"
        "  Resources:\n"
        "    OwnRole:\n"
        "      Type: AWS::IAM::Role\n"
    )
    model = load_service(str(tmp_path / "serverless.yml"))
    assert {(r.type, r.address) for r in model.resources} == {
        ("AWS::IAM::Role", "OwnRole"),
        ("AWS::IAM::Role", "provider.iam.role"),
        ("AWS::Lambda::Function", "functions.consumer"),
        ("AWS::Lambda::Function", "functions.own"),
        ("AWS::Lambda::EventSourceMapping", "functions.consumer.events[1]"),
    }
    role = _resource(model, "provider.iam.role")
    [policy] = role.attributes["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:ListStreams"],
            "Resource": ["arn:aws:kinesis:us-east-1:111122223333:stream/events"],
        }
    ]
    mapping = _resource(model, "functions.consumer.events[1]")
    assert (mapping.location.start_line, mapping.attributes["FunctionName"].target.address) == (9, "functions.consumer")
    own = _resource(model, "functions.own").attributes["Role"]
    assert (own.target.address, own.attribute) == ("OwnRole", "Arn")


@pytest.mark.parametrize("unit", sorted(os.listdir(SERVERLESS)))
def test_every_serverless_example_loads_without_errors(unit: str):
    code, report = scan(f"examples/serverless/{unit}")
    assert diagnostics(report, "error") == set()
    assert code == (0 if unit == "service-good" else 1)


def test_functions_included_from_a_file_are_reported_where_they_are_written(tmp_path: Path):
    declare_organization_trail(tmp_path)
    (tmp_path / "serverless.yml").write_text("service: f\nprovider:\n  name: aws\nfunctions:\n  - ${file(./functions.yml)}\n")
    (tmp_path / "functions.yml").write_text(
        "# included by serverless.yml\n"
        "producer:\n"
        "  handler: h.main\n"
        "  environment:\n"
        "    AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    )
    code, report = scan(str(tmp_path))
    assert (code, diagnostics(report, "error")) == (1, set())
    assert findings(report) == {("KDS012", "functions.producer", str(tmp_path / "functions.yml"), 4)}


def test_fragment_problems_point_at_the_fragment_and_framework_names_are_not_errors(tmp_path: Path):
    declare_organization_trail(tmp_path)
    (tmp_path / "resources").mkdir()
    (tmp_path / "serverless.yml").write_text(
        "service: m\n"
        "provider:\n"
        "  name: aws\n"
        "resources:\n"
        "  - ${file(./resources/streams.yml)}\n"
        "  - Resources:\n"
        "      Archive:\n"
        "        Type: AWS::S3::Bucket\n"
        "        Properties:\n"
        "          BucketName: !Sub '${ServerlessDeploymentBucket}-archive'\n"
    )
    (tmp_path / "resources" / "streams.yml").write_text(
        "Resources:\n"
        "  Events:\n"
        "    Type: AWS::Kinesis::Stream\n"
        "    Properties:\n"
        "      StreamEncryption:\n"
        "        EncryptionType: !Select [5, [KMS]]\n"
    )
    code, report = scan(str(tmp_path))
    fragment, service = str(tmp_path / "resources" / "streams.yml"), str(tmp_path / "serverless.yml")
    assert code == 2
    assert diagnostics(report, "error") == {(fragment, 6, "Fn::Select index 5 is out of range for a list of 1")}
    assert diagnostics(report, "info") == {
        (
            service,
            10,
            "Fn::Sub reference to ServerlessDeploymentBucket, which the service does not define "
            "(the framework may generate it); its value is not known",
        )
    }


def test_sub_keeps_cloudformation_variables_and_resolves_the_frameworks(tmp_path: Path):
    (tmp_path / "serverless.yml").write_text(
        "service: orders\n"
        "provider:\n"
        "  name: aws\n"
        "custom:\n"
        "  stage: ${opt:stage, 'dev'}\n"
        "resources:\n"
        "  Resources:\n"
        "    Events:\n"
        "      Type: AWS::Kinesis::Stream\n"
        "    Reader:\n"
        "      Type: AWS::IAM::Policy\n"
        "      Properties:\n"
        "        PolicyDocument:\n"
        "          Statement:\n"
        "            - Effect: Allow\n"
        "              Action: kinesis:GetRecords\n"
        "              Resource: !Sub 'arn:aws:kinesis:${AWS::Region}:${AWS::AccountId}:stream/${Events}-${self:service}-${self:custom.stage}'\n"
    )
    model = load_service(str(tmp_path / "serverless.yml"))
    assert [d for d in model.diagnostics if d.level == "error"] == []
    [statement] = _resource(model, "Reader").attributes["PolicyDocument"]["Statement"]
    parts = statement["Resource"].parts
    assert parts[:6] == ("arn:aws:kinesis:", Unknown("AWS::Region"), ":", Unknown("AWS::AccountId"), ":stream/", parts[5])
    assert isinstance(parts[5], Ref) and parts[5].target.address == "Events"
    assert parts[6] == "-orders-"
    stage = parts[7]
    assert isinstance(stage, FromInputs) and stage.value == "dev" and stage.inputs[0].name == "opt:stage"
    assert len(parts) == 8


def test_sections_included_whole_older_service_name_and_pseudo_parameters(tmp_path: Path):
    """``custom: ${file(./custom.yml)}`` is read through for ``${self:custom.x}``; the older
    ``service: {name: x}``; ``#{AWS::Region}`` of the serverless-pseudo-parameters plugin."""
    (tmp_path / "custom.yml").write_text("stage: prod\n")
    (tmp_path / "serverless.yml").write_text(
        "service:\n"
        "  name: orders\n"
        "custom: ${file(./custom.yml)}\n"
        "provider:\n"
        "  name: aws\n"
        "  iamRoleStatements:\n"
        "    - Effect: Allow\n"
        "      Action: kinesis:PutRecord\n"
        "      Resource: 'arn:aws:kinesis:#{AWS::Region}:#{AWS::AccountId}:stream/${self:service}-${self:custom.stage}'\n"
    )
    model = load_service(str(tmp_path / "serverless.yml"))
    assert model.diagnostics == []
    [statement] = _resource(model, "provider.iamRoleStatements[0]").attributes["PolicyDocument"]["Statement"]
    assert statement["Resource"] == Template(
        ("arn:aws:kinesis:", Unknown("AWS::Region"), ":", Unknown("AWS::AccountId"), ":stream/orders-prod")
    )


def test_an_include_outside_the_tree_is_noted_once_where_it_is_written(tmp_path: Path):
    (tmp_path / "shared.yml").write_text("stage: prod\n")
    service = tmp_path / "service"
    service.mkdir()
    (service / "serverless.yml").write_text(
        "service: s\n"
        "custom: ${file(../shared.yml)}\n"
        "provider:\n"
        "  name: aws\n"
        "  stage: ${self:custom.stage}\n"
        "  environment:\n"
        "    STAGE: ${self:custom.stage}\n"
        "functions:\n"
        "  f:\n"
        "    handler: h.f\n"
    )
    model = load_service(str(service / "serverless.yml"))
    assert [(d.level, d.line, d.message) for d in model.diagnostics] == [
        ("info", 2, "${file(../shared.yml)}: ../shared.yml is outside the scanned tree; not read")
    ]
    assert isinstance(_resource(model, "functions.f").attributes["Environment"]["Variables"]["STAGE"], Unknown)


def test_include_cycles_and_bad_fragment_entries_are_reported_in_the_fragment(tmp_path: Path):
    declare_organization_trail(tmp_path)
    (tmp_path / "serverless.yml").write_text("service: c\nprovider:\n  name: aws\nresources:\n  - ${file(./a.yml)}\n")
    (tmp_path / "a.yml").write_text("Resources:\n  X: ${file(./b.yml)}\n")
    (tmp_path / "b.yml").write_text("- ${file(./a.yml)}\n")
    code, report = scan(str(tmp_path))
    a, b = str(tmp_path / "a.yml"), str(tmp_path / "b.yml")
    assert code == 2
    assert diagnostics(report, "error") == {(a, 2, "resource X is not a mapping")}
    assert diagnostics(report, "info") == {(b, 1, "${file(./a.yml)}: ./a.yml includes itself; what it includes is not checked")}


def test_variables_that_repeat_variables_do_not_grow_without_bound(tmp_path: Path):
    """Each level names the next twice: 2**depth values once expanded. Refused as unknown."""
    declare_organization_trail(tmp_path)
    levels = "".join(f"  t{i}: ${{self:custom.t{i + 1}}}-${{self:custom.t{i + 1}}}\n" for i in range(3000))
    levels += "".join(f'  l{i}: ["${{self:custom.l{i + 1}}}", "${{self:custom.l{i + 1}}}"]\n' for i in range(3000))
    (tmp_path / "serverless.yml").write_text(
        "service: h\nprovider:\n  name: aws\ncustom:\n" + levels + "  t3000: end\n  l3000: end\n"
        "functions:\n  f:\n    handler: h\n    environment:\n      TEXT: ${self:custom.t0}\n      LIST: ${self:custom.l0}\n"
    )
    code, report = scan(str(tmp_path))  # the subprocess timeout is the hang guard
    assert (code, report["findings"], diagnostics(report, "error")) == (0, [], set())
    model = load_service(str(tmp_path / "serverless.yml"))
    variables = _resource(model, "functions.f").attributes["Environment"]["Variables"]
    assert variables["TEXT"] == Unknown("a text built from variables is too large to hold")


def test_statements_no_function_runs_with_are_noted_not_judged(tmp_path: Path):
    """The framework creates its role only for functions without one of their own."""
    declare_organization_trail(tmp_path)
    (tmp_path / "serverless.yml").write_text(
        "service: r\n"
        "provider:\n"
        "  name: aws\n"
        "  iamRoleStatements:\n"
        "    - Effect: Allow\n"
        "      Action: kinesis:*\n"
        "      Resource: '*'\n"
        "functions:\n"
        "  a:\n"
        "    handler: h.a\n"
        "    role: arn:aws:iam::111122223333:role/external\n"
    )
    code, report = scan(str(tmp_path))
    assert (code, report["findings"], diagnostics(report, "error")) == (0, [], set())
    assert diagnostics(report, "info") == {
        (
            str(tmp_path / "serverless.yml"),
            5,
            "provider.iamRoleStatements: every function has a role of its own, so the framework creates "
            "no role for these; not checked",
        )
    }


def test_stage_parameters_default_from_params_default(tmp_path: Path):
    (tmp_path / "serverless.yml").write_text(
        "service: s\n"
        "params:\n"
        "  default:\n"
        "    account: '444455556666'\n"
        "provider:\n"
        "  name: aws\n"
        "  environment:\n"
        "    ACCOUNT: ${param:account}\n"
        "    OTHER: ${param:other}\n"
        "functions:\n"
        "  f:\n"
        "    handler: h.f\n"
    )
    model = load_service(str(tmp_path / "serverless.yml"))
    variables = _resource(model, "functions.f").attributes["Environment"]["Variables"]
    assert variables["ACCOUNT"].value == "444455556666"
    assert variables["ACCOUNT"].inputs[0].describe() == 'param:account (default: "444455556666")'
    assert variables["OTHER"].inputs[0].describe() == "param:other (no default)"


def test_skip_comments_in_functions_and_above_statements(tmp_path: Path):
    declare_organization_trail(tmp_path)
    (tmp_path / "serverless.yml").write_text(
        "service: r\n"
        "provider:\n"
        "  name: aws\n"
        "  iamRoleStatements:\n"
        "    # checkov:skip=CKV_KDS_5:the stream list is public knowledge\n"
        "    - Effect: Allow\n"
        "      Action: kinesis:ListShards\n"
        "      Resource: '*'\n"
        "functions:\n"
        "  a:\n"
        "    handler: h.a\n"
        "    # checkov:skip=CKV_KDS_12: keys of the local emulator\n"
        "    environment:\n"
        "      AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE\n"
        "      AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    )
    code, report = scan(str(tmp_path))
    assert code == 0
    assert {(f["rule_id"], f["resource"], f["suppressed"], f["suppression_reason"]) for f in report["findings"]} == {
        ("KDS005", "provider.iamRoleStatements[0]", True, "the stream list is public knowledge"),
        ("KDS012", "functions.a", True, "keys of the local emulator"),
    }


def test_role_statements_included_from_files_are_reported_where_they_are_written(tmp_path: Path):
    declare_organization_trail(tmp_path)
    (tmp_path / "iam").mkdir()
    (tmp_path / "serverless.yml").write_text(
        "service: s\n"
        "provider:\n"
        "  name: aws\n"
        "  iam:\n"
        "    role:\n"
        "      statements:\n"
        "        - ${file(./iam/kinesis.yml)}\n"
        "        - ${file(./iam/one.yml)}\n"
        "functions:\n"
        "  f:\n"
        "    handler: h.f\n"
    )
    (tmp_path / "iam" / "kinesis.yml").write_text(
        "- Effect: Allow\n  Action: kinesis:GetRecords\n  Resource: !GetAtt Missing.Arn\n"
        "- Effect: Allow\n  Action: 'kinesis:*'\n  Resource: '*'\n"
    )
    (tmp_path / "iam" / "one.yml").write_text("Effect: Allow\nNotAction: kinesis:Get*\nResource: '*'\n")
    code, report = scan(str(tmp_path))
    kinesis, one = str(tmp_path / "iam" / "kinesis.yml"), str(tmp_path / "iam" / "one.yml")
    assert (code, diagnostics(report, "error")) == (1, set())
    assert findings(report) == {
        ("KDS004", "provider.iam.role.statements[1]", kinesis, 4),
        ("KDS005", "provider.iam.role.statements[1]", kinesis, 4),
        ("KDS007", "provider.iam.role.statements[2]", one, 1),
    }
    assert diagnostics(report, "info") == {
        (kinesis, 3, "Fn::GetAtt to Missing, which the service does not define (the framework may generate it); its value is not known")
    }
