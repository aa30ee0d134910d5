"""Fix edits computed in forked shares (``--jobs``) are the edits a serial run computes.

JSON and SARIF reports show every fix's edits; on a large scan ``edits_of`` cuts the files'
groups in shares and computes all but one in forked copies of the process
(``kds_iac.forked``). A child that fails costs only time: its share is computed in the
parent, so the answer never depends on it.
"""

from __future__ import annotations

import os
import signal
import sys

import pytest

from kds_iac import engine, forked
from kds_iac.fixes import apply
from kds_iac.loaders import load
from tests.loaders.test_parallel import stream_module

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked shares are Linux only")


def test_shares_are_runs_of_neighbours_of_about_equal_weight():
    assert forked.shares(list("abcdef"), [1] * 6, 2) == [list("abc"), list("def")]
    assert forked.shares(list("abcd"), [5, 1, 1, 1], 2) == [["a"], ["b", "c", "d"]]
    assert forked.shares(list("abc"), [1, 1, 1], 5) == [["a"], ["b"], ["c"]]
    assert forked.shares(list("abc"), [1, 1, 1], 1) == [list("abc")]
    assert forked.shares([], [], 3) == [[]]


def squares(part):
    return {n: n * n for n in part}


def test_every_share_is_answered_and_merged():
    parent = os.getpid()
    seen = []

    def work(part):
        seen.append((os.getpid() == parent, tuple(part)))
        return squares(part)

    assert forked.run_shared([[1, 2], [3], [4, 5]], work) == {1: 1, 2: 4, 3: 9, 4: 16, 5: 25}
    assert seen == [(True, (1, 2))]  # the other shares ran elsewhere


@pytest.mark.parametrize("failure", ["raises", "killed", "unreadable"])
def test_a_failed_child_costs_only_time(failure, monkeypatch):
    parent = os.getpid()

    def work(part):
        if os.getpid() != parent and part == [3]:
            if failure == "raises":
                raise RuntimeError("a bug in a child")
            if failure == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            return {"not": lambda: None}  # cannot be pickled: the child exits 1
        return squares(part)

    assert forked.run_shared([[1], [3], [4]], work) == {1: 1, 3: 9, 4: 16}


def test_no_fork_where_other_threads_run_python(monkeypatch):
    import threading

    class Named:
        def __init__(self, name):
            self.name = name

    main = threading.main_thread()
    monkeypatch.setattr(threading, "enumerate", lambda: [main, Named("kds-iac-tfparse-out"), Named("kds-iac-tfparse-err")])
    assert forked.can_fork()  # only threads that wait on a pipe
    monkeypatch.setattr(threading, "enumerate", lambda: [main, Named("kds-iac-tfparse-out"), Named("someone-else")])
    assert not forked.can_fork()


def test_edits_of_in_shares_equals_edits_of_here(tmp_path, monkeypatch):
    for index in range(3):
        (tmp_path / f"m{index}").mkdir()
        (tmp_path / f"m{index}" / "main.tf").write_text(stream_module(f"s{index}", 200))
    (tmp_path / "key.tf").write_text('resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n')
    model = load([str(tmp_path)])
    findings = engine.run_rules(model, engine.all_rules())
    ran = []
    real = forked.run_shared
    monkeypatch.setattr(forked, "can_fork", lambda: True)  # threads other tests left behind are idle
    monkeypatch.setattr(forked, "run_shared", lambda parts, work: ran.append(len(parts)) or real(parts, work))

    serial = apply.offered(findings, jobs=1)
    shared = apply.offered(findings, jobs=2)

    assert ran == [2]
    assert len(serial) >= apply.MIN_FORKED_FIXES  # the shared path is taken, not skipped
    assert shared == serial


def test_a_few_fixes_stay_here(tmp_path, monkeypatch):
    (tmp_path / "main.tf").write_text(stream_module("few", 3))
    model = load([str(tmp_path)])
    findings = engine.run_rules(model, engine.all_rules())
    monkeypatch.setattr(forked, "run_shared", lambda parts, work: pytest.fail("forked for a few fixes"))
    assert apply.offered(findings, jobs=2) == apply.offered(findings, jobs=1)


def cloudformation_streams(count: int) -> str:
    return "Resources:\n" + "".join(
        f"  Stream{i}:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      ShardCount: 1\n" for i in range(count)
    )


@pytest.mark.parametrize("name, text", [("main.tf", stream_module("one", 500)), ("stack.yaml", cloudformation_streams(500))])
def test_one_large_file_is_cut_in_shares_with_the_same_answers(name, text, tmp_path, monkeypatch):
    (tmp_path / name).write_text(text)
    model = load([str(tmp_path)])
    findings = engine.run_rules(model, engine.all_rules())
    cut = []
    real = forked.run_shared
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    monkeypatch.setattr(forked, "run_shared", lambda parts, work: cut.append([len(p) for p in parts]) or real(parts, work))

    serial = apply.offered(findings, jobs=1)
    shared = apply.offered(findings, jobs=2)

    assert len(cut) == 1 and len(cut[0]) == 2  # the file's group went to two shares
    assert len(serial) >= apply.MIN_FORKED_FIXES
    assert shared == serial
