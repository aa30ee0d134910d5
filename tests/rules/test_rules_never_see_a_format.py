"""Rules never see a format: the source of every rule module is scanned for raw template data.

A rule reads views. It may name the resource types it reports on only through view constants
(``STREAM_TYPES``), and the formats its examples cover only in ``RULE``'s ``formats``; its
docstring and ``EXAMPLES`` show templates and addresses, which is what they are for. Anything
else that spells a format, a resource type or an attribute looked up by name is refused.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import kds_iac.rules

RULES_DIR = Path(kds_iac.rules.__file__).parent
RULE_MODULES = sorted(p for p in RULES_DIR.glob("*.py") if p.name.startswith(("kds", "_")) and p.name != "__init__.py")

FORMAT_NAMES = {"terraform", "terraform-plan", "cloudformation", "serverless"}
RESOURCE_TYPE = re.compile(r"^(?:data\.)?aws_[a-z0-9_]+$|^AWS::|^provider\.aws")
FORMAT_WORD = re.compile(r"terraform|cloudformation|serverless", re.I)
RAW_DATA = {"source_format", "attributes", "attribute_lines"}  # a Resource's template data
LOOKUPS = {"get", "line_of", "of_type", "setdefault", "pop"}  # calls that look a key up by name
KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")  # what an attribute name looks like (not "*" or "kinesis:Get*")


def violations(source: str) -> list[str]:
    """What in a rule module's source reads a format, a type or an attribute by name."""
    tree = ast.parse(source)
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the module docstring: documentation, with snippets of both formats
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "EXAMPLES" for t in node.targets):
            continue  # example paths and the addresses they report
        allowed = _rule_formats(node)
        for sub in ast.walk(node):
            if id(sub) in allowed:
                continue
            where = f"line {getattr(sub, 'lineno', '?')}"
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                if sub.value in FORMAT_NAMES:
                    found.append(f"{where}: format name {sub.value!r}")
                elif RESOURCE_TYPE.search(sub.value):
                    found.append(f"{where}: resource type {sub.value!r} (use a view constant)")
            elif isinstance(sub, ast.Attribute) and sub.attr in RAW_DATA:
                found.append(f"{where}: reads .{sub.attr} (ask a view)")
            elif isinstance(sub, (ast.Name, ast.Attribute, ast.arg, ast.alias)):
                name = sub.id if isinstance(sub, ast.Name) else sub.attr if isinstance(sub, ast.Attribute) else (
                    sub.arg if isinstance(sub, ast.arg) else (sub.asname or sub.name)
                )
                if FORMAT_WORD.search(name):
                    found.append(f"{where}: format in a name {name!r}")
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr in LOOKUPS:
                for arg in sub.args[:1]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and KEY.match(arg.value):
                        found.append(f"line {sub.lineno}: looks up {arg.value!r} by name (ask a view)")
            if isinstance(sub, ast.Subscript) and _key(sub.slice):
                found.append(f"line {sub.lineno}: looks up [{sub.slice.value!r}] by name (ask a view)")
            if isinstance(sub, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in sub.ops):
                if _key(sub.left):
                    found.append(f"line {sub.lineno}: tests for {sub.left.value!r} by name (ask a view)")
    return found


def _key(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(KEY.match(node.value))


def _rule_formats(node: ast.stmt) -> set[int]:
    """The nodes of ``RULE = Rule(..., formats=(...))``'s formats: which examples the rule has."""
    if not (isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "RULE" for t in node.targets)):
        return set()
    if not isinstance(node.value, ast.Call):
        return set()
    return {id(sub) for kw in node.value.keywords if kw.arg == "formats" for sub in ast.walk(kw)}


@pytest.mark.parametrize("path", RULE_MODULES, ids=lambda p: p.name)
def test_rule_module_reads_no_format_type_or_attribute_name(path):
    assert violations(path.read_text()) == []


def test_every_rule_module_is_scanned():
    ids = {m.rule.id for m in kds_iac.rules.all_rules()}
    scanned = {f"KDS{p.name[3:6]}" for p in RULE_MODULES if p.name.startswith("kds")}
    assert scanned == ids


@pytest.mark.parametrize(
    "snippet,expected",
    [
        ('x = resource.source_format == "cloudformation"', ["reads .source_format", "format name 'cloudformation'"]),
        ('line = key.resource.line_of("user")', ["looks up 'user' by name"]),
        ('value = stored.resource.get("source")', ["looks up 'source' by name"]),
        ('name = resource.attributes["RoleName"]', ["looks up ['RoleName'] by name", "reads .attributes"]),
        ('ok = "UserName" in attrs', ["tests for 'UserName' by name"]),
        ('TYPES = ("aws_iam_role", "AWS::IAM::Role")', ["resource type 'aws_iam_role'", "resource type 'AWS::IAM::Role'"]),
        ("from kds_iac.views.settings import is_terraform", ["format in a name 'is_terraform'"]),
        ('RULE = Rule(id="KDS999", resource_types=("provider.aws",), formats=("terraform",))', ["resource type 'provider.aws'"]),
    ],
)
def test_the_scan_refuses_raw_template_data(snippet, expected):
    found = violations(snippet)
    assert [f.split(": ", 1)[1].split(" (")[0] for f in found] == expected


def test_the_scan_lets_views_docs_and_examples_be():
    source = '''"""Doc with `aws_kinesis_stream` and `AWS::Kinesis::Stream`."""
from kds_iac.views.kinesis import STREAM_TYPES
RULE = Rule(id="KDS999", resource_types=STREAM_TYPES, formats=("terraform", "cloudformation"))
EXAMPLES = {"terraform": Examples(bad={"x": {"aws_kinesis_stream.a": 3}}, good=())}
line = key.resource.line_of(key.rotation_setting)
wild = "*" in pattern or "?" not in pattern
'''
    assert violations(source) == []
