"""The pipeline files in ``examples/ci/``: every command in them is run for real.

Each workflow or job is parsed, its shell lines are taken in order, and every ``kds-iac``
or ``checkov`` line runs under bash in a scratch repository holding a bad Terraform module
and a bad template, exactly as written (``$(kds-iac checkov-dir)`` included). ``pip
install`` lines are checked, not run. The reports the upload steps and artifacts name must
then exist and be what the code-scanning service accepts: SARIF valid against the 2.1.0
schema with our rules, gitlab_sast JSON with our checks, JUnit XML.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import yaml

from kds_iac.rules import all_rules
from tests.conftest import EXAMPLES, REPO

CI = REPO / "examples" / "ci"
SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-2.1.0-schema.json").read_text(encoding="utf-8"))
KDS_IDS = {m.rule.id for m in all_rules()}
CHECKOV_IDS = {m.rule.checkov_id for m in all_rules()}


def shell_lines(document: dict) -> list[str]:
    """Shell lines in order: GitHub ``steps[].run``, GitLab ``script``."""
    lines: list[str] = []
    if "jobs" in document:  # GitHub Actions
        for job in document["jobs"].values():
            for step in job["steps"]:
                if "run" in step:
                    lines.extend(step["run"].splitlines())
    else:  # GitLab CI: every top-level mapping with a script is a job
        for job in document.values():
            if isinstance(job, dict) and "script" in job:
                lines.extend(job["script"])
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def reports(document: dict) -> dict[str, str]:
    """{kind: file}: SARIF files uploaded by GitHub steps; GitLab artifact reports."""
    found: dict[str, str] = {}
    if "jobs" in document:
        for job in document["jobs"].values():
            for step in job["steps"]:
                if str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif@"):
                    found[f"sarif:{step['with']['category']}"] = step["with"]["sarif_file"]
    else:
        for job in document.values():
            if isinstance(job, dict):
                for kind, file in job.get("artifacts", {}).get("reports", {}).items():
                    found[kind] = file
    return found


@pytest.fixture()
def workspace(tmp_path) -> Path:
    """A repository as CI checks it out: a bad Terraform module and a bad template."""
    shutil.copytree(EXAMPLES / "terraform" / "unencrypted-streams", tmp_path / "infra")
    (tmp_path / "stacks").mkdir()
    shutil.copy(EXAMPLES / "cloudformation" / "unencrypted-streams.yaml", tmp_path / "stacks" / "streams.yaml")
    return tmp_path


def run_line(line: str, cwd: Path) -> subprocess.CompletedProcess:
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "GITHUB_STEP_SUMMARY": str(cwd / "step-summary.md"),  # the file GitHub gives each step
    }
    return subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def validate_sarif(path: Path, ids: set[str]) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(SCHEMA).validate(document)
    results = [r for run in document["runs"] for r in run["results"]]
    assert {r["ruleId"] for r in results} & ids, f"no result of ours in {path.name}"


def check_raw_checkov_sarif(workspace: Path) -> None:
    """The reason for the fix-up step in github-actions-checkov.yml: checkov's SARIF carries
    our checks' details as string attachment descriptions, which the schema refuses. When
    this stops being true, drop the fix-up step from the example and this check."""
    raw = json.loads((workspace / "checkov.sarif").read_text(encoding="utf-8"))
    errors = [e for e in jsonschema.Draft4Validator(SCHEMA).iter_errors(raw)]
    assert errors and all("attachments" in e.absolute_path for e in errors), "checkov's SARIF is valid now"


ACTION_EXAMPLE = "github-actions-action.yml"  # uses the kds-iac action: run below through its steps


@pytest.mark.parametrize("name", sorted(p.name for p in CI.glob("*.yml") if p.name != ACTION_EXAMPLE))
def test_pipeline_commands_run_and_produce_the_reports(name, workspace):
    document = yaml.safe_load((CI / name).read_text(encoding="utf-8"))
    lines = shell_lines(document)
    ran = 0
    for line in lines:
        words = shlex.split(line)
        if words[:2] == ["pip", "install"]:
            # kds-iac from its git repository (not on PyPI yet): checked, not run (no network)
            assert set(words[2:]) <= {"checkov", "git+https://github.com/kds-iac/kds-iac"}, line
            continue
        if words[:2] == ["python", "-c"]:  # a fix-up step: runs on the reports written so far
            check_raw_checkov_sarif(workspace)
            done = run_line(line, workspace)
            assert done.returncode == 0, done.stderr
            continue
        assert words[0] in ("kds-iac", "checkov"), f"unexpected command in {name}: {line}"
        done = run_line(line, workspace)
        # 1: findings (the workspace is bad on purpose); anything else is a broken command;
        # `kds-iac map` reports and exits 0 unless an input cannot be read
        assert done.returncode == (0 if words[:2] == ["kds-iac", "map"] else 1), f"{line}\nexit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr and "error:" not in done.stderr, done.stderr
        ran += 1
    assert ran, f"{name} runs neither kds-iac nor checkov"
    if any("GITHUB_STEP_SUMMARY" in line for line in lines):
        summary = (workspace / "step-summary.md").read_text(encoding="utf-8")
        assert summary.startswith("## kds-iac: Kinesis access map\n") and "### Findings" in summary

    expected = reports(document)
    assert expected, f"{name} uploads no report"
    for kind, file in expected.items():
        path = workspace / file
        assert path.is_file(), f"{name}: {file} was not written"
        if kind == "sarif:kds-iac":
            validate_sarif(path, KDS_IDS)
            rules = json.loads(path.read_text())["runs"][0]["tool"]["driver"]["rules"]
            assert all(r["help"]["markdown"] and r["properties"]["security-severity"] for r in rules)
        elif kind.startswith("sarif:"):
            validate_sarif(path, CHECKOV_IDS)
        elif kind == "sast":
            report = json.loads(path.read_text(encoding="utf-8"))
            ids = {i["value"] for v in report["vulnerabilities"] for i in v["identifiers"]}
            assert ids & CHECKOV_IDS, f"no CKV_KDS finding in {file}"
        elif kind == "junit":
            suites = ET.parse(path).getroot().findall("testsuite")
            assert {s.get("name").split(":")[0] for s in suites} >= {"KDS001"}
        else:
            raise AssertionError(f"unknown report kind {kind}")


# --------------------------------------------------------------------------- the kds-iac action


def test_ci_examples_name_the_action_release_of_this_version():
    from tests.integrations.test_github_action import package_version

    tags = {m for p in CI.glob("*.yml") for m in re.findall(r"kds-iac/kds-iac@(\S+?)[)\s]", p.read_text(encoding="utf-8"))}
    assert tags == {f"v{package_version()}"}


def test_action_example_runs_through_the_action(workspace, tmp_path):
    """The example's ``with:`` are inputs of action.yml; run with them, the action fails the
    bad workspace (a high finding, fail-on high) and hands SARIF to upload-sarif."""
    from tests.integrations.test_github_action import ActionRun, load_action, sarif_results

    document = yaml.safe_load((CI / ACTION_EXAMPLE).read_text(encoding="utf-8"))
    assert document["permissions"] == {"contents": "read", "security-events": "write"}
    steps = document["jobs"]["kds-iac"]["steps"]
    ours = [s for s in steps if str(s.get("uses", "")).startswith("kds-iac/kds-iac@")]
    assert len(ours) == 1 and [s for s in steps if "run" in s] == []
    given = {k: str(v) for k, v in ours[0]["with"].items()}
    assert set(given) <= set(load_action()["inputs"])
    scratch = tmp_path / "runner"
    scratch.mkdir()
    run = ActionRun(workspace, scratch, given)
    assert (run.exit_code, run.action_outputs["exit-code"]) == (1, "1")
    assert {(rule, uri) for rule, uri, _ in sarif_results(Path(run.action_outputs["sarif-file"]))} == {
        ("KDS001", "infra/main.tf"), ("KDS001", "stacks/streams.yaml"),
        ("KDS020", "infra/main.tf"), ("KDS020", "stacks/streams.yaml"),
        ("KDS022", "infra/main.tf"), ("KDS022", "stacks/streams.yaml"),
    }
    validate_sarif(Path(run.action_outputs["sarif-file"]), KDS_IDS)
