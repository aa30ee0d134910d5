"""The CloudTrail view and its rules on small scenes: regions, selectors, ARNs, the scope of
a single file, event data stores and the settings that declare an organization trail."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from kds_iac.config import AuditSettings, Config, ConfigError, load_config
from kds_iac.engine import scan
from kds_iac.loaders import load
from kds_iac.views.cloudtrail import audit, region_of
from kds_iac.views.kinesis import streams
from tests.conftest import EXAMPLES, tool

SCOPE_RULES = {"KDS020", "KDS021", "KDS022", "KDS023"}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def found(root: Path, *paths: str, config: Config | None = None) -> set[tuple[str, str]]:
    result = scan([str(root / p) for p in paths] or [str(root)], config=config or Config())
    assert [d for d in result.diagnostics if d.level == "error"] == []
    assert result.files, "nothing was loaded"
    return {(f.rule.id, f.address) for f in result.findings if f.rule.id in SCOPE_RULES}


STREAM_TF = """
    resource "aws_kinesis_stream" "%s" {
      name            = "%s"
      shard_count     = 1
      encryption_type = "KMS"
      kms_key_id      = "alias/streams"
    %s}
"""

TRAIL_TF = """
    resource "aws_cloudtrail" "%s" {
      name                       = "%s"
      s3_bucket_name             = "logs"
      is_multi_region_trail      = %s
      enable_log_file_validation = true
      kms_key_id                 = "arn:aws:kms:us-east-1:111122223333:key/k"
    %s}
"""

KINESIS_DATA_SELECTOR = """
      advanced_event_selector {
        name = "management"
        field_selector {
          field  = "eventCategory"
          equals = ["Management"]
        }
      }
      advanced_event_selector {
        name = "kinesis"
        field_selector {
          field  = "eventCategory"
          equals = ["Data"]
        }
        field_selector {
          field  = "resources.type"
          equals = ["AWS::Kinesis::Stream"]
        }
        field_selector {
          field = "resources.ARN"
          %s
        }
      }
"""


def tf_stream(label: str, name: str, extra: str = "") -> str:
    return STREAM_TF % (label, name, extra)


def tf_trail(label: str, extra: str = "", multi_region: bool = True) -> str:
    return TRAIL_TF % (label, label, "true" if multi_region else "false", extra)


# --------------------------------------------------------------------------- regions


def test_terraform_regions_follow_providers_aliases_and_resource_region(tmp_path):
    write(tmp_path, {"main.tf": """
        provider "aws" {
          region = "us-east-1"
        }
        provider "aws" {
          alias  = "west"
          region = "us-west-2"
        }
    """ + tf_stream("east", "east") + tf_stream("west", "west", "  provider = aws.west\n")
        + tf_stream("south", "south", '  region = "ap-south-1"\n') + tf_trail("regional", multi_region=False)})
    assert not [d for d in load([str(tmp_path)]).diagnostics if d.level == "error"]
    model = load([str(tmp_path)])
    regions = {s.address: region_of(s.resource, model) for s in streams(model)}
    assert {a: r.name for a, r in regions.items()} == {
        "aws_kinesis_stream.east": "us-east-1",
        "aws_kinesis_stream.west": "us-west-2",
        "aws_kinesis_stream.south": "ap-south-1",
    }
    trail = next(r for r in model.resources if r.type == "aws_cloudtrail")
    assert region_of(trail, model).same_as(regions["aws_kinesis_stream.east"]) is True
    assert region_of(trail, model).same_as(regions["aws_kinesis_stream.west"]) is False


def test_a_single_region_trail_of_the_streams_provider_is_enough(tmp_path):
    write(tmp_path, {"main.tf": tf_stream("orders", "orders") + tf_trail(
        "regional", KINESIS_DATA_SELECTOR % 'starts_with = ["arn:aws:kinesis:"]', multi_region=False
    )})
    assert found(tmp_path) == set()  # no provider block: both use the same default provider


def test_a_single_region_trail_in_another_stack_is_reported(tmp_path):
    write(tmp_path, {
        "streams.yaml": """
            Resources:
              Orders:
                Type: AWS::Kinesis::Stream
                Properties: {ShardCount: 1, StreamEncryption: {EncryptionType: KMS, KeyId: alias/aws/kinesis}}
        """,
        "audit.yaml": """
            Resources:
              Trail:
                Type: AWS::CloudTrail::Trail
                Properties: {IsLogging: true, S3BucketName: logs, EnableLogFileValidation: true, KMSKeyId: k}
        """,
    })
    assert found(tmp_path, config=Config(audit=AuditSettings(require_data_events=False))) == {("KDS021", "Trail")}


# --------------------------------------------------------------------------- selectors and ARNs


@pytest.mark.parametrize(
    "arn_condition, recorded",
    [
        ('equals = ["arn:aws:kinesis:us-east-1:111122223333:stream/orders"]', True),
        ('equals = ["arn:aws:kinesis:us-east-1:111122223333:stream/other"]', False),
        ('starts_with = ["arn:aws:kinesis:us-east-1:111122223333:stream/ord"]', True),
        ('starts_with = ["arn:aws:kinesis:eu-west-1:"]', False),  # the stream is in us-east-1
        ('ends_with = ["stream/orders"]', True),
        ('not_starts_with = ["arn:aws:kinesis:us-east-1:111122223333:stream/orders"]', False),
        ('equals = [aws_kinesis_stream.orders.arn]', True),
        ('equals = [aws_kinesis_stream.other.arn]', False),
        ('equals = [var.stream_arn]', None),  # no default: not known before deployment
    ],
)
def test_data_event_selectors_match_the_stream_arn(tmp_path, arn_condition, recorded):
    write(tmp_path, {"main.tf": 'provider "aws" {\n  region = "us-east-1"\n}\nvariable "stream_arn" {}\n'
          + tf_stream("orders", "orders") + tf_stream("other", "other")
          + tf_trail("audit", KINESIS_DATA_SELECTOR % arn_condition)})
    model = load([str(tmp_path)])
    assert [d for d in model.diagnostics if d.level == "error"] == []
    scope = audit(model)
    orders = next(s for s in scope.streams if s.address == "aws_kinesis_stream.orders")
    assert scope.trails[0].records_data_events_of(orders, model) is recorded


@pytest.mark.parametrize(
    "selectors, excluded",
    [
        ("", None),
        ('event_selector {\n read_write_type = "WriteOnly"\n}', None),
        ('event_selector {\n read_write_type = "ReadOnly"\n}\nevent_selector {\n include_management_events = true\n}', None),
        ('advanced_event_selector {\n name = "m"\n field_selector {\n field = "eventCategory"\n equals = ["Management"]\n }\n'
         ' field_selector {\n field = "eventSource"\n not_equals = ["kinesis.amazonaws.com"]\n }\n}', "exclude kinesis.amazonaws.com"),
        ('advanced_event_selector {\n name = "m"\n field_selector {\n field = "eventCategory"\n equals = ["Management"]\n }\n'
         ' field_selector {\n field = "readOnly"\n equals = ["true"]\n }\n}', "record only read-only management events"),
    ],
)
def test_management_write_events_through_selectors(tmp_path, selectors, excluded):
    write(tmp_path, {"main.tf": tf_stream("orders", "orders") + tf_trail("audit", selectors + "\n")})
    records, why = audit(load([str(tmp_path)])).trails[0].records_management_writes()
    assert (records, why) == ((True, "") if excluded is None else (False, f"its advanced event selectors {excluded}"))


# --------------------------------------------------------------------------- coverage


def test_an_event_data_store_covers_the_streams_and_can_record_their_data_events(tmp_path):
    write(tmp_path, {"main.tf": tf_stream("orders", "orders") + """
        resource "aws_cloudtrail_event_data_store" "lake" {
          name = "lake"
          advanced_event_selector {
            name = "kinesis"
            field_selector {
              field  = "eventCategory"
              equals = ["Data"]
            }
            field_selector {
              field  = "resources.type"
              equals = ["AWS::Kinesis::Stream"]
            }
          }
        }
    """})
    assert found(tmp_path) == set()


def test_a_conditional_cloudformation_trail_names_the_parameter(tmp_path):
    write(tmp_path, {"t.yaml": """
        Parameters:
          Audit: {Type: String, Default: "no"}
        Conditions:
          WithAudit: !Equals [!Ref Audit, "yes"]
        Resources:
          Trail:
            Type: AWS::CloudTrail::Trail
            Condition: WithAudit
            Properties: {IsLogging: true, S3BucketName: logs, IsMultiRegionTrail: true}
          Orders:
            Type: AWS::Kinesis::Stream
            Properties: {ShardCount: 1}
    """})
    result = scan([str(tmp_path)], config=Config(audit=AuditSettings(require_data_events=False)))
    messages = {f.message for f in result.findings if f.rule.id == "KDS020"}
    assert len(messages) == 1
    assert 'Audit (default: "no"); set Audit to create it' in messages.pop()


# --------------------------------------------------------------------------- the scope of one file


def test_a_file_named_alone_is_audited_by_the_trails_of_its_directory(tmp_path):
    """``kds-iac scan streams.yaml``: the scope is its directory, so the sibling stack's trail
    counts; nothing of the sibling is reported, though its trail has a defect."""
    write(tmp_path, {
        "streams.yaml": """
            Resources:
              Orders:
                Type: AWS::Kinesis::Stream
                Properties: {ShardCount: 1}
        """,
        "notes.yaml": "not: a template\n",
    })
    alone = subprocess.run([tool("kds-iac"), "scan", "streams.yaml", "-q", "--format", "json"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert {f["rule_id"] for f in json.loads(alone.stdout)["findings"]} >= {"KDS020", "KDS022"}
    write(tmp_path, {"audit.yaml": """
        Resources:
          Trail:
            Type: AWS::CloudTrail::Trail
            Properties: {IsLogging: false, S3BucketName: logs, IsMultiRegionTrail: true}
    """})
    done = subprocess.run([tool("kds-iac"), "scan", "streams.yaml", "--format", "json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    report = json.loads(done.stdout)
    assert {(f["rule_id"], f["file"]) for f in report["findings"] if f["rule_id"] in SCOPE_RULES} == {
        ("KDS022", "streams.yaml")  # the trail does not log: nothing records data events
    }
    assert report["audit"] == "trails Trail"
    assert "kds-iac: CloudTrail for the streams of this scope: trails Trail" in done.stderr


# --------------------------------------------------------------------------- settings


def test_organization_trail_settings(tmp_path):
    path = tmp_path / ".kds-iac.yaml"
    path.write_text('organization-trail: "arn:aws:cloudtrail:us-east-1:1:trail/org"\nkinesis-data-events: false\n')
    assert load_config(str(path)).audit == AuditSettings(
        organization_trail="arn:aws:cloudtrail:us-east-1:1:trail/org", require_data_events=False, source=str(path)
    )
    for text, complaint in (
        ("organization-trail: 3\n", "'organization-trail' must be a non-empty text"),
        ("organization-trail: ''\n", "'organization-trail' must be a non-empty text"),
        ("kinesis-data-events: 'no'\n", "'kinesis-data-events' must be true or false"),
        ("organization-trail-data-events: true\n", "'organization-trail-data-events' needs 'organization-trail'"),
    ):
        path.write_text(text)
        with pytest.raises(ConfigError, match=complaint):
            load_config(str(path))


def test_settings_turn_the_coverage_and_data_event_rules_off(tmp_path):
    write(tmp_path, {"main.tf": tf_stream("orders", "orders")})
    assert found(tmp_path) == {("KDS020", "aws_kinesis_stream.orders"), ("KDS022", "aws_kinesis_stream.orders")}
    declared = Config(audit=AuditSettings(organization_trail="org"))
    assert found(tmp_path, config=declared) == {("KDS022", "aws_kinesis_stream.orders")}
    with_events = Config(audit=AuditSettings(organization_trail="org", organization_trail_data_events=True))
    assert found(tmp_path, config=with_events) == set()
    assert found(tmp_path, config=Config(audit=AuditSettings(require_data_events=False))) == {
        ("KDS020", "aws_kinesis_stream.orders")
    }


def test_the_report_says_which_declared_trail_covers_the_scope():
    done = subprocess.run(
        [tool("kds-iac"), "scan", "examples/terraform/cloudtrail-organization", "--format", "sarif"],
        cwd=EXAMPLES.parent, capture_output=True, text=True, timeout=120,
    )
    declared = (
        "organization trail declared in examples/terraform/cloudtrail-organization/.kds-iac.yaml:"
        " arn:aws:cloudtrail:us-east-1:111122223333:trail/org-audit (repository acme/org-audit)"
    )
    assert f"kds-iac: CloudTrail for the streams of this scope: {declared}\n" in done.stderr
    properties = json.loads(done.stdout)["runs"][0]["properties"]
    assert properties["audit"] == declared
    assert properties["scope"] == ["examples/terraform/cloudtrail-organization"]


def test_a_terraform_plan_is_judged_like_the_configuration():
    """Plan JSON spells unset arguments as null and absent blocks as empty lists."""
    plan = EXAMPLES.parent / "tests" / "fixtures" / "terraform_plan" / "cloudtrail.json"
    result = scan([str(plan)], config=Config())
    assert [d for d in result.diagnostics if d.level == "error"] == []
    defects = sorted(f.message.split(" is not effective: ")[1].split(":")[0] for f in result.findings if f.rule.id == "KDS021")
    assert defects == [
        "log file validation is off",
        "log files recording aws_kinesis_stream.orders are not encrypted with a KMS key (SSE-S3 only)",
        "management events are excluded (its advanced event selectors select no Management category)",
    ]
    assert {f.rule.id for f in result.findings} == {"KDS002", "KDS021"}  # its data events are recorded
