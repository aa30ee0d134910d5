"""Terraform input that crashes or runs away in tfparse costs one module, never the scan.

tfparse (Go) aborts the process on some inputs and grows without end on others. Each class
measured is scanned here through the real command, beside a good module in the same run:
the hostile module gets one exact error diagnostic (file, line, level, message), the good
module still gets its findings, and the command exits 2 (an input could not be read).
Inputs known in advance are refused by the pre-checks (``terraform_precheck``) with file and
line; the others are contained by the worker process (``tfparse_worker``): a crash, the time
limit or the memory limit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kds_iac.loaders import terraform_precheck, tfparse_worker
from kds_iac.loaders.terraform import load_module
from kds_iac.loaders.hcl_syntax import mask
from kds_iac.model import Diagnostic
from tests.conftest import declare_organization_trail, tool

GOOD = """\
resource "aws_kinesis_stream" "plain" {
  name        = "plain"
  shard_count = 1
}
"""
GOOD_FINDINGS = {("KDS001", "aws_kinesis_stream.plain")}

STREAM = 'resource "aws_kinesis_stream" "s" {\n  name        = "s"\n  shard_count = 1\n}\n'


def scan(root: Path, *paths: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    done = subprocess.run(
        [tool("kds-iac"), "scan", *paths, "--format", "json", "--no-progress"],
        cwd=root,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard, not a limit under test
    )
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def diagnostics(report: dict) -> set[tuple]:
    return {(d["file"], d["line"], d["level"], d["message"]) for d in report["diagnostics"]}


def findings(report: dict) -> set[tuple[str, str]]:
    return {(f["rule_id"], f["resource"]) for f in report["findings"]}


def workspace(tmp_path: Path, hostile: dict[str, str]) -> Path:
    """``hostile/`` with the given files (relative paths), ``good/main.tf`` beside it."""
    declare_organization_trail(tmp_path)
    for relative, text in hostile.items():
        path = tmp_path / "hostile" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "main.tf").write_text(GOOD)
    return tmp_path


NOT_CHECKED = "; module hostile not checked"
CRASHED = "Terraform evaluation crashed (SIGABRT, panic: value is marked, so must be unmarked first)"
KINDS = " (string, number, bool, any, list(T), set(T), map(T), object({...}), tuple([...]))"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"main.tf": STREAM + 'variable "x" { type = strin }\n'},
            {("hostile/main.tf", 5, "error", f'variable "x": type = strin is not a type constraint{KINDS}{NOT_CHECKED}')},
            id="half-typed-type",
        ),
        pytest.param(
            {"main.tf": STREAM, "variables.tf": 'variable "x" {\n  type = "strin"\n}\n'},
            {("hostile/variables.tf", 2, "error", f'variable "x": type = "strin" is not a type constraint{KINDS}{NOT_CHECKED}')},
            id="quoted-non-type",
        ),
        pytest.param(
            {"main.tf": STREAM, "variables.tf": 'variable "n" {\n  type = 5\n}\n\nvariable "f" {\n  type = foo(1)\n}\n'},
            {
                ("hostile/variables.tf", 2, "error", f'variable "n": type = 5 is not a type constraint{KINDS}{NOT_CHECKED}'),
                ("hostile/variables.tf", 6, "error", f'variable "f": type = foo(1) is not a type constraint{KINDS}{NOT_CHECKED}'),
            },
            id="number-and-call-as-type",
        ),
        pytest.param(  # the file that crashes on its own is named (an editor shows no directory)
            {"main.tf": STREAM, "bucket.tf": 'resource "aws_s3_bucket" "b" {\n  bucket = sensitive("x")\n}\n'},
            {("hostile/bucket.tf", 1, "error", f"{CRASHED}; module hostile not checked")},
            id="sensitive-bucket-name-crashes-tfparse",
        ),
        pytest.param(  # no file crashes alone: the module directory is named
            {
                "main.tf": STREAM + 'resource "aws_s3_bucket" "b" {\n  bucket = sensitive(var.name)\n}\n',
                "variables.tf": 'variable "name" {\n  default = "logs"\n}\n',
            },
            {("hostile", 1, "error", f"{CRASHED}; module not checked")},
            id="crash-across-files",
        ),
        pytest.param(
            {"main.tf": STREAM + "locals {\n  x = " + "[" * 80_000 + "]" * 80_000 + "\n}\n"},
            {("hostile/main.tf", 6, "error", "expressions are nested more than 200 levels deep" + NOT_CHECKED)},
            id="nested-80000-deep",
        ),
        pytest.param(
            {"main.tf": STREAM + 'module "again" {\n  source = "./"\n}\n'},
            {("hostile/main.tf", 5, "error", 'Module cycle: . calls . (module.again, source "./")' + NOT_CHECKED)},
            id="module-calls-itself",
        ),
        pytest.param(
            {
                "main.tf": STREAM + 'module "a" {\n  source = "./a"\n}\n',
                "a/main.tf": 'module "b" {\n  source = "../b"\n}\n',
                "b/main.tf": '\nmodule "back" {\n  source = "../a"\n}\n',
            },
            {
                (
                    "hostile/b/main.tf",
                    2,
                    "error",
                    'Module cycle: ./a calls ./b, which calls ./a (module.a.module.b.module.back, source "../a")'
                    + NOT_CHECKED,
                )
            },
            id="module-cycle-a-b-a",
        ),
    ],
)
def test_hostile_module_is_one_diagnostic_and_the_scan_goes_on(tmp_path, files, expected):
    root = workspace(tmp_path, files)
    code, report = scan(root, "hostile/main.tf", "good")
    assert code == 2
    assert diagnostics(report) == expected
    assert findings(report) == GOOD_FINDINGS


SLOW_COUNT = 'locals {\n  n = 1000000\n}\nresource "aws_kinesis_stream" "many" {\n  count = local.n\n}\n'


def test_evaluation_over_the_time_limit_is_killed(tmp_path):
    # computed, so not capped like a literal count: tfparse takes about a minute
    root = workspace(tmp_path, {"main.tf": SLOW_COUNT})
    code, report = scan(root, "hostile", "good", env={tfparse_worker.TIME_LIMIT_ENV: "1"})
    assert code == 2
    assert diagnostics(report) == {
        ("hostile", 1, "error", "Terraform evaluation did not finish within 1 s; module not checked")
    }
    assert findings(report) == GOOD_FINDINGS


def test_evaluation_over_the_memory_limit_is_killed(tmp_path):
    # each level calls the next three times: 3**14 instances of the last one
    files = {"main.tf": 'module "a" {\n  source = "./lib/m1"\n}\n'}
    for level in range(1, 15):
        calls = "".join(f'module "{c}" {{\n  source = "../m{level + 1}"\n}}\n' for c in "abc")
        files[f"lib/m{level}/main.tf"] = calls if level < 14 else STREAM
    root = workspace(tmp_path, files)
    limits = {tfparse_worker.MEMORY_LIMIT_ENV: "300", tfparse_worker.TIME_LIMIT_ENV: "600"}
    code, report = scan(root, "hostile/main.tf", "good", env=limits)  # the file: its module only
    assert code == 2
    assert diagnostics(report) == {
        ("hostile", 1, "error", "Terraform evaluation used more than 300 MiB of memory; module not checked")
    }
    assert findings(report) == GOOD_FINDINGS


def test_missing_tfparse_is_a_diagnostic_per_module(tmp_path):
    root = workspace(tmp_path, {"main.tf": STREAM})
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "tfparse.py").write_text('raise ImportError("no Go today")\n')
    code, report = scan(root, "hostile", env={"PYTHONPATH": str(fake)})
    assert code == 2
    assert diagnostics(report) == {
        ("hostile", 1, "error", "tfparse could not be loaded (ImportError: no Go today)")
    }


# -- the worker ------------------------------------------------------------------------


@pytest.fixture
def fresh_worker():
    tfparse_worker.shutdown()
    yield
    tfparse_worker.set_limits()
    tfparse_worker.shutdown()


def test_one_worker_serves_many_modules_and_is_replaced_after_a_crash(tmp_path, fresh_worker):
    for name, text in (("good", GOOD), ("crash", 'resource "aws_s3_bucket" "b" {\n  bucket = sensitive("x")\n}\n')):
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.tf").write_text(text)
    first = load_module(str(tmp_path / "good"))
    pid = tfparse_worker._child.process.pid
    second = load_module(str(tmp_path / "good"))
    assert tfparse_worker._child.process.pid == pid  # reused
    crashed = load_module(str(tmp_path / "crash"))
    assert crashed.resources == []
    assert [(d.level, d.file, d.line) for d in crashed.diagnostics] == [("error", str(tmp_path / "crash" / "main.tf"), 0)]
    assert tfparse_worker._child is None  # not left behind
    third = load_module(str(tmp_path / "good"))
    assert tfparse_worker._child.process.pid != pid
    assert [r.address for r in first.resources] == [r.address for r in second.resources] == [
        r.address for r in third.resources
    ] == ["aws_kinesis_stream.plain"]


def test_time_limit_of_a_call_is_settable(tmp_path, fresh_worker):
    (tmp_path / "main.tf").write_text(SLOW_COUNT)
    tfparse_worker.set_limits(time_limit=0.5)
    model = load_module(str(tmp_path))
    assert model.diagnostics == [
        Diagnostic("error", str(tmp_path), 0, "Terraform evaluation did not finish within 0.5 s; module not checked")
    ]


WAITS_THEN_READS = """
import os, sys, time
from kds_iac.loaders import tfparse_worker
tfparse_worker.start(fork=sys.argv[2] == "forked")
print(tfparse_worker._child.process.pid, flush=True)
tfparse_worker.evaluate(sys.argv[1], True, [])
"""


@pytest.mark.parametrize("how", ["exits", "is-killed"])
@pytest.mark.parametrize("started", ["spawned", "forked"])
def test_the_worker_does_not_outlive_its_parent(tmp_path, how, started):
    (tmp_path / "main.tf").write_text('resource "aws_kinesis_stream" "many" {\n  count = 1000000\n}\n')
    parent = subprocess.Popen(
        [sys.executable, "-c", WAITS_THEN_READS, str(tmp_path), started], stdout=subprocess.PIPE, text=True
    )
    worker = int(parent.stdout.readline())
    time.sleep(0.5)  # the worker is busy evaluating
    if how == "exits":
        parent.terminate()  # SIGTERM: Python's default handler ends the process, no atexit
    else:
        parent.kill()
    parent.wait(timeout=30)
    for _ in range(100):  # the worker notices within ~0.5 s
        if not _running(worker):
            break
        time.sleep(0.1)
    assert not _running(worker)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[-1][:1] not in ("Z", "X")
    except FileNotFoundError:
        return False


# -- the pre-checks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "string", "number", "bool", "any", "list", "map", "list(string)", "set(number)", "map(list(any))",
        "object({})", "tuple([])", "tuple([string, number, bool,])", "object({a: string})",
        'object({a = optional(string, "x"), b = list(object({c = number}))})',
        "object({\n  a = string\n  b = number # comment\n  c = optional(list(object({d = bool})), [{d = true}])\n})",
        "list(object({a = string}),)", "object({optional = string})",
        '"string"', '"map"', '"list(string)"',  # Terraform 0.11's quoted types: tfparse reads them
        '"string" # quoted', "string # comment",
    ],
)
def test_type_constraints_pass(text):
    assert terraform_precheck._type_problem(mask(text), text) == ""


@pytest.mark.parametrize(
    "text",
    [
        "strin", '"strin"', '"set"', '"${local.t}"', "5", "foo(1)", "null", "set", "object", "tuple", "(string)", "map()",
        "list(optional(string))", 'object({"a" = string})', "object({a = optional})", "list(string, number)",
        'object({a = optional(string, "a", "b")})', "tuple(string)", "object(string)", "String",
    ],
)
def test_non_types_are_refused(text):  # each of these made tfparse abort (measured)
    assert terraform_precheck._type_problem(mask(text), text) != ""


def test_json_variable_types_and_module_calls_are_checked(tmp_path):
    (tmp_path / "main.tf.json").write_text(
        json.dumps({"variable": {"ok": {"type": "list(string)"}, "bad": {"type": "strin"}}}, indent=2)
    )
    (tmp_path / "calls.tf.json").write_text(json.dumps({"module": {"me": {"source": "./"}}}, indent=2))
    (tmp_path / "commented.tf").write_text('module "again" {\n  source = "./" # here\n}\n')
    model = load_module(str(tmp_path))
    assert model.diagnostics == [
        Diagnostic(
            "error",
            str(tmp_path / "calls.tf.json"),
            3,
            f'Module cycle: . calls . (module.me, source "./"); module {tmp_path} not checked',
        ),
        Diagnostic(
            "error",
            str(tmp_path / "commented.tf"),
            1,
            f'Module cycle: . calls . (module.again, source "./"); module {tmp_path} not checked',
        ),
        Diagnostic(
            "error",
            str(tmp_path / "main.tf.json"),
            6,
            f'variable "bad": type = strin is not a type constraint{KINDS}; module {tmp_path} not checked',
        ),
    ]


def test_deep_var_file_is_refused_before_evaluation(tmp_path):
    (tmp_path / "main.tf").write_text(STREAM)
    (tmp_path / "terraform.tfvars").write_text("x = " + "[" * 300 + "]" * 300 + "\n")
    model = load_module(str(tmp_path))
    assert model.diagnostics == [
        Diagnostic(
            "error",
            str(tmp_path / "terraform.tfvars"),
            1,
            f"expressions are nested more than 200 levels deep; module {tmp_path} not checked",
        )
    ]


def test_modules_reached_twice_without_a_cycle_are_no_cycle(tmp_path):
    (tmp_path / "main.tf").write_text('module "a" {\n  source = "./shared"\n}\nmodule "b" {\n  source = "./shared"\n}\n')
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "main.tf").write_text(STREAM)
    model = load_module(str(tmp_path))
    assert model.diagnostics == []
    assert sorted(r.address for r in model.resources) == ["module.a.aws_kinesis_stream.s", "module.b.aws_kinesis_stream.s"]


def test_terraform_0_11_quoted_types_are_evaluated(tmp_path):
    (tmp_path / "main.tf").write_text(
        'variable "name" {\n  type    = "string"\n  default = "events"\n}\n\n'
        'resource "aws_kinesis_stream" "s" {\n  name        = var.name\n  shard_count = 1\n}\n'
    )
    model = load_module(str(tmp_path))
    assert model.diagnostics == []
    assert [(r.address, r.attributes["name"].value) for r in model.resources] == [("aws_kinesis_stream.s", "events")]


FORKS = """
import os, sys
from kds_iac.loaders import tfparse_worker
tfparse_worker.evaluate(sys.argv[1], True, [])
parent_worker = tfparse_worker._child.process.pid
pid = os.fork()
if pid == 0:  # the copy evaluates with a worker of its own, the parent's still serves the parent
    raw = tfparse_worker.evaluate(sys.argv[1], True, [])
    mine = tfparse_worker._child.process.pid
    os._exit(0 if mine != parent_worker and "aws_kinesis_stream" in raw else 1)
_, status = os.waitpid(pid, 0)
raw = tfparse_worker.evaluate(sys.argv[1], True, [])
assert tfparse_worker._child.process.pid == parent_worker and "aws_kinesis_stream" in raw
print(os.waitstatus_to_exitcode(status))
"""


def test_a_forked_process_gets_its_own_worker(tmp_path):
    (tmp_path / "main.tf").write_text(STREAM)
    done = subprocess.run([sys.executable, "-c", FORKS, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, "0\n"), done.stderr
