"""Inputs that used to hang, crash or be skipped without a word, through the real ``kds-iac``.

Each test scans a directory that mixes the hostile input with a good template and asserts
both: the exact diagnostic (file, line, level) and the good template's exact findings, so a
fix that drops the whole scan cannot pass. A subprocess timeout guards against a hang (a
FIFO opened for reading blocks forever); it is a guard, not a speed claim.
"""

from __future__ import annotations

import codecs
import copy
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import declare_organization_trail, tool

HANG_GUARD_SECONDS = 240
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

GOOD_TEMPLATE = "Resources:\n  Plain:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      ShardCount: 1\n"
GOOD_TF = 'resource "aws_kinesis_stream" "plain" {\n  name = "plain"\n}\n'


def scan(root: Path, *paths: str) -> tuple[dict, str, int]:
    done = subprocess.run(
        [tool("kds-iac"), "scan", *paths, "--format", "json", "--no-progress"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout), done.stderr, done.returncode


def diagnostics(report: dict) -> set[tuple[str, int, str]]:
    return {(d["file"], d["line"], d["level"]) for d in report["diagnostics"]}


def findings(report: dict) -> set[tuple[str, str, str]]:
    return {(f["rule_id"], f["file"], f["resource"]) for f in report["findings"]}


def only_our_lines(stderr: str) -> None:
    """Nothing but our header, audit and summary lines: no library's log or traceback."""
    assert all(line.startswith("kds-iac") for line in stderr.splitlines()), stderr


# ------------------------------------------------------------------ FIFOs, sockets, devices


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_fifos_sockets_and_devices_are_noted_and_never_opened(tmp_path):
    declare_organization_trail(tmp_path)
    cfn = tmp_path / "cfn"
    cfn.mkdir()
    (cfn / "good.yaml").write_text(GOOD_TEMPLATE)
    os.mkfifo(cfn / "pipe.yaml")
    os.mkfifo(cfn / "plan.json")
    (cfn / "null.template").symlink_to(os.devnull)
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(cfn / "socket.yml"))
        # A module with a FIFO among its files: the evaluator would open it, so the module is
        # refused; the module next to it is evaluated.
        blocked = tmp_path / "blocked"
        blocked.mkdir()
        (blocked / "main.tf").write_text(GOOD_TF)
        os.mkfifo(blocked / "pipe.tf")
        vars_pipe = tmp_path / "vars_pipe"
        vars_pipe.mkdir()
        (vars_pipe / "main.tf").write_text(GOOD_TF)
        os.mkfifo(vars_pipe / "terraform.tfvars")
        tf = tmp_path / "tf"
        tf.mkdir()
        (tf / "main.tf").write_text(GOOD_TF)
        report, stderr, code = scan(tmp_path, "cfn", "blocked", "vars_pipe", "tf")
    finally:
        sock.close()
    assert diagnostics(report) == {
        ("cfn/pipe.yaml", 1, "info"),
        ("cfn/plan.json", 1, "info"),
        ("cfn/null.template", 1, "info"),
        ("cfn/socket.yml", 1, "info"),
        ("blocked/pipe.tf", 1, "error"),
        ("vars_pipe/terraform.tfvars", 1, "error"),
    }
    messages = {d["file"]: d["message"] for d in report["diagnostics"]}
    assert messages["cfn/pipe.yaml"] == "not a regular file (FIFO); not read"
    assert messages["cfn/null.template"] == "not a regular file (character device); not read"
    assert messages["cfn/socket.yml"] == "not a regular file (socket); not read"
    assert messages["blocked/pipe.tf"] == (
        "not a regular file (FIFO): Terraform module blocked is not checked, since reading this file would block"
    )
    assert findings(report) == {
        ("KDS001", "cfn/good.yaml", "Plain"),
        ("KDS001", "tf/main.tf", "aws_kinesis_stream.plain"),
    }
    assert code == 2  # a module could not be checked
    only_our_lines(stderr)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_named_fifo_and_a_fifo_beside_a_named_template(tmp_path):
    """A file named alone brings its directory's trail templates into the scope: sniffing those
    siblings must not open a FIFO either."""
    declare_organization_trail(tmp_path)
    (tmp_path / "good.yaml").write_text(GOOD_TEMPLATE)
    os.mkfifo(tmp_path / "trail.yaml")
    report, stderr, code = scan(tmp_path, "good.yaml", "trail.yaml")
    assert diagnostics(report) == {("trail.yaml", 1, "info")}
    assert findings(report) == {("KDS001", "good.yaml", "Plain")}
    assert code == 1
    only_our_lines(stderr)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_module_calling_a_module_that_holds_a_fifo_is_not_evaluated(tmp_path):
    """The evaluator reads called modules too, also those outside the scanned directory."""
    declare_organization_trail(tmp_path)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.tf").write_text('module "child" {\n  source = "../modules/child"\n}\n' + GOOD_TF)
    child = tmp_path / "modules" / "child"
    child.mkdir(parents=True)
    (child / "main.tf").write_text(GOOD_TF.replace("plain", "child"))
    os.mkfifo(child / "pipe.tf")
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text(GOOD_TF)
    report, stderr, code = scan(tmp_path, "app", "tf")
    assert {(d["file"], d["line"], d["level"], d["message"]) for d in report["diagnostics"]} == {
        (
            "modules/child/pipe.tf",
            1,
            "error",
            "not a regular file (FIFO): Terraform module app is not checked, since it calls module modules/child "
            "and reading this file would block",
        )
    }
    assert findings(report) == {("KDS001", "tf/main.tf", "aws_kinesis_stream.plain")}
    assert code == 2
    only_our_lines(stderr)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_given_as_var_file_is_a_usage_error(tmp_path):
    (tmp_path / "main.tf").write_text(GOOD_TF)
    os.mkfifo(tmp_path / "vars.tfvars")
    done = subprocess.run(
        [tool("kds-iac"), "scan", ".", "--var-file", "vars.tfvars", "--quiet", "--no-progress"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "kds-iac: error: --var-file vars.tfvars: not a regular file (FIFO)\n"


# ------------------------------------------------------------------------------ encodings


def _encoded(text: str, codec: str, bom: bytes) -> bytes:
    return bom + text.encode(codec)


def test_utf16_and_utf32_templates_are_decoded(tmp_path):
    declare_organization_trail(tmp_path)
    root = tmp_path / "enc"
    root.mkdir()
    variants = {
        "utf8-bom.yaml": ("utf-8", codecs.BOM_UTF8),
        "utf16-le.yaml": ("utf-16-le", codecs.BOM_UTF16_LE),
        "utf16-be.json": ("utf-16-be", codecs.BOM_UTF16_BE),
        "utf32-le.yaml": ("utf-32-le", codecs.BOM_UTF32_LE),
        "utf32-be.template": ("utf-32-be", codecs.BOM_UTF32_BE),
        # Without a mark: told by where the zero bytes of the first characters fall.
        "utf16-le-no-bom.yaml": ("utf-16-le", b""),
        "utf16-be-no-bom.yaml": ("utf-16-be", b""),
        "utf32-le-no-bom.yaml": ("utf-32-le", b""),
    }
    for name, (codec, bom) in variants.items():
        text = GOOD_TEMPLATE
        if name.endswith(".json"):
            text = '{\n  "Resources": {\n    "Plain": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}}\n  }\n}\n'
        (root / name).write_bytes(_encoded(text, codec, bom))
    # A UTF-16 mark followed by bytes that are not UTF-16: named, with the line of the bad unit.
    (root / "broken-utf16.yaml").write_bytes(
        codecs.BOM_UTF16_LE
        + "Resources:\n  S:\n    Type: AWS::Kinesis::Stream\n".encode("utf-16-le")
        + b"\x00\xdc"  # a lone low surrogate
        + "x\n".encode("utf-16-le")
    )
    # A plan saved by PowerShell's `>`: UTF-16 with a BOM.
    plan = (FIXTURES / "terraform_plan" / "kms_stream.json").read_text(encoding="utf-8")
    (root / "plan.json").write_bytes(_encoded(plan, "utf-16-le", codecs.BOM_UTF16_LE))
    report, stderr, code = scan(tmp_path, "enc")
    assert diagnostics(report) == {("enc/broken-utf16.yaml", 4, "error")}
    (message,) = [d["message"] for d in report["diagnostics"]]
    assert message.startswith("not valid UTF-16 text (the file starts with a UTF-16 byte-order mark)")
    assert findings(report) == {("KDS001", f"enc/{name}", "Plain") for name in variants} | {
        ("KDS001", "enc/plan.json", "aws_kinesis_stream.plain"),
        ("KDS002", "enc/plan.json", "aws_kinesis_stream.managed"),
        ("KDS003", "enc/plan.json", "aws_kms_key.stream"),
    }
    assert code == 2
    only_our_lines(stderr)


def test_a_utf16_terraform_file_is_named_and_its_neighbours_are_judged(tmp_path):
    """Terraform reads UTF-8 only; the evaluator names the file (it does not choke on it)."""
    declare_organization_trail(tmp_path)
    module = tmp_path / "tf"
    module.mkdir()
    (module / "wide.tf").write_bytes(_encoded(GOOD_TF.replace("plain", "wide"), "utf-16-le", codecs.BOM_UTF16_LE))
    (module / "main.tf").write_text(GOOD_TF)
    bom8 = tmp_path / "bom8"
    bom8.mkdir()
    (bom8 / "main.tf").write_bytes(_encoded(GOOD_TF, "utf-8", codecs.BOM_UTF8))
    report, stderr, code = scan(tmp_path, "tf", "bom8")
    assert diagnostics(report) == {("tf/wide.tf", 1, "error")}
    assert "UTF-8" in report["diagnostics"][0]["message"]
    assert findings(report) == {
        ("KDS001", "tf/main.tf", "aws_kinesis_stream.plain"),
        ("KDS001", "bom8/main.tf", "aws_kinesis_stream.plain"),
    }
    assert code == 2
    only_our_lines(stderr)


# ------------------------------------------------------------------------------ YAML tags

TAGGED = {
    "int-empty.yaml": ('!!int ""', "YAML value '' is tagged !!int but is not an integer"),
    "int-hex.yaml": ("!!int 0x", "YAML value '0x' is tagged !!int but is not an integer"),
    "float-word.yaml": ("!!float x", "YAML value 'x' is tagged !!float but is not a number"),
    "float-empty.yaml": ('!!float ""', "YAML value '' is tagged !!float but is not a number"),
    "bool-maybe.yaml": ("!!bool maybe", "YAML value 'maybe' is tagged !!bool but is not a boolean (true or false)"),
    "null-word.yaml": ("!!null x", "YAML value 'x' is tagged !!null but is not null (null, Null, NULL, ~ or nothing)"),
    "timestamp.yaml": (
        "!!timestamp nonsense",
        "YAML value 'nonsense' is tagged !!timestamp but is not a timestamp (YYYY-MM-DD, optionally with a time)",
    ),
}


def test_values_that_do_not_fit_their_yaml_tag_are_reported_where_written(tmp_path):
    declare_organization_trail(tmp_path)
    cfn = tmp_path / "cfn"
    cfn.mkdir()
    for name, (value, _) in TAGGED.items():
        (cfn / name).write_text(
            "Resources:\n  S:\n    Type: AWS::Kinesis::Stream\n    Properties:\n"
            f"      Tags:\n        - Key: k\n          Value: {value}\n"
        )
    # Values that fit their tags (and a plain integer longer than Python converts) are read.
    (cfn / "fitting.yaml").write_text(
        "Resources:\n  Plain:\n    Type: AWS::Kinesis::Stream\n    Properties:\n"
        f"      ShardCount: !!int 1_0\n      RetentionPeriodHours: {'9' * 5000}\n"
        "      Tags:\n        - {Key: a, Value: !!float 1}\n        - {Key: b, Value: !!timestamp 2001-12-14}\n"
    )
    report, stderr, code = scan(tmp_path, "cfn")
    got = {(d["file"], d["line"], d["column"], d["level"], d["message"]) for d in report["diagnostics"]}
    assert got == {(f"cfn/{name}", 7, 18, "error", message) for name, (_, message) in TAGGED.items()}
    assert findings(report) == {("KDS001", "cfn/fitting.yaml", "Plain")}
    assert code == 2
    only_our_lines(stderr)


# ------------------------------------------------------------------------------- SAM Globals

SAM_FUNCTION = """Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      InlineCode: "def handler(event, context): pass"
      Events:
        Get: {Type: Api, Properties: {Path: /, Method: get}}
  Plain:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
"""


def test_an_invalid_sam_globals_section_is_a_diagnostic_at_its_line_and_nothing_else_is_printed(tmp_path):
    """``Globals: 5`` with an Api event made the translator's plugin raise and log a traceback."""
    declare_organization_trail(tmp_path)
    sam = tmp_path / "sam"
    sam.mkdir()
    head = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"
    (sam / "number.yaml").write_text(head + "Globals: 5\n" + SAM_FUNCTION)
    (sam / "list.yaml").write_text(head + "Globals:\n  Function: [a, b]\n" + SAM_FUNCTION)
    (sam / "unknown-kind.yaml").write_text(head + "Globals:\n  Nope: {}\n" + SAM_FUNCTION)
    report, stderr, code = scan(tmp_path, "sam")
    got = {(d["file"], d["line"], d["level"], d["message"]) for d in report["diagnostics"]}
    tail = "; the serverless resources are not checked"
    assert {(f, line, level) for f, line, level, _ in got} == {
        ("sam/number.yaml", 3, "error"),
        ("sam/list.yaml", 4, "error"),
        ("sam/unknown-kind.yaml", 3, "error"),
    }
    messages = {f: m for f, _, _, m in got}
    assert messages["sam/number.yaml"] == (
        "SAM transform failed: Globals must be a mapping of resource kinds (Function, Api, ...), not a number" + tail
    )
    assert messages["sam/list.yaml"] == "SAM transform failed: Globals.Function must be a mapping of properties, not a list" + tail
    assert messages["sam/unknown-kind.yaml"].startswith("SAM transform failed: 'Globals' section is invalid. 'Nope' is not supported")
    assert findings(report) == {("KDS001", f"sam/{name}", "Plain") for name in ("number.yaml", "list.yaml", "unknown-kind.yaml")}
    assert code == 2
    only_our_lines(stderr)


# ------------------------------------------------------------------------------- plan JSON


def _plan() -> dict:
    return json.loads((FIXTURES / "terraform_plan" / "kms_stream.json").read_text(encoding="utf-8"))


def _after_unknown_true(address: str):
    def mutate(plan: dict) -> None:
        for change in plan["resource_changes"]:
            if change["address"] == address:
                change["change"]["after_unknown"] = True

    return mutate


def _line_of(text: str, needle: str, occurrence: int = 0) -> int:
    offset = -1
    for _ in range(occurrence + 1):
        offset = text.index(needle, offset + 1)
    return text.count("\n", 0, offset) + 1


EVERY_PLAN_FINDING = {
    ("KDS001", "aws_kinesis_stream.plain"),
    ("KDS002", "aws_kinesis_stream.managed"),
    ("KDS003", "aws_kms_key.stream"),
}


@pytest.mark.parametrize(
    "name, mutate, raw, needle, message, left",
    [
        (
            "resources-object",
            lambda p: p["planned_values"]["root_module"].__setitem__("resources", {"a": 1}),
            None,
            ('"resources": {', 0),
            "planned_values: resources of the root module is not a list; they are not checked",
            set(),
        ),
        (
            "child-modules-number",
            lambda p: p["planned_values"]["root_module"].__setitem__("child_modules", 5),
            None,
            ('"child_modules": 5', 0),
            "planned_values: child_modules of the root module is not a list; its modules are not checked",
            EVERY_PLAN_FINDING,
        ),
        (
            "configuration-resources-object",
            lambda p: p["configuration"]["root_module"].__setitem__("resources", {"a": 1}),
            None,
            ('"resources": {', 0),
            "configuration: resources of the root module is not a list; references written in it are not followed",
            # The stream's key ARN is known only after apply; without the configuration's
            # reference it stays unknown, so the key is no stream's key and KDS003 is silent.
            {("KDS001", "aws_kinesis_stream.plain"), ("KDS002", "aws_kinesis_stream.managed")},
        ),
        (
            "long-integer",
            None,
            lambda t: t.replace('"retention_period": 24', '"retention_period": ' + "9" * 5000, 1),
            ('"retention_period": 9999', 0),
            "an integer of 5000 digits is too long to read; it is treated as unknown",
            EVERY_PLAN_FINDING,
        ),
        (
            "key-after-unknown-true",
            _after_unknown_true("aws_kms_key.stream"),
            None,
            ('"after_unknown": true', 0),
            "resource_changes: after_unknown of aws_kms_key.stream is not an object; the resource is not checked",
            {("KDS001", "aws_kinesis_stream.plain"), ("KDS002", "aws_kinesis_stream.managed")},
        ),
        (
            "key-policy-after-unknown-true",
            _after_unknown_true("aws_kms_key_policy.stream"),
            None,
            ('"after_unknown": true', 0),
            "resource_changes: after_unknown of aws_kms_key_policy.stream is not an object; the resource is not checked",
            EVERY_PLAN_FINDING,
        ),
    ],
)
def test_a_plan_part_of_the_wrong_type_is_a_diagnostic_and_the_rest_is_judged(tmp_path, name, mutate, raw, needle, message, left):
    declare_organization_trail(tmp_path)
    plan = _plan()
    if mutate is not None:
        mutate(plan)
    text = json.dumps(plan, indent=2)
    if raw is not None:
        text = raw(text)
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "plan.json").write_text(text)
    (tmp_path / "p" / "good.yaml").write_text(GOOD_TEMPLATE)
    report, stderr, code = scan(tmp_path, "p")
    assert {(d["file"], d["line"], d["level"], d["message"]) for d in report["diagnostics"]} == {
        ("p/plan.json", _line_of(text, *needle), "error", message)
    }
    assert findings(report) == {(rule, "p/plan.json", address) for rule, address in left} | {("KDS001", "p/good.yaml", "Plain")}
    assert code == 2
    only_our_lines(stderr)


# ------------------------------------------------------------- names that are not text


def test_a_role_name_that_is_a_list_is_an_unknown_name(tmp_path):
    """KDS014 compared role names as a set of raw values and crashed on a list."""
    declare_organization_trail(tmp_path)
    tf = tmp_path / "tf"
    tf.mkdir()
    (tf / "main.tf").write_text(
        """resource "aws_kinesis_stream" "s" {
  name            = "s"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = "alias/aws/kinesis"
}

resource "aws_iam_role" "r" {
  name               = ["a"]
  assume_role_policy = jsonencode({Statement = [{Effect = "Allow", Principal = {Service = "lambda.amazonaws.com"}, Action = "sts:AssumeRole"}]})
}

resource "aws_iam_role_policy_attachment" "elsewhere" {
  role       = "another-role"
  policy_arn = "arn:aws:iam::123456789012:policy/x"
}

resource "aws_lambda_function" "f" {
  function_name = "f"
  role          = aws_iam_role.r.arn
  runtime       = "python3.12"
  handler       = "a.b"
  filename      = "x.zip"
}

resource "aws_lambda_event_source_mapping" "m" {
  function_name     = aws_lambda_function.f.arn
  event_source_arn  = aws_kinesis_stream.s.arn
  starting_position = "LATEST"
}
"""
    )
    cfn = tmp_path / "cfn"
    cfn.mkdir()
    (cfn / "t.yaml").write_text(
        """Resources:
  S:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
      StreamEncryption: {EncryptionType: KMS, KeyId: alias/aws/kinesis}
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: [a, b]
      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: "sts:AssumeRole"}]}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt Role.Arn
      Runtime: python3.12
      Handler: a.b
      Code: {ZipFile: x}
  Map:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Fn
      EventSourceArn: !GetAtt S.Arn
      StartingPosition: LATEST
"""
    )
    # Scanned together, as a repository holding both would be: the Terraform attachment is
    # matched against the CloudFormation role's name too.
    report, stderr, code = scan(tmp_path, "tf", "cfn")
    assert report["diagnostics"] == []
    assert findings(report) == {
        ("KDS002", "tf/main.tf", "aws_kinesis_stream.s"),
        ("KDS014", "tf/main.tf", "aws_iam_role.r"),
        ("KDS002", "cfn/t.yaml", "S"),
        ("KDS014", "cfn/t.yaml", "Role"),
    }
    assert code == 1
    only_our_lines(stderr)
