"""`scan` and `map` run with the cyclic garbage collector off, and give it back as they found it
(the command's process may be a test runner or an editor's, which go on after it)."""

from __future__ import annotations

import contextlib
import gc
import io
from pathlib import Path

import pytest

from kds_iac import cli, engine

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "examples" / "cloudformation" / "aws-managed-key.json"


@pytest.mark.parametrize("command", ["scan", "map"])
@pytest.mark.parametrize("was_on", [True, False])
def test_the_collector_is_off_while_a_command_scans(command, was_on, monkeypatch):
    seen = []
    real = engine.scan

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "scan", spy)
    (gc.enable if was_on else gc.disable)()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            cli.main([command, "--no-progress", str(STACK)] if command == "scan" else [command, str(STACK)])
        assert seen == [False]
        assert gc.isenabled() is was_on
    finally:
        gc.enable()
