"""Terraform file functions read only inside the scanned tree.

The rule: ``file()``, ``templatefile()``, ``fileset()``, ``filemd5()``... may read inside the
directories the user scanned (a file named alone stands for its directory) and inside the
directory of every module evaluated with them (a local ``source`` may point outside a named
subdirectory). A path outside them (``../..``, absolute, or a symlink that leads out) or a path
built from other values is not read: an info note names the call, and whatever tfparse
evaluated from it (attributes, locals, variable defaults, module arguments and outputs) is
``Unknown``. The file behind the hostile calls holds ``TOPSECRET``; it must reach no report.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from kds_iac.loaders import load
from kds_iac.loaders.terraform_files import WITHHELD, without_file_calls
from kds_iac.model import Encoded, FromInputs, Unknown
from tests.conftest import tool

SECRET = "TOPSECRET"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": SECRET,
            "Effect": "Allow",
            "Action": "kinesis:*",
            "Resource": f"arn:aws:kinesis:us-east-1:111122223333:stream/{SECRET}",
        }
    ],
}

BAD = """\
locals {
  p = file("../../outside/x.json")
}
variable "where" {
  default = "../../outside/x.json"
}
variable "v" {
  default = file("../../outside/x.json")
}
resource "aws_iam_policy" "direct" {
  policy = file("../../outside/x.json")
}
resource "aws_iam_policy" "via_local" {
  policy = local.p
}
resource "aws_iam_policy" "via_var" {
  policy = var.v
}
resource "aws_iam_policy" "computed" {
  policy = file(var.where)
}
resource "aws_iam_policy" "absolute" {
  policy = file("OUTSIDE/x.json")
}
resource "aws_iam_policy" "symlink" {
  policy = file("${path.module}/link.json")
}
resource "aws_iam_policy" "listing" {
  policy      = jsonencode({ Statement = [] })
  description = join(",", fileset("../../outside", "*"))
}
resource "aws_iam_policy" "digest" {
  policy      = jsonencode({ Statement = [] })
  description = filemd5("../../outside/x.json")
}
resource "aws_launch_template" "encoded" {
  user_data = base64encode(file("../../outside/x.json"))
}
module "child" {
  source = "./child"
  policy = file("../../outside/x.json")
}
"""

CHILD = """\
variable "policy" {}
resource "aws_iam_policy" "from_arg" {
  policy = var.policy
}
output "doc" {
  value = file("../../outside/x.json")
}
"""

GOOD = """\
resource "aws_iam_policy" "inside" {
  policy = file("${path.module}/policy.json")
}
resource "aws_iam_policy" "shared" {
  policy = file("../shared/policy.json")
}
"""


def policy_named(sid: str) -> str:
    return json.dumps(POLICY).replace(SECRET, sid)


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """``outside/`` (the secret) beside ``scan/`` (what is scanned): ``scan/good`` reads its
    own and a sibling's file, ``scan/bad`` tries every way out."""
    base = tmp_path_factory.mktemp("confinement")
    outside = base / "outside"
    outside.mkdir()
    (outside / "x.json").write_text(json.dumps(POLICY))
    (outside / f"{SECRET}.txt").write_text("listed by fileset\n")
    scan = base / "scan"
    for folder in ("good", "shared", "bad/child"):
        (scan / folder).mkdir(parents=True)
    (scan / "good" / "main.tf").write_text(GOOD)
    (scan / "good" / "policy.json").write_text(policy_named("Inside"))
    (scan / "shared" / "policy.json").write_text(policy_named("Shared"))
    (scan / "bad" / "main.tf").write_text(BAD.replace("OUTSIDE", str(outside)))
    (scan / "bad" / "child" / "main.tf").write_text(CHILD)
    (scan / "bad" / "extra.tf.json").write_text(
        json.dumps({"resource": {"aws_iam_policy": {"json_direct": {"policy": '${file("../../outside/x.json")}'}}}})
    )
    os.symlink("../../outside/x.json", scan / "bad" / "link.json")
    return base


def sid(policy) -> str:
    """The first statement id of a policy document (JSON text as tfparse read it, or decoded)."""
    document = json.loads(policy) if isinstance(policy, str) else policy
    return document["Statement"][0]["Sid"]


def everything(model) -> str:
    """The text of every value, input, condition and diagnostic of a model."""
    parts = []
    for resource in [*model.resources, *model.outputs, *model.uncreated]:
        parts.append(repr((resource.address, resource.attributes, resource.condition)))
    parts.extend(repr(d) for d in model.diagnostics)
    return "\n".join(parts)


def secrets(tree: Path) -> list[str]:
    """The secret itself and its digest (what filemd5 would give)."""
    return [SECRET, hashlib.md5((tree / "outside" / "x.json").read_bytes()).hexdigest()]


def test_notes_name_each_call_that_is_not_read(tree):
    model = load([str(tree / "scan")])
    bad = str(tree / "scan" / "bad")
    outside = "outside the scanned tree; not read"
    assert {(d.file, d.line, d.column, d.level, d.message) for d in model.diagnostics} == {
        (f"{bad}/main.tf", 2, 7, "info", f"file(...) names ../../outside/x.json, {outside}"),
        (f"{bad}/main.tf", 8, 13, "info", f"file(...) names ../../outside/x.json, {outside}"),
        (f"{bad}/main.tf", 11, 12, "info", f"file(...) names ../../outside/x.json, {outside}"),
        (f"{bad}/main.tf", 20, 12, "info", "file(...) names a path built from other values (var.where); not read"),
        (f"{bad}/main.tf", 23, 12, "info", f"file(...) names {tree}/outside/x.json, {outside}"),
        (f"{bad}/main.tf", 26, 12, "info", f"file(...) names ${{path.module}}/link.json, {outside}"),
        (f"{bad}/main.tf", 30, 27, "info", f"fileset(...) names ../../outside, {outside}"),
        (f"{bad}/main.tf", 34, 17, "info", f"filemd5(...) names ../../outside/x.json, {outside}"),
        (f"{bad}/main.tf", 37, 28, "info", f"file(...) names ../../outside/x.json, {outside}"),
        (f"{bad}/main.tf", 41, 12, "info", f"file(...) names ../../outside/x.json, {outside}"),
        (f"{bad}/child/main.tf", 6, 11, "info", f"file(...) names ../../outside/x.json, {outside}"),
        (f"{bad}/extra.tf.json", 1, 63, "info", "file(...) in JSON syntax names a path that is not checked; not read"),
    }


def test_values_read_outside_are_unknown_and_the_good_module_is_read(tree):
    model = load([str(tree / "scan")])
    resources = {r.address: r for r in model.resources}
    withheld = Unknown(WITHHELD)

    def plain(value):
        return value.value if isinstance(value, FromInputs) else value

    assert plain(resources["aws_iam_policy.direct"].attributes["policy"]) == Unknown(
        "file(): ../../outside/x.json is outside the scanned tree; not read"
    )
    assert plain(resources["aws_iam_policy.symlink"].attributes["policy"]) == Unknown(
        "file(): ${path.module}/link.json is outside the scanned tree; not read"
    )
    assert plain(resources["aws_iam_policy.computed"].attributes["policy"]) == Unknown(
        "file() of a path known only at deployment"
    )
    for address in ("via_local", "via_var", "json_direct"):
        assert plain(resources[f"aws_iam_policy.{address}"].attributes["policy"]) == withheld, address
    assert plain(resources["module.child.aws_iam_policy.from_arg"].attributes["policy"]) == withheld
    assert plain(resources["aws_iam_policy.digest"].attributes["description"]) == withheld
    assert plain(resources["aws_iam_policy.listing"].attributes["description"]) == Unknown(
        "join() of a value known only at deployment"  # read here: fileset() is never listed
    )
    encoded = plain(resources["aws_launch_template.encoded"].attributes["user_data"])
    assert isinstance(encoded, Encoded)
    assert encoded.value == Unknown("file(): ../../outside/x.json is outside the scanned tree; not read")
    (via_var_input,) = resources["aws_iam_policy.via_var"].attributes["policy"].inputs
    assert (via_var_input.name, via_var_input.default) == ("var.v", withheld)
    outputs = {o.address: o.attributes["value"] for o in model.outputs if o.address.startswith("module.child")}
    assert outputs == {"module.child.output.doc": withheld}
    assert sid(resources["aws_iam_policy.inside"].attributes["policy"]) == "Inside"
    assert sid(resources["aws_iam_policy.shared"].attributes["policy"]) == "Shared"
    dump = everything(model)
    assert "Inside" in dump  # what the check below reads does hold values
    assert not any(secret in dump for secret in secrets(tree))


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "junitxml"])
def test_no_report_format_carries_the_secret(tree, output_format):
    done = subprocess.run(
        [tool("kds-iac"), "scan", "scan", "--format", output_format],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr  # the good module's findings
    for secret in secrets(tree):
        assert secret not in done.stdout + done.stderr
    note = "file(...) names ../../outside/x.json, outside the scanned tree; not read"
    if output_format == "junitxml":
        assert note not in done.stdout  # JUnit XML leaves notes out by design: the summary counts them
        assert done.stderr.splitlines()[-1].endswith("; 12 notes")
    else:
        assert note in done.stdout
    if output_format == "json":
        report = json.loads(done.stdout)
        assert {(f["rule_id"], f["resource"]) for f in report["findings"]} == {
            ("KDS004", "aws_iam_policy.inside"),
            ("KDS004", "aws_iam_policy.shared"),
        }
    else:
        assert "aws_iam_policy.inside" in done.stdout and "aws_iam_policy.shared" in done.stdout


def test_a_local_module_outside_the_named_directory_reads_its_own_files(tmp_path):
    """``envs/prod`` is scanned alone; it calls ``../../modules/stream``, whose own policy
    file is read; a file beside the named directory is not."""
    (tmp_path / "envs" / "prod").mkdir(parents=True)
    (tmp_path / "modules" / "stream").mkdir(parents=True)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "policy.json").write_text(policy_named("Beside"))
    (tmp_path / "modules" / "stream" / "policy.json").write_text(policy_named("Module"))
    (tmp_path / "modules" / "stream" / "main.tf").write_text(
        'resource "aws_iam_policy" "m" {\n  policy = file("${path.module}/policy.json")\n}\n'
    )
    (tmp_path / "envs" / "prod" / "main.tf").write_text(
        'module "stream" {\n  source = "../../modules/stream"\n}\n'
        'resource "aws_iam_policy" "beside" {\n  policy = file("../../shared/policy.json")\n}\n'
    )
    model = load([str(tmp_path / "envs" / "prod")])
    resources = {r.address: r for r in model.resources}
    assert sid(resources["module.stream.aws_iam_policy.m"].attributes["policy"]) == "Module"
    assert resources["aws_iam_policy.beside"].attributes["policy"] == Unknown(
        "file(): ../../shared/policy.json is outside the scanned tree; not read"
    )
    assert {(d.file, d.line, d.message) for d in model.diagnostics} == {
        (
            str(tmp_path / "envs" / "prod" / "main.tf"),
            5,
            "file(...) names ../../shared/policy.json, outside the scanned tree; not read",
        )
    }
    assert "Module" in everything(model) and "Beside" not in everything(model)


def test_var_files_cannot_call_file_functions(tmp_path):
    """Terraform refuses function calls in var files; tfparse, which evaluates them for us,
    gets each file-reading call under a name no function has (its value becomes null)."""
    text = 'a = file("../x")\nb = "file(kept)" # file(comment)\nc = templatefile ("t", {})\nd = profile("x")\n'
    assert without_file_calls(text) == (
        'a = ____("../x")\nb = "file(kept)" # file(comment)\nc = ____________ ("t", {})\nd = profile("x")\n'
    )
    (tmp_path / "secret.txt").write_text(SECRET)
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "main.tf").write_text('variable "v" {}\nresource "aws_sqs_queue" "q" {\n  name = var.v\n}\n')
    # tfparse evaluates var files in a directory of its own under the temporary directory
    relative = os.path.relpath(tmp_path / "secret.txt", os.path.join(tempfile.gettempdir(), "x"))
    (tmp_path / "mod" / "terraform.tfvars").write_text(f'v = file("{relative}")\n')
    model = load([str(tmp_path / "mod")])
    (queue,) = model.resources
    (variable,) = queue.attributes["name"].inputs
    assert (variable.name, variable.default) == ("var.v", None)  # the call evaluated to null
    assert SECRET not in everything(model)


def test_instance_keys_from_a_file_outside_are_withheld(tmp_path):
    """``for_each`` over what a file outside holds: the keys would name its lines in every
    address; they become ``withheld-N`` (one per distinct key, per block or module call)."""
    (tmp_path / "lines.txt").write_text(f"{SECRET}-a\n{SECRET}-b\n")
    (tmp_path / "scan" / "m").mkdir(parents=True)
    (tmp_path / "scan" / "m" / "main.tf").write_text(
        'variable "n" {}\nvariable "unset" {\n  default = null\n}\nresource "aws_sqs_queue" "c" {\n'
        "  name = var.n\n  tags = { t = var.unset }\n}\n"
    )
    (tmp_path / "scan" / "main.tf").write_text(
        'resource "aws_sqs_queue" "q" {\n'
        '  for_each = toset(split("\\n", trimspace(file("../lines.txt"))))\n'
        "  name     = each.key\n}\n"
        'module "m" {\n  source   = "./m"\n'
        '  for_each = toset([trimspace(file("../lines.txt"))])\n'
        "  n        = each.key\n}\n"
        'resource "aws_sqs_queue" "plain" {\n  name = "plain"\n}\n'
    )
    model = load([str(tmp_path / "scan")])
    assert {r.address for r in model.resources} == {
        'aws_sqs_queue.q["withheld-1"]',
        'aws_sqs_queue.q["withheld-2"]',
        'module.m["withheld-1"].aws_sqs_queue.c',
        "aws_sqs_queue.plain",
    }
    assert {r.module for r in model.resources} == {"", 'module.m["withheld-1"]'}
    assert SECRET not in everything(model)


def test_a_gated_block_evaluated_in_a_mirror_reads_the_scanned_file(tmp_path):
    """A block whose ``count`` gives no instance is evaluated once more in a mirror of its
    module under the temporary directory (terraform_gates), where ``../../shared`` leads
    elsewhere: the policy must still come from the scanned tree, not from a file planted
    where the mirror's relative path lands."""
    (tmp_path / "scan" / "envs" / "prod").mkdir(parents=True)
    (tmp_path / "scan" / "shared").mkdir()
    (tmp_path / "scan" / "shared" / "p.json").write_text(policy_named("Shared"))
    (tmp_path / "scan" / "envs" / "prod" / "main.tf").write_text(
        'variable "create" {\n  default = false\n}\n'
        'resource "aws_iam_policy" "gated" {\n  count  = var.create ? 1 : 0\n'
        '  policy = file("../../shared/p.json")\n}\n'
    )
    temporary = tmp_path / "tmp"
    (temporary / "shared").mkdir(parents=True)
    (temporary / "shared" / "p.json").write_text(policy_named("Planted"))  # mirror/../../shared
    done = subprocess.run(
        [tool("kds-iac"), "scan", str(tmp_path / "scan"), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TMPDIR": str(temporary)},
    )
    assert done.returncode == 1, done.stderr
    findings = json.loads(done.stdout)["findings"]
    assert [(f["rule_id"], f["resource"]) for f in findings] == [("KDS004", "aws_iam_policy.gated")]
    assert "(statement Shared)" in findings[0]["message"] and "Planted" not in done.stdout
