"""A rule or view that raises costs its own findings, never the scan's.

Fake rules are handed to ``run_rules`` directly, or put beside the real ones where the
engine looks them up (``engine.all_rules``), so the guard is tested on real models and
through the real CLI entry point.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Iterator

import pytest

from kds_iac import cli, engine
from kds_iac.loaders import load
from kds_iac.model import Diagnostic, Model, Resource
from kds_iac.rules import all_rules
from kds_iac.rules.base import Finding, Rule, RuleModule, Severity
from tests.conftest import declare_organization_trail

TEMPLATE = """Resources:
  First:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
  Second:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
"""


def _rule(rule_id: str, check) -> RuleModule:
    rule = Rule(rule_id, "CKV_TEST_" + rule_id[-1], Severity.LOW, f"test rule {rule_id}", ("AWS::Kinesis::Stream",), "GENERAL")
    return RuleModule(rule=rule, doc="", examples={}, check=check, module_name=f"tests.fake_{rule_id.lower()}")


def _judge(stream: Resource) -> bool:
    """A view-like helper that fails on one resource, as a bug in a shared view would."""
    if stream.address == "Second":
        raise KeyError("StreamModeDetails")
    return True


def _failing_on_second(model: Model) -> Iterator[Finding]:
    for stream in model.of_type("AWS::Kinesis::Stream"):
        if _judge(stream):
            yield Finding(FAILING.rule, stream, "judged")


def _every_stream(model: Model) -> Iterator[Finding]:
    for stream in model.of_type("AWS::Kinesis::Stream"):
        yield Finding(HEALTHY.rule, stream, "fine")


def _failing_before_any_resource(model: Model) -> Iterator[Finding]:
    raise RuntimeError("the view could not be built\nsecond line of the message")
    yield  # pragma: no cover - makes this a generator like every rule's check


FAILING = _rule("KDS901", _failing_on_second)
HEALTHY = _rule("KDS902", _every_stream)
NO_RESOURCE = _rule("KDS903", _failing_before_any_resource)


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "streams.yaml"
    path.write_text(TEMPLATE)
    return path


def test_a_rule_that_raises_becomes_an_error_at_the_resource_it_was_judging(template, caplog):
    model = load([str(template)])
    caplog.set_level(logging.DEBUG, logger="kds_iac.engine")
    found = engine.run_rules(model, [FAILING, HEALTHY])
    # The other rule's findings, and what the failing rule found before it failed, are kept.
    assert {(f.rule.id, f.address) for f in found} == {("KDS901", "First"), ("KDS902", "First"), ("KDS902", "Second")}
    assert model.diagnostics == [
        Diagnostic(
            "error",
            str(template),
            6,
            "internal error in rule KDS901 while judging Second (KeyError: 'StreamModeDetails'); "
            "findings of this rule may be missing",
            3,
        )
    ]
    (record,) = [r for r in caplog.records if r.name == "kds_iac.engine"]
    assert record.levelno == logging.DEBUG and record.exc_info[0] is KeyError


def test_a_rule_that_raises_before_judging_a_resource_names_the_scope(template):
    model = load([str(template)])
    found = engine.run_rules(model, [NO_RESOURCE, HEALTHY])
    assert {(f.rule.id, f.address) for f in found} == {("KDS902", "First"), ("KDS902", "Second")}
    assert model.diagnostics == [
        Diagnostic(
            "error",
            str(template),
            0,
            f"internal error in rule KDS903 on {template} (RuntimeError: the view could not be built); "
            "findings of this rule may be missing",
        )
    ]


def test_the_cli_reports_a_failing_rule_and_every_other_finding(tmp_path, template, monkeypatch, capsys):
    declare_organization_trail(tmp_path)
    monkeypatch.setattr(engine, "all_rules", lambda: (*all_rules(), FAILING))
    monkeypatch.chdir(tmp_path)
    code = cli.main(["scan", "streams.yaml", "--format", "json", "--no-progress"])
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert code == 2
    assert [(d["file"], d["line"], d["level"]) for d in report["diagnostics"]] == [("streams.yaml", 6, "error")]
    assert "rule KDS901 while judging Second" in report["diagnostics"][0]["message"]
    assert {(f["rule_id"], f["resource"]) for f in report["findings"]} == {
        ("KDS001", "First"),
        ("KDS001", "Second"),
        ("KDS901", "First"),
    }
    assert "Traceback" not in err


def test_an_unexpected_exception_in_the_cli_is_one_line_and_exit_2(tmp_path, template, monkeypatch, capsys):
    def broken(paths, **kwargs):
        raise TypeError("unhashable type: 'list'")

    monkeypatch.setattr(engine, "scan", broken)
    monkeypatch.delenv("KDS_IAC_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    code = cli.main(["scan", "streams.yaml", "--quiet", "--no-progress"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    (line,) = err.splitlines()
    assert line.startswith("kds-iac: error: internal error: TypeError: unhashable type: 'list' (kds-iac ")
    assert line.endswith("; please report it; set KDS_IAC_DEBUG=1 for the traceback)")


def test_kds_iac_debug_prints_the_traceback(tmp_path, template, monkeypatch, capsys):
    def broken(paths, **kwargs):
        raise TypeError("boom")

    monkeypatch.setattr(engine, "scan", broken)
    monkeypatch.setenv("KDS_IAC_DEBUG", "1")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["scan", "streams.yaml", "--quiet", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert err.splitlines()[-1].startswith("kds-iac: error: internal error: TypeError: boom (kds-iac ")


def test_a_loader_that_raises_costs_only_its_file(tmp_path, monkeypatch):
    from kds_iac.loaders import cloudformation

    (tmp_path / "good.yaml").write_text(TEMPLATE)
    (tmp_path / "bad.yaml").write_text(TEMPLATE.replace("First", "Third"))
    real = cloudformation.load_template

    def load_template(path: str, **kwargs) -> Model:
        if path.endswith("bad.yaml"):
            raise AttributeError("'int' object has no attribute 'get'")
        return real(path, **kwargs)

    monkeypatch.setattr(cloudformation, "load_template", load_template)
    model = load([str(tmp_path)])
    assert {r.address for r in model.resources} == {"First", "Second"}
    assert model.diagnostics == [
        Diagnostic(
            "error",
            str(tmp_path / "bad.yaml"),
            0,
            "internal error while loading (AttributeError: 'int' object has no attribute 'get'); not checked",
        )
    ]
