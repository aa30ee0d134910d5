"""The hand-made hostile inputs of the robustness work, opened in the real language server.

Each case is opened in one server (a crash or a hang would end the session), and the
diagnostics it publishes for the file must be exactly what ``kds-iac scan FILE`` reports for
it, and those must be the expected (kind, level, line) set: a loader diagnostic by level, a
finding by rule id. The scope-wide CloudTrail rules are left out (each case is its own scope).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import tool

STREAM = 'resource "aws_kinesis_stream" "plain" {\n  name = "plain"\n  shard_count = 1\n}\n'
TEMPLATE = 'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n'

# name: (files, the file opened, expected {(rule id or "error"/"info", line)})
CASES = {
    "variable type half typed": (
        {"main.tf": 'variable "x" {\n  type = strin\n}\n' + STREAM},
        "main.tf",
        {("error", 2)},
    ),
    "nesting 80,000 deep": ({"main.tf": "locals {\n  x = " + "[" * 80000 + "]" * 80000 + "\n}\n"}, "main.tf", {("error", 2)}),
    "module calling itself": ({"main.tf": 'module "self" {\n  source = "./"\n}\n'}, "main.tf", {("error", 1)}),
    "long identifier before a non-ASCII letter": (
        {"main.tf": 'resource "aws_kinesis_stream" "s" {\n  tags { ' + "a" * 40 + "é = 1 }\n}\n"},
        "main.tf",
        {("KDS001", 1)},
    ),
    "count of a million": (
        {"main.tf": 'resource "aws_kinesis_stream" "many" {\n  count = 1000000\n  name  = "s${count.index}"\n}\n'},
        "main.tf",
        {("info", 2), ("KDS001", 1)},
    ),
    "file() outside the scanned tree": (
        {
            "scan/main.tf": 'resource "aws_iam_policy" "p" {\n  policy = file("../outside.json")\n}\n',
            "outside.json": '{"Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}]}',
        },
        "scan/main.tf",
        {("info", 2)},
    ),
    "!!int of nothing": (
        {"t.yaml": TEMPLATE + '  S:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      ShardCount: !!int ""\n'},
        "t.yaml",
        {("error", 6)},
    ),
    "SAM Globals not a mapping": (
        {
            "t.yaml": 'AWSTemplateFormatVersion: "2010-09-09"\nTransform: AWS::Serverless-2016-10-31\nGlobals: 5\n'
            "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.12\n"
            "      Handler: app.handler\n      InlineCode: x\n      Events:\n        Api:\n          Type: Api\n"
            "          Properties: {Path: /, Method: get}\n"
        },
        "t.yaml",
        {("error", 3)},
    ),
    "Fn::Transform under Resources": (
        {"t.yaml": TEMPLATE + "  Fn::Transform:\n    Name: AWS::Include\n  S:\n    Type: AWS::Kinesis::Stream\n"},
        "t.yaml",
        {("info", 3), ("KDS001", 5)},
    ),
    "role name that is a list": (
        {
            "t.yaml": TEMPLATE + "  S:\n    Type: AWS::Kinesis::Stream\n    Properties:\n"
            "      StreamEncryption: {EncryptionType: KMS, KeyId: alias/aws/kinesis}\n"
            "  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: [a, b]\n      AssumeRolePolicyDocument: {}\n"
        },
        "t.yaml",
        {("KDS002", 6)},
    ),
    "UTF-16 template with a BOM": (
        {"t.yaml": b"\xff\xfe" + (TEMPLATE + "  S:\n    Type: AWS::Kinesis::Stream\n").encode("utf-16-le")},
        "t.yaml",
        {("KDS001", 3)},
    ),
}
SCOPE_WIDE = {"KDS020", "KDS021", "KDS022", "KDS023"}




def _write(directory: Path, files: dict) -> None:
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _from_cli(path: Path) -> set[tuple[str, int]]:
    run = subprocess.run(
        [tool("kds-iac"), "scan", str(path), "--format", "json"], capture_output=True, text=True, timeout=300
    )
    document = json.loads(run.stdout)
    same = {str(path), str(path.resolve())}
    found = {(d["level"], d["line"]) for d in document["diagnostics"] if d["file"] in same}
    found |= {(f["rule_id"], f["line"]) for f in document["findings"] if f["rule_id"] not in SCOPE_WIDE}
    return found


async def _from_server(client: LanguageClient, path: Path) -> set[tuple[str, int]]:
    language = "terraform" if path.suffix == ".tf" else "yaml"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(
                uri=path.as_uri(), language_id=language, version=1, text=path.read_bytes().decode("utf-8", "replace")
            )
        )
    )
    while True:
        message = await client.wait_for_notification(types.WINDOW_LOG_MESSAGE)
        if f"validated {path}" in message.message or f"validated {path.resolve()}" in message.message:
            break
    level = {types.DiagnosticSeverity.Information: "info", types.DiagnosticSeverity.Hint: "info"}
    found = set()
    for d in client.diagnostics.get(path.resolve().as_uri(), []):
        code = str(d.code)
        if code.startswith("KDS"):
            if code not in SCOPE_WIDE:
                found.add((code, d.range.start.line + 1))
        else:
            found.add((level.get(d.severity, "error"), d.range.start.line + 1))
    return found


@pytest.mark.asyncio
async def test_each_hostile_input_gets_the_same_diagnostics_from_the_server_as_from_the_cli(client: LanguageClient):
    root: Path = client.root  # type: ignore[attr-defined]
    for index, (name, (files, opened, expected)) in enumerate(CASES.items()):
        directory = root / f"case{index}"
        _write(directory, files)
        path = directory / opened
        assert _from_cli(path) == expected, name
        assert await _from_server(client, path) == expected, name
