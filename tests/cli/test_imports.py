"""The command line's import path stays free of checkov and cfn-lint (startup matters).

Each test runs in a fresh interpreter, since this test session may have imported anything.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

HEAVY = ("checkov", "cfnlint")

# Runs every command and every output format; engine.scan is replaced by a hand-made result,
# so the check holds whether or not the loaders exist yet (see test_end_to_end for the real scan).
PROBE = r"""
import io, json, sys, contextlib
sys.path.insert(0, {repo!r})
from kds_iac import cli, engine
from tests.output import fakes
engine.scan = lambda paths, **kwargs: fakes.full_result()
codes = []
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    codes.append(cli.main(["rules"]))
    codes.append(cli.main(["checkov-dir"]))
    for fmt in ("text", "json", "sarif", "junitxml"):
        codes.append(cli.main(["scan", "--no-progress", "--format", fmt, "infra"]))
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
print(json.dumps({{"codes": codes, "heavy": heavy}}))
"""


def probe(code: str, cwd: str) -> dict:
    completed = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_cli_imports_neither_checkov_nor_cfnlint(tmp_path):
    (tmp_path / ".git").mkdir()
    report = probe(PROBE.format(repo=str(REPO), heavy=HEAVY), str(tmp_path))
    assert report["codes"][0] == 0
    assert report["codes"][2:] == [2, 2, 2, 2]  # the fake result holds a parse error
    assert report["heavy"] == []


def test_importing_the_cli_is_light():
    code = (
        "import sys, json; import kds_iac.cli; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('kds_iac'))))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    # Only the package and the CLI: the engine, rules and formats load when a command needs them.
    assert json.loads(completed.stdout) == ["kds_iac", "kds_iac.cli"]


def test_python_dash_m(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "kds_iac", "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0 and completed.stdout.startswith("kds-iac ")


CLOUDFORMATION_SCAN = r"""
import io, json, sys, threading, contextlib
sys.path.insert(0, {repo!r})
from kds_iac import cli
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = cli.main(["scan", "--no-progress", "stack.yaml"])
threads = sorted(t.name for t in threading.enumerate() if t is not threading.main_thread())
print(json.dumps({{"code": code, "tfparse": "tfparse" in sys.modules, "threads": threads}}))
"""


def test_a_cloudformation_scan_neither_loads_nor_warms_up_tfparse(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "stack.yaml").write_text(
        "Resources:\n  Plain:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      ShardCount: 1\n",
        encoding="utf-8",
    )
    report = probe(CLOUDFORMATION_SCAN.format(repo=str(REPO)), str(tmp_path))
    assert report["code"] == 1
    assert report["tfparse"] is False
    assert report["threads"] == []  # no tfparse warm-up, no rule imports on a thread
