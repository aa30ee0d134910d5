"""AWS::LanguageExtensions: Fn::ForEach expansion, Fn::Length, Fn::ToJsonString, FindInMap DefaultValue."""

from __future__ import annotations

from kds_iac.loaders.cloudformation import load_template
from kds_iac.model import Diagnostic, FromInputs, Ref, Template, Unknown
from tests.conftest import EXAMPLES


def load(tmp_path, text: str):
    path = tmp_path / "t.yaml"
    path.write_text(text)
    return str(path), load_template(str(path))


def by_address(model):
    return {r.address: r for r in model.resources}


LOOPS = """\
Transform: AWS::LanguageExtensions
Parameters:
  Names:
    Type: CommaDelimitedList
    Default: "a-1, b.2"
  Free:
    Type: String
Resources:
  Key:
    Type: AWS::KMS::Key
  Fn::ForEach::Literal:
    - Name
    - [Clicks, Orders]
    - Stream${Name}:
        Type: AWS::Kinesis::Stream
        Properties:
          Name: !Sub "${Name}-stream"
          Tags:
            - {Key: stream, Value: !Ref Name}
          StreamEncryption: {EncryptionType: KMS, KeyId: !GetAtt Key.Arn}
  Fn::ForEach::FromParameter:
    - Name
    - !Ref Names
    - Topic&{Name}:
        Type: AWS::SNS::Topic
        Properties:
          TopicName: ${Name}
  Fn::ForEach::Outer:
    - Env
    - [dev, prod]
    - Fn::ForEach::Inner:
        - Part
        - [a, b]
        - Queue${Env}${Part}:
            Type: AWS::SQS::Queue
  Fn::ForEach::Unknown:
    - Name
    - !Split [",", !Ref Free]
    - Tenant${Name}:
        Type: AWS::Kinesis::Stream
        Properties:
          Name: !Sub tenant-${Name}
          RetentionPeriodHours: !Ref Name
Outputs:
  Fn::ForEach::Arns:
    - Name
    - [Clicks]
    - ${Name}Arn:
        Value: !GetAtt Stream${Name}.Arn
"""


def test_loops_expand_over_known_collections_with_the_lines_of_the_loop(tmp_path):
    path, model = load(tmp_path, LOOPS)
    assert model.diagnostics == []
    resources = by_address(model)
    assert set(resources) == {
        "Key", "StreamClicks", "StreamOrders", "Topica1", "Topicb2",
        "Queuedeva", "Queuedevb", "Queueproda", "Queueprodb", "Tenant${Name}",
    }
    clicks = resources["StreamClicks"]
    assert (clicks.location.start_line, clicks.location.end_line) == (14, 20)
    assert resources["StreamOrders"].location == clicks.location
    assert clicks.attributes["Name"] == "Clicks-stream"
    assert clicks.attributes["Tags"] == [{"Key": "stream", "Value": "Clicks"}]
    key_id = clicks.attributes["StreamEncryption"]["KeyId"]
    assert isinstance(key_id, Ref) and key_id.target is resources["Key"]
    # &{Name} drops what is not alphanumeric from the key; ${Name} in values keeps it
    assert resources["Topica1"].attributes == {"TopicName": "a-1"}
    assert resources["Topicb2"].attributes == {"TopicName": "b.2"}
    [output] = model.outputs
    assert output.address == "Outputs.ClicksArn"
    assert isinstance(output.attributes["Value"], Ref) and output.attributes["Value"].target is clicks


def test_a_loop_over_a_collection_known_only_at_deployment_is_one_instance_with_the_identifier_unknown(tmp_path):
    path, model = load(tmp_path, LOOPS)
    tenant = by_address(model)["Tenant${Name}"]
    unknown = Unknown("Name of Fn::ForEach::Unknown, whose collection is known only at deployment")
    assert tenant.attributes == {"Name": Template(("tenant-", unknown)), "RetentionPeriodHours": unknown}
    assert tenant.location.start_line == 39


def test_malformed_loops_are_errors_at_their_line(tmp_path):
    path, model = load(tmp_path, """\
Transform: AWS::LanguageExtensions
Resources:
  Fn::ForEach::Short:
    - Name
    - [a]
  Fn::ForEach::NoIdentifierInKey:
    - Name
    - [a, b]
    - Fixed:
        Type: AWS::SNS::Topic
  Topic:
    Type: AWS::SNS::Topic
""")
    assert model.diagnostics == [
        Diagnostic("error", path, 3, "Fn::ForEach::Short needs [identifier, collection, {output key: value}]"),
        Diagnostic("error", path, 9, "Fn::ForEach::NoIdentifierInKey: output key Fixed does not use ${Name} or &{Name}"),
        Diagnostic("error", path, 9, "Fn::ForEach: Fixed is defined twice"),
    ]
    assert set(by_address(model)) == {"Fixed", "Topic"}


def test_without_the_transform_loops_are_not_expanded(tmp_path):
    path, model = load(tmp_path, "Resources:\n  Fn::ForEach::L:\n    - N\n    - [a]\n    - T${N}:\n        Type: AWS::SNS::Topic\n")
    assert model.diagnostics == [Diagnostic("error", path, 2, "resource Fn::ForEach::L is not a mapping", 3)]


FUNCTIONS = """\
Transform: AWS::LanguageExtensions
Parameters:
  Env:
    Type: String
    Default: dev
  Shards:
    Type: CommaDelimitedList
    Default: a,b,c
Mappings:
  Encryption:
    prod: {Type: KMS}
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: {"Fn::Length": !Ref Shards}
      Literal: !Length [1, 2]
      Json: !ToJsonString {b: [1, true], a: "x"}
      JsonList: !ToJsonString [{k: v}]
      JsonUnknown: !ToJsonString {k: !Ref AWS::Region}
      StreamEncryption:
        EncryptionType: !FindInMap [Encryption, !Ref Env, Type, {DefaultValue: NONE}]
      Found: !FindInMap [Encryption, prod, Type, {DefaultValue: NONE}]
"""


def test_length_to_json_string_and_find_in_map_default_value(tmp_path):
    path, model = load(tmp_path, FUNCTIONS)
    assert model.diagnostics == []
    attributes = by_address(model)["Stream"].attributes
    assert attributes["ShardCount"].value == 3 and [i.name for i in attributes["ShardCount"].inputs] == ["Shards"]
    assert attributes["Literal"] == 2
    assert attributes["Json"] == '{"b":[1,true],"a":"x"}'
    assert attributes["JsonList"] == '[{"k":"v"}]'
    assert attributes["JsonUnknown"] == Unknown("Fn::ToJsonString of a value known only at deployment")
    encryption = attributes["StreamEncryption"]["EncryptionType"]
    assert isinstance(encryption, FromInputs) and encryption.value == "NONE" and [i.name for i in encryption.inputs] == ["Env"]
    assert attributes["Found"] == "KMS"


def test_malformed_language_extension_functions_are_errors(tmp_path):
    path, model = load(tmp_path, """\
Transform: AWS::LanguageExtensions
Mappings:
  M:
    k: {v: x}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      A: !FindInMap [M, k, v, {Default: y}]
      B: !ToJsonString text
      C: !Length text
""")
    assert model.diagnostics == [
        Diagnostic("error", path, 9, "Fn::FindInMap: the fourth argument must be {DefaultValue: value}"),
        Diagnostic("error", path, 10, "Fn::ToJsonString: Fn::ToJsonString needs a mapping or a list"),
        Diagnostic("error", path, 11, "Fn::Length: Fn::Length needs a list"),
    ]


def test_the_foreach_example_loads_without_problems():
    model = load_template(str(EXAMPLES / "cloudformation" / "foreach-streams.yaml"))
    assert model.diagnostics == []
    assert {r.address for r in model.resources} == {
        "StreamKey", "AuditedAudit", "AuditedBilling", "StreamClicks", "StreamOrders", "Tenant${Name}",
    }


def test_expansion_is_bounded_by_instances_and_by_copied_values(tmp_path):
    items = ", ".join(f"i{n}" for n in range(1001))
    big = "[" + ", ".join(["x"] * 2000) + "]"
    path, model = load(tmp_path, f"""\
Transform: AWS::LanguageExtensions
Resources:
  Fn::ForEach::Many:
    - N
    - [{items}]
    - T${{N}}:
        Type: AWS::SNS::Topic
  Fn::ForEach::Big:
    - N
    - [{", ".join(f"b{n}" for n in range(600))}]
    - Q${{N}}:
        Type: AWS::SQS::Queue
        Properties:
          Tags: {big}
""")
    assert model.diagnostics == [
        Diagnostic("info", path, 3, "Fn::ForEach::Many would make more than 1000 instances or copy more than 1000000 values; "
                                    "judged as one instance with N unknown"),
        Diagnostic("info", path, 8, "Fn::ForEach::Big would make more than 1000 instances or copy more than 1000000 values; "
                                    "judged as one instance with N unknown"),
    ]
    assert set(by_address(model)) == {"T${N}", "Q${N}"}
