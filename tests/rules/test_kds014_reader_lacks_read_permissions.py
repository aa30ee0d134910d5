"""KDS014: readers whose role lacks the read actions; correct configurations must pass."""

from __future__ import annotations

from tests.rules.one_rule import findings

BASE = """
resource "aws_kinesis_stream" "events" {
  name        = "events"
  shard_count = 1
}
resource "aws_iam_role" "consumer" {
  name               = "consumer"
  assume_role_policy = "{}"
}
resource "aws_lambda_function" "consumer" {
  function_name = "consumer"
  role          = aws_iam_role.consumer.arn
}
resource "aws_lambda_event_source_mapping" "consumer" {
  event_source_arn = aws_kinesis_stream.events.arn
  function_name    = aws_lambda_function.consumer.arn
}
"""


def role_policy(statement: str) -> str:
    return (
        BASE
        + f"""
        resource "aws_iam_role_policy" "consumer" {{
          role   = aws_iam_role.consumer.id
          policy = jsonencode({{ Version = "2012-10-17", Statement = [{statement}] }})
        }}
        """
    )


READ = '"kinesis:DescribeStream", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"'


def test_the_aws_managed_kinesis_execution_role_policy_grants_the_read_actions(tmp_path):
    found = findings(
        "KDS014",
        tmp_path,
        BASE
        + """
        resource "aws_iam_role_policy_attachment" "consumer" {
          role       = aws_iam_role.consumer.name
          policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole"
        }
        """,
    )
    assert found == {}


def test_only_the_basic_execution_role_is_not_enough(tmp_path):
    found = findings(
        "KDS014",
        tmp_path,
        BASE
        + """
        resource "aws_iam_role_policy_attachment" "consumer" {
          role       = aws_iam_role.consumer.name
          policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        }
        """,
    )
    message = found["aws_iam_role.consumer"].message
    assert message.startswith(
        "Lambda function aws_lambda_function.consumer (event source mapping aws_lambda_event_source_mapping.consumer) "
        "reads stream aws_kinesis_stream.events, but its role aws_iam_role.consumer does not allow "
        "kinesis:DescribeStream, kinesis:GetRecords, kinesis:GetShardIterator, kinesis:ListShards on it"
    )


def test_wildcards_patterns_and_partial_grants(tmp_path):
    assert findings("KDS014", tmp_path, role_policy('{ Effect = "Allow", Action = ["kinesis:Get*", "kinesis:Describe*", "kinesis:List*"], Resource = "arn:aws:kinesis:*:*:stream/events" }')) == {}
    found = findings("KDS014", tmp_path, role_policy(f'{{ Effect = "Allow", Action = [{READ}], Resource = "arn:aws:kinesis:*:*:stream/other" }}'))
    assert set(found) == {"aws_iam_role.consumer"}
    found = findings("KDS014", tmp_path, role_policy('{ Effect = "Allow", Action = ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream"], Resource = aws_kinesis_stream.events.arn }'))
    assert "does not allow kinesis:ListShards on it" in found["aws_iam_role.consumer"].message


def test_an_explicit_deny_is_reported(tmp_path):
    found = findings(
        "KDS014",
        tmp_path,
        role_policy(
            f'{{ Effect = "Allow", Action = [{READ}], Resource = aws_kinesis_stream.events.arn }}, '
            '{ Effect = "Deny", Action = "kinesis:GetRecords", Resource = "*" }'
        ),
    )
    assert "explicitly denies kinesis:GetRecords" in found["aws_iam_role.consumer"].message


def test_nothing_is_reported_when_it_cannot_be_proven(tmp_path):
    # a customer managed policy defined elsewhere may grant the actions
    assert findings(
        "KDS014",
        tmp_path,
        BASE
        + """
        resource "aws_iam_role_policy_attachment" "consumer" {
          role       = aws_iam_role.consumer.name
          policy_arn = "arn:aws:iam::123456789012:policy/stream-readers"
        }
        """,
    ) == {}
    # a statement whose resource is known only at deployment may cover the stream
    assert findings(
        "KDS014",
        tmp_path,
        'variable "stream_arn" { type = string }\n' + role_policy(f'{{ Effect = "Allow", Action = [{READ}], Resource = var.stream_arn }}'),
    ) == {}
    # a stream of another scan, known by ARN only
    assert findings(
        "KDS014",
        tmp_path,
        BASE.replace("aws_kinesis_stream.events.arn", '"arn:aws:kinesis:eu-west-1:123456789012:stream/elsewhere"'),
    ) == {}


def test_a_resource_policy_on_the_stream_may_grant_the_reader(tmp_path):
    found = findings(
        "KDS014",
        tmp_path,
        BASE
        + f"""
        resource "aws_kinesis_resource_policy" "events" {{
          resource_arn = aws_kinesis_stream.events.arn
          policy = jsonencode({{
            Version = "2012-10-17"
            Statement = [{{
              Effect    = "Allow"
              Principal = {{ AWS = aws_iam_role.consumer.arn }}
              Action    = [{READ}]
              Resource  = aws_kinesis_stream.events.arn
            }}]
          }})
        }}
        """,
    )
    assert found == {}


def test_sam_kinesis_events_and_cdk_policies_pass(tmp_path):
    assert findings(
        "KDS014",
        tmp_path,
        """
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Events:
            Type: AWS::Kinesis::Stream
            Properties: {ShardCount: 1}
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.12
              Handler: a.h
              InlineCode: x
              Events:
                Read:
                  Type: Kinesis
                  Properties: {Stream: !GetAtt Events.Arn, StartingPosition: LATEST}
        """,
        name="sam.yaml",
    ) == {}
    # as CDK synthesizes Stream.grantRead + a Lambda event source
    assert findings(
        "KDS014",
        tmp_path,
        """
        Resources:
          Stream4F5B1C2A:
            Type: AWS::Kinesis::Stream
            Properties: {ShardCount: 1}
          FnServiceRoleB9001A96:
            Type: AWS::IAM::Role
            Properties:
              AssumeRolePolicyDocument: {Statement: [{Action: sts:AssumeRole, Effect: Allow, Principal: {Service: lambda.amazonaws.com}}], Version: "2012-10-17"}
              ManagedPolicyArns:
                - !Join ["", ["arn:", !Ref AWS::Partition, ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]]
            Metadata: {aws:cdk:path: app/Fn/ServiceRole/Resource}
          FnServiceRoleDefaultPolicyC6A839BF:
            Type: AWS::IAM::Policy
            Properties:
              PolicyDocument:
                Statement:
                  - Action: [kinesis:DescribeStream, kinesis:DescribeStreamConsumer, kinesis:DescribeStreamSummary,
                             kinesis:GetRecords, kinesis:GetShardIterator, kinesis:ListShards, kinesis:ListStreams,
                             kinesis:SubscribeToShard]
                    Effect: Allow
                    Resource: !GetAtt Stream4F5B1C2A.Arn
                Version: "2012-10-17"
              PolicyName: FnServiceRoleDefaultPolicyC6A839BF
              Roles: [!Ref FnServiceRoleB9001A96]
          Fn9270CBC0:
            Type: AWS::Lambda::Function
            Properties:
              Code: {ZipFile: x}
              Handler: index.handler
              Role: !GetAtt FnServiceRoleB9001A96.Arn
              Runtime: nodejs18.x
          FnKinesisEventSourceappStream5B1C2A3D:
            Type: AWS::Lambda::EventSourceMapping
            Properties:
              EventSourceArn: !GetAtt Stream4F5B1C2A.Arn
              FunctionName: !Ref Fn9270CBC0
              StartingPosition: TRIM_HORIZON
        """,
        name="cdk.template.json",
    ) == {}


def test_a_sam_function_with_its_own_role_gets_no_managed_policy(tmp_path):
    found = findings(
        "KDS014",
        tmp_path,
        """
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Events:
            Type: AWS::Kinesis::Stream
            Properties: {ShardCount: 1}
          Role:
            Type: AWS::IAM::Role
            Properties: {AssumeRolePolicyDocument: {}}
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.12
              Handler: a.h
              InlineCode: x
              Role: !GetAtt Role.Arn
              Events:
                Read:
                  Type: Kinesis
                  Properties: {Stream: !GetAtt Events.Arn, StartingPosition: LATEST}
        """,
        name="sam.yaml",
    )
    assert set(found) == {"Role"}
    assert found["Role"].message.startswith("Lambda function Fn (its Kinesis event Read) reads stream Events")


def test_enhanced_fan_out_needs_subscribe_to_shard_on_the_stream_or_consumer(tmp_path):
    template = BASE.replace(
        "aws_kinesis_stream.events.arn\n  function_name", "aws_kinesis_stream_consumer.fan_out.arn\n  function_name"
    ) + """
    resource "aws_kinesis_stream_consumer" "fan_out" {
      name       = "fan-out"
      stream_arn = aws_kinesis_stream.events.arn
    }
    resource "aws_iam_role_policy" "consumer" {
      role = aws_iam_role.consumer.id
      policy = jsonencode({ Version = "2012-10-17", Statement = [
        { Effect = "Allow", Action = ["kinesis:DescribeStream", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"], Resource = aws_kinesis_stream.events.arn },
        GRANT
      ] })
    }
    """
    missing = findings("KDS014", tmp_path, template.replace("GRANT", '{ Effect = "Allow", Action = "kinesis:DescribeStreamConsumer", Resource = "*" }'))
    assert "does not allow kinesis:SubscribeToShard" in missing["aws_iam_role.consumer"].message
    granted = findings("KDS014", tmp_path, template.replace("GRANT", '{ Effect = "Allow", Action = "kinesis:SubscribeToShard", Resource = aws_kinesis_stream_consumer.fan_out.arn }'))
    assert granted == {}
