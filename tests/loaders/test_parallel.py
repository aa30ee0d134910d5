"""Parallel loading (``--jobs``) gives the report a serial load gives, byte for byte.

Terraform modules load in threads, each with a tfparse worker of its own; CloudFormation
templates in runs, all but the first in forked children that send their models back
(``kds_iac.loaders.parallel``). The results must not depend on which unit finished first:
the same findings in the same order, the same diagnostics, the same progress calls. A module
that crashes its worker costs that module only, with the diagnostic a serial scan gives.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kds_iac.loaders import load, parallel, tfparse_worker
from tests.conftest import tool

REPO = Path(__file__).resolve().parents[2]
CRASHES = 'resource "aws_s3_bucket" "b" {\n  bucket = sensitive("x")\n}\n'  # a Go panic in tfparse
BROKEN = 'resource "aws_kinesis_stream" "s" {\n  name = "s"\n  shard_count = \n}\n'


def stream_module(name: str, streams: int) -> str:
    """A module of ``streams`` unencrypted streams and one role that reads them (~350 bytes each)."""
    blocks = [
        f'resource "aws_kinesis_stream" "{name}_{i}" {{\n  name        = "{name}-{i}"\n  shard_count = 1\n'
        f'  tags = {{\n    team = "data"\n    index = "{i}"\n  }}\n}}\n'
        for i in range(streams)
    ]
    blocks.append(
        f'resource "aws_iam_role_policy" "{name}_reader" {{\n  role = "reader"\n  policy = jsonencode({{\n'
        '    Version = "2012-10-17"\n    Statement = [{ Effect = "Allow", Action = ["kinesis:Get*"], '
        f'Resource = [aws_kinesis_stream.{name}_0.arn] }}]\n  }})\n}}\n'
    )
    return "\n".join(blocks)


def stream_template(name: str, streams: int) -> str:
    """A template of ``streams`` unencrypted streams, a conditional one and a role that reads
    the first (~170 bytes a stream)."""
    lines = ["AWSTemplateFormatVersion: '2010-09-09'", "Conditions:", "  Never: !Equals [a, b]", "Resources:"]
    for i in range(streams):
        lines += [f"  {name}{i}:", "    Type: AWS::Kinesis::Stream", "    Properties:", f"      Name: {name}-{i}",
                  "      ShardCount: 1", "      Tags: [{Key: team, Value: data}]"]
    lines += [f"  {name}Maybe:", "    Type: AWS::Kinesis::Stream", "    Properties:", "      StreamEncryption:",
              "        EncryptionType: !If [Never, KMS, !Ref AWS::NoValue]", "        KeyId: alias/aws/kinesis",
              f"  {name}Reader:", "    Type: AWS::IAM::Role", "    Properties:", "      AssumeRolePolicyDocument: {}",
              "      Policies:", "        - PolicyName: read", "          PolicyDocument:", "            Statement:",
              "              - Effect: Allow", "                Action: kinesis:Get*", f"                Resource: !GetAtt {name}0.Arn"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def mixed_tree(tmp_path_factory) -> Path:
    """The bundled examples (Terraform, plans, CloudFormation, Serverless) and, beside them,
    generated modules and templates, a module and a template with a syntax error and a module
    that crashes tfparse."""
    root = tmp_path_factory.mktemp("mixed")
    shutil.copytree(REPO / "examples", root / "examples")
    for index in range(4):
        (root / f"gen_{index}").mkdir()
        (root / f"gen_{index}" / "main.tf").write_text(stream_module(f"g{index}", 1100))  # 4 x ~150 KB: parallel
    (root / "templates").mkdir()
    for index in range(6):  # 6 x ~48 KB with the examples' templates: parallel
        (root / "templates" / f"t{index}.yaml").write_text(stream_template(f"T{index}x", 350))
    (root / "templates" / "t3_broken.yaml").write_text("Resources:\n  S:\n    Type: AWS::Kinesis::Stream\n   bad: [\n")
    (root / "broken").mkdir()
    (root / "broken" / "main.tf").write_text(BROKEN)
    (root / "crashes").mkdir()
    (root / "crashes" / "main.tf").write_text(CRASHES)
    (root / "crashes" / "streams.tf").write_text(stream_module("c", 2))
    return root


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("kds-iac"), "scan", ".", "--no-progress", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard, not a limit under test
        check=False,
    )


@pytest.mark.parametrize("report", ["json", "sarif", "text"])  # json and sarif: fix edits in forked shares too
def test_jobs_2_reports_what_jobs_1_reports_byte_for_byte(mixed_tree, report):
    serial = run(mixed_tree, "--format", report, "--jobs", "1")
    together = run(mixed_tree, "--format", report, "--jobs", "2")
    assert (together.returncode, together.stdout, together.stderr) == (serial.returncode, serial.stdout, serial.stderr)
    assert serial.returncode == 2  # the broken and the crashing module could not be read
    if report == "json":
        import json

        problems = {
            (d["file"], d["line"], d["level"], d["code"]) for d in json.loads(serial.stdout)["diagnostics"] if d["level"] == "error"
        }
        assert problems == {
            ("broken/main.tf", 3, "error", "parse"),
            ("crashes/main.tf", 1, "error", "evaluation"),
            ("templates/t3_broken.yaml", 4, "error", "parse"),
        }
        found = {(f["rule_id"], f["resource"]) for f in json.loads(serial.stdout)["findings"] if f["file"].startswith("gen_3/")}
        assert ("KDS001", "aws_kinesis_stream.g3_1099") in found  # the last generated module was loaded


def test_modules_load_in_as_many_workers_as_jobs(mixed_tree, monkeypatch):
    """In-process: the same model with jobs=2 as with jobs=1, with two evaluations in two
    worker processes at once (else the comparison above would prove nothing); the extra
    worker stops when the load is done."""
    import threading

    used: list[int] = []
    in_flight: list[int] = []
    most = [0]
    changed = threading.Condition()
    ask = tfparse_worker._ask
    wait_for_company = [False]

    def recording(slot, child, *args):
        with changed:
            used.append(child.process.pid)
            in_flight.append(slot)
            most[0] = max(most[0], len(in_flight))
            changed.notify_all()
            if wait_for_company[0]:  # the first evaluation waits until a second one runs beside it
                wait_for_company[0] = False
                changed.wait_for(lambda: len(in_flight) > 1, timeout=60)
        try:
            return ask(slot, child, *args)
        finally:
            with changed:
                in_flight.remove(slot)

    monkeypatch.setattr(tfparse_worker, "_ask", recording)
    paths = [str(mixed_tree / f"gen_{i}") for i in range(4)] + [str(mixed_tree / "crashes")]
    calls: dict[int, list] = {1: [], 2: []}
    models = {}
    for jobs in (1, 2):
        used.clear()
        most[0] = 0
        wait_for_company[0] = jobs > 1
        models[jobs] = load(paths, jobs=jobs, progress=lambda *call, jobs=jobs: calls[jobs].append(call))
        assert most[0] == jobs
        assert len(set(used)) >= jobs
        assert tfparse_worker.workers() == 1
        assert all(child is None for child in tfparse_worker._others)  # the extra worker is gone
    assert calls[2] == calls[1]

    def described(model):
        return (
            [(r.address, r.location.file, r.location.start_line) for r in model.resources],
            model.diagnostics,
            model.files,
        )

    assert described(models[2]) == described(models[1])


def _described(model):
    """What a model holds, as text: a ``Ref`` is equal only to itself (it holds its resource),
    so two loads' attributes are compared by their repr."""
    return (
        [(r.address, r.type, r.location.file, r.location.start_line, repr(r.attributes)) for r in model.resources],
        model.diagnostics,
        model.files,
    )


def test_templates_load_in_forked_children_as_a_serial_load_would(mixed_tree, monkeypatch):
    """In-process: with jobs=3 the templates load in three runs, two of them in forked children
    (else the command's comparison above would prove nothing), and the model, its order and
    the progress calls are a serial load's."""
    from kds_iac import forked

    started = []
    start = forked._start
    monkeypatch.setattr(forked, "_start", lambda part, work: started.append(len(part)) or start(part, work))
    paths = [str(mixed_tree / "examples" / "cloudformation"), str(mixed_tree / "templates")]
    calls: dict[int, list] = {1: [], 3: []}
    models = {jobs: load(paths, jobs=jobs, progress=lambda *call, jobs=jobs: calls[jobs].append(call)) for jobs in (1, 3)}
    assert len(started) == 2 and all(started)
    assert calls[3] == calls[1]
    assert _described(models[3]) == _described(models[1])
    assert ("error", str(mixed_tree / "templates" / "t3_broken.yaml"), 4) in [
        (d.level, d.file, d.line) for d in models[3].diagnostics
    ]


def test_templates_a_child_could_not_load_are_loaded_here(mixed_tree, monkeypatch):
    """A child that dies costs time only: its run is loaded in this process."""
    import os
    import signal

    from kds_iac import forked

    start = forked._start

    def dying(part, work):
        return start(part, lambda part: os.kill(os.getpid(), signal.SIGKILL))

    monkeypatch.setattr(forked, "_start", dying)
    paths = [str(mixed_tree / "templates")]
    assert _described(load(paths, jobs=2)) == _described(load(paths, jobs=1))


def test_cloudformation_shares(tmp_path):
    sizes = [100_000, 100_000, 100_000, 100_000, 100_000, 100_000]
    paths = []
    for index, size in enumerate(sizes):
        path = tmp_path / f"t{index}.yaml"
        path.write_text("#" * size)
        paths.append(str(path))
    assert parallel.cloudformation_shares(1, paths) == [[0, 1, 2, 3, 4, 5]]
    assert parallel.cloudformation_shares(2, paths[:2]) == [[0, 1]]  # 200 KB: serial
    assert parallel.cloudformation_shares(2, paths) == [[0, 1, 2], [3, 4, 5]]  # the first run may be the larger
    assert parallel.cloudformation_shares(3, paths) == [[0, 1], [2, 3], [4, 5]]
    assert parallel.cloudformation_shares(9, paths[:3]) == [[0], [1], [2]]  # one template a run at most
    big = tmp_path / "big.yaml"
    big.write_text("#" * 1_000_000)
    assert parallel.cloudformation_shares(2, [str(big), *paths[:2]]) == [[0], [1, 2]]  # a run holds a template at least
    assert parallel.cloudformation_shares(2, [*paths[:2], str(big)]) == [[0, 1], [2]]


def test_a_small_scan_loads_serially(tmp_path):
    sizes = {"a": 1, "b": 1, "big": 4000, "huge": 16000}  # ~135 bytes a stream
    for name, streams in sizes.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.tf").write_text(stream_module(name, streams))
    small, big, huge = [str(tmp_path / "a"), str(tmp_path / "b")], str(tmp_path / "big"), str(tmp_path / "huge")
    assert parallel.terraform_plan(2, small) == (1, False)
    assert parallel.terraform_plan(2, [big]) == (1, False)  # one unit
    assert parallel.terraform_plan(2, [*small, big]) == (2, False)
    assert parallel.terraform_plan(8, [*small, big]) == (3, False)  # one thread per module at most
    assert parallel.terraform_plan(1, [*small, big]) == (1, False)
    assert parallel.terraform_plan(2, [*small, huge]) == (2, True)  # worth a cold worker for Go's settings


def test_ordered_map_keeps_the_order_and_raises_where_a_serial_loop_would():
    import time

    def slow_first(n: int) -> int:
        time.sleep(0.05 if n == 0 else 0)
        if n == 3:
            raise ValueError(n)
        return n * 10

    seen = []
    results = parallel.ordered_map(slow_first, [0, 1, 2, 3, 4], 3, before=seen.append)
    assert [next(results), next(results), next(results)] == [0, 10, 20]
    with pytest.raises(ValueError):
        next(results)
    assert seen == [0, 1, 2, 3]


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_jobs_must_be_a_positive_whole_number(tmp_path, value):
    done = run(tmp_path, "--jobs", value)
    assert done.returncode == 2
    assert "--jobs" in done.stderr


def test_available_cores_is_the_affinity():
    import os

    assert parallel.available_cores() == len(os.sched_getaffinity(0))


def test_an_answer_that_arrives_as_the_wait_times_out_is_an_answer():
    """The parent polls its worker every ``POLL_SECONDS``; an answer landing between a wait
    that timed out and the next look was once taken for a crash, and the healthy worker was
    killed (seen on a busy machine: one module in a few 1,000-file scans "crashed (SIGKILL)")."""
    import io
    import threading

    class LateEvent(threading.Event):
        def wait(self, timeout=None):  # times out, and the answer lands right then
            self.set()
            return False

    class Worker:
        answer = ("ok", b"{}")
        arrived = LateEvent()
        stderr_head = bytearray()
        process = type("Process", (), {"stdin": io.BytesIO()})()

        def alive(self):
            return True

        def crash_reason(self):
            raise AssertionError("taken for a crash")

    assert tfparse_worker._ask(0, Worker(), b"{}\n", 5.0, 1024.0) == ("ok", b"{}")


STARTS_TWO_THEN_WAITS = """
import sys, time
from kds_iac.loaders import tfparse_worker
tfparse_worker.set_workers(2)
print(tfparse_worker._child.process.pid, tfparse_worker._others[0].process.pid, flush=True)
time.sleep(600)
"""


def test_the_extra_workers_do_not_outlive_their_parent():
    """A parent killed with SIGKILL runs no ``atexit``: each worker of the pool notices on its own."""
    import sys
    import time

    parent = subprocess.Popen([sys.executable, "-c", STARTS_TWO_THEN_WAITS], stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(set(workers)) == 2
        assert all(_running(pid) for pid in workers)
    finally:
        parent.kill()
        parent.wait(timeout=30)
    for _ in range(100):  # each notices within ~0.5 s
        if not any(_running(pid) for pid in workers):
            break
        time.sleep(0.1)
    assert not any(_running(pid) for pid in workers)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[-1][:1] not in ("Z", "X")
    except FileNotFoundError:
        return False


def test_a_worker_whose_parent_is_gone_before_it_looks_exits():
    """A worker checks that the process that started it is still its parent. It is told that
    pid: on a busy machine the parent could die before the worker first asked ``getppid()``,
    which then named the reaper, and the worker evaluated on for minutes (seen once in
    ``test_the_worker_does_not_outlive_its_parent[spawned-exits]``). Here the pid it is told
    is not its parent's, as after such an early death; its stdin stays open."""
    import os
    import sys

    from kds_iac.loaders import tfparse_child

    script = os.path.join(os.path.dirname(tfparse_child.__file__), "tfparse_child.py")
    worker = subprocess.Popen(
        [sys.executable, script],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, tfparse_child.PARENT_ENV: "1"},
    )
    try:
        assert worker.wait(timeout=60) == 3  # a hang guard; it exits within ~0.5 s
    finally:
        worker.kill()
        worker.stdin.close()
