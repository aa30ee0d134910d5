"""Shared by the one-rule tests (test_kds0NN_*.py): load a small template and run one rule on it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from kds_iac.engine import run_rules
from kds_iac.loaders import load
from kds_iac.rules import all_rules


def rule(rule_id: str):
    return next(m for m in all_rules() if m.rule.id == rule_id)


def findings(rule_id: str, directory: Path, text: str, name: str = "main.tf", **files: str) -> dict:
    """``{address: finding}`` of one rule on one template written into ``directory``."""
    (directory / name).write_text(textwrap.dedent(text))
    for file_name, content in files.items():
        (directory / file_name.replace("__", ".")).write_text(content)
    path = directory if name.endswith(".tf") else directory / name
    model = load([str(path)])
    assert [d for d in model.diagnostics if d.level == "error"] == []
    found = run_rules(model, [rule(rule_id)])
    return {f.address: f for f in found}
