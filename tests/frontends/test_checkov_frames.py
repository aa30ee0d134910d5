"""The checkov bridge's frame path, against the installed checkov, in this process.

``checkov_bridge.recover_scope`` reads checkov's runner frames first (``root_folder`` with
``full_file_path`` or ``file_abs_path``, then the runner's ``files``): they are the only
evidence that tells ``-f`` from ``-d``. These locals are checkov's internals, not an API; a
checkov release may rename them. The bridge then falls back to the resource data (graph
``file_path_``, ``__file__``), which gives the right scope for ``-d`` only. This test runs
checkov's own Terraform and CloudFormation runners on a small tree and fails, naming the
checkov version, when the frames stop giving the scope; docs/integrations.md lists the
checkov versions the frame path was verified with.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from kds_iac.frontends import checkov_bridge as bridge

pytest.importorskip("checkov")

BROKEN = (
    "checkov {version}: the kds-iac bridge no longer finds the scope in checkov's runner frames "
    "({framework}, {mode}: got {got!r}). checkov renamed the runner locals that "
    "kds_iac/frontends/checkov_bridge.py:_scope_from_frames reads (root_folder, full_file_path, "
    "file_abs_path, files); update it and the verified versions in docs/integrations.md. Until "
    "then the bridge falls back to the resource data, which puts a file named with -f in the "
    "wrong scope."
)


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text('resource "aws_kinesis_stream" "s" {\n  name        = "s"\n  shard_count = 1\n}\n')
    (tmp_path / "cfn").mkdir()
    (tmp_path / "cfn" / "t.yaml").write_text("Resources:\n  S:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      ShardCount: 1\n")
    return tmp_path


@pytest.fixture()
def evidence(monkeypatch):
    """What each call of ``recover_scope`` found: with the frames, and from the resource data alone."""
    seen: list[tuple[str, tuple, tuple]] = []
    recover = bridge.recover_scope

    def spy(framework, scanned_file, conf, graph=None, frame=None):
        frame = frame if frame is not None else sys._getframe(1)
        monkeypatch.delenv(bridge.NO_FRAMES_ENV, raising=False)
        with_frames = recover(framework, scanned_file, conf, graph, frame)
        monkeypatch.setenv(bridge.NO_FRAMES_ENV, "1")
        without = recover(framework, scanned_file, conf, graph, frame)
        monkeypatch.delenv(bridge.NO_FRAMES_ENV)
        seen.append((framework, _shown(with_frames), _shown(without)))
        return with_frames

    monkeypatch.setattr(bridge, "recover_scope", spy)
    bridge.clear_cache()
    yield seen
    bridge.clear_cache()


def _shown(located):
    return None if located is None else (located.root, located.file, located.how)


def _run(framework: str, root_folder=None, files=None) -> None:
    from checkov.runner_filter import RunnerFilter

    from kds_iac.frontends.checkov_checks import kds_iac_cloudformation_checks, kds_iac_terraform_checks  # noqa: F401

    if framework == "terraform":
        from checkov.terraform.runner import Runner
    else:
        from checkov.cloudformation.runner import Runner
    Runner().run(root_folder=root_folder, files=files, runner_filter=RunnerFilter(framework=[framework], checks=["CKV_KDS_1"]))


def _version() -> str:
    from checkov.version import version

    return version


@pytest.mark.parametrize("framework, folder, name", [("terraform", "tf", "main.tf"), ("cloudformation", "cfn", "t.yaml")])
def test_the_frames_give_the_scope_for_d_and_f(tree, evidence, monkeypatch, framework, folder, name):
    monkeypatch.chdir(tree)
    directory, file = str(tree / folder), str(tree / folder / name)
    _run(framework, root_folder=folder)
    _run(framework, files=[f"{folder}/{name}"])
    _run(framework, files=[file])
    got = [(fw, with_frames) for fw, with_frames, _ in evidence]
    for mode, found in zip(("-d", "-f relative", "-f absolute"), got):
        expected = (framework, (directory, file, f"checkov runner ({mode.split()[0]})"))
        assert found == expected, BROKEN.format(version=_version(), framework=framework, mode=mode, got=found)
    assert len(got) == 3


def test_the_resource_data_alone_suffices_for_d_but_not_for_an_absolute_f(tree, evidence, monkeypatch):
    """Why the frames come first: ``-f /abs/cfn/t.yaml`` looks like ``-d /abs`` in the data."""
    monkeypatch.chdir(tree)
    _run("cloudformation", root_folder="cfn")
    _run("cloudformation", files=[str(tree / "cfn" / "t.yaml")])
    _run("terraform", root_folder="tf")
    without = [(fw, data) for fw, _, data in evidence]
    file = str(tree / "cfn" / "t.yaml")
    assert without == [
        ("cloudformation", (str(tree / "cfn"), file, "__file__ (-d)")),
        ("cloudformation", (str(tree), file, "__file__ (-d)")),  # wrong: the scope is cfn/
        ("terraform", (str(tree / "tf"), str(tree / "tf" / "main.tf"), "checkov graph file_path_")),
    ]
    assert os.path.dirname(file) != str(tree)
