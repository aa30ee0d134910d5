"""The child process that runs scans for the fuzzer: one JSON request per line on stdin.

It runs in its own process because the Terraform evaluator is Go inside Python and can abort
the whole process (SIGABRT), and because a hung scan can only be stopped from outside. The
parent restarts it after a crash or a timeout. The protocol goes over a copy of the original
stdout; fd 1 itself is pointed at stderr, so that anything a library prints cannot corrupt it.

Request: ``{"paths": [...], "trace": bool}``. Reply: ``{"status": "ok", "diagnostics":
[[file, line, level, message], ...], "findings": [[rule, address], ...]}`` or ``{"status":
"exception", "traceback": "..."}``. With ``trace``, the exceptions raised during the scan are
recorded so that an internal error the loaders turned into a diagnostic gets its traceback.
``python -m tests.fuzz.worker --once DIR...`` runs one scan and prints the reply.
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import sys
import traceback
from typing import Any


def scan(paths: list[str], trace: bool = False) -> dict[str, Any]:
    from kds_iac.engine import scan as engine_scan

    raised: list[BaseException] = []

    def tracer(frame, event, arg):  # records each exception object once, where it is raised
        if event == "exception" and (not raised or raised[-1] is not arg[1]):
            raised.append(arg[1])
        return tracer

    if trace:
        sys.settrace(tracer)
    try:
        result = engine_scan(paths)
    except BaseException:  # noqa: BLE001 - SystemExit and RecursionError are findings too
        return {"status": "exception", "traceback": traceback.format_exc()}
    finally:
        if trace:
            sys.settrace(None)
    reply: dict[str, Any] = {
        "status": "ok",
        "diagnostics": [[d.file, d.line, d.level, d.message] for d in result.diagnostics],
        "findings": sorted({(f.rule.id, f.address) for f in result.findings}),
    }
    if trace:
        reply["raised"] = [
            "".join(traceback.format_exception(type(e), e, e.__traceback__))
            for e in raised
            if not isinstance(e, (StopIteration, GeneratorExit))
        ][-20:]
    return reply


def _serve() -> None:
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    faulthandler.enable(file=sys.stderr, all_threads=True)
    if hasattr(signal, "SIGUSR1"):  # the parent asks for every thread's stack before killing a hung scan
        faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
    import kds_iac.engine  # noqa: F401 - paid once, outside the per-case time limit

    try:
        import tfparse  # noqa: F401
    except ImportError:
        pass
    protocol.write(json.dumps({"status": "ready", "pid": os.getpid()}) + "\n")
    protocol.flush()
    for line in sys.stdin:
        request = json.loads(line)
        reply = scan(request["paths"], bool(request.get("trace")))
        try:
            text = json.dumps(reply)
        except (TypeError, ValueError):
            text = json.dumps({"status": "exception", "traceback": f"reply not serializable: {reply!r}"[:20000]})
        protocol.write(text + "\n")
        protocol.flush()


if __name__ == "__main__":
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if len(sys.argv) > 2 and sys.argv[1] == "--once":
        print(json.dumps(scan(sys.argv[2:], trace=True), indent=2))
    else:
        _serve()
