"""The CloudFormation fix writer on real templates: intents made by hand, edits applied, the
whole resulting text compared, and every edited file read again (by kds-iac, with no
diagnostics, and by the real cfn-lint, with no error it did not give before)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from kds_iac.engine import scan
from kds_iac.fixes import SAFE, UNSAFE, Fix, Link, NewResource, SetSetting, apply_edits
from kds_iac.fixes.cloudformation import text_edits
from tests.conftest import EXAMPLES, REPO, audited_config, tool

FIXTURES = REPO / "tests" / "data" / "fixes" / "cloudformation"
CFN_EXAMPLES = EXAMPLES / "cloudformation"


def _read(path: str) -> str:
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def _copy(tmp_path: Path, source: Path, crlf: bool = False) -> Path:
    target = tmp_path / source.name
    if source.is_dir():
        shutil.copytree(source, target)
    elif crlf:
        target.write_bytes(source.read_bytes().replace(b"\n", b"\r\n"))
    else:
        shutil.copyfile(source, target)
    return target


# The nested-stacks example names a child template by URL: not fetched, an info diagnostic.
NOT_FETCHED = (("info", "not-checked"),)


def _scanned(path: Path, diagnostics: tuple = ()):
    result = scan([str(path)], config=audited_config())
    assert tuple((d.level, d.code) for d in result.diagnostics) == diagnostics
    return result


def _resources(path: Path, diagnostics: tuple = ()) -> dict:
    return {r.address: r for r in _scanned(path, diagnostics).model.resources}


def _findings(path: Path, diagnostics: tuple = ()) -> set[tuple[str, str]]:
    return {(f.rule.id, f.address) for f in _scanned(path, diagnostics).findings}


def _lint_errors(*paths: Path) -> set[tuple[int, str, str]]:
    """cfn-lint's errors in ``paths`` (rule, message: no line, since edits move lines), from
    one run of the real executable, each error tagged with its file's position in ``paths``."""
    command = [tool("cfn-lint"), "--format", "json", *map(str, paths)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode in (0, 2, 4, 6, 8, 10, 12, 14), run.stderr  # a bit per level found
    names = [str(p) for p in paths]
    return {
        (names.index(m["Filename"]), m["Rule"]["Id"], m["Message"])
        for m in json.loads(run.stdout)
        if m["Level"] == "Error"
    }


def _fix(fix: Fix, path: Path, lint: bool = True) -> str:
    """Apply ``fix`` to ``path`` (its only file), check the result reads cleanly (kds-iac
    without diagnostics, cfn-lint with no error the original did not have), return it."""
    edits = text_edits(fix, _read)
    assert edits is not None
    assert {edit.file for edit in edits} == {str(path)}
    original = _read(str(path))
    text = apply_edits(original, edits)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    _scanned(path)
    if lint:
        with tempfile.TemporaryDirectory() as folder:
            before = Path(folder) / path.name
            before.write_text(original, encoding="utf-8", newline="")
            errors = _lint_errors(before, path)
        assert {e[1:] for e in errors if e[0] == 1} - {e[1:] for e in errors if e[0] == 0} == set()
    return text


def _changed(original: str, old: str, new: str) -> str:
    """``original`` with its one ``old`` passage replaced: the whole expected text."""
    assert original.count(old) == 1
    return original.replace(old, new)


def _encrypt(stream, key) -> tuple:
    return (
        SetSetting(stream, "StreamEncryption.EncryptionType", "KMS"),
        SetSetting(stream, "StreamEncryption.KeyId", Link(key, "arn")),
    )


# -- YAML, block style ------------------------------------------------------------------------

def test_yaml_nested_mapping_inserted_after_last_key_and_before_trailing_comment(tmp_path):
    path = _copy(tmp_path, FIXTURES / "streams.yaml")
    original = _read(str(path))
    r = _resources(path)
    text = _fix(Fix("encrypt", SAFE, _encrypt(r["Unencrypted"], r["StreamKey"])), path)
    assert text == _changed(
        original,
        "      ShardCount: 1 # one shard is enough\n    # the stream's",
        "      ShardCount: 1 # one shard is enough\n"
        "      StreamEncryption:\n"
        "        EncryptionType: KMS\n"
        "        KeyId: !GetAtt StreamKey.Arn\n"
        "    # the stream's",
    )
    assert ("KDS001", "Unencrypted") not in _findings(path)


def test_yaml_missing_properties_created(tmp_path):
    path = _copy(tmp_path, FIXTURES / "streams.yaml")
    original = _read(str(path))
    r = _resources(path)
    text = _fix(Fix("encrypt", SAFE, _encrypt(r["NoProperties"], r["StreamKey"])), path)
    assert text == _changed(
        original,
        "  NoProperties:\n    Type: AWS::Kinesis::Stream\n",
        "  NoProperties:\n"
        "    Type: AWS::Kinesis::Stream\n"
        "    Properties:\n"
        "      StreamEncryption:\n"
        "        EncryptionType: KMS\n"
        "        KeyId: !GetAtt StreamKey.Arn\n",
    )
    assert ("KDS001", "NoProperties") not in _findings(path)


def test_yaml_scalar_replaced_and_its_comment_kept(tmp_path):
    path = _copy(tmp_path, FIXTURES / "streams.yaml")
    original = _read(str(path))
    r = _resources(path)
    key = Link(r["StreamKey"], "id")
    fix = Fix("customer key", SAFE, (SetSetting(r["ManagedKey"], "StreamEncryption.KeyId", key),))
    text = _fix(fix, path)
    assert text == _changed(
        original,
        "        KeyId: alias/aws/kinesis # the AWS managed key\n",
        "        KeyId: !Ref StreamKey # the AWS managed key\n",
    )
    assert ("KDS002", "ManagedKey") not in _findings(path)


def test_yaml_flow_mapping_insert_before_closing_brace(tmp_path):
    path = _copy(tmp_path, FIXTURES / "streams.yaml")
    original = _read(str(path))
    r = _resources(path)
    fix = Fix("key", SAFE, (SetSetting(r["FlowStyle"], "StreamEncryption.KeyId", Link(r["StreamKey"], "arn")),))
    assert _lint_errors(path) == {(0, "E3003", "'KeyId' is a required property")}
    text = _fix(fix, path)
    assert text == _changed(
        original,
        "      StreamEncryption: {EncryptionType: KMS}\n",
        "      StreamEncryption: {EncryptionType: KMS, KeyId: !GetAtt StreamKey.Arn}\n",
    )
    assert _lint_errors(path) == set()


def test_values_quoted_only_when_needed_in_the_files_quote_style(tmp_path):
    path = _copy(tmp_path, FIXTURES / "streams.yaml")
    original = _read(str(path))
    r = _resources(path)
    fix = Fix("settings", SAFE, (
        SetSetting(r["Unencrypted"], "Name", "yes"),
        SetSetting(r["Unencrypted"], "RetentionPeriodHours", 48),
        SetSetting(r["Unencrypted"], "StreamModeDetails.StreamMode", "PROVISIONED"),
    ))
    text = _fix(fix, path)
    assert text == _changed(
        original,
        "      ShardCount: 1 # one shard is enough\n",
        "      ShardCount: 1 # one shard is enough\n"
        '      Name: "yes"\n'
        "      RetentionPeriodHours: 48\n"
        "      StreamModeDetails:\n"
        "        StreamMode: PROVISIONED\n",
    )


def test_input_derived_values_are_refused(tmp_path):
    path = _copy(tmp_path, FIXTURES / "streams.yaml")
    r = _resources(path)
    key = Link(r["StreamKey"], "arn")
    assert text_edits(Fix("key", SAFE, (SetSetting(r["FromParameter"], "StreamEncryption.KeyId", key),)), _read) is None
    example = _copy(tmp_path, CFN_EXAMPLES / "unencrypted-streams.yaml")
    e = _resources(example)
    for stream in ("OptionalKey", "SwitchedOff"):  # Fn::If in flow and block style
        fix = Fix("encrypt", SAFE, (SetSetting(e[stream], "StreamEncryption.EncryptionType", "KMS"),))
        assert text_edits(fix, _read) is None
    # one refused intent refuses the whole fix
    fix = Fix("both", SAFE, (
        SetSetting(r["Unencrypted"], "ShardCount", 2),
        SetSetting(r["FromParameter"], "StreamEncryption.KeyId", key),
    ))
    assert text_edits(fix, _read) is None


def test_conflicting_intents_and_unknown_paths_are_refused(tmp_path):
    path = _copy(tmp_path, FIXTURES / "streams.yaml")
    r = _resources(path)
    stream = r["Unencrypted"]
    both = Fix("two values", SAFE, (SetSetting(stream, "Name", "a"), SetSetting(stream, "Name", "b")))
    assert text_edits(both, _read) is None
    replaced_twice = Fix("two values", SAFE, (SetSetting(stream, "ShardCount", 2), SetSetting(stream, "ShardCount", 3)))
    assert text_edits(replaced_twice, _read) is None
    for path_text in ("ShardCount.Nested", "Stream Encryption", "Tags[0].Key"):
        assert text_edits(Fix("bad path", SAFE, (SetSetting(stream, path_text, "x"),)), _read) is None


def test_yaml_new_key_takes_a_free_name_and_passes_kds003(tmp_path):
    path = _copy(tmp_path, FIXTURES / "streams.yaml")
    original = _read(str(path))
    r = _resources(path)
    key = NewResource("kms_key", "StreamKey", r["Unencrypted"], "Encrypts the Unencrypted stream")
    fix = Fix("new key", UNSAFE, (key,) + _encrypt(r["Unencrypted"], key))
    text = _fix(fix, path)
    assert text == _changed(
        original,
        "      ShardCount: 1 # one shard is enough\n    # the stream's properties end here\n",
        "      ShardCount: 1 # one shard is enough\n"
        "      StreamEncryption:\n"
        "        EncryptionType: KMS\n"
        "        KeyId: !GetAtt StreamKey2.Arn\n"
        "    # the stream's properties end here\n"
        "\n"
        "  StreamKey2:\n"
        "    Type: AWS::KMS::Key\n"
        "    Properties:\n"
        "      Description: Encrypts the Unencrypted stream\n"
        "      EnableKeyRotation: true\n"
        "      KeyPolicy:\n"
        '        Version: "2012-10-17"\n'
        "        Statement:\n"
        "          - Sid: AccountAdministration\n"
        "            Effect: Allow\n"
        "            Principal:\n"
        "              AWS: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root\n"
        "            Action: kms:*\n"
        '            Resource: "*"\n',
    )
    assert _findings(path) == {
        ("KDS001", "NoProperties"),
        ("KDS002", "ManagedKey"),
        ("KDS001", "FromParameter"),
        ("KDS001", "FlowStyle"),
    }


# -- long forms, single quotes, no blank lines -------------------------------------------------

def test_long_form_file_gets_long_forms(tmp_path):
    path = _copy(tmp_path, FIXTURES / "long-form.yaml")
    r = _resources(path)
    key = NewResource("kms_key", "MirrorKey", r["Mirror"], "")
    fix = Fix("keys", UNSAFE, (key,) + _encrypt(r["Stream"], r["StreamKey"])
              + (SetSetting(r["Mirror"], "StreamEncryption.KeyId", Link(key, "arn")),))
    text = _fix(fix, path)
    assert text == (
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Description: A template written with the long forms of intrinsic functions only.\n"
        "\n"
        "Resources:\n"
        "  StreamKey:\n"
        "    Type: AWS::KMS::Key\n"
        "    Properties:\n"
        "      EnableKeyRotation: true\n"
        "      KeyPolicy:\n"
        "        Version: '2012-10-17'\n"
        "        Statement:\n"
        "          - Sid: AccountAdministration\n"
        "            Effect: Allow\n"
        "            Principal:\n"
        "              AWS:\n"
        "                Fn::Sub: arn:${AWS::Partition}:iam::${AWS::AccountId}:root\n"
        "            Action: kms:*\n"
        "            Resource: '*'\n"
        "  Stream:\n"
        "    Type: AWS::Kinesis::Stream\n"
        "    Properties:\n"
        "      ShardCount: 1\n"
        "      StreamEncryption:\n"
        "        EncryptionType: KMS\n"
        "        KeyId:\n"
        "          Fn::GetAtt: [StreamKey, Arn]\n"
        "  Mirror:\n"
        "    Type: AWS::Kinesis::Stream\n"
        "    Properties:\n"
        "      ShardCount: 1\n"
        "      StreamEncryption:\n"
        "        EncryptionType: KMS\n"
        "        KeyId:\n"
        "          Fn::GetAtt: [MirrorKey, Arn]\n"
        "  MirrorKey:\n"
        "    Type: AWS::KMS::Key\n"
        "    Properties:\n"
        "      EnableKeyRotation: true\n"
        "      KeyPolicy:\n"
        "        Version: '2012-10-17'\n"
        "        Statement:\n"
        "          - Sid: AccountAdministration\n"
        "            Effect: Allow\n"
        "            Principal:\n"
        "              AWS:\n"
        "                Fn::Sub: arn:${AWS::Partition}:iam::${AWS::AccountId}:root\n"
        "            Action: kms:*\n"
        "            Resource: '*'\n"
        + READER_POLICY
    )
    assert _findings(path) == {("KDS005", "ReaderPolicy")}


READER_POLICY = (
    "  ReaderPolicy:\n"
    "    Type: AWS::IAM::ManagedPolicy\n"
    "    Properties:\n"
    "      PolicyDocument:\n"
    "        Version: '2012-10-17'\n"
    "        Statement:\n"
    "          - Effect: Allow\n"
    "            Action:\n"
    "              - kinesis:GetRecords\n"
    "              - kinesis:GetShardIterator\n"
    "            Resource: '*'\n"
)


def test_long_form_list_of_links(tmp_path):
    path = _copy(tmp_path, FIXTURES / "long-form.yaml")
    original = _read(str(path))
    r = _resources(path)
    streams = (Link(r["Stream"], "arn"), Link(r["Mirror"], "arn"))
    fix = Fix("narrow", SAFE, (SetSetting(r["ReaderPolicy"], "PolicyDocument.Statement[0].Resource", streams),))
    text = _fix(fix, path)
    assert text == _changed(
        original,
        READER_POLICY,
        READER_POLICY.replace(
            "            Resource: '*'\n",
            "            Resource:\n"
            "              - Fn::GetAtt: [Stream, Arn]\n"
            "              - Fn::GetAtt: [Mirror, Arn]\n",
        ),
    )
    assert ("KDS005", "ReaderPolicy") not in _findings(path)


# -- policy statements ---------------------------------------------------------------------------

STATEMENT = "Policies[0].PolicyDocument.Statement[{}].Action"
PRODUCE = ("kinesis:PutRecord", "kinesis:PutRecords")


def test_indexed_statement_action_replaced_block_and_flow(tmp_path):
    path = _copy(tmp_path, FIXTURES / "policies.yaml")
    original = _read(str(path))
    role = _resources(path)["ProducerRole"]
    orders = Link(_resources(path)["Orders"], "arn")
    fix = Fix("narrow", SAFE, (
        SetSetting(role, STATEMENT.format(1), PRODUCE),
        SetSetting(role, STATEMENT.format(2), PRODUCE),
        SetSetting(role, "Policies[0].PolicyDocument.Statement[4].Resource", (orders,)),
    ))
    text = _fix(fix, path)
    expected = _changed(
        original,
        "                Action: kinesis:* # far too much\n",
        "                Action:\n"
        "                  - kinesis:PutRecord\n"
        "                  - kinesis:PutRecords # far too much\n",
    )
    expected = _changed(
        expected,
        "                Action: [kinesis:Put*, kinesis:Describe*]\n",
        "                Action: [kinesis:PutRecord, kinesis:PutRecords]\n",
    )
    expected = _changed(
        expected,
        '                Resource: "*" # every stream\n',
        "                Resource:\n                  - !GetAtt Orders.Arn # every stream\n",
    )
    assert text == expected
    assert _findings(path) == {("KDS001", "Orders")}


def test_indexed_statement_refused_when_from_a_parameter_or_absent(tmp_path):
    path = _copy(tmp_path, FIXTURES / "policies.yaml")
    role = _resources(path)["ProducerRole"]
    for number in (3, 5):
        assert text_edits(Fix("narrow", SAFE, (SetSetting(role, STATEMENT.format(number), PRODUCE),)), _read) is None
    absent = "Policies[1].PolicyDocument.Statement[0].Action"
    assert text_edits(Fix("narrow", SAFE, (SetSetting(role, absent, PRODUCE),)), _read) is None


# -- JSON ----------------------------------------------------------------------------------------

def test_json_replace_first_and_last_keys(tmp_path):
    path = _copy(tmp_path, FIXTURES / "streams.json")
    original = _read(str(path))
    r = _resources(path)
    fix = Fix("json", SAFE, (
        SetSetting(r["Managed"], "StreamEncryption.KeyId", "alias/streams"),  # first key of its mapping
        SetSetting(r["Plain"], "ShardCount", 2),  # last (and only) key
    ))
    text = _fix(fix, path)
    expected = _changed(original, '"KeyId": "alias/aws/kinesis",', '"KeyId": "alias/streams",')
    assert text == _changed(
        expected,
        '      "Properties": {\n        "ShardCount": 1\n      }',
        '      "Properties": {\n        "ShardCount": 2\n      }',
    )


def test_json_insert_after_last_key_and_into_empty_mapping(tmp_path):
    path = _copy(tmp_path, FIXTURES / "streams.json")
    original = _read(str(path))
    r = _resources(path)
    key = NewResource("kms_key", "StreamKey", r["Plain"], "Streams key")
    fix = Fix("json", UNSAFE, (key,) + _encrypt(r["Plain"], key) + _encrypt(r["Empty"], key))
    text = _fix(fix, path)
    expected = _changed(
        original,
        '        "ShardCount": 1\n      }\n    },\n    "Empty": {\n      "Type": "AWS::Kinesis::Stream",\n'
        '      "Properties": {}\n',
        '        "ShardCount": 1,\n'
        '        "StreamEncryption": {\n'
        '          "EncryptionType": "KMS",\n'
        '          "KeyId": {"Fn::GetAtt": ["StreamKey2", "Arn"]}\n'
        "        }\n"
        "      }\n"
        "    },\n"
        '    "StreamKey2": {\n'
        '      "Type": "AWS::KMS::Key",\n'
        '      "Properties": {\n'
        '        "Description": "Streams key",\n'
        '        "EnableKeyRotation": true,\n'
        '        "KeyPolicy": {\n'
        '          "Version": "2012-10-17",\n'
        '          "Statement": [\n'
        "            {\n"
        '              "Sid": "AccountAdministration",\n'
        '              "Effect": "Allow",\n'
        '              "Principal": {\n'
        '                "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}\n'
        "              },\n"
        '              "Action": "kms:*",\n'
        '              "Resource": "*"\n'
        "            }\n"
        "          ]\n"
        "        }\n"
        "      }\n"
        "    },\n"
        '    "Empty": {\n'
        '      "Type": "AWS::Kinesis::Stream",\n'
        '      "Properties": {"StreamEncryption": {"EncryptionType": "KMS", '
        '"KeyId": {"Fn::GetAtt": ["StreamKey2", "Arn"]}}}\n',
    )
    assert text == expected
    json.loads(text)
    assert _findings(path) == {("KDS002", "Managed")}


def test_json_parameter_reference_refused(tmp_path):
    path = _copy(tmp_path, FIXTURES / "streams.json")
    r = _resources(path)
    fix = Fix("json", SAFE, (SetSetting(r["FromParameter"], "StreamEncryption.KeyId", "alias/streams"),))
    assert text_edits(fix, _read) is None


def test_json_with_tabs_keeps_tabs(tmp_path):
    path = _copy(tmp_path, FIXTURES / "tabs.json")
    stream = _resources(path)["Stream"]
    key = NewResource("kms_key", "StreamKey", stream, "")
    text = _fix(Fix("tabs", UNSAFE, (key,) + _encrypt(stream, key)), path)
    assert text == (
        '{\n\t"Resources": {\n\t\t"Stream": {\n\t\t\t"Type": "AWS::Kinesis::Stream",\n\t\t\t"Properties": {\n'
        '\t\t\t\t"ShardCount": 1,\n'
        '\t\t\t\t"StreamEncryption": {\n'
        '\t\t\t\t\t"EncryptionType": "KMS",\n'
        '\t\t\t\t\t"KeyId": {"Fn::GetAtt": ["StreamKey", "Arn"]}\n'
        "\t\t\t\t}\n"
        "\t\t\t}\n"
        "\t\t},\n"
        '\t\t"StreamKey": {\n'
        '\t\t\t"Type": "AWS::KMS::Key",\n'
        '\t\t\t"Properties": {\n'
        '\t\t\t\t"EnableKeyRotation": true,\n'
        '\t\t\t\t"KeyPolicy": {\n'
        '\t\t\t\t\t"Version": "2012-10-17",\n'
        '\t\t\t\t\t"Statement": [\n'
        "\t\t\t\t\t\t{\n"
        '\t\t\t\t\t\t\t"Sid": "AccountAdministration",\n'
        '\t\t\t\t\t\t\t"Effect": "Allow",\n'
        '\t\t\t\t\t\t\t"Principal": {\n'
        '\t\t\t\t\t\t\t\t"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}\n'
        "\t\t\t\t\t\t\t},\n"
        '\t\t\t\t\t\t\t"Action": "kms:*",\n'
        '\t\t\t\t\t\t\t"Resource": "*"\n'
        "\t\t\t\t\t\t}\n"
        "\t\t\t\t\t]\n"
        "\t\t\t\t}\n"
        "\t\t\t}\n"
        "\t\t}\n"
        "\t}\n}\n"
    )
    assert _findings(path) == set()


# -- line endings, anchors, nested stacks, SAM, Serverless ----------------------------------------

def test_crlf_file_stays_crlf(tmp_path):
    path = _copy(tmp_path, FIXTURES / "streams.yaml", crlf=True)
    original = _read(str(path))
    assert original.count("\r\n") == original.count("\n")
    r = _resources(path)
    key = NewResource("kms_key", "UnencryptedKey", r["Unencrypted"], "")
    text = _fix(Fix("new key", UNSAFE, (key,) + _encrypt(r["Unencrypted"], key)), path)
    assert text == _changed(
        original,
        "      ShardCount: 1 # one shard is enough\r\n    # the stream's properties end here\r\n",
        "      ShardCount: 1 # one shard is enough\r\n"
        "      StreamEncryption:\r\n"
        "        EncryptionType: KMS\r\n"
        "        KeyId: !GetAtt UnencryptedKey.Arn\r\n"
        "    # the stream's properties end here\r\n"
        "\r\n"
        "  UnencryptedKey:\r\n"
        "    Type: AWS::KMS::Key\r\n"
        "    Properties:\r\n"
        "      EnableKeyRotation: true\r\n"
        "      KeyPolicy:\r\n"
        '        Version: "2012-10-17"\r\n'
        "        Statement:\r\n"
        "          - Sid: AccountAdministration\r\n"
        "            Effect: Allow\r\n"
        "            Principal:\r\n"
        "              AWS: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root\r\n"
        "            Action: kms:*\r\n"
        '            Resource: "*"\r\n',
    )


def test_anchored_settings_are_refused(tmp_path):
    path = _copy(tmp_path, FIXTURES / "anchors.yaml")
    r = _resources(path)
    for stream in ("First", "Second"):
        fix = Fix("key", SAFE, (SetSetting(r[stream], "StreamEncryption.KeyId", "alias/streams"),))
        assert text_edits(fix, _read) is None


def test_nested_stack_child_edited_links_across_stacks_refused(tmp_path):
    folder = _copy(tmp_path, CFN_EXAMPLES / "nested-stacks")
    child = folder / "stacks" / "events.yaml"
    original = _read(str(child))
    r = _resources(folder, NOT_FETCHED)
    dead_letters = r["Events/DeadLetters"]
    assert text_edits(Fix("parent key", SAFE, _encrypt(dead_letters, r["StreamKey"])), _read) is None
    key = NewResource("kms_key", "DeadLettersKey", dead_letters, "")
    edits = text_edits(Fix("new key", UNSAFE, (key,) + _encrypt(dead_letters, key)), _read)
    assert edits is not None and {e.file for e in edits} == {str(child)}
    text = apply_edits(original, edits)
    child.write_text(text)
    assert text == _changed(
        original,
        "  DeadLetters:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      ShardCount: 1\n",
        "  DeadLetters:\n"
        "    Type: AWS::Kinesis::Stream\n"
        "    Properties:\n"
        "      ShardCount: 1\n"
        "      StreamEncryption:\n"
        "        EncryptionType: KMS\n"
        "        KeyId: !GetAtt DeadLettersKey.Arn\n"
        "\n"
        "  DeadLettersKey:\n"
        "    Type: AWS::KMS::Key\n"
        "    Properties:\n"
        "      EnableKeyRotation: true\n"
        "      KeyPolicy:\n"
        '        Version: "2012-10-17"\n'
        "        Statement:\n"
        "          - Sid: AccountAdministration\n"
        "            Effect: Allow\n"
        "            Principal:\n"
        "              AWS: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root\n"
        "            Action: kms:*\n"
        '            Resource: "*"\n',
    )
    assert ("KDS001", "Events/DeadLetters") not in _findings(folder, NOT_FETCHED)
    assert _findings(child) == set()
    assert _lint_errors(child) == set()


def test_sam_generated_resources_refused(tmp_path):
    path = _copy(tmp_path, CFN_EXAMPLES / "iam-sam.yaml")
    r = _resources(path)
    role = r["ReaderFunctionRole"]
    assert role.generated_from == "ReaderFunction"
    assert text_edits(Fix("narrow", SAFE, (SetSetting(role, STATEMENT.format(0), PRODUCE),)), _read) is None
    orders = r["Orders"]
    link = Fix("link", SAFE, (SetSetting(orders, "StreamEncryption.KeyId", Link(role, "arn")),))
    assert text_edits(link, _read) is None


def test_serverless_resources_section(tmp_path):
    folder = _copy(tmp_path, EXAMPLES / "serverless" / "stream-keys")
    path = folder / "serverless.yml"
    original = _read(str(path))
    r = _resources(folder)
    text = _fix(Fix("rotate", SAFE, (SetSetting(r["RotationOffKey"], "EnableKeyRotation", True),)), path, lint=False)
    assert text == _changed(original, "        EnableKeyRotation: false\n", "        EnableKeyRotation: true\n")
    # a Serverless variable is an input
    key = Link(r["RotationOffKey"], "arn")
    variable = Fix("key", SAFE, (SetSetting(r["ManagedKeyStream"], "StreamEncryption.KeyId", key),))
    assert text_edits(variable, _read) is None


def test_serverless_fragment_takes_settings_but_no_new_resource(tmp_path):
    folder = _copy(tmp_path, EXAMPLES / "serverless" / "service-bad")
    fragment = folder / "resources" / "streams.yml"
    original = _read(str(fragment))
    r = _resources(folder)
    stream = r["OrdersStream"]
    key = NewResource("kms_key", "OrdersKey", stream, "")
    assert text_edits(Fix("new key", UNSAFE, (key,) + _encrypt(stream, key)), _read) is None
    fix = Fix("managed", SAFE, (
        SetSetting(stream, "StreamEncryption.EncryptionType", "KMS"),
        SetSetting(stream, "StreamEncryption.KeyId", "alias/streams"),
    ))
    text = _fix(fix, fragment, lint=False)
    assert text == _changed(
        original,
        "      ShardCount: 1\n\n  AuditStream:",
        "      ShardCount: 1\n"
        "      StreamEncryption:\n"
        "        EncryptionType: KMS\n"
        "        KeyId: alias/streams\n"
        "\n  AuditStream:",
    )


def test_resource_moved_since_the_scan_is_refused(tmp_path):
    path = _copy(tmp_path, FIXTURES / "streams.yaml")
    r = _resources(path)
    fix = Fix("rotate", SAFE, (SetSetting(r["Unencrypted"], "ShardCount", 2),))
    assert text_edits(fix, lambda name: "# a new first line\n" + _read(name)) is None
    assert text_edits(fix, lambda name: "Resources: [unclosed\n") is None


@pytest.mark.parametrize("value", [None, ("a", 1), 1j])
def test_values_that_cannot_be_written_are_refused(tmp_path, value):
    path = _copy(tmp_path, FIXTURES / "streams.yaml")
    stream = _resources(path)["Unencrypted"]
    assert text_edits(Fix("odd", SAFE, (SetSetting(stream, "Name", value),)), _read) is None


def test_sub_of_pseudo_parameters_replaced_sub_of_a_parameter_refused(tmp_path):
    path = _copy(tmp_path, CFN_EXAMPLES / "aws-managed-key.json")
    original = _read(str(path))
    r = _resources(path)
    key = NewResource("kms_key", "StreamsKey", r["AliasArnSub"], "")
    fix = Fix("new key", UNSAFE, (key, SetSetting(r["AliasArnSub"], "StreamEncryption.KeyId", Link(key, "arn"))))
    text = _fix(fix, path)
    expected = _changed(
        original,
        '"KeyId": {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:alias/aws/kinesis"}',
        '"KeyId": {"Fn::GetAtt": ["StreamsKey", "Arn"]}',
    )
    assert text == _changed(
        expected,
        '      "Type": "AWS::Kinesis::Stream"\n    }\n  }\n}',
        '      "Type": "AWS::Kinesis::Stream"\n'
        "    },\n"
        '    "StreamsKey": {\n'
        '      "Type": "AWS::KMS::Key",\n'
        '      "Properties": {\n'
        '        "EnableKeyRotation": true,\n'
        '        "KeyPolicy": {\n'
        '          "Version": "2012-10-17",\n'
        '          "Statement": [\n'
        "            {\n"
        '              "Sid": "AccountAdministration",\n'
        '              "Effect": "Allow",\n'
        '              "Principal": {\n'
        '                "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}\n'
        "              },\n"
        '              "Action": "kms:*",\n'
        '              "Resource": "*"\n'
        "            }\n"
        "          ]\n"
        "        }\n"
        "      }\n"
        "    }\n  }\n}",
    )
    assert _findings(path) == {("KDS002", "AliasName")}
    policies = _copy(tmp_path, CFN_EXAMPLES / "iam-wildcards.yaml")
    put_star = _resources(policies)["PutStarPolicy"]  # its Resource is a Sub of the StreamName parameter
    refused = Fix("narrow", SAFE, (SetSetting(put_star, "PolicyDocument.Statement[0].Resource", "*"),))
    assert text_edits(refused, _read) is None


def test_comments_around_replaced_values_kept(tmp_path):
    path = _copy(tmp_path, FIXTURES / "comments.yaml")
    original = _read(str(path))
    r = _resources(path)
    fix = Fix("key", SAFE, (
        SetSetting(r["Stream"], "StreamEncryption.KeyId", Link(r["NewKey"], "arn")),
        SetSetting(r["NewKey"], "EnableKeyRotation", True),
        SetSetting(r["Stream"], "RetentionPeriodHours", 24),
    ))
    text = _fix(fix, path)
    expected = _changed(
        original,
        "        KeyId: # which key: see the runbook\n          Ref: OldKey\n",
        "        KeyId: # which key: see the runbook\n          !GetAtt NewKey.Arn\n",
    )
    expected = _changed(
        expected, "EnableKeyRotation: false # turned off by mistake", "EnableKeyRotation: true # turned off by mistake"
    )
    assert text == _changed(
        expected,
        "          Value: streams\n",
        "          Value: streams\n      RetentionPeriodHours: 24\n",
    )
    assert _findings(path) == set()
