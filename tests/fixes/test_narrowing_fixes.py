"""KDS004 and KDS005 fixes that narrow an IAM statement, offered only where what its roles do
is certain (roles that only Firehose or CloudWatch Logs may assume, with their uses in the
scan).

First as intents: every finding of every bad example, with its fix or the exact reasons it
has none, then templates made for each condition of certainty. Then end to end: the example
copied, the rule's fixes applied through the writers and ``kds_iac.fixes.apply`` (and once
through ``kds-iac scan --fix``), every changed file compared whole with the stored expected
file, and a re-scan that reports the old findings minus the fixed ones. Set
``KDS_IAC_WRITE_EXPECTED=1`` to (re)write the expected files, then read their diff.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Optional

import pytest

from kds_iac.config import resolve_config
from kds_iac.engine import scan
from kds_iac.fixes import SAFE, Fix, Link, SetSetting
from kds_iac.fixes.apply import Files, Scope, edits_for, plan
from kds_iac.loaders import load
from kds_iac.rules import all_rules
from kds_iac.views import usage
from tests.conftest import EXAMPLES, REPO, declare_organization_trail, tool
from tests.fixes.test_rule_fixes import EXPECTED_DIR, MAX_PASSES, _within_example, copy_example, pairs, scanned

RULES = ("KDS004", "KDS005")
MODULES = {m.rule.id: importlib.import_module(m.module_name) for m in all_rules() if m.rule.id in RULES}

NO_PLACE = (
    "the statement is written where no fix writer can edit it with certainty (a JSON string: jsonencode(), "
    "a heredoc, file(), templatefile(); a policy SAM, the Serverless Framework or the CDK generates)"
)
LAMBDA_TRUST = "the trust policy of {} lets lambda.amazonaws.com assume it"
READ_SET = ("kinesis:DescribeStream", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards")
WRITE_SET = ("kinesis:PutRecord", "kinesis:PutRecords")


def described(fix: Optional[Fix]) -> Optional[tuple[str, list[str]]]:
    """A fix as its safety and one line per intent."""
    if fix is None:
        return None
    lines = []
    for intent in fix.intents:
        assert isinstance(intent, SetSetting), intent
        value = intent.value
        if isinstance(value, tuple) and value and all(isinstance(v, Link) for v in value):
            value = "[" + ", ".join(f"Link({v.target.address}, {v.attribute!r})" for v in value) + "]"
        else:
            value = repr(value)
        lines.append(f"set {intent.resource.address} {intent.path} = {value}")
    return fix.safety, lines


def judged(rule_id: str, path: str) -> dict[str, object]:
    """Address -> (described fix, reasons it has none) of the rule's findings in a scan of
    ``path`` with the settings ``kds-iac scan PATH`` finds."""
    result = scan([path], config=resolve_config(None, [path]))
    reasons = MODULES[rule_id].fix_reasons(load([path]))
    return {
        f.address: (described(f.fix), reasons[f.address])
        for f in result.findings
        if f.rule.id == rule_id
    }


# (rule, format, bad example) -> address -> (fix, reasons for no fix)
EXPECTED = {
    ("KDS004", "terraform", "gated-module"): {
        "aws_iam_user_policy.consumer": (None, (NO_PLACE,)),
        "module.streams.aws_iam_user_policy.consumer[0]": (None, (NO_PLACE,)),
    },
    ("KDS004", "terraform", "iam-wildcards"): {
        "aws_iam_policy.kinesis_star": (None, (NO_PLACE,)),
        "aws_iam_role_policy.put_star": (None, (NO_PLACE,)),
        "aws_iam_policy.admin_from_document": (None, ("the wildcard takes in other services' actions, whose use is not known",)),
        "aws_iam_policy.from_file": (None, (NO_PLACE,)),
    },
    ("KDS004", "terraform", "iam-service-roles"): {
        "aws_iam_role_policy.logs_to_stream": ((SAFE, [
            f"set data.aws_iam_policy_document.logs_to_stream statement[0].actions = {WRITE_SET!r}",
        ]), ()),
        "aws_iam_role_policy.archive": ((SAFE, [
            f"set data.aws_iam_policy_document.archive statement[1].actions = {READ_SET!r}",
        ]), ()),
    },
    ("KDS004", "cloudformation", "iam-wildcards.yaml"): {
        "WildcardRole": (None, (LAMBDA_TRUST.format("WildcardRole"),)),
        "PutStarPolicy": (None, (LAMBDA_TRUST.format("WildcardRole"),)),
    },
    ("KDS004", "cloudformation", "iam-service-roles.yaml"): {
        "LogsToStreamRole": ((SAFE, [
            f"set LogsToStreamRole Policies[0].PolicyDocument.Statement[0].Action = {WRITE_SET!r}",
        ]), ()),
        "ArchivePolicy": ((SAFE, [f"set ArchivePolicy PolicyDocument.Statement[1].Action = {READ_SET!r}"]), ()),
    },
    ("KDS004", "serverless", "service-bad"): {"provider.iamRoleStatements[0]": (None, (NO_PLACE,))},
    ("KDS004", "serverless", "iam-statements"): {"provider.iam.role.statements[1]": (None, (NO_PLACE,))},
    ("KDS005", "terraform", "gated-module"): {
        "aws_iam_user_policy.consumer": (None, (NO_PLACE,)),
        "module.streams.aws_iam_user_policy.consumer[0]": (None, (NO_PLACE,)),
    },
    ("KDS005", "terraform", "iam-wildcards"): {
        "aws_iam_policy.kinesis_star": (None, (NO_PLACE,)),
        "aws_iam_policy.admin_from_document": (
            None, ("the statement also grants other services' actions, whose resources are not known",),
        ),
        "aws_iam_role_policy.read_every_stream": (None, (NO_PLACE,)),
        "aws_iam_policy.from_template": (None, (NO_PLACE,)),
    },
    ("KDS005", "terraform", "iam-managed-policies"): {
        "aws_iam_role_policy_attachment.lambda_kinesis_execution": (
            None, ("an AWS managed policy cannot be edited, only replaced",),
        ),
    },
    ("KDS005", "terraform", "iam-service-roles"): {
        "aws_iam_role_policy.logs_to_stream": ((SAFE, [
            "set data.aws_iam_policy_document.logs_to_stream statement[0].resources = "
            "[Link(aws_kinesis_stream.app_logs, 'arn')]",
        ]), ()),
    },
    ("KDS005", "cloudformation", "iam-wildcards.yaml"): {
        "WildcardRole": (None, (LAMBDA_TRUST.format("WildcardRole"),)),
        "EveryStreamPolicy": (None, (LAMBDA_TRUST.format("WildcardRole"),)),
    },
    ("KDS005", "cloudformation", "iam-managed-policies.json"): {
        "ReadOnlyRole": (None, ("an AWS managed policy cannot be edited, only replaced",)),
    },
    ("KDS005", "cloudformation", "iam-service-roles.yaml"): {
        "LogsToStreamRole": ((SAFE, [
            "set LogsToStreamRole Policies[0].PolicyDocument.Statement[0].Resource = [Link(AppLogs, 'arn')]",
        ]), ()),
    },
    ("KDS005", "serverless", "service-bad"): {"provider.iamRoleStatements[0]": (None, (NO_PLACE,))},
    ("KDS005", "serverless", "iam-statements"): {"provider.iam.role.statements[3]": (None, (NO_PLACE,))},
}


@pytest.mark.parametrize("rule_id,fmt,example", sorted(EXPECTED), ids=lambda v: str(v))
def test_each_finding_of_a_bad_example_gets_exactly_its_fix(rule_id, fmt, example, monkeypatch):
    monkeypatch.chdir(EXAMPLES.parent)  # addresses as the rules' EXAMPLES declare them
    assert judged(rule_id, os.path.join("examples", fmt, example)) == EXPECTED[(rule_id, fmt, example)]


def test_every_bad_example_is_covered_and_both_rules_declare_their_fix():
    declared = {
        (m.rule.id, fmt, example)
        for m in all_rules()
        if m.rule.id in RULES
        for fmt, examples in m.examples.items()
        for example in examples.bad
    }
    assert set(EXPECTED) == declared
    assert {m.rule.id: m.rule.fixes for m in all_rules() if m.rule.id in RULES} == {"KDS004": (SAFE,), "KDS005": (SAFE,)}


def test_the_firehose_read_set_is_kds014s():
    kds014 = importlib.import_module(next(m.module_name for m in all_rules() if m.rule.id == "KDS014"))
    assert usage.FIREHOSE_SOURCE_ACTIONS == frozenset(kds014.READ_ACTIONS)


# --------------------------------------------------------------------------- made for each condition


def write(directory: Path, name: str, text: str) -> str:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return str(path)


STREAMS_AND_USES = """
resource "aws_kinesis_stream" "logs" {
  name        = "logs"
  shard_count = 1
}

resource "aws_kinesis_stream" "clicks" {
  name        = "clicks"
  shard_count = 1
}

data "aws_iam_policy_document" "trust_logs" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["logs.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "trust_firehose" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "logs" {
  name               = "logs"
  assume_role_policy = data.aws_iam_policy_document.trust_logs.json
}

resource "aws_iam_role" "firehose" {
  name               = "firehose"
  assume_role_policy = data.aws_iam_policy_document.trust_firehose.json
}

resource "aws_cloudwatch_log_subscription_filter" "app" {
  name            = "app"
  log_group_name  = "/app"
  filter_pattern  = ""
  destination_arn = aws_kinesis_stream.logs.arn
  role_arn        = aws_iam_role.logs.arn
}

resource "aws_kinesis_firehose_delivery_stream" "archive" {
  name        = "archive"
  destination = "extended_s3"
  kinesis_source_configuration {
    kinesis_stream_arn = aws_kinesis_stream.clicks.arn
    role_arn           = aws_iam_role.firehose.arn
  }
  extended_s3_configuration {
    role_arn   = aws_iam_role.firehose.arn
    bucket_arn = "arn:aws:s3:::archive"
  }
}
"""

SHARED_POLICY = """
resource "aws_iam_policy" "shared" {
  name   = "shared"
  policy = data.aws_iam_policy_document.shared.json
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.logs.name
  policy_arn = aws_iam_policy.shared.arn
}

resource "aws_iam_role_policy_attachment" "firehose" {
  role       = aws_iam_role.firehose.name
  policy_arn = aws_iam_policy.shared.arn
}
"""


def fixes_in(directory: Path) -> dict[tuple[str, str], object]:
    """(rule, address) -> (described fix, reasons) for KDS004 and KDS005 in a scan of ``directory``."""
    declare_organization_trail(directory)
    path = str(directory)
    result = scan([path], config=resolve_config(None, [path]))
    model = load([path])
    reasons = {rule_id: MODULES[rule_id].fix_reasons(model) for rule_id in RULES}
    return {
        (f.rule.id, f.address): (described(f.fix), reasons[f.rule.id][f.address])
        for f in result.findings
        if f.rule.id in RULES
    }


def test_a_policy_two_service_roles_share_gets_what_both_need(tmp_path):
    write(tmp_path, "main.tf", STREAMS_AND_USES + SHARED_POLICY + """
        data "aws_iam_policy_document" "shared" {
          statement {
            actions   = ["kinesis:*"]
            resources = ["*"]
          }
        }
        """)
    assert fixes_in(tmp_path) == {
        ("KDS004", "aws_iam_policy.shared"): ((SAFE, [
            "set data.aws_iam_policy_document.shared statement[0].actions = "
            f"{tuple(sorted(READ_SET + WRITE_SET))!r}",
        ]), ()),
        ("KDS005", "aws_iam_policy.shared"): ((SAFE, [
            "set data.aws_iam_policy_document.shared statement[0].resources = "
            "[Link(aws_kinesis_stream.clicks, 'arn'), Link(aws_kinesis_stream.logs, 'arn')]",
        ]), ()),
    }


def test_other_services_actions_stay_and_keep_resource_star(tmp_path):
    """The wildcard is narrowed beside s3:GetObject, which stays; Resource "*" is not narrowed
    while the statement grants an S3 action whose resources are not known."""
    write(tmp_path, "main.tf", STREAMS_AND_USES + """
        data "aws_iam_policy_document" "logs" {
          statement {
            actions   = ["s3:GetObject", "kinesis:Put*", "kinesis:DescribeStreamSummary"]
            resources = ["*"]
          }
        }

        resource "aws_iam_role_policy" "logs" {
          role   = aws_iam_role.logs.id
          policy = data.aws_iam_policy_document.logs.json
        }
        """)
    assert fixes_in(tmp_path) == {
        ("KDS004", "aws_iam_role_policy.logs"): ((SAFE, [
            "set data.aws_iam_policy_document.logs statement[0].actions = "
            "('s3:GetObject', 'kinesis:DescribeStreamSummary', 'kinesis:PutRecord', 'kinesis:PutRecords')",
        ]), ()),
        ("KDS005", "aws_iam_role_policy.logs"): (
            None, ("the statement also grants other services' actions, whose resources are not known",),
        ),
    }


@pytest.mark.parametrize(
    "policy,reason",
    [
        pytest.param(
            """
            resource "aws_iam_role_policy" "logs" {
              role   = aws_iam_role.logs.id
              policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "kinesis:*", Resource = "*" }] })
            }
            """,
            NO_PLACE,
            id="jsonencode",
        ),
        pytest.param(
            """
            data "aws_iam_policy_document" "logs" {
              statement {
                actions   = ["kinesis:*"]
                resources = ["*"]
              }
            }

            resource "aws_iam_role_policy" "logs" {
              role   = aws_iam_role.logs.id
              policy = data.aws_iam_policy_document.logs.json
            }

            output "logs_policy" {
              value = data.aws_iam_policy_document.logs.json
            }
            """,
            "data.aws_iam_policy_document.logs is also read by output.logs_policy (value)",
            id="document-read-by-an-output",
        ),
        pytest.param(
            """
            resource "aws_iam_role" "both" {
              name = "both"
              assume_role_policy = jsonencode({
                Version = "2012-10-17"
                Statement = [{ Effect = "Allow", Action = "sts:AssumeRole",
                  Principal = { Service = ["logs.amazonaws.com", "lambda.amazonaws.com"] } }]
              })
            }

            data "aws_iam_policy_document" "logs" {
              statement {
                actions   = ["kinesis:*"]
                resources = ["*"]
              }
            }

            resource "aws_iam_role_policy" "logs" {
              role   = aws_iam_role.both.id
              policy = data.aws_iam_policy_document.logs.json
            }
            """,
            "the trust policy of aws_iam_role.both lets lambda.amazonaws.com assume it",
            id="code-may-run-under-the-role",
        ),
        pytest.param(
            """
            data "aws_iam_policy_document" "trust_firehose_only" {
              statement {
                actions = ["sts:AssumeRole"]
                principals {
                  type        = "Service"
                  identifiers = ["firehose.amazonaws.com"]
                }
              }
            }

            resource "aws_iam_role" "unused" {
              name               = "unused"
              assume_role_policy = data.aws_iam_policy_document.trust_firehose_only.json
            }

            data "aws_iam_policy_document" "logs" {
              statement {
                actions   = ["kinesis:*"]
                resources = ["*"]
              }
            }

            resource "aws_iam_role_policy" "logs" {
              role   = aws_iam_role.unused.id
              policy = data.aws_iam_policy_document.logs.json
            }
            """,
            "no Firehose source, log subscription, EventBridge target or IoT rule of the scan uses aws_iam_role.unused",
            id="no-use-in-the-scan",
        ),
        pytest.param(
            """
            data "aws_iam_policy_document" "logs" {
              statement {
                actions   = ["kinesis:*"]
                resources = ["*"]
              }
            }

            resource "aws_iam_policy" "logs" {
              name   = "logs"
              policy = data.aws_iam_policy_document.logs.json
            }

            resource "aws_iam_role_policy_attachment" "logs" {
              role       = aws_iam_role.logs.name
              policy_arn = aws_iam_policy.logs.arn
            }

            resource "aws_iam_user" "ci" {
              name = "ci"
            }

            resource "aws_iam_user_policy_attachment" "ci" {
              user       = aws_iam_user.ci.name
              policy_arn = aws_iam_policy.logs.arn
            }
            """,
            "policy of aws_iam_policy.logs reaches user aws_iam_user.ci, whose use is not known",
            id="also-a-user",
        ),
    ],
)
def test_no_fix_where_the_use_or_the_place_is_not_certain(tmp_path, policy, reason):
    write(tmp_path, "main.tf", STREAMS_AND_USES + policy)
    found = fixes_in(tmp_path)
    assert {rule_id for rule_id, _ in found} == {"KDS004", "KDS005"}
    assert found == {key: (None, (reason,)) for key in found}


def test_actions_or_resources_from_a_variable_are_not_replaced(tmp_path):
    write(tmp_path, "main.tf", STREAMS_AND_USES + """
        variable "actions" {
          type    = list(string)
          default = ["kinesis:*"]
        }

        variable "streams" {
          type    = list(string)
          default = ["*"]
        }

        data "aws_iam_policy_document" "logs" {
          statement {
            actions   = var.actions
            resources = var.streams
          }
        }

        resource "aws_iam_role_policy" "logs" {
          role   = aws_iam_role.logs.id
          policy = data.aws_iam_policy_document.logs.json
        }
        """)
    assert fixes_in(tmp_path) == {
        ("KDS004", "aws_iam_role_policy.logs"): (None, ("the statement's actions are not written as plain text",)),
        ("KDS005", "aws_iam_role_policy.logs"): (None, ("the statement's resources are not written as plain values",)),
    }


def test_a_stream_known_only_by_arn_gets_no_resource_fix(tmp_path):
    write(tmp_path, "template.yaml", """
        AWSTemplateFormatVersion: "2010-09-09"
        Parameters:
          StreamArn:
            Type: String
        Resources:
          LogsRole:
            Type: AWS::IAM::Role
            Properties:
              AssumeRolePolicyDocument:
                Version: "2012-10-17"
                Statement:
                  - Effect: Allow
                    Principal: { Service: logs.amazonaws.com }
                    Action: sts:AssumeRole
              Policies:
                - PolicyName: to-stream
                  PolicyDocument:
                    Statement:
                      - Effect: Allow
                        Action: kinesis:*
                        Resource: "*"
          Subscription:
            Type: AWS::Logs::SubscriptionFilter
            Properties:
              LogGroupName: /app
              FilterPattern: ""
              DestinationArn: !Ref StreamArn
              RoleArn: !GetAtt LogsRole.Arn
        """)
    assert fixes_in(tmp_path) == {
        ("KDS004", "LogsRole"): ((SAFE, [
            f"set LogsRole Policies[0].PolicyDocument.Statement[0].Action = {WRITE_SET!r}",
        ]), ()),
        ("KDS005", "LogsRole"): (None, ("a stream its roles use is not a resource of the scan",)),
    }


def test_an_eventbridge_role_writing_to_a_stream_and_a_function(tmp_path):
    """A rule's targets: the stream is written with the role; the function target is no
    Kinesis use. The role gets the write actions on the one stream."""
    write(tmp_path, "template.yaml", """
        AWSTemplateFormatVersion: "2010-09-09"
        Resources:
          Events:
            Type: AWS::Kinesis::Stream
            Properties:
              ShardCount: 1
          Handler:
            Type: AWS::Lambda::Function
            Properties:
              Runtime: python3.12
              Handler: index.handler
              Role: arn:aws:iam::111122223333:role/handler
              Code: { ZipFile: "def handler(event, context): pass" }
          EventsRole:
            Type: AWS::IAM::Role
            Properties:
              AssumeRolePolicyDocument:
                Statement:
                  - Effect: Allow
                    Principal: { Service: events.amazonaws.com }
                    Action: sts:AssumeRole
          EventsPolicy:
            Type: AWS::IAM::ManagedPolicy
            Properties:
              Roles: [!Ref EventsRole]
              PolicyDocument:
                Version: "2012-10-17"
                Statement:
                  - Effect: Allow
                    Action: [kinesis:*]
                    Resource: "*"
          Orders:
            Type: AWS::Events::Rule
            Properties:
              EventPattern: { source: [shop.orders] }
              Targets:
                - Id: handler
                  Arn: !GetAtt Handler.Arn
                - Id: stream
                  Arn: !GetAtt Events.Arn
                  RoleArn: !GetAtt EventsRole.Arn
                  KinesisParameters: { PartitionKeyPath: $.id }
        """)
    assert fixes_in(tmp_path) == {
        ("KDS004", "EventsPolicy"): ((SAFE, [f"set EventsPolicy PolicyDocument.Statement[0].Action = {WRITE_SET!r}"]), ()),
        ("KDS005", "EventsPolicy"): ((SAFE, ["set EventsPolicy PolicyDocument.Statement[0].Resource = [Link(Events, 'arn')]"]), ()),
    }


def test_an_eventbridge_target_resource_with_put_star(tmp_path):
    """``kinesis:Put*`` takes in PutResourcePolicy too: narrowed to the two write actions an
    EventBridge target needs (Terraform's target resource, one target each)."""
    write(tmp_path, "main.tf", STREAMS_AND_USES + """
        resource "aws_iam_role" "events" {
          name = "events"
          assume_role_policy = jsonencode({
            Version   = "2012-10-17"
            Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "events.amazonaws.com" } }]
          })
        }

        data "aws_iam_policy_document" "events" {
          statement {
            actions   = ["kinesis:Put*"]
            resources = [aws_kinesis_stream.logs.arn]
          }
        }

        resource "aws_iam_role_policy" "events" {
          role   = aws_iam_role.events.id
          policy = data.aws_iam_policy_document.events.json
        }

        resource "aws_cloudwatch_event_rule" "orders" {
          event_pattern = jsonencode({ source = ["shop.orders"] })
        }

        resource "aws_cloudwatch_event_target" "orders" {
          rule     = aws_cloudwatch_event_rule.orders.name
          arn      = aws_kinesis_stream.logs.arn
          role_arn = aws_iam_role.events.arn
        }
        """)
    assert fixes_in(tmp_path) == {
        ("KDS004", "aws_iam_role_policy.events"): ((SAFE, [
            f"set data.aws_iam_policy_document.events statement[0].actions = {WRITE_SET!r}",
        ]), ()),
    }


def test_a_statement_merged_from_a_source_document_is_edited_where_it_is_written(tmp_path):
    """A role's inline policy from a document that takes its statement from another through
    source_policy_documents: the fix edits the source document's block."""
    write(tmp_path, "main.tf", STREAMS_AND_USES.replace(
        """resource "aws_iam_role" "logs" {
  name               = "logs"
  assume_role_policy = data.aws_iam_policy_document.trust_logs.json
}""",
        """resource "aws_iam_role" "logs" {
  name               = "logs"
  assume_role_policy = data.aws_iam_policy_document.trust_logs.json
  inline_policy {
    name   = "to-stream"
    policy = data.aws_iam_policy_document.combined.json
  }
}""") + """
        data "aws_iam_policy_document" "base" {
          statement {
            sid       = "Write"
            actions   = ["kinesis:*"]
            resources = [aws_kinesis_stream.logs.arn]
          }
        }

        data "aws_iam_policy_document" "combined" {
          source_policy_documents = [data.aws_iam_policy_document.base.json]
          statement {
            sid       = "Describe"
            actions   = ["kinesis:DescribeStreamSummary"]
            resources = [aws_kinesis_stream.logs.arn]
          }
        }
        """)
    assert fixes_in(tmp_path) == {
        ("KDS004", "aws_iam_role.logs"): ((SAFE, [
            f"set data.aws_iam_policy_document.base statement[0].actions = {WRITE_SET!r}",
        ]), ()),
    }


def test_iot_topic_rules_write_with_their_roles(tmp_path):
    """An IoT topic rule's Kinesis action and error action (Terraform blocks; the stream by
    reference) and a CloudFormation rule's (the stream by its literal name)."""
    write(tmp_path, "main.tf", STREAMS_AND_USES + """
        resource "aws_iam_role" "iot" {
          name = "iot"
          assume_role_policy = jsonencode({
            Version   = "2012-10-17"
            Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "iot.amazonaws.com" } }]
          })
        }

        data "aws_iam_policy_document" "iot" {
          statement {
            actions   = ["kinesis:*"]
            resources = ["*"]
          }
        }

        resource "aws_iam_role_policy" "iot" {
          role   = aws_iam_role.iot.id
          policy = data.aws_iam_policy_document.iot.json
        }

        resource "aws_iot_topic_rule" "telemetry" {
          name        = "telemetry"
          enabled     = true
          sql         = "SELECT * FROM 'devices/+/telemetry'"
          sql_version = "2016-03-23"
          kinesis {
            role_arn      = aws_iam_role.iot.arn
            stream_name   = aws_kinesis_stream.logs.name
            partition_key = "$${topic()}"
          }
          error_action {
            kinesis {
              role_arn    = aws_iam_role.iot.arn
              stream_name = aws_kinesis_stream.clicks.name
            }
          }
        }
        """)
    assert fixes_in(tmp_path) == {
        ("KDS004", "aws_iam_role_policy.iot"): ((SAFE, [
            f"set data.aws_iam_policy_document.iot statement[0].actions = {WRITE_SET!r}",
        ]), ()),
        ("KDS005", "aws_iam_role_policy.iot"): ((SAFE, [
            "set data.aws_iam_policy_document.iot statement[0].resources = "
            "[Link(aws_kinesis_stream.clicks, 'arn'), Link(aws_kinesis_stream.logs, 'arn')]",
        ]), ()),
    }


def test_a_cloudformation_iot_rule_names_its_stream(tmp_path):
    write(tmp_path, "template.yaml", """
        AWSTemplateFormatVersion: "2010-09-09"
        Resources:
          Telemetry:
            Type: AWS::Kinesis::Stream
            Properties:
              Name: telemetry
              ShardCount: 1
          IotRole:
            Type: AWS::IAM::Role
            Properties:
              AssumeRolePolicyDocument:
                Statement:
                  - Effect: Allow
                    Principal: { Service: iot.amazonaws.com }
                    Action: sts:AssumeRole
              Policies:
                - PolicyName: to-stream
                  PolicyDocument:
                    Statement:
                      - Effect: Allow
                        Action: kinesis:*
                        Resource: "*"
          Rule:
            Type: AWS::IoT::TopicRule
            Properties:
              TopicRulePayload:
                Sql: SELECT * FROM 'devices/+/telemetry'
                Actions:
                  - Kinesis:
                      RoleArn: !GetAtt IotRole.Arn
                      StreamName: telemetry
        """)
    assert fixes_in(tmp_path) == {
        ("KDS004", "IotRole"): ((SAFE, [f"set IotRole Policies[0].PolicyDocument.Statement[0].Action = {WRITE_SET!r}"]), ()),
        ("KDS005", "IotRole"): ((SAFE, [
            "set IotRole Policies[0].PolicyDocument.Statement[0].Resource = [Link(Telemetry, 'arn')]",
        ]), ()),
    }


def test_a_stream_of_another_module_is_not_linked(tmp_path):
    write(tmp_path, "streams/main.tf", """
        resource "aws_kinesis_stream" "this" {
          name        = "logs"
          shard_count = 1
        }

        output "arn" {
          value = aws_kinesis_stream.this.arn
        }
        """)
    write(tmp_path, "main.tf", """
        module "streams" {
          source = "./streams"
        }

        resource "aws_iam_role" "logs" {
          name = "logs"
          assume_role_policy = jsonencode({
            Version   = "2012-10-17"
            Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "logs.amazonaws.com" } }]
          })
        }

        data "aws_iam_policy_document" "logs" {
          statement {
            actions   = ["kinesis:PutRecord", "kinesis:PutRecords"]
            resources = ["*"]
          }
        }

        resource "aws_iam_role_policy" "logs" {
          role   = aws_iam_role.logs.id
          policy = data.aws_iam_policy_document.logs.json
        }

        resource "aws_cloudwatch_log_subscription_filter" "app" {
          name            = "app"
          log_group_name  = "/app"
          filter_pattern  = ""
          destination_arn = module.streams.arn
          role_arn        = aws_iam_role.logs.arn
        }
        """)
    assert fixes_in(tmp_path) == {
        ("KDS005", "aws_iam_role_policy.logs"): (
            None,
            ("stream module.streams.aws_kinesis_stream.this is not in the module or template of "
             "data.aws_iam_policy_document.logs",),
        ),
    }


# --------------------------------------------------------------------------- end to end


def _cases() -> list:
    return [
        pytest.param(rule_id, fmt, example, id=f"{rule_id}-{fmt}-{example}")
        for (rule_id, fmt, example), entries in sorted(EXPECTED.items())
        if any(fix for fix, _ in entries.values())
    ]


def stored(expected_root: Path) -> dict[str, str]:
    if expected_root.is_file():
        return {".": expected_root.read_text()}
    return {p.relative_to(expected_root).as_posix(): p.read_text() for p in expected_root.rglob("*") if p.is_file()}


def keep(got: dict[str, str], expected_root: Path) -> None:
    if os.environ.get("KDS_IAC_WRITE_EXPECTED") == "1":
        shutil.rmtree(expected_root, ignore_errors=True)
        if expected_root.exists():
            expected_root.unlink()
        for relative, text in got.items():
            target = expected_root / relative if relative != "." else expected_root
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)


@pytest.mark.parametrize("rule_id,fmt,example", _cases())
def test_the_fix_changes_the_files_as_expected_and_the_finding_goes(rule_id, fmt, example, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = copy_example(tmp_path, fmt, example)
    before = scanned(path)
    originals = {file: Path(file).read_text() for file in before.files if Path(file).is_file()}
    wanted = {address for address, (fix, _) in EXPECTED[(rule_id, fmt, example)].items() if fix}

    applied, edited_blocks, result = set(), set(), before
    for _ in range(MAX_PASSES):  # as --fix does: fixes whose edits overlap wait for a re-scan
        candidates = [f for f in result.findings if f.rule.id == rule_id and f.fix is not None]
        fixes = plan(candidates, unsafe=False, allowed=Scope([path], result.files).allows)
        if not fixes.planned:
            break
        fixes.apply()
        for planned in fixes.applied():
            applied.add(planned.finding.address)
            edited_blocks.add((planned.finding.location.file, planned.finding.location.start_line))
        result = scanned(path)
    assert applied == wanted

    changed = {file for file, text in originals.items() if Path(file).read_text() != text}
    got = {_within_example(file, path): Path(file).read_text() for file in changed}
    expected_root = EXPECTED_DIR / f"{rule_id}-safe" / fmt / example
    keep(got, expected_root)
    assert got == stored(expected_root)

    assert [d for d in result.diagnostics if d.level == "error"] == []
    fixed = {(rule_id, address) for address in wanted}
    assert pairs(result) == pairs(before) - fixed


@pytest.mark.parametrize("fmt,example", [("terraform", "iam-service-roles"), ("cloudformation", "iam-service-roles.yaml")])
def test_scan_fix_narrows_actions_and_resources_together(fmt, example, tmp_path):
    """``kds-iac scan --fix``: KDS004's and KDS005's fixes of one statement edit its actions
    and its resources side by side; then no KDS004 or KDS005 finding remains, nothing new."""
    path = copy_example(tmp_path, fmt, example)
    before = pairs(_scan_in(tmp_path, path))
    done = subprocess.run(
        [tool("kds-iac"), "scan", path, "--fix"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    target = tmp_path / path
    files = {p.relative_to(target).as_posix(): p.read_text() for p in target.rglob("*") if p.is_file()} if target.is_dir() else {".": target.read_text()}
    expected_root = EXPECTED_DIR / "KDS004-KDS005-scan-fix" / fmt / example
    keep(files, expected_root)
    assert files == stored(expected_root)
    after = pairs(_scan_in(tmp_path, path))
    assert after == {pair for pair in before if pair[0] not in RULES}
    assert {pair[0] for pair in before} >= set(RULES)


def _scan_in(directory: Path, path: str):
    cwd = os.getcwd()
    os.chdir(directory)
    try:
        return scanned(path)
    finally:
        os.chdir(cwd)


def test_a_block_written_once_for_two_principals_is_judged_for_both(tmp_path):
    """One module called for the logs role and for a Lambda function's role: its statement
    block is written once, so narrowing it for the one would narrow it for the other."""
    write(tmp_path, "policy/main.tf", """
        variable "role" {
          type = string
        }

        data "aws_iam_policy_document" "this" {
          statement {
            actions   = ["kinesis:*"]
            resources = ["*"]
          }
        }

        resource "aws_iam_role_policy" "this" {
          role   = var.role
          policy = data.aws_iam_policy_document.this.json
        }
        """)
    write(tmp_path, "main.tf", STREAMS_AND_USES + """
        resource "aws_iam_role" "function" {
          name = "function"
          assume_role_policy = jsonencode({
            Version   = "2012-10-17"
            Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
          })
        }

        module "a_for_logs" {
          source = "./policy"
          role   = aws_iam_role.logs.id
        }

        module "b_for_function" {
          source = "./policy"
          role   = aws_iam_role.function.id
        }
        """)
    reason = "the trust policy of aws_iam_role.function lets lambda.amazonaws.com assume it"
    assert fixes_in(tmp_path) == {
        ("KDS004", "module.a_for_logs.aws_iam_role_policy.this"): (None, (reason,)),
        ("KDS005", "module.a_for_logs.aws_iam_role_policy.this"): (None, (reason,)),
    }


def test_a_document_with_a_dynamic_statement_block_gets_no_edit(tmp_path, monkeypatch):
    """Statement indexes count the blocks as evaluated; with a ``dynamic "statement"`` block
    they need not be the written order, so the Terraform writer gives no edit (no fix offered)."""
    monkeypatch.chdir(tmp_path)
    path = copy_example(tmp_path, "terraform", "iam-service-roles")
    main = Path(path) / "main.tf"
    written = 'data "aws_iam_policy_document" "logs_to_stream" {\n'
    dynamic = (
        '  dynamic "statement" {\n'
        '    for_each = ["arn:aws:s3:::logs"]\n'
        "    content {\n"
        '      actions   = ["s3:GetObject"]\n'
        "      resources = [statement.value]\n"
        "    }\n"
        "  }\n"
    )
    main.write_text(main.read_text().replace(written, written + dynamic))
    read = Files()
    offered = {
        (f.rule.id, f.address): edits_for(f, read) is not None
        for f in scanned(path).findings
        if f.rule.id in RULES and f.fix is not None
    }
    assert offered == {
        ("KDS004", "aws_iam_role_policy.logs_to_stream"): False,
        ("KDS005", "aws_iam_role_policy.logs_to_stream"): False,
        ("KDS004", "aws_iam_role_policy.archive"): True,
    }


def test_a_json_template_is_narrowed_in_place(tmp_path, monkeypatch):
    """The same paths in a JSON template: ``Policies[0].PolicyDocument.Statement[0]``."""
    monkeypatch.chdir(tmp_path)
    declare_organization_trail(tmp_path)
    template = tmp_path / "template.json"
    text = textwrap.dedent("""\
        {
          "Resources": {
            "AppLogs": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}},
            "LogsRole": {
              "Type": "AWS::IAM::Role",
              "Properties": {
                "AssumeRolePolicyDocument": {
                  "Statement": [{"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole"}]
                },
                "Policies": [
                  {
                    "PolicyName": "to-stream",
                    "PolicyDocument": {
                      "Statement": [
                        {
                          "Effect": "Allow",
                          "Action": "kinesis:*",
                          "Resource": "*"
                        }
                      ]
                    }
                  }
                ]
              }
            },
            "Subscription": {
              "Type": "AWS::Logs::SubscriptionFilter",
              "Properties": {
                "LogGroupName": "/app",
                "FilterPattern": "",
                "DestinationArn": {"Fn::GetAtt": ["AppLogs", "Arn"]},
                "RoleArn": {"Fn::GetAtt": ["LogsRole", "Arn"]}
              }
            }
          }
        }
        """)
    template.write_text(text)
    before = scanned("template.json")
    fixes = plan([f for f in before.findings if f.rule.id in RULES], unsafe=False, allowed=Scope(["template.json"], before.files).allows)
    fixes.apply()
    assert {p.finding.rule.id for p in fixes.applied()} == set(RULES)
    assert text.count('"Action": "kinesis:*"') == text.count('"Resource": "*"') == 1
    assert template.read_text() == text.replace(
        '"Action": "kinesis:*"', '"Action": ["kinesis:PutRecord", "kinesis:PutRecords"]'
    ).replace('"Resource": "*"', '"Resource": [{"Fn::GetAtt": ["AppLogs", "Arn"]}]')
    assert pairs(scanned("template.json")) == pairs(before) - {("KDS004", "LogsRole"), ("KDS005", "LogsRole")}


def test_statement_places_follow_the_written_structure(tmp_path):
    """Where each statement is written, as the IAM view says: an index counts the written
    items (one chosen by a condition included), a single mapping has none, and what comes from
    a condition or a parameter is no place or no plain field."""
    from kds_iac.views.iam import iam

    write(tmp_path, "template.yaml", """
        AWSTemplateFormatVersion: "2010-09-09"
        Parameters:
          Actions:
            Type: CommaDelimitedList
            Default: "kinesis:*"
        Conditions:
          Always: !Equals [a, a]
        Resources:
          Role:
            Type: AWS::IAM::Role
            Properties:
              AssumeRolePolicyDocument:
                Statement:
                  - Effect: Allow
                    Principal: { Service: logs.amazonaws.com }
                    Action: sts:AssumeRole
              Policies:
                - !If
                  - Always
                  - PolicyName: chosen
                    PolicyDocument:
                      Statement:
                        - Effect: Allow
                          Action: kinesis:PutRecord
                          Resource: "*"
                  - !Ref AWS::NoValue
                - PolicyName: single
                  PolicyDocument:
                    Statement:
                      Effect: Allow
                      Action: kinesis:*
                      Resource: "*"
          Policy:
            Type: AWS::IAM::Policy
            Properties:
              PolicyName: p
              Roles: [!Ref Role]
              PolicyDocument:
                Statement:
                  - !If
                    - Always
                    - Effect: Allow
                      Action: kinesis:GetRecords
                      Resource: "*"
                    - !Ref AWS::NoValue
                  - Effect: Allow
                    Action: !Ref Actions
                    Resource: !If [Always, "*", "arn:aws:kinesis:*:*:stream/x"]
        """)
    model = load([str(tmp_path / "template.yaml")])
    places = []
    for document in iam(model).documents:
        for statement in document.known_statements:
            place = statement.place
            places.append(
                (document.holder.address, statement.actions, None if place is None else (
                    place.resource.address, place.path, place.setting("actions"), place.setting("resources")
                ))
            )
    assert places == [
        ("Role", ("kinesis:PutRecord",), None),  # the policy is an Fn::If
        ("Role", ("kinesis:*",), ("Role", "Policies[1].PolicyDocument.Statement",
                                  "Policies[1].PolicyDocument.Statement.Action",
                                  "Policies[1].PolicyDocument.Statement.Resource")),
        ("Policy", ("kinesis:GetRecords",), None),  # the statement is an Fn::If
        ("Policy", ("kinesis:*",), ("Policy", "PolicyDocument.Statement[1]", None, None)),  # a parameter; an Fn::If
    ]


def test_a_plans_policy_document_has_no_place():
    """A plan's data source is evaluated JSON, no text to edit."""
    from kds_iac.views.iam import iam

    model = load([str(REPO / "tests" / "fixtures" / "terraform_plan" / "module_count.json")])
    merged = [
        (s.origin, s.place)
        for d in iam(model).documents
        for s in d.known_statements
        if s.origin_resource is not None
    ]
    assert merged == [("module.streams[0].data.aws_iam_policy_document.read[0]", None)]


def test_a_cdk_synthesized_policy_has_no_place(tmp_path):
    """CDK output is rewritten by the next synth: a person edits the CDK code instead."""
    from kds_iac.views.iam import iam

    write(tmp_path, "Stack.template.json", """
        {
          "Resources": {
            "RoleDefaultPolicy": {
              "Type": "AWS::IAM::Policy",
              "Properties": {
                "PolicyName": "RoleDefaultPolicy",
                "Roles": ["role"],
                "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}]}
              },
              "Metadata": {"aws:cdk:path": "Stack/Role/DefaultPolicy/Resource"}
            }
          }
        }
        """)
    model = load([str(tmp_path / "Stack.template.json")])
    assert [(d.holder.address, s.place) for d in iam(model).documents for s in d.known_statements] == [
        ("RoleDefaultPolicy", None)
    ]
