"""Where a scan's time goes: wall and CPU seconds of our process and of the tfparse workers.

`kds-iac scan` kills its workers at exit without waiting for them, so `time` and `perf stat`
miss the workers' CPU. This runs the engine in-process, phase by phase (load, rules, JSON
report), then stops the workers and reads their CPU from `RUSAGE_CHILDREN`. CPU seconds are
steadier than wall time on a shared machine. Figures are printed, never asserted.

    python benchmarks/tf_profile.py TREE [--jobs 1,2] [--repeat 3] [--profile OUT.prof]

To time another commit, put its tree first on the path: `PYTHONPATH=/path/to/worktree python
benchmarks/tf_profile.py ...` (a commit without `--jobs` runs serially whatever is asked).
"""

from __future__ import annotations

import argparse
import inspect
import os
import resource
import sys
import time


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def one_run(tree: str, jobs: int, profile: str = "") -> dict:
    from kds_iac import engine
    from kds_iac.loaders import tfparse_worker
    from kds_iac.output import renderer
    from kds_iac.output.common import ReportContext

    tfparse_worker.shutdown()
    self0, children0, wall0 = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    kwargs = {"jobs": jobs} if "jobs" in inspect.signature(engine.scan).parameters else {}
    phases = {}
    started = time.perf_counter()
    from kds_iac import loaders

    real_load = engine.load

    def timed_load(*args, **kw):
        begin = time.perf_counter()
        try:
            return real_load(*args, **kw)
        finally:
            phases["load"] = time.perf_counter() - begin

    engine.load = timed_load
    try:
        result = engine.scan([tree], **kwargs)
    finally:
        engine.load = real_load
    phases["rules"] = time.perf_counter() - started - phases["load"]
    begin = time.perf_counter()
    renderer("json")(result, ReportContext(tool_version="bench", cwd=os.getcwd()))
    phases["report"] = time.perf_counter() - begin
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    wall = time.perf_counter() - wall0
    tfparse_worker.shutdown()  # reaped: their CPU is in RUSAGE_CHILDREN now
    del loaders
    return {
        "wall": wall,
        "ours_cpu": cpu(resource.RUSAGE_SELF) - self0,
        "workers_cpu": cpu(resource.RUSAGE_CHILDREN) - children0,
        "findings": len(result.findings),
        "problems": [f"{d.file}:{d.line}: {d.message}" for d in result.diagnostics if d.level == "error"],
        **phases,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree")
    parser.add_argument("--jobs", default="1,2", help="comma-separated job counts to compare")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", default="", help="write a cProfile of our process (last run) here")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    for round_ in range(args.repeat):
        for jobs in (int(j) for j in args.jobs.split(",")):
            profile = args.profile if round_ == args.repeat - 1 else ""
            run = one_run(args.tree, jobs, profile)
            print(
                f"jobs {jobs}: wall {run['wall']:.2f} s (load {run['load']:.2f}, rules {run['rules']:.2f}, "
                f"report {run['report']:.2f}), CPU ours {run['ours_cpu']:.2f} s, workers {run['workers_cpu']:.2f} s, "
                f"{run['findings']} findings",
                flush=True,
            )
            for problem in run["problems"]:
                print(f"  error: {problem}")
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
