"""The stream view works out a stream's branches only when a condition no default decides
can be reached from its settings: under an input, inside a one-item block list, on the
block or on one of its two settings. Hand-made resources, so every wrapping is tried in
both formats whatever the loaders produce today."""

from __future__ import annotations

import pytest

from kds_iac.model import (
    Condition,
    Conditional,
    FromInputs,
    Input,
    Location,
    Model,
    Resource,
)
from kds_iac.views.kinesis import streams

MODE = Condition("Managed", None, (Input("parameter", "Mode"),))
DECIDED = Condition("Decided", True)
INPUT = (Input("variable", "var.x", "KMS", has_default=True),)


def branching(when_true, when_false):
    return Conditional(MODE, when_true, when_false)


def resource(attributes: dict, fmt: str) -> Resource:
    return Resource(
        type="aws_kinesis_stream" if fmt == "terraform" else "AWS::Kinesis::Stream",
        address="s",
        attributes=attributes,
        location=Location("t", 1, 5),
        source_format=fmt,
    )


def judged(attributes: dict, fmt: str) -> list[tuple]:
    (stream,) = streams(Model(resources=[resource(attributes, fmt)]))
    return [(c.encryption.value, c.encryption_branch, c.key_missing) for c in stream.cases]


TRUE, FALSE = "when condition Managed is true", "when condition Managed is false"


@pytest.mark.parametrize(
    "attributes",
    [
        {"encryption_type": branching("KMS", "NONE"), "kms_key_id": "k"},
        {"encryption_type": FromInputs(branching("KMS", "NONE"), INPUT), "kms_key_id": "k"},
        {"encryption_type": FromInputs(FromInputs(branching("KMS", "NONE"), INPUT), INPUT), "kms_key_id": "k"},
        {"encryption_type": Conditional(DECIDED, branching("KMS", "NONE"), "NONE"), "kms_key_id": "k"},
    ],
)
def test_terraform_settings_that_reach_an_undecided_condition_are_judged_per_branch(attributes):
    assert judged(attributes, "terraform") == [("KMS", TRUE, False), ("NONE", FALSE, False)]


def test_a_terraform_key_that_may_be_left_out_is_a_branch():
    attributes = {"encryption_type": "KMS", "kms_key_id": FromInputs(branching("k", None), INPUT)}
    assert judged(attributes, "terraform") == [("KMS", "", False), ("KMS", "", True)]


@pytest.mark.parametrize(
    "block",
    [
        branching({"EncryptionType": "KMS", "KeyId": "k"}, None),
        FromInputs(branching({"EncryptionType": "KMS", "KeyId": "k"}, None), INPUT),
        [{"EncryptionType": FromInputs(branching("KMS", "NONE"), INPUT), "KeyId": "k"}],
        FromInputs({"EncryptionType": branching("KMS", "NONE"), "KeyId": "k"}, INPUT),
    ],
)
def test_cloudformation_blocks_that_reach_an_undecided_condition_are_judged_per_branch(block):
    found = judged({"StreamEncryption": block}, "cloudformation")
    assert len(found) == 2 and found[0][1] == TRUE and found[1][1] == FALSE


def test_a_cloudformation_key_that_may_be_left_out_is_a_branch():
    block = {"EncryptionType": "KMS", "KeyId": FromInputs(branching("k", None), INPUT)}
    assert judged({"StreamEncryption": block}, "cloudformation") == [("KMS", "", False), ("KMS", "", True)]


@pytest.mark.parametrize(
    "attributes, fmt, expected",
    [
        ({"encryption_type": FromInputs("kms", INPUT), "kms_key_id": "k"}, "terraform", [("KMS", "", False)]),
        ({"encryption_type": Conditional(DECIDED, "KMS", "NONE")}, "terraform", [("KMS", "", True)]),
        ({}, "terraform", [("NONE", "", False)]),
        ({"StreamEncryption": {"EncryptionType": "KMS", "KeyId": FromInputs("k", INPUT)}}, "cloudformation", [("KMS", "", False)]),
        ({"StreamEncryption": [{"EncryptionType": "KMS"}]}, "cloudformation", [("KMS", "", True)]),
        ({"StreamEncryption": {"Other": branching("a", "b")}}, "cloudformation", [("NONE", "", False)]),
    ],
)
def test_a_stream_without_undecided_conditions_is_its_one_case(attributes, fmt, expected):
    (stream,) = streams(Model(resources=[resource(attributes, fmt)]))
    assert list(stream.cases) == [stream]
    assert judged(attributes, fmt) == expected


def test_streams_whose_settings_nothing_decides_share_their_facts():
    def cfn(address: str, block: dict) -> Resource:
        return Resource("AWS::Kinesis::Stream", address, {"StreamEncryption": block}, Location("t", 1, 5), "cloudformation")

    model = Model(resources=[
        cfn("A", {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}),
        cfn("B", {"EncryptionType": "kms", "KeyId": "alias/aws/kinesis"}),
        cfn("C", {"EncryptionType": FromInputs("KMS", INPUT), "KeyId": FromInputs("alias/aws/kinesis", INPUT)}),
    ])
    a, b, c = streams(model)
    assert a.encryption is b.encryption and a.key is b.key
    assert (b.encryption.value, b.key.value.reference) == ("KMS", "alias/aws/kinesis")
    assert c.encryption is not a.encryption and c.key is not a.key  # an input decides them
    assert (c.encryption, c.key.value) == (a.encryption.replace(inputs=INPUT), a.key.value)
