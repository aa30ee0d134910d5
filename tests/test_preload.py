"""When the command starts the tfparse worker ahead of time: only for a scan that names Terraform."""

from __future__ import annotations

import pytest

from kds_iac.loaders import tfparse_worker
from kds_iac.preload import preload_tfparse_if_terraform


@pytest.fixture(autouse=True)
def starts(monkeypatch) -> list[bool]:
    """Worker starts, recorded instead of done."""
    started: list[bool] = []
    monkeypatch.setattr(tfparse_worker, "start", lambda fork=False: started.append(fork))
    return started


@pytest.mark.parametrize(
    ("names", "paths", "preloaded"),
    [
        (["main.tf"], ["main.tf"], True),
        (["prod.tfvars"], ["prod.tfvars"], True),
        (["infra/main.tf.json"], ["infra"], True),  # a directory that holds Terraform itself
        (["stack.yaml"], ["stack.yaml"], False),
        (["stacks/app.yaml", "stacks/deep/main.tf"], ["stacks"], True),  # the first levels are looked at
        (["a/b/c/d/e/main.tf"], ["a"], False),  # deeper than that: the loader starts the worker itself
        (["stacks/.terraform/modules/x/main.tf", "stacks/app.yaml"], ["stacks"], False),  # hidden folders skipped
        ([], ["missing"], False),
    ],
)
def test_preload_only_for_terraform(tmp_path, monkeypatch, starts, names, paths, preloaded):
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert preload_tfparse_if_terraform(paths) is preloaded
    assert starts == ([True] if preloaded else [])  # forked where that is safe


def test_a_worker_that_cannot_start_is_left_to_the_loader_to_report(tmp_path, monkeypatch):
    def cannot(*args, **kwargs):
        raise OSError("no processes left")

    (tmp_path / "main.tf").write_text("", encoding="utf-8")
    monkeypatch.setattr(tfparse_worker, "start", cannot)
    assert preload_tfparse_if_terraform([str(tmp_path / "main.tf")]) is False
