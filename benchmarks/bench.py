"""Time ``kds-iac scan`` against ``checkov`` with the kds-iac checks, on generated trees.

For each format (Terraform, CloudFormation) and each size (files in the tree), the same
generated tree is scanned by

* ``kds-iac scan TREE --format json``
* ``checkov -d TREE --external-checks-dir checks --check 'CKV_KDS_*' --skip-download -o json``

plus one "on save" case per format: a single ~300-line file passed by path (``-f`` for
checkov), what an editor integration runs after each save, and one ~10 MB CloudFormation
template with 98,000 streams (``generate.py --big-template``; kds-iac only, ``--no-big`` skips
it). Issue #15's targets (seconds and peak MB for the 1,000-file trees and the big template)
are printed under the figures they apply to, with "met" or "missed"; nothing is asserted. Each run is a fresh process
started from a small wrapper process, so wall time covers interpreter start-up and imports,
and ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` in the wrapper is that one command's peak RSS.
Runs of the two tools alternate. The script prints figures; it never asserts on them.

Usage::

    python benchmarks/bench.py                       # sizes 1,100,1000; 3 runs (1 at 1,000 files)
    python benchmarks/bench.py --sizes 1,100 --repeat 5 --format json
    python benchmarks/bench.py --skip-checkov --formats terraform
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LARGE_TREE = 1000  # trees with at least this many files get --repeat-large runs
# Issue #15's targets, printed next to the figures (never asserted): seconds, peak MB.
TARGETS = {
    ("terraform", "tree"): (5.0, 150.0),
    ("cloudformation", "tree"): (3.0, 150.0),
    ("cloudformation", "big"): (5.0, 400.0),
}
KDS = "kds-iac"
CHECKOV = "checkov"

# Runs one command with stdout/stderr to files; reports wall time, peak RSS and exit code.
_WRAPPER = r"""
import json, resource, subprocess, sys, time
out, err, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(out, "wb") as o, open(err, "wb") as e:
    start = time.perf_counter()
    try:
        rc = subprocess.run(sys.argv[4:], stdout=o, stderr=e, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        rc = None
    wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
rss = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kb": rss, "rc": rc}))
"""


@dataclass
class Run:
    wall: float
    cpu: float  # user + system seconds: less sensitive than wall time to a busy machine
    maxrss_kb: int
    rc: Optional[int]
    findings: Optional[int]
    error: Optional[str] = None
    warning: Optional[str] = None  # e.g. a check that raised: checkov logs it and exits 0


@dataclass
class Case:
    name: str
    fmt: str
    files: int
    lines: int
    target: str  # the tree directory, or the one file of an "on save" case
    single_file: bool
    repeat: int
    runs: dict[str, list[Run]] = field(default_factory=dict)
    kds_only: bool = False  # the 10 MB template: checkov is not run on it
    goal: Optional[tuple[float, float]] = None  # (seconds, peak MB) for kds-iac, from TARGETS


# ------------------------------------------------------------------------------- commands


def tool_path(name: str) -> str:
    """The console script next to this interpreter (the venv), else the one on PATH."""
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.exists(candidate):
        return candidate
    return shutil.which(name) or name


def command(tool: str, case: Case, args: argparse.Namespace) -> list[str]:
    if tool == KDS:
        return [args.kds_iac, "scan", case.target, "--format", "json"]
    target = ["-f", case.target] if case.single_file else ["-d", case.target]
    return [
        args.checkov,
        *target,
        "--external-checks-dir",
        args.checks_dir,
        "--check",
        "CKV_KDS_*",
        "--skip-download",
        "-o",
        "json",
    ]


def measure(cmd: list[str], workdir: str, timeout: float) -> Run:
    out = os.path.join(workdir, "last.stdout")
    err = os.path.join(workdir, "last.stderr")
    wrapper = subprocess.run(
        [sys.executable, "-c", _WRAPPER, out, err, str(timeout), *cmd],
        cwd=workdir,  # neither tool should pick up this repository's own config files
        capture_output=True,
        text=True,
    )
    if wrapper.returncode != 0:
        return Run(0.0, 0.0, 0, None, None, f"wrapper failed: {wrapper.stderr.strip()[-300:]}")
    stats = json.loads(wrapper.stdout)
    with open(out, "rb") as handle:
        stdout = handle.read()
    with open(err, "rb") as handle:
        stderr = handle.read().decode("utf-8", "replace")
    run = Run(stats["wall"], stats["cpu"], stats["maxrss_kb"], stats["rc"], None)
    if stats["rc"] is None:
        run.error = f"timed out after {timeout:g} s"
        return run
    try:
        document = json.loads(stdout)
    except ValueError:
        tail = stderr.strip().splitlines()[-3:] or [stdout[:200].decode("utf-8", "replace")]
        run.error = f"exit {stats['rc']}, no JSON on stdout: {' | '.join(tail)}"
        return run
    run.findings = count_findings(document)
    if "Traceback (most recent call last)" in stderr:
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        run.warning = f"stderr has a traceback: {lines[-1].strip()[:300]}"
    return run


def count_findings(document: Any) -> Optional[int]:
    """Failed checks in checkov's JSON (one report or a list of them), findings in kds-iac's."""
    reports = document if isinstance(document, list) else [document]
    total = 0
    seen = False
    for report in reports:
        if not isinstance(report, dict):
            continue
        if isinstance(report.get("findings"), list):  # kds-iac
            total += len(report["findings"])
            seen = True
        results = report.get("results")
        if isinstance(results, dict) and isinstance(results.get("failed_checks"), list):  # checkov
            total += len(results["failed_checks"])
            seen = True
        elif "results" not in report and isinstance(report.get("failed"), int):  # checkov, nothing checked
            total += report["failed"]
            seen = True
    return total if seen else None


def preflight(tool: str, args: argparse.Namespace) -> Optional[str]:
    """None when the tool can run, else why not."""
    probe = [args.kds_iac, "scan", "--help"] if tool == KDS else [args.checkov, "--version"]
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    if result.returncode != 0:
        return (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1]
    return None


def version(tool: str, args: argparse.Namespace) -> Optional[str]:
    try:
        if tool == KDS:
            from importlib.metadata import version as dist_version

            return dist_version("kds-iac")
        result = subprocess.run([args.checkov, "--version"], capture_output=True, text=True, timeout=120)
        return result.stdout.strip() or None
    except Exception:  # only informational
        return None


# ---------------------------------------------------------------------------------- cases


def build_cases(args: argparse.Namespace, workdir: str) -> list[Case]:
    cases = []
    for fmt in args.formats:
        short = "tf" if fmt == "terraform" else "cfn"
        for size in args.sizes:
            root = os.path.join(workdir, f"{short}-{size}")
            paths = generate.generate_tree(root, fmt, size, args.files_per_dir)
            repeat = args.repeat_large if size >= LARGE_TREE else args.repeat
            case = Case(f"{fmt} {size} files", fmt, size, generate.count_lines(paths), root, False, repeat)
            if size >= LARGE_TREE:
                case.goal = TARGETS.get((fmt, "tree"))
            cases.append(case)
        if args.big and fmt == "cloudformation":
            root = os.path.join(workdir, "cfn-big")
            path = generate.generate_big_template(root, args.big_streams)
            name = f"cloudformation 1 template, {os.path.getsize(path) / 1e6:.1f} MB, {args.big_streams} streams"
            cases.append(
                Case(name, fmt, 1, generate.count_lines([path]), root, False, args.repeat_large, kds_only=True,
                     goal=TARGETS[(fmt, "big")])
            )
        if args.save_case:
            root = os.path.join(workdir, f"{short}-save")
            (path,) = generate.generate_tree(root, fmt, 1)
            cases.append(Case(f"{fmt} on save", fmt, 1, generate.count_lines([path]), path, True, args.repeat))
        if args.validate:
            for case in cases:
                if case.fmt != fmt or case.single_file:
                    continue
                log(f"validating {case.target}")
                validate = generate.validate_terraform if fmt == "terraform" else generate.validate_cloudformation
                problems = validate(case.target)
                if problems:
                    raise SystemExit(f"generated tree {case.target} is not valid:\n" + "\n".join(problems[:20]))
    return cases


def run_cases(cases: list[Case], tools: list[str], args: argparse.Namespace, workdir: str) -> None:
    if args.warmup:  # one untimed run of each tool on a one-file tree: caches, .pyc files
        for fmt in sorted({case.fmt for case in cases}):
            root = os.path.join(workdir, f"warmup-{fmt}")
            generate.generate_tree(root, fmt, 1)
            warmup = Case(f"warm-up {fmt}", fmt, 1, 0, root, False, 1)
            for tool in tools:
                log(f"warm-up: {tool} on a one-file {fmt} tree")
                measure(command(tool, warmup, args), workdir, args.timeout)
    for case in cases:
        for tool in tools:
            if not (case.kds_only and tool != KDS):
                case.runs[tool] = []
        for attempt in range(case.repeat):
            for tool in tools:
                if case.kds_only and tool != KDS:
                    continue
                run = measure(command(tool, case, args), workdir, args.timeout)
                case.runs[tool].append(run)
                status = run.error or (
                    f"{run.wall:.2f} s wall, {run.cpu:.2f} s CPU, {run.maxrss_kb / 1024:.0f} MB,"
                    f" findings {run.findings}"
                )
                log(f"{case.name}: {tool} run {attempt + 1}/{case.repeat}: {status}")


# --------------------------------------------------------------------------------- report


def summary(runs: list[Run]) -> dict[str, Any]:
    good = [r for r in runs if r.error is None]
    # a run whose checks raised did not do the same work: leave it out when clean runs exist
    good = [r for r in good if r.warning is None] or good
    errors = sorted({r.error for r in runs if r.error})
    warnings = sorted({r.warning for r in runs if r.warning})
    if not good:
        return {"runs": len(runs), "error": "; ".join(errors) or "not run"}
    walls = [r.wall for r in good]
    findings = sorted({r.findings for r in good}, key=lambda f: (f is None, f))
    return {
        "runs": len(good),
        **({"left_out_runs": len(runs) - len(good)} if len(good) < len(runs) else {}),
        "median_s": round(statistics.median(walls), 3),
        "min_s": round(min(walls), 3),
        "max_s": round(max(walls), 3),
        "median_cpu_s": round(statistics.median(r.cpu for r in good), 3),
        "peak_rss_mb": round(max(r.maxrss_kb for r in good) / 1024, 1),
        "findings": findings[0] if len(findings) == 1 else findings,
        "exit_codes": sorted({r.rc for r in good}),
        **({"errors": errors} if errors else {}),
        **({"warnings": warnings} if warnings else {}),
    }


def report(cases: list[Case], tools: list[str], environment: dict[str, Any]) -> dict[str, Any]:
    out = {"environment": environment, "cases": []}
    for case in cases:
        tools_summary = {tool: summary(case.runs[tool]) for tool in tools if tool in case.runs}
        entry = {
            "case": case.name,
            "format": case.fmt,
            "files": case.files,
            "lines": case.lines,
            "target": case.target,
            "tools": tools_summary,
        }
        kds_figures = tools_summary.get(KDS, {})
        if case.goal is not None and "median_s" in kds_figures:
            seconds, megabytes = case.goal
            entry["goal"] = {  # issue #15's target for kds-iac
                "seconds": seconds,
                "peak_rss_mb": megabytes,
                "seconds_met": kds_figures["median_s"] <= seconds,
                "peak_rss_met": kds_figures["peak_rss_mb"] <= megabytes,
            }
        kds, checkov = tools_summary.get(KDS, {}), tools_summary.get(CHECKOV, {})
        if "median_s" in kds and "median_s" in checkov and kds["median_s"] > 0:
            entry["ratio_checkov_over_kds_iac"] = round(checkov["median_s"] / kds["median_s"], 2)
            if kds["median_cpu_s"] > 0:
                entry["cpu_ratio_checkov_over_kds_iac"] = round(checkov["median_cpu_s"] / kds["median_cpu_s"], 2)
        out["cases"].append(entry)
    return out


def print_table(result: dict[str, Any]) -> None:
    env = result["environment"]
    print(
        f"kds-iac {env.get('kds_iac_version')} vs checkov {env.get('checkov_version')}; "
        f"Python {env['python']}, {env['platform']}, {env['cpus']} CPUs; "
        f"load average {env['load_average_start']} at start, {env['load_average_end']} at end"
    )
    header = ("case", "files", "lines", "tool", "runs", "median s", "min s", "max s", "CPU s", "peak MB", "findings")
    rows = [header]
    for entry in result["cases"]:
        for tool, s in entry["tools"].items():
            if "error" in s:
                rows.append((entry["case"], entry["files"], entry["lines"], tool, s["runs"], "error", *[""] * 5))
                continue
            rows.append(
                (
                    entry["case"],
                    entry["files"],
                    entry["lines"],
                    tool,
                    s["runs"],
                    f"{s['median_s']:.2f}",
                    f"{s['min_s']:.2f}",
                    f"{s['max_s']:.2f}",
                    f"{s['median_cpu_s']:.2f}",
                    f"{s['peak_rss_mb']:.0f}",
                    s["findings"],
                )
            )
        if "goal" in entry:
            t = entry["goal"]
            met = {True: "met", False: "missed"}
            rows.append(
                ("", "", "", "target (issue #15)", "", f"<= {t['seconds']:g} {met[t['seconds_met']]}", "", "", "",
                 f"<= {t['peak_rss_mb']:g} {met[t['peak_rss_met']]}", "")
            )
        if "ratio_checkov_over_kds_iac" in entry:
            ratio = entry["ratio_checkov_over_kds_iac"]
            cpu_ratio = entry.get("cpu_ratio_checkov_over_kds_iac")
            cpu_cell = f"{cpu_ratio:.1f}x" if cpu_ratio is not None else ""
            rows.append(("", "", "", "checkov/kds-iac", "", f"{ratio:.1f}x", "", "", cpu_cell, "", ""))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    for index, row in enumerate(rows):
        cells = (str(cell).ljust(widths[i]) if i < 4 else str(cell).rjust(widths[i]) for i, cell in enumerate(row))
        print("  ".join(cells))
        if index == 0:
            print("  ".join("-" * w for w in widths))
    for entry in result["cases"]:
        for tool, s in entry["tools"].items():
            for error in [s["error"]] if "error" in s else s.get("errors", []) + s.get("warnings", []):
                print(f"! {entry['case']} / {tool}: {error}")


def _load_average() -> Optional[float]:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,100,1000", help="files per tree, comma-separated (default 1,100,1000)")
    parser.add_argument("--formats", default="terraform,cloudformation", help="terraform and/or cloudformation")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool and case (default 3)")
    parser.add_argument(
        "--repeat-large", type=int, default=1, help=f"runs for trees of {LARGE_TREE}+ files (default 1)"
    )
    parser.add_argument("--skip-checkov", action="store_true", help="time kds-iac only")
    parser.add_argument(
        "--no-big", dest="big", action="store_false",
        help="skip the one ~10 MB CloudFormation template (kds-iac only, --repeat-large runs)",
    )
    parser.add_argument("--big-streams", type=int, default=generate.BIG_STREAMS, help=argparse.SUPPRESS)
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output (default table)")
    parser.add_argument("--json-out", metavar="FILE", help="also write the JSON report to FILE")
    parser.add_argument("--no-save-case", dest="save_case", action="store_false", help="skip the one-file case")
    parser.add_argument("--no-warmup", dest="warmup", action="store_false", help="skip the untimed first run")
    parser.add_argument("--validate", action="store_true", help="check generated trees with tfparse / cfn-lint")
    parser.add_argument("--files-per-dir", type=int, default=generate.DEFAULT_FILES_PER_DIR)
    parser.add_argument("--workdir", help="where to generate trees (default: a temporary directory, removed)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run before giving up")
    parser.add_argument("--kds-iac", default=tool_path("kds-iac"), help="kds-iac executable")
    parser.add_argument("--checkov", default=tool_path("checkov"), help="checkov executable")
    parser.add_argument("--checks-dir", default=os.path.join(REPO, "checks"), help="--external-checks-dir")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    for fmt in args.formats:
        if fmt not in ("terraform", "cloudformation"):
            parser.error(f"unknown format {fmt!r}")
    if args.repeat < 1 or args.repeat_large < 1 or any(s < 1 for s in args.sizes):
        parser.error("--repeat, --repeat-large and --sizes take positive numbers")
    args.checks_dir = os.path.abspath(args.checks_dir)
    return args


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    tools = [KDS] if args.skip_checkov else [KDS, CHECKOV]
    usable = []
    for tool in tools:
        problem = preflight(tool, args)
        if problem:
            log(f"{tool} cannot run ({problem}); it is left out")
        else:
            usable.append(tool)
    if not usable:
        log("nothing to time")
        return 2
    workdir = os.path.abspath(args.workdir) if args.workdir else tempfile.mkdtemp(prefix="kds-iac-bench-")
    os.makedirs(workdir, exist_ok=True)
    try:
        log(f"generating trees under {workdir}")
        cases = build_cases(args, workdir)
        load_start = _load_average()
        run_cases(cases, usable, args, workdir)
        environment = {
            "load_average_start": load_start,
            "load_average_end": _load_average(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "kds_iac_version": version(KDS, args),
            "checkov_version": version(CHECKOV, args) if CHECKOV in usable else None,
            "left_out": sorted(set(tools) - set(usable)),
        }
        result = report(cases, usable, environment)
    finally:
        if not args.workdir and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif args.keep:
            log(f"trees kept in {workdir}")
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)
    if args.format == "json":
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
