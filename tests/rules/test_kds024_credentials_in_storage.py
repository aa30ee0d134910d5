"""KDS024: keys the template stores in S3 objects, plain parameters and CDK bucket deployments;
what the finding says, what it never shows, and which files are (not) read."""

from __future__ import annotations

import base64

from kds_iac.loaders import load
from kds_iac.views.stored import s3_objects
from tests.rules.one_rule import findings

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
WHY = "; whoever can read it can act with these keys: give the application a role and delete the stored keys"


def test_the_message_names_the_key_its_user_and_the_users_kinesis_permissions(tmp_path):
    found = findings(
        "KDS024",
        tmp_path,
        """
        AWSTemplateFormatVersion: "2010-09-09"
        Resources:
          Producer:
            Type: AWS::IAM::User
            Properties:
              Policies:
                - PolicyName: put
                  PolicyDocument:
                    Statement:
                      - Effect: Allow
                        Action: kinesis:PutRecord
                        Resource: arn:aws:kinesis:us-east-1:111122223333:stream/clicks
          ProducerKey:
            Type: AWS::IAM::AccessKey
            Properties:
              UserName: !Ref Producer
          Secret:
            Type: AWS::SSM::Parameter
            Properties:
              Type: String
              Value: !GetAtt ProducerKey.SecretAccessKey
        """,
        name="template.yaml",
    )
    assert set(found) == {"Secret"}
    assert found["Secret"].message == (
        "plain String SSM parameter Secret stores long-term AWS credentials (Value: the secret of IAM access key "
        "ProducerKey); ProducerKey is a key of IAM user Producer, which holds Kinesis permissions (kinesis:PutRecord)" + WHY
    )
    assert found["Secret"].primary_line == 22  # Value


def test_messages_mask_literal_keys(tmp_path):
    found = findings(
        "KDS024",
        tmp_path,
        f"""
        resource "aws_s3_object" "settings" {{
          bucket  = "config"
          key     = "settings.json"
          content = jsonencode({{ awsAccessKeyId = "{KEY_ID}", awsSecretAccessKey = "{SECRET}" }})
        }}
        resource "aws_ssm_parameter" "keys" {{
          name  = "/app/keys"
          type  = "StringList"
          value = "{KEY_ID},{SECRET}"
        }}
        """,
    )
    assert set(found) == {"aws_s3_object.settings", "aws_ssm_parameter.keys"}
    assert found["aws_s3_object.settings"].message == (
        "S3 object aws_s3_object.settings (key settings.json) stores long-term AWS credentials (content: access key id "
        "AKIA****************, a 40-character secret access key)" + WHY
    )
    assert found["aws_ssm_parameter.keys"].message == (
        "plain StringList SSM parameter aws_ssm_parameter.keys (/app/keys) stores long-term AWS credentials (value: "
        "access key id AKIA****************, a 40-character secret access key)" + WHY
    )
    for finding in found.values():
        assert KEY_ID not in finding.message and SECRET[:6] not in finding.message


def test_a_source_file_is_read_inside_the_tree_only(tmp_path):
    module = tmp_path / "module"
    module.mkdir()
    outside = tmp_path / "outside.ini"
    outside.write_text(f"[default]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n")
    found = findings(
        "KDS024",
        module,
        """
        resource "aws_s3_object" "inside" {
          bucket = "config"
          key    = "credentials"
          source = "${path.module}/credentials"
        }
        resource "aws_s3_object" "outside" {
          bucket = "config"
          key    = "other"
          source = "${path.module}/../outside.ini"
        }
        """,
        credentials=outside.read_text(),
    )
    assert set(found) == {"aws_s3_object.inside"}
    assert found["aws_s3_object.inside"].primary_line == 5  # source
    assert "(source file ./credentials: access key id AKIA****************, a 40-character secret access key)" in (
        found["aws_s3_object.inside"].message
    )
    model = load([str(module)])
    content = {o.resource.address: o.fact.value for o in s3_objects(model)}["aws_s3_object.outside"]
    assert content.reason == 'source: "${path.module}/../outside.ini" is outside the scanned tree; not read'


def test_key_settings_with_values_known_only_at_deployment_are_reported(tmp_path):
    found = findings(
        "KDS024",
        tmp_path,
        """
        variable "key_id" { type = string }
        variable "secret" {
          type      = string
          sensitive = true
        }
        resource "aws_s3_object" "agent" {
          bucket  = "config"
          key     = "agent.json"
          content = templatefile("${path.module}/agent.json.tftpl", { key_id = var.key_id, secret = var.secret })
        }
        resource "aws_s3_object" "sdk" {
          bucket         = "config"
          key            = "credentials"
          content_base64 = base64encode("[default]\\naws_secret_access_key = ${var.secret}\\n")
        }
        """,
        agent__json__tftpl='{"awsAccessKeyId": "${key_id}", "awsSecretAccessKey": "${secret}", "flows": []}',
    )
    assert set(found) == {"aws_s3_object.agent", "aws_s3_object.sdk"}
    assert "(content: Kinesis Agent setting awsAccessKeyId (templated), Kinesis Agent setting awsSecretAccessKey (templated))" in (
        found["aws_s3_object.agent"].message
    )
    assert "(content_base64: credentials setting aws_secret_access_key (templated))" in found["aws_s3_object.sdk"].message


def test_base64_content_is_decoded(tmp_path):
    encoded = base64.b64encode(f"[default]\naws_access_key_id={KEY_ID}\naws_secret_access_key={SECRET}\n".encode()).decode()
    found = findings(
        "KDS024",
        tmp_path,
        f"""
        resource "aws_s3_bucket_object" "old" {{
          bucket         = "config"
          key            = "credentials"
          content_base64 = "{encoded}"
        }}
        """,
    )
    assert set(found) == {"aws_s3_bucket_object.old"}
    assert found["aws_s3_bucket_object.old"].primary_line == 5


def test_secure_parameters_secrets_manager_key_ids_and_unknown_types_are_not_findings(tmp_path):
    found = findings(
        "KDS024",
        tmp_path,
        f"""
        variable "parameter_type" {{ type = string }}
        resource "aws_iam_user" "u" {{ name = "u" }}
        resource "aws_iam_access_key" "k" {{ user = aws_iam_user.u.name }}
        resource "aws_ssm_parameter" "secure" {{
          name  = "/app/secret"
          type  = "SecureString"
          value = aws_iam_access_key.k.secret
        }}
        resource "aws_ssm_parameter" "chosen_at_deployment" {{
          name  = "/app/secret2"
          type  = var.parameter_type
          value = aws_iam_access_key.k.secret
        }}
        resource "aws_ssm_parameter" "key_id" {{
          name  = "/app/key-id"
          type  = "String"
          value = aws_iam_access_key.k.id
        }}
        resource "aws_secretsmanager_secret_version" "v" {{
          secret_id     = "app"
          secret_string = "{SECRET}"
        }}
        """,
    )
    assert found == {}


def test_a_cdk_bucket_deployment_filled_with_a_literal_key(tmp_path):
    found = findings(
        "KDS024",
        tmp_path,
        f"""
        AWSTemplateFormatVersion: "2010-09-09"
        Resources:
          Deployment:
            Type: Custom::CDKBucketDeployment
            Properties:
              ServiceToken: arn:aws:lambda:us-east-1:111122223333:function:deploy
              SourceBucketNames: [assets]
              SourceObjectKeys: [a.zip, b.zip]
              SourceMarkers:
                - {{}}
                - "<<marker:0xbaba:0>>": {KEY_ID}
                  "<<marker:0xbaba:1>>": {SECRET}
              DestinationBucketName: site
        """,
        name="cdk.template.yaml",
    )
    assert set(found) == {"Deployment"}
    assert found["Deployment"].message == (
        "CDK bucket deployment Deployment fills long-term AWS credentials into the objects it deploys (SourceMarkers: "
        "access key id AKIA****************, a 40-character secret access key)" + WHY
    )
    assert found["Deployment"].primary_line == 10


def test_a_parameter_type_from_an_input_is_named(tmp_path):
    found = findings(
        "KDS024",
        tmp_path,
        """
        variable "kind" { default = "String" }
        resource "aws_iam_user" "u" { name = "u" }
        resource "aws_iam_access_key" "k" { user = aws_iam_user.u.name }
        resource "aws_ssm_parameter" "p" {
          name  = "/app/secret"
          type  = var.kind
          value = aws_iam_access_key.k.secret
        }
        """,
    )
    assert set(found) == {"aws_ssm_parameter.p"}
    assert found["aws_ssm_parameter.p"].message == (
        'plain String SSM parameter aws_ssm_parameter.p (/app/secret) (type from var.kind (default: "String")) stores '
        "long-term AWS credentials (value: the secret of IAM access key aws_iam_access_key.k); aws_iam_access_key.k is "
        "a key of IAM user aws_iam_user.u" + WHY
    )
    assert found["aws_ssm_parameter.p"].primary_line == 8
