"""KDS004's and KDS005's narrowing fixes through ``kds-iac lsp`` code actions (the real
executable, a pytest-lsp client): a quick fix per finding, and "fix all safe" that narrows a
statement's actions and resources together, giving the same file as ``kds-iac scan --fix``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import EXAMPLES, REPO
from tests.integrations.test_lsp_fixes import actions, apply_lsp, change, diagnostic, findings, judged, open_document

SCAN_FIX = REPO / "tests" / "data" / "fixes" / "expected" / "KDS004-KDS005-scan-fix" / "cloudformation" / "iam-service-roles.yaml"


@pytest.mark.asyncio
async def test_quick_fixes_and_fix_all_narrow_the_service_roles_statements(client: LanguageClient):
    root: Path = client.root  # type: ignore[attr-defined]
    path = root / "iam-service-roles.yaml"
    shutil.copyfile(EXAMPLES / "cloudformation" / "iam-service-roles.yaml", path)
    text = path.read_text()
    open_document(client, path, text)
    await judged(client, path, after=0)
    # the lines of KDS004's and KDS005's examples, 0-based
    assert findings(client, path) == {
        ("KDS004", 46, "LogsToStreamRole"), ("KDS005", 46, "LogsToStreamRole"), ("KDS004", 83, "ArchivePolicy"),
    }

    every_stream = diagnostic(client, path, "KDS005", "LogsToStreamRole")
    (quick, _) = await actions(client, path, [every_stream])
    assert (quick.title, quick.kind, quick.is_preferred) == (
        "kds-iac: Name the streams its roles use instead of every stream: AppLogs", types.CodeActionKind.QuickFix, True
    )
    (document_edit,) = quick.edit.document_changes
    assert apply_lsp(text, document_edit.edits) == text.replace(
        '                Action: kinesis:*\n                Resource: "*"\n',
        "                Action: kinesis:*\n                Resource:\n                  - !GetAtt AppLogs.Arn\n",
    )

    (fix_all,) = await actions(client, path, [], only=["source.fixAll"])
    (document_edit,) = fix_all.edit.document_changes
    fixed = apply_lsp(text, document_edit.edits)
    assert fixed == SCAN_FIX.read_text()

    change(client, path, 2, fixed)
    await judged(client, path, after=1)
    assert findings(client, path) == set()
    assert await actions(client, path, [], only=["source.fixAll"]) == []
