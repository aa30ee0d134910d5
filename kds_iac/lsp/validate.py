"""What the language server does with a file, saved or not, without any LSP types.

A file belongs to a **unit**, what the engine must read to judge it, exactly as the command
line would: a ``.tf``/``.tf.json`` file is judged with its module directory (a variable
declared in a sibling file resolves; local modules it calls are read too), any other file
on its own (a CloudFormation template, SAM or CDK output, a plan JSON; other YAML/JSON is
not ours and gets no diagnostics).

``Validator.validate(path)`` runs ``kds_iac.engine.scan`` on the unit and returns a
``Problem`` list for every file of the unit, so saving ``variables.tf`` refreshes the
findings shown in ``main.tf``. The result is cached per unit with the modification time
and size of every file the engine read, the unit's directory listing and the settings
file: validating a file whose unit has not changed (re-opening it, opening a sibling,
saving without edits) costs a few ``stat`` calls.

Unsaved text: ``validate(path, overlays)`` takes the editor's open buffers (absolute path ->
text). When a buffer of the unit differs from its file, the unit is judged in a **shadow
tree** under a temporary directory, from the nearest ancestor that the module's local
``source``s and ``../`` paths reach down: the directories on the way to an edited buffer are
real directories there, with the buffer written in; the small files beside it are copies (the
Terraform loader confines file reads to the scanned directory, links followed); every other
entry is a symbolic link to the user's file or directory. So ``../modules/x``,
``file("${path.module}/policy.json")`` and CloudTrail companions read as on disk, and nothing
is ever written into the user's tree. Paths are mapped back to the user's files before they leave this module.
Such a run is never cached (the buffer changes with every keystroke).

A file once recognized as a template or plan stays claimed: when a save or an edit makes it
unrecognizable (garbage, a half-typed header), its loader's error is reported with its line
instead of clearing the file's diagnostics.

A problem's range is the offending line from its first to its last non-blank character
(the resource's header line when the whole block is the problem), converted to the position
encoding the client agreed on (UTF-16 unless it asked for another).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Optional

from kds_iac.files import is_terraform_file as _is_terraform
from kds_iac.reporting import Problem, problems_of
from kds_iac.reporting import absolute_path as _absolute

LOG = logging.getLogger("kds_iac.lsp")

TERRAFORM_UNIT = "terraform"
FILE_UNIT = "file"

@dataclass(frozen=True)
class Unit:
    kind: str  # TERRAFORM_UNIT or FILE_UNIT
    root: str  # the module directory, or the file itself (absolute, real path)

    def members(self) -> list[str]:
        """The files whose problems this unit owns (the files a user edits)."""
        if self.kind == FILE_UNIT:
            return [self.root]
        try:
            names = sorted(os.listdir(self.root))
        except OSError:
            return []
        return [os.path.join(self.root, n) for n in names if _is_terraform(n) and os.path.isfile(os.path.join(self.root, n))]

    def listing(self) -> tuple[str, ...]:
        """Names in the module directory that change what Terraform evaluates."""
        if self.kind == FILE_UNIT:
            return ()
        try:
            names = os.listdir(self.root)
        except OSError:
            return ()
        return tuple(sorted(n for n in names if _is_terraform(n) or n.endswith(".tfvars") or n.endswith(".tfvars.json")))


class FixEntry:
    """A finding's fix, kept with the validation that found it so a code action needs no new
    scan. ``code``, ``resource`` and ``line`` (0-based) are those of the finding's problem.
    The text edits are computed when first asked for (``edits()``), against the text the
    validation judged: the files it read (for unsaved buffers, the shadow tree, which the
    validation keeps until the server lets it go), with paths mapped back to the user's."""

    def __init__(self, finding, read: Callable[[str], str], real_of: Callable[[str], str] = lambda path: path):
        self.finding = finding
        self.code: str = finding.rule.id
        self.resource: str = finding.address
        self.line: int = finding.primary_line - 1
        self.title: str = finding.fix.title
        self.safe: bool = finding.fix.is_safe
        self.read = read
        self.real_of = real_of
        self._edits: Optional[tuple[tuple, dict[str, str]]] = None
        self._tried = False

    def mapped(self, real_of: Callable[[str], str]) -> "FixEntry":
        return FixEntry(self.finding, self.read, real_of)

    def edits(self) -> Optional[tuple[tuple, dict[str, str]]]:
        """(text edits on the user's absolute paths, the text of each edited file they apply
        to), or None when the fix cannot be written with certainty."""
        if not self._tried:
            self._tried = True
            from kds_iac.fixes.apply import edits_for

            edits = edits_for(self.finding, self.read)
            if edits is not None:
                user = {e.file: _absolute(self.real_of(os.path.abspath(e.file))) for e in edits}
                self._edits = (
                    tuple(e.replace(file=user[e.file]) for e in edits),
                    {user[e.file]: self.read(e.file) for e in edits},
                )
        return self._edits


@dataclass
class Validation:
    """The problems of every file of a unit, and whether they came from the cache."""

    unit: Unit
    problems: dict[str, list[Problem]]  # absolute path -> problems (empty list: clear the file)
    cached: bool = False
    buffers: tuple[str, ...] = ()  # the files judged from unsaved text instead of the disk
    fixes: dict[str, list[FixEntry]] = field(default_factory=dict)  # absolute path -> its findings' fixes
    # the shadow tree of unsaved buffers the fixes read, kept until ``release()``
    shadow: Optional["_Shadow"] = None

    def release(self) -> None:
        """Remove the shadow tree the fixes would read (the server calls it once the
        validation's fixes can no longer be asked for)."""
        if self.shadow is not None:
            self.shadow.__exit__()
            self.shadow = None


@dataclass
class _Entry:
    fingerprint: tuple
    watched: tuple[str, ...]
    problems: dict[str, list[Problem]]
    config_source: Optional[str] = None
    fixes: dict[str, list[FixEntry]] = field(default_factory=dict)


@dataclass
class Validator:
    """Validates files unit by unit and remembers each unit's problems until a file changes."""

    cache: dict[tuple[str, str], _Entry] = field(default_factory=dict)
    scans: int = 0  # engine runs so far (tests and benchmarks read it)
    claimed: dict[str, str] = field(default_factory=dict)  # file -> "cloudformation" or "plan", once seen as such
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _failure_problems: dict[str, list[Problem]] = field(default_factory=dict)

    def unit_of(self, path: str) -> Unit:
        real = os.path.realpath(os.path.abspath(path))
        if _is_terraform(os.path.basename(real)):
            return Unit(TERRAFORM_UNIT, os.path.dirname(real))
        return Unit(FILE_UNIT, real)

    def validate(
        self,
        path: str,
        overlays: Optional[Mapping[str, str]] = None,
        current: Optional[Callable[[], bool]] = None,
    ) -> Optional[Validation]:
        """Judge the unit of ``path``; ``overlays`` are the editor's buffers (absolute path ->
        text). ``current()`` is asked once the engine is free: when it says the request was
        superseded, nothing runs and ``None`` is returned (one engine run at a time)."""
        unit = self.unit_of(path)
        key = (unit.kind, unit.root)
        with self._lock:
            if current is not None and not current():
                return None
            edited = _edited(unit, overlays or {})
            if edited:
                return self._validate_buffers(unit, edited)
            entry = self.cache.get(key)
            if entry is not None and entry.fingerprint == _fingerprint(unit, entry.watched):
                return Validation(unit, entry.problems, cached=True, fixes=entry.fixes)
            entry = self._scan(unit)
            if entry is not None:
                self.cache[key] = entry
                return Validation(unit, entry.problems, fixes=entry.fixes)
            self.cache.pop(key, None)
            return Validation(unit, self._failure_problems)

    def _validate_buffers(self, unit: Unit, edited: dict[str, str]) -> Validation:
        ancestor = _reach(unit.root, edited) if unit.kind == TERRAFORM_UNIT else os.path.dirname(unit.root)
        shadow = _Shadow(ancestor, edited).__enter__()
        try:
            shadow_unit = Unit(unit.kind, shadow.shadow_of(unit.root))
            entry = self._scan(shadow_unit, real=unit)
            problems = entry.problems if entry is not None else self._failure_problems
            fixes = shadow.map_fixes_back(entry.fixes) if entry is not None else {}
            validation = Validation(unit, shadow.map_back(problems), buffers=tuple(sorted(edited)), fixes=fixes)
        except BaseException:
            shadow.__exit__()
            raise
        if fixes:
            validation.shadow = shadow  # the fixes read the judged text from it
        else:
            shadow.__exit__()
        return validation

    def forget(self, path: Optional[str] = None) -> None:
        """Drop the cached unit of ``path`` (every unit when ``None``)."""
        with self._lock:
            if path is None:
                self.cache.clear()
            else:
                unit = self.unit_of(path)
                self.cache.pop((unit.kind, unit.root), None)

    # ------------------------------------------------------------------ one engine run

    def _scan(self, unit: Unit, real: Optional[Unit] = None) -> Optional[_Entry]:
        """One engine run over ``unit``; ``real`` is the user's unit when ``unit`` is its
        shadow (settings are looked up, and files claimed, where the user keeps them)."""
        from kds_iac.config import discovered_config

        real = real or unit
        members = unit.members()
        problems: dict[str, list[Problem]] = {m: [] for m in members}
        if not members:
            return _Entry(_fingerprint(unit, ()), (), problems)
        if unit.kind == FILE_UNIT:
            kind = _kind_of(unit.root)
            if kind in ("cloudformation", "plan"):
                self.claimed[real.root] = kind
            elif kind is None:
                watched = (unit.root,)
                return _Entry(_fingerprint(unit, watched), watched, {unit.root: self._unrecognized(unit.root, real.root)})

        start = real.root if real.kind == TERRAFORM_UNIT else os.path.dirname(real.root)
        config, config_source, error = discovered_config([start], start)
        if error is not None:
            problems[members[0]].append(_whole_file_problem(members[0], f"settings ignored: {error}", "config"))

        from kds_iac import engine

        self.scans += 1
        try:
            result = engine.scan(members, config=config)
        except Exception as error:  # a bug: say so in the editor, never silence
            LOG.exception("kds-iac: the engine failed on %s", unit.root)
            self._failure_problems = {
                members[0]: [_whole_file_problem(members[0], f"internal error, please report it: {error!r}", "internal")]
            }
            return None
        for file, found in problems_of(result).items():
            problems.setdefault(file, []).extend(found)
        watched = tuple(sorted({*members, *(_absolute(f) for f in result.files), *([config_source] if config_source else [])}))
        return _Entry(_fingerprint(unit, watched), watched, problems, config_source, fixes_of(result.findings))

    def _unrecognized(self, path: str, real: str) -> list[Problem]:
        """A claimed file that no longer reads as a template or plan: its loader's errors, with
        their lines; someone else's YAML or JSON (never claimed) gets nothing."""
        kind = self.claimed.get(real)
        if kind is None:
            return []
        from kds_iac.engine import ScanResult

        if kind == "plan":
            from kds_iac.loaders.terraform_plan import load_plan as load
        else:
            from kds_iac.loaders.cloudformation import load_template as load
        try:
            model = load(path)
        except Exception as error:  # a bug: say so in the editor, never silence
            LOG.exception("kds-iac: the loader failed on %s", path)
            return [_whole_file_problem(path, f"internal error, please report it: {error!r}", "internal")]
        errors = [d for d in model.diagnostics if d.level == "error"]
        if not errors:
            return []
        return problems_of(ScanResult(diagnostics=errors)).get(_absolute(path), [])


def fixes_of(findings: Iterable) -> dict[str, list[FixEntry]]:
    """The fixes of ``findings``, by the absolute path of the finding's file; nothing is
    written or computed yet (a writer's work waits for a code action)."""
    out: dict[str, list[FixEntry]] = {}
    read = None
    for finding in findings:
        if finding.fix is None:
            continue
        if read is None:
            from kds_iac.fixes.apply import Files

            read = Files()
        out.setdefault(_absolute(finding.location.file), []).append(FixEntry(finding, read))
    return out


def _whole_file_problem(file: str, message: str, code: str) -> Problem:
    return Problem(file=file, line=0, start_character=0, end_line=0, end_character=0, severity="error", message=message, code=code)


# --------------------------------------------------------------------------- helpers


def _kind_of(path: str) -> Optional[str]:
    """"cloudformation" or "plan", recognized by content like the command line; "unreadable"
    (too large, cannot be read: the engine says so); ``None`` for someone else's YAML or JSON."""
    from kds_iac.loaders.discovery import discover
    from kds_iac.model import DiagnosticCode

    found = discover([path])
    if found.terraform_plans:
        return "plan"
    if found.cloudformation_templates or found.serverless_services:  # a service is CloudFormation underneath
        return "cloudformation"
    if any(d.code != DiagnosticCode.NOT_A_TEMPLATE for d in found.diagnostics):
        return "unreadable"
    return None


def _fingerprint(unit: Unit, watched: Iterable[str]) -> tuple:
    return (unit.listing(), tuple((path, _stat(path)) for path in watched))


def _stat(path: str) -> Optional[tuple[int, int]]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


# --------------------------------------------------------------------------- unsaved buffers


def _read_text(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            return handle.read()
    except OSError:
        return None


def _edited(unit: Unit, overlays: Mapping[str, str]) -> dict[str, str]:
    """The buffers of ``unit``'s files whose text differs from the file on disk."""
    edited: dict[str, str] = {}
    for path, text in overlays.items():
        real = _absolute(path)
        if unit.kind == FILE_UNIT:
            if real != unit.root:
                continue
        elif os.path.dirname(real) != unit.root or not _is_terraform(os.path.basename(real)):
            continue
        if _read_text(real) != text:
            edited[real] = text
    return edited


_LOCAL_SOURCE = re.compile(r'^[ \t]*source[ \t]*=[ \t]*"(\.{1,2}/[^"]*)"', re.MULTILINE)  # [ \t]*: \s* after ^ is quadratic
_UPWARD = re.compile(r"(?:\.\./)+")
_REACH_LIMIT = 64  # module directories followed; deeper trees are unusual and still load


def _reach(root: str, edited: Mapping[str, str]) -> str:
    """The nearest ancestor of ``root`` that holds every directory the module can read
    through local module sources (followed down their own calls) and ``../`` paths."""
    ancestor = root
    seen: set[str] = set()
    todo = [root]
    while todo and len(seen) < _REACH_LIMIT:
        directory = todo.pop()
        if directory in seen:
            continue
        seen.add(directory)
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            if not _is_terraform(name):
                continue
            path = os.path.join(directory, name)
            text = edited.get(path)
            if text is None:
                text = _read_text(path) or ""
            for source in _LOCAL_SOURCE.findall(text):
                target = os.path.normpath(os.path.join(directory, source))
                todo.append(target)
                ancestor = os.path.commonpath([ancestor, target])
            for run in _UPWARD.findall(text):
                target = os.path.normpath(os.path.join(directory, *[".."] * run.count("../")))
                ancestor = os.path.commonpath([ancestor, target])
    return ancestor


_COPY_LIMIT = 1024 * 1024  # siblings up to this size are copied beside an edited buffer


def _small_regular_file(path: str) -> bool:
    try:
        return not os.path.islink(path) and os.path.isfile(path) and os.path.getsize(path) <= _COPY_LIMIT
    except OSError:
        return False


class _Shadow:
    """A temporary tree that shows ``ancestor`` with ``edited`` buffers in place of their
    files: directories on the way to an edited file are real, the small files beside an edited
    buffer are copies, all else links to the user's tree. Removed on exit (``rmtree`` unlinks
    the links, never what they point to)."""

    def __init__(self, ancestor: str, edited: Mapping[str, str]) -> None:
        self.ancestor = ancestor
        self.edited = dict(edited)
        self.temporary = ""
        self.root = ""

    def __enter__(self) -> "_Shadow":
        self.temporary = tempfile.mkdtemp(prefix="kds-iac-lsp-")
        try:
            self._build()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _build(self) -> None:
        self.root = os.path.join(os.path.realpath(self.temporary), "tree")
        directories: set[str] = set()
        edited_directories = {os.path.dirname(f) for f in self.edited}
        for file in self.edited:
            directory = os.path.dirname(file)
            while True:
                directories.add(directory)
                if directory == self.ancestor or os.path.dirname(directory) == directory:
                    break
                directory = os.path.dirname(directory)
        for directory in sorted(directories):  # parents first
            shadow = self.shadow_of(directory)
            os.makedirs(shadow, exist_ok=True)
            try:
                names = os.listdir(directory)
            except OSError:
                names = []
            holds_edit = directory in edited_directories
            for name in names:
                real = os.path.join(directory, name)
                if real in directories or real in self.edited:
                    continue
                if holds_edit and _small_regular_file(real):
                    # a copy, not a link: readers that confine file reads to the scanned
                    # directory follow links, and would find a sibling outside it
                    shutil.copyfile(real, os.path.join(shadow, name))
                else:
                    os.symlink(real, os.path.join(shadow, name))
        for file, text in self.edited.items():
            with open(self.shadow_of(file), "w", encoding="utf-8", errors="surrogatepass", newline="") as handle:
                handle.write(text)

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.temporary, ignore_errors=True)

    def shadow_of(self, real: str) -> str:
        return os.path.normpath(os.path.join(self.root, os.path.relpath(real, self.ancestor)))

    def real_of(self, path: str) -> str:
        if path == self.root or path.startswith(self.root + os.sep):
            return self.ancestor + path[len(self.root) :]
        return path

    def map_fixes_back(self, fixes: Mapping[str, list[FixEntry]]) -> dict[str, list[FixEntry]]:
        """Fixes keyed by, and editing, the user's paths."""
        out: dict[str, list[FixEntry]] = {}
        for file, entries in fixes.items():
            out.setdefault(self.real_of(file), []).extend(entry.mapped(self.real_of) for entry in entries)
        return out

    def map_back(self, problems: Mapping[str, list[Problem]]) -> dict[str, list[Problem]]:
        """Problems keyed and located by the user's paths; messages too."""
        out: dict[str, list[Problem]] = {}
        for file, found in problems.items():
            real = self.real_of(file)
            out.setdefault(real, []).extend(
                p.replace(file=self.real_of(p.file), message=p.message.replace(self.root, self.ancestor)) for p in found
            )
        return out
