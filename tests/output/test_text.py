"""Text output: exact lines on a fixed result; header and summary are separate strings."""

from __future__ import annotations

import re

import pytest

from kds_iac.output.common import ReportContext
from kds_iac.output.text import PROBLEM_PATTERN, chunks, header, render, summary
from kds_iac.reporting import one_line
from kds_iac.rules.base import Severity
from tests.output import fakes


def context(**overrides) -> ReportContext:
    values = dict(tool_version="1.2.3", fail_on=Severity.INFO, cwd="/nowhere")
    values.update(overrides)
    return ReportContext(**values)


def test_exact_lines():
    assert render(fakes.full_result(), context()).splitlines() == [
        "stacks/broken.yaml:7:3: ERROR parse mapping values are not allowed here",
        'infra/main.tf:3:1: NOTE input module "remote" not loaded: registry modules are not fetched',
        "infra/main.tf:12:1: HIGH KDS901 stream stores records unencrypted [aws_kinesis_stream.events]",
        "stacks/app.yaml:4:3: MEDIUM KDS902 retention is 24 hours [Stream]",
    ]


def test_pieces_join_into_the_report():
    """The command writes ``chunks``: the diagnostics, then findings ``lines`` at a time."""
    result = fakes.full_result()
    for coloured in (False, True):
        lines = render(result, context(color=coloured)).splitlines(keepends=True)
        assert list(chunks(result, context(color=coloured), lines=1)) == ["".join(lines[:2]), lines[2], lines[3]]
        assert list(chunks(result, context(color=coloured))) == ["".join(lines[:2]), "".join(lines[2:])]
    assert list(chunks(fakes.result(), context())) == []


def test_suppressed_findings_are_not_printed_but_counted():
    result = fakes.full_result()
    assert "LegacyStream" not in render(result, context())
    assert "1 suppressed" in summary(result, context())


def test_every_line_matches_the_documented_problem_matcher():
    for line in render(fakes.full_result(), context()).splitlines():
        assert re.match(PROBLEM_PATTERN, line), line


def test_empty_result_prints_nothing():
    assert render(fakes.result(), context()) == ""


def test_line_zero_diagnostic_points_at_line_one():
    from kds_iac.model import Diagnostic

    result = fakes.result(diagnostics=[Diagnostic("error", "missing/dir", 0, "no such file or directory")])
    assert render(result, context()) == "missing/dir:1:1: ERROR parse no such file or directory\n"


def test_multiline_message_stays_on_one_line():
    from kds_iac.rules.base import Finding

    finding = Finding(fakes.RETENTION, fakes.cfn_stream(), "first line\n  second line")
    assert render(fakes.result(findings=[finding]), context()).splitlines() == [
        "stacks/app.yaml:4:3: MEDIUM KDS902 first line second line [Stream]"
    ]


@pytest.mark.parametrize(
    "message",
    ["one line", "", " lead", "trail ", "two  spaces", "tab\there", "line\nbreak", "no\u00a0break", "sep\u2028x",
     "next\x85line", "ideographic\u3000space", "caf\u00e9 \u2713"],
)
def test_a_message_is_one_line_with_single_spaces(message):
    """Whitespace runs (any whitespace ``str.split`` knows) become one space, as the text's own split and join."""
    assert one_line(message) == " ".join(message.split())


def test_colour_only_when_asked():
    plain = render(fakes.full_result(), context(color=False))
    coloured = render(fakes.full_result(), context(color=True))
    assert "\x1b[" not in plain
    assert "\x1b[31mHIGH\x1b[0m" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_header_names_scope_and_config():
    assert header(["infra", "stacks/app.yaml"], context()) == "kds-iac 1.2.3: scanning infra, stacks/app.yaml"
    assert (
        header(["."], context(config_source="pyproject.toml"))
        == "kds-iac 1.2.3: scanning . (config: pyproject.toml)"
    )


def test_summary_lines():
    full = fakes.full_result()
    assert summary(full, context()) == (
        "kds-iac: 2 findings (1 high, 1 medium) in 4 files; 1 suppressed; 1 input could not be read; 1 note"
    )
    assert summary(fakes.result(), context()) == "kds-iac: no findings in 4 files"
    below = fakes.result(findings=[fakes.finding_medium()])
    assert summary(below, context(fail_on=Severity.HIGH)) == (
        "kds-iac: 1 finding (1 medium) in 4 files; none at or above fail-on high"
    )
    assert summary(below, context(soft_fail=True)) == (
        "kds-iac: 1 finding (1 medium) in 4 files; soft-fail: findings do not fail the run"
    )
