"""A short, reproducible fuzz run per loader: fixed seed, fixed number of cases (about 60 s in all).

Bounded by iterations, never by time, so a failure here is the same failure on every machine
(for a given tree: the seeds are the examples and fixtures). The assertion message names the
reproducer under fuzz-findings/ (replay it with ``python -m tests.fuzz --replay DIR``).
Failures whose cause is already open as a strict-xfail regression case (``KNOWN_OPEN``) are
counted but do not fail this test; test_regressions.py tracks them until they are fixed.
Longer runs: ``python -m tests.fuzz`` (README.md).
"""

from __future__ import annotations

import pytest

from tests.fuzz.corpus import ALL, seeds_for
from tests.fuzz.harness import DEFAULT_FINDINGS, Supervisor, fuzz

SEED = 20261205
# Cases per loader, sized from measured rates (cases per minute on this machine: terraform
# about 6,000, cloudformation 2,300-8,000, sam 2,700, plan 3,700, serverless 2,400, the whole scan 500;
# a case that hits the 10 s limit costs 10 s).
ITERATIONS = {"terraform": 1000, "cloudformation": 700, "sam": 400, "plan": 500, "serverless": 400, "scan": 150}
# Signature of an open failure -> the regression case that tracks it (remove both when fixed).
KNOWN_OPEN: dict[str, str] = {}  # signature -> the open regression case that tracks it


@pytest.fixture(scope="module")
def supervisor():
    with Supervisor() as running:
        yield running


@pytest.mark.parametrize("loader", ALL)
def test_fuzz_smoke(loader, supervisor):
    if not seeds_for(loader):
        pytest.skip(f"no {loader} seeds under examples/ or tests/fixtures/ yet")
    stats = fuzz(
        loader,
        SEED,
        iterations=ITERATIONS[loader],
        findings_dir=DEFAULT_FINDINGS,
        supervisor=supervisor,
        stop_on_failure=True,
        known=KNOWN_OPEN,
    )
    assert stats.iterations > 0
    new = {signature: paths for signature, paths in stats.failures.items() if signature not in KNOWN_OPEN}
    for signature, paths in new.items():
        detail = (paths[0] / "detail.txt").read_text()[:3000]
        raise AssertionError(f"{loader}: {signature}\nreproducer: {paths[0]}\n{detail}")
