"""The pre-commit hooks through the real ``pre-commit try-repo``.

pre-commit installs this repository into an environment of its own (``pip install .``, with
the dependencies from PyPI), which is the slow part: try-repo does it on every call, in a
store of its own. The snapshot is this working tree (tracked and untracked files, as ``git ls-files`` lists
them) committed in a temporary repository, so the hooks under test are the ones on disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, declare_organization_trail, tool

HOOKS = REPO / ".pre-commit-hooks.yaml"

BAD_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Orders:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
"""
GOOD_TEMPLATE = BAD_TEMPLATE + "      StreamEncryption:\n        EncryptionType: KMS\n        KeyId: alias/orders\n"

MAIN_TF = """\
resource "aws_kinesis_stream" "events" {
  name            = "events"
  shard_count     = 1
  encryption_type = var.encryption_type
  kms_key_id      = "alias/events"
}
"""
VARIABLES_TF = 'variable "encryption_type" {\n  type    = string\n  default = "%s"\n}\n'


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_hooks_file_declares_both_hooks_with_the_cli():
    from kds_iac.cli import build_parser

    hooks = {hook["id"]: hook for hook in yaml.safe_load(HOOKS.read_text())}
    assert set(hooks) == {"kds-iac-terraform", "kds-iac-cloudformation"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["require_serial"] is True
        entry = hook["entry"].split()
        assert entry[:2] == ["kds-iac", "scan"]
        build_parser().parse_args([*entry[1:], "some-file"])  # the flags exist (SystemExit otherwise)
    assert "--whole-module" in hooks["kds-iac-terraform"]["entry"]
    assert "--ignore-unrecognized" in hooks["kds-iac-cloudformation"]["entry"]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> tuple[Path, str]:
    """This working tree committed in a scratch repository: (path, commit)."""
    target = tmp_path_factory.mktemp("kds-iac-snapshot")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git("init", "-q", cwd=target)
    git("add", "-A", cwd=target)
    git("commit", "-q", "-m", "snapshot", cwd=target)
    return target, git("rev-parse", "HEAD", cwd=target)


def try_repo(snapshot: tuple[Path, str], project: Path, *files: str) -> subprocess.Popen:
    """Start ``pre-commit try-repo SNAPSHOT --ref COMMIT --files FILES`` in ``project``."""
    path, ref = snapshot
    env = {**os.environ, "PRE_COMMIT_HOME": str(project.parent / f"{project.name}-pre-commit-home"), "PRE_COMMIT_COLOR": "never"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return subprocess.Popen(
        [tool("pre-commit"), "try-repo", str(path), "--ref", ref, "--verbose", "--files", *files],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def project_repo(root: Path, fixed: bool) -> Path:
    (root / "infra").mkdir(parents=True)
    (root / "stacks").mkdir()
    (root / "infra" / "main.tf").write_text(MAIN_TF)
    (root / "infra" / "variables.tf").write_text(VARIABLES_TF % ("KMS" if fixed else "NONE"))
    (root / "stacks" / "orders.yaml").write_text(GOOD_TEMPLATE if fixed else BAD_TEMPLATE)
    (root / "stacks" / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n")  # not a template
    declare_organization_trail(root)
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    return root


def test_pre_commit_fails_on_a_bad_template_and_passes_once_fixed(snapshot, tmp_path):
    """One project before and after the fix. try-repo builds a new hook environment on every
    call (about a minute: pip installs kds-iac and its dependencies), so the two calls run
    side by side rather than one after the other."""
    # Only variables.tf and the templates are passed: main.tf is judged with variables.tf,
    # and its stream is reported there, because the hook checks whole module directories.
    files = ("infra/variables.tf", "stacks/orders.yaml", "stacks/compose.yaml")
    runs = {
        fixed: try_repo(snapshot, project_repo(tmp_path / ("fixed" if fixed else "bad"), fixed), *files)
        for fixed in (False, True)
    }
    outputs = {}
    for fixed, process in runs.items():
        outputs[fixed] = process.communicate(timeout=900)[0]

    output = outputs[False]
    assert runs[False].returncode == 1, output
    assert _status(output, "kds-iac (Terraform)") == "Failed"
    assert _status(output, "kds-iac (CloudFormation)") == "Failed"
    assert "infra/main.tf:4:1: HIGH KDS001" in output and "[aws_kinesis_stream.events]" in output
    assert "stacks/orders.yaml:3:3: HIGH KDS001" in output and "[Orders]" in output
    assert "ERROR" not in output  # compose.yaml is not a template: skipped, not an input error

    output = outputs[True]
    assert runs[True].returncode == 0, output
    assert _status(output, "kds-iac (Terraform)") == "Passed"
    assert _status(output, "kds-iac (CloudFormation)") == "Passed"


def _status(output: str, name: str) -> str:
    for line in output.splitlines():
        if line.startswith(name):
            return line.rstrip().rsplit(".", 1)[-1].strip()
    raise AssertionError(f"hook {name!r} did not run:\n{output}")


# --------------------------------------------------------------------------- the flags the hooks pass


def test_whole_module_and_ignore_unrecognized_flags(tmp_path):
    project = project_repo(tmp_path / "p", fixed=False)
    (project / "infra" / "terraform.tfvars").write_text('encryption_type = "NONE"\n')

    def scan(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([tool("kds-iac"), "scan", "--no-progress", "-q", *args], cwd=project, capture_output=True, text=True)

    # without --whole-module only the named file's findings count: variables.tf has none
    assert scan("infra/variables.tf").returncode == 0
    for named in ("infra/variables.tf", "infra/terraform.tfvars"):
        done = scan("--whole-module", named)
        assert done.returncode == 1 and done.stdout.startswith("infra/main.tf:4:1: HIGH KDS001"), done.stdout + done.stderr
    # another YAML file is an input error unless --ignore-unrecognized
    assert scan("stacks/compose.yaml").returncode == 2
    assert scan("--ignore-unrecognized", "stacks/compose.yaml").returncode == 0
    done = scan("--ignore-unrecognized", "stacks/compose.yaml", "stacks/orders.yaml")
    assert done.returncode == 1 and "stacks/orders.yaml:3:3: HIGH KDS001" in done.stdout
