"""The cfn-lint rule pack through the real ``cfn-lint`` executable.

Parity: on every CloudFormation example, cfn-lint with ``--append-rules`` reports exactly
the findings ``kds-iac scan FILE`` reports (rule, file, line, resource), under the mapped
ids. Both ways of loading the pack (dotted module, folder) must find our rules and nothing
else: cfn-lint instantiates any class whose ancestry includes its rule class.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from kds_iac.model import CLOUDFORMATION
from kds_iac.rules import all_rules
from kds_iac.rules.base import Rule, Severity
from tests.conftest import EXAMPLES, REPO, declare_organization_trail, tool

PACK_DIR = REPO / "kds_iac" / "frontends" / "cfnlint_rules"
PACK_MODULE = "kds_iac.frontends.cfnlint_rules"
# the templates, with those of the CloudTrail examples' folders (a file linted alone is
# audited by the trails of its folder, as with `kds-iac scan FILE`)
CFN_EXAMPLES = sorted(
    p for p in (EXAMPLES / "cloudformation").rglob("*") if p.is_file() and not p.name.startswith(".")
)
OUR_ID = re.compile(r"^[EWI]9\d{3}$")


def expected_ids() -> set[str]:
    from kds_iac.frontends.cfnlint_rules._pack import INPUT_ERROR_ID, cfnlint_id

    return {INPUT_ERROR_ID} | {cfnlint_id(m.rule) for m in all_rules() if CLOUDFORMATION in m.rule.formats}


@dataclass(frozen=True)
class Hit:
    rule: str  # cfn-lint id
    file: str  # real path
    line: int
    resource: str


def run_cfnlint(args: list[str], cwd: Path) -> list[dict]:
    done = subprocess.run([tool("cfn-lint"), "--format", "json", *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode in range(0, 32), done.stderr  # a bit field of error/warning/info levels
    assert "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout or "[]")


def ours(matches: list[dict], cwd: Path) -> set[Hit]:
    hits = set()
    for match in matches:
        rule = match["Rule"]["Id"]
        if not OUR_ID.match(rule):
            continue
        message = match["Message"]
        resource = message[message.rfind("[") + 1 : -1] if message.endswith("]") else ""
        file = os.path.realpath(os.path.join(cwd, match["Filename"]))
        hits.add(Hit(rule, file, match["Location"]["Start"]["LineNumber"], resource))
    return hits


# --------------------------------------------------------------------------- ids


def test_ids_follow_the_rule_number_and_severity():
    from kds_iac.frontends.cfnlint_rules._pack import cfnlint_id

    def rule(rule_id: str, severity: Severity) -> Rule:
        return Rule(rule_id, "CKV_KDS_X", severity, "t", ("AWS::Kinesis::Stream",), "ENCRYPTION")

    assert cfnlint_id(rule("KDS001", Severity.CRITICAL)) == "E9001"
    assert cfnlint_id(rule("KDS001", Severity.HIGH)) == "E9001"
    assert cfnlint_id(rule("KDS042", Severity.MEDIUM)) == "W9042"
    assert cfnlint_id(rule("KDS042", Severity.LOW)) == "W9042"
    assert cfnlint_id(rule("KDS999", Severity.INFO)) == "I9999"
    for bad in ("KDS000", "KDS1000", "CKV_KDS_1", "KDS01"):
        with pytest.raises(ValueError):
            cfnlint_id(rule(bad, Severity.HIGH))
    mapped = [cfnlint_id(m.rule) for m in all_rules() if CLOUDFORMATION in m.rule.formats]
    assert len(mapped) == len(set(mapped)) and all(OUR_ID.match(i) for i in mapped)
    assert len({i[1:] for i in mapped}) == len(mapped)  # distinct numbers: never a clash across levels


@pytest.mark.parametrize("source", [str(PACK_DIR), PACK_MODULE])
def test_pack_gives_cfnlint_our_rules_and_nothing_else(source):
    from cfnlint.rules import Rules

    rules = Rules.create_from_directory(source) if os.path.isdir(source) else Rules.create_from_module(source)
    assert set(rules) == expected_ids()
    by_id = {m.rule.id: m.rule for m in all_rules()}
    for rule in rules.values():
        if rule.id != "E9000":
            kds = next(t for t in rule.tags if t.startswith("KDS"))
            assert rule.shortdesc == by_id[kds].title and rule.source_url == by_id[kds].help_uri


def test_cfnlint_dir_command_prints_the_pack_folder():
    done = subprocess.run([tool("kds-iac"), "cfnlint-dir"], capture_output=True, text=True, cwd="/")
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == PACK_DIR


# --------------------------------------------------------------------------- parity


@pytest.fixture(scope="module")
def examples_run() -> list[dict]:
    return run_cfnlint(["--append-rules", PACK_MODULE, "--", *[str(p.relative_to(REPO)) for p in CFN_EXAMPLES]], REPO)


def cli_hits(path: Path) -> set[Hit]:
    from kds_iac.frontends.cfnlint_rules._pack import cfnlint_id

    rules = {m.rule.id: m.rule for m in all_rules()}
    done = subprocess.run([tool("kds-iac"), "scan", "-q", "--format", "json", str(path)], capture_output=True, text=True, cwd=REPO)
    assert done.returncode in (0, 1), done.stderr
    return {
        Hit(cfnlint_id(rules[f["rule_id"]]), os.path.realpath(os.path.join(REPO, f["file"])), f["line"], f["resource"])
        for f in json.loads(done.stdout)["findings"]
        if not f["suppressed"]
    }


def test_cfnlint_reports_exactly_what_the_cli_reports(examples_run):
    from_cfnlint = ours(examples_run, REPO)
    from_cli: set[Hit] = set()
    for path in CFN_EXAMPLES:
        from_cli |= cli_hits(path)
    assert from_cli, "the examples have findings"
    assert NESTED_THROUGH_PARENT <= from_cli
    assert from_cfnlint == from_cli - NESTED_THROUGH_PARENT
    assert {h.rule for h in from_cfnlint} >= {"E9001", "W9002", "W9003"}


# `kds-iac scan parent.yaml` reports what the parent's nested stacks hold (their templates are
# part of what it deploys), under the nested addresses; cfn-lint reports only matches in the
# file it lints, and lints each child on its own, where its parameters have their defaults.
NESTED_THROUGH_PARENT = {
    Hit("E9001", str(EXAMPLES / "cloudformation" / "nested-stacks" / "stacks" / "events.yaml"), 20, "Events/DeadLetters"),
}


def test_each_match_carries_the_rule_and_the_resource_path(examples_run):
    for match in examples_run:
        if not OUR_ID.match(match["Rule"]["Id"]):
            continue
        assert match["Level"] == {"E": "Error", "W": "Warning", "I": "Informational"}[match["Rule"]["Id"][0]]
        assert re.match(r"^KDS\d{3} ", match["Message"])
        assert match["Location"]["Path"][:1] == ["Resources"]
        start, end = match["Location"]["Start"], match["Location"]["End"]
        assert start["LineNumber"] == end["LineNumber"] and end["ColumnNumber"] > start["ColumnNumber"]


# --------------------------------------------------------------------------- .cfnlintrc, as the editor extension runs it

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Plain:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
  Accepted:
    Type: AWS::Kinesis::Stream
    Metadata:
      cfn-lint:
        config:
          ignore_checks: [E9001]
    Properties:
      ShardCount: 1
"""


def test_cfnlintrc_append_rules_folder_and_ignore_checks(tmp_path):
    (tmp_path / "stack.yaml").write_text(TEMPLATE)
    (tmp_path / ".cfnlintrc").write_text(f"append_rules:\n  - {PACK_DIR}\n")
    declare_organization_trail(tmp_path)
    hits = ours(run_cfnlint(["stack.yaml"], tmp_path), tmp_path)
    assert hits == {Hit("E9001", str((tmp_path / "stack.yaml").resolve()), 3, "Plain")}


def test_rules_command_lists_the_same_cfnlint_ids():
    done = subprocess.run([tool("kds-iac"), "rules", "--format", "json"], capture_output=True, text=True)
    listed = {r["cfnlint_id"] for r in json.loads(done.stdout) if r["cfnlint_id"]}
    assert listed | {"E9000"} == expected_ids()
