"""The pygls language server behind ``kds-iac lsp`` (stdio).

On ``textDocument/didOpen`` and ``textDocument/didSave`` of a Terraform (``.tf``,
``.tf.json``) or CloudFormation file, the server validates the file's unit (see
``kds_iac.lsp.validate``) and publishes diagnostics:

- ``range``: the offending line, first to last non-blank character;
- ``severity``: Error (critical, high, unreadable input), Warning (medium),
  Information (low, info, a part of the input not checked);
- ``code``: the rule id (``KDS001``), with ``codeDescription.href`` the rule's documentation;
  ``parse``/``input`` for problems with the input itself;
- ``source``: ``kds-iac``; ``message`` ends with the resource address in brackets.

When the engine ran (the unit changed), every file of the unit gets its diagnostics, an
empty list clearing old ones; when the unit came from the cache, only the opened or saved
file is published. Diagnostics follow the file on disk: edits show up when saved. After each validation the
server sends a ``window/logMessage`` (type Log) saying what it did and how long it took.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Optional

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from kds_iac.lsp.validate import Problem, Validation, Validator

LOG = logging.getLogger("kds_iac.lsp")

_SEVERITIES = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
}


class KdsLanguageServer(LanguageServer):
    def __init__(self, version: str) -> None:
        super().__init__("kds-iac", version, text_document_sync_kind=types.TextDocumentSyncKind.None_)
        self.validator = Validator()

    def encoding(self) -> str:
        chosen = getattr(self.workspace, "position_encoding", None) if self._workspace_ready() else None
        value = getattr(chosen, "value", chosen)
        return str(value) if value in ("utf-8", "utf-16", "utf-32") else "utf-16"

    def _workspace_ready(self) -> bool:
        try:
            return self.workspace is not None
        except RuntimeError:  # not initialized yet
            return False

    def check(self, uri: str) -> Optional[Validation]:
        path = to_fs_path(uri) if uri.startswith("file:") else None
        if not path:
            return None
        started = time.perf_counter()
        try:
            validation = self.validator.validate(path)
        except Exception as error:  # never take the server down for one file
            LOG.exception("kds-iac: validating %s failed", path)
            self.window_log_message(types.LogMessageParams(types.MessageType.Error, f"kds-iac: {path}: {error!r}"))
            return None
        encoding = self.encoding()
        real = os.path.realpath(os.path.abspath(path))
        if validation.cached:
            targets = {real: validation.problems.get(real, [])}
        else:
            targets = dict(validation.problems)
            targets.setdefault(real, [])
        for file, problems in targets.items():
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=uri if file == real else from_fs_path(file),
                    diagnostics=[to_diagnostic(p, encoding) for p in problems],
                )
            )
        elapsed = (time.perf_counter() - started) * 1000
        how = "unchanged, from the cache" if validation.cached else f"engine run #{self.validator.scans}"
        count = sum(len(p) for p in targets.values())
        self.window_log_message(
            types.LogMessageParams(
                types.MessageType.Log,
                f"kds-iac: validated {path}: {count} problem{'s' if count != 1 else ''} in {len(targets)} "
                f"file{'s' if len(targets) != 1 else ''} ({how}, {elapsed:.1f} ms)",
            )
        )
        return validation


def to_diagnostic(problem: Problem, encoding: str = "utf-16") -> types.Diagnostic:
    start, end = problem.characters(encoding)
    return types.Diagnostic(
        range=types.Range(
            start=types.Position(line=problem.line, character=start),
            end=types.Position(line=problem.end_line, character=end),
        ),
        message=problem.message,
        severity=_SEVERITIES[problem.severity],
        code=problem.code,
        code_description=types.CodeDescription(href=problem.href) if problem.href else None,
        source=problem.source,
        data={"resource": problem.resource} if problem.resource else None,
    )


def create_server(version: str = "0+unknown") -> KdsLanguageServer:
    server = KdsLanguageServer(version)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: KdsLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.check(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def did_save(ls: KdsLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.check(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: KdsLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        pass  # diagnostics stay, like a compiler's; they change when a file of the unit is saved

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: KdsLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        pass  # the cache compares modification times itself

    return server


def main(version: str = "0+unknown") -> int:
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(levelname)s: %(message)s")  # stderr
    create_server(version).start_io()
    return 0
