"""The language server outlives a Terraform module that crashes tfparse.

Before the worker process, a Go panic in tfparse (here: ``sensitive()`` as an S3 bucket
name) aborted the server itself. Now the crashing module gets an error diagnostic, and the
next module is validated by a fresh worker in the same server process.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient


CRASHES = 'resource "aws_s3_bucket" "logs" {\n  bucket = sensitive("logs")\n}\n'
GOOD = 'resource "aws_kinesis_stream" "plain" {\n  name        = "plain"\n  shard_count = 1\n}\n'




async def opened(client: LanguageClient, path: Path) -> str:
    """Open ``path`` and wait for the server's log line that says it validated it."""
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=path.as_uri(), language_id="terraform", version=1, text=path.read_text())
        )
    )
    while True:
        message = await client.wait_for_notification(types.WINDOW_LOG_MESSAGE)
        if f"validated {path}" in message.message or f"validated {path.resolve()}" in message.message:
            return message.message


def published(client: LanguageClient, path: Path) -> set[tuple]:
    return {
        (d.code, d.severity, d.range.start.line, d.message)
        for d in client.diagnostics.get(path.resolve().as_uri(), [])
    }


@pytest.mark.asyncio
async def test_a_module_that_crashes_tfparse_leaves_the_server_running(client: LanguageClient):
    root: Path = client.root  # type: ignore[attr-defined]
    for name, text in (("crash", CRASHES), ("good", GOOD)):
        (root / name).mkdir()
        (root / name / "main.tf").write_text(text)

    log = await opened(client, root / "crash" / "main.tf")
    assert "engine run" in log
    # the file that crashes tfparse on its own carries the diagnostic
    assert published(client, root / "crash" / "main.tf") == {
        (
            "parse",
            types.DiagnosticSeverity.Error,
            0,
            "Terraform evaluation crashed (SIGABRT, panic: value is marked, so must be unmarked first); "
            f"module {(root / 'crash').resolve()} not checked",
        )
    }

    log = await opened(client, root / "good" / "main.tf")
    assert "engine run" in log
    assert {(code, severity, line) for code, severity, line, _ in published(client, root / "good" / "main.tf")} == {
        ("KDS001", types.DiagnosticSeverity.Error, 0)
    }
