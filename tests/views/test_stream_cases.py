"""Stream cases: one per branch a deployment can take, each condition one way per case."""

from __future__ import annotations

from kds_iac.loaders.cloudformation import load_template
from kds_iac.rules import kds001_stream_not_encrypted as kds001
from kds_iac.rules import kds002_stream_aws_managed_key as kds002
from kds_iac.views.kinesis import streams

TEMPLATE = """\
Parameters:
  Mode: {Type: String}
Conditions:
  Managed: !Equals [!Ref Mode, managed]
  OutsideChina: !Not [!Or [!Equals [!Ref "AWS::Region", cn-north-1], !Equals [!Ref "AWS::Region", cn-northwest-1]]]
  InIreland: !Equals [!Ref "AWS::Region", eu-west-1]
Resources:
  SameConditionTwice:
    Type: AWS::Kinesis::Stream
    Properties:
      StreamEncryption:
        EncryptionType: !If [Managed, KMS, NONE]
        KeyId: !If [Managed, alias/aws/kinesis, !Ref AWS::NoValue]
  NoneOutsideChina:
    Type: AWS::Kinesis::Stream
    Properties:
      StreamEncryption: !If [OutsideChina, !Ref AWS::NoValue, {EncryptionType: KMS, KeyId: alias/aws/kinesis}]
  KeylessInChina:
    Type: AWS::Kinesis::Stream
    Properties:
      StreamEncryption:
        EncryptionType: KMS
        KeyId: !If [OutsideChina, alias/aws/kinesis, !Ref AWS::NoValue]
  NoDeploymentTakesTheManagedKey:
    Type: AWS::Kinesis::Stream
    Properties:
      StreamEncryption:
        EncryptionType: KMS
        KeyId: !If [InIreland, !If [OutsideChina, !Ref "AWS::NoValue", alias/aws/kinesis], arn:aws:kms:us-east-1:111122223333:key/k]
"""


def findings(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(TEMPLATE)
    model = load_template(str(path))
    assert model.diagnostics == []
    found = {(f.rule.id, f.address, f.message) for rule in (kds001, kds002) for f in rule.check(model)}
    return model, found


def test_a_condition_read_twice_goes_the_same_way_in_each_case(tmp_path):
    model, found = findings(tmp_path)
    (stream, *_) = streams(model)
    assert stream.encrypted is None  # under input defaults: cannot be known
    assert [(c.encryption.value, c.key_missing, c.key_branch) for c in stream.cases] == [
        ("KMS", False, "when condition Managed is true"),
        ("NONE", False, "when condition Managed is false"),
    ]
    assert {f for f in found if f[1] != "NoDeploymentTakesTheManagedKey"} == {
        (
            "KDS001",
            "SameConditionTwice",
            "Kinesis stream SameConditionTwice is not encrypted at rest: StreamEncryption is NONE "
            "(when condition Managed is false; decided by Mode (no default))",
        ),
        (
            "KDS002",
            "SameConditionTwice",
            "Kinesis stream SameConditionTwice is encrypted with the AWS managed key alias/aws/kinesis; "
            "use a customer managed KMS key (when condition Managed is true) (key decided by Mode (no default))",
        ),
        (
            "KDS002",
            "NoneOutsideChina",
            "Kinesis stream NoneOutsideChina is encrypted with the AWS managed key alias/aws/kinesis; "
            "use a customer managed KMS key (outside regions where condition OutsideChina holds)",
        ),
        (
            "KDS001",
            "NoneOutsideChina",
            "Kinesis stream NoneOutsideChina is not encrypted at rest: StreamEncryption is not set, so records "
            "are stored unencrypted (in regions where condition OutsideChina holds)",
        ),
        (
            "KDS002",
            "KeylessInChina",
            "Kinesis stream KeylessInChina is encrypted with the AWS managed key alias/aws/kinesis; "
            "use a customer managed KMS key (in regions where condition OutsideChina holds)",
        ),
    }


def test_a_keyless_branch_taken_only_where_kinesis_has_no_encryption_is_not_reported(tmp_path):
    model, found = findings(tmp_path)
    keyless = [s for s in streams(model) if s.address == "KeylessInChina"][0]
    assert [(c.key_missing, c.sse_offered) for c in keyless.cases] == [(False, True), (True, False)]
    assert {(rule, address) for rule, address, _ in found if address == "KeylessInChina"} == {("KDS002", "KeylessInChina")}


def test_a_branch_whose_region_conditions_exclude_each_other_is_no_case(tmp_path):
    model, found = findings(tmp_path)
    stream = [s for s in streams(model) if s.address == "NoDeploymentTakesTheManagedKey"][0]
    # Ireland and outside China: keyless (KDS001); Ireland and China cannot be; elsewhere: a key.
    assert [(c.key_missing, c.key_branch) for c in stream.cases] == [
        (True, "in regions where condition InIreland holds and in regions where condition OutsideChina holds"),
        (False, "outside regions where condition InIreland holds"),
    ]
    assert {(rule, address) for rule, address, _ in found if address == stream.address} == {("KDS001", stream.address)}
