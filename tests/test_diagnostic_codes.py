"""Every diagnostic carries a code from ``DiagnosticCode``; front-ends branch on it, not on words.

The source checks walk kds_iac with ``ast``: a ``Diagnostic(...)`` or a loader's
``.diagnostic(...)`` without ``code=`` would reach users as a diagnostic no front-end can
classify. The scans check that each kind of trouble gets its code, at its place.
"""

from __future__ import annotations

import ast
import json
import logging
import os
from pathlib import Path

import pytest

from kds_iac import engine
from kds_iac.loaders import terraform as terraform_loader
from kds_iac.loaders import terraform_values
from kds_iac.model import DIAGNOSTIC_CODES, Diagnostic, DiagnosticCode
from kds_iac.output.json import diagnostic_record
from tests.conftest import REPO, declare_organization_trail

PACKAGE = REPO / "kds_iac"
FRONT_ENDS = [PACKAGE / "frontends", PACKAGE / "lsp", PACKAGE / "output", PACKAGE / "cli.py", PACKAGE / "baseline.py"]


def _sources(*roots: Path) -> list[Path]:
    out: list[Path] = []
    for root in roots:
        out.extend([root] if root.is_file() else sorted(root.rglob("*.py")))
    return out


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def test_every_diagnostic_made_in_the_package_passes_a_code():
    missing = []
    for path in _sources(PACKAGE):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or _called_name(node) not in ("Diagnostic", "diagnostic"):
                continue
            if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) and node.func.value.id == "types":
                continue  # the LSP protocol's own Diagnostic
            if _called_name(node) == "diagnostic" and len(node.args) < 4:
                continue  # a read error's or problem's own diagnostic(file): its code comes with it
            code = next((k.value for k in node.keywords if k.arg == "code"), None)
            if code is None:
                missing.append(f"{path.relative_to(REPO)}:{node.lineno}")
            elif isinstance(code, ast.Attribute) and isinstance(code.value, ast.Name) and code.value.id == "DiagnosticCode":
                assert hasattr(DiagnosticCode, code.attr), f"{path.relative_to(REPO)}:{node.lineno}: DiagnosticCode.{code.attr}"
    assert missing == []


def test_front_ends_do_not_read_the_message_to_decide():
    """``d.message.startswith(...)``, ``"..." in d.message`` or ``d.message == ...`` in a
    front-end would break the day a message is reworded."""
    offending = []
    for path in _sources(*FRONT_ENDS):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("startswith", "endswith"):
                target = node.func.value
                if isinstance(target, ast.Attribute) and target.attr == "message":
                    offending.append(f"{path.relative_to(REPO)}:{node.lineno}")
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                if any(isinstance(s, ast.Attribute) and s.attr == "message" for s in sides):
                    offending.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offending == []


def test_an_unknown_code_is_refused():
    with pytest.raises(ValueError, match="unknown diagnostic code"):
        Diagnostic("error", "x.yaml", 1, "broken", code="broken")
    assert DIAGNOSTIC_CODES == {
        "parse", "encoding", "size", "not-a-template", "not-found", "not-read", "invalid", "evaluation",
        "not-checked", "internal",
    }


def _scan(*paths: Path) -> set[tuple[str, str, str, int]]:
    result = engine.scan([str(p) for p in paths])
    return {(d.code, d.level, os.path.basename(d.file), d.line) for d in result.diagnostics}


def test_each_kind_of_unreadable_file_has_its_code(tmp_path):
    (tmp_path / "broken.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  S: [\n")
    (tmp_path / "latin1.yaml").write_bytes(b"AWSTemplateFormatVersion: '2010-09-09'\nDescription: caf\xe9\nResources: {}\n")
    (tmp_path / "notes.json").write_text('{"hello": "world"}\n')
    (tmp_path / "shapeless.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources: 3\n")
    assert _scan(
        tmp_path / "broken.yaml",
        tmp_path / "latin1.yaml",
        tmp_path / "notes.json",
        tmp_path / "shapeless.yaml",
        tmp_path / "missing.yaml",
    ) == {
        ("parse", "error", "broken.yaml", 4),
        ("encoding", "error", "latin1.yaml", 2),
        ("not-a-template", "error", "notes.json", 1),
        ("not-a-template", "error", "shapeless.yaml", 2),
        ("not-found", "error", "missing.yaml", 0),
    }


def test_evaluation_and_not_checked_notes_have_their_codes(tmp_path):
    declare_organization_trail(tmp_path)
    (tmp_path / "t.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Transform: AWS::Include\n"
        "Resources:\n"
        "  S:\n"
        "    Type: AWS::Kinesis::Stream\n"
        "    Properties:\n"
        "      Name: !Select [3, [a, b]]\n"
    )
    assert _scan(tmp_path / "t.yaml") == {
        ("not-checked", "info", "t.yaml", 2),
        ("evaluation", "error", "t.yaml", 7),
    }


def test_terraform_syntax_errors_and_remote_modules(tmp_path):
    declare_organization_trail(tmp_path)
    (tmp_path / "main.tf").write_text(
        'module "far" {\n  source = "terraform-aws-modules/kinesis/aws"\n}\n'
    )
    (tmp_path / "broken.tf").write_text('resource "aws_kinesis_stream" "s" {\n  name = \n}\n')
    found = _scan(tmp_path)
    assert {(code, level, file) for code, level, file, _ in found} == {
        ("parse", "error", "broken.tf"),
        ("not-checked", "info", "main.tf"),
    }


def test_a_large_file_is_a_size_error(tmp_path, monkeypatch):
    from kds_iac.loaders import discovery

    monkeypatch.setattr(discovery, "MAX_FILE_BYTES", 200)
    big = tmp_path / "big.yaml"
    big.write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n" + "# padding\n" * 40)
    assert _scan(big) == {("size", "error", "big.yaml", 1)}


def test_an_output_that_fails_to_convert_is_a_note_not_silence(tmp_path, monkeypatch):
    declare_organization_trail(tmp_path)
    (tmp_path / "main.tf").write_text('output "odd" {\n  value = "boom-output"\n}\n')
    convert = terraform_values.Evaluation.convert

    def failing(self, value, module, *args, **kwargs):
        if value == "boom-output":
            raise TypeError("cannot convert")
        return convert(self, value, module, *args, **kwargs)

    monkeypatch.setattr(terraform_values.Evaluation, "convert", failing)
    result = engine.scan([str(tmp_path)])
    assert [(d.code, d.level, os.path.basename(d.file), d.line, d.message) for d in result.diagnostics] == [
        ("evaluation", "info", "main.tf", 1, "output.odd: its value could not be read (TypeError); not checked")
    ]


def test_var_files_that_fail_to_evaluate_give_a_note_not_silence(tmp_path, monkeypatch):
    declare_organization_trail(tmp_path)
    (tmp_path / "main.tf").write_text('variable "name" {\n  default = "a"\n}\n')
    (tmp_path / "terraform.tfvars").write_text('name = "b"\n')
    tfparse = terraform_loader._ModuleLoader._tfparse

    def failing(self, directory, vars_paths, stop):
        if os.path.basename(directory).startswith("kds-iac-tfvars-"):
            raise RuntimeError("evaluator gave up")
        return tfparse(self, directory, vars_paths, stop)

    monkeypatch.setattr(terraform_loader._ModuleLoader, "_tfparse", failing)
    result = engine.scan([str(tmp_path)])
    assert [(d.code, d.level, os.path.basename(d.file), d.line) for d in result.diagnostics] == [
        ("evaluation", "info", "terraform.tfvars", 0)
    ]


def test_internal_errors_carry_the_code_and_log_the_traceback(tmp_path, monkeypatch, caplog):
    from kds_iac.loaders import cloudformation

    template = tmp_path / "t.yaml"
    template.write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  S:\n    Type: AWS::Kinesis::Stream\n")

    def broken(self):
        raise KeyError("a bug")

    monkeypatch.setattr(cloudformation._TemplateLoader, "load", broken)
    with caplog.at_level(logging.DEBUG, logger="kds_iac.loaders"):
        assert _scan(template) == {("internal", "error", "t.yaml", 1)}
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)


def test_json_reports_the_code(tmp_path):
    record = diagnostic_record(Diagnostic("error", "a.yaml", 3, "YAML syntax error", 2, code=DiagnosticCode.PARSE))
    assert json.loads(json.dumps(record)) == {
        "level": "error", "file": "a.yaml", "line": 3, "column": 2, "message": "YAML syntax error",
        "whole_file": False, "code": "parse",
    }


def test_the_language_server_carries_the_code_in_data(tmp_path):
    from kds_iac.lsp.server import to_diagnostic
    from kds_iac.reporting import problems_of

    (tmp_path / "broken.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  S: [\n")
    (tmp_path / "latin1.yaml").write_bytes(b"AWSTemplateFormatVersion: '2010-09-09'\nDescription: caf\xe9\nResources: {}\n")
    problems = problems_of(engine.scan([str(tmp_path / "broken.yaml"), str(tmp_path / "latin1.yaml")]))
    shown = {
        (os.path.basename(file), d.range.start.line, d.code, tuple(sorted(d.data.items())))
        for file, found in problems.items()
        for d in map(to_diagnostic, found)
    }
    assert shown == {
        ("broken.yaml", 3, "parse", (("kind", "parse"),)),
        ("latin1.yaml", 1, "parse", (("kind", "encoding"),)),
    }


def test_with_kds_iac_debug_the_command_line_prints_the_traceback_of_an_internal_error(tmp_path):
    """The bug is planted in the CloudFormation loader; the scan goes on, the diagnostic says
    ``internal`` and the debug log carries the traceback."""
    import subprocess
    import sys

    (tmp_path / "t.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  S:\n    Type: AWS::Kinesis::Stream\n")
    plant = (
        "import sys, kds_iac.cli as cli, kds_iac.loaders.cloudformation as cfn\n"
        "def broken(*a, **k):\n"
        "    raise KeyError('planted')\n"
        "cfn._TemplateLoader.load = broken\n"
        "sys.exit(cli.main(['scan', sys.argv[1], '--format', 'json', '-q']))\n"
    )
    env = dict(os.environ, KDS_IAC_DEBUG="1")
    run = subprocess.run([sys.executable, "-c", plant, str(tmp_path / "t.yaml")], capture_output=True, text=True,
                         env=env, timeout=120, cwd=REPO)
    assert [(d["code"], d["level"], d["line"]) for d in json.loads(run.stdout)["diagnostics"]] == [("internal", "error", 1)]
    assert "kds_iac.loaders: DEBUG: loading" in run.stderr
    assert "Traceback" in run.stderr and "KeyError: 'planted'" in run.stderr
