"""The cfn-lint rule pack's machinery: one cfn-lint rule class per kds-iac rule.

cfn-lint instantiates every class it finds in the module it loads whose ancestry includes
``CloudFormationLintRule``, imported base classes too. So the base class and the factory
live here, in a module whose name starts with ``_`` (cfn-lint's directory loader only
imports ``[A-Za-z1-9]*.py``), and the loaded modules hold nothing but the generated classes.

**Ids** (``kds_iac.reporting.cfnlint_id``): ``KDS<nnn>`` becomes ``E9<nnn>`` for critical
and high rules, ``W9<nnn>`` for medium and low, ``I9<nnn>`` for info; ``E9000`` means kds-iac
could not read the template.

**Matching.** A rule runs the kds-iac engine (``kds_iac.engine.scan``) on the file cfn-lint
is linting, once per file for all rules (cached by path, modification time and size), and
turns each of its findings into a match at the finding's line, first to last non-blank
character, with the path ``Resources/<logical id>`` (the SAM resource for resources SAM
generated), so cfn-lint's ``Metadata: cfn-lint: config: ignore_checks`` works per resource.
The scope of cross-resource rules is that one template, as with ``kds-iac scan FILE``.
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
from collections import OrderedDict
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from kds_iac.model import CLOUDFORMATION
from kds_iac.reporting import INPUT_ERROR_ID, cfnlint_id, full_description, problems_of

LOG = logging.getLogger("kds_iac.cfnlint")


# --------------------------------------------------------------------------- one engine run per file

_CACHE: "OrderedDict[tuple, Any]" = OrderedDict()
_LOCK = threading.Lock()
_CACHE_SIZE = 8
RUNS: list[str] = []  # files the engine ran on in this process (tests read it)


def problems_for(filename: str) -> dict[str, list]:
    """The engine's problems (``kds_iac.reporting.Problem``) for ``filename``, by absolute file."""
    real = os.path.realpath(filename)
    try:
        st = os.stat(real)
        key = (real, st.st_mtime_ns, st.st_size)
    except OSError:
        key = (real, None, None)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
        from kds_iac import engine
        from kds_iac.config import discovered_config

        config, _, error = discovered_config([real], os.path.dirname(real))
        if error is not None:
            LOG.warning("kds-iac: settings ignored: %s", error)
        RUNS.append(real)
        problems = problems_of(engine.scan([real], config=config))
        _CACHE[key] = problems
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return problems


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
        RUNS.clear()


# --------------------------------------------------------------------------- the rule classes


class _KdsRule(CloudFormationLintRule):
    """Reports one kds-iac rule's findings (``kds_rule_id``) on the linted template."""

    kds_rule_id: str = ""

    def match(self, cfn: Any) -> list:
        filename = getattr(cfn, "filename", None)
        if not filename or filename == "-" or not os.path.isfile(filename):
            return []  # stdin: nothing on disk for the engine to read
        matches = []
        real = os.path.realpath(filename)
        for file, problems in problems_for(filename).items():
            if os.path.realpath(file) != real:
                continue
            for problem in problems:
                if problem.code != self.kds_rule_id:
                    continue
                matches.append(_match(problem, self.kds_rule_id))
        return matches


def _match(problem: Any, rule_id: str) -> RuleMatch:
    resource = problem.resource or ""
    path: list = ["Resources", resource] if resource else []
    start, end = problem.characters("utf-32")  # cfn-lint counts columns in characters
    message = f"{rule_id} {problem.message}" if rule_id != INPUT_ERROR_ID else problem.message
    return RuleMatch(path, message, location=(problem.line, start, problem.end_line, max(end, start)))


class _InputErrorRule(_KdsRule):
    """Problems reading the template (what the command line reports as ``ERROR parse``)."""

    def match(self, cfn: Any) -> list:
        filename = getattr(cfn, "filename", None)
        if not filename or filename == "-" or not os.path.isfile(filename):
            return []
        out = []
        real = os.path.realpath(filename)
        for file, problems in problems_for(filename).items():
            if os.path.realpath(file) != real:
                continue
            for problem in problems:
                if problem.code == "parse":
                    start, end = problem.characters("utf-32")
                    out.append(RuleMatch([], f"kds-iac could not read the template: {problem.message}",
                                         location=(problem.line, start, problem.end_line, max(end, start))))
        return out


def rule_classes() -> dict[str, type]:
    """``{class name: class}``: one cfn-lint rule per kds-iac rule that covers CloudFormation."""
    from kds_iac.rules import all_rules

    classes: dict[str, type] = {
        "KdsIacInputError": type(
            "KdsIacInputError",
            (_InputErrorRule,),
            {
                "id": INPUT_ERROR_ID,
                "shortdesc": "kds-iac could not read the template",
                "description": "The kds-iac engine could not read this template, so its Kinesis rules did not run on it.",
                "source_url": "https://github.com/kds-iac/kds-iac",
                "tags": ["kds-iac"],
                "kds_rule_id": "parse",
                "__module__": __name__,
            },
        )
    }
    for module in all_rules():
        rule = module.rule
        if CLOUDFORMATION not in rule.formats:
            continue
        doc = inspect.cleandoc(module.doc) if module.doc else ""
        name = f"KdsIac{rule.id.capitalize()}"
        classes[name] = type(
            name,
            (_KdsRule,),
            {
                "id": cfnlint_id(rule),
                "shortdesc": rule.title,
                "description": full_description(doc) or rule.title,
                "source_url": rule.help_uri,
                "tags": ["kds-iac", "kinesis", rule.category.lower(), rule.id],
                "kds_rule_id": rule.id,
                "__module__": __name__,
                "__doc__": f"{rule.id} ({rule.severity.name.lower()}): {rule.title}",
            },
        )
    ids = [cls.id for cls in classes.values()]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"kds-iac: duplicate cfn-lint ids {duplicates}")
    return classes


def id_table() -> list[tuple[str, str, str]]:
    """(kds id, cfn-lint id, severity) for every rule the pack reports, for docs and tests."""
    from kds_iac.rules import all_rules

    return [
        (m.rule.id, cfnlint_id(m.rule), m.rule.severity.name.lower())
        for m in all_rules()
        if CLOUDFORMATION in m.rule.formats
    ]
