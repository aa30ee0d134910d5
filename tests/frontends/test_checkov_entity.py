"""The checkov bridge finds which resource of which scope checkov asks about once per resource.

checkov asks each of our checks that takes a resource's type about it, one after the other in
one call of its registry's ``scan``; the scope (read from checkov's frames or the resource
data) is the same for all of them, so ``checkov_bridge.entity_context`` finds it for the first
and hands it to the others. These tests pin what may be shared and what may not.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kds_iac.frontends import checkov_bridge as bridge

pytest.importorskip("checkov")


class _Check:
    """What ``entity_context`` reads of a check: the entity and the frame asking about it."""

    def __init__(self, scanned_file: str, entity: tuple[str, str], asking) -> None:
        self._scanned_file = scanned_file
        self._entity = entity
        self._asking = asking


@pytest.fixture(autouse=True)
def _clean():
    bridge.clear_cache()
    yield
    bridge.clear_cache()


def _locator(calls: list):
    def locate(check, conf, frame):
        calls.append((check._scanned_file, check._entity, id(conf)))
        return (check._scanned_file, check._entity, len(calls))

    return locate


def test_the_context_is_shared_only_within_one_asking_frame_and_configuration():
    calls: list = []
    locate = _locator(calls)
    frame, other_frame = sys._getframe(), sys._getframe(1)
    conf, same_looking_conf = {"__address__": "aws_kinesis_stream.s"}, {"__address__": "aws_kinesis_stream.s"}
    entity = ("aws_kinesis_stream", "s")

    first = bridge.entity_context(_Check("/main.tf", entity, frame), conf, locate, frame)
    assert bridge.entity_context(_Check("/main.tf", entity, frame), conf, locate, frame) is first
    assert calls == [("/main.tf", entity, id(conf))]

    # another configuration object, frame, file, entity or locate: found afresh
    assert bridge.entity_context(_Check("/main.tf", entity, frame), same_looking_conf, locate, frame) == ("/main.tf", entity, 2)
    assert bridge.entity_context(_Check("/main.tf", entity, other_frame), same_looking_conf, locate, frame) == ("/main.tf", entity, 3)
    assert bridge.entity_context(_Check("/other.tf", entity, other_frame), same_looking_conf, locate, frame) == ("/other.tf", entity, 4)
    renamed = ("aws_kinesis_stream", "t")
    assert bridge.entity_context(_Check("/other.tf", renamed, other_frame), same_looking_conf, locate, frame) == ("/other.tf", renamed, 5)
    other_calls: list = []
    assert bridge.entity_context(_Check("/other.tf", renamed, other_frame), same_looking_conf, _locator(other_calls), frame) == (
        "/other.tf", renamed, 1,
    )
    assert other_calls == [("/other.tf", renamed, id(same_looking_conf))]


def test_without_an_asking_frame_nothing_is_shared():
    """A check called outside a registry's scan (a test calling ``scan_resource_conf``)."""
    calls: list = []
    locate = _locator(calls)
    conf = {}
    entity = ("aws_kinesis_stream", "s")
    bridge.entity_context(_Check("/main.tf", entity, None), conf, locate, sys._getframe())
    bridge.entity_context(_Check("/main.tf", entity, None), conf, locate, sys._getframe())
    assert calls == [("/main.tf", entity, id(conf)), ("/main.tf", entity, id(conf))]


def test_a_failed_locate_is_not_remembered():
    attempts: list = []

    def locate(check, conf, frame):
        attempts.append(check._entity)
        raise RuntimeError("no scope")

    frame, conf = sys._getframe(), {}
    for _ in range(2):
        with pytest.raises(RuntimeError, match="no scope"):
            bridge.entity_context(_Check("/main.tf", ("aws_kinesis_stream", "s"), frame), conf, locate, frame)
    assert attempts == [("aws_kinesis_stream", "s"), ("aws_kinesis_stream", "s")]


def test_checkov_runners_find_each_resources_scope_once(tmp_path: Path, monkeypatch):
    """checkov's own runners: every resource that several of our checks take is located once,
    and each check still gets its own verdict."""
    from checkov.runner_filter import RunnerFilter

    from kds_iac.frontends.checkov_checks import kds_iac_cloudformation_checks, kds_iac_terraform_checks

    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text(
        'resource "aws_kinesis_stream" "plain" {\n  name        = "plain"\n  shard_count = 1\n}\n'
        'resource "aws_kinesis_stream" "managed" {\n  name            = "managed"\n  shard_count     = 1\n'
        '  encryption_type = "KMS"\n  kms_key_id      = "alias/aws/kinesis"\n}\n'
    )
    (tmp_path / "cfn").mkdir()
    (tmp_path / "cfn" / "t.yaml").write_text(
        "Resources:\n  Plain:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      ShardCount: 1\n"
        "  Managed:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      ShardCount: 1\n"
        "      StreamEncryption:\n        EncryptionType: KMS\n        KeyId: alias/aws/kinesis\n"
    )
    kds_iac_terraform_checks.register()
    kds_iac_cloudformation_checks.register()
    located: list = []
    recover = bridge.recover_scope

    def spy(framework, scanned_file, conf, graph=None, frame=None):
        found = recover(framework, scanned_file, conf, graph, frame if frame is not None else sys._getframe(1))
        properties = conf.get("Properties") or {}
        name = conf.get("__address__") or ("encrypted" if "StreamEncryption" in properties else "plain")
        located.append((framework, scanned_file, name, found.file if found else None))
        return found

    monkeypatch.setattr(bridge, "recover_scope", spy)
    monkeypatch.chdir(tmp_path)
    ids = ["CKV_KDS_1", "CKV_KDS_2", "CKV_KDS_22"]  # each takes streams; no trail records data events (KDS022)
    results = {}
    for framework, folder in (("terraform", "tf"), ("cloudformation", "cfn")):
        if framework == "terraform":
            from checkov.terraform.runner import Runner
        else:
            from checkov.cloudformation.runner import Runner
        report = Runner().run(root_folder=folder, runner_filter=RunnerFilter(framework=[framework], checks=ids))
        for record in report.failed_checks + report.passed_checks:
            results[(framework, record.check_id, record.resource)] = str(record.check_result["result"].name)

    tf, cfn = str(tmp_path / "tf" / "main.tf"), str(tmp_path / "cfn" / "t.yaml")
    assert sorted(located) == [
        ("cloudformation", "/t.yaml", "encrypted", cfn),
        ("cloudformation", "/t.yaml", "plain", cfn),
        ("terraform", "/main.tf", "aws_kinesis_stream.managed", tf),
        ("terraform", "/main.tf", "aws_kinesis_stream.plain", tf),
    ]
    assert results == {
        ("terraform", "CKV_KDS_1", "aws_kinesis_stream.plain"): "FAILED",
        ("terraform", "CKV_KDS_2", "aws_kinesis_stream.plain"): "PASSED",
        ("terraform", "CKV_KDS_22", "aws_kinesis_stream.plain"): "FAILED",
        ("terraform", "CKV_KDS_1", "aws_kinesis_stream.managed"): "PASSED",
        ("terraform", "CKV_KDS_2", "aws_kinesis_stream.managed"): "FAILED",
        ("terraform", "CKV_KDS_22", "aws_kinesis_stream.managed"): "FAILED",
        ("cloudformation", "CKV_KDS_1", "AWS::Kinesis::Stream.Plain"): "FAILED",
        ("cloudformation", "CKV_KDS_2", "AWS::Kinesis::Stream.Plain"): "PASSED",
        ("cloudformation", "CKV_KDS_22", "AWS::Kinesis::Stream.Plain"): "FAILED",
        ("cloudformation", "CKV_KDS_1", "AWS::Kinesis::Stream.Managed"): "PASSED",
        ("cloudformation", "CKV_KDS_2", "AWS::Kinesis::Stream.Managed"): "FAILED",
        ("cloudformation", "CKV_KDS_22", "AWS::Kinesis::Stream.Managed"): "FAILED",
    }
