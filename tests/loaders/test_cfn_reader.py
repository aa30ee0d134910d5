"""The line-aware CloudFormation reader: tags, lines, JSON, bounds and errors."""

from __future__ import annotations

import pytest

from kds_iac.loaders import cfn_reader
from kds_iac.loaders.cfn_reader import Mapping, ReadError, Sequence, read_text


def test_short_tags_become_long_forms():
    text = """\
A: !Ref Param
B: !GetAtt Res.Arn
C: !GetAtt [Res, Arn]
D: !GetAtt Res.Endpoint.Address
E: !Sub "${X}-y"
F: !Sub ["${X}", {X: !Ref Y}]
G: !If [Cond, {EncryptionType: KMS, KeyId: !Ref K}, !Ref 'AWS::NoValue']
H: !Condition Other
I: !GetAZs ''
J: !Base64 123
K: !ImportValue shared
L: !Cidr [10.0.0.0/16, 2, 8]
M: !Select [0, !Split [",", "a,b"]]
N: !FindInMap [Map, !Ref "AWS::Region", Key]
O: !And [!Equals [a, b], !Not [!Condition C], !Or [!Condition D, !Condition E]]
P: !Join ["", [a, !Ref B]]
"""
    data = read_text(text).data
    assert data == {
        "A": {"Ref": "Param"},
        "B": {"Fn::GetAtt": ["Res", "Arn"]},
        "C": {"Fn::GetAtt": ["Res", "Arn"]},
        "D": {"Fn::GetAtt": ["Res", "Endpoint.Address"]},
        "E": {"Fn::Sub": "${X}-y"},
        "F": {"Fn::Sub": ["${X}", {"X": {"Ref": "Y"}}]},
        "G": {"Fn::If": ["Cond", {"EncryptionType": "KMS", "KeyId": {"Ref": "K"}}, {"Ref": "AWS::NoValue"}]},
        "H": {"Condition": "Other"},
        "I": {"Fn::GetAZs": ""},
        "J": {"Fn::Base64": "123"},
        "K": {"Fn::ImportValue": "shared"},
        "L": {"Fn::Cidr": ["10.0.0.0/16", 2, 8]},
        "M": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
        "N": {"Fn::FindInMap": ["Map", {"Ref": "AWS::Region"}, "Key"]},
        "O": {
            "Fn::And": [
                {"Fn::Equals": ["a", "b"]},
                {"Fn::Not": [{"Condition": "C"}]},
                {"Fn::Or": [{"Condition": "D"}, {"Condition": "E"}]},
            ]
        },
        "P": {"Fn::Join": ["", ["a", {"Ref": "B"}]]},
    }
    assert isinstance(data["G"], Mapping) and data["G"].start_line == 7
    assert data["G"]["Fn::If"][1]["KeyId"].start_line == 7


def test_mappings_keep_start_end_and_key_lines():
    text = """\
Resources:
  First:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
      Tags:
        - Key: a
          Value: b

  # a comment between resources

  Second: {Type: "AWS::KMS::Key",
           Properties: {Description: x}}
  Third:
    Type: AWS::SSM::Parameter
    Properties:
      Value: |
        line one
        line two

"""
    data = read_text(text).data
    resources = data["Resources"]
    assert resources.key_lines == {"First": 2, "Second": 12, "Third": 14}
    assert resources.key_columns == {"First": 3, "Second": 3, "Third": 3}
    first = resources["First"]
    assert (first.start_line, first.end_line) == (3, 8)
    assert first["Properties"].key_lines == {"ShardCount": 5, "Tags": 6}
    assert isinstance(first["Properties"]["Tags"], Sequence)
    assert (first["Properties"]["Tags"].start_line, first["Properties"]["Tags"].end_line) == (7, 8)
    second = resources["Second"]
    assert (second.start_line, second.end_line) == (12, 13)
    third = resources["Third"]
    assert (third.start_line, third.end_line) == (15, 19)
    assert third["Properties"]["Value"] == "line one\nline two\n"
    assert (data.start_line, data.end_line) == (1, 19)


def test_scalars_are_what_cloudformation_sees():
    data = read_text("a: 1\nb: 1.5\nc: true\nd: null\ne: 2012-10-17\nf: '1'\ng: 0x10\nh: !!binary aGk=\n").data
    assert data == {"a": 1, "b": 1.5, "c": True, "d": None, "e": "2012-10-17", "f": "1", "g": 16, "h": "aGk="}


def test_json_with_tabs_and_properties_before_type():
    text = '{\n\t"Resources": {\n\t\t"S": {\n\t\t\t"Properties": {"ShardCount": 1},\n\t\t\t"Type": "AWS::Kinesis::Stream"\n\t\t}\n\t}\n}\n'
    document = read_text(text)
    assert document.is_json
    resource = document.data["Resources"]["S"]
    assert resource == {"Properties": {"ShardCount": 1}, "Type": "AWS::Kinesis::Stream"}
    assert (resource.start_line, resource.end_line) == (3, 6)
    assert resource.key_lines == {"Properties": 4, "Type": 5}


def test_json_without_spaces_and_escaped_slash():
    data = read_text('{"a":{"b":"x\\/y","c":[1,2]}}').data
    assert data == {"a": {"b": "x/y", "c": [1, 2]}}


def test_bom_and_utf16_are_decoded():
    assert read_text(cfn_reader.decode("\ufeffa: 1\n".encode("utf-8"))).data == {"a": 1}
    assert read_text(cfn_reader.decode("a: é\n".encode("utf-16"))).data == {"a": "é"}


def test_non_utf8_byte_is_reported_at_its_line_and_column():
    with pytest.raises(ReadError) as caught:
        cfn_reader.decode(b"a: 1\nb: caf\xe9\n")
    assert (caught.value.line, caught.value.column) == (2, 7)
    assert caught.value.message.startswith("not UTF-8 text: byte 0xe9")


def test_duplicate_keys_are_problems_and_the_last_wins():
    document = read_text("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert document.data == {"a": 1, "b": {"c": 2}}
    assert [(p.level, p.line, p.column, p.message) for p in document.problems] == [
        ("error", 4, 3, "duplicate key 'c' (first at line 3); the last one is used")
    ]


def test_merge_keys_and_aliases():
    data = read_text("base: &base {a: 1, b: 2}\nx:\n  <<: *base\n  b: 3\ny: *base\n").data
    assert data == {"base": {"a": 1, "b": 2}, "x": {"a": 1, "b": 3}, "y": {"a": 1, "b": 2}}
    assert data["x"] is not data["y"]  # expanded, never shared


def test_alias_bomb_is_refused_at_the_line_that_expands():
    levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for index, name in enumerate("bcdefgh"):
        previous = "abcdefgh"[index]
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    with pytest.raises(ReadError) as caught:
        read_text("\n".join(levels) + "\n")
    # a..d expand to 12,344 values together; e alone (line 5) to 111,111 > 100,000.
    assert caught.value.line == 5
    assert "alias bomb" in caught.value.message


def test_recursive_alias_is_refused():
    with pytest.raises(ReadError) as caught:
        read_text("x: 1\na: &a [1, *a]\n")
    assert caught.value.line == 2
    assert "refers to the node that contains it" in caught.value.message


def test_deep_nesting_is_refused_at_the_too_deep_line():
    depth = cfn_reader.MAX_DEPTH + 20
    text = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v: 1\n"
    with pytest.raises(ReadError) as caught:
        read_text(text)
    assert caught.value.line == cfn_reader.MAX_DEPTH + 1
    assert caught.value.message == f"nested more than {cfn_reader.MAX_DEPTH} levels deep; not loaded"


def test_very_deep_flow_nesting_is_an_error_not_a_crash():
    with pytest.raises(ReadError) as caught:
        read_text("a: " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert caught.value.line == 1


def test_syntax_errors_carry_the_parser_mark():
    with pytest.raises(ReadError) as caught:
        read_text("a:\n  b: 1\n c: 2\n")
    assert (caught.value.line, caught.value.column) == (3, 2)
    assert caught.value.message.startswith("YAML syntax error: ")
    with pytest.raises(ReadError) as caught:
        read_text('{\n  "a": 1\n  "b": 2\n}\n')
    assert (caught.value.line, caught.value.column) == (3, 6)
    assert caught.value.message.startswith("JSON syntax error: ")


def test_unsafe_tags_are_refused():
    with pytest.raises(ReadError) as caught:
        read_text("a: 1\nb: !!python/object/apply:os.system ['true']\n")
    assert caught.value.line == 2
    assert "unsupported YAML tag" in caught.value.message


def test_to_plain_gives_plain_containers():
    plain = cfn_reader.to_plain(read_text("a: [ {b: !Ref C} ]\n").data)
    assert plain == {"a": [{"b": {"Ref": "C"}}]}
    assert type(plain) is dict and type(plain["a"]) is list and type(plain["a"][0]["b"]) is dict
