"""KDS018: DynamoDB tables that consumers of an encrypted stream write to."""

from __future__ import annotations

from tests.rules.one_rule import findings

TEMPLATE = """
variable "key" {
  type = string
}

resource "aws_kms_key" "k" {
  description         = "k"
  enable_key_rotation = true
}

resource "aws_kinesis_stream" "s" {
  name            = "s"
  shard_count     = 1
  encryption_type = "%s"
  kms_key_id      = aws_kms_key.k.arn
}

resource "aws_dynamodb_table" "t" {
  name     = "leases"
  hash_key = "leaseKey"
  attribute {
    name = "leaseKey"
    type = "S"
  }
  %s
}

resource "aws_iam_role" "app" {
  name               = "app"
  assume_role_policy = "{}"
}

resource "aws_iam_role_policy" "app" {
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = ["kinesis:GetRecords", "kinesis:GetShardIterator"], Resource = aws_kinesis_stream.s.arn },
      { Effect = "Allow", Action = ["%s"], Resource = %s }
    ]
  })
}
"""

TABLE_ARN = '"arn:aws:dynamodb:eu-west-1:111122223333:table/leases"'


def test_lease_table_with_the_default_key_is_reported(tmp_path):
    found = findings("KDS018", tmp_path, TEMPLATE % ("KMS", "", "dynamodb:PutItem", TABLE_ARN))
    assert set(found) == {"aws_dynamodb_table.t"}
    assert "role aws_iam_role.app" in found["aws_dynamodb_table.t"].message
    assert "AWS owned key" in found["aws_dynamodb_table.t"].message


def test_aws_managed_key_is_reported_and_a_customer_key_passes(tmp_path):
    managed = "server_side_encryption {\n    enabled = true\n  }"
    assert set(findings("KDS018", tmp_path, TEMPLATE % ("KMS", managed, "dynamodb:*", "aws_dynamodb_table.t.arn"))) == {
        "aws_dynamodb_table.t"
    }
    customer = "server_side_encryption {\n    enabled     = true\n    kms_key_arn = aws_kms_key.k.arn\n  }"
    assert findings("KDS018", tmp_path, TEMPLATE % ("KMS", customer, "dynamodb:PutItem", TABLE_ARN)) == {}
    unknown = "server_side_encryption {\n    enabled     = true\n    kms_key_arn = var.key\n  }"
    assert findings("KDS018", tmp_path, TEMPLATE % ("KMS", unknown, "dynamodb:PutItem", TABLE_ARN)) == {}


def test_not_a_consumer_of_an_encrypted_stream_or_not_a_writer(tmp_path):
    assert findings("KDS018", tmp_path, TEMPLATE % ("NONE", "", "dynamodb:PutItem", TABLE_ARN)) == {}
    assert findings("KDS018", tmp_path, TEMPLATE % ("KMS", "", "dynamodb:GetItem", TABLE_ARN)) == {}
    assert findings("KDS018", tmp_path, TEMPLATE % ("KMS", "", "dynamodb:PutItem", '"*"')) == {}  # wildcard: not proven


def test_only_roles_with_a_read_grant_are_asked_about_streams(tmp_path, monkeypatch):
    """Many stacks make roles x streams large: a producer-only role is never asked about a
    stream, and a consumer is asked about the stream its policy names first."""
    from kds_iac.engine import run_rules
    from kds_iac.loaders import load
    from kds_iac.rules import all_rules
    from kds_iac.views.iam import IamView

    units = []
    for n in range(20):
        units.append(f"""
  Stream{n}:
    Type: AWS::Kinesis::Stream
    Properties: {{ShardCount: 1, StreamEncryption: {{EncryptionType: KMS, KeyId: alias/aws/kinesis}}}}
  Producer{n}:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {{}}
      Policies:
        - PolicyName: put
          PolicyDocument:
            Statement:
              - {{Effect: Allow, Action: kinesis:PutRecords, Resource: !GetAtt Stream{n}.Arn}}""")
    units.append("""
  Consumer:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
      Policies:
        - PolicyName: read
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: kinesis:GetRecords, Resource: !GetAtt Stream19.Arn}""")
    (tmp_path / "t.yaml").write_text("Resources:" + "".join(units) + "\n")
    asked = []
    original = IamView.kinesis_access
    monkeypatch.setattr(IamView, "kinesis_access", lambda self, p, s: asked.append((p.address, s.address)) or original(self, p, s))
    kds018 = [m for m in all_rules() if m.rule.id == "KDS018"]
    assert run_rules(load([str(tmp_path / "t.yaml")]), kds018) == []
    assert asked == [("Consumer", "Stream19")]
