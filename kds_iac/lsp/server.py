"""The pygls language server behind ``kds-iac lsp`` (stdio).

The server validates the unit (see ``kds_iac.lsp.validate``) of a Terraform (``.tf``,
``.tf.json``) or CloudFormation file on ``textDocument/didOpen`` and ``didSave`` at once, and
on ``didChange`` after a pause in typing (``debounceMs``, 300 by default), judging the
**unsaved text** of every buffer of the unit edited since it was opened or saved (a buffer
held unedited follows its file on disk). Documents are synced incrementally.

- The engine runs on a worker thread, never on the event loop: requests and other
  documents' notifications are answered while a scan runs. One engine run at a time.
- Every request bumps its unit's generation; a request that is superseded before the engine
  is free never runs, and a result whose generation is no longer current is dropped, so a
  stale result is never published over a newer one.
- At most ``maxDiagnostics`` (200) diagnostics per file, errors first, then one Information
  diagnostic (code ``truncated``) saying how many more findings were not shown.

Diagnostics:

- ``range``: the offending line, first to last non-blank character;
- ``severity``: Error (critical, high, unreadable input), Warning (medium),
  Information (low, info, a part of the input not checked);
- ``code``: the rule id (``KDS001``), with ``codeDescription.href`` the rule's documentation;
  ``parse``/``input`` for problems with the input itself;
- ``data``: ``{"resource": address}`` for a finding (with ``"fix": index`` when its fix can
  be written), ``{"kind": code}`` for a problem with the input
  (``kds_iac.model.DiagnosticCode``: ``parse``, ``encoding``, ``not-read``, ...);
- ``source``: ``kds-iac``; ``message`` ends with the resource address in brackets;
- ``version``: the document version judged, when the file is open.

When the engine ran (the unit changed), every file of the unit gets its diagnostics, an
empty list clearing old ones; when the unit came from the cache, only the opened or saved
file is published (the whole unit when the last publish came from unsaved text). After each
validation the server sends a ``window/logMessage`` (type Log) saying what it did and how long
it took, or that a newer edit superseded it; for an edit, one more when judging starts.

Code actions (``textDocument/codeAction``): a ``quickfix`` per diagnostic whose finding has a
fix (``isPreferred`` when it is safe; an unsafe one says so in its title), and
``source.fixAll.kds-iac``, "Fix all safe kds-iac problems in file". The fixes are kept with the
published diagnostics, so an action needs no new scan; their text edits are computed when an
action is first asked for (a writer's work would otherwise double the time of a validation as
you type), against the text the validation judged: for unsaved buffers, the validation's shadow
tree, kept until the unit's next publish. Document edits carry the version judged, so an editor
refuses them once the text has moved on.

Settings (``initializationOptions``): ``debounceMs``, ``maxDiagnostics``. For tests, the
environment variable ``KDS_IAC_LSP_HOLD_WHILE`` names a file: while it exists, scans wait
on their worker thread before starting (a scan that takes as long as the test needs).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from typing import Any, Callable, Mapping, Optional, Sequence

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from kds_iac.files import is_terraform_file
from kds_iac.lsp.validate import FixEntry, Validation, Validator
from kds_iac.reporting import Problem, units

LOG = logging.getLogger("kds_iac.lsp")

DEBOUNCE_SECONDS = 0.3
MAX_DIAGNOSTICS = 200
HOLD_VARIABLE = "KDS_IAC_LSP_HOLD_WHILE"
SCAN_THREAD = "kds-iac-scan"

_SEVERITIES = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
}
_RANK = {"error": 0, "warning": 1, "information": 2}


class KdsLanguageServer(LanguageServer):
    def __init__(self, version: str) -> None:
        super().__init__("kds-iac", version, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.validator = Validator()
        self.debounce = DEBOUNCE_SECONDS
        self.max_diagnostics = MAX_DIAGNOSTICS
        self.hold = os.environ.get(HOLD_VARIABLE) or None
        self._generations: dict[tuple[str, str], int] = {}
        self._pending: dict[tuple[str, str], asyncio.Task] = {}
        self._from_buffers: set[tuple[str, str]] = set()  # units whose last publish judged unsaved text
        self.dirty: set[str] = set()  # uris edited since they were opened or saved
        # uri -> the fixes of the findings published for it, with the document versions they
        # were computed against (path -> (uri, version)): what code actions offer
        self.fixes: dict[str, tuple[list[FixEntry], dict[str, tuple[str, Optional[int]]]]] = {}
        self._held: dict[tuple[str, str], Validation] = {}  # unit -> the published validation whose shadow its fixes read

    def configure(self, options: Any) -> None:
        """Read ``initializationOptions``; a value of the wrong type keeps the default."""
        if not isinstance(options, dict):
            return
        debounce = options.get("debounceMs")
        if isinstance(debounce, (int, float)) and not isinstance(debounce, bool) and debounce >= 0:
            self.debounce = debounce / 1000
        cap = options.get("maxDiagnostics")
        if isinstance(cap, int) and not isinstance(cap, bool) and cap >= 1:
            self.max_diagnostics = cap

    def encoding(self) -> str:
        chosen = getattr(self.workspace, "position_encoding", None) if self._workspace_ready() else None
        value = getattr(chosen, "value", chosen)
        return str(value) if value in ("utf-8", "utf-16", "utf-32") else "utf-16"

    def _workspace_ready(self) -> bool:
        try:
            return self.workspace is not None
        except RuntimeError:  # not initialized yet
            return False

    # ------------------------------------------------------------------ scheduling

    def schedule(self, uri: str, delay: float, why: str) -> Optional[asyncio.Task]:
        """Validate ``uri``'s unit after ``delay`` seconds, superseding any earlier request for it."""
        path = to_fs_path(uri) if uri.startswith("file:") else None
        if not path:
            return None
        unit = self.validator.unit_of(path)
        key = (unit.kind, unit.root)
        generation = self._generations[key] = self._generations.get(key, 0) + 1
        earlier = self._pending.pop(key, None)
        if earlier is not None and not earlier.done():
            earlier.cancel()  # a debounce still waiting ends here; a running scan's result is dropped
        task = asyncio.ensure_future(self._validate(uri, path, key, generation, delay, why))
        self._pending[key] = task
        return task

    def _current(self, key: tuple[str, str], generation: int) -> bool:
        return self._generations.get(key) == generation

    async def _validate(self, uri: str, path: str, key: tuple[str, str], generation: int, delay: float, why: str) -> None:
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            if not self._current(key, generation):
                return
            buffers, versions = self._buffers()
            if delay > 0:  # an edit: say when judging starts (open and save log once, when done)
                self.window_log_message(types.LogMessageParams(types.MessageType.Log, f"kds-iac: validating {path} ({why})"))
            started = time.perf_counter()
            validation = await _in_thread(lambda: self._run(path, buffers, key, generation))
        except asyncio.CancelledError:
            return
        except Exception as error:  # never take the server down for one file
            LOG.exception("kds-iac: validating %s failed", path)
            self.window_log_message(types.LogMessageParams(types.MessageType.Error, f"kds-iac: {path}: {error!r}"))
            return
        if validation is None or not self._current(key, generation):
            if validation is not None:
                validation.release()
            self.window_log_message(
                types.LogMessageParams(types.MessageType.Log, f"kds-iac: dropped {path}: superseded by a newer edit")
            )
            return
        self.publish(uri, path, key, validation, versions, started, why)

    def _run(self, path: str, buffers: dict[str, str], key: tuple[str, str], generation: int) -> Optional[Validation]:
        """On the worker thread."""
        while self.hold and os.path.exists(self.hold):
            time.sleep(0.02)
        validation = self.validator.validate(path, buffers, current=lambda: self._current(key, generation))
        if key[0] == "terraform" and validation is not None and not validation.cached:
            self.warm_terraform(path)  # a crash or a limit may have ended the worker
        return validation

    def _buffers(self) -> tuple[dict[str, str], dict[str, tuple[str, Optional[int]]]]:
        """The text of the documents edited since they were opened or saved, by absolute path;
        the uri and version of every open document. A document the editor holds unedited
        follows its file, as the editor does when the file changes on disk."""
        buffers: dict[str, str] = {}
        versions: dict[str, tuple[str, Optional[int]]] = {}
        if not self._workspace_ready():
            return buffers, versions
        for uri, document in list(self.workspace.text_documents.items()):
            path = to_fs_path(uri) if uri.startswith("file:") else None
            if path:
                real = os.path.realpath(os.path.abspath(path))
                if uri in self.dirty:
                    buffers[real] = document.source
                versions[real] = (uri, document.version)
        return buffers, versions

    def warm_terraform(self, path: str) -> None:
        """``path`` may be a file URI. Once a Terraform file is open, keep the Terraform
        evaluator ready off the event loop: the supervised tfparse worker process started (and
        started again after a crash or a limit ended it), or tfparse imported where there is
        no worker, so that the next validation does not pay for its start-up."""
        if not is_terraform_file(path):
            return
        path = to_fs_path(path) if path.startswith("file:") else path
        if path:
            threading.Thread(target=_warm_terraform, args=(path,), name="kds-iac-warm", daemon=True).start()

    # ------------------------------------------------------------------ publishing

    def publish(
        self,
        uri: str,
        path: str,
        key: tuple[str, str],
        validation: Validation,
        versions: dict[str, tuple[str, Optional[int]]],
        started: float,
        why: str = "",
    ) -> None:
        encoding = self.encoding()
        real = os.path.realpath(os.path.abspath(path))
        if validation.cached and key not in self._from_buffers:
            targets = {real: validation.problems.get(real, [])}
        else:
            targets = dict(validation.problems)
            targets.setdefault(real, [])
        if validation.buffers:
            self._from_buffers.add(key)
        else:
            self._from_buffers.discard(key)
        earlier = self._held.pop(key, None)
        if earlier is not None and earlier is not validation:
            earlier.release()  # its fixes are replaced below
        if validation.shadow is not None:
            self._held[key] = validation
        for file, problems in targets.items():
            open_uri, version = versions.get(file, (None, None))
            target = uri if file == real else (open_uri or from_fs_path(file))
            fixes = validation.fixes.get(file, [])
            if fixes:
                self.fixes[target] = (fixes, dict(versions))
            else:
                self.fixes.pop(target, None)
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=target,
                    diagnostics=capped(problems, self.max_diagnostics, encoding, fixes),
                    version=version,
                )
            )
        elapsed = (time.perf_counter() - started) * 1000
        if validation.cached:
            how = "unchanged, from the cache"
        elif validation.buffers:
            how = f"engine run #{self.validator.scans} on unsaved text"
        else:
            how = f"engine run #{self.validator.scans}"
        count = sum(len(p) for p in targets.values())
        self.window_log_message(
            types.LogMessageParams(
                types.MessageType.Log,
                f"kds-iac: validated {path}: {count} problem{'s' if count != 1 else ''} in {len(targets)} "
                f"file{'s' if len(targets) != 1 else ''} ({why}; {how}, {elapsed:.1f} ms)",
            )
        )


    # ------------------------------------------------------------------ code actions

    def code_actions(self, params: types.CodeActionParams) -> Optional[list[types.CodeAction]]:
        """A quick fix for each kds-iac diagnostic asked about whose finding has a fix, and
        "fix all safe problems in the file"; from the fixes kept with the last publish."""
        stored = self.fixes.get(params.text_document.uri)
        if stored is None:
            return None
        entries, versions = stored
        only = params.context.only
        actions: list[types.CodeAction] = []
        if _wanted(only, types.CodeActionKind.QuickFix):
            for diagnostic, entry in self._asked(params, entries):
                written = entry.edits()
                if written is None:
                    continue
                title = f"kds-iac: {entry.title}" + ("" if entry.safe else " (unsafe)")
                actions.append(
                    types.CodeAction(
                        title=title,
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic] if diagnostic is not None else None,
                        is_preferred=entry.safe,
                        edit=self.workspace_edit(written[0], written[1], versions),
                    )
                )
        if _wanted(only, FIX_ALL_KIND):
            action = self.fix_all(params.text_document.uri, entries, versions)
            if action is not None:
                actions.append(action)
        return actions or None

    def _asked(
        self, params: types.CodeActionParams, entries: list[FixEntry]
    ) -> list[tuple[Optional[types.Diagnostic], FixEntry]]:
        """The (diagnostic, fix) pairs of the request: the kds-iac diagnostics it names whose
        ``data`` points at a fix of the same finding (a client that drops ``data``: the fix of
        the fixes of the findings on the diagnostic's line with its code; the message is not read). A request that names no
        diagnostic (a cursor position) gets the fixes of the findings on its lines."""
        if not params.context.diagnostics:
            lines = range(params.range.start.line, params.range.end.line + 1)
            return [(None, entry) for entry in entries if entry.line in lines]
        out: list[tuple[Optional[types.Diagnostic], FixEntry]] = []
        for diagnostic in params.context.diagnostics:
            if diagnostic.source != "kds-iac":
                continue
            data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
            index = data.get("fix")
            if isinstance(index, int) and 0 <= index < len(entries):
                entry = entries[index]
                if (entry.code, entry.resource) == (diagnostic.code, data.get("resource")):
                    out.append((diagnostic, entry))
            elif not data:
                out.extend(
                    (diagnostic, entry)
                    for entry in entries
                    if (entry.code, entry.line) == (diagnostic.code, diagnostic.range.start.line)
                )
        return out

    def fix_all(self, uri: str, entries: list[FixEntry], versions: dict) -> Optional[types.CodeAction]:
        """One action with the safe fixes of the file that apply together (an overlapping
        one waits for the next request, as ``kds-iac scan --fix`` waits for its next pass)."""
        from kds_iac.fixes.apply import compatible

        written = [entry.edits() for entry in entries if entry.safe]
        written = [w for w in written if w is not None]
        texts: dict[str, str] = {}
        for _, own in written:
            texts.update(own)
        chosen = compatible([list(edits) for edits, _ in written], texts.__getitem__)
        if not chosen:
            return None
        edits = [edit for index in chosen for edit in written[index][0]]
        return types.CodeAction(
            title="kds-iac: Fix all safe kds-iac problems in file",
            kind=FIX_ALL_KIND,
            edit=self.workspace_edit(edits, texts, versions),
        )

    def workspace_edit(self, edits, texts: Mapping[str, str], versions: dict) -> types.WorkspaceEdit:
        """Text edits as LSP ones (0-based lines, characters in the agreed encoding, counted on
        the text the fix was computed against), one document edit per file, versioned when the
        file was open, so an editor refuses them once the text moved on."""
        encoding = self.encoding()
        by_file: dict[str, list[types.TextEdit]] = {}
        for edit in edits:
            lines = texts[edit.file].split("\n")
            start = _position(lines, edit.start_line, edit.start_column, encoding)
            end = _position(lines, edit.end_line, edit.end_column, encoding)
            by_file.setdefault(edit.file, []).append(types.TextEdit(range=types.Range(start=start, end=end), new_text=edit.text))
        if self._document_changes():
            changes = []
            for file, own in by_file.items():
                open_uri, version = versions.get(file, (None, None))
                identifier = types.OptionalVersionedTextDocumentIdentifier(uri=open_uri or from_fs_path(file), version=version)
                changes.append(types.TextDocumentEdit(text_document=identifier, edits=own))
            return types.WorkspaceEdit(document_changes=changes)
        return types.WorkspaceEdit(
            changes={(versions.get(file, (None,))[0] or from_fs_path(file)): own for file, own in by_file.items()}
        )

    def release_all(self) -> None:
        """Remove the shadow trees kept for code actions (at exit)."""
        for validation in list(self._held.values()):
            validation.release()
        self._held.clear()

    def _document_changes(self) -> bool:
        try:
            workspace = self.client_capabilities.workspace
        except Exception:  # noqa: BLE001 - not initialized: the plain form works everywhere
            return False
        edit = getattr(workspace, "workspace_edit", None) if workspace else None
        return bool(edit and edit.document_changes)


FIX_ALL_KIND = "source.fixAll.kds-iac"


def _wanted(only: Optional[list], kind: str) -> bool:
    """Whether a request limited to ``only`` kinds (None: any) takes actions of ``kind``."""
    if not only:
        return True
    return any(kind == str(o) or kind.startswith(str(o) + ".") for o in only)


def _position(lines: list[str], line: int, column: int, encoding: str) -> types.Position:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return types.Position(line=line - 1, character=units(text, column - 1, encoding))


def _warm_terraform(path: str) -> None:
    try:
        from kds_iac.loaders import tfparse_worker
    except ImportError:  # tfparse runs in this process
        from kds_iac.preload import preload_tfparse_if_terraform

        preload_tfparse_if_terraform([path])
        return
    try:
        tfparse_worker.start()
    except Exception:  # the next evaluation starts it, or reports why it cannot
        LOG.debug("kds-iac: could not start the Terraform worker", exc_info=True)


def _in_thread(work: Callable[[], Any]) -> "asyncio.Future[Any]":
    """Run ``work`` on a daemon thread: unlike an executor's, it never holds up ``exit``
    while the engine is busy (a scan has nothing to save)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def deliver(ok: bool, value: Any) -> None:
        if future.done():  # the waiting task was cancelled
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def target() -> None:
        try:
            value, ok = work(), True
        except BaseException as error:  # handed to the event loop, which logs it
            value, ok = error, False
        try:
            loop.call_soon_threadsafe(deliver, ok, value)
        except RuntimeError:  # the loop is closed: the server is exiting
            pass

    threading.Thread(target=target, name=SCAN_THREAD, daemon=True).start()
    return future


def capped(
    problems: list[Problem], limit: int = MAX_DIAGNOSTICS, encoding: str = "utf-16", fixes: Sequence[FixEntry] = ()
) -> list[types.Diagnostic]:
    """At most ``limit`` diagnostics, the most severe first, then one saying how many more
    there are; a finding's diagnostic with a fix carries the fix's index in ``fixes``."""

    index: dict[tuple, int] = {}
    for i, entry in enumerate(fixes):
        index.setdefault((entry.code, entry.resource, entry.line), i)

    def fix_of(problem: Problem) -> Optional[int]:
        if problem.resource is None:
            return None
        return index.get((problem.code, problem.resource, problem.line))

    if len(problems) <= limit:
        return [to_diagnostic(p, encoding, fix_of(p)) for p in problems]
    kept = sorted(problems, key=lambda p: (_RANK[p.severity], p.line, p.start_character))[:limit]
    kept.sort(key=lambda p: (p.line, p.start_character, p.code or "", p.message))
    hidden = len(problems) - limit
    summary = types.Diagnostic(
        range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
        message=f"{hidden} more findings not shown (at most {limit} per file in the editor; `kds-iac scan` lists them all)",
        severity=types.DiagnosticSeverity.Information,
        code="truncated",
        source="kds-iac",
    )
    return [to_diagnostic(p, encoding, fix_of(p)) for p in kept] + [summary]


def to_diagnostic(problem: Problem, encoding: str = "utf-16", fix: Optional[int] = None) -> types.Diagnostic:
    start, end = problem.characters(encoding)
    if problem.resource:
        data: Optional[dict] = {"resource": problem.resource}
        if fix is not None:
            data["fix"] = fix  # an index into the file's fixes (KdsLanguageServer.fixes)
    else:
        data = {"kind": problem.kind} if problem.kind else None
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
        data=data,
    )


def create_server(version: str = "0+unknown") -> KdsLanguageServer:
    import atexit

    server = KdsLanguageServer(version)
    atexit.register(server.release_all)

    @server.feature(types.INITIALIZE)
    def initialize(ls: KdsLanguageServer, params: types.InitializeParams) -> None:
        ls.configure(params.initialization_options)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: KdsLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.warm_terraform(params.text_document.uri)
        ls.dirty.discard(params.text_document.uri)
        ls.schedule(params.text_document.uri, 0, "opened")

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: KdsLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.dirty.add(params.text_document.uri)
        ls.schedule(params.text_document.uri, ls.debounce, f"edited, version {params.text_document.version}")

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def did_save(ls: KdsLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.dirty.discard(params.text_document.uri)
        ls.schedule(params.text_document.uri, 0, "saved")

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: KdsLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        # Diagnostics stay, like a compiler's; but if they judged text the editor has now
        # discarded, judge the file on disk again.
        ls.dirty.discard(params.text_document.uri)
        path = to_fs_path(params.text_document.uri) if params.text_document.uri.startswith("file:") else None
        if path:
            unit = ls.validator.unit_of(path)
            if (unit.kind, unit.root) in ls._from_buffers:
                ls.schedule(params.text_document.uri, 0, "closed with unsaved edits")

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND]),
    )
    def code_action(ls: KdsLanguageServer, params: types.CodeActionParams) -> Optional[list[types.CodeAction]]:
        return ls.code_actions(params)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: KdsLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        pass  # the cache compares modification times itself

    return server


def main(version: str = "0+unknown") -> int:
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(levelname)s: %(message)s")  # stderr
    create_server(version).start_io()
    if any(thread.name == SCAN_THREAD and thread.is_alive() for thread in threading.enumerate()):
        # A scan still running has nothing to save, and the interpreter's clean-up would share
        # the GIL with it (seen: ~2 s after exit on a 5 MB template): leave now.
        from kds_iac.quick_exit import leave

        leave(0)  # the exit handlers stop the Terraform worker with us
    return 0
