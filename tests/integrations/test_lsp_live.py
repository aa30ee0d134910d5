"""``kds-iac lsp`` while the user types: the real executable, driven by pytest-lsp.

Unsaved text is judged (debounced; a newer edit supersedes an older one), a file saved or
typed into garbage says it is broken, a file with many findings gets at most 200
diagnostics and a summary, and the server keeps answering while a scan runs.

Timing never decides a result: where a test needs a scan to be slow, it holds every scan
on the server's worker thread with the ``KDS_IAC_LSP_HOLD_WHILE`` file and releases it. Waits
are bounded only as hang guards.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest import declare_organization_trail, tool
from tests.integrations.test_lsp import TEMPLATE  # the same two streams, one encrypted with the AWS managed key

HOLD = Path(tempfile.gettempdir()) / f"kds-iac-lsp-hold-{os.getpid()}"
GUARD = 120  # seconds: a hang guard, never a measurement
E, W, I = types.DiagnosticSeverity.Error, types.DiagnosticSeverity.Warning, types.DiagnosticSeverity.Information


# Plain encrypted with a customer managed key: only Managed's KDS002 is left, two lines lower
FIXED = TEMPLATE.replace(
    "      ShardCount: 1\n  Managed",
    "      ShardCount: 1\n      StreamEncryption:\n        EncryptionType: KMS\n        KeyId: alias/streams\n  Managed",
)


class Recording(dict):
    """``client.diagnostics`` that also keeps every publish, in order, per uri."""

    def __init__(self) -> None:
        super().__init__()
        self.published: dict[str, list[list[types.Diagnostic]]] = {}

    def __setitem__(self, uri, diagnostics) -> None:
        self.published.setdefault(uri, []).append(list(diagnostics))
        super().__setitem__(uri, diagnostics)


CONFIG = ClientServerConfig(
    server_command=[tool("kds-iac"), "lsp", "--stdio"],
    server_env={**os.environ, "KDS_IAC_LSP_HOLD_WHILE": str(HOLD)},
)


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient, tmp_path_factory):
    HOLD.unlink(missing_ok=True)
    root = tmp_path_factory.mktemp("live")
    declare_organization_trail(root)
    lsp_client.diagnostics = Recording()
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="live")],
            initialization_options={"debounceMs": 50},
        )
    )
    lsp_client.root = root  # type: ignore[attr-defined]
    lsp_client.versions = {}  # type: ignore[attr-defined]
    yield
    HOLD.unlink(missing_ok=True)
    if not getattr(lsp_client, "exited", False):
        await lsp_client.shutdown_session()


async def logged(client: LanguageClient, *wanted: str) -> str:
    """The first ``window/logMessage`` since the last one returned here that contains every
    one of ``wanted`` (read from the client's record: none is missed when several arrive at once)."""
    start = getattr(client, "log_mark", 0)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GUARD
    while True:
        for index in range(start, len(client.log_messages)):
            message = client.log_messages[index].message
            if all(w in message for w in wanted):
                client.log_mark = index + 1  # type: ignore[attr-defined]
                return message
        assert loop.time() < deadline, f"no log message with {wanted}"
        await asyncio.sleep(0.01)


def open_document(client: LanguageClient, path: Path, text: str) -> None:
    client.versions[path] = 1  # type: ignore[attr-defined]
    language = "terraform" if path.suffix == ".tf" else "yaml"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=path.as_uri(), language_id=language, version=1, text=text))
    )


def change(client: LanguageClient, path: Path, *changes) -> int:
    """Send one didChange: whole texts (``str``) or ``(start line, start char, end line, end char, text)`` edits."""
    client.versions[path] += 1  # type: ignore[attr-defined]
    version = client.versions[path]  # type: ignore[attr-defined]
    content = [
        types.TextDocumentContentChangeWholeDocument(text=c)
        if isinstance(c, str)
        else types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(c[0], c[1]), end=types.Position(c[2], c[3])), text=c[4]
        )
        for c in changes
    ]
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(types.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version), content)
    )
    return version


def save(client: LanguageClient, path: Path) -> None:
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri=path.as_uri())))


def shown(client: LanguageClient, path: Path) -> set[tuple]:
    """(code, severity, start line, tail of the message) per diagnostic of ``path``."""
    return {_row(d) for d in client.diagnostics.get(path.as_uri(), [])}


def _row(d: types.Diagnostic) -> tuple:
    assert d.source == "kds-iac"
    tail = d.message[d.message.rfind("[") :] if d.message.endswith("]") else d.message
    return (d.code, d.severity, d.range.start.line, tail)


@pytest.mark.asyncio
async def test_cloudformation_edits_are_judged_before_they_are_saved(client: LanguageClient):
    template = client.root / "app.yaml"  # type: ignore[attr-defined]
    template.write_text(TEMPLATE)
    open_document(client, template, TEMPLATE)
    await logged(client, f"validated {template}")
    assert shown(client, template) == {("KDS001", E, 2, "[Plain]"), ("KDS002", I, 10, "[Managed]")}

    change(client, template, FIXED)
    log = await logged(client, f"validated {template}")
    assert "on unsaved text" in log
    assert shown(client, template) == {("KDS002", I, 13, "[Managed]")}
    assert template.read_text() == TEMPLATE  # the user's file is never written

    # an incremental edit on top: Managed's key becomes a customer managed one too
    change(client, template, (15, 15, 15, 32, "alias/other"))
    await logged(client, f"validated {template}")
    assert shown(client, template) == set()

    # closing the buffer without saving: the file on disk is judged again
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri=template.as_uri())))
    await logged(client, f"validated {template}")
    assert shown(client, template) == {("KDS001", E, 2, "[Plain]"), ("KDS002", I, 10, "[Managed]")}
    assert not list(Path(tempfile.gettempdir()).glob("kds-iac-lsp-*/tree"))  # shadow trees are removed


MODULE_TF = """\
variable "type" {
  default = "NONE"
}

output "type" {
  value = var.type
}
"""

ROOT_TF = """\
module "key" {
  source = "../../modules/key"
}

resource "aws_kinesis_stream" "events" {
  name            = "events"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = "alias/events"
}
"""

VARIABLES_TF = """\
variable "retention" {
  default = 24
}
"""


@pytest.mark.asyncio
async def test_terraform_buffer_is_evaluated_with_its_module_directory_and_local_modules(client: LanguageClient):
    workspace = client.root  # type: ignore[attr-defined]
    (workspace / "modules" / "key").mkdir(parents=True)
    (workspace / "modules" / "key" / "main.tf").write_text(MODULE_TF)
    prod = workspace / "envs" / "prod"
    prod.mkdir(parents=True)
    main, variables = prod / "main.tf", prod / "variables.tf"
    main.write_text(ROOT_TF)
    variables.write_text(VARIABLES_TF)
    open_document(client, main, ROOT_TF)
    await logged(client, f"validated {main}")
    assert shown(client, main) == set()

    # typed, not saved: a stream whose encryption comes from ../../modules/key (NONE) and
    # whose retention comes from the sibling file; both resolve only if the module directory
    # and the local module are read around the buffer
    typed = ROOT_TF + (
        '\nresource "aws_kinesis_stream" "audit" {\n'
        '  name             = "audit"\n'
        "  shard_count      = 1\n"
        "  retention_period = var.retention\n"
        "  encryption_type  = module.key.type\n"
        "}\n"
    )
    change(client, main, typed)
    log = await logged(client, f"validated {main}")
    assert "on unsaved text" in log
    assert shown(client, main) == {("KDS001", E, 15, "[aws_kinesis_stream.audit]")}
    assert shown(client, variables) == set()
    assert main.read_text() == ROOT_TF
    assert sorted(p.name for p in prod.iterdir()) == ["main.tf", "variables.tf"]


POLICY_TF = """\
resource "aws_iam_policy" "p" {
  name   = "p"
  policy = file("${path.module}/policy.json")
}
"""


@pytest.mark.asyncio
async def test_terraform_buffer_reads_the_files_beside_it_as_a_save_would(client: LanguageClient):
    """The loader confines file() to the scanned directory, links followed: a sibling read by
    the buffer must be read, not withheld as outside the tree."""
    module = client.root / "policies"  # type: ignore[attr-defined]
    module.mkdir()
    main = module / "main.tf"
    main.write_text(POLICY_TF)
    (module / "policy.json").write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}]}')
    open_document(client, main, POLICY_TF)
    await logged(client, f"validated {main}")
    assert shown(client, main) == {("KDS004", E, 2, "[aws_iam_policy.p]"), ("KDS005", W, 2, "[aws_iam_policy.p]")}

    change(client, main, (0, 0, 0, 0, "# typed\n"))
    log = await logged(client, f"validated {main}")
    assert "on unsaved text" in log
    assert shown(client, main) == {("KDS004", E, 3, "[aws_iam_policy.p]"), ("KDS005", W, 3, "[aws_iam_policy.p]")}


@pytest.mark.asyncio
async def test_quick_edits_publish_only_the_last_version(client: LanguageClient):
    template = client.root / "app.yaml"  # type: ignore[attr-defined]
    template.write_text(TEMPLATE)
    HOLD.write_text("")  # every scan waits on the worker thread until released
    open_document(client, template, TEMPLATE)

    # four versions in a row, each with different findings; the last one has exactly KDS002 on line 14
    texts = [
        TEMPLATE.replace("alias/aws/kinesis", "alias/one"),  # KDS001 Plain only
        TEMPLATE.replace("  Plain:\n", "  Other:\n"),  # KDS001 Other, KDS002 Managed
        FIXED.replace("alias/aws/kinesis", "alias/three"),  # nothing
        FIXED,  # KDS002 Managed, line 13
    ]
    versions = [change(client, template, text) for text in texts]
    await logged(client, f"validating {template}", f"version {versions[-1]}")
    HOLD.unlink()
    await logged(client, f"validated {template}")

    assert client.diagnostics.published.get(template.as_uri()) is not None  # type: ignore[attr-defined]
    published = [{_row(d) for d in ds} for ds in client.diagnostics.published[template.as_uri()]]  # type: ignore[attr-defined]
    assert published == [{("KDS002", I, 13, "[Managed]")}]


GARBAGE_YAML = 'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  Plain:\n    Type: [\n'
GARBAGE_TF = 'resource "aws_kinesis_stream" "events" {\n  name = \n}\n'


@pytest.mark.asyncio
async def test_garbage_is_reported_as_broken_on_every_change_and_save(client: LanguageClient):
    template = client.root / "app.yaml"  # type: ignore[attr-defined]
    template.write_text(TEMPLATE)
    open_document(client, template, TEMPLATE)
    await logged(client, f"validated {template}")

    # typed garbage: the loader's error, with its line
    change(client, template, GARBAGE_YAML)
    await logged(client, f"validated {template}")
    assert {r[:3] for r in shown(client, template)} == {("parse", E, 4)}

    # saved as text that is no longer recognizable as a template at all: still broken, not cleared
    noise = "garbage {{{ ]]\n: : :\n"
    change(client, template, noise)
    template.write_text(noise)
    save(client, template)
    await logged(client, f"validated {template}", "saved")
    assert {r[:3] for r in shown(client, template)} == {("parse", E, 1)}
    # and again on the next save of the same garbage (from the cache)
    save(client, template)
    await logged(client, f"validated {template}", "saved")
    assert {r[:3] for r in shown(client, template)} == {("parse", E, 1)}

    module = client.root / "streams"  # type: ignore[attr-defined]
    module.mkdir()
    main = module / "main.tf"
    good = 'resource "aws_kinesis_stream" "events" {\n  name        = "events"\n  shard_count = 1\n}\n'
    main.write_text(good)
    open_document(client, main, good)
    await logged(client, f"validated {main}")
    assert {r[:3] for r in shown(client, main)} == {("KDS001", E, 0)}

    change(client, main, GARBAGE_TF)
    await logged(client, f"validated {main}")
    assert {r[:3] for r in shown(client, main)} == {("parse", E, 1)}
    main.write_text(GARBAGE_TF)
    save(client, main)
    await logged(client, f"validated {main}", "saved")
    assert {r[:3] for r in shown(client, main)} == {("parse", E, 1)}


def _many_streams(count: int) -> str:
    lines = ['AWSTemplateFormatVersion: "2010-09-09"', "Resources:"]
    for i in range(count):
        lines += [f"  Stream{i}:", "    Type: AWS::Kinesis::Stream", "    Properties:", "      ShardCount: 1"]
    return "\n".join(lines) + "\n"


@pytest.mark.asyncio
async def test_a_file_gets_at_most_200_diagnostics_and_a_summary(client: LanguageClient):
    template = client.root / "generated.yaml"  # type: ignore[attr-defined]
    text = _many_streams(500)  # 500 unencrypted streams: 500 KDS001 findings
    template.write_text(text)
    open_document(client, template, text)
    await logged(client, f"validated {template}", "500 problems")
    diagnostics = client.diagnostics[template.as_uri()]
    rows = [_row(d) for d in diagnostics]
    assert rows[:-1] == [("KDS001", E, 2 + 4 * i, f"[Stream{i}]") for i in range(200)]
    summary = diagnostics[-1]
    assert (summary.code, summary.severity, summary.range.start.line) == ("truncated", I, 0)
    assert summary.message.startswith("300 more findings not shown")


@pytest.mark.asyncio
async def test_server_answers_and_exits_while_a_scan_runs(client: LanguageClient):
    template = client.root / "app.yaml"  # type: ignore[attr-defined]
    template.write_text(TEMPLATE)
    HOLD.write_text("")  # the scan cannot finish until the file is gone
    open_document(client, template, TEMPLATE)
    change(client, template, FIXED)
    await logged(client, f"validating {template}", "version 2")

    # a request is answered while the scan is held on the worker thread...
    assert await asyncio.wait_for(client.shutdown_async(None), GUARD) is None
    assert template.as_uri() not in client.diagnostics
    # ...and exit ends the process without waiting for the scan
    client.exit(None)
    assert await asyncio.wait_for(client._server.wait(), GUARD) == 0  # type: ignore[union-attr]
    client.exited = True  # type: ignore[attr-defined]
