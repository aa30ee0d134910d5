"""A short, reproducible fuzz run per loader: fixed seed, fixed number of cases (about 60 s in all).

Bounded by iterations, never by time, so a failure here is the same failure on every machine;
the assertion message names the reproducer under fuzz-findings/ (replay it with
``python -m tests.fuzz --replay DIR``). Longer runs: ``python -m tests.fuzz`` (README.md).
"""

from __future__ import annotations

import pytest

from tests.fuzz.corpus import ALL, seeds_for
from tests.fuzz.harness import DEFAULT_FINDINGS, Supervisor, fuzz

SEED = 20261205
# Cases per loader, sized from measured rates (cases per minute on this machine: terraform
# about 550, cloudformation 4,300, sam 2,400, plan 5,400, the whole scan 1,100).
ITERATIONS = {"terraform": 150, "cloudformation": 700, "sam": 300, "plan": 400, "serverless": 300, "scan": 250}
# Loaders whose smoke run fails today because of a crash someone is fixing: flip when fixed.
KNOWN_FAILURES: dict[str, str] = {}


class FuzzFailure(AssertionError):
    pass


@pytest.fixture(scope="module")
def supervisor():
    with Supervisor() as running:
        yield running


def _mark(loader: str):
    if loader in KNOWN_FAILURES:
        return pytest.param(loader, marks=pytest.mark.xfail(strict=True, raises=FuzzFailure, reason=KNOWN_FAILURES[loader]))
    return loader


@pytest.mark.parametrize("loader", [_mark(name) for name in ALL])
def test_fuzz_smoke(loader, supervisor):
    if not seeds_for(loader):
        pytest.skip(f"no {loader} seeds under examples/ or tests/fixtures/ yet")
    stats = fuzz(
        loader, SEED, iterations=ITERATIONS[loader], findings_dir=DEFAULT_FINDINGS, supervisor=supervisor, stop_on_failure=True
    )
    assert stats.iterations > 0
    for signature, paths in stats.failures.items():
        raise FuzzFailure(f"{loader}: {signature}\nreproducer: {paths[0]}\n{(paths[0] / 'detail.txt').read_text()[:3000]}")
