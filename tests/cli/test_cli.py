"""The command line on hand-made results: exit codes, streams, options passed to the engine.

``engine.scan`` is replaced by a fake that records its arguments and returns a fixed
``ScanResult``, so these tests need no loader and no real rule.
"""

from __future__ import annotations

import io
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import kds_iac
from kds_iac import cli, engine
from kds_iac.output.progress import ProgressBar
from kds_iac.output.text import PROBLEM_PATTERN
from kds_iac.rules.base import Severity
from tests.output import fakes


class FakeScan:
    def __init__(self, result) -> None:
        self.result = result
        self.calls: list[dict] = []

    def __call__(self, paths, **kwargs):
        self.calls.append({"paths": list(paths), **kwargs})
        progress = kwargs.get("progress")
        if progress is not None:
            progress(0, 1, "infra")
            progress(1, 1, "")
        return self.result


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch) -> Path:
    """An empty git repository as the current directory: no settings file leaks in."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "infra").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


@pytest.fixture
def fake(monkeypatch, workdir):
    def install(result=None) -> FakeScan:
        scan = FakeScan(result if result is not None else fakes.full_result())
        monkeypatch.setattr(engine, "scan", scan)
        return scan

    return install


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- exit codes ---------------------------------------------------------------------


def test_clean_exits_0(fake, capsys):
    fake(fakes.result())
    code, out, err = run(capsys, "scan", "infra")
    assert (code, out) == (0, "")
    assert err.splitlines()[-1] == "kds-iac: no findings in 4 files"


def test_findings_exit_1(fake, capsys):
    fake(fakes.result(findings=[fakes.finding_high(), fakes.finding_medium()]))
    assert run(capsys, "scan", "infra")[0] == 1


def test_below_threshold_exits_0_and_at_threshold_1(fake, capsys):
    fake(fakes.result(findings=[fakes.finding_medium()]))
    assert run(capsys, "scan", "infra", "--fail-on", "high")[0] == 0
    assert run(capsys, "scan", "infra", "--fail-on", "MEDIUM")[0] == 1
    assert run(capsys, "scan", "infra", "--fail-on", "low")[0] == 1


def test_soft_fail_exits_0_with_findings(fake, capsys):
    fake(fakes.result(findings=[fakes.finding_high()]))
    code, out, err = run(capsys, "scan", "infra", "--soft-fail")
    assert code == 0
    assert "HIGH KDS901" in out
    assert "soft-fail" in err


def test_parse_error_exits_2_even_with_soft_fail(fake, capsys):
    fake(fakes.result(findings=[fakes.finding_high()], diagnostics=[fakes.PARSE_ERROR]))
    code, out, _err = run(capsys, "scan", "infra")
    assert code == 2
    assert "stacks/broken.yaml:7:3: ERROR parse mapping values are not allowed here" in out.splitlines()
    assert run(capsys, "scan", "infra", "--soft-fail")[0] == 2
    assert run(capsys, "scan", "infra", "--fail-on", "critical")[0] == 2


def test_notes_and_suppressed_findings_do_not_fail(fake, capsys):
    fake(fakes.result(suppressed=[fakes.finding_suppressed()], diagnostics=[fakes.NOTE]))
    code, out, err = run(capsys, "scan", "infra")
    assert code == 0
    assert "LegacyStream" not in out
    assert "1 suppressed" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "usage: kds-iac"),
        (["scan"], "the following arguments are required: PATH"),
        (["bogus"], "invalid choice: 'bogus'"),
        (["scan", "infra", "--format", "xml"], "invalid choice: 'xml'"),
        (["scan", "infra", "--fail-on", "severe"], "invalid choice: 'severe'"),
        (["scan", "infra", "--var", "novalue"], "expected NAME=VALUE, got 'novalue'"),
        (["scan", "infra", "--var", "=1"], "expected NAME=VALUE, got '=1'"),
        (["scan", "infra", "--var-file", "missing.tfvars"], "--var-file missing.tfvars: no such file"),
        (["scan", "infra", "--output", "no/such/dir/report.json"], "--output no/such/dir/report.json: directory"),
        (["scan", "infra", "--config", "missing.yaml"], "missing.yaml: no such settings file"),
        (["scan", "infra", "--unknown-flag"], "unrecognized arguments: --unknown-flag"),
    ],
)
def test_usage_errors_exit_2(fake, capsys, argv, message):
    scan = fake()
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert scan.calls == []


def test_unwritable_output_exits_2(fake, capsys, workdir):
    fake(fakes.result())
    code, out, err = run(capsys, "scan", "infra", "--output", "infra")  # a directory
    assert (code, out) == (2, "")
    assert "kds-iac: error: --output infra: cannot write" in err


def test_bad_settings_file_exits_2_naming_it(fake, capsys, workdir):
    scan = fake()
    (workdir / ".kds-iac.yaml").write_text("fail-on: severe\n")
    code, _out, err = run(capsys, "scan", "infra")
    assert code == 2
    assert f"kds-iac: error: {workdir / '.kds-iac.yaml'}: 'fail-on': unknown severity 'severe'" in err
    assert scan.calls == []


def test_internal_error_is_2_not_1(monkeypatch, workdir, capsys):
    def broken(paths, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "scan", broken)
    code, _out, err = run(capsys, "scan", "infra")
    assert code == 2
    assert "RuntimeError: boom" in err and "kds-iac: error: internal error" in err


# --- settings and options -----------------------------------------------------------


def test_settings_file_and_flags(fake, capsys, workdir):
    scan = fake(fakes.result(findings=[fakes.finding_medium()]))
    (workdir / "pyproject.toml").write_text('[tool.kds-iac]\nskip-rules = ["KDS002"]\nfail-on = "high"\n')
    code, _out, err = run(capsys, "scan", "infra", "--skip-rule", "kds001", "--skip-rule", "CKV_KDS_3")
    assert code == 0  # fail-on high from the file; the finding is medium
    assert scan.calls[0]["config"].skip_rules == {"KDS001", "KDS002", "CKV_KDS_3"}
    assert err.splitlines()[0].endswith(": scanning infra (config: pyproject.toml)")
    assert run(capsys, "scan", "infra", "--fail-on", "medium")[0] == 1  # the flag wins


def test_unknown_keys_and_rule_ids_warn(fake, capsys, workdir):
    fake(fakes.result())
    (workdir / ".kds-iac.yaml").write_text("skip-rules: [KDS999]\nfail_on: high\n")
    code, _out, err = run(capsys, "scan", "infra")
    assert code == 0
    assert "kds-iac: warning: " in err and "unknown key 'fail_on' (did you mean 'fail-on'?)" in err
    assert "kds-iac: warning: skipping unknown rule id: KDS999" in err


def test_explicit_config(fake, capsys, workdir, tmp_path_factory):
    scan = fake(fakes.result(findings=[fakes.finding_medium()]))
    (workdir / "ci.yaml").write_text("fail-on: critical\n")
    assert run(capsys, "scan", "infra", "--config", "ci.yaml")[0] == 0
    assert scan.calls[0]["config"].fail_on is Severity.CRITICAL
    outside = tmp_path_factory.mktemp("shared") / "org.yaml"
    outside.write_text("fail-on: low\n")
    _code, out, _err = run(capsys, "scan", "infra", "--config", str(outside), "-f", "json")
    assert json.loads(out)["config"] == str(outside)  # outside the working directory: as given


def test_variables_and_var_files_reach_the_engine(fake, capsys, workdir):
    scan = fake(fakes.result())
    (workdir / "prod.tfvars").write_text('kms_key_id = "alias/streams"\n')
    run(capsys, "scan", "infra", "other", "--var-file", "prod.tfvars", "--var", "a=1", "--var", "b=x=y", "--var", "a=2")
    call = scan.calls[0]
    assert call["paths"] == ["infra", "other"]
    assert call["var_files"] == ["prod.tfvars"]
    assert call["variables"] == {"a": "2", "b": "x=y"}
    run(capsys, "scan", "infra")
    assert scan.calls[1]["variables"] is None and scan.calls[1]["var_files"] == []


# --- streams and formats ------------------------------------------------------------


def test_text_stdout_holds_only_problem_lines(fake, capsys):
    fake()
    code, out, err = run(capsys, "scan", "infra", "stacks")
    assert code == 2
    assert out.splitlines() == [
        "stacks/broken.yaml:7:3: ERROR parse mapping values are not allowed here",
        'infra/main.tf:3:1: NOTE input module "remote" not loaded: registry modules are not fetched',
        "infra/main.tf:12:1: HIGH KDS901 stream stores records unencrypted [aws_kinesis_stream.events]",
        "stacks/app.yaml:4:3: MEDIUM KDS902 retention is 24 hours [Stream]",
    ]
    assert all(re.match(PROBLEM_PATTERN, line) for line in out.splitlines())
    header, audit, summary = err.splitlines()
    assert re.fullmatch(r"kds-iac \S+: scanning infra, stacks", header)
    assert audit == "kds-iac: CloudTrail for the streams of this scope: trails aws_cloudtrail.audit"
    assert summary == (
        "kds-iac: 2 findings (1 high, 1 medium) in 4 files; 1 suppressed; 1 input could not be read; 1 note"
    )


def test_quiet(fake, capsys):
    fake(fakes.result(findings=[fakes.finding_high()]))
    code, out, err = run(capsys, "scan", "infra", "-q")
    assert (code, err) == (1, "")
    assert out.startswith("infra/main.tf:12:1: HIGH KDS901")


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junitxml"])
def test_output_file(fake, capsys, workdir, fmt):
    fake()
    code, out, _err = run(capsys, "scan", "infra", "--format", fmt, "--output", "report.out")
    assert (code, out) == (2, "")
    text = (workdir / "report.out").read_text(encoding="utf-8")
    if fmt == "json":
        assert json.loads(text)["summary"]["exit_code"] == 2
    elif fmt == "sarif":
        assert json.loads(text)["runs"][0]["invocations"][0]["exitCode"] == 2
    elif fmt == "junitxml":
        assert ET.fromstring(text.encode()).get("failures") == "2"
    else:
        assert "\x1b[" not in text and len(text.splitlines()) == 4


def test_json_on_stdout_records_config_and_exit(fake, capsys, workdir):
    fake(fakes.result(findings=[fakes.finding_medium()]))
    (workdir / ".kds-iac.yaml").write_text("fail-on: high\n")
    code, out, _err = run(capsys, "scan", "infra", "-f", "json")
    document = json.loads(out)
    assert code == 0
    assert document["config"] == ".kds-iac.yaml"
    assert document["summary"]["fail_on"] == "high" and document["summary"]["exit_code"] == 0


def test_sarif_uris_are_relative_to_the_working_directory(fake, capsys, workdir):
    fake()
    _code, out, _err = run(capsys, "scan", "infra", "-f", "sarif")
    run_ = json.loads(out)["runs"][0]
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == workdir.resolve().as_uri() + "/"
    assert run_["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "infra/main.tf"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal(fake, capsys, monkeypatch):
    fake(fakes.result(findings=[fakes.finding_high()]))
    assert "\x1b[" not in run(capsys, "scan", "infra")[1]  # captured stdout is not a terminal
    assert "\x1b[31mHIGH\x1b[0m" in run(capsys, "scan", "infra", "--color", "always")[1]
    terminal = Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    cli.main(["scan", "infra"])
    assert "\x1b[31mHIGH" in terminal.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    terminal.truncate(0)
    terminal.seek(0)
    cli.main(["scan", "infra"])
    assert "\x1b[" not in terminal.getvalue() and "HIGH KDS901" in terminal.getvalue()


def test_progress_bar_only_on_a_terminal(fake, capsys, monkeypatch):
    scan = fake(fakes.result())
    run(capsys, "scan", "infra")
    assert scan.calls[-1]["progress"] is None  # stderr is captured, not a terminal
    monkeypatch.delenv("TERM", raising=False)
    monkeypatch.setattr("sys.stderr", Terminal())
    cli.main(["scan", "infra"])
    assert isinstance(scan.calls[-1]["progress"], ProgressBar)
    cli.main(["scan", "infra", "--no-progress"])
    assert scan.calls[-1]["progress"] is None


# --- rules, checkov-dir, help -------------------------------------------------------


def test_rules_table(monkeypatch, capsys):
    import kds_iac.rules

    monkeypatch.setattr(kds_iac.rules, "all_rules", lambda: tuple(fakes.MODULES))
    code, out, _err = run(capsys, "rules")
    assert code == 0
    assert out.splitlines() == [
        "KDS901  CKV_KDS_901  high    Stream is not encrypted",
        "KDS902  CKV_KDS_902  medium  Stream keeps records for 24 hours only",
        "KDS903  CKV_KDS_903  low     Stream uses the AWS managed key",
    ]
    code, out, _err = run(capsys, "rules", "--format", "json")
    assert [r["id"] for r in json.loads(out)] == ["KDS901", "KDS902", "KDS903"]
    assert json.loads(out)[0]["checkov_id"] == "CKV_KDS_901"


def test_rules_lists_the_real_registry(capsys):
    from kds_iac.rules import all_rules

    code, out, _err = run(capsys, "rules")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == [m.rule.id for m in all_rules()]


def test_checkov_dir(capsys, monkeypatch):
    expected = os.path.join(os.path.dirname(os.path.abspath(kds_iac.__file__)), "frontends", "checkov_checks")
    assert cli.checkov_checks_dir() == expected
    if os.path.isdir(expected):
        assert run(capsys, "checkov-dir") == (0, expected + "\n", "")
    monkeypatch.setattr(cli, "checkov_checks_dir", lambda: "/no/such/folder")
    code, out, err = run(capsys, "checkov-dir")
    assert (code, out) == (2, "")
    assert "checkov checks folder is missing" in err


def test_help_documents_exit_codes(capsys):
    code, out, _err = run(capsys, "scan", "--help")
    assert code == 0
    assert "exit codes:" in out and "--soft-fail" in out and "2  usage error" in out
    code, out, _err = run(capsys, "--help")
    assert code == 0 and "exit codes:" in out


def test_version(capsys):
    code, out, _err = run(capsys, "--version")
    assert code == 0 and re.fullmatch(r"kds-iac \S+\n", out)
