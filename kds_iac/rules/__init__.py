"""The rule registry: every ``kdsNNN_*.py`` module in this package is a rule."""

from __future__ import annotations

import importlib
import os
from functools import lru_cache

from kds_iac.rules.base import Examples, Finding, Rule, RuleModule, Severity

__all__ = ["Examples", "Finding", "Rule", "RuleModule", "Severity", "all_rules"]


@lru_cache(maxsize=1)
def all_rules() -> tuple[RuleModule, ...]:
    loaded = []
    for name in _rule_module_names():
        module = importlib.import_module(f"{__name__}.{name}")
        loaded.append(
            RuleModule(
                rule=module.RULE,
                doc=module.__doc__ or "",
                examples=module.EXAMPLES,
                check=module.check,
                module_name=module.__name__,
            )
        )
    return tuple(loaded)


def _rule_module_names() -> list[str]:
    """The ``kds*.py`` modules of this package, by listing its folder: ``pkgutil.iter_modules``
    would import ``inspect`` (~10 ms of every scan's start-up) to do the same."""
    names = {
        entry[: -len(".py")]
        for folder in __path__
        for entry in os.listdir(folder)
        if entry.startswith("kds") and entry.endswith(".py")
    }
    return sorted(names)
