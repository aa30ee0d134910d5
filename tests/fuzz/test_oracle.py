"""The oracle itself: a worker that aborts, hangs or raises must be reported, not survived silently.

Fake workers speak the worker protocol and misbehave on purpose; the real worker is used by
test_fuzz_smoke.py and test_regressions.py.
"""

from __future__ import annotations

import signal
import sys

from tests.fuzz.harness import Supervisor, internal_errors

FAKE_WORKER = r"""
import json, os, sys, time
print(json.dumps({"status": "ready"}), flush=True)
for line in sys.stdin:
    what = json.loads(line)["paths"][0]
    if what == "abort":
        sys.stderr.write("panic: fake Go panic\n\ngoroutine 1 [running]:\nexample.com/fake.Evaluate(0x1)\n")
        sys.stderr.flush()
        os.abort()
    if what == "hang":
        time.sleep(600)
    if what == "raise":
        print(json.dumps({"status": "exception", "traceback": 'Traceback (most recent call last):\n  File "/x/kds_iac/rules/kds001.py", line 3, in check\nKeyError: 1\n'}), flush=True)
        continue
    print(json.dumps({"status": "ok", "diagnostics": [], "findings": []}), flush=True)
"""


def _supervisor() -> Supervisor:
    return Supervisor(command=[sys.executable, "-c", FAKE_WORKER], case_seconds=2.0)


def test_an_abort_is_a_crash_with_its_signal_and_the_worker_comes_back():
    with _supervisor() as supervisor:
        crashed = supervisor.run(["abort"])
        after = supervisor.run(["fine"])
    assert (crashed.kind, crashed.exit_status) == ("crash", -signal.SIGABRT)
    assert crashed.signature() == "crash: signal 6 (SIGABRT); panic: fake Go panic at example.com/fake.Evaluate"
    assert after.kind == "ok"


def test_a_hang_is_a_timeout_and_the_worker_comes_back():
    with _supervisor() as supervisor:
        hung = supervisor.run(["hang"])
        after = supervisor.run(["fine"])
    assert hung.kind == "timeout"
    assert after.kind == "ok"


def test_an_exception_names_the_innermost_frame_of_our_code():
    with _supervisor() as supervisor:
        raised = supervisor.run(["raise"])
    assert raised.kind == "exception"
    assert raised.signature() == "exception: KeyError in rules/kds001.py:check"


def test_a_caught_bug_in_a_diagnostic_is_an_internal_error_and_a_parse_error_is_not():
    reply = {
        "diagnostics": [
            ["t.yaml", 1, "error", "cannot load template: KeyError: 'Properties'"],
            ["m", 0, "error", "Terraform module could not be loaded (AttributeError: 'NoneType' object has no attribute 'x'); not checked"],
            ["t.json", 3, "error", "invalid JSON: Expecting ',' delimiter"],
            ["main.tf", 2, "error", "Invalid expression: Expected the start of an expression, but found an invalid expression token."],
            ["a.tf", 5, "error", "aws_kinesis_stream.s could not be read (TypeError: unhashable type: 'list'); not checked"],
        ]
    }
    assert [d[0] for d in internal_errors(reply)] == ["t.yaml", "m", "a.tf"]
