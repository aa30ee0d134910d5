"""Generated rule docs and the README's rule table must match the rule modules."""

import pytest

from kds_iac.docsgen import fix_section_problems, rule_page, stale_files
from kds_iac.rules import all_rules
from kds_iac.rules.base import Examples, Rule, RuleModule, Severity
from tests.conftest import EXAMPLES, REPO


def test_generated_docs_are_current():
    assert stale_files(REPO) == [], "run: python -m kds_iac.docsgen"


@pytest.mark.parametrize("module", all_rules(), ids=lambda m: m.rule.id)
def test_a_rule_documents_its_fix_exactly_when_it_declares_one(module):
    assert fix_section_problems(module) == []


def _module(doc: str, fixes: tuple) -> RuleModule:
    rule = Rule("KDS999", "CKV_KDS_999", Severity.LOW, "t", ("x",), "ENCRYPTION", fixes=fixes)
    return RuleModule(rule, doc, {"terraform": Examples(bad={}, good=())}, lambda model: iter(()), "m")


def test_a_fix_without_its_section_and_a_section_without_a_fix_are_refused():
    assert fix_section_problems(_module("Title.\n\n## What it does\nx\n", ("safe",))) == [
        "KDS999 declares fixes (safe) but its docstring has no '## Fix' section"
    ]
    assert fix_section_problems(_module("Title.\n\n## Fix\nSets x.\n", ())) == [
        "KDS999 has a '## Fix' section but declares no fixes (Rule(..., fixes=...))"
    ]
    assert fix_section_problems(_module("Title.\n\n## Fixes elsewhere\n", ())) == []


def test_the_page_of_a_rule_with_fixes_names_their_kinds_and_holds_the_section():
    page = rule_page(_module("Title.\n\n## Fix\nSets x to y.\n", ("safe", "unsafe")), EXAMPLES)
    assert "| Fixes | safe, unsafe (see [Fix](#fix)) |" in page
    assert "## Fix\nSets x to y." in page
    assert "| Fixes |" not in rule_page(_module("Title.\n", ()), EXAMPLES)
