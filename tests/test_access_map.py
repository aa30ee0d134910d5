"""The access map (``kds-iac map``): who may write, read, administer each example stream or
use its key, what opens it to other accounts or anyone, what audits it and where its records
go, asserted exactly per stream in Terraform, CloudFormation and Serverless."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from kds_iac import access_map
from kds_iac.config import resolve_config
from kds_iac.engine import scan
from tests.conftest import REPO, tool

ORG = True  # examples/.kds-iac.yaml declares the organization trail


def project(path: str) -> dict:
    """Per stream: encryption, principals per level (with certainty), external grantees,
    trails (with data events) and destinations: what a reviewer reads off the map."""
    config = resolve_config(None, [path], str(REPO))
    built = access_map.build(scan([path], config=config))
    out = {}
    for stream in built["streams"]:
        encryption, key = stream["encryption"], stream["encryption"]["key"]
        entry = {"encryption": (encryption["state"], key and key["kind"])}
        for level in access_map.LEVELS:
            if stream["access"][level]:
                entry[level] = sorted((x["principal"], x["certain"]) for x in stream["access"][level])
        if stream["external_grants"]:
            entry["external"] = sorted(
                (g["policy"], w["kind"], w["principal"]) for g in stream["external_grants"] for w in g["grantees"]
            )
        audit = stream["audit"]
        entry["audit"] = (sorted((t["address"], t["data_events"]) for t in audit["trails"]), bool(audit["organization_trail"]))
        if stream["destinations"]:
            entry["destinations"] = sorted(((d["kind"], d["address"], d["kms"]) for d in stream["destinations"]), key=repr)
        out[stream["address"]] = entry
    every = {level: sorted((x["principal"], x["certain"]) for x in found) for level, found in built["every_stream"].items() if found}
    if every:
        out[EVERY] = every
    return out


EVERY = "(every stream)"  # principals whose grants take in every stream, listed once


CMK = ("kms", "customer_managed")
OWN_KEY_ROOT = ("key_policy", "own_account", "arn:aws:iam::111122223333:root")
OTHER_KEY_ROOT = ("key_policy", "account", "arn:aws:iam::444455556666:root")
ANYONE_KEY = ("key_policy", "anyone", "*")
TF_GATED_USERS = [("aws_iam_user.consumer", True), ("module.streams.aws_iam_user.consumer[0]", True)]

EXPECTED = {
    # write, read
    "examples/terraform/iam-least-privilege": {
        "aws_kinesis_stream.events": {
            "encryption": CMK, "write": [("aws_iam_role.producer", True)], "read": [("aws_iam_role.consumer", True)],
            "audit": ([], ORG),
        }
    },
    # read, key use, a Firehose destination whose bucket is not a resource of the scan
    "examples/terraform/roles-readers-granted": {
        "aws_kinesis_stream.events": {
            "encryption": CMK,
            "read": [("aws_iam_role.consumer", True), ("aws_iam_role.fan_out", True), ("aws_iam_role.firehose_source", True)],
            "key_use": [("aws_iam_role.consumer", True), ("aws_iam_role.firehose_source", True)],
            "audit": ([], ORG),
            "destinations": [("firehose_s3", None, None)],
        }
    },
    # administer (and everything else) on every stream through a gated module's user, reached twice
    "examples/terraform/gated-module": {
        EVERY: {"write": TF_GATED_USERS, "read": TF_GATED_USERS, "administer": TF_GATED_USERS},
        **{
            address: {"encryption": ("none", None), "audit": ([], ORG)}
            for address in (
            "aws_kinesis_stream.this",
            "module.archive.aws_kinesis_stream.archive",
            "module.legacy_archive.aws_kinesis_stream.archive",
            'module.streams.aws_kinesis_stream.this["clicks"]',
            "module.streams.module.archive.aws_kinesis_stream.archive",
            "module.streams.module.legacy_archive.aws_kinesis_stream.archive",
            )
        },
    },
    # cross-account and public resource and key policies
    "examples/terraform/iam-resource-policies": {
        "aws_kinesis_stream.clicks": {
            "encryption": CMK, "external": [OTHER_KEY_ROOT, ANYONE_KEY, OWN_KEY_ROOT, ("resource_policy", "anyone", "*")],
            "audit": ([], ORG),
        },
        "aws_kinesis_stream.metrics": {
            "encryption": CMK, "external": [OTHER_KEY_ROOT, ANYONE_KEY, OWN_KEY_ROOT, ("resource_policy", "anyone", "*")],
            "audit": ([], ORG),
        },
        "aws_kinesis_stream.orders": {
            "encryption": CMK,
            "external": [
                OTHER_KEY_ROOT, ANYONE_KEY, OWN_KEY_ROOT,
                ("resource_policy", "account", "arn:aws:iam::444455556666:role/orders-reader"),
            ],
            "audit": ([], ORG),
        },
    },
    # Firehose destinations: each S3 destination and backup, encrypted with KMS or not
    "examples/terraform/datapath-firehose-s3": {
        "aws_kinesis_stream.events": {
            "encryption": CMK,
            "audit": ([], ORG),
            "destinations": [
                ("firehose_s3", "aws_s3_bucket.aes256", False),
                ("firehose_s3", "aws_s3_bucket.default_sse_s3", False),
                ("firehose_s3", "aws_s3_bucket.default_sse_s3", True),
                ("firehose_s3", "aws_s3_bucket.inline_aes256", False),
                ("firehose_s3", "aws_s3_bucket.inline_kms", True),
                ("firehose_s3", "aws_s3_bucket.kms_default", True),
                ("firehose_s3", "aws_s3_bucket.kms_default", True),
                ("firehose_s3", None, None),
            ],
        }
    },
    # audit: a trail of the scope, recording data events for some streams only
    "examples/terraform/cloudtrail-data-events": {
        "aws_kinesis_stream.by_prefix": {"encryption": CMK, "audit": ([("aws_cloudtrail.audit", True)], False)},
        "aws_kinesis_stream.by_reference": {"encryption": CMK, "audit": ([("aws_cloudtrail.audit", True)], False)},
        "aws_kinesis_stream.excluded": {"encryption": CMK, "audit": ([("aws_cloudtrail.audit", False)], False)},
        "aws_kinesis_stream.unselected": {"encryption": CMK, "audit": ([("aws_cloudtrail.audit", False)], False)},
    },
    # CloudFormation: SAM policy templates give write, read and administer on the stream;
    # AmazonKinesisFullAccess gives them on every stream
    "examples/cloudformation/iam-sam.yaml": {
        "Orders": {
            "encryption": CMK,
            "write": [("CrudFunctionRole", True)],
            "read": [("CrudFunctionRole", True), ("ReaderFunctionRole", True)],
            "administer": [("CrudFunctionRole", True)],
            "audit": ([], ORG),
        },
        EVERY: {
            "write": [("FullAccessFunctionRole", True)],
            "read": [("FullAccessFunctionRole", True)],
            "administer": [("FullAccessFunctionRole", True)],
        },
    },
    "examples/cloudformation/roles-present.yaml": {
        "Events": {"encryption": CMK, "write": [("ProducerRole", True)], "key_use": [("ProducerRole", True)], "audit": ([], ORG)}
    },
    "examples/cloudformation/iam-resource-policies.yaml": {
        "Clicks": {"encryption": CMK, "external": [ANYONE_KEY, ("resource_policy", "anyone", "*")], "audit": ([], ORG)},
        "Metrics": {"encryption": CMK, "external": [ANYONE_KEY, ("resource_policy", "anyone", "*")], "audit": ([], ORG)},
        "Orders": {"encryption": CMK, "external": [ANYONE_KEY, ("resource_policy", "account", "444455556666")], "audit": ([], ORG)},
    },
    "examples/cloudformation/datapath-failure-destinations.yaml": {
        "Events": {
            "encryption": CMK,
            "audit": ([], ORG),
            "destinations": [
                ("on_failure", "EncryptedQueue", True),
                ("on_failure", "PlainTopic", False),
                ("on_failure", "SqsManagedQueue", False),
                ("on_failure", None, None),
            ],
        }
    },
    "examples/cloudformation/cloudtrail-data-events": {
        "ByPrefix": {"encryption": CMK, "audit": ([("AuditTrail", True)], False)},
        "ByReference": {"encryption": CMK, "audit": ([("AuditTrail", True)], False)},
        "Excluded": {"encryption": CMK, "audit": ([("AuditTrail", False)], False)},
        "Unselected": {"encryption": CMK, "audit": ([("AuditTrail", False)], False)},
    },
    # Serverless: the framework's role reads the stream and uses its key; consumer tables
    "examples/serverless/consumer-tables": {
        "OrdersStream": {
            "encryption": CMK,
            "read": [("provider.iam.role", True)],
            "key_use": [("provider.iam.role", True)],
            "audit": ([], ORG),
            "destinations": [("consumer_table", "Checkpoints", True), ("consumer_table", "Projections", False)],
        }
    },
}


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(REPO)


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_map_of_example(path):
    assert project(path) == EXPECTED[path]


def test_grant_credentials_and_findings_are_shown():
    """A principal entry names the grant (policy, file, line) and how it takes credentials; a
    stream carries the findings that concern it."""
    config = resolve_config(None, ["examples/terraform/roles-readers-granted"], str(REPO))
    built = access_map.build(scan(["examples/terraform/roles-readers-granted"], config=config))
    (stream,) = built["streams"]
    consumer = next(e for e in stream["access"]["read"] if e["principal"] == "aws_iam_role.consumer")
    main_tf = "examples/terraform/roles-readers-granted/main.tf"
    assert consumer["actions"] == ["kinesis:GetRecords", "kinesis:GetShardIterator"]
    assert [(g["policy"], g["file"], g["line"]) for g in consumer["grants"]] == [
        ("policy of aws_iam_role_policy.consumer", main_tf, 68)
    ]
    assert [(c["how"], c["address"]) for c in consumer["credentials"]] == [("lambda", "aws_lambda_function.consumer")]

    config = resolve_config(None, ["examples/terraform/iam-resource-policies"], str(REPO))
    built = access_map.build(scan(["examples/terraform/iam-resource-policies"], config=config))
    clicks = next(s for s in built["streams"] if s["address"] == "aws_kinesis_stream.clicks")
    public = next(g for g in clicks["external_grants"] if g["policy"] == "resource_policy")
    assert (public["address"], public["caller_pinned"], {(m["rule_id"], m["line"]) for m in public["findings"]}) == (
        "aws_kinesis_resource_policy.public", False, {("KDS009", 63)}
    )
    assert clicks["encryption"]["key"]["policy"] == {"state": "written", "public": True}


def test_unknown_encryption_names_the_input():
    """A stream whose encryption an input without default decides is unknown, with that input."""
    config = resolve_config(None, ["examples/terraform/module-defaults"], str(REPO))
    built = access_map.build(scan(["examples/terraform/module-defaults"], config=config))
    states = {s["address"]: s["encryption"]["state"] for s in built["streams"]}
    assert "unknown" not in states.values() or all(
        s["encryption"]["unknown"]["reason"] for s in built["streams"] if s["encryption"]["state"] == "unknown"
    )


def test_map_command_formats(tmp_path):
    """``kds-iac map`` writes the same map as JSON, Markdown and HTML; exit 0."""
    path = "examples/cloudformation/roles-present.yaml"
    env = dict(os.environ, NO_COLOR="1")
    done = subprocess.run([tool("kds-iac"), "map", path], capture_output=True, text=True, timeout=300, cwd=REPO, env=env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["version"] == 1 and [s["address"] for s in data["streams"]] == ["Events"]
    assert [e["principal"] for e in data["streams"][0]["access"]["write"]] == ["ProducerRole"]
    markdown = subprocess.run(
        [tool("kds-iac"), "map", path, "--format", "markdown"], capture_output=True, text=True, timeout=300, cwd=REPO, env=env
    )
    assert markdown.returncode == 0
    assert "### `Events` (examples/cloudformation/roles-present.yaml:" in markdown.stdout
    assert "| write | `ProducerRole` (role) | PutRecord, PutRecords |" in markdown.stdout
    out = tmp_path / "map.html"
    html = subprocess.run(
        [tool("kds-iac"), "map", path, "--format", "html", "-o", str(out)], capture_output=True, text=True, timeout=300, cwd=REPO
    )
    assert html.returncode == 0
    text = out.read_text(encoding="utf-8")
    assert "http://" not in text.replace('"http://www.w3.org/2000/svg"', "") and "https://" not in _without_rule_links(text)
    assert '"address":"Events"' in text


def _without_rule_links(text: str) -> str:
    """The report links each finding to its rule's doc (data, not something fetched)."""
    import re

    return re.sub(r'"help_uri":"https://[^"]*"', "", text)


def test_scan_markdown_is_the_map(tmp_path):
    """``kds-iac scan --format markdown`` writes the map's Markdown report (findings first)."""
    path = "examples/cloudformation/iam-resource-policies.yaml"
    done = subprocess.run(
        [tool("kds-iac"), "scan", path, "--format", "markdown", "-q"], capture_output=True, text=True, timeout=300, cwd=REPO
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines.index("### Findings") < lines.index("### `Clicks` (examples/cloudformation/iam-resource-policies.yaml:" + lines[
        next(i for i, l in enumerate(lines) if l.startswith("### `Clicks`"))
    ].split(":", 1)[1])


def test_markdown_stays_under_the_job_summary_limit():
    """GitHub refuses a job summary over 1 MiB: the Markdown report lists the most severe
    findings and the first streams within its budget, and says how many it left out."""
    from kds_iac.output.markdown import render_map

    config = resolve_config(None, ["examples/terraform/iam-resource-policies"], str(REPO))
    built = access_map.build(scan(["examples/terraform/iam-resource-policies"], config=config))
    built["findings"] = [dict(f, message="m" * 400) for f in built["findings"]] * 2000
    built["streams"] = built["streams"] * 3000
    text = render_map(built)
    assert len(text.encode("utf-8")) < 1024 * 1024
    lines = text.splitlines()
    assert any(line.endswith("more findings, less severe, are not listed here* |") for line in lines)
    assert any(line.startswith("### `aws_kinesis_stream.") for line in lines)  # some streams fit
    assert any("more streams are not listed here" in line for line in lines)
