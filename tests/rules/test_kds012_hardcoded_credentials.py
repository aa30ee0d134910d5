"""KDS012: where hard-coded credentials are found, what the finding says, and what it never shows."""

from __future__ import annotations

from tests.rules.one_rule import findings

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_messages_never_show_a_secret(tmp_path):
    found = findings(
        "KDS012",
        tmp_path,
        f"""
        provider "aws" {{
          access_key = "{KEY_ID}"
          secret_key = "{SECRET}"
        }}
        resource "aws_lambda_function" "f" {{
          function_name = "f"
          role          = "arn:aws:iam::123456789012:role/f"
          environment {{
            variables = {{ AWS_ACCESS_KEY_ID = "{KEY_ID}", AWS_SECRET_ACCESS_KEY = "{SECRET}" }}
          }}
        }}
        """,
    )
    assert set(found) == {"provider.aws", "aws_lambda_function.f"}
    for finding in found.values():
        assert SECRET[:8] not in finding.message and KEY_ID not in finding.message
        assert "AKIA****************" in finding.message
    assert found["provider.aws"].primary_line == 3  # the access_key argument
    assert "argument secret_key: a 40-character secret access key" in found["provider.aws"].message


def test_a_variable_default_is_a_hard_coded_key_and_the_finding_points_at_it(tmp_path):
    found = findings(
        "KDS012",
        tmp_path,
        f"""
        variable "access_key" {{
          default = "{KEY_ID}"
        }}
        variable "secret_key" {{
          type = string
        }}
        provider "aws" {{
          alias      = "ci"
          access_key = var.access_key
          secret_key = var.secret_key
        }}
        """,
    )
    (finding,) = found.values()
    assert finding.address == "provider.aws.ci"
    assert finding.primary_line == 2
    assert "(the default of var.access_key)" in finding.message and "secret" not in finding.message.split(";")[0]


def test_values_known_only_at_deployment_are_not_reported(tmp_path):
    found = findings(
        "KDS012",
        tmp_path,
        """
        variable "secret" { type = string }
        resource "aws_lambda_function" "f" {
          function_name = "f"
          role          = "arn:aws:iam::123456789012:role/f"
          environment {
            variables = {
              AWS_SECRET_ACCESS_KEY = var.secret
              API_TOKEN             = "{{resolve:secretsmanager:x}}"
            }
          }
        }
        resource "aws_instance" "i" {
          iam_instance_profile = "p"
          user_data            = "#!/bin/bash\\nexport AWS_SECRET_ACCESS_KEY=${var.secret}\\n"
        }
        """,
    )
    assert found == {}


def test_an_iam_access_key_injected_by_reference(tmp_path):
    found = findings(
        "KDS012",
        tmp_path,
        """
        resource "aws_iam_user" "app" {
          name = "app"
        }
        resource "aws_iam_access_key" "app" {
          user = aws_iam_user.app.name
        }
        resource "aws_ecs_task_definition" "t" {
          family        = "t"
          task_role_arn = "arn:aws:iam::123456789012:role/t"
          container_definitions = jsonencode([{
            name = "app"
            environment = [
              { name = "AWS_ACCESS_KEY_ID", value = aws_iam_access_key.app.id },
              { name = "AWS_SECRET_ACCESS_KEY", value = aws_iam_access_key.app.secret },
            ]
          }])
        }
        """,
    )
    message = found["aws_ecs_task_definition.t"].message
    assert "the secret of IAM access key aws_iam_access_key.app" in message
    assert "the id of IAM access key aws_iam_access_key.app" in message


def test_cloudformation_parameter_defaults_and_sam_functions(tmp_path):
    found = findings(
        "KDS012",
        tmp_path,
        f"""
        Transform: AWS::Serverless-2016-10-31
        Parameters:
          KeyId:
            Type: String
            Default: {KEY_ID}
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.12
              Handler: a.h
              InlineCode: "x"
              Environment:
                Variables:
                  AWS_ACCESS_KEY_ID: !Ref KeyId
          Instance:
            Type: AWS::EC2::Instance
            Properties:
              UserData:
                Fn::Base64: !Sub |
                  #!/bin/bash
                  echo '{{"awsAccessKeyId": "${{KeyId}}", "flows": []}}' > /etc/aws-kinesis/agent.json
        """,
        name="template.yaml",
    )
    assert set(found) == {"Fn", "Instance"}
    assert found["Fn"].resource.type == "AWS::Serverless::Function"  # what a person edits
    assert found["Fn"].primary_line == 4  # the parameter whose default holds the key
    assert "(the default of KeyId)" in found["Fn"].message
    instance = found["Instance"].message
    assert "Kinesis Agent setting awsAccessKeyId (written out) (the default of KeyId)" in instance
    assert "access key id AKIA**************** (the default of KeyId)" in instance


def test_container_commands_and_launch_configurations(tmp_path):
    found = findings(
        "KDS012",
        tmp_path,
        f"""
        Resources:
          Task:
            Type: AWS::ECS::TaskDefinition
            Properties:
              ContainerDefinitions:
                - Name: app
                  Command: ["--key", "{KEY_ID}", "--secret", "{SECRET}"]
          Config:
            Type: AWS::AutoScaling::LaunchConfiguration
            Properties:
              ImageId: ami-1
              InstanceType: t3.micro
              UserData: !Base64 "aws configure set aws_access_key_id {KEY_ID}"
          Clean:
            Type: AWS::AutoScaling::LaunchConfiguration
            Properties:
              ImageId: ami-1
              InstanceType: t3.micro
              UserData: !Base64 "yum update -y"
        """,
        name="template.yaml",
    )
    assert set(found) == {"Task", "Config"}
    assert "container app: access key id" in found["Task"].message
    assert "a 40-character secret access key" in found["Task"].message
