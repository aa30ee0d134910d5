"""Code actions of ``kds-iac lsp`` (the real executable, a pytest-lsp client): a quick fix per
diagnostic with a fix, "fix all safe problems in file", edits computed on the unsaved text,
and after the edit is applied as the editor would, the diagnostic is gone."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import EXAMPLES

GUARD = 120  # seconds: a hang guard, not a speed requirement


async def judged(client: LanguageClient, path: Path, *, after: int) -> None:
    """Wait for the server's log line of a validation of ``path`` past the first ``after`` ones."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GUARD
    while True:
        lines = [m.message for m in client.log_messages if m.message.startswith(f"kds-iac: validated {path}")]
        if len(lines) > after:
            return
        assert loop.time() < deadline, f"{path} was not validated"
        await asyncio.sleep(0.02)


def validations(client: LanguageClient, path: Path) -> int:
    return sum(1 for m in client.log_messages if m.message.startswith(f"kds-iac: validated {path}"))


def findings(client: LanguageClient, path: Path) -> set[tuple[str, int, str]]:
    return {
        (d.code, d.range.start.line, d.data["resource"])
        for d in client.diagnostics.get(path.as_uri(), [])
        if isinstance(d.data, dict) and "resource" in d.data
    }


def diagnostic(client: LanguageClient, path: Path, code: str, resource: str) -> types.Diagnostic:
    (found,) = [
        d for d in client.diagnostics.get(path.as_uri(), [])
        if d.code == code and isinstance(d.data, dict) and d.data.get("resource") == resource
    ]
    return found


async def actions(client: LanguageClient, path: Path, diagnostics: list, only=None, where=None) -> list[types.CodeAction]:
    if where is None:
        where = diagnostics[0].range if diagnostics else types.Range(types.Position(0, 0), types.Position(0, 0))
    found = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            range=where,
            context=types.CodeActionContext(diagnostics=diagnostics, only=only),
        )
    )
    return list(found or [])


def apply_lsp(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (0-based lines; characters in UTF-16 units, as the session agreed) to ``text``."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)

    def offset(position: types.Position) -> int:
        line = lines[position.line] if position.line < len(lines) else ""
        units, index = 0, 0
        while units < position.character:
            units += 2 if ord(line[index]) > 0xFFFF else 1
            index += 1
        return offsets[position.line] + index

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


def open_document(client: LanguageClient, path: Path, text: str) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=path.as_uri(), language_id="yaml" if path.suffix == ".yaml" else "terraform",
                                   version=1, text=text)
        )
    )


def change(client: LanguageClient, path: Path, version: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version),
            [types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def test_server_advertises_code_actions(client: LanguageClient):
    provider = client.initialized_with.capabilities.code_action_provider  # type: ignore[attr-defined]
    assert list(provider.code_action_kinds) == ["quickfix", "source.fixAll.kds-iac"]


@pytest.mark.asyncio
async def test_quick_fix_on_unsaved_text_then_the_finding_is_gone(client: LanguageClient):
    root: Path = client.root  # type: ignore[attr-defined]
    path = root / "weak-customer-key.yaml"
    shutil.copyfile(EXAMPLES / "cloudformation" / "weak-customer-key.yaml", path)
    on_disk = path.read_text()
    # an unsaved edit first: the fix must be computed on the buffer, not on the disk
    text = on_disk.replace("Description: Rotation left at its default (off)", "Description: Rotation off (ünsaved)")
    open_document(client, path, on_disk)
    await judged(client, path, after=0)
    change(client, path, 2, text)
    await judged(client, path, after=1)
    assert findings(client, path) == {("KDS003", 4, "NoRotationKey"), ("KDS003", 13, "PublicPolicyKey")}

    no_rotation = diagnostic(client, path, "KDS003", "NoRotationKey")
    assert no_rotation.data == {"resource": "NoRotationKey", "fix": 0}
    (action,) = await actions(client, path, [no_rotation], only=[types.CodeActionKind.QuickFix])
    assert (action.title, action.kind, action.is_preferred) == (
        "kds-iac: Turn on automatic rotation of NoRotationKey", types.CodeActionKind.QuickFix, True
    )
    assert list(action.diagnostics) == [no_rotation]
    (document_edit,) = action.edit.document_changes
    assert document_edit.text_document == types.OptionalVersionedTextDocumentIdentifier(uri=path.as_uri(), version=2)
    assert list(document_edit.edits) == [
        types.TextEdit(
            range=types.Range(start=types.Position(7, 41), end=types.Position(7, 41)),  # after "(ünsaved)": UTF-16 units
            new_text="\n      EnableKeyRotation: true",
        )
    ]
    fixed = apply_lsp(text, document_edit.edits)
    assert fixed == text.replace("(ünsaved)\n", "(ünsaved)\n      EnableKeyRotation: true\n")

    # asked at the cursor, without diagnostics (some clients), or with a diagnostic whose data was dropped
    (at_cursor,) = await actions(client, path, [], only=[types.CodeActionKind.QuickFix], where=no_rotation.range)
    assert (at_cursor.title, at_cursor.diagnostics, at_cursor.edit) == (action.title, None, action.edit)
    bare = types.Diagnostic(range=no_rotation.range, message=no_rotation.message, code="KDS003", source="kds-iac")
    (without_data,) = await actions(client, path, [bare], only=[types.CodeActionKind.QuickFix])
    assert without_data.edit == action.edit

    # a diagnostic without a fix gets no quick fix
    public = diagnostic(client, path, "KDS003", "PublicPolicyKey")
    assert "fix" not in public.data
    assert await actions(client, path, [public], only=[types.CodeActionKind.QuickFix]) == []

    change(client, path, 3, fixed)
    await judged(client, path, after=2)
    assert findings(client, path) == {("KDS003", 14, "PublicPolicyKey")}  # a line further down
    assert await actions(client, path, [], only=["source.fixAll"]) == []  # nothing safe left to fix
    assert path.read_text() == on_disk  # the server never writes: the editor applies the edit


@pytest.mark.asyncio
async def test_fix_all_safe_problems_in_file(client: LanguageClient):
    root: Path = client.root  # type: ignore[attr-defined]
    module = root / "trails"
    shutil.copytree(EXAMPLES / "terraform" / "cloudtrail-defects", module)
    path = module / "main.tf"
    text = path.read_text()
    open_document(client, path, text)
    await judged(client, path, after=0)
    before = findings(client, path)
    assert before == {  # the lines of KDS021's examples, 0-based
        ("KDS021", 15, "aws_cloudtrail.logging_off"), ("KDS021", 21, "aws_cloudtrail.single_region"),
        ("KDS021", 28, "aws_cloudtrail.no_validation"), ("KDS021", 35, "aws_cloudtrail.no_kms"),
        ("KDS021", 48, "aws_cloudtrail.management_excluded"), ("KDS021", 63, "aws_cloudtrail.read_only"),
        ("KDS021", 74, "aws_cloudtrail.data_only"),
    }
    (fix_all,) = await actions(client, path, [], only=["source.fixAll"])
    assert (fix_all.title, fix_all.kind) == ("kds-iac: Fix all safe kds-iac problems in file", "source.fixAll.kds-iac")
    (document_edit,) = fix_all.edit.document_changes
    assert document_edit.text_document.version == 1
    fixed = apply_lsp(text, document_edit.edits)
    assert fixed == (
        text.replace("enable_logging             = false", "enable_logging             = true")
        .replace(
            '  kms_key_id                 = aws_kms_key.audit.arn\n}\n\nresource "aws_cloudtrail" "no_validation"',
            '  kms_key_id                 = aws_kms_key.audit.arn\n  is_multi_region_trail      = true\n}\n\n'
            'resource "aws_cloudtrail" "no_validation"',
        )
        .replace(
            '  kms_key_id                 = aws_kms_key.audit.arn\n}\n\nresource "aws_cloudtrail" "no_kms"',
            '  kms_key_id                 = aws_kms_key.audit.arn\n  enable_log_file_validation = true\n}\n\n'
            'resource "aws_cloudtrail" "no_kms"',
        )
        .replace("include_management_events = false", "include_management_events = true")
        .replace('read_write_type = "ReadOnly"', 'read_write_type = "All"')
    )
    # the same edits as one quick fix each
    quick = await actions(client, path, [diagnostic(client, path, "KDS021", "aws_cloudtrail.read_only")])
    assert [a.title for a in quick] == [
        "kds-iac: Record management events in aws_cloudtrail.read_only",
        "kds-iac: Fix all safe kds-iac problems in file",
    ]

    change(client, path, 2, fixed)
    await judged(client, path, after=1)
    # what no single setting fixes, two lines further down (two lines were added above)
    assert findings(client, path) == {("KDS021", 37, "aws_cloudtrail.no_kms"), ("KDS021", 76, "aws_cloudtrail.data_only")}


def test_edits_in_the_agreed_encoding_and_without_document_changes():
    """In-process: columns (code points) become UTF-16 units, or UTF-8 bytes when that was
    agreed; a client that cannot take versioned document changes gets plain ``changes``."""
    from kds_iac.fixes import TextEdit
    from kds_iac.lsp.server import KdsLanguageServer

    server = KdsLanguageServer("test")  # not initialized: no client capabilities, UTF-16
    text = 'tag = "😀é" # x\n'
    edit = TextEdit("/w/main.tf", 1, 11, 1, 12, "")  # the space after the closing quote
    assert server.workspace_edit([edit], {"/w/main.tf": text}, {}) == types.WorkspaceEdit(
        changes={"file:///w/main.tf": [types.TextEdit(range=types.Range(types.Position(0, 11), types.Position(0, 12)), new_text="")]}
    )
    server.encoding = lambda: "utf-8"  # type: ignore[method-assign]
    assert server.workspace_edit([edit], {"/w/main.tf": text}, {}).changes["file:///w/main.tf"][0].range == types.Range(
        types.Position(0, 14), types.Position(0, 15)
    )
