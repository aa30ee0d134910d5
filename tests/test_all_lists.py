"""Every ``__all__`` in kds_iac says what its module really has.

A name left in ``__all__`` after a rename makes ``from module import *`` fail, and tells a
reader of the module's surface about something that is not there.
"""

from __future__ import annotations

import ast
import importlib

import pytest

from tests.conftest import REPO


def _modules_with_all() -> list[str]:
    out = []
    for path in sorted((REPO / "kds_iac").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(
            isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets)
            for node in tree.body
        ):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out.append(".".join(parts))
    return out


MODULES = _modules_with_all()


def test_modules_with_all_are_found():
    assert "kds_iac.views.iam" in MODULES and "kds_iac.rules" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_every_name_in_all_exists(name):
    module = importlib.import_module(name)
    assert [n for n in module.__all__ if not hasattr(module, n)] == []
    assert len(set(module.__all__)) == len(module.__all__), "a name is listed twice"
