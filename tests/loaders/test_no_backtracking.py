"""Hostile template text that sent a regular expression into exponential or quadratic
backtracking: each case is read in a child process, which must answer well within the hang
guard with the same result as before.

Every case here took minutes (or forever) with the regex it names; the guard is not a
performance budget, only what keeps a regression from hanging the suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

HANG_GUARD_SECONDS = 30
REPO = Path(__file__).resolve().parents[2]


def run_child(code: str) -> object:
    """Run ``code`` in a fresh interpreter; it prints one JSON value, which is returned."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# -- hcl_syntax: the block header (was _BLOCK, `ident(?:[ \t]*(?:"..."|ident))*[ \t]*\{`) --


def test_long_identifier_before_a_non_ascii_letter_in_a_nested_block():
    code = """
        import json
        from kds_iac.loaders.hcl_syntax import SourceFile
        name = "a" * 4000
        text = 'resource "a" "b" {\\n  tags {\\n    ' + name + '\\u00e9 = 1\\n    k = 2\\n  }\\n}\\n'
        source = SourceFile("main.tf", text.encode("utf-8"))
        outer = source.block(1, "b")
        inner = source.body_of(outer.items[0])
        print(json.dumps([[i.kind, i.name, list(i.labels)] for i in outer.items + inner.items]))
    """
    # the line with the non-ASCII identifier is skipped (HCL allows it; this scanner reads
    # ASCII names), the attribute after it is still found
    assert run_child(code) == [["block", "tags", []], ["attr", "k", []]]


def test_identifier_labels_then_a_non_ascii_letter():
    code = """
        import json
        from kds_iac.loaders.hcl_syntax import SourceFile
        labels = " ".join(["lab"] * 2000)
        text = 'resource "a" "b" {\\n  x ' + labels + ' "q" ' + "b" * 3000 + '\\u00e9 {\\n  }\\n  y "l1" l2 {\\n  }\\n}\\n'
        source = SourceFile("main.tf", text.encode("utf-8"))
        print(json.dumps([[i.kind, i.name, list(i.labels)] for i in source.block(1, "b").items]))
    """
    assert run_child(code) == [["block", "y", ["l1", "l2"]]]


def test_terraform_module_with_a_long_non_ascii_identifier_loads(tmp_path):
    name = "a" * 40 + "\u00e9"
    (tmp_path / "main.tf").write_text(
        'resource "aws_kinesis_stream" "s" {\n  name = "s"\n  x {\n    ' + name + " = 1\n  }\n}\n",
        encoding="utf-8",
    )
    code = f"""
        import json
        from kds_iac.loaders.terraform import load_module
        model = load_module({str(tmp_path)!r})
        print(json.dumps([[r.address, r.attributes, r.attribute_lines] for r in model.resources]))
    """
    assert run_child(code) == [["aws_kinesis_stream.s", {"name": "s", "x": {name: 1}}, {"name": 2, "x": 3}]]


# -- terraform_expr: blanks and comments (was `(?:[ \t\r]+|#[^\n]*|//[^\n]*|/\*.*?\*/)+`) --------


def test_expression_with_long_runs_of_blanks_and_comments():
    code = """
        import json
        from kds_iac.loaders.terraform_expr import read_expression
        filler = (" \\t# c # c // c /* c */ " * 20000) + "\\n"
        text = "jsonencode({" + filler + "a = 1," + filler + "b = [" + filler + "2" + filler + "]" + filler + "})"
        value = read_expression(text, lambda path: None, lambda name, args: None)
        print(json.dumps(value))
    """
    assert run_child(code) == {"a": 1, "b": [2]}


# -- terraform_values: base64 text (was `(?:[A-Za-z0-9+/]{4})+(?:...)?`) -----------------------


def test_base64_check_on_a_long_almost_base64_value():
    code = """
        import json
        from kds_iac.loaders.terraform_values import _looks_like_base64
        print(json.dumps([
            _looks_like_base64("QUJD" * 250000 + "!"),
            _looks_like_base64("QUJD" * 250000 + "QQ="),
            _looks_like_base64("QUJD" * 250000 + "QQ=="),
            _looks_like_base64("QUJD" * 12),
            _looks_like_base64("QUJD" * 12 + "Q==="),
        ]))
    """
    assert run_child(code) == [False, False, True, True, False]


# -- discovery: local module sources (was `^\s*source\s*=` with re.M) ---------------------------


def test_discovery_of_a_file_with_many_blank_lines(tmp_path):
    (tmp_path / "child").mkdir()
    (tmp_path / "child" / "main.tf").write_text('resource "aws_sqs_queue" "q" {}\n')
    (tmp_path / "main.tf").write_text("\n" * 400_000 + 'module "c" {\n  source = "./child"\n}\n')
    code = f"""
        import json
        from kds_iac.loaders.discovery import discover
        print(json.dumps(discover([{str(tmp_path)!r}]).terraform_modules))
    """
    assert run_child(code) == [str(tmp_path)]  # the child is read through its call only


# -- cloudformation: Fn::Sub variables and dynamic references ------------------------------------


def test_fn_sub_and_dynamic_references_with_many_unclosed_openers(tmp_path):
    template = {
        "Resources": {
            "S": {
                "Type": "AWS::Kinesis::Stream",
                "Properties": {
                    "Name": {"Fn::Sub": "${AWS::Region}-" + "${" * 200_000},
                    "StreamModeDetails": {"StreamMode": "{{resolve:ssm:mode}}" + "{{resolve:" * 100_000 + "}x"},
                },
            }
        }
    }
    path = tmp_path / "t.json"
    path.write_text(json.dumps(template))
    code = f"""
        import json
        from kds_iac.loaders.cloudformation import load_template
        from kds_iac.model import Template, Unknown
        (stream,) = load_template({str(path)!r}).resources
        def shown(value):
            if isinstance(value, Template):
                return [shown(p) for p in value.parts]
            if isinstance(value, Unknown):
                return "unknown: " + value.reason[:40]
            if isinstance(value, str):
                return [value[:20], len(value)]
            return type(value).__name__
        props = stream.attributes
        print(json.dumps([shown(props["Name"]), shown(props["StreamModeDetails"]["StreamMode"])]))
    """
    name, mode = run_child(code)
    assert name[1] == ["-${${${${${${${${${$", 1 + 2 * 200_000]
    assert mode == ["unknown: dynamic reference {{resolve:ssm:mode}}", ["{{resolve:{{resolve:", 10 * 100_000 + 2]]


# -- checkov bridge: provider addresses (was a repeated module segment with a two-way key) ------


def test_provider_address_with_many_keyed_module_segments():
    code = """
        import json
        from kds_iac.frontends.checkov_bridge import provider_address
        prefix = 'module.a["x"].' * 60
        print(json.dumps([provider_address(prefix + "!"), provider_address(prefix + "aws.default")]))
    """
    prefix = 'module.a["x"].' * 60
    assert run_child(code) == [prefix + "!", prefix + "provider.aws"]


# -- serverless: ${file(...)} includes (was `file\(\s*([^)]*?)\s*\)\s*(?::\s*(.*))?$`) ----------


def test_serverless_include_with_a_long_run_of_spaces(tmp_path):
    (tmp_path / "queue.yml").write_text('Resources: {Q: {Type: "AWS::SQS::Queue"}}\n')
    spaces = " " * 20_000
    (tmp_path / "serverless.yml").write_text(
        "service: svc\nprovider:\n  name: aws\nresources:\n"
        f"  - ${{file({spaces}queue.yml{spaces})}}\n"
        f"  - ${{file({spaces}queue.yml)junk}}\n"
    )
    code = f"""
        import json
        from kds_iac.loaders.serverless import load_service
        model = load_service({str(tmp_path / "serverless.yml")!r})
        print(json.dumps([[r.address for r in model.resources], [d.message[-40:] for d in model.diagnostics]]))
    """
    assert run_child(code) == [["Q"], []]  # the name trimmed; the second is not an include
