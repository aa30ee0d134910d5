"""What computing the fixes' text edits adds to a JSON (or SARIF) scan, in CPU seconds.

`kds-iac scan --format json` and `--format sarif` show every finding's fix edits
(`kds_iac.fixes.apply.offered`); `--format text` only marks them. This scans a tree
in-process, then times, in CPU seconds of this process (steadier than wall time on a shared
machine): the scan (our process plus its tfparse workers), `offered()` over the findings, and
the JSON report with and without the edits. Figures are printed, never asserted.

    python benchmarks/generate.py /tmp/cfn --format cloudformation --files 1000
    python benchmarks/fix_cost.py /tmp/cfn [--repeat 3] [--profile OUT.prof]

The fixes' share is offered() / (scan + JSON report with edits).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections import Counter


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree")
    parser.add_argument("--repeat", type=int, default=3, help="times offered() is timed (the scan runs once)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--profile", default="", help="write a cProfile of one offered() run here")
    args = parser.parse_args()

    from kds_iac import engine
    from kds_iac.fixes import apply
    from kds_iac.loaders import tfparse_worker
    from kds_iac.output import renderer
    from kds_iac.output.common import ReportContext

    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    self0, children0 = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
    result = engine.scan([args.tree], jobs=args.jobs)
    tfparse_worker.shutdown()  # reaped: their CPU is in RUSAGE_CHILDREN now
    scan_cpu = cpu(resource.RUSAGE_SELF) - self0 + cpu(resource.RUSAGE_CHILDREN) - children0
    fixable = [f for f in result.findings if f.fix is not None]
    print(f"{len(result.findings)} findings, {len(fixable)} with a fix; scan CPU {scan_cpu:.2f} s")

    def report(fixes) -> float:
        begin = time.process_time()
        renderer("json")(result, ReportContext(tool_version="bench", cwd=os.getcwd(), fixes=fixes))
        return time.process_time() - begin

    report_plain = report(None)
    times = []
    edits = {}
    for round_ in range(args.repeat):
        profiler = None
        if args.profile and round_ == args.repeat - 1:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        begin = time.process_time()
        edits = apply.offered(result.findings)
        times.append(time.process_time() - begin)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
    report_fixes = report(edits)
    best = min(times)
    per_rule = Counter(f.rule.id for f in fixable if id(f) in edits)
    total = scan_cpu + report_fixes + best
    print(f"offered(): {len(edits)} of {len(fixable)} fixes written; CPU min {best:.3f} s, "
          f"runs {', '.join(f'{t:.3f}' for t in times)}; {1000 * best / max(len(fixable), 1):.2f} ms a fix")
    print(f"  written by rule: {dict(sorted(per_rule.items()))}")
    print(f"JSON report CPU: {report_plain:.3f} s without edits, {report_fixes:.3f} s with them")
    print(f"fixes' share of a JSON scan: {100 * (best + report_fixes - report_plain) / total:.1f} % "
          f"({best + report_fixes - report_plain:.3f} s of {total:.2f} s CPU)")
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
