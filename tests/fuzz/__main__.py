"""``python -m tests.fuzz --loader terraform --minutes 30 --seed 1`` (see README.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tests.fuzz.corpus import ALL
from tests.fuzz.harness import DEFAULT_FINDINGS, Supervisor, describe, fuzz, replay, save_regression


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description="Fuzz kds-iac's loaders and scan.")
    parser.add_argument("--loader", choices=ALL + ("all",), default="all")
    parser.add_argument("--seed", type=int, default=0)
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float, help="time per loader")
    budget.add_argument("--iterations", type=int, help="cases per loader (reproducible)")
    budget.add_argument("--only-iteration", type=int, help="regenerate and run one case")
    parser.add_argument("--findings", type=Path, default=DEFAULT_FINDINGS, help="where reproducers go")
    parser.add_argument("--replay", type=Path, help="run a saved reproducer directory again")
    parser.add_argument(
        "--save-regression", nargs=2, metavar=("REPRODUCER", "NAME"),
        help="copy a reproducer to tests/fuzz/regressions/<loader>/NAME with today's outcome",
    )
    args = parser.parse_args(argv)

    if args.save_regression:
        reproducer, name = args.save_regression
        with Supervisor() as supervisor:
            target = save_regression(Path(reproducer), name, Path(__file__).parent / "regressions", supervisor)
        print(target / "case.json")
        print((target / "case.json").read_text())
        return 0

    if args.replay:
        outcome = replay(args.replay)
        print(f"{outcome.kind}: {describe(outcome) if outcome.failed else 'the scan completed'}")
        if outcome.failed:
            print(outcome.detail)
        return 1 if outcome.failed else 0

    loaders = [name for name in ALL] if args.loader == "all" else [args.loader]
    iterations = args.iterations
    seconds = args.minutes * 60 if args.minutes is not None else None
    if iterations is None and seconds is None and args.only_iteration is None:
        iterations = 100
    failed = False
    for loader in loaders:
        stats = fuzz(
            loader,
            args.seed,
            iterations=iterations,
            seconds=seconds,
            findings_dir=args.findings,
            only_iteration=args.only_iteration,
            report=lambda line: print(line, flush=True),
        )
        total = sum(stats.counts.values())
        print(
            f"{loader}: {stats.iterations} iterations in {stats.seconds:.0f} s ({stats.per_minute:.0f}/min), "
            f"{stats.without_errors} read without an error diagnostic, {total} failing, {len(stats.counts)} distinct",
            flush=True,
        )
        for signature, count in sorted(stats.counts.items(), key=lambda kv: -kv[1]):
            print(f"    {count:5d}  {signature}\n           {stats.failures[signature][0]}")
        failed = failed or bool(total)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
