"""The rule registry: every ``kdsNNN_*.py`` module in this package is a rule."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from kds_iac.rules.base import Examples, Finding, Rule, RuleModule, Severity

__all__ = ["Examples", "Finding", "Rule", "RuleModule", "Severity", "all_rules"]


@lru_cache(maxsize=1)
def all_rules() -> tuple[RuleModule, ...]:
    loaded = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("kds"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
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
