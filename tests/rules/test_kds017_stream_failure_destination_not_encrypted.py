"""KDS017: on-failure destinations of Lambda mappings that read a Kinesis stream."""

from __future__ import annotations

from tests.rules.one_rule import findings

def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


TEMPLATE = """
variable "key" {
  type = string
}

resource "aws_kinesis_stream" "s" {
  name        = "s"
  shard_count = 1
}

resource "aws_sqs_queue" "q" {
  name = "failures"
  %s
}

resource "aws_lambda_event_source_mapping" "m" {
  event_source_arn  = %s
  function_name     = "fn"
  starting_position = "LATEST"
  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.q.arn
    }
  }
}
"""


def test_sqs_managed_encryption_is_not_kms(tmp_path):
    text = TEMPLATE % ("sqs_managed_sse_enabled = true", "aws_kinesis_stream.s.arn")
    found = findings("KDS017", tmp_path, text)
    assert set(found) == {"aws_sqs_queue.q"}
    assert "SSE-SQS" in found["aws_sqs_queue.q"].message
    assert "aws_lambda_event_source_mapping.m" in found["aws_sqs_queue.q"].message
    assert found["aws_sqs_queue.q"].primary_line == line_of(text, "sqs_managed_sse_enabled")


def test_kms_key_or_unknown_key_passes(tmp_path):
    assert findings("KDS017", tmp_path, TEMPLATE % ('kms_master_key_id = "alias/aws/sqs"', "aws_kinesis_stream.s.arn")) == {}
    assert findings("KDS017", tmp_path, TEMPLATE % ("kms_master_key_id = var.key", "aws_kinesis_stream.s.arn")) == {}


def test_mappings_that_do_not_read_kinesis_are_not_judged(tmp_path):
    source = '"arn:aws:dynamodb:eu-west-1:111122223333:table/t/stream/2024-01-01T00:00:00.000"'
    assert findings("KDS017", tmp_path, TEMPLATE % ("", source)) == {}


def test_cloudformation_topic_by_arn_text(tmp_path):
    found = findings(
        "KDS017",
        tmp_path,
        """
        Resources:
          Stream:
            Type: AWS::Kinesis::Stream
            Properties:
              ShardCount: 1
          Alerts:
            Type: AWS::SNS::Topic
            Properties:
              TopicName: alerts
          Mapping:
            Type: AWS::Lambda::EventSourceMapping
            Properties:
              EventSourceArn: !GetAtt Stream.Arn
              FunctionName: fn
              StartingPosition: LATEST
              DestinationConfig:
                OnFailure:
                  Destination: !Sub arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:alerts
        """,
        name="template.yaml",
    )
    assert set(found) == {"Alerts"}
    assert found["Alerts"].message.startswith("SNS topic Alerts")
