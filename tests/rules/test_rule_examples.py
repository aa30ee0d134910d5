"""Every rule over every example: exactly the declared (rule id, resource address, line) set."""

from __future__ import annotations

import os
from functools import lru_cache

import pytest

from kds_iac.config import resolve_config
from kds_iac.engine import run_rules
from kds_iac.loaders import load
from kds_iac.model import Model
from kds_iac.rules import all_rules
from kds_iac.rules.base import DOC_SECTIONS
from tests.conftest import EXAMPLES

FORMATS = ("terraform", "cloudformation", "serverless")


def example_units(fmt: str) -> list[str]:
    return sorted(os.listdir(EXAMPLES / fmt))


@lru_cache(maxsize=None)
def model_of(fmt: str, unit: str) -> Model:
    cwd = os.getcwd()
    os.chdir(EXAMPLES.parent)  # addresses and paths as a user running from the repo root sees them
    try:
        path = os.path.join("examples", fmt, unit)
        model = load([path])
        model.audit = resolve_config(None, [path]).audit  # the settings `kds-iac scan PATH` finds
        return model
    finally:
        os.chdir(cwd)


CASES = [
    pytest.param(module, fmt, unit, id=f"{module.rule.id}-{fmt}-{unit}")
    for module in all_rules()
    for fmt in FORMATS
    for unit in example_units(fmt)
]


@pytest.mark.parametrize("module,fmt,unit", CASES)
def test_rule_reports_exactly_the_declared_resources(module, fmt, unit):
    model = model_of(fmt, unit)
    assert [d for d in model.diagnostics if d.level == "error"] == []
    reported = {
        (f.rule.id, f.address, f.primary_line) for f in run_rules(model, [module]) if f.suppressed_reason is None
    }
    examples = module.examples.get(fmt)
    declared = examples.bad.get(unit, {}) if examples else {}
    assert reported == {(module.rule.id, address, line) for address, line in declared.items()}


@pytest.mark.parametrize("module", all_rules(), ids=lambda m: m.rule.id)
def test_rule_has_docs_and_examples_for_each_format(module):
    for section in DOC_SECTIONS:
        assert f"## {section}" in module.doc, f"{module.rule.id} lacks the section '{section}'"
    assert set(module.examples) == set(module.rule.formats)
    for fmt, examples in module.examples.items():
        assert examples.bad and examples.good, f"{module.rule.id} needs good and bad {fmt} examples"
        for unit in list(examples.bad) + list(examples.good):
            assert (EXAMPLES / fmt / unit).exists(), f"{module.rule.id}: missing example {fmt}/{unit}"
        for unit, pinned in examples.bad.items():
            assert pinned, f"{module.rule.id}: bad example {fmt}/{unit} declares no finding"
            assert_pinned(module.rule.id, f"{fmt}/{unit}", pinned)


def assert_pinned(rule_id: str, where: str, pinned: object) -> None:
    """Each expected finding names its line: a bare set of addresses (the old form) or an
    address without a positive line is refused, so no example can stop pinning lines."""
    assert isinstance(pinned, dict), f"{rule_id}: bad example {where} must map each address to its line, not {type(pinned).__name__}"
    for address, line in pinned.items():
        assert isinstance(address, str), f"{rule_id}: {where}: address {address!r} is not text"
        assert type(line) is int and line >= 1, f"{rule_id}: {where}: {address} is not pinned to a line ({line!r})"


@pytest.mark.parametrize(
    "pinned",
    [frozenset({"aws_kinesis_stream.plain"}), {"aws_kinesis_stream.plain": None}, {"aws_kinesis_stream.plain": 0}, {"aws_kinesis_stream.plain": True}],
    ids=["bare-set", "no-line", "line-zero", "bool"],
)
def test_an_unpinned_example_is_refused(pinned):
    with pytest.raises(AssertionError, match="pinned to a line|map each address to its line"):
        assert_pinned("KDS000", "terraform/example", pinned)


def test_ids_are_unique_and_well_formed():
    rules = [m.rule for m in all_rules()]
    assert len({r.id for r in rules}) == len(rules)
    assert len({r.checkov_id for r in rules}) == len(rules)
    for rule in rules:
        number = int(rule.id.removeprefix("KDS"))
        assert rule.id == f"KDS{number:03d}"
        assert rule.checkov_id == f"CKV_KDS_{number}"


def test_checkov_skip_comments_suppress_in_the_cli_engine_too():
    suppressed = set()
    for fmt, unit in (("terraform", "unencrypted-streams"), ("cloudformation", "unencrypted-streams.yaml")):
        for finding in run_rules(model_of(fmt, unit), list(all_rules())):
            if finding.suppressed_reason is not None:
                suppressed.add((finding.rule.id, finding.address, finding.suppressed_reason))
    assert suppressed == {
        ("KDS001", "aws_kinesis_stream.suppressed", "Holds only synthetic load-test data"),
        ("KDS001", "Suppressed", "Holds only synthetic load-test data"),
    }


def _messages(fmt: str, unit: str) -> dict[tuple[str, str], str]:
    return {(f.rule.id, f.address): f.message for f in run_rules(model_of(fmt, unit), list(all_rules()))}


def test_messages_name_the_input_and_its_default():
    tf = _messages("terraform", "unencrypted-streams")
    assert 'var.encryption_type (default: "NONE")' in tf[("KDS001", "aws_kinesis_stream.from_variable")]
    assert "var.kms_key_id (default: null)" in tf[("KDS001", "aws_kinesis_stream.optional_key")]
    assert "is not set" in tf[("KDS001", "aws_kinesis_stream.plain")]
    cfn = _messages("cloudformation", "unencrypted-streams.yaml")
    optional = cfn[("KDS001", "OptionalKey")]
    assert "condition HasKmsKey (with defaults: false)" in optional
    assert 'KmsKeyArn (default: "")' in optional
    managed = _messages("terraform", "aws-managed-key")[("KDS002", "aws_kinesis_stream.variable_default")]
    assert 'var.kms_key_id (default: "alias/aws/kinesis")' in managed


def test_key_findings_name_the_streams_that_use_the_key():
    tf = _messages("terraform", "weak-customer-key")
    assert "aws_kinesis_stream.rotation_off" in tf[("KDS003", "aws_kms_key.no_rotation")]
    assert "rotation is disabled" in tf[("KDS003", "aws_kms_key.no_rotation")]
    public = tf[("KDS003", "aws_kms_key.public_policy")]
    assert "aws_kinesis_stream.public_key" in public and "any principal decrypt" in public
