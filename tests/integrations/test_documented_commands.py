"""The commands and snippets of README.md and docs/*.md, run as a new user would run them.

Nothing is copied from the documentation into this file: each fenced block that follows an
HTML comment ``<!-- tested: KIND -->`` is read from the page, and KIND says how it is tried
(``RUNNERS``). Every ``sh`` block of those pages must carry a marker, so a command added
later cannot escape. Commands run under bash, as written, in a scratch project holding a bad
Terraform module and bad templates, with this environment's ``kds-iac``, ``checkov``,
``cfn-lint`` and ``pre-commit`` on PATH.

What is not run, and why:

- ``pip install`` needs the network (PyPI, GitHub): each line is checked for shape (it installs
  this repository from ``.``, ``./kds-iac`` or ``git+https://github.com/kds-iac/kds-iac``,
  extras that exist), and the git and path forms are run once against local stand-ins (this
  tree committed in a scratch git repository, reached as ``git+file://``, and a copy named
  ``kds-iac``) with ``--no-deps --target`` into a directory of their own, from which the
  installed ``kds-iac`` then scans (``--no-build-isolation`` too when setuptools>=68 and wheel
  are installed here; otherwise pip fetches only the build backend from its index).
- ``python -m pytest`` would run this suite inside itself: not run.
- The pre-commit configuration that names the GitHub repository would build an environment
  from PyPI (``tests/integrations/test_pre_commit.py`` does that with ``try-repo``): its shape
  is checked (hook ids that exist, a ``rev`` that exists here). The ``repo: local`` form runs
  for real.
- The benchmark (``shape`` blocks) takes minutes: its flags are checked against ``--help``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, tool

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
PROJECT_URL = "https://github.com/kds-iac/kds-iac"
MARKER = re.compile(r"^[ \t]*<!-- tested: ([\w-]+) -->[ \t]*$")
FENCE = re.compile(r"^([ \t]*)```(\w*)[ \t]*$")
BIN = Path(sys.executable).parent
TIMEOUT = 600  # a hang guard, not a speed requirement

BAD_TF = """\
variable "region" {
  type    = string
  default = "us-east-1"
}

resource "aws_kinesis_stream" "events" {
  name        = "events-${var.region}"
  shard_count = 1
}
"""
BAD_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Orders:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
"""


@dataclass
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    kind: str  # from the marker, "" when unmarked
    language: str
    text: str  # dedented

    def __str__(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line} ({self.kind or 'unmarked'} {self.language})"


def fenced_blocks(page: Path) -> list[Block]:
    """Every top-level fenced block of a page, with the marker that precedes it (if any)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence or not fence.group(2):
            index += 1
            continue
        indent, language = fence.groups()
        kind = ""
        previous = index - 1
        while previous >= 0 and not lines[previous].strip():
            previous -= 1
        if previous >= 0 and MARKER.match(lines[previous]):
            kind = MARKER.match(lines[previous]).group(1)
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        body = textwrap.dedent("\n".join(line[len(indent):] if line.startswith(indent) else line for line in lines[index + 1 : end]))
        blocks.append(Block(page, index + 1, kind, language, body + "\n"))
        index = end + 1
    return blocks


def marked_blocks() -> list[Block]:
    return [b for page in PAGES for b in fenced_blocks(page) if b.kind]


def commands(block: Block) -> list[str]:
    """Shell commands of a block: continuation lines joined, comment lines dropped."""
    joined = block.text.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KDS_IAC_", "PRE_COMMIT"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PRE_COMMIT_HOME"] = str(home / "pre-commit-home")
    env["NO_COLOR"] = "1"
    for name, value in (("GIT_AUTHOR_NAME", "t"), ("GIT_AUTHOR_EMAIL", "t@example.com")):
        env[name] = value
        env[name.replace("AUTHOR", "COMMITTER")] = value
    return env


def bash(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


def make_project(root: Path) -> Path:
    """A user's repository with bad Terraform and CloudFormation, and a clone of kds-iac beside it."""
    project = root / "project"
    (project / "infra").mkdir(parents=True)
    (project / "infra" / "main.tf").write_text(BAD_TF)
    (project / "prod.tfvars").write_text('region = "eu-west-1"\n')
    (project / "stacks").mkdir()
    (project / "stacks" / "app.yaml").write_text(BAD_TEMPLATE)
    (project / "template.yaml").write_text(BAD_TEMPLATE)
    clone = root / "kds-iac"
    if not clone.exists():
        clone.symlink_to(REPO, target_is_directory=True)  # `../kds-iac/checks`
    return project


def said(done: subprocess.CompletedProcess) -> str:
    return f"exit {done.returncode}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"


def written_file(words: list[str], cwd: Path) -> Path | None:
    """The report or baseline a kds-iac command line writes, if it names one."""
    for flag in ("--output", "-o", "--baseline"):
        if flag in words and ("--create-baseline" in words or flag != "--baseline"):
            return cwd / words[words.index(flag) + 1]
    if "--create-baseline" in words:
        return cwd / ".kds-iac.baseline"
    return None


def check_outcome(line: str, done: subprocess.CompletedProcess, cwd: Path) -> None:
    """What each documented tool must do on the bad project: report our rule, not break."""
    assert "Traceback" not in done.stderr and "UnexpectedRuleException" not in done.stderr, f"{line}\n{said(done)}"
    words = shlex.split(line, comments=True)
    piped = "|" in words
    if piped:
        words = words[: words.index("|")]
    program = words[0]
    if program == "kds-iac" and words[1:2] == ["scan"] and ("--fix" in words or "--diff" in words):
        # fixes of the bad stream: its only fix adds a KMS key (unsafe)
        assert "error:" not in done.stderr and done.returncode == 1, f"{line}\n{said(done)}"
        unsafe = "--unsafe-fixes" in words
        if "--diff" in words:
            assert done.stdout.startswith("--- a/") == unsafe and ('resource "aws_kms_key"' in done.stdout) == unsafe, (
                f"{line}\n{said(done)}"
            )
        else:  # fixed with --unsafe-fixes; else reported, with how to fix it
            assert ("KDS001" in done.stdout) != unsafe and "fix" in done.stderr, f"{line}\n{said(done)}"
    elif program == "kds-iac" and words[1:2] == ["scan"]:
        assert "error:" not in done.stderr, f"{line}\n{said(done)}"
        target = written_file(words, cwd)
        if "--baseline" in words and "--create-baseline" not in words:
            # the previous line recorded every finding: nothing new, nothing reported
            assert done.returncode == 0 and "KDS001" not in done.stdout, f"{line}\n{said(done)}"
            return
        if "--create-baseline" in words:
            assert done.returncode == 0, f"{line}\n{said(done)}"
        elif not piped:
            assert done.returncode == 1, f"{line}\n{said(done)}"  # findings, no unreadable input
        report = target.read_text(encoding="utf-8") if target else done.stdout
        assert "KDS001" in report, f"{line}: no KDS001 in {target or 'stdout'}\n{said(done)}"
    elif program == "kds-iac" and words[1:2] == ["map"]:
        # a report, not a gate: exit 0 with findings; the report names them
        target = written_file(words, cwd)
        report = target.read_text(encoding="utf-8") if target else done.stdout
        assert done.returncode == 0 and "KDS001" in report, f"{line}\n{said(done)}"
    elif program == "kds-iac":
        assert done.returncode == 0 and "KDS001" in done.stdout, f"{line}\n{said(done)}"
    elif program == "cfn-lint":
        assert done.returncode & 2 and "E9001" in done.stdout, f"{line}\n{said(done)}"  # 2: errors found
    elif program == "checkov":
        assert done.returncode == 1 and "Check: CKV_KDS_1" in done.stdout, f"{line}\n{said(done)}"
    else:
        raise AssertionError(f"{line}: no outcome known for {program}; add one to check_outcome")
    if piped:
        assert done.returncode == 0 and "KDS001" in done.stdout, f"{line}\n{said(done)}"


# --- runners, one per marker kind --------------------------------------------------------------


def run_sh(block: Block, tmp_path: Path) -> None:
    """Each command, as written, in a fresh scratch project (lines of one block share it)."""
    project = make_project(tmp_path)
    env = environment(tmp_path)
    lines = commands(block)
    assert lines, f"{block}: no command"
    for line in lines:
        done = bash(line, project, env)
        check_outcome(line, done, project)


def run_clone(block: Block, tmp_path: Path) -> None:
    """``pip install ... && command`` from a clone: pip checked for shape, the command run in
    this repository (``python -m pytest`` is this suite: not run)."""
    env = environment(tmp_path)
    for line in commands(block):
        parts = [part.strip() for part in line.split("&&")]
        for part in parts:
            words = shlex.split(part, comments=True)
            if words[:2] == ["pip", "install"]:
                check_pip_shape(words)
            elif words[:3] == ["python", "-m", "pytest"]:
                assert (REPO / "tests").is_dir()
            else:
                done = bash(part, REPO, env)
                check_outcome(part, done, REPO)


def check_pip_shape(words: list[str]) -> None:
    """``pip install`` of this project: from ``.``, ``./kds-iac``, or its git URL, with extras
    that pyproject.toml declares."""
    assert words[:2] == ["pip", "install"], words
    targets = [w for w in words[2:] if w != "-e"]
    assert len(targets) == 1, words
    target = targets[0]
    spec, _, extras = target.partition("[")
    assert spec in (".", "./kds-iac") or spec.split("@")[0] == f"git+{PROJECT_URL}", words
    if extras:
        declared = set(_pyproject()["project"]["optional-dependencies"])
        assert set(extras.rstrip("]").split(",")) <= declared, words


def _pyproject() -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def run_install(block: Block, tmp_path: Path) -> None:
    """The git URL and path forms, against local stand-ins (no network): this tree committed
    in a scratch repository (``git+file://``) and the same tree as ``./kds-iac``."""
    if not _can_build_without_isolation():
        isolation = []  # pip fetches the build backend (setuptools, wheel) from its index
    else:
        isolation = ["--no-build-isolation"]
    clone = snapshot(tmp_path / "kds-iac")
    env = environment(tmp_path)
    lines = commands(block)
    assert lines
    for number, line in enumerate(lines):
        words = shlex.split(line, comments=True)
        check_pip_shape(words)
        spec = words[-1]
        local = f"git+file://{clone}" if spec.startswith("git+") else spec
        target = tmp_path / f"site-{number}"
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--no-deps", *isolation, "--quiet", "--target", str(target), local],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT,
        )
        assert done.returncode == 0, f"{line} (as {local})\n{said(done)}"
        installed = {**env, "PYTHONPATH": str(target)}
        folder = subprocess.run(
            [sys.executable, "-m", "kds_iac.cli", "checkov-dir"], cwd=tmp_path, env=installed,
            capture_output=True, text=True, timeout=TIMEOUT,
        )
        assert folder.stdout.strip() == str(target / "kds_iac" / "frontends" / "checkov_checks"), said(folder)
        project = make_project(tmp_path / f"user-{number}")
        scan = subprocess.run(
            [sys.executable, "-m", "kds_iac.cli", "scan", "stacks", "--no-progress", "-f", "json"], cwd=project,
            env=installed, capture_output=True, text=True, timeout=TIMEOUT,
        )
        assert scan.returncode == 1, said(scan)
        assert {(f["rule_id"], f["file"], f["resource"]) for f in json.loads(scan.stdout)["findings"]} >= {
            ("KDS001", "stacks/app.yaml", "Orders")
        }


def _can_build_without_isolation() -> bool:
    try:
        import setuptools
        import wheel  # noqa: F401
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 68


def snapshot(target: Path) -> Path:
    """This working tree (tracked and untracked files, as git lists them) committed in a new
    git repository at ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file() and not source.is_symlink():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    env = environment(target.parent)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git", *args], cwd=target, env=env, capture_output=True, check=True)
    return target


def run_settings(block: Block, tmp_path: Path) -> None:
    """The settings example as a project's pyproject.toml: read, no warning, and in force."""
    project = make_project(tmp_path)
    (project / "pyproject.toml").write_text(block.text, encoding="utf-8")
    settings = _toml(block.text)["tool"]["kds-iac"]
    done = bash("kds-iac scan . --format json --no-progress", project, environment(tmp_path))
    assert "warning" not in done.stderr and "error" not in done.stderr, said(done)
    report = json.loads(done.stdout)
    assert report["config"] == "pyproject.toml"
    assert report["summary"]["fail_on"] == settings["fail-on"]
    assert not set(settings["skip-rules"]) & {r["id"] for r in report["rules"]}
    assert settings["organization-trail"] in report["audit"]
    assert done.returncode == (1 if report["summary"]["failing"] else 0), said(done)


def _toml(text: str) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(text)


def _pre_commit_repos(block: Block) -> list[dict]:
    document = yaml.safe_load(block.text)
    return document["repos"] if isinstance(document, dict) else document


def run_pre_commit_remote(block: Block, tmp_path: Path) -> None:
    """Shape only (pre-commit would install from PyPI): this project's URL, a ``rev`` that
    exists in this repository, hooks that .pre-commit-hooks.yaml defines."""
    published = {hook["id"] for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    (repo,) = _pre_commit_repos(block)
    assert repo["repo"] == PROJECT_URL
    rev = str(repo["rev"])
    known = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=REPO,
                           capture_output=True, text=True)
    # a CI checkout may hold neither the branch nor the commit: then the shape of one
    assert known.returncode == 0 or re.fullmatch(r"main|[0-9a-f]{40}", rev), (
        f"{block}: rev {rev!r} is no branch, tag or commit of this repository"
    )
    assert {hook["id"] for hook in repo["hooks"]} == published


def run_pre_commit_local(block: Block, tmp_path: Path) -> None:
    """The ``repo: local`` hooks with the real pre-commit in a scratch git repository: they
    match the published hooks, fail on the bad project with our findings, pass once it is fixed."""
    published = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    (repo,) = _pre_commit_repos(block)
    assert repo["repo"] == "local"
    for hook in repo["hooks"]:
        for key in ("entry", "files", "exclude", "require_serial"):
            assert hook.get(key) == published[hook["id"]].get(key), f"{hook['id']}.{key} differs from .pre-commit-hooks.yaml"
    assert {hook["id"] for hook in repo["hooks"]} == set(published)
    project = make_project(tmp_path)
    (project / ".kds-iac.yaml").write_text("organization-trail: org-audit\nkinesis-data-events: false\n")
    (project / ".pre-commit-config.yaml").write_text(block.text)
    env = environment(tmp_path)
    for line in ("git init -q", "git add -A"):
        assert bash(line, project, env).returncode == 0
    done = bash("pre-commit run --all-files", project, env)
    assert done.returncode == 1, said(done)
    assert "aws_kinesis_stream.events" in done.stdout and "[Orders]" in done.stdout, said(done)
    assert re.search(r"kds-iac \(Terraform\)\.+Failed", done.stdout) and re.search(
        r"kds-iac \(CloudFormation\)\.+Failed", done.stdout), said(done)
    encrypted = "      StreamEncryption: {EncryptionType: KMS, KeyId: alias/orders}\n"
    for name in ("stacks/app.yaml", "template.yaml"):
        (project / name).write_text(BAD_TEMPLATE + encrypted)
    (project / "infra" / "main.tf").write_text(
        BAD_TF.replace("shard_count = 1", 'shard_count = 1\n  encryption_type = "KMS"\n  kms_key_id = "alias/events"')
    )
    assert bash("git add -A", project, env).returncode == 0
    done = bash("pre-commit run --all-files", project, env)
    assert done.returncode == 0, said(done)


def run_cfnlintrc(block: Block, tmp_path: Path) -> None:
    """``.cfnlintrc`` at the project root, then plain ``cfn-lint template.yaml``."""
    project = make_project(tmp_path)
    (project / ".cfnlintrc").write_text(block.text)
    done = bash("cfn-lint template.yaml", project, environment(tmp_path))
    check_outcome("cfn-lint template.yaml", done, project)


def run_shape(block: Block, tmp_path: Path) -> None:
    """Long-running commands: every flag they pass is one their ``--help`` lists."""
    for line in commands(block):
        words = shlex.split(line.split("#")[0])
        done = bash(shlex.join([*words[:2], "--help"]), REPO, environment(tmp_path))
        assert done.returncode == 0, said(done)
        for flag in (w for w in words if w.startswith("--")):
            assert flag in done.stdout, f"{line}: {flag} is not an option"


RUNNERS = {
    "sh": run_sh,
    "clone": run_clone,
    "install": run_install,
    "settings": run_settings,
    "pre-commit-remote": run_pre_commit_remote,
    "pre-commit-local": run_pre_commit_local,
    "cfnlintrc": run_cfnlintrc,
    "shape": run_shape,
}


def test_every_shell_block_and_marker_is_accounted_for():
    """No ``sh`` block escapes, and every marker names a runner and precedes a block."""
    unmarked = [str(b) for page in PAGES for b in fenced_blocks(page) if b.language in ("sh", "bash", "shell", "console") and not b.kind]
    assert unmarked == []
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        markers = [number + 1 for number, line in enumerate(lines) if MARKER.match(line)]
        blocks = [b.line for b in fenced_blocks(page) if b.kind]
        assert len(markers) == len(blocks), f"{page.name}: a marker at one of {markers} is not followed by a block"
    assert {b.kind for b in marked_blocks()} <= set(RUNNERS)
    assert {b.kind for b in marked_blocks()} == set(RUNNERS), "a runner no page uses"


@pytest.mark.parametrize("block", marked_blocks(), ids=str)
def test_documented_block_works(block: Block, tmp_path: Path):
    RUNNERS[block.kind](block, tmp_path)
