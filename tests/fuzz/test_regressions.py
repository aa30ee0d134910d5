"""Inputs the fuzzer once broke the scan with, scanned again: the scan completes, with these diagnostics.

Each case is a directory ``regressions/<loader>/<name>/`` holding ``input/`` (the files, as
the fuzzer wrote them) and ``case.json``:

- ``scan``: what to scan, relative to the case directory;
- ``fifos``: FIFOs to create first (git cannot store them), relative paths;
- ``symptom``, ``raises_in``, ``found_by``: what broke, where, and the command that found it;
- ``xfail``: while the crash is not fixed, why the test is expected to fail (strict: the
  lead removes it when the fix lands);
- ``diagnostics``: the exact ``[file, line, level]`` the scan must give (file relative to
  the case directory), or ``null`` while unknown -- then the test fails and prints them.

A case runs in the fuzz worker process, so an abort or a hang fails the test, never pytest.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fuzz.harness import Supervisor, run_regression

HERE = Path(__file__).resolve().parent / "regressions"


class ScanBroke(AssertionError):
    """The scan raised, crashed, hung or reported a caught bug."""


def _cases():
    for path in sorted(HERE.glob("*/*/case.json")):
        case = json.loads(path.read_text())
        name = f"{path.parent.parent.name}/{path.parent.name}"
        marks = [pytest.mark.xfail(strict=True, raises=ScanBroke, reason=case["xfail"])] if case.get("xfail") else []
        yield pytest.param(path.parent, id=name, marks=marks)


@pytest.fixture(scope="module")
def supervisor():
    with Supervisor() as running:
        yield running


@pytest.mark.parametrize("directory", list(_cases()))
def test_regression(directory: Path, supervisor):
    outcome, got = run_regression(directory, supervisor)
    if outcome.failed:
        raise ScanBroke(f"{outcome.signature()}\n{outcome.detail[:3000]}")
    expected = json.loads((directory / "case.json").read_text())["diagnostics"]
    assert expected is not None, f"record the diagnostics in {directory / 'case.json'}: {json.dumps([list(d) for d in got])}"
    assert got == sorted(tuple(d) for d in expected)
