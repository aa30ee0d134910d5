"""``kds-iac lsp`` end to end: the real executable, driven by a real LSP client (pytest-lsp).

Each test opens and saves files as an editor does and asserts the exact diagnostics
published: range, severity, code, link, message. The server logs one ``window/logMessage``
per validation after publishing, which the tests wait for; that line also says whether the
engine ran or the cached unit was used.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from kds_iac.rules import all_rules
from tests.conftest import EXAMPLES, tool

HELP = {m.rule.id: m.rule.help_uri for m in all_rules()}

MAIN_TF = """\
resource "aws_kinesis_stream" "events" {
  name            = "events"
  shard_count     = 1
  encryption_type = var.encryption_type
}

resource "aws_kinesis_stream" "plain" {
  name        = "plain"
  shard_count = 1
}
"""

VARIABLES_TF = """\
variable "encryption_type" {
  type    = string
  default = "NONE"
}
"""

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Plain:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
  Managed:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
      StreamEncryption:
        EncryptionType: KMS
        KeyId: alias/aws/kinesis
"""




async def validated(client: LanguageClient, method: str, path: Path, text: str = "") -> str:
    """Send didOpen or didSave for ``path`` and wait until the server says it validated it."""
    uri = path.as_uri()
    if method == "open":
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id=_language(path), version=1, text=text or path.read_text())
            )
        )
    else:
        client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri=uri)))
    while True:
        message = await client.wait_for_notification(types.WINDOW_LOG_MESSAGE)
        if f"validated {path}" in message.message or f"validated {path.resolve()}" in message.message:
            return message.message


def _language(path: Path) -> str:
    return "terraform" if path.suffix == ".tf" else "yaml"


def shown(client: LanguageClient, path: Path) -> set[tuple]:
    """(code, severity, start line, start char, end line, end char, message tail) per diagnostic."""
    out = set()
    for d in client.diagnostics.get(path.as_uri(), []):
        assert d.source == "kds-iac"
        if d.code in HELP:
            assert d.code_description is not None and d.code_description.href == HELP[d.code]
        tail = d.message[d.message.rfind("[") :] if d.message.endswith("]") else d.message
        out.add((d.code, d.severity, d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character, tail))
    return out


E, W = types.DiagnosticSeverity.Error, types.DiagnosticSeverity.Warning


@pytest.mark.asyncio
async def test_terraform_module_is_validated_with_its_siblings_and_cached(client: LanguageClient):
    module = client.root / "streams"  # type: ignore[attr-defined]
    module.mkdir()
    main, variables = module / "main.tf", module / "variables.tf"
    main.write_text(MAIN_TF)
    variables.write_text(VARIABLES_TF)

    log = await validated(client, "open", main)
    assert "engine run" in log
    # the default of a variable declared in the sibling file decides: NONE, so unencrypted
    assert shown(client, main) == {
        ("KDS001", E, 3, 2, 3, 39, "[aws_kinesis_stream.events]"),  # the attribute that decides
        ("KDS001", E, 6, 0, 6, 39, "[aws_kinesis_stream.plain]"),  # the block header: nothing set
    }
    assert shown(client, variables) == set()

    # opening the unchanged sibling reuses the unit: no engine run
    log = await validated(client, "open", variables)
    assert "from the cache" in log
    assert shown(client, variables) == set()

    # fix the variable's default and save: the unit is judged again, main.tf's diagnostics follow
    variables.write_text(VARIABLES_TF.replace('"NONE"', '"KMS"') + 'variable "unused" {\n  default = 1\n}\n')
    main.write_text(MAIN_TF.replace("  encryption_type = var.encryption_type\n", "  encryption_type = var.encryption_type\n  kms_key_id      = \"alias/streams\"\n"))
    log = await validated(client, "save", variables)
    assert "engine run" in log
    assert shown(client, main) == {("KDS001", E, 7, 0, 7, 39, "[aws_kinesis_stream.plain]")}

    # saving again without an edit costs nothing
    log = await validated(client, "save", main)
    assert "from the cache" in log
    assert shown(client, main) == {("KDS001", E, 7, 0, 7, 39, "[aws_kinesis_stream.plain]")}


@pytest.mark.asyncio
async def test_cloudformation_diagnostics_have_exact_ranges_and_severities(client: LanguageClient):
    template = client.root / "app.yaml"  # type: ignore[attr-defined]
    template.write_text(TEMPLATE)
    await validated(client, "open", template)
    assert shown(client, template) == {
        ("KDS001", E, 2, 2, 2, 8, "[Plain]"),  # the logical id: the whole resource is the problem
        ("KDS002", types.DiagnosticSeverity.Information, 10, 6, 10, 23, "[Managed]"),  # the attribute: StreamEncryption
    }
    messages = {d.code: d.message for d in client.diagnostics[template.as_uri()]}
    assert messages["KDS001"].startswith("Kinesis stream Plain is not encrypted at rest")

    # fixed and saved: the diagnostics are cleared
    template.write_text(TEMPLATE.replace("      ShardCount: 1\n  Managed", "      ShardCount: 1\n      StreamEncryption:\n        EncryptionType: KMS\n        KeyId: alias/streams\n  Managed"))
    await validated(client, "save", template)
    assert {d[0] for d in shown(client, template)} == {"KDS002"}


@pytest.mark.asyncio
async def test_examples_match_the_command_line(client: LanguageClient):
    """The same findings, at the same lines, as ``kds-iac scan FILE`` on the examples."""
    import json

    root = client.root / "examples"  # type: ignore[attr-defined]
    shutil.copytree(EXAMPLES, root)
    files = [root / "terraform" / "unencrypted-streams" / "main.tf", root / "cloudformation" / "weak-customer-key.yaml",
             root / "cloudformation" / "sam-consumer.yaml"]
    for file in files:
        await validated(client, "open", file)
        done = subprocess.run([tool("kds-iac"), "scan", "-q", "--format", "json", str(file)], capture_output=True, text=True)
        expected = {(f["rule_id"], f["line"] - 1, f"[{f['resource']}]") for f in json.loads(done.stdout)["findings"] if not f["suppressed"]}
        assert expected
        assert {(code, line, tail) for code, _s, line, _c, _l, _e, tail in shown(client, file)} == expected


@pytest.mark.asyncio
async def test_unreadable_template_is_an_error_and_other_yaml_is_left_alone(client: LanguageClient):
    broken = client.root / "broken.yaml"  # type: ignore[attr-defined]
    broken.write_text('AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  S:\n    Type: AWS::Kinesis::Stream\n   Properties: [\n')
    await validated(client, "open", broken)
    diagnostics = client.diagnostics[broken.as_uri()]
    assert [(d.code, d.severity) for d in diagnostics] == [("parse", E)]
    assert diagnostics[0].range.start.line >= 3

    other = client.root / "docker-compose.yaml"  # type: ignore[attr-defined]
    other.write_text("services:\n  web:\n    image: nginx\n")
    await validated(client, "open", other)
    assert list(client.diagnostics[other.as_uri()]) == []


def test_language_server_imports_neither_checkov_nor_cfnlint():
    code = (
        "import sys, kds_iac.lsp.server as s; srv = s.create_server('t'); "
        "from kds_iac.lsp.validate import Validator; "
        f"Validator().validate({str(EXAMPLES / 'cloudformation' / 'unencrypted-streams.yaml')!r}); "
        f"Validator().validate({str(EXAMPLES / 'terraform' / 'unencrypted-streams' / 'main.tf')!r}); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'checkov', 'cfnlint'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_cache_follows_every_file_the_engine_read(tmp_path):
    """In process: a unit stays cached until one of its files, its local modules or its
    settings change, or a file is added to the module directory."""
    from kds_iac.lsp.validate import Validator

    root = tmp_path / "module-defaults"
    shutil.copytree(EXAMPLES / "terraform" / "module-defaults", root)
    main = root / "main.tf"
    validator = Validator()

    def check() -> tuple[bool, set]:
        result = validator.validate(str(main))
        return result.cached, {(p.code, p.resource) for p in result.problems[str(main.resolve())]}

    first = check()
    assert first[0] is False and validator.scans == 1
    assert check() == (True, first[1])
    module_file = root / "modules" / "stream" / "main.tf"
    module_file.write_text(module_file.read_text() + "\n# edited\n")  # a local module the root calls
    assert check()[0] is False and validator.scans == 2
    (root / "extra.tf").write_text('resource "aws_kinesis_stream" "added" {\n  name        = "added"\n  shard_count = 1\n}\n')
    cached, problems = check()
    assert cached is False and validator.scans == 3
    result = validator.validate(str(root / "extra.tf"))  # the sibling: same unit, from the cache
    assert result.cached and {p.resource for p in result.problems[str((root / "extra.tf").resolve())]} == {"aws_kinesis_stream.added"}
    (root / ".kds-iac.yaml").write_text("skip-rules: [KDS001]\n")
    (tmp_path / ".git").mkdir()  # settings are searched up to the git root
    validator.forget()
    assert all(code != "KDS001" for code, _ in check()[1])
