"""Every policy form the issue lists, loaded and normalized: exact statements, exact reach.

Each test writes a small module or template, loads it as the CLI would, and asserts the
statements ``kds_iac.views.iam`` builds (effect, actions, not_actions, resources and
not_resources as written, principals, conditions), where each document is attached, and
which streams it covers.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kds_iac.loaders import load
from kds_iac.views.iam import Coverage, iam
from kds_iac.views.kinesis import streams


def _write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def load_terraform(tmp_path: Path, main: str, files: dict[str, str] | None = None):
    _write(tmp_path, {"main.tf": main, **(files or {})})
    model = load([str(tmp_path)])
    assert [d for d in model.diagnostics if d.level == "error"] == []
    return model


def load_template(tmp_path: Path, text: str):
    _write(tmp_path, {"template.yaml": text})
    model = load([str(tmp_path / "template.yaml")])
    assert [d for d in model.diagnostics if d.level == "error"] == []
    return model


def statement(s) -> tuple:
    """A statement as a comparable tuple; unknown parts shown as ``${...}``."""
    conditions = tuple(sorted((op, key, values) for (op, key), values in s.conditions.items()))
    return (
        s.sid,
        s.effect,
        s.actions,
        s.not_actions,
        tuple(v.text for v in s.resource_values),
        tuple(v.text for v in s.not_resource_values),
        s.principals,
        conditions,
    )


def documents(model) -> dict[tuple[str, str, str], list[tuple]]:
    """(holder address, attribute, name) -> statements, for every document of the scan."""
    out = {}
    for document in iam(model).documents:
        key = (document.holder.address, document.attribute, document.aws_managed or document.name)
        value = document.statements.value
        out[key] = [statement(s) for s in value] if isinstance(value, list) else f"unknown: {value.reason}"
    return out


def reach(model) -> dict[str, set[tuple[str, str]]]:
    """principal -> {(document, how)} for every principal of the scan."""
    out = {}
    for principal in iam(model).principals:
        found = {(a.document.describe(), a.via.address) for a in principal.attachments}
        found |= {(a.document.describe(), f"group {g.address}") for g in principal.groups for a in g.attachments}
        out[principal.address] = found
    return out


# --------------------------------------------------------------------------- Terraform


def test_terraform_inline_forms_jsonencode_heredoc_file_templatefile(tmp_path):
    model = load_terraform(
        tmp_path,
        """
        variable "stream_arn" {
          default = "arn:aws:kinesis:us-east-1:111122223333:stream/orders"
        }
        resource "aws_kinesis_stream" "s" {
          name        = "events"
          shard_count = 1
        }
        resource "aws_iam_role" "r" {
          name               = "app"
          assume_role_policy = "{}"
          inline_policy {
            name   = "inline"
            policy = jsonencode({ Version = "2012-10-17", Statement = [{ Sid = "J", Effect = "Allow", Action = ["kinesis:PutRecord"], Resource = aws_kinesis_stream.s.arn }] })
          }
        }
        resource "aws_iam_role_policy" "heredoc" {
          name   = "heredoc"
          role   = aws_iam_role.r.id
          policy = <<-EOT
            {"Version": "2012-10-17", "Statement": [{"Sid": "H", "Effect": "Allow", "Action": "kinesis:GetRecords", "Resource": "${aws_kinesis_stream.s.arn}"}]}
          EOT
        }
        resource "aws_iam_user" "u" {
          name = "u"
        }
        resource "aws_iam_user_policy" "file" {
          name   = "file"
          user   = aws_iam_user.u.name
          policy = file("${path.module}/policies/static.json")
        }
        resource "aws_iam_group" "g" {
          name = "g"
        }
        resource "aws_iam_group_policy" "template" {
          name   = "template"
          group  = aws_iam_group.g.name
          policy = templatefile("${path.module}/policies/read.json.tpl", { stream = aws_kinesis_stream.s.arn, other = var.stream_arn, fixed = "arn:aws:kinesis:*:*:stream/fixed" })
        }
        resource "aws_iam_policy" "relative_file" {
          name   = "relative"
          policy = file("policies/static.json")
        }
        resource "aws_iam_policy" "missing_file" {
          name   = "missing"
          policy = file("${path.module}/policies/missing.json")
        }
        """,
        files={
            "policies/static.json": """
            {"Version": "2012-10-17", "Statement": [{"Sid": "F", "Effect": "Deny", "NotAction": "kinesis:Get*", "NotResource": "arn:aws:kinesis:*:*:stream/keep"}]}
            """,
            "policies/read.json.tpl": """
            {"Version": "2012-10-17", "Statement": [{"Sid": "T", "Effect": "Allow", "Action": ["kinesis:GetRecords"],
              "Resource": ["${stream}", "${other}", "${fixed}", "arn:aws:kinesis:*:*:stream/$${literal}"]}]}
            """,
        },
    )
    static = [("F", "Deny", (), ("kinesis:Get*",), (), ("arn:aws:kinesis:*:*:stream/keep",), None, ())]
    assert documents(model) == {
        ("aws_iam_role.r", "inline_policy", "inline"): [
            ("J", "Allow", ("kinesis:PutRecord",), (), ("${aws_kinesis_stream.s}",), (), None, ()),
        ],
        ("aws_iam_role_policy.heredoc", "policy", "heredoc"): [
            ("H", "Allow", ("kinesis:GetRecords",), (), ("${aws_kinesis_stream.s}",), (), None, ()),
        ],
        ("aws_iam_user_policy.file", "policy", "file"): static,
        ("aws_iam_group_policy.template", "policy", "template"): [
            (
                "T", "Allow", ("kinesis:GetRecords",), (),
                (
                    "${aws_kinesis_stream.s.arn}",
                    "arn:aws:kinesis:us-east-1:111122223333:stream/orders",
                    "arn:aws:kinesis:*:*:stream/fixed",
                    "arn:aws:kinesis:*:*:stream/${literal}",
                ),
                (), None, (),
            )
        ],
        ("aws_iam_policy.relative_file", "policy", ""): static,
        ("aws_iam_policy.missing_file", "policy", ""): "unknown: file() of a path known only at deployment",
    }
    assert reach(model) == {
        "aws_iam_role.r": {
            ("inline policy inline of aws_iam_role.r", "aws_iam_role.r"),
            ("policy of aws_iam_role_policy.heredoc", "aws_iam_role_policy.heredoc"),
        },
        "aws_iam_user.u": {("policy of aws_iam_user_policy.file", "aws_iam_user_policy.file")},
        "aws_iam_group.g": {("policy of aws_iam_group_policy.template", "aws_iam_group_policy.template")},
    }
    template = next(d for d in iam(model).documents if d.holder.address == "aws_iam_group_policy.template")
    assert template.known_statements[0].provenance() == 'var.stream_arn (default: "arn:aws:kinesis:us-east-1:111122223333:stream/orders")'


def test_terraform_policy_document_merges_sources_and_overrides(tmp_path):
    model = load_terraform(
        tmp_path,
        """
        data "aws_iam_policy_document" "source" {
          statement {
            sid       = "Replaced"
            actions   = ["kinesis:DeleteStream"]
            resources = ["*"]
          }
          statement {
            sid       = "Kept"
            actions   = ["kinesis:ListStreams"]
            resources = ["*"]
          }
        }
        data "aws_iam_policy_document" "doc" {
          source_policy_documents   = [data.aws_iam_policy_document.source.json]
          override_policy_documents = [jsonencode({ Version = "2012-10-17", Statement = [{ Sid = "Own", Effect = "Deny", Action = "kinesis:PutRecord", Resource = "*" }] })]
          statement {
            sid       = "Replaced"
            actions   = ["kinesis:DescribeStreamSummary"]
            resources = ["arn:aws:kinesis:*:*:stream/a"]
          }
          statement {
            sid           = "Own"
            effect        = "Allow"
            not_actions   = ["iam:*"]
            not_resources = ["arn:aws:s3:::bucket"]
            condition {
              test     = "StringEquals"
              variable = "aws:PrincipalOrgID"
              values   = ["o-123"]
            }
          }
          statement {
            sid     = "Trust"
            actions = ["sts:AssumeRole"]
            principals {
              type        = "AWS"
              identifiers = ["arn:aws:iam::444455556666:root", "*"]
            }
          }
        }
        resource "aws_iam_policy" "p" {
          name   = "p"
          policy = data.aws_iam_policy_document.doc.json
        }
        """,
    )
    assert documents(model) == {
        ("aws_iam_policy.p", "policy", ""): [
            ("Replaced", "Allow", ("kinesis:DescribeStreamSummary",), (), ("arn:aws:kinesis:*:*:stream/a",), (), None, ()),
            ("Kept", "Allow", ("kinesis:ListStreams",), (), ("*",), (), None, ()),
            ("Own", "Deny", ("kinesis:PutRecord",), (), ("*",), (), None, ()),
            (
                "Trust", "Allow", ("sts:AssumeRole",), (), (), (),
                (("AWS", "arn:aws:iam::444455556666:root"), ("AWS", "*")), (),
            ),
        ]
    }
    own = next(s for s in iam(model).documents[0].known_statements if s.sid == "Kept")
    assert own.origin == "data.aws_iam_policy_document.source"


def test_terraform_policy_document_not_actions_and_conditions(tmp_path):
    model = load_terraform(
        tmp_path,
        """
        data "aws_iam_policy_document" "doc" {
          statement {
            sid           = "NotAction"
            not_actions   = ["iam:*"]
            not_resources = ["arn:aws:s3:::bucket"]
            condition {
              test     = "StringEquals"
              variable = "aws:PrincipalOrgID"
              values   = ["o-123"]
            }
            condition {
              test     = "Bool"
              variable = "aws:SecureTransport"
              values   = ["true"]
            }
          }
        }
        resource "aws_iam_policy" "p" {
          name   = "p"
          policy = data.aws_iam_policy_document.doc.json
        }
        """,
    )
    assert documents(model) == {
        ("aws_iam_policy.p", "policy", ""): [
            (
                "NotAction", "Allow", (), ("iam:*",), (), ("arn:aws:s3:::bucket",), None,
                (("Bool", "aws:securetransport", ("true",)), ("StringEquals", "aws:principalorgid", ("o-123",))),
            ),
        ]
    }
    statement_ = iam(model).documents[0].known_statements[0]
    assert "kinesis:DeleteStream" in statement_.kinesis_actions and "iam:CreateUser" not in statement_.expanded_actions


def test_terraform_attachments_memberships_access_keys(tmp_path):
    model = load_terraform(
        tmp_path,
        """
        resource "aws_iam_role" "r" {
          name                = "r"
          assume_role_policy  = "{}"
          managed_policy_arns = ["arn:aws:iam::aws:policy/AmazonKinesisReadOnlyAccess", aws_iam_policy.p.arn]
        }
        resource "aws_iam_user" "u" {
          name = "u"
        }
        resource "aws_iam_user" "v" {
          name = "v"
        }
        resource "aws_iam_group" "g" {
          name = "g"
        }
        resource "aws_iam_group" "h" {
          name = "h"
        }
        resource "aws_iam_policy" "p" {
          name   = "p"
          policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "kinesis:PutRecord", Resource = "*" }] })
        }
        resource "aws_iam_role_policy_attachment" "to_role" {
          role       = aws_iam_role.r.name
          policy_arn = aws_iam_policy.p.arn
        }
        resource "aws_iam_user_policy_attachment" "to_user" {
          user       = aws_iam_user.u.name
          policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
        }
        resource "aws_iam_group_policy_attachment" "to_group" {
          group      = aws_iam_group.g.name
          policy_arn = aws_iam_policy.p.arn
        }
        resource "aws_iam_policy_attachment" "many" {
          name       = "many"
          users      = [aws_iam_user.v.name]
          groups     = [aws_iam_group.h.name]
          roles      = ["r"]
          policy_arn = "arn:aws:iam::aws:policy/PowerUserAccess"
        }
        resource "aws_iam_user_group_membership" "u" {
          user   = aws_iam_user.u.name
          groups = [aws_iam_group.g.name, aws_iam_group.h.name]
        }
        resource "aws_iam_group_membership" "h" {
          name  = "h"
          group = aws_iam_group.h.name
          users = [aws_iam_user.v.name]
        }
        resource "aws_iam_access_key" "u" {
          user = aws_iam_user.u.name
        }
        resource "aws_iam_access_key" "v" {
          user = aws_iam_user.v.name
        }
        output "secret" {
          value     = aws_iam_access_key.u.secret
          sensitive = true
        }
        output "id" {
          value = aws_iam_access_key.v.id
        }
        """,
    )
    assert reach(model) == {
        "aws_iam_role.r": {
            ("AWS managed policy AmazonKinesisReadOnlyAccess", "aws_iam_role.r"),
            ("policy of aws_iam_policy.p", "aws_iam_role.r"),
            ("policy of aws_iam_policy.p", "aws_iam_role_policy_attachment.to_role"),
            ("AWS managed policy PowerUserAccess", "aws_iam_policy_attachment.many"),
        },
        "aws_iam_user.u": {
            ("AWS managed policy AdministratorAccess", "aws_iam_user_policy_attachment.to_user"),
            ("policy of aws_iam_policy.p", "group aws_iam_group.g"),
            ("AWS managed policy PowerUserAccess", "group aws_iam_group.h"),
        },
        "aws_iam_user.v": {
            ("AWS managed policy PowerUserAccess", "aws_iam_policy_attachment.many"),
            ("AWS managed policy PowerUserAccess", "group aws_iam_group.h"),
        },
        "aws_iam_group.g": {("policy of aws_iam_policy.p", "aws_iam_group_policy_attachment.to_group")},
        "aws_iam_group.h": {("AWS managed policy PowerUserAccess", "aws_iam_policy_attachment.many")},
    }
    view = iam(model)
    assert {(k.resource.address, k.user.address, tuple(o.address for o in k.exported_in)) for k in view.access_keys} == {
        ("aws_iam_access_key.u", "aws_iam_user.u", ("output.secret",)),
        ("aws_iam_access_key.v", "aws_iam_user.v", ()),
    }
    managed = {d.aws_managed: [statement(s) for s in d.known_statements] for d in view.documents if d.aws_managed}
    assert managed["AmazonKinesisReadOnlyAccess"] == [
        ("", "Allow", ("kinesis:Get*", "kinesis:List*", "kinesis:Describe*"), (), ("*",), (), None, ())
    ]
    assert managed["PowerUserAccess"] == [
        ("", "Allow", (), ("iam:*", "organizations:*", "account:*"), ("*",), (), None, ())
    ]


def test_terraform_resource_policy_and_stream_coverage(tmp_path):
    model = load_terraform(
        tmp_path,
        """
        variable "name" {
          type = string
        }
        resource "aws_kinesis_stream" "orders" {
          name        = "orders"
          shard_count = 1
        }
        resource "aws_kinesis_stream" "clicks" {
          name        = "clicks"
          shard_count = 1
        }
        resource "aws_kinesis_stream_consumer" "c" {
          name       = "c"
          stream_arn = aws_kinesis_stream.orders.arn
        }
        resource "aws_iam_role" "r" {
          name               = "r"
          assume_role_policy = "{}"
        }
        resource "aws_iam_role_policy" "p" {
          role = aws_iam_role.r.id
          policy = jsonencode({
            Version = "2012-10-17"
            Statement = [
              { Sid = "Ref", Effect = "Allow", Action = "kinesis:PutRecord", Resource = aws_kinesis_stream.orders.arn },
              { Sid = "Name", Effect = "Allow", Action = "kinesis:GetRecords", Resource = "arn:aws:kinesis:*:*:stream/${aws_kinesis_stream.clicks.name}" },
              { Sid = "Pattern", Effect = "Allow", Action = "kinesis:ListShards", Resource = "arn:aws:kinesis:*:*:stream/*" },
              { Sid = "Prefix", Effect = "Allow", Action = "kinesis:DescribeStream", Resource = "arn:aws:kinesis:*:*:stream/ord*" },
              { Sid = "Input", Effect = "Allow", Action = "kinesis:GetShardIterator", Resource = "arn:aws:kinesis:*:*:stream/${var.name}" },
              { Sid = "Consumer", Effect = "Allow", Action = "kinesis:SubscribeToShard", Resource = aws_kinesis_stream_consumer.c.arn },
              { Sid = "Deny", Effect = "Deny", Action = "kinesis:ListShards", Resource = aws_kinesis_stream.clicks.arn },
              { Sid = "Unlisted", Effect = "Allow", Action = "kinesis:ListStreams", Resource = "*" },
            ]
          })
        }
        resource "aws_kinesis_resource_policy" "rp" {
          resource_arn = aws_kinesis_stream.orders.arn
          policy = jsonencode({
            Version   = "2012-10-17"
            Statement = [{ Sid = "Read", Effect = "Allow", Principal = { AWS = "arn:aws:iam::444455556666:root" }, Action = "kinesis:GetRecords", Resource = aws_kinesis_stream.orders.arn }]
          })
        }
        """,
    )
    view = iam(model)
    by_address = {s.address: s for s in streams(model)}
    orders, clicks = by_address["aws_kinesis_stream.orders"], by_address["aws_kinesis_stream.clicks"]
    statements = {s.sid: s for s in view.documents[0].known_statements}
    coverage = {sid: (view.covers(s, orders), view.covers(s, clicks)) for sid, s in statements.items()}
    assert coverage == {
        "Ref": (Coverage.YES, Coverage.NO),
        "Name": (Coverage.NO, Coverage.YES),
        "Pattern": (Coverage.YES, Coverage.YES),
        "Prefix": (Coverage.YES, Coverage.NO),
        "Input": (Coverage.MAYBE, Coverage.MAYBE),
        "Consumer": (Coverage.YES, Coverage.NO),
        "Deny": (Coverage.NO, Coverage.YES),
        "Unlisted": (Coverage.YES, Coverage.YES),
    }
    role = view.principal(next(r for r in model.resources if r.address == "aws_iam_role.r"))
    on_orders = view.kinesis_access(role, orders)
    assert on_orders.actions == {
        "kinesis:PutRecord", "kinesis:ListShards", "kinesis:DescribeStream", "kinesis:SubscribeToShard",
    }
    assert on_orders.maybe == {"kinesis:GetShardIterator"}
    on_clicks = view.kinesis_access(role, clicks)
    assert on_clicks.actions == {"kinesis:GetRecords"}
    assert on_clicks.denied == {"kinesis:ListShards"}
    assert [g.statement.sid for g in on_clicks.grants_for("kinesis:GetRecords")] == ["Name"]
    resource_policy = next(d for d in view.documents if d.kind == "resource")
    assert [r.address for r in resource_policy.on] == ["aws_kinesis_stream.orders"]
    assert [statement(s) for s in resource_policy.known_statements] == [
        ("Read", "Allow", ("kinesis:GetRecords",), (), ("${aws_kinesis_stream.orders}",), (),
         (("AWS", "arn:aws:iam::444455556666:root"),), ()),
    ]


# --------------------------------------------------------------------------- CloudFormation


CLOUDFORMATION = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      Name: orders
      ShardCount: 1
  Other:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
      ManagedPolicyArns:
        - !Sub arn:${AWS::Partition}:iam::aws:policy/AmazonKinesisFullAccess
        - !Join ["", ["arn:", !Ref AWS::Partition, ":iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole"]]
        - !Ref Managed
      Policies:
        - PolicyName: inline
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: Sub
                Effect: Allow
                Action: kinesis:PutRecord
                Resource: !Sub arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/${Stream}
              - Sid: Join
                Effect: Allow
                Action: [kinesis:GetRecords]
                Resource: !Join ["", ["arn:aws:kinesis:", !Ref AWS::Region, ":", !Ref AWS::AccountId, ":stream/", !Ref Stream]]
              - Sid: GetAtt
                Effect: Allow
                Action: kinesis:GetShardIterator
                Resource: !GetAtt Stream.Arn
              - Sid: Every
                Effect: Allow
                Action: kinesis:DescribeStream
                Resource: !Sub arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/*
  User:
    Type: AWS::IAM::User
    Properties:
      Groups: [!Ref Group]
      Policies:
        - PolicyName: user-inline
          PolicyDocument:
            Statement:
              Effect: Allow
              Action: kinesis:ListStreams
              Resource: "*"
  Listed:
    Type: AWS::IAM::User
  Group:
    Type: AWS::IAM::Group
    Properties:
      ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]
      Policies:
        - PolicyName: group-inline
          PolicyDocument:
            Statement:
              - Effect: Allow
                NotAction: iam:*
                NotResource: !GetAtt Other.Arn
  Add:
    Type: AWS::IAM::UserToGroupAddition
    Properties:
      GroupName: !Ref Group
      Users: [!Ref Listed]
  Managed:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Users: [!Ref User]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Action: kinesis:PutRecords
            Resource: !GetAtt Stream.Arn
  Policy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: attached
      Roles: [!Ref Role]
      Groups: [!Ref Group]
      PolicyDocument: '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:DescribeStreamSummary", "Resource": "*"}]}'
  ResourcePolicy:
    Type: AWS::Kinesis::ResourcePolicy
    Properties:
      ResourceArn: !GetAtt Stream.Arn
      ResourcePolicy:
        Statement:
          - Effect: Allow
            Principal: "*"
            Action: kinesis:GetRecords
            Resource: !GetAtt Stream.Arn
            Condition:
              StringEquals:
                aws:PrincipalOrgID: o-123
  Key:
    Type: AWS::IAM::AccessKey
    Properties:
      UserName: !Ref User
Outputs:
  Secret:
    Value: !GetAtt Key.SecretAccessKey
"""


def test_cloudformation_policy_forms(tmp_path):
    model = load_template(tmp_path, CLOUDFORMATION)
    docs = documents(model)
    assert docs[("Role", "Policies", "inline")] == [
        ("Sub", "Allow", ("kinesis:PutRecord",), (), ("arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/${Stream}",), (), None, ()),
        ("Join", "Allow", ("kinesis:GetRecords",), (), ("arn:aws:kinesis:${AWS::Region}:${AWS::AccountId}:stream/${Stream}",), (), None, ()),
        ("GetAtt", "Allow", ("kinesis:GetShardIterator",), (), ("${Stream.Arn}",), (), None, ()),
        ("Every", "Allow", ("kinesis:DescribeStream",), (), ("arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/*",), (), None, ()),
    ]
    assert docs[("User", "Policies", "user-inline")] == [("", "Allow", ("kinesis:ListStreams",), (), ("*",), (), None, ())]
    assert docs[("Group", "Policies", "group-inline")] == [("", "Allow", (), ("iam:*",), (), ("${Other.Arn}",), None, ())]
    assert docs[("Managed", "PolicyDocument", "")] == [("", "Allow", ("kinesis:PutRecords",), (), ("${Stream.Arn}",), (), None, ())]
    assert docs[("Policy", "PolicyDocument", "attached")] == [
        ("", "Allow", ("kinesis:DescribeStreamSummary",), (), ("*",), (), None, ())
    ]
    assert docs[("ResourcePolicy", "ResourcePolicy", "")] == [
        ("", "Allow", ("kinesis:GetRecords",), (), ("${Stream.Arn}",), (), (("*", "*"),),
         (("StringEquals", "aws:principalorgid", ("o-123",)),)),
    ]
    assert {k for k in docs if k[2] in ("AmazonKinesisFullAccess", "AWSLambdaKinesisExecutionRole", "AdministratorAccess")} == {
        ("Role", "ManagedPolicyArns", "AmazonKinesisFullAccess"),
        ("Role", "ManagedPolicyArns", "AWSLambdaKinesisExecutionRole"),
        ("Group", "ManagedPolicyArns", "AdministratorAccess"),
    }
    assert reach(model) == {
        "Role": {
            ("inline policy inline of Role", "Role"),
            ("AWS managed policy AmazonKinesisFullAccess", "Role"),
            ("AWS managed policy AWSLambdaKinesisExecutionRole", "Role"),
            ("policy of Managed", "Role"),
            ("policy of Policy", "Policy"),
        },
        "User": {
            ("inline policy user-inline of User", "User"),
            ("policy of Managed", "Managed"),
            ("inline policy group-inline of Group", "group Group"),
            ("AWS managed policy AdministratorAccess", "group Group"),
            ("policy of Policy", "group Group"),
        },
        "Listed": {
            ("inline policy group-inline of Group", "group Group"),
            ("AWS managed policy AdministratorAccess", "group Group"),
            ("policy of Policy", "group Group"),
        },
        "Group": {
            ("inline policy group-inline of Group", "Group"),
            ("AWS managed policy AdministratorAccess", "Group"),
            ("policy of Policy", "Policy"),
        },
    }
    view = iam(model)
    assert [(k.resource.address, k.user.address, [o.address for o in k.exported_in]) for k in view.access_keys] == [
        ("Key", "User", ["Outputs.Secret"]),
    ]
    stream, other = (next(s for s in streams(model) if s.address == name) for name in ("Stream", "Other"))
    inline = {s.sid: s for s in next(d for d in view.documents if d.name == "inline").known_statements}
    assert {sid: (view.covers(s, stream), view.covers(s, other)) for sid, s in inline.items()} == {
        "Sub": (Coverage.YES, Coverage.NO),
        "Join": (Coverage.YES, Coverage.NO),
        "GetAtt": (Coverage.YES, Coverage.NO),
        "Every": (Coverage.YES, Coverage.YES),
    }
    group_inline = next(d for d in view.documents if d.name == "group-inline").known_statements[0]
    assert (view.covers(group_inline, stream), view.covers(group_inline, other)) == (Coverage.YES, Coverage.NO)


SAM = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: ./src
      Policies:
        - KinesisCrudPolicy:
            StreamName: !Ref Stream
        - KinesisStreamReadPolicy:
            StreamName: !Ref Stream
        - AmazonKinesisReadOnlyAccess
        - Statement:
            - Effect: Allow
              Action: kinesis:ListStreams
              Resource: "*"
      Events:
        Records:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Stream.Arn
            StartingPosition: LATEST
"""


def test_sam_policies_are_expanded_by_the_translator(tmp_path):
    model = load_template(tmp_path, SAM)
    view = iam(model)
    role = view.principal(next(r for r in model.resources if r.address == "FnRole"))
    assert role.editable.address == "Fn" and role.editable.type == "AWS::Serverless::Function"
    by_name = {d.aws_managed or d.name: d for d in (a.document for a in role.attachments)}
    assert set(by_name) == {
        "FnRolePolicy0", "FnRolePolicy1", "FnRolePolicy3",
        "AWSLambdaBasicExecutionRole", "AmazonKinesisReadOnlyAccess", "AWSLambdaKinesisExecutionRole",
    }
    crud = by_name["FnRolePolicy0"].known_statements[0]
    assert {"kinesis:DeleteStream", "kinesis:DecreaseStreamRetentionPeriod", "kinesis:PutRecord"} <= set(crud.actions)
    assert [v.text for v in crud.resource_values] == [
        "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/${Stream}"
    ]
    read = by_name["FnRolePolicy1"].known_statements
    assert [(s.actions, [v.text for v in s.resource_values]) for s in read] == [
        (("kinesis:ListStreams", "kinesis:DescribeLimits"), ["arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/*"]),
        (
            ("kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator"),
            ["arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/${Stream}"],
        ),
    ]
    assert [statement(s) for s in by_name["FnRolePolicy3"].known_statements] == [
        ("", "Allow", ("kinesis:ListStreams",), (), ("*",), (), None, ())
    ]
    # what the Kinesis event added is known as such; what Policies lists is not
    assert {name: d.implicit for name, d in by_name.items() if d.aws_managed} == {
        "AWSLambdaBasicExecutionRole": True, "AmazonKinesisReadOnlyAccess": False, "AWSLambdaKinesisExecutionRole": True,
    }
    stream = next(streams(model))
    access = view.kinesis_access(role, stream)
    assert {"kinesis:GetRecords", "kinesis:DeleteStream", "kinesis:SubscribeToShard"} <= access.actions
    assert "kinesis:ListStreams" not in access.actions


@pytest.mark.parametrize(
    "pattern, every",
    [
        ("*", True),
        ("arn:aws:kinesis:*:*:stream/*", True),
        ("arn:aws:kinesis:us-east-1:111122223333:stream/*", True),
        ("arn:aws:kinesis:*:*:*", True),
        ("arn:*:kinesis:*", True),
        ("arn:aws:kinesis:*:*:stream/orders-*", False),
        ("arn:aws:kinesis:*:*:stream/orders", False),
        ("arn:aws:s3:::*", False),
        ("arn:aws:firehose:*:*:deliverystream/*", False),
    ],
)
def test_every_stream_patterns(pattern, every):
    from kds_iac.model import Model
    from kds_iac.views.iam import IamView
    from kds_iac.views.policy import ResourceValue

    assert IamView(Model()).every_stream(ResourceValue(pattern, pattern)) is every


def test_terraform_references_tfparse_leaves_null_stay_edges(tmp_path):
    """A name built from an input without value makes tfparse evaluate references to it to
    null; the loader reads them back from the source (memberships, splat outputs)."""
    model = load_terraform(
        tmp_path,
        """
        variable "prefix" {
          type = string
        }
        variable "create" {
          default = true
        }
        resource "aws_iam_user" "u" {
          count = var.create ? 1 : 0
          name  = "${var.prefix}-producer"
        }
        resource "aws_iam_group" "g" {
          count = var.create ? 1 : 0
          name  = "${var.prefix}-producers"
        }
        resource "aws_iam_group_membership" "m" {
          count = var.create ? 1 : 0
          name  = "m"
          users = [aws_iam_user.u[0].name]
          group = aws_iam_group.g[0].name
        }
        resource "aws_iam_access_key" "k" {
          count = var.create ? 1 : 0
          user  = aws_iam_user.u[0].name
        }
        output "secret_keys" {
          value = aws_iam_access_key.k.*.secret
        }
        """,
    )
    view = iam(model)
    user = next(p for p in view.principals if p.address == "aws_iam_user.u[0]")
    assert [g.address for g in user.groups] == ["aws_iam_group.g[0]"]
    assert [(k.resource.address, k.user.address, [o.address for o in k.exported_in]) for k in view.access_keys] == [
        ("aws_iam_access_key.k[0]", "aws_iam_user.u[0]", ["output.secret_keys"]),
    ]


def test_cloudformation_role_user_group_policy_resources(tmp_path):
    model = load_template(
        tmp_path,
        """
        Resources:
          Role:
            Type: AWS::IAM::Role
            Properties:
              RoleName: reader
              AssumeRolePolicyDocument: {}
          RolePolicy:
            Type: AWS::IAM::RolePolicy
            Properties:
              RoleName: !Ref Role
              PolicyName: read
              PolicyDocument:
                Statement:
                  - Effect: Allow
                    Action: kinesis:GetRecords
                    Resource: "*"
          UserPolicy:
            Type: AWS::IAM::UserPolicy
            Properties:
              UserName: someone-else
              PolicyName: write
              PolicyDocument:
                Statement:
                  - Effect: Allow
                    Action: kinesis:PutRecord
                    Resource: "*"
        """,
    )
    view = iam(model)
    assert reach(model) == {"Role": {("policy of RolePolicy", "RolePolicy")}}
    assert [(a.document.holder.address, a.principal_kind, a.principal_text) for a in view.unresolved_attachments] == [
        ("UserPolicy", "user", "someone-else"),
    ]
