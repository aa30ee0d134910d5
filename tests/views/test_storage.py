"""The storage view: bucket default encryption, SQS/SNS encryption, Firehose's S3 deliveries."""

from __future__ import annotations

import textwrap

from kds_iac.loaders import load
from kds_iac.model import Resource, Unknown
from kds_iac.views import compute, kms, storage
from kds_iac.views.facts import ABSENT, Fact


def load_tf(tmp_path, text):
    (tmp_path / "main.tf").write_text(textwrap.dedent(text))
    model = load([str(tmp_path)])
    assert [d for d in model.diagnostics if d.level == "error"] == []
    return model


def load_cfn(tmp_path, text):
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(text))
    model = load([str(path)])
    assert [d for d in model.diagnostics if d.level == "error"] == []
    return model


def resource(model, address) -> Resource:
    return next(r for r in model.resources if r.address == address)


def test_terraform_bucket_encryption_sources_and_the_sse_s3_default(tmp_path):
    model = load_tf(
        tmp_path,
        """
        variable "algorithm" {
          type = string
        }
        resource "aws_s3_bucket" "plain" {
          bucket = "plain"
        }
        resource "aws_s3_bucket" "by_ref" {
          bucket = "by-ref"
        }
        resource "aws_s3_bucket_server_side_encryption_configuration" "by_ref" {
          bucket = aws_s3_bucket.by_ref.id
          rule {
            apply_server_side_encryption_by_default {
              sse_algorithm = "aws:kms"
            }
          }
        }
        resource "aws_s3_bucket" "by_name" {
          bucket = "by-name"
        }
        resource "aws_s3_bucket_server_side_encryption_configuration" "by_name" {
          bucket = "by-name"
          rule {
            apply_server_side_encryption_by_default {
              sse_algorithm = var.algorithm
            }
          }
        }
        resource "aws_s3_bucket" "inline" {
          bucket = "inline"
          server_side_encryption_configuration {
            rule {
              apply_server_side_encryption_by_default {
                sse_algorithm = "aws:kms:dsse"
              }
            }
          }
        }
        """,
    )
    plain = storage.bucket_encryption(resource(model, "aws_s3_bucket.plain"), model)
    assert plain.algorithm.value == "AES256" and plain.kms is False
    by_ref = storage.bucket_encryption(resource(model, "aws_s3_bucket.by_ref"), model)
    assert by_ref.kms is True
    assert by_ref.written_on.address == "aws_s3_bucket_server_side_encryption_configuration.by_ref"
    by_name = storage.bucket_encryption(resource(model, "aws_s3_bucket.by_name"), model)
    assert by_name.kms is None  # an input without default
    assert storage.bucket_encryption(resource(model, "aws_s3_bucket.inline"), model).kms is True


def test_cloudformation_bucket_encryption(tmp_path):
    model = load_cfn(
        tmp_path,
        """
        Resources:
          Plain:
            Type: AWS::S3::Bucket
          Kms:
            Type: AWS::S3::Bucket
            Properties:
              BucketEncryption:
                ServerSideEncryptionConfiguration:
                  - ServerSideEncryptionByDefault:
                      SSEAlgorithm: aws:kms
          Aes:
            Type: AWS::S3::Bucket
            Properties:
              BucketEncryption:
                ServerSideEncryptionConfiguration:
                  - ServerSideEncryptionByDefault:
                      SSEAlgorithm: AES256
        """,
    )
    assert storage.bucket_encryption(resource(model, "Plain"), model).kms is False
    assert storage.bucket_encryption(resource(model, "Kms"), model).kms is True
    assert storage.bucket_encryption(resource(model, "Aes"), model).kms is False


def test_bucket_of_resolves_edges_arns_and_leaves_the_rest_unknown(tmp_path):
    model = load_tf(
        tmp_path,
        """
        variable "arn" {
          type = string
        }
        resource "aws_s3_bucket" "b" {
          bucket = "named"
        }
        resource "aws_kinesis_firehose_delivery_stream" "f" {
          name        = "f"
          destination = "extended_s3"
          kinesis_source_configuration {
            kinesis_stream_arn = "arn:aws:kinesis:eu-west-1:111122223333:stream/s"
            role_arn           = "arn:aws:iam::111122223333:role/r"
          }
          extended_s3_configuration {
            role_arn    = "arn:aws:iam::111122223333:role/r"
            bucket_arn  = "arn:aws:s3:::named"
            kms_key_arn = var.arn
            s3_backup_mode = "Enabled"
            s3_backup_configuration {
              role_arn   = "arn:aws:iam::111122223333:role/r"
              bucket_arn = var.arn
            }
          }
        }
        """,
    )
    deliveries = storage.s3_deliveries(resource(model, "aws_kinesis_firehose_delivery_stream.f"), model)
    assert [d.role for d in deliveries] == ["S3 destination", "S3 backup"]
    destination, backup = deliveries
    assert destination.bucket.value is resource(model, "aws_s3_bucket.b")
    assert isinstance(destination.kms_key.value, Unknown)
    assert storage.delivery_kms(destination, model)[0] is None  # the key is an input without default
    assert isinstance(backup.bucket.value, Unknown)
    assert storage.delivery_kms(backup, model)[0] is None


def test_message_stores_and_their_defaults(tmp_path):
    model = load_tf(
        tmp_path,
        """
        resource "aws_sqs_queue" "default" {
          name = "default"
        }
        resource "aws_sqs_queue" "kms" {
          name              = "kms"
          kms_master_key_id = "alias/aws/sqs"
        }
        resource "aws_sns_topic" "plain" {
          name = "plain"
        }
        resource "aws_s3_bucket" "b" {
          bucket = "b"
        }
        """,
    )
    default = storage.message_store(resource(model, "aws_sqs_queue.default"))
    assert default.kms is False and default.sqs_managed_sse.value is True
    assert storage.message_store(resource(model, "aws_sqs_queue.kms")).kms is True
    topic = storage.message_store(resource(model, "aws_sns_topic.plain"))
    assert topic.kind == "SNS topic" and topic.kms is False
    by_arn = storage.message_store_of(
        Fact("arn:aws:sqs:eu-west-1:111122223333:default"), model
    ).value
    assert by_arn.resource is resource(model, "aws_sqs_queue.default")
    assert isinstance(storage.message_store_of(Fact("arn:aws:sns:eu-west-1:1:elsewhere"), model).value, Unknown)
    assert storage.message_store_of(Fact("arn:aws:s3:::b"), model).value is ABSENT


def test_mapping_on_failure_destination_and_existing_fields(tmp_path):
    model = load_cfn(
        tmp_path,
        """
        Resources:
          Stream:
            Type: AWS::Kinesis::Stream
            Properties:
              ShardCount: 1
          Topic:
            Type: AWS::SNS::Topic
          Mapping:
            Type: AWS::Lambda::EventSourceMapping
            Properties:
              EventSourceArn: !GetAtt Stream.Arn
              FunctionName: fn
              DestinationConfig:
                OnFailure:
                  Destination: !Ref Topic
          Plain:
            Type: AWS::Lambda::EventSourceMapping
            Properties:
              EventSourceArn: !GetAtt Stream.Arn
              FunctionName: fn
        """,
    )
    mappings = {m.resource.address: m for m in compute.event_source_mappings(model)}
    assert mappings["Mapping"].on_failure_setting == "DestinationConfig.OnFailure.Destination"
    store = storage.message_store_of(mappings["Mapping"].on_failure, model).value
    assert store.resource.address == "Topic" and store.kms is False
    assert mappings["Plain"].on_failure.value is ABSENT
    assert mappings["Plain"].source.value.stream.address == "Stream"


def test_kms_key_enabled_default_and_setting(tmp_path):
    model = load_tf(
        tmp_path,
        """
        resource "aws_kms_key" "on" {
          description = "on"
        }
        resource "aws_kms_key" "off" {
          description = "off"
          is_enabled  = false
        }
        """,
    )
    resolver = kms.key_resolver(model)
    assert resolver.key(resource(model, "aws_kms_key.on")).enabled.value is True
    off = resolver.key(resource(model, "aws_kms_key.off"))
    assert off.enabled.value is False and off.enabled_setting == "is_enabled"
    assert off.rotation.value is False  # the existing API is unchanged


def test_redshift_staging_bucket_counts_and_its_backup_only_when_enabled(tmp_path):
    model = load_cfn(
        tmp_path,
        """
        Resources:
          Staging:
            Type: AWS::S3::Bucket
          Backup:
            Type: AWS::S3::Bucket
          Delivery:
            Type: AWS::KinesisFirehose::DeliveryStream
            Properties:
              KinesisStreamSourceConfiguration:
                KinesisStreamARN: arn:aws:kinesis:eu-west-1:111122223333:stream/s
                RoleARN: arn:aws:iam::111122223333:role/r
              RedshiftDestinationConfiguration:
                ClusterJDBCURL: jdbc:redshift://example:5439/db
                Username: u
                Password: "{{resolve:secretsmanager:p}}"
                RoleARN: arn:aws:iam::111122223333:role/r
                CopyCommand:
                  DataTableName: t
                S3Configuration:
                  BucketARN: !GetAtt Staging.Arn
                  RoleARN: arn:aws:iam::111122223333:role/r
                S3BackupConfiguration:
                  BucketARN: !GetAtt Backup.Arn
                  RoleARN: arn:aws:iam::111122223333:role/r
        """,
    )
    deliveries = storage.s3_deliveries(resource(model, "Delivery"), model)
    assert [(d.role, d.bucket.value.address) for d in deliveries] == [("S3 staging bucket", "Staging")]
