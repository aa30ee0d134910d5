"""Editor set-ups in ``editors/``: each is checked against the real tools.

- VS Code ``tasks.json``: every task's command runs for real, and its problem matchers (the
  same regular expressions VS Code applies) must read every line the command prints, with
  the right file, line, column, severity and rule id.
- VS Code ``.cfnlintrc``: the file as shipped makes the real ``cfn-lint`` report our rules.
- Neovim and Helix: the configured command is ``kds-iac lsp``, which the CLI accepts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, REPO, tool

EDITORS = REPO / "editors"
TASKS = json.loads((EDITORS / "vscode" / "tasks.json").read_text(encoding="utf-8"))
SEVERITY = {"CRITICAL": "error", "HIGH": "error", "ERROR": "error", "MEDIUM": "warning", "LOW": "info", "INFO": "info", "NOTE": "info"}


@pytest.fixture()
def workspace(tmp_path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLES, root / "examples", ignore=shutil.ignore_patterns("ci"))
    broken = root / "broken.yaml"
    broken.write_text('AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  S:\n    Type: AWS::Kinesis::Stream\n   Properties: [\n')
    return root


def substitute(value: str, workspace: Path, current: Path) -> str:
    return (
        value.replace("${workspaceFolder}", str(workspace))
        .replace("${relativeFile}", os.path.relpath(current, workspace))
        .replace("${file}", str(current))
    )


def apply_matchers(matchers: list[dict], line: str, workspace: Path) -> list[tuple]:
    hits = []
    for matcher in matchers:
        pattern = matcher["pattern"]
        match = re.match(pattern["regexp"], line)  # VS Code's are JavaScript regexps; these are portable
        if not match:
            continue
        kind, base = matcher["fileLocation"]
        assert kind == "relative"
        file = Path(substitute(base, workspace, workspace)) / match.group(pattern["file"])
        hits.append(
            (
                str(file.resolve()),
                int(match.group(pattern["line"])),
                int(match.group(pattern["column"])),
                matcher["severity"],
                match.group(pattern["code"]),
                match.group(pattern["message"]),
            )
        )
    return hits


@pytest.mark.parametrize("label", [task["label"] for task in TASKS["tasks"]])
def test_vscode_task_problem_matchers_read_the_real_output(label, workspace):
    task = next(t for t in TASKS["tasks"] if t["label"] == label)
    current = workspace / "examples" / "terraform" / "unencrypted-streams" / "main.tf"
    assert task["command"] == "kds-iac"
    args = [substitute(a, workspace, current) for a in task["args"]]
    cwd = substitute(task["options"]["cwd"], workspace, current)
    done = subprocess.run([tool("kds-iac"), *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode in (1, 2), done.stderr
    lines = done.stdout.splitlines()
    assert lines

    matched = []
    for line in lines:
        hits = apply_matchers(task["problemMatcher"], line, workspace)
        assert len(hits) == 1, f"{len(hits)} matchers read {line!r}"
        matched.append(hits[0])

    # the same scan as JSON: every finding and input error, read back with the right fields
    report = json.loads(
        subprocess.run([tool("kds-iac"), *args, "-q", "--format", "json"], cwd=cwd, capture_output=True, text=True).stdout
    )
    expected = {
        (str((Path(cwd) / f["file"]).resolve()), f["line"], SEVERITY[f["severity"].upper()], f["rule_id"])
        for f in report["findings"] if not f["suppressed"]
    } | {
        (str((Path(cwd) / d["file"]).resolve()), max(d["line"], 1), "error" if d["level"] == "error" else "info",
         "parse" if d["level"] == "error" else "input")
        for d in report["diagnostics"]
    }
    assert {(file, line, severity, code) for file, line, _col, severity, code, _msg in matched} == expected
    assert all(Path(file).is_file() for file, *_ in matched)
    if label.endswith("workspace"):
        assert {m[3] for m in matched} >= {"error", "info"}  # KDS001 high, KDS002 low, parse error
        assert any(m[4] == "parse" for m in matched)


def test_vscode_cfnlintrc_makes_cfn_lint_report_our_rules(tmp_path):
    shutil.copy(EDITORS / "vscode" / ".cfnlintrc", tmp_path / ".cfnlintrc")
    shutil.copy(EXAMPLES / "cloudformation" / "unencrypted-streams.yaml", tmp_path / "streams.yaml")
    done = subprocess.run([tool("cfn-lint"), "--format", "parseable", "streams.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in done.stderr, done.stderr
    reported = {(int(line.split(":")[1]), line.split(":")[5]) for line in done.stdout.splitlines() if ":E9" in line}
    assert reported == {(20, "E9001"), (29, "E9001"), (35, "E9001")}


def test_neovim_and_helix_start_the_language_server():
    from kds_iac.cli import build_parser

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    helix = tomllib.loads((EDITORS / "helix" / "languages.toml").read_text(encoding="utf-8"))
    server = helix["language-server"]["kds-iac"]
    commands = [[server["command"], *server["args"]]]
    assert all("kds-iac" in language["language-servers"] for language in helix["language"])
    lua = (EDITORS / "neovim" / "kds_iac.lua").read_text(encoding="utf-8")
    commands.append(re.findall(r'"([^"]+)"', re.search(r"^\s*cmd = \{([^}]*)\}", lua, re.M).group(1)))
    for command in commands:
        assert command[0] == "kds-iac"
        assert build_parser().parse_args(command[1:]).command == "lsp"
