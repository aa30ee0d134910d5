"""KDS013: compute that talks to Kinesis without a role to take credentials from."""

from __future__ import annotations

from tests.rules.one_rule import findings

STREAM = """
resource "aws_kinesis_stream" "events" {
  name        = "events"
  shard_count = 1
}
"""


def test_an_instance_takes_its_profile_from_its_launch_template(tmp_path):
    found = findings(
        "KDS013",
        tmp_path,
        STREAM
        + """
        resource "aws_launch_template" "with_profile" {
          name = "with-profile"
          iam_instance_profile {
            name = "producer"
          }
        }
        resource "aws_launch_template" "without_profile" {
          name      = "without-profile"
          user_data = base64encode("#!/bin/bash\\nservice aws-kinesis-agent start\\n")
        }
        resource "aws_instance" "inherits" {
          launch_template {
            name = aws_launch_template.with_profile.name
          }
          user_data = "aws kinesis put-record --stream-name events --data x --partition-key y"
        }
        resource "aws_instance" "template_without" {
          launch_template {
            name = aws_launch_template.without_profile.name
          }
          user_data = "aws kinesis put-record --stream-name events --data x --partition-key y"
        }
        """,
    )
    assert set(found) == {"aws_launch_template.without_profile", "aws_instance.template_without"}
    assert "configures the Kinesis Agent" in found["aws_launch_template.without_profile"].message
    assert "names stream aws_kinesis_stream.events" in found["aws_instance.template_without"].message


def test_what_cannot_be_known_is_not_reported(tmp_path):
    found = findings(
        "KDS013",
        tmp_path,
        STREAM
        + """
        variable "profile" { type = string }
        variable "script" { type = string }
        variable "task_role" { type = string }
        resource "aws_instance" "profile_from_input" {
          iam_instance_profile = var.profile
          user_data            = "aws kinesis put-record --stream-name events"
        }
        resource "aws_instance" "user_data_from_input" {
          user_data = var.script
        }
        resource "aws_instance" "unrelated" {
          user_data = "#!/bin/bash\\necho events > /tmp/events\\n"
        }
        resource "aws_instance" "template_elsewhere" {
          launch_template {
            name = "made-elsewhere"
          }
          user_data = "aws kinesis put-record --stream-name events"
        }
        resource "aws_ecs_task_definition" "role_from_input" {
          family                = "t"
          task_role_arn         = var.task_role
          container_definitions = jsonencode([{ name = "a", environment = [{ name = "STREAM", value = "events" }] }])
        }
        resource "aws_ecs_task_definition" "no_kinesis" {
          family                = "u"
          container_definitions = jsonencode([{ name = "a", environment = [{ name = "PORT", value = "80" }] }])
        }
        """,
    )
    assert found == {}


def test_tasks_name_streams_by_reference_arn_name_or_variable_name(tmp_path):
    found = findings(
        "KDS013",
        tmp_path,
        """
        Parameters:
          RoleArn:
            Type: String
            Default: ""
        Resources:
          Events:
            Type: AWS::Kinesis::Stream
            Properties: {Name: events, ShardCount: 1}
          ByArn:
            Type: AWS::ECS::TaskDefinition
            Properties:
              ContainerDefinitions:
                - Name: app
                  Command: [producer, --stream, "arn:aws:kinesis:eu-west-1:123456789012:stream/elsewhere"]
          ByName:
            Type: AWS::ECS::TaskDefinition
            Properties:
              TaskRoleArn: !Ref RoleArn
              ContainerDefinitions:
                - Name: app
                  Environment: [{Name: STREAM, Value: events}]
          ByVariableName:
            Type: AWS::ECS::TaskDefinition
            Properties:
              ContainerDefinitions:
                - Name: app
                  Environment: [{Name: KINESIS_ENDPOINT, Value: "https://kinesis.eu-west-1.amazonaws.com"}]
          WithRole:
            Type: AWS::ECS::TaskDefinition
            Properties:
              TaskRoleArn: arn:aws:iam::123456789012:role/app
              ContainerDefinitions:
                - Name: app
                  Environment: [{Name: STREAM, Value: !Ref Events}]
        """,
        name="template.yaml",
    )
    assert set(found) == {"ByArn", "ByName", "ByVariableName"}
    assert "stream arn:aws:kinesis:eu-west-1:123456789012:stream/elsewhere" in found["ByArn"].message
    assert 'TaskRoleArn is not set with input defaults; decided by RoleArn (default: "")' in found["ByName"].message
    assert "Kinesis in environment variable KINESIS_ENDPOINT" in found["ByVariableName"].message
    assert "execution role" not in found["ByArn"].message


def test_findings_sit_on_the_resource_block(tmp_path):
    found = findings(
        "KDS013",
        tmp_path,
        """
        resource "aws_launch_configuration" "lc" {
          image_id  = "ami-1"
          user_data = "#!/bin/bash\\ncat > /etc/aws-kinesis/agent.json <<EOF\\n{}\\nEOF\\n"
        }
        """,
    )
    finding = found["aws_launch_configuration.lc"]
    assert finding.primary_line == 2
    assert finding.message.startswith("launch configuration aws_launch_configuration.lc configures the Kinesis Agent")
