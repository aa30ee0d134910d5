"""Top-level Terraform blocks written indented are found like any other (Terraform accepts
them): a gated one was silently dropped when the block scan was anchored at the line start."""

from __future__ import annotations

import json
import subprocess
import textwrap

from kds_iac.loaders.hcl_syntax import SourceFile
from kds_iac.loaders.terraform_gates import top_level_blocks
from tests.conftest import tool

MAIN = """\
variable "create" {
  default = false
}

    resource "aws_kinesis_stream" "gated" {
      count       = var.create ? 1 : 0
      name        = "gated"
      shard_count = 1
    }

\tresource "aws_kinesis_stream" "each" {
\t  for_each    = var.names
\t  name        = each.key
\t  shard_count = 1
\t}

  resource "aws_kinesis_stream" "plain" {
    name            = "plain"
    shard_count     = 1
    encryption_type = "KMS"
    kms_key_id      = "alias/aws/kinesis"
  }

variable "names" {
  type    = set(string)
  default = []
}
"""


def scan(directory) -> dict:
    done = subprocess.run(
        [tool("kds-iac"), "scan", ".", "--format", "json", "-q", "--no-progress"],
        cwd=directory, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode in (0, 1, 2), done.stderr  # 2: an error diagnostic
    return json.loads(done.stdout)


def test_indented_gated_blocks_are_judged_as_the_instance_they_would_create(tmp_path):
    (tmp_path / "main.tf").write_text(MAIN)
    report = scan(tmp_path)
    assert {(f["rule_id"], f["resource"], f["file"], f["line"]) for f in report["findings"]} == {
        ("KDS001", "aws_kinesis_stream.gated", "main.tf", 5),
        ("KDS020", "aws_kinesis_stream.gated", "main.tf", 5),
        ("KDS022", "aws_kinesis_stream.gated", "main.tf", 5),
        ("KDS001", "aws_kinesis_stream.each", "main.tf", 11),
        ("KDS020", "aws_kinesis_stream.each", "main.tf", 11),
        ("KDS022", "aws_kinesis_stream.each", "main.tf", 11),
        ("KDS002", "aws_kinesis_stream.plain", "main.tf", 21),
        ("KDS020", "aws_kinesis_stream.plain", "main.tf", 17),
        ("KDS022", "aws_kinesis_stream.plain", "main.tf", 17),
    }
    gated = [f for f in report["findings"] if f["rule_id"] == "KDS001" and f["resource"] == "aws_kinesis_stream.gated"]
    assert gated[0]["message"].endswith("when created: count = var.create ? 1 : 0, set by var.create (default: false)")
    assert report["diagnostics"] == []


def test_only_depth_zero_blocks_count_whatever_their_indentation():
    text = textwrap.dedent("""\
        locals {
          resource "aws_kinesis_stream" "nested" {
            count = 0
          }
        }
          resource "aws_kinesis_stream" "outer" {
            count = 0
            dynamic "data" {
              for_each = []
              content {}
            }
          }
           data "aws_region" "here" {}
        module "m" { source = "./m" }
        """)
    source = SourceFile("main.tf", text.encode())
    found = [(b.kind, tuple(b.labels), b.line, b.gate) for b in top_level_blocks(source, "main.tf")]
    assert found == [
        ("resource", ("aws_kinesis_stream", "outer"), 6, "count"),
        ("data", ("aws_region", "here"), 13, None),
        ("module", ("m",), 14, None),
    ]


def test_an_indented_variable_with_a_bad_type_is_refused_before_tfparse_sees_it(tmp_path):
    # anchored at the line start, the pre-check missed it and tfparse crashed on the type
    (tmp_path / "main.tf").write_text('  variable "x" {\n    type = strin\n  }\n')
    report = scan(tmp_path)
    assert [(d["level"], d["file"], d["line"], d["code"]) for d in report["diagnostics"]] == [
        ("error", "main.tf", 2, "invalid")
    ]
    assert report["diagnostics"][0]["message"].startswith('variable "x": type = strin is not a type constraint')


def test_indented_module_calls_that_form_a_cycle_are_refused(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "main.tf").write_text('    module "a" {\n      source = "./a"\n    }\n')
    (tmp_path / "a" / "main.tf").write_text('  module "back" {\n    source = "../"\n  }\n')
    report = scan(tmp_path)
    assert [(d["level"], d["file"], d["line"], d["code"]) for d in report["diagnostics"]] == [
        ("error", "a/main.tf", 1, "invalid")
    ]
    assert report["diagnostics"][0]["message"].startswith("Module cycle: . calls ./a, which calls .")
