"""CloudFormation templates (YAML, JSON, CDK-synthesized) into the model: values, edges, lines.

SAM expansion has its own tests in test_sam.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kds_iac.loaders.cloudformation import load_template
from kds_iac.model import (
    CLOUDFORMATION,
    Condition,
    Conditional,
    Diagnostic,
    FromInputs,
    Input,
    Location,
    Model,
    Ref,
    Template,
    Unknown,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "cloudformation"


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def plain(value: Any) -> Any:
    """Model values as comparable tuples: edges by address, inputs and conditions by name."""
    if isinstance(value, Ref):
        return ("Ref", value.target.address, value.attribute)
    if isinstance(value, FromInputs):
        return ("FromInputs", plain(value.value), tuple(i.name for i in value.inputs))
    if isinstance(value, Unknown):
        return ("Unknown", value.reason)
    if isinstance(value, Template):
        return ("Template",) + tuple(plain(part) for part in value.parts)
    if isinstance(value, Conditional):
        return ("If", plain(value.condition), plain(value.when_true), plain(value.when_false))
    if isinstance(value, Condition):
        return (value.name, value.default, tuple(i.name for i in value.inputs))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def by_address(model: Model) -> dict:
    return {r.address: r for r in model.resources}


def errors(model: Model) -> list[Diagnostic]:
    return [d for d in model.diagnostics if d.level == "error"]


# -- intrinsic functions ----------------------------------------------------------------


def snapshot(model: Model) -> list:
    return [
        (
            r.type,
            r.address,
            plain(r.attributes),
            (r.location.start_line, r.location.end_line, r.location.column),
            r.attribute_lines,
            plain(r.condition),
            r.skips,
            r.construct_path,
        )
        for r in model.resources
    ]


def test_short_and_long_forms_give_identical_models():
    short = load_template(fixture("intrinsics-short.yaml"))
    long = load_template(fixture("intrinsics-long.yaml"))
    assert short.diagnostics == [] and long.diagnostics == []
    assert snapshot(short) == snapshot(long)
    assert len(short.resources) == 2


def test_intrinsics_become_model_values():
    model = load_template(fixture("intrinsics-short.yaml"))
    stream = by_address(model)["Stream"]
    env = ("FromInputs", "prod", ("Env",))
    assert plain(stream.attributes) == {
        "Name": ("Template", env, "-events-", ("Unknown", "AWS::Region")),
        "ShardCount": ("FromInputs", 4, ("Env",)),
        "RetentionPeriodHours": ("FromInputs", ("Unknown", "parameter Retention has no default"), ("Retention",)),
        "StreamEncryption": (
            "If",
            ("HasKey", False, ("KeyArn",)),
            {"EncryptionType": "KMS", "KeyId": ("FromInputs", "", ("KeyArn",))},
            None,
        ),
        "Tags": [
            {"Key": "key", "Value": ("Ref", "Key", "Arn")},
            {"Key": "joined", "Value": ("Template", env, "-b-eA==")},
            {"Key": "imported", "Value": ("Unknown", "Fn::ImportValue shared-key-arn")},
            {"Key": "prod-with-key", "Value": ("If", ("ProdWithKey", False, ("Env", "KeyArn")), "yes", "no")},
            {"Key": "list-form", "Value": ("Ref", "Key", "KeyId")},
            {
                "Key": "sub-list",
                "Value": (
                    "Template",
                    "arn:",
                    ("Unknown", "AWS::Partition"),
                    ":kinesis:",
                    ("Unknown", "AWS::Region"),
                    ":",
                    ("Unknown", "AWS::AccountId"),
                    ":stream/",
                    env,
                ),
            },
            {"Key": "azs", "Value": ("Unknown", "Fn::Select from a list known only at deployment")},
            {"Key": "cidr", "Value": "10.0.1.0/24"},
        ],
    }
    # Edges are the resource objects themselves, not names.
    assert stream.attributes["Tags"][0]["Value"].target is by_address(model)["Key"]


def test_resource_and_property_lines():
    model = load_template(fixture("intrinsics-short.yaml"))
    key, stream = model.resources
    path = fixture("intrinsics-short.yaml")
    assert key.location == Location(path, 25, 28, 3)
    assert key.attribute_lines == {"EnableKeyRotation": 28}
    assert stream.location == Location(path, 30, 53, 3)
    assert stream.attribute_lines == {
        "Name": 33,
        "ShardCount": 34,
        "RetentionPeriodHours": 35,
        "StreamEncryption": 36,
        "Tags": 37,
    }
    assert stream.source_format == CLOUDFORMATION
    assert stream.unit == path
    assert model.files == [path]


def test_parameter_inputs_keep_default_and_location():
    model = load_template(fixture("intrinsics-short.yaml"))
    stream = by_address(model)["Stream"]
    path = fixture("intrinsics-short.yaml")
    assert stream.attributes["RetentionPeriodHours"] == FromInputs(
        Unknown("parameter Retention has no default"),
        (Input("parameter", "Retention", None, False, Location(path, 11, 12)),),
    )
    key_id = stream.attributes["StreamEncryption"].when_true["KeyId"]
    assert key_id == FromInputs("", (Input("parameter", "KeyArn", "", True, Location(path, 5, 7)),))


def test_parameters_pseudo_parameters_and_dynamic_references():
    model = load_template(fixture("values.yaml"))
    assert model.diagnostics == []
    resources = by_address(model)
    orders = resources["Orders"]
    assert plain(orders.attributes) == {
        "Name": ("FromInputs", "orders", ("StreamNames",)),
        "ShardCount": 1,
        "StreamModeDetails": {"StreamMode": "PROVISIONED"},
        "StreamEncryption": {
            "EncryptionType": "KMS",
            "KeyId": ("FromInputs", ("Unknown", "parameter NoDefaultKey has no default"), ("NoDefaultKey",)),
        },
    }
    assert "RetentionPeriodHours" not in orders.attributes  # AWS::NoValue: absent
    assert orders.attribute_lines == {"Name": 38, "ShardCount": 39, "StreamModeDetails": 41, "StreamEncryption": 44}

    from_ssm = resources["FromSsm"]
    ssm_key = from_ssm.attributes["StreamEncryption"]["KeyId"]
    assert ssm_key.value == Unknown("parameter LatestKeyFromSsm is read from SSM Parameter Store at deployment")
    assert [(i.name, i.default, i.has_default) for i in ssm_key.inputs] == [
        ("LatestKeyFromSsm", "/streams/key-arn", True)
    ]
    assert plain(from_ssm.attributes["Tags"]) == [
        {"Key": "dynamic", "Value": ("Unknown", "dynamic reference {{resolve:ssm:/streams/owner}}")},
        {
            "Key": "secret-in-text",
            "Value": (
                "Template",
                "owner=",
                ("Unknown", "dynamic reference {{resolve:secretsmanager:owner:SecretString:name}}"),
                ";",
            ),
        },
        {"Key": "region", "Value": ("Unknown", "AWS::Region")},
        {"Key": "partition", "Value": ("Unknown", "AWS::Partition")},
        {"Key": "suffix", "Value": ("Unknown", "AWS::URLSuffix")},
        ("If", ("UseKey", False, ("KmsKeyArn",)), {"Key": "key", "Value": ("FromInputs", "", ("KmsKeyArn",))}, None),
    ]


def test_conditions_are_decided_under_parameter_defaults():
    resources = by_address(load_template(fixture("values.yaml")))
    assert plain(resources["Orders"].condition) == ("InEurope", True, ("Region",))
    undecided = resources["Undecided"]
    # Or(UseKey=false, NoDefaultKey == "x" -> cannot be decided) cannot be decided.
    assert plain(undecided.condition) == ("NeedsKey", None, ("KmsKeyArn", "NoDefaultKey"))
    assert plain(undecided.attributes) == {
        "Name": ("If", ("InThisRegion", None, ()), "here", "there"),
        # Or(InEurope=true, undecidable) is true.
        "Tags": [{"Key": "either", "Value": ("If", ("Either", True, ("Region",)), "yes", "no")}],
    }
    assert resources["FromSsm"].condition is None


def test_checkov_skip_metadata():
    resources = by_address(load_template(fixture("values.yaml")))
    assert resources["Orders"].skips == {"CKV_KDS_1": "Test data only", "KDS002": ""}
    assert resources["FromSsm"].skips == {}


def test_tab_indented_json_with_properties_before_type():
    model = load_template(fixture("tab-indented.json"))
    assert model.diagnostics == []
    stream, key = model.resources
    path = fixture("tab-indented.json")
    assert (stream.type, stream.address, stream.location) == ("AWS::Kinesis::Stream", "Stream", Location(path, 4, 13, 3))
    assert stream.attribute_lines == {"ShardCount": 6, "StreamEncryption": 7}
    assert plain(stream.attributes) == {
        "ShardCount": 2,
        "StreamEncryption": {"EncryptionType": "KMS", "KeyId": ("Ref", "Key", "Arn")},
    }
    assert stream.attributes["StreamEncryption"]["KeyId"].target is key
    assert key.location == Location(path, 14, 20, 3)
    assert plain(key.attributes) == {"EnableKeyRotation": True, "Description": ("Template", "key for ", ("Ref", "Stream", None))}


def test_cdk_synthesized_template():
    model = load_template(fixture("cdk-synth.template.json"))
    assert model.diagnostics == []
    resources = by_address(model)
    assert list(resources) == ["EventsKey0E4A1D2B", "EventsStream5D1E7A3C", "CDKMetadata"]
    assert {a: r.construct_path for a, r in resources.items()} == {
        "EventsKey0E4A1D2B": "EventsStack/EventsKey/Resource",
        "EventsStream5D1E7A3C": "EventsStack/EventsStream/Resource",
        "CDKMetadata": "EventsStack/CDKMetadata/Default",
    }
    stream = resources["EventsStream5D1E7A3C"]
    assert plain(stream.attributes["StreamEncryption"]) == {
        "EncryptionType": "KMS",
        "KeyId": ("Ref", "EventsKey0E4A1D2B", "Arn"),
    }
    assert (stream.location.start_line, stream.location.end_line) == (42, 60)
    principal = resources["EventsKey0E4A1D2B"].attributes["KeyPolicy"]["Statement"][0]["Principal"]["AWS"]
    assert plain(principal) == (
        "Template",
        "arn:",
        ("Unknown", "AWS::Partition"),
        ":iam::",
        ("Unknown", "AWS::AccountId"),
        ":root",
    )
    # Depends on the deployment region only: cannot be decided.
    assert plain(resources["CDKMetadata"].condition) == ("CDKMetadataAvailable", None, ())


def test_reference_order_does_not_matter():
    # tab-indented.json refers forward (Stream -> Key) and backward (Key -> Stream).
    stream, key = load_template(fixture("tab-indented.json")).resources
    assert stream.attributes["StreamEncryption"]["KeyId"].target is key
    assert key.attributes["Description"].parts[1].target is stream


# -- bad input: one error diagnostic at the right line, never an exception ------------


@pytest.mark.parametrize(
    "name,line,message",
    [
        ("bad-syntax.yaml", 7, "YAML syntax error: while parsing a block mapping (line 4): did not find expected key"),
        ("bad-syntax.json", 6, "JSON syntax error: while parsing a flow mapping (line 4): did not find expected ',' or '}'"),
        ("alias-bomb.yaml", 8, "YAML aliases expand to more than 100000 values (an alias bomb?); not loaded"),
        ("not-a-template.yaml", 1, "not a CloudFormation template: no Resources mapping"),
    ],
)
def test_unreadable_files_give_one_error_and_no_resources(name, line, message):
    model = load_template(fixture(name))
    assert [(d.level, d.line, d.message) for d in model.diagnostics] == [("error", line, message)]
    assert model.resources == []
    assert model.files == [fixture(name)]


def test_resource_without_type_is_reported_and_the_others_load():
    model = load_template(fixture("no-type.yaml"))
    assert [(d.level, d.line, d.message, d.column) for d in model.diagnostics] == [
        ("error", 8, "resource Typeless has no Type", 3)
    ]
    assert [r.address for r in model.resources] == ["Stream"]


def test_duplicate_key_is_an_error_and_the_last_value_is_used():
    model = load_template(fixture("duplicate-keys.yaml"))
    assert [(d.level, d.line, d.column, d.message) for d in model.diagnostics] == [
        ("error", 10, 7, "duplicate key 'ShardCount' (first at line 6); the last one is used")
    ]
    (stream,) = model.resources
    assert stream.attributes["ShardCount"] == 2
    assert stream.attribute_lines["ShardCount"] == 10


def test_reference_to_a_missing_logical_id():
    model = load_template(fixture("missing-ref.yaml"))
    assert [(d.level, d.line, d.message) for d in model.diagnostics] == [
        ("error", 9, "Fn::GetAtt to StreamKey, which is neither a parameter nor a resource of this template")
    ]
    (stream,) = model.resources
    assert stream.attributes["StreamEncryption"]["KeyId"] == Unknown("StreamKey is not defined in this template")


def test_non_utf8_bytes(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(
        b"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  S:\n    Type: AWS::Kinesis::Stream\n"
        b"    Properties:\n      Name: caf\xe9\n"
    )
    model = load_template(str(path))
    assert [(d.level, d.line, d.column) for d in model.diagnostics] == [("error", 6, 16)]
    assert model.diagnostics[0].message == "not UTF-8 text: byte 0xe9 cannot be decoded (invalid continuation byte)"
    assert model.resources == []


def test_very_deep_nesting(tmp_path):
    lines = ["{", '"Resources": {', '"S": {', '"Type": "AWS::Kinesis::Stream",', '"Properties": {"Tags":']
    lines += ["["] * 200 + ["1"] + ["]"] * 200 + ["}}}}"]
    path = tmp_path / "deep.json"
    path.write_text("\n".join(lines) + "\n")
    model = load_template(str(path))
    # Root, Resources, S, Properties are levels 1-4; the 97th "[" (line 102) is level 101.
    assert [(d.level, d.line, d.message) for d in model.diagnostics] == [
        ("error", 102, "nested more than 100 levels deep; not loaded")
    ]


@pytest.mark.parametrize(
    "text,line,message",
    [
        ("", 1, "not a CloudFormation template: the document is not a mapping"),
        ("just a string\n", 1, "not a CloudFormation template: the document is not a mapping"),
        ("Resources:\n  - a\n", 1, "not a CloudFormation template: no Resources mapping"),
        ("Resources:\n  S: just text\n", 2, "resource S is not a mapping"),
        ("Resources:\n  S:\n    Type: [a]\n", 3, "resource S has a Type that is not a string"),
        ("Resources:\n  S:\n    Type: AWS::SNS::Topic\n    Properties: text\n", 4, "resource S: Properties is not a mapping"),
        ("Resources:\n  S:\n    Type: AWS::SNS::Topic\n    Properties:\n      A: !If [Nope, 1, 2]\n", 5,
         "condition Nope is not defined in the Conditions section"),
        ("Resources:\n  S:\n    Type: AWS::SNS::Topic\n    Properties:\n      A: !Sub '${Nope}'\n", 5,
         "Fn::Sub reference to Nope, which is neither a parameter nor a resource of this template"),
        ("a: 1\n---\nb: 2\n", 2, "YAML syntax error: expected a single document in the stream (line 1): but found another document"),
    ],
)
def test_malformed_templates_never_raise(tmp_path, text, line, message):
    path = tmp_path / "t.yaml"
    path.write_text(text)
    model = load_template(str(path))
    assert [(d.level, d.line, d.message) for d in model.diagnostics] == [("error", line, message)]


def test_a_bad_file_does_not_affect_the_others():
    pytest.importorskip("kds_iac.loaders.terraform")
    from kds_iac.loaders import load

    model = load([fixture("bad-syntax.yaml"), fixture("tab-indented.json")])
    assert [(d.file, d.line) for d in model.diagnostics] == [(fixture("bad-syntax.yaml"), 7)]
    assert [r.address for r in model.resources] == ["Stream", "Key"]


# -- speed and imports -----------------------------------------------------------------


def _big_template(streams: int) -> str:
    out = ['AWSTemplateFormatVersion: "2010-09-09"', "Parameters:", "  KeyArn:", "    Type: String",
           '    Default: ""', "Conditions:", '  HasKey: !Not [!Equals [!Ref KeyArn, ""]]', "Resources:"]
    for i in range(streams):
        out += [
            f"  Stream{i}:",
            "    Type: AWS::Kinesis::Stream",
            "    Properties:",
            "      ShardCount: 1",
            f'      Name: !Sub "${{AWS::StackName}}-stream-{i}"',
            "      StreamEncryption: !If [HasKey, {EncryptionType: KMS, KeyId: !Ref KeyArn}, !Ref AWS::NoValue]",
            "      Tags:",
            "        - Key: team",
            "          Value: data",
            f"  Policy{i}:",
            "    Type: AWS::IAM::ManagedPolicy",
            "    Properties:",
            "      PolicyDocument:",
            '        Version: "2012-10-17"',
            "        Statement:",
            "          - Effect: Allow",
            "            Action: [kinesis:GetRecords, kinesis:GetShardIterator]",
            f"            Resource: !GetAtt Stream{i}.Arn",
        ]
    return "\n".join(out) + "\n"


def test_a_large_template_loads_completely(tmp_path):
    """Size, not speed, is asserted here; speed is measured in benchmarks/."""
    path = tmp_path / "big.yaml"
    path.write_text(_big_template(280))  # ~5,000 lines
    model = load_template(str(path))
    assert len(model.resources) == 560 and model.diagnostics == []
    last = model.resources[-1]
    assert last.location.end_line == len(path.read_text().splitlines())


def test_loading_plain_cloudformation_imports_neither_cfnlint_nor_samtranslator():
    code = (
        "import sys\n"
        "from kds_iac.loaders.cloudformation import load_template\n"
        f"model = load_template({fixture('intrinsics-short.yaml')!r})\n"
        "assert model.resources and not model.diagnostics\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('cfnlint', 'samtranslator', 'boto3', 'checkov'))\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("section", ["Parameters", "Mappings", "Conditions", "Outputs"])
def test_a_section_that_is_not_a_mapping_is_an_error_at_its_line(tmp_path, section):
    path = tmp_path / "t.yaml"
    path.write_text(
        f'AWSTemplateFormatVersion: "2010-09-09"\n{section}: not a mapping\n'
        "Resources:\n  S:\n    Type: AWS::Kinesis::Stream\n"
    )
    model = load_template(str(path))
    assert model.diagnostics == [
        Diagnostic("error", str(path), 2, f"{section} is not a mapping; CloudFormation rejects the template")
    ]
    assert [r.address for r in model.resources] == ["S"]


def test_attribute_lines_are_those_of_the_properties_kept(tmp_path):
    # all kept: the lines of every property; one dropped (AWS::NoValue) or a Fn::Transform
    # key: the others' lines only
    path = tmp_path / "lines.yaml"
    path.write_text(
        """\
Resources:
  Kept:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
      StreamEncryption: {EncryptionType: KMS, KeyId: alias/aws/kinesis}
  Dropped:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
      Name: !Ref AWS::NoValue
      RetentionPeriodHours: 24
  Included:
    Type: AWS::Kinesis::Stream
    Properties:
      Fn::Transform: {Name: AWS::Include, Parameters: {Location: s3://bucket/x.yaml}}
      ShardCount: 2
"""
    )
    model = load_template(str(path))
    lines = {r.address: r.attribute_lines for r in model.resources}
    assert lines == {
        "Kept": {"ShardCount": 5, "StreamEncryption": 6},
        "Dropped": {"ShardCount": 10, "RetentionPeriodHours": 12},
        "Included": {"ShardCount": 17},
    }


def _templates() -> list[str]:
    root = FIXTURES.parent.parent.parent
    return sorted(
        str(path)
        for folder in (root / "examples" / "cloudformation", FIXTURES)
        for path in folder.rglob("*")
        if path.suffix in (".yaml", ".yml", ".json", ".template") and path.is_file()
    )


def test_no_resource_keeps_what_it_had_before_it_was_filled():
    # pass 1 gives every resource one shared placeholder; each must get its own in pass 2
    from kds_iac.loaders import cloudformation

    templates = _templates()
    assert len(templates) > 20
    left = []
    for path in templates:
        resources = load_template(path).resources
        for resource in resources + [r.origin for r in resources if r.origin is not None]:
            if any(value is cloudformation._UNFILLED for value in (resource.attributes, resource.attribute_lines, resource.skips)):
                left.append((path, resource.address))
    assert left == []
    assert cloudformation._UNFILLED == {}
