"""KDS016: Firehose copies of a Kinesis stream in S3 without SSE-KMS."""

from __future__ import annotations

from tests.rules.one_rule import findings

TEMPLATE = """
variable "key" {
  type = string
}

variable "algorithm" {
  type    = string
  default = "AES256"
}

resource "aws_kinesis_stream" "s" {
  name        = "s"
  shard_count = 1
}

resource "aws_s3_bucket" "b" {
  bucket = "archive"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "b" {
  bucket = aws_s3_bucket.b.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = %s
    }
  }
}

resource "aws_kinesis_firehose_delivery_stream" "f" {
  name        = "f"
  destination = "extended_s3"
  %s
  extended_s3_configuration {
    role_arn   = "arn:aws:iam::111122223333:role/firehose"
    bucket_arn = aws_s3_bucket.b.arn
    %s
  }
}
"""

KINESIS_SOURCE = """kinesis_source_configuration {
    kinesis_stream_arn = aws_kinesis_stream.s.arn
    role_arn           = "arn:aws:iam::111122223333:role/firehose"
  }"""


def test_sse_s3_bucket_is_reported_on_the_delivery_stream_naming_the_input(tmp_path):
    text = TEMPLATE % ("var.algorithm", KINESIS_SOURCE, "")
    found = findings("KDS016", tmp_path, text)
    assert set(found) == {"aws_kinesis_firehose_delivery_stream.f"}
    finding = found["aws_kinesis_firehose_delivery_stream.f"]
    assert 'var.algorithm (default: "AES256")' in finding.message
    assert "aws_s3_bucket.b" in finding.message
    block = next(n for n, line in enumerate(text.splitlines(), 1) if "extended_s3_configuration {" in line)
    assert finding.primary_line == block
    assert [r.address for r in finding.related] == ["aws_s3_bucket.b"]


def test_kms_by_bucket_or_by_firehose_passes(tmp_path):
    assert findings("KDS016", tmp_path, TEMPLATE % ('"aws:kms"', KINESIS_SOURCE, "")) == {}
    assert findings("KDS016", tmp_path, TEMPLATE % ('"AES256"', KINESIS_SOURCE, 'kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/k"')) == {}


def test_unknowns_are_not_findings(tmp_path):
    assert findings("KDS016", tmp_path, TEMPLATE % ('"AES256"', KINESIS_SOURCE, "kms_key_arn = var.key")) == {}


def test_direct_put_and_firehose_level_sse_are_not_this_rules_concern(tmp_path):
    assert findings("KDS016", tmp_path, TEMPLATE % ('"AES256"', "", "")) == {}
    # Firehose's own SSE does not cover a Kinesis source: it does not pass the rule either.
    sse = KINESIS_SOURCE + "\n  server_side_encryption {\n    enabled = true\n  }"
    assert set(findings("KDS016", tmp_path, TEMPLATE % ('"AES256"', sse, ""))) == {"aws_kinesis_firehose_delivery_stream.f"}


def test_cloudformation_backup_of_another_destination(tmp_path):
    found = findings(
        "KDS016",
        tmp_path,
        """
        Resources:
          Stream:
            Type: AWS::Kinesis::Stream
            Properties:
              ShardCount: 1
          Backup:
            Type: AWS::S3::Bucket
          Delivery:
            Type: AWS::KinesisFirehose::DeliveryStream
            Properties:
              DeliveryStreamType: KinesisStreamAsSource
              KinesisStreamSourceConfiguration:
                KinesisStreamARN: !GetAtt Stream.Arn
                RoleARN: arn:aws:iam::111122223333:role/firehose
              SplunkDestinationConfiguration:
                HECEndpoint: https://splunk.example.com
                HECEndpointType: Raw
                HECToken: "{{resolve:secretsmanager:splunk}}"
                S3Configuration:
                  BucketARN: !GetAtt Backup.Arn
                  RoleARN: arn:aws:iam::111122223333:role/firehose
        """,
        name="template.yaml",
    )
    assert set(found) == {"Delivery"}
    assert "S3 backup (bucket Backup)" in found["Delivery"].message
