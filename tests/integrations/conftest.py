"""The language server as an editor starts it: one real ``kds-iac lsp`` per test module."""

from __future__ import annotations

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest import declare_organization_trail, tool


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[tool("kds-iac"), "lsp", "--stdio"]))
async def client(lsp_client: LanguageClient, tmp_path_factory):
    """A session on a fresh workspace (``client.root``) that declares an organization trail."""
    root = tmp_path_factory.mktemp("workspace")
    declare_organization_trail(root)
    lsp_client.initialized_with = await lsp_client.initialize_session(  # type: ignore[attr-defined]
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="workspace")],
        )
    )
    lsp_client.root = root  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()
