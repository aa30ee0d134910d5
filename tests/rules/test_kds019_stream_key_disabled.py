"""KDS019: a stream key the template disables."""

from __future__ import annotations

from tests.rules.one_rule import findings

KEY_AND_STREAM = """
variable "enabled" {
  type = bool
}

resource "aws_kms_key" "k" {
  description         = "k"
  enable_key_rotation = true
  is_enabled          = %s
}

resource "aws_kinesis_stream" "s" {
  name            = "s"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.k.arn
}
"""


def test_disabled_key_is_reported_on_the_key_at_its_setting(tmp_path):
    found = findings("KDS019", tmp_path, KEY_AND_STREAM % "false")
    assert set(found) == {"aws_kms_key.k"}
    finding = found["aws_kms_key.k"]
    assert finding.primary_line == 9
    assert "aws_kinesis_stream.s" in finding.message and "is_enabled is false" in finding.message


def test_enabled_or_unknown_keys_are_not_reported(tmp_path):
    assert findings("KDS019", tmp_path, KEY_AND_STREAM % "true") == {}
    assert findings("KDS019", tmp_path, KEY_AND_STREAM % "var.enabled") == {}  # no default: not judged


def test_a_disabled_key_of_an_unencrypted_stream_is_not_reported(tmp_path):
    text = (KEY_AND_STREAM % "false").replace('encryption_type = "KMS"', 'encryption_type = "NONE"')
    assert findings("KDS019", tmp_path, text) == {}


def test_cloudformation_parameter_default_is_named(tmp_path):
    found = findings(
        "KDS019",
        tmp_path,
        """
        Parameters:
          KeyOn:
            Type: String
            Default: "false"
        Resources:
          Key:
            Type: AWS::KMS::Key
            Properties:
              EnableKeyRotation: true
              Enabled: !Ref KeyOn
          Alias:
            Type: AWS::KMS::Alias
            Properties:
              AliasName: alias/streams
              TargetKeyId: !Ref Key
          Stream:
            Type: AWS::Kinesis::Stream
            Properties:
              ShardCount: 1
              StreamEncryption:
                EncryptionType: KMS
                KeyId: alias/streams
        """,
        name="template.yaml",
    )
    assert set(found) == {"Key"}
    assert 'KeyOn (default: "false")' in found["Key"].message
