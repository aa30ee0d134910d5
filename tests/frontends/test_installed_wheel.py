"""The checkov checks ship inside the distribution and work from an installed copy.

Builds a wheel of the project, installs it with ``pip install --no-deps --target DIR`` and,
from a directory outside the repository with ``PYTHONPATH=DIR``, runs checkov with
``--external-checks-dir DIR/kds_iac/frontends/checkov_checks`` (what ``kds-iac checkov-dir``
prints for an installed copy): our failures must appear in checkov's JSON.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, REPO, tool

CHECK_FILES = (
    "kds_iac/frontends/checkov_checks/__init__.py",
    "kds_iac/frontends/checkov_checks/kds_iac_terraform_checks.py",
    "kds_iac/frontends/checkov_checks/kds_iac_cloudformation_checks.py",
    "kds_iac/frontends/checkov_bridge.py",
)


def _can_build_without_isolation() -> bool:
    """setuptools >= 68 (pyproject's build requirement) and wheel, in this environment."""
    if importlib.util.find_spec("wheel") is None:
        return False
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 68


def _pip(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    # Build from a copy of what the distribution is made of, so no build/ or *.egg-info
    # of an earlier build leaks stale files into the wheel (and the repository stays clean).
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "setup.cfg", "MANIFEST.in"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "kds_iac", source / "kds_iac", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = work / "dist"
    isolation = [] if not _can_build_without_isolation() else ["--no-build-isolation"]
    built = _pip("wheel", "--no-deps", *isolation, "-w", str(dist), str(source), cwd=work)
    assert built.returncode == 0, f"pip wheel failed:\n{built.stdout[-3000:]}\n{built.stderr[-3000:]}"
    wheels = list(dist.glob("kds_iac-*.whl"))
    assert len(wheels) == 1, wheels
    with zipfile.ZipFile(wheels[0]) as archive:
        names = set(archive.namelist())
    missing = [name for name in CHECK_FILES if name not in names]
    assert not missing, f"the wheel lacks {missing}"
    target = work / "site"
    done = _pip("install", "--no-deps", "--target", str(target), str(wheels[0]), cwd=work)
    assert done.returncode == 0, done.stderr[-3000:]
    return target


def test_checks_from_an_installed_wheel_report_through_checkov(installed, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {**os.environ, "PYTHONPATH": str(installed), "LOG_LEVEL": "INFO"}
    code = "import kds_iac, kds_iac.frontends.checkov_checks as c; print(kds_iac.__file__); print(c.directory())"
    where = subprocess.run([sys.executable, "-c", code], cwd=outside, env=env, capture_output=True, text=True, check=True)
    package_file, directory = where.stdout.splitlines()
    assert Path(package_file) == installed / "kds_iac" / "__init__.py"  # the installed copy, not the repository's
    checks_dir = Path(directory)
    assert checks_dir == installed / "kds_iac" / "frontends" / "checkov_checks"

    command = [
        tool("checkov"), "-d", str(EXAMPLES), "--external-checks-dir", str(checks_dir),
        "--skip-download", "--check", "CKV_KDS_*", "-o", "json",
    ]
    done = subprocess.run(command, cwd=outside, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr[-4000:]  # 1: checkov found failures
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = {
        (report["check_type"], item["check_id"], item["resource"])
        for report in reports
        for item in report["results"]["failed_checks"]
    }
    assert ("terraform", "CKV_KDS_1", "aws_kinesis_stream.plain") in failed
    assert ("terraform", "CKV_KDS_1", "module.clickstream.aws_kinesis_stream.this") in failed
    assert ("cloudformation", "CKV_KDS_1", "AWS::Kinesis::Stream.Plain") in failed
    assert {check_id for _, check_id, _ in failed} >= {"CKV_KDS_1", "CKV_KDS_2"}
    assert "Failed to run check CKV_KDS" not in done.stderr
    assert "Cannot load external check" not in done.stderr
    assert f"kds-iac: scope {EXAMPLES.resolve()}:" in done.stderr
