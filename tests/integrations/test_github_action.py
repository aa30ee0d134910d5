"""The GitHub Action (``action.yml``), run step by step the way the runner runs a composite action.

Each ``run:`` step is executed with ``bash --noprofile --norc -eo pipefail`` (the runner's
``shell: bash``), its ``env:`` expressions (``${{ inputs.x }}``, ``${{ steps.s.outputs.y }}``)
substituted, ``GITHUB_OUTPUT``, ``GITHUB_ENV`` and ``GITHUB_STEP_SUMMARY`` pointing at temporary
files, and a step's ``if:`` evaluated. Two things differ from a real runner, on purpose:

- the install step (``id: install``, ``pip install kds-iac==<version>``) is not run: the tests use
  the kds-iac already installed in the test environment (no network), on ``PATH`` first;
- ``uses:`` steps (setup-python, upload-sarif) are not run: the test checks that they are pinned
  to a release and receive the right inputs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest
import yaml

from tests.conftest import EXAMPLES, REPO, declare_organization_trail

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ACTION = REPO / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load_action() -> dict[str, Any]:
    with ACTION.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def package_version() -> str:
    with (REPO / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["project"]["version"]


# --------------------------------------------------------------------------- a small runner


def _value(name: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> Any:
    if name == "always()":
        return True
    if name.startswith("'") and name.endswith("'"):
        return name[1:-1]
    if name.startswith("inputs."):
        return inputs[name[len("inputs."):]]
    match = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", name)
    if match:
        return outputs.get(match.group(1), {}).get(match.group(2), "")
    raise AssertionError(f"expression the test runner does not know: {name!r}")


def evaluate(expression: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> Any:
    """The expressions action.yml uses: a term, ``a == b``, ``a != b``, joined by ``&&``."""
    results = []
    for part in expression.split("&&"):
        part = part.strip()
        comparison = re.fullmatch(r"(.+?)\s*(==|!=)\s*(.+)", part)
        if comparison:
            left, operator, right = comparison.groups()
            equal = str(_value(left, inputs, outputs)) == str(_value(right, inputs, outputs))
            results.append(equal if operator == "==" else not equal)
        else:
            results.append(_value(part, inputs, outputs))
    return results[0] if len(results) == 1 else all(bool(r) for r in results)


def substitute(text: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
    return EXPRESSION.sub(lambda m: str(evaluate(m.group(1), inputs, outputs)), text)


def read_outputs(path: Path) -> dict[str, str]:
    values, lines = {}, path.read_text().splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and "=" not in line.split("<<")[0]:
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index + 1)
            values[name] = "\n".join(lines[index + 1 : end])
            index = end + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        index += 1
    return values


class ActionRun:
    def __init__(self, workspace: Path, tmp: Path, inputs: dict[str, str], with_summary: bool = True) -> None:
        action = load_action()
        self.inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
        unknown = set(inputs) - set(self.inputs)
        assert not unknown, f"not inputs of the action: {unknown}"
        self.inputs.update(inputs)
        self.outputs: dict[str, dict[str, str]] = {}
        self.ran: list[str] = []
        self.skipped_uses: list[tuple[str, dict[str, str]]] = []
        self.exit_code: Optional[int] = None
        self.summary = tmp / "step_summary.md"
        self.summary.write_text("")
        runner_temp = tmp / "runner_temp"
        runner_temp.mkdir()
        github_env = tmp / "github_env"
        github_env.write_text("")
        env = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": os.environ.get("HOME", str(tmp)),
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_ENV": str(github_env),
            "GITHUB_WORKSPACE": str(workspace),
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        if with_summary:
            env["GITHUB_STEP_SUMMARY"] = str(self.summary)
        failed = False
        for number, step in enumerate(action["runs"]["steps"]):
            condition = step.get("if")
            if condition is None:
                if failed:
                    continue
            elif not evaluate(EXPRESSION.sub(lambda m: m.group(1), str(condition)), self.inputs, self.outputs):
                continue
            if "uses" in step:
                given = {k: substitute(str(v), self.inputs, self.outputs) for k, v in (step.get("with") or {}).items()}
                self.skipped_uses.append((step["uses"], given))
                continue
            if step.get("id") == "install":  # the installed kds-iac stands for pip install kds-iac==<version>
                self.ran.append("install (skipped: kds-iac of the test environment)")
                continue
            assert step.get("shell") == "bash", step
            output = tmp / f"github_output_{number}"
            output.write_text("")
            step_env = dict(env)
            step_env.update(line.split("=", 1) for line in github_env.read_text().splitlines() if "=" in line)
            step_env.update({k: substitute(str(v), self.inputs, self.outputs) for k, v in (step.get("env") or {}).items()})
            step_env["GITHUB_OUTPUT"] = str(output)
            script = tmp / f"step_{number}.sh"
            script.write_text(step["run"])
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=workspace, env=step_env, capture_output=True, text=True, timeout=300,
            )
            self.ran.append(step.get("name", step.get("id", str(number))))
            if "id" in step:
                self.outputs[step["id"]] = read_outputs(output)
            if done.returncode != 0:
                failed = True
                self.exit_code = done.returncode
                self.last_stdout = done.stdout
        if not failed:
            self.exit_code = 0
        self.action_outputs = {name: substitute(spec["value"], self.inputs, self.outputs) for name, spec in action["outputs"].items()}


def workspace_of(tmp: Path, *examples: str, audited: bool = False) -> Path:
    workspace = tmp / "workspace"
    workspace.mkdir()
    for example in examples:
        source = EXAMPLES / example
        if source.is_dir():
            shutil.copytree(source, workspace / source.name)
        else:
            shutil.copy(source, workspace / source.name)
    if audited:
        declare_organization_trail(workspace)
    return workspace


def sarif_results(path: Path) -> set[tuple[str, str, int]]:
    report = json.loads(path.read_text())
    return {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
         r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in report["runs"][0]["results"] if not r.get("suppressions")
    }


# --------------------------------------------------------------------------- the action's definition


def test_the_action_installs_the_version_it_is_released_with():
    action = load_action()
    assert action["runs"]["using"] == "composite"
    assert action["inputs"]["version"]["default"] == package_version()
    install = next(step for step in action["runs"]["steps"] if step.get("id") == "install")
    assert '"kds-iac==$INPUT_VERSION"' in install["run"]
    assert install["env"] == {"INPUT_VERSION": "${{ inputs.version }}", "INPUT_INSTALL_FROM": "${{ inputs.install-from }}"}
    assert set(action["inputs"]) == {
        "paths", "fail-on", "baseline", "config", "format", "upload-sarif", "summary", "version", "install-from",
        "python-version",
    }
    assert set(action["outputs"]) == {"exit-code", "sarif-file", "report-file", "findings"}


def test_used_actions_are_pinned_and_get_the_right_inputs():
    steps = load_action()["runs"]["steps"]
    uses = {step["uses"].split("@")[0]: step for step in steps if "uses" in step}
    assert set(uses) == {"actions/setup-python", "github/codeql-action/upload-sarif"}
    for name, step in uses.items():
        assert re.fullmatch(r"v\d+\.\d+\.\d+|[0-9a-f]{40}", step["uses"].split("@")[1]), f"{name} is not pinned"
    assert uses["actions/setup-python"]["with"] == {"python-version": "${{ inputs.python-version }}"}
    assert uses["github/codeql-action/upload-sarif"]["with"] == {
        "sarif_file": "${{ steps.scan.outputs.sarif-file }}", "category": "kds-iac",
    }


def test_inputs_reach_scripts_through_the_environment_only():
    """An input pasted into a script could inject shell code (a path named ``$(...)``)."""
    for step in load_action()["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step.get("name")


# --------------------------------------------------------------------------- running it


BAD_TF = "terraform/unencrypted-streams"
BAD_FINDINGS = {
    ("KDS001", "unencrypted-streams/main.tf", 15),
    ("KDS001", "unencrypted-streams/main.tf", 23),
    ("KDS001", "unencrypted-streams/main.tf", 29),
    ("KDS001", "unencrypted-streams/main.tf", 35),
}


def test_a_bad_example_fails_with_sarif_uploaded_and_the_summary_written(tmp_path):
    workspace = workspace_of(tmp_path, BAD_TF, audited=True)
    run = ActionRun(workspace, tmp_path, {})
    assert run.exit_code == 1
    outputs = run.action_outputs
    assert outputs["exit-code"] == "1"
    assert outputs["findings"] == "4"
    sarif = Path(outputs["sarif-file"])
    assert sarif.parent == tmp_path / "runner_temp" / "kds-iac" and outputs["report-file"] == str(sarif)
    assert sarif_results(sarif) == BAD_FINDINGS
    assert [uses for uses, _ in run.skipped_uses] == ["actions/setup-python@v5.6.0", "github/codeql-action/upload-sarif@v3.28.18"]
    assert run.skipped_uses[1][1] == {"sarif_file": str(sarif), "category": "kds-iac"}
    summary = run.summary.read_text()
    assert "### Findings" in summary
    assert "| Severity | Rule | Location | Resource | Message |" in summary
    assert "| `aws_kinesis_stream.plain` |" in summary
    assert run.ran == ["install (skipped: kds-iac of the test environment)", "Scan", "Job summary", "Fail on findings"]


def test_fail_on_above_the_findings_passes(tmp_path):
    workspace = workspace_of(tmp_path, BAD_TF, audited=True)
    run = ActionRun(workspace, tmp_path, {"fail-on": "critical"})
    assert (run.exit_code, run.action_outputs["exit-code"], run.action_outputs["findings"]) == (0, "0", "4")
    assert sarif_results(Path(run.action_outputs["sarif-file"])) == BAD_FINDINGS  # reported, not failing


def test_a_clean_example_passes(tmp_path):
    workspace = workspace_of(tmp_path, "terraform/customer-managed-key", audited=True)
    run = ActionRun(workspace, tmp_path, {"paths": "customer-managed-key"})
    assert (run.exit_code, run.action_outputs["exit-code"], run.action_outputs["findings"]) == (0, "0", "0")
    assert sarif_results(Path(run.action_outputs["sarif-file"])) == set()


def test_json_report_without_upload_or_summary(tmp_path):
    workspace = workspace_of(tmp_path, BAD_TF, "cloudformation/unencrypted-streams.yaml", audited=True)
    run = ActionRun(
        workspace, tmp_path,
        {"paths": "unencrypted-streams\nunencrypted-streams.yaml", "format": "json", "upload-sarif": "false", "summary": "false"},
    )
    assert run.exit_code == 1
    assert run.action_outputs["sarif-file"] == ""
    assert run.skipped_uses == [("actions/setup-python@v5.6.0", {"python-version": "3.12"})]  # no upload
    report = json.loads(Path(run.action_outputs["report-file"]).read_text())
    assert {(f["rule_id"], f["file"], f["resource"]) for f in report["findings"] if not f["suppressed"]} == {
        ("KDS001", "unencrypted-streams/main.tf", "aws_kinesis_stream.plain"),
        ("KDS001", "unencrypted-streams/main.tf", "aws_kinesis_stream.explicitly_none"),
        ("KDS001", "unencrypted-streams/main.tf", "aws_kinesis_stream.from_variable"),
        ("KDS001", "unencrypted-streams/main.tf", "aws_kinesis_stream.optional_key"),
        ("KDS001", "unencrypted-streams.yaml", "Plain"),
        ("KDS001", "unencrypted-streams.yaml", "OptionalKey"),
        ("KDS001", "unencrypted-streams.yaml", "SwitchedOff"),
    }
    assert run.action_outputs["findings"] == "7"
    assert run.summary.read_text() == ""
    assert "Job summary" not in run.ran


def test_a_baseline_leaves_out_known_findings(tmp_path):
    workspace = workspace_of(tmp_path, BAD_TF, audited=True)
    subprocess.run(
        [str(Path(sys.executable).parent / "kds-iac"), "scan", ".", "--create-baseline", "--baseline", "known.baseline", "--no-progress"],
        cwd=workspace, check=True, capture_output=True, timeout=300,
    )
    run = ActionRun(workspace, tmp_path, {"baseline": "known.baseline"})
    assert (run.exit_code, run.action_outputs["findings"]) == (0, "0")


def test_without_a_step_summary_file_nothing_is_written(tmp_path):
    workspace = workspace_of(tmp_path, BAD_TF, audited=True)
    run = ActionRun(workspace, tmp_path, {}, with_summary=False)
    assert run.exit_code == 1
    assert run.outputs["scan"]["markdown-file"] == ""
    assert run.summary.read_text() == ""


def test_an_unknown_format_is_a_usage_error(tmp_path):
    workspace = workspace_of(tmp_path, BAD_TF, audited=True)
    run = ActionRun(workspace, tmp_path, {"format": "pdf"})
    assert run.exit_code == 2
    assert "Fail on findings" in run.ran  # the last step still runs: the scan step itself failed
