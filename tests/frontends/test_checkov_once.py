"""The checkov bridge runs the engine once per scope and checkov run, not once per runner.

checkov forks one process per framework runner and each loads our checks; before the run
store, each of them ran the engine on the same scope (three times for ``-d examples``:
the Terraform, CloudFormation and Serverless runners). The first half of this module proves
the store with forked processes and a stand-in engine; the second runs the real ``checkov``
and asserts that the engine ran once per scope and that checkov reports exactly what it
reports when every runner process runs the engine itself (the behaviour before the store).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest

from kds_iac import engine
from kds_iac.frontends import checkov_bridge as bridge
from kds_iac.frontends import checkov_runner
from kds_iac.model import TERRAFORM, Diagnostic, Location, Resource
from kds_iac.rules import all_rules
from kds_iac.rules.base import Finding
from tests.conftest import EXAMPLES, REPO

FORK = multiprocessing.get_context("fork")


# --------------------------------------------------------------------------- the store, with a stand-in engine


@pytest.fixture()
def scope(tmp_path: Path, monkeypatch) -> dict:
    """A scope with two files, an engine that logs each call to a file, and a private store."""
    root = tmp_path / "scope"
    root.mkdir()
    main, broken = root / "main.tf", root / "broken.tf"
    main.write_text("")
    broken.write_text("")
    calls = tmp_path / "calls.log"
    rule = all_rules()[0].rule
    stream = Resource("aws_kinesis_stream", "aws_kinesis_stream.a", {}, Location(str(main), 1, 4), TERRAFORM, unit=str(root))

    def fake_scan(paths, **_):
        with open(calls, "a") as log:
            log.write(f"{os.getpid()} {paths[0]}\n")
        time.sleep(0.5)  # the other processes ask while this one computes
        return engine.ScanResult(
            findings=[Finding(rule, stream, "stream a is bad")],
            diagnostics=[Diagnostic("error", str(broken), 3, "syntax error")],
            files=[str(main), str(broken)],
        )

    store = tmp_path / "store"
    monkeypatch.setattr(engine, "scan", fake_scan)
    monkeypatch.setattr(bridge, "_store_root", lambda: str(store))
    monkeypatch.delenv(bridge.NO_SHARE_ENV, raising=False)
    bridge.clear_cache()
    yield {"root": str(root.resolve()), "main": str(main.resolve()), "broken": str(broken.resolve()), "calls": calls,
           "store": store, "rule": rule}
    bridge.clear_cache()


def _ask_in_children(root: str, count: int, before=None) -> list[tuple[dict, list[str]]]:
    """``count`` forked processes (as checkov forks its runners) each ask for ``root``'s result."""
    receive, send = FORK.Pipe(duplex=False)

    def child() -> None:
        if before is not None:
            before()
        result = bridge.scope_result(root)
        send.send((result.to_json(), list(bridge.RUNS)))

    children = [FORK.Process(target=child) for _ in range(count)]
    for process in children:
        process.start()
    answers = []
    for process in children:
        process.join(timeout=120)
    while receive.poll():
        answers.append(receive.recv())
    return answers


def _expected(scope: dict) -> dict:
    return {
        "root": scope["root"],
        "hits": [[scope["rule"].checkov_id, scope["main"], "aws_kinesis_stream.a", [["stream a is bad", str(Path(scope["root"]))]]]],
        "files": sorted([scope["main"], scope["broken"]]),
        "broken": {scope["broken"]: f"{scope['broken']}:3: syntax error"},
        "error": None,
    }


def test_runner_processes_of_one_run_share_one_engine_run(scope):
    answers = _ask_in_children(scope["root"], 3)
    calls = scope["calls"].read_text().splitlines()
    assert len(calls) == 1 and calls[0].endswith(" " + scope["root"])
    computed_by = int(calls[0].split()[0])
    assert sorted(runs for _, runs in answers) == [[], [], [scope["root"]]]  # one process ran it, two read it
    assert [result for result, _ in answers] == [_expected(scope)] * 3
    assert computed_by != os.getpid()
    assert not bridge.RUNS  # and not the parent (checkov's main process never asks)


def test_what_is_read_from_the_store_matches_like_what_was_computed(scope):
    rule = scope["rule"]
    result = bridge.ScopeResult.from_json(_expected(scope))
    bridge._RESULTS[scope["root"]] = result
    located = bridge.Located(scope["root"], scope["main"])
    verdict = bridge.evaluate(rule, located, "aws_kinesis_stream.a")
    assert (verdict.status, verdict.messages) == (bridge.FAILED, ("stream a is bad",))
    assert bridge.evaluate(rule, located, "aws_kinesis_stream.b").status == bridge.PASSED
    broken = bridge.evaluate(rule, bridge.Located(scope["root"], scope["broken"]), "aws_kinesis_stream.c")
    assert (broken.status, broken.messages) == (bridge.UNKNOWN, (f"{scope['broken']}:3: syntax error",))
    assert bridge.ScopeResult.from_json(result.to_json()) == result


def test_an_engine_failure_is_shared_and_raised_on_every_resource(scope, monkeypatch):
    def failing_scan(paths, **_):
        with open(scope["calls"], "a") as log:
            log.write(f"{os.getpid()} {paths[0]}\n")
        raise ValueError("model bug")

    monkeypatch.setattr(engine, "scan", failing_scan)
    answers = _ask_in_children(scope["root"], 2)
    assert len(scope["calls"].read_text().splitlines()) == 1
    assert [result["error"] for result, _ in answers] == ["ValueError: model bug"] * 2
    bridge._RESULTS[scope["root"]] = bridge.ScopeResult.from_json(answers[0][0])
    with pytest.raises(RuntimeError, match="engine failed on .*: ValueError: model bug"):
        bridge.evaluate(scope["rule"], bridge.Located(scope["root"], scope["main"]), "aws_kinesis_stream.a")


def test_a_runner_that_dies_while_computing_leaves_the_engine_to_the_next(scope, monkeypatch):
    first = FORK.Process(target=lambda: (monkeypatch.setattr(engine, "scan", lambda *a, **k: os._exit(3)), bridge.scope_result(scope["root"])))
    first.start()
    first.join(timeout=120)
    assert first.exitcode == 3
    answers = _ask_in_children(scope["root"], 2)
    assert len(scope["calls"].read_text().splitlines()) == 1  # the dead one never logged; one of the two computed
    assert [result for result, _ in answers] == [_expected(scope)] * 2


def test_without_a_parent_process_results_stay_in_memory(scope):
    """One runner, or checkov's thread and sequential modes: the runners share this process."""
    assert bridge._run_store() is None
    assert bridge.scope_result(scope["root"]).to_json() == _expected(scope)
    assert bridge.scope_result(scope["root"]) is bridge.scope_result(scope["root"])
    assert len(scope["calls"].read_text().splitlines()) == 1
    assert not scope["store"].exists()


def test_a_store_directory_others_can_write_is_not_used(scope):
    scope["store"].mkdir(mode=0o700)
    os.chmod(scope["store"], 0o777)
    answers = _ask_in_children(scope["root"], 2)
    assert len(scope["calls"].read_text().splitlines()) == 2  # each computed its own
    assert sorted(runs for _, runs in answers) == [[scope["root"]]] * 2
    assert os.listdir(scope["store"]) == []


def test_stores_of_finished_runs_are_removed(scope):
    scope["store"].mkdir(mode=0o700)
    finished = scope["store"] / "999999999-12345"  # no such process
    reused = scope["store"] / f"{os.getppid()}-1"  # a live pid, another start time: an earlier run
    live = scope["store"] / f"{os.getppid()}-{bridge._process_start(os.getppid())}"  # a run still going
    for path in (finished, reused, live):
        path.mkdir()
        (path / "x.json").write_text("{}")
    _ask_in_children(scope["root"], 1)
    this_run = f"{os.getpid()}-{bridge._process_start(os.getpid())}"
    assert sorted(os.listdir(scope["store"])) == sorted([live.name, this_run])


def test_the_store_names_the_run_by_its_process_and_start_time(scope):
    answers = _ask_in_children(scope["root"], 1)
    assert answers[0][1] == [scope["root"]]
    run = scope["store"] / f"{os.getpid()}-{bridge._process_start(os.getpid())}"
    assert [p.suffix for p in sorted(run.iterdir())] == [".json", ".lock"]
    assert (os.stat(scope["store"]).st_mode & 0o777, os.stat(run).st_mode & 0o777) == (0o700, 0o700)


class _Runner:
    """Stands for a checkov runner: what ``loaded_for`` looks for in its callers' frames."""

    def __init__(self, check_type: str) -> None:
        self.check_type = check_type

    def load(self, runners) -> bool:
        return checkov_runner.loaded_for(runners)


def test_checks_are_built_only_for_the_runners_that_ask_them():
    assert _Runner("terraform").load(checkov_runner.TERRAFORM_RUNNERS) is True
    assert _Runner("terraform_json").load(checkov_runner.TERRAFORM_RUNNERS) is True
    assert _Runner("serverless").load(checkov_runner.CLOUDFORMATION_RUNNERS) is True
    assert _Runner("kubernetes").load(checkov_runner.TERRAFORM_RUNNERS) is False
    assert _Runner("cloudformation").load(checkov_runner.SERVERLESS_RUNNERS) is False
    assert checkov_runner.loaded_for(checkov_runner.TERRAFORM_RUNNERS) is True  # no runner: a program importing the checks


# --------------------------------------------------------------------------- the real checkov


from tests.frontends.test_checkov import CLONE_CHECKS, run_checkov  # noqa: E402


def _failed(run) -> set[tuple[str, str, str]]:
    """(check id, resource, file relative to examples/) of what checkov reported FAILED."""
    return {(r.check_id, r.address, os.path.relpath(r.file, EXAMPLES.resolve())) for r in run.records if r.result == "FAILED"}


@pytest.fixture(scope="module")
def mixed_runs():
    """``checkov -d examples`` (Terraform, CloudFormation and Serverless) with the run store
    and without it (each runner process runs the engine, as before the store)."""
    shared = run_checkov(["-d", "examples"], CLONE_CHECKS)
    unshared = run_checkov(["-d", "examples"], CLONE_CHECKS, env={bridge.NO_SHARE_ENV: "1"})
    return shared, unshared


def test_a_mixed_repository_runs_the_engine_once(mixed_runs):
    shared, unshared = mixed_runs
    root = str(EXAMPLES.resolve())
    assert shared.engine_runs() == [root]
    # without the store: once in each runner process that asks (terraform, cloudformation, serverless)
    assert unshared.engine_runs() == [root] * 3
    assert shared.problems() == [] and unshared.problems() == []


def test_a_mixed_repository_gets_the_same_report_with_one_engine_run(mixed_runs):
    shared, unshared = mixed_runs
    assert {r.framework for r in shared.records} == {"terraform", "cloudformation", "serverless"}
    assert Counter(shared.records) == Counter(unshared.records)
    assert shared.keys("FAILED")


def test_several_directories_run_the_engine_once_each():
    """Each ``-d`` is a scope of its own (CloudTrail coverage and settings are judged per
    scope), so the engine runs once for each, not once for their union."""
    units = ["terraform/unencrypted-streams", "cloudformation/nested-stacks-good", "serverless/service-bad"]
    run = run_checkov([arg for unit in units for arg in ("-d", f"examples/{unit}")], CLONE_CHECKS)
    assert run.problems() == []
    assert run.engine_runs() == [str((EXAMPLES / unit).resolve()) for unit in units]
    tf, sls = "terraform/unencrypted-streams/main.tf", "serverless/service-bad/serverless.yml"
    fragment = "serverless/service-bad/resources/streams.yml"  # also read as a template by the CloudFormation runner
    assert _failed(run) == {
        ("CKV_KDS_1", "aws_kinesis_stream.plain", tf),
        ("CKV_KDS_1", "aws_kinesis_stream.explicitly_none", tf),
        ("CKV_KDS_1", "aws_kinesis_stream.from_variable", tf),
        ("CKV_KDS_1", "aws_kinesis_stream.optional_key", tf),
        ("CKV_KDS_1", "AWS::Kinesis::Stream.OrdersStream", sls),
        ("CKV_KDS_1", "AWS::Kinesis::Stream.AuditStream", sls),
        ("CKV_KDS_1", "OrdersStream", fragment),
        ("CKV_KDS_1", "AuditStream", fragment),
        ("CKV_KDS_4", "consumer", sls),
        ("CKV_KDS_5", "consumer", sls),
    }


def test_several_files_run_the_engine_once_per_directory():
    """``-f``: a file's scope is its directory; three files in three directories, three runs."""
    files = ["terraform/unencrypted-streams/main.tf", "cloudformation/creds-hardcoded.yaml", "serverless/service-bad/serverless.yml"]
    run = run_checkov([arg for file in files for arg in ("-f", f"examples/{file}")], CLONE_CHECKS)
    assert run.problems() == []
    assert sorted(run.engine_runs()) == sorted(str((EXAMPLES / file).resolve().parent) for file in files)
    tf, cfn, sls = files
    assert _failed(run) == {
        ("CKV_KDS_1", "aws_kinesis_stream.plain", tf),
        ("CKV_KDS_1", "aws_kinesis_stream.explicitly_none", tf),
        ("CKV_KDS_1", "aws_kinesis_stream.from_variable", tf),
        ("CKV_KDS_1", "aws_kinesis_stream.optional_key", tf),
        ("CKV_KDS_12", "KeysInEnvironment", cfn),
        ("CKV_KDS_12", "AgentWithKeys", cfn),
        ("CKV_KDS_12", "KeysFromParameter", cfn),
        ("CKV_KDS_1", "AWS::Kinesis::Stream.OrdersStream", sls),
        ("CKV_KDS_1", "AWS::Kinesis::Stream.AuditStream", sls),
        ("CKV_KDS_4", "consumer", sls),
        ("CKV_KDS_5", "consumer", sls),
    }


def test_runners_in_one_process_share_the_result_and_all_get_their_checks(tmp_path):
    """checkov's sequential mode (its thread mode on macOS and Windows is alike): every runner
    in one process. The clone's loader imports the check modules once, so a runner that does
    not ask them may load them first; the Terraform, CloudFormation and Serverless runners must
    still get their checks, and the engine runs once, in memory."""
    tree = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "terraform" / "unencrypted-streams", tree / "tf")
    shutil.copytree(EXAMPLES / "serverless" / "service-bad", tree / "service")
    (tree / "cfn").mkdir()
    shutil.copy(EXAMPLES / "cloudformation" / "creds-hardcoded.yaml", tree / "cfn")
    forked = run_checkov(["-d", str(tree)], CLONE_CHECKS)
    sequential = run_checkov(["-d", str(tree)], CLONE_CHECKS, env={"CHECKOV_PARALLELIZATION_TYPE": "none"})
    assert sequential.problems() == [] and forked.problems() == []
    assert forked.engine_runs() == sequential.engine_runs() == [str(tree.resolve())]
    assert {r.framework for r in sequential.records if r.result == "FAILED"} == {"terraform", "cloudformation", "serverless"}
    assert Counter(sequential.records) == Counter(forked.records)
