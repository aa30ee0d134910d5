"""``kds-iac lsp`` on a Serverless Framework service: the service file and a fragment it
includes get the findings that sit in them, as the command line reports them."""

from __future__ import annotations

import shutil

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import EXAMPLES
from tests.integrations.test_lsp import validated

E, W = types.DiagnosticSeverity.Error, types.DiagnosticSeverity.Warning


def shown(client: LanguageClient, path) -> set[tuple]:
    """(code, severity, start line, address) per diagnostic; addresses hold brackets."""
    out = set()
    for d in client.diagnostics.get(path.as_uri(), []):
        assert d.source == "kds-iac"
        out.add((d.code, d.severity, d.range.start.line, d.message[d.message.index(" [") + 1 :]))
    return out


@pytest.mark.asyncio
async def test_service_and_its_fragment_get_their_own_findings(client: LanguageClient):  # noqa: F811
    service_dir = client.root / "orders"  # type: ignore[attr-defined]
    shutil.copytree(EXAMPLES / "serverless" / "service-bad", service_dir)
    service, fragment = service_dir / "serverless.yml", service_dir / "resources" / "streams.yml"

    await validated(client, "open", service)
    assert shown(client, service) == {
        ("KDS004", E, 11, "[provider.iamRoleStatements[0]]"),
        ("KDS005", W, 11, "[provider.iamRoleStatements[0]]"),
    }
    assert shown(client, fragment) == {
        ("KDS001", E, 3, "[OrdersStream]"),
        ("KDS001", E, 14, "[AuditStream]"),
    }

    # opened on its own, the fragment is judged with its service, never as a broken template
    await validated(client, "open", fragment)
    assert shown(client, fragment) == {
        ("KDS001", E, 3, "[OrdersStream]"),
        ("KDS001", E, 14, "[AuditStream]"),
    }
