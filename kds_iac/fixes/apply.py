"""From findings to changed files: each finding's edits, a plan of the edits that go
together, and writing or showing it.

A writer per format turns a fix's intents into text edits; this module picks the writer
(a format without one, or a writer that raises, gives no edits: a fix bug never ends a
scan), leaves out fixes whose edits overlap an already planned one (the caller re-scans and
plans again, as ruff does), and writes each file back in its own encoding, byte-order mark
and line endings. It never writes a file the scan did not read, nor through a symbolic
link that leads out of the scanned tree, nor a file that changed since it was read.
"""

from __future__ import annotations

import bisect
import difflib
import importlib
import logging
import os
import sys
import tempfile
from typing import Callable, Iterable, Optional, Sequence

from kds_iac import forked, gc_pause
from kds_iac.files import bom_encoding, decode, inside, kind_of, read_bytes
from kds_iac.fixes import SAFE, UNSAFE, Fix, NewResource, SetSetting, TextEdit, _line_starts, apply_edits
from kds_iac.model import CLOUDFORMATION, TERRAFORM
from kds_iac.value import Value

LOG = logging.getLogger("kds_iac.fixes")

Reader = Callable[[str], str]

# source_format -> the module whose ``text_edits(fix, read)`` writes that format
WRITERS = {TERRAFORM: "kds_iac.fixes.terraform", CLOUDFORMATION: "kds_iac.fixes.cloudformation"}
MAX_PASSES = 5  # apply, re-scan, plan again: a fix left out for an overlap gets its turn


def fix_resources(fix: Fix) -> list:
    """The resources a fix's intents change or write next to."""
    out = []
    for intent in fix.intents:
        if isinstance(intent, SetSetting):
            out.append(intent.resource)
        elif isinstance(intent, NewResource):
            out.append(intent.near)
    return out


def writer_for(fix: Fix) -> Optional[Callable[[Fix, Reader], Optional[list[TextEdit]]]]:
    """The ``text_edits`` of the one format all the fix's resources are written in, or None
    (mixed formats, a plan JSON, a format whose writer is not installed)."""
    module = _writer_module(fix)
    return getattr(module, "text_edits", None) if module is not None else None


def _writer_module(fix: Fix):
    formats = {resource.source_format for resource in fix_resources(fix)}
    if len(formats) != 1:
        return None
    name = WRITERS.get(formats.pop())
    if name is None:
        return None
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        return None


def edits_for(finding, read: Reader) -> Optional[list[TextEdit]]:
    """The text edits of ``finding``'s fix, or None when it has none that can be written with
    certainty (no fix, no writer, the writer declines or raises, edits outside the text)."""
    fix = getattr(finding, "fix", None)
    if fix is None:
        return None
    try:
        writer = writer_for(fix)
        if writer is None:
            return None
        return _valid(fix, writer(fix, read), read, {})
    except Exception:  # noqa: BLE001 - a writer bug: the fix is not offered, the scan goes on
        LOG.debug("kds-iac: the fix writer failed on %r", fix.title, exc_info=True)
        return None


# Fewer fixes than this are written here, whatever ``jobs`` says: a forked helper costs a few
# milliseconds, and the on-save path (one file, a few fixes) must not pay them.
MIN_FORKED_FIXES = 400


def edits_of(findings: Iterable, read: Reader, jobs: int = 1) -> dict[int, list[TextEdit]]:
    """``id(finding)`` -> what ``edits_for`` gives, for every finding whose fix can be written,
    with the work shared: the fixes whose first resource is in one file go to their writer's
    ``text_edits_many(fixes, read)`` together when it has one (it then reads and checks the
    file once for all of them), else to ``text_edits`` one by one.

    With ``jobs`` > 1 and enough fixes, the files' groups are cut in ``jobs`` shares computed at
    once, all but one in forked copies of this process (``kds_iac.forked``); the answers are the
    same. The keys stay valid across the fork: a child's copy of a finding sits at the same
    address, so its ``id`` is the parent's."""
    groups: dict[tuple[Optional[Callable], str], list] = {}
    for finding in findings:
        fix = getattr(finding, "fix", None)
        if fix is None:
            continue
        try:
            writer = writer_for(fix)
        except Exception:  # noqa: BLE001 - as in edits_for
            LOG.debug("kds-iac: no fix writer for %r", fix.title, exc_info=True)
            continue
        if writer is None:
            continue
        module = sys.modules.get(getattr(writer, "__module__", ""))
        # the batch of the module whose text_edits is the writer (not of a writer put in its place)
        many = getattr(module, "text_edits_many", None) if getattr(module, "text_edits", None) is writer else None
        resources = fix_resources(fix)
        location = getattr(resources[0], "location", None) if resources and many is not None else None
        groups.setdefault((many, getattr(location, "file", "")), []).append(finding)
    items = list(groups.items())
    fixes = sum(len(group) for _, group in items)
    with gc_pause.paused():  # composing makes many containers and no garbage cycles
        if jobs > 1 and fixes >= MIN_FORKED_FIXES and forked.can_fork():
            items = _cut_large_groups(items, max(fixes // jobs, MIN_FORKED_FIXES // 4))
            parts = forked.shares(items, [len(group) for _, group in items], jobs)
            return forked.run_shared(parts, lambda part: _edits_of_groups(part, read))
        return _edits_of_groups(items, read)


def _cut_large_groups(items: list, most: int) -> list:
    """A file's group of more than ``most`` fixes (one large template) in pieces of about
    ``most`` (at least 1), so that it too can be shared: a batch's answers are each fix's answer alone, so
    any cut gives the same answers, each piece reading the file once."""
    out = []
    for key, group in items:
        pieces = -(-len(group) // most)
        size = -(-len(group) // pieces)
        out.extend((key, group[start : start + size]) for start in range(0, len(group), size))
    return out


def _edits_of_groups(items: list, read: Reader) -> dict[int, list[TextEdit]]:
    out: dict[int, list[TextEdit]] = {}
    starts: dict[str, tuple[str, list[int]]] = {}  # path -> (text, its line starts): _split
    for (many, _), group in items:
        _group_edits(many, group, read, starts, out)
    return out


def _group_edits(many: Optional[Callable], group: list, read: Reader, starts: dict, out: dict) -> None:
    answers = None
    if many is not None:
        try:
            answers = many([finding.fix for finding in group], read)
        except Exception:  # noqa: BLE001 - a writer bug: each fix is tried alone, as edits_for does
            LOG.debug("kds-iac: the fix writer failed on a batch of %d fixes", len(group), exc_info=True)
    if answers is None or len(answers) != len(group):
        answers = [_alone(finding.fix, read) for finding in group]
    for finding, edits in zip(group, answers):
        try:
            edits = _valid(finding.fix, edits, read, starts)
        except Exception:  # noqa: BLE001 - as in edits_for
            LOG.debug("kds-iac: the fix writer failed on %r", finding.fix.title, exc_info=True)
            edits = None
        if edits is not None:
            out[id(finding)] = edits


def _alone(fix: Fix, read: Reader) -> Optional[list[TextEdit]]:
    try:
        writer = writer_for(fix)
        return writer(fix, read) if writer is not None else None
    except Exception:  # noqa: BLE001 - as in edits_for
        LOG.debug("kds-iac: the fix writer failed on %r", fix.title, exc_info=True)
        return None


def _valid(fix: Fix, edits, read: Reader, starts: dict[str, tuple[str, list[int]]]) -> Optional[list[TextEdit]]:
    """The writer's edits as a list, or None when there are none or one is outside its
    file's text; ``starts`` keeps the line starts of the texts seen (a text is split once)."""
    if not edits:
        return None
    edits = list(edits)
    for edit in edits:
        if not _within(*_split(read, edit.file, starts), edit):
            LOG.debug("kds-iac: fix %r: edit outside the text of %s: %r", fix.title, edit.file, edit)
            return None
    return edits


def _split(read: Reader, file: str, starts: dict[str, tuple[str, list[int]]]) -> tuple[str, list[int]]:
    """``file``'s text as ``read`` gives it, and its line starts, split once per text and kept
    in ``starts`` (a large template's text split for each of its edits grew with it)."""
    text = read(file)
    known = starts.get(file)
    if known is None or known[0] != text:
        known = starts[file] = (text, _line_starts(text))
    return known


def _within(text: str, starts: list[int], edit: TextEdit) -> bool:
    """Both ends on a line of ``text`` (``starts``: its line starts), at most at its end (its
    newline), start before end."""
    for line, column in (edit.start, edit.end):
        if not 1 <= line <= len(starts) or column < 1:
            return False
        end_of_line = starts[line] - 1 if line < len(starts) else len(text)
        if starts[line - 1] + column - 1 > end_of_line:
            return False
    return edit.start <= edit.end


# --------------------------------------------------------------------------- reading files


class _Read(Value):
    __slots__ = ("raw", "text", "codec", "bom")

    def __init__(self, raw: bytes, text: str, codec: str, bom: bytes):
        self.raw = raw
        self.text = text
        self.codec = codec
        self.bom = bom


class Files:
    """The text of files as writers see it (byte-order mark removed, line endings kept), read
    once, with how to encode it back. ``overlays`` (path -> text) stand in for the disk, as an
    editor's unsaved buffers do; such files are never written."""

    def __init__(self, overlays: Optional[dict[str, str]] = None) -> None:
        self._read: dict[str, _Read] = {}
        self._keys: dict[str, str] = {}
        self._overlays = {_key(path): text for path, text in (overlays or {}).items()}

    def __call__(self, path: str) -> str:
        key = self._key(path)
        if key in self._overlays:
            return self._overlays[key]
        return self.load(path).text

    def _key(self, path: str) -> str:
        """``_key(path)``, worked out once per path string (writers read a file once per fix)."""
        key = self._keys.get(path)
        if key is None:
            key = self._keys[path] = _key(path)
        return key

    def load(self, path: str) -> _Read:
        key = self._key(path)
        found = self._read.get(key)
        if found is None:
            raw = read_bytes(path)
            codec, _, skip = bom_encoding(raw)
            found = self._read[key] = _Read(raw, decode(raw), codec or "utf-8", raw[:skip])
        return found


def _key(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


class Scope:
    """What ``--fix`` may write: the files the scan read, each under a scanned directory (a
    named file: its own directory) once symbolic links are resolved, and regular."""

    def __init__(self, paths: Sequence[str], files: Iterable[str]) -> None:
        self.trees = tuple(
            os.path.realpath(path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))) for path in paths
        )
        self.files = {_key(file) for file in files}

    def allows(self, path: str) -> bool:
        if _key(path) not in self.files:
            return False
        real = os.path.realpath(path)
        if not inside(real, self.trees):
            return False
        try:
            return kind_of(os.stat(real).st_mode) is None
        except OSError:
            return False


# --------------------------------------------------------------------------- planning


class Planned(Value):
    """A finding whose fix is in the plan, with its edits (empty: the same edits as an earlier
    finding's fix, which fixes both)."""

    __slots__ = ("finding", "edits")

    def __init__(self, finding, edits: tuple[TextEdit, ...]):
        self.finding = finding
        self.edits = edits

    @property
    def safety(self) -> str:
        return self.finding.fix.safety


class FileChange(Value):
    __slots__ = ("path", "before", "after")

    def __init__(self, path: str, before: str, after: str):
        self.path = path  # as the scan shows it
        self.before = before
        self.after = after


class FixPlan:
    """Edits that apply together, per file, and what was left out and why."""

    def __init__(self, read: Reader) -> None:
        self.read = read
        self.planned: list[Planned] = []
        self.overlapping: list = []  # findings whose edits overlap a planned fix: the next pass
        self.outside: list = []  # findings whose edits touch a file --fix may not write
        self.unsafe: list = []  # findings with an unsafe fix that were not asked for
        self.edits: dict[str, list[TextEdit]] = {}  # file key -> edits
        self.shown: dict[str, str] = {}  # file key -> path as the scan shows it
        self.written: list[str] = []  # after apply(): the paths written
        self.changed: list[str] = []  # after apply(): files that changed on disk since planning
        self._unwritten: set[str] = set()

    def counts(self) -> dict[str, int]:
        counts = {SAFE: 0, UNSAFE: 0}
        for planned in self.planned:
            counts[planned.safety] += 1
        return counts

    def applied(self) -> list[Planned]:
        """After ``apply()``: the planned fixes whose files were all written."""
        return [p for p in self.planned if not any(_key(edit.file) in self._unwritten for edit in p.edits)]

    def changes(self) -> list[FileChange]:
        out = []
        for key in sorted(self.edits, key=lambda k: self.shown[k]):
            before = self.read(self.shown[key])
            after = apply_edits(before, self.edits[key])
            if after != before:
                out.append(FileChange(self.shown[key], before, after))
        return out

    def diff(self) -> str:
        """A unified diff of every planned change, ``--- a/path`` / ``+++ b/path``."""
        chunks = []
        for change in self.changes():
            old, new = ("a/" + change.path, "b/" + change.path) if not os.path.isabs(change.path) else (change.path,) * 2
            lines = difflib.unified_diff(_lines(change.before), _lines(change.after), old, new)
            chunks.append("".join(_terminated(line) for line in lines))
        return "".join(chunks)

    def apply(self) -> list[str]:
        """Write every changed file (not one that changed since it was read: it is named in
        ``changed``); the paths written."""
        files = self.read if isinstance(self.read, Files) else Files()
        for change in self.changes():
            read = files.load(change.path)
            try:
                now = read_bytes(change.path)
            except OSError:
                now = None
            if now != read.raw or read.text != change.before:
                self.changed.append(change.path)
                self._unwritten.add(_key(change.path))
                continue
            _write(change.path, read.bom + change.after.encode(read.codec, errors="surrogatepass"))
            self.written.append(change.path)
        return self.written


def plan(
    findings: Iterable,
    *,
    unsafe: bool = False,
    read: Optional[Reader] = None,
    allowed: Optional[Callable[[str], bool]] = None,
) -> FixPlan:
    """The fixes of ``findings`` (safe ones; unsafe too with ``unsafe``) whose edits apply
    together, in the findings' order; ``allowed(path)`` says which files may change."""
    read = read if read is not None else Files()
    result = FixPlan(read)
    spans: dict[str, _Taken] = {}
    seen: dict[str, set[TextEdit]] = {}  # the edits taken, by file: another fix may make one too
    starts: dict[str, tuple[str, list[int]]] = {}
    findings = [f for f in findings if getattr(f, "fix", None) is not None]
    # a writer's work only for what is applied; a file's fixes written together
    written = edits_of([f for f in findings if unsafe or f.fix.safety != UNSAFE], read)
    for finding in findings:
        fix = finding.fix
        if fix.safety == UNSAFE and not unsafe:
            result.unsafe.append(finding)
            continue
        edits = written.get(id(finding))
        if edits is None:
            continue
        if allowed is not None and not all(allowed(edit.file) for edit in edits):
            result.outside.append(finding)
            continue
        mine = [(_key(edit.file), *_span(read, edit, starts), edit) for edit in edits]
        new = [span for span in mine if span[3] not in seen.get(span[0], ())]
        if any(span[0] in spans and spans[span[0]].overlaps(span[1:3]) for span in new) or _self_overlap(new):
            result.overlapping.append(finding)
            continue
        for key, start, end, edit in new:
            spans.setdefault(key, _Taken()).add((start, end))
            seen.setdefault(key, set()).add(edit)
            result.edits.setdefault(key, []).append(edit)
            result.shown.setdefault(key, edit.file)
        result.planned.append(Planned(finding, tuple(span[3] for span in new)))
    return result


def compatible(groups: Sequence[Sequence[TextEdit]], read: Reader) -> list[int]:
    """The indexes of the edit groups (each a fix's edits) that apply together, taken in
    order as ``plan`` takes findings: a group overlapping an earlier chosen one is left out."""
    chosen: list[int] = []
    spans: dict[str, _Taken] = {}
    starts: dict[str, tuple[str, list[int]]] = {}
    for index, edits in enumerate(groups):
        mine = [(_key(edit.file), *_span(read, edit, starts)) for edit in edits]
        if any(span[0] in spans and spans[span[0]].overlaps(span[1:]) for span in mine):
            continue
        for key, start, end in mine:
            spans.setdefault(key, _Taken()).add((start, end))
        chosen.append(index)
    return chosen


class _Taken:
    """The (start, end) ranges of one file's chosen edits, sorted, so that a new edit is
    compared with the few that can reach it, not with all (a list walked per fix made the
    98,000-stream template's --diff quadratic).

    Sorted by (start, end), the ranges' ends never decrease: a range that ends before an
    earlier-sorted one would lie strictly inside it, sharing text or holding an insertion,
    and neither ``_overlaps`` (between fixes) nor ``_self_overlap`` (within a fix) lets such
    a pair both be chosen. So the ranges that start at or before a new range's end and reach
    its start are the last ones of those that start there. Should a caller's ranges not keep
    to that (a writer's own edits nested), every range is compared, as before."""

    def __init__(self) -> None:
        self.ranges: list[tuple[int, int]] = []
        self.nested = False

    def add(self, span: tuple[int, int]) -> None:
        ranges = self.ranges
        index = bisect.bisect_right(ranges, span)
        ranges.insert(index, span)
        if (index > 0 and ranges[index - 1][1] > span[1]) or (index + 1 < len(ranges) and span[1] > ranges[index + 1][1]):
            self.nested = True

    def overlaps(self, span: tuple[int, int]) -> bool:
        """Whether ``span`` overlaps (``_overlaps``) any range taken."""
        ranges = self.ranges
        if self.nested:
            return any(_overlaps(span, other) for other in ranges)
        index = bisect.bisect_right(ranges, (span[1], sys.maxsize))  # those starting at or before its end
        while index > 0:
            index -= 1
            other = ranges[index]
            if other[1] < span[0]:
                return False  # this one and all before it end before it starts
            if _overlaps(span, other):
                return True
        return False


def _span(read: Reader, edit: TextEdit, starts: dict[str, tuple[str, list[int]]]) -> tuple[int, int]:
    """The edit's (start, end) offsets in its file's text (``starts`` as in ``_split``)."""
    lines = _split(read, edit.file, starts)[1]
    return lines[edit.start_line - 1] + edit.start_column - 1, lines[edit.end_line - 1] + edit.end_column - 1


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Two edits that cannot both apply in one pass: their ranges share text, or an
    insertion falls inside or at an end of the other (whose text would come first is
    not certain)."""
    if a[0] == a[1] or b[0] == b[1]:
        return a[0] <= b[1] and b[0] <= a[1]
    return a[0] < b[1] and b[0] < a[1]


def _self_overlap(spans: list) -> bool:
    """A fix's own edits are the writer's to order; only text shared between them is a bug."""
    for i, a in enumerate(spans):
        for b in spans[i + 1 :]:
            if a[0] == b[0] and a[1] < b[2] and b[1] < a[2]:
                return True
    return False


def offered(findings: Iterable, read: Optional[Reader] = None, jobs: int = 1) -> dict[int, list[TextEdit]]:
    """``id(finding)`` -> its edits, for every finding whose fix can be written: what the
    reports show (``[*]``, JSON ``fix``, SARIF ``fixes``); ``jobs`` as in ``edits_of``."""
    return edits_of(findings, read if read is not None else Files(), jobs)


# --------------------------------------------------------------------------- helpers


def _lines(text: str) -> list[str]:
    """Lines ending at "\n" only, kept with it (``splitlines`` would also cut at form feeds and
    Unicode separators, which are no line ends in a template)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _terminated(line: str) -> str:
    """A diff line without its newline (the file's last line) is followed by git's marker."""
    if line.endswith("\n"):
        return line
    return line + "\n\\ No newline at end of file\n"


def _write(path: str, data: bytes) -> None:
    """Replace the file's content through a temporary file beside it (the real one, links
    resolved), keeping its permissions."""
    real = os.path.realpath(path)
    directory = os.path.dirname(real)
    mode = os.stat(real).st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(prefix=".kds-iac-fix-", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, real)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
