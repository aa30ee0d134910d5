"""The Terraform fix writer: a ``Fix``'s intents as text edits to ``.tf`` files.

Blocks and attributes are found with the loader's HCL scanner (``hcl_syntax``), which knows
where strings, comments and heredocs are; nothing is parsed twice on the scan path, since
this runs only when a front-end asks for a fix's edits. The intents are made one after the
other on the files' text as ``read`` gives it (so a second setting of a block that the first
one created lands in that block, and two insertions at one point keep their order); each
change is kept in the offsets of the text as read, so the edits say exactly what was written
and never overlap. New lines follow the file: its line ending, its indentation (tabs or
spaces), and ``=`` aligned the way ``terraform fmt`` aligns it where the neighbours are.

Anything unsure gives ``None`` (the fix is then not offered): an attribute set from an input
(changing it would override what the deployer chooses), a ``dynamic`` block or two blocks
where one is expected, a body written on its header's line, a place inside a comment, a
reference to another module or to an instance the model cannot name. A fix whose settings
already hold gives no edits (``[]``).
"""

from __future__ import annotations

import bisect
import functools
import json
import os
import re
from typing import Any, Callable, Optional

from kds_iac.fixes import Fix, Link, NewResource, SetSetting, TextEdit
from kds_iac.loaders.hcl_syntax import FILL, Body, Item, SourceFile
from kds_iac.loaders.terraform_override import is_override_file
from kds_iac.model import TERRAFORM, Resource

_IDENT = r"[A-Za-z_][A-Za-z0-9_-]*"
_PATH_PART = re.compile(rf"({_IDENT})(?:\[(\d+)\])?\Z")
_NAME = re.compile(rf"{_IDENT}\Z")
# a quoted string with no interpolation or directive
_PLAIN_STRING = r'"(?:[^"\\\n$%]|\\.|\$\$\{|%%\{|\$(?!\{)|%(?!\{))*"'
_NOT_RESOURCES = ("var", "local", "module", "each", "count", "path", "terraform", "self")
# aws_kms_key.k.arn, aws_kms_key.k[0].arn, data.aws_kms_key.k["a"].arn: nothing the deployer sets
_PLAIN_REFERENCE = (
    rf"(?!(?:{'|'.join(_NOT_RESOURCES)})\.)"
    rf'(?:data\.)?{_IDENT}\.{_IDENT}(?:\[(?:[0-9]+|"[^"\\\n$%]*")\])?(?:\.{_IDENT})+'
)
_ELEMENT = rf"(?:{_PLAIN_STRING}|{_PLAIN_REFERENCE})"
_LITERAL = re.compile(
    rf"(?:{_PLAIN_STRING}"
    r"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
    r"|true|false|null"
    rf"|{_PLAIN_REFERENCE}"
    rf"|\[\s*(?:{_ELEMENT}\s*,\s*)*(?:{_ELEMENT}\s*)?\])\Z"
)
_REFERENCE = re.compile(rf"{_PLAIN_REFERENCE}\Z")
_ATTR_LINE = re.compile(rf"^([ \t]*)({_IDENT})([ \t]*)=(?![=>])", re.MULTILINE)
_INDENT = re.compile(r"^[ \t]+(?=[^ \t\r\n])", re.MULTILINE)


class _Refuse(Exception):
    """The fix cannot be written with certainty."""


def text_edits(fix: Fix, read: Callable[[str], str]) -> Optional[list[TextEdit]]:
    """The edits that make ``fix`` in Terraform files, or ``None`` when they cannot be certain."""
    return _edits_or_none(fix, read, _Shared())


def text_edits_many(fixes: list[Fix], read: Callable[[str], str]) -> list[Optional[list[TextEdit]]]:
    """``text_edits`` of each fix, in order, for fixes that mostly edit the same files (a file's
    findings): what does not depend on the fix (a text's scan and top-level blocks, its key
    names, a directory's listing) is worked out once for all of them. Each fix is still
    written alone on the files as read, so each answer is ``text_edits``' answer (two fixes
    that add a key in one module both get the name it would get alone)."""
    shared = _Shared()
    return [_edits_or_none(fix, read, shared) for fix in fixes]


def _edits_or_none(fix: Fix, read: Callable[[str], str], shared: _Shared) -> Optional[list[TextEdit]]:
    try:
        return _Writer(fix, read, shared).edits()
    except (_Refuse, OSError, UnicodeError):
        return None


class _Shared:
    """What the fixes of one call share: each text's scan (by path and text: a buffer can
    differ from the disk), the ``aws_kms_key`` names a text declares, directory listings (a
    call sees the directory once)."""

    def __init__(self) -> None:
        self.sources: dict[tuple[str, str], SourceFile] = {}
        self.key_names: dict[tuple[str, str], Optional[frozenset[str]]] = {}  # None: not JSON
        self.listings: dict[str, _Listing] = {}

    def source(self, path: str, text: str) -> SourceFile:
        found = self.sources.get((path, text))
        if found is None:
            found = self.sources[(path, text)] = _source(path, text)
        return found

    def listing(self, directory: str) -> _Listing:
        found = self.listings.get(directory)
        if found is None:
            found = self.listings[directory] = _Listing(directory)
        return found


class _Listing:
    """A module directory's configuration files, in name order, as (path, whether JSON): all
    of them, and its override files."""

    __slots__ = ("files", "overrides")

    def __init__(self, directory: str) -> None:
        self.files: list[tuple[str, bool]] = []
        self.overrides: list[tuple[str, bool]] = []
        for entry in sorted(os.listdir(directory or ".")):
            is_json = entry.endswith(".tf.json")
            if not (is_json or entry.endswith(".tf")):
                continue
            path = os.path.join(directory, entry)
            self.files.append((path, is_json))
            if is_override_file(entry):
                self.overrides.append((path, is_json))


class _Window:
    """One top-level block as the file's current text has it: a ``SourceFile`` of just the
    block's lines (so a fix's second intent does not scan the whole file again), what to add
    to its offsets to have the file's, the block, the whole file as read (its layout habits),
    and where the block's lines start in ``source`` (nothing before them is looked at).

    While a fix has not changed the block's lines, ``source`` is the file as read itself: its
    scan reads those lines as a scan of them alone would (they start in code, and nothing
    but blanks follows the block), and the many fixes of a file share it."""

    __slots__ = ("source", "base", "block", "whole", "floor")

    def __init__(self, source: SourceFile, base: int, block: Item, whole: SourceFile, floor: int = 0):
        self.source = source
        self.base = base
        self.block = block
        self.whole = whole
        self.floor = floor


class _Writer:
    """One fix's intents made on the files' text, in order, then read back as edits."""

    def __init__(self, fix: Fix, read: Callable[[str], str], shared: _Shared):
        self.fix = fix
        self.read = read
        self.shared = shared
        self.files: dict[str, _File] = {}
        self.names: dict[int, str] = {}  # index of a NewResource intent -> the name it gets
        # new keys to write after a block: (file, offset in the text as read) -> their text
        self.new_keys: dict[tuple[str, int], list[str]] = {}

    # -- driver ------------------------------------------------------------------------

    def edits(self) -> list[TextEdit]:
        intents = self.fix.intents
        if not intents:
            raise _Refuse()
        for intent in intents:
            if isinstance(intent, SetSetting):
                _check_resource(intent.resource)
            elif isinstance(intent, NewResource):
                _check_resource(intent.near)
            else:
                raise _Refuse()
        self._name_new_resources()
        for index, intent in enumerate(intents):
            if isinstance(intent, SetSetting):
                self._set(intent)
            else:
                self._add(index, intent)
        self._write_new_keys()
        edits: list[TextEdit] = []
        for file in self.files.values():
            # a changed file was scanned as read: its line starts are there already
            edits.extend(file.edits(self._whole(file.path).line_starts if file.changes else None))
        return edits

    def _file(self, path: str) -> _File:
        if path not in self.files:
            self.files[path] = _File(path, self.read(path))
        return self.files[path]

    def _whole(self, path: str) -> SourceFile:
        """The file as read, scanned."""
        return self.shared.source(path, self._file(path).original)

    def _window(self, resource: Resource) -> _Window:
        """The resource's block in the file's current text."""
        path = resource.location.file
        file = self._file(path)
        whole = self.shared.source(path, file.original)
        item = _block_of(whole, resource)
        if self._overridden(os.path.dirname(path), (item.name, *item.labels)):
            raise _Refuse()
        line_start = _line_start(whole, item.offset)
        line_end = whole.masked.find("\n", item.end)
        line_end = len(whole.text) if line_end < 0 else line_end
        if whole.text[line_start : item.offset].strip(" \t"):
            raise _Refuse()  # code before the block's header on its line
        start, end = file.map(line_start, after=True), file.map(line_end)
        if start is None or end is None:
            raise _Refuse()
        if not whole.text[item.end + 1 : line_end].strip(" \t\r") and (
            file.part(start, end) == whole.text[line_start:line_end]
        ):
            return _Window(whole, start - line_start, item, whole, line_start)
        source = _unscanned(path, file.part(start, end))
        blocks = _headers(source).get((item.name, *item.labels), [])
        if len(blocks) != 1 or blocks[0].offset != item.offset - line_start:
            raise _Refuse()
        return _Window(source, start, blocks[0], whole)

    def _overridden(self, directory: str, header: tuple[str, ...]) -> bool:
        """Whether an override file of the module (``override.tf``, ``x_override.tf``) writes
        the block too: Terraform merges it over the block, so an edit of the block could be
        overruled (a block written only in an override file is not edited either)."""
        for path, is_json in self.shared.listing(directory).overrides:
            if is_json:
                text = self.read(path)
                if all(f'"{label}"' in text for label in header[1:]):
                    return True  # named there: not looked into further
            elif header in _index(self._whole(path)):
                return True
        return False

    def _edit(self, window: _Window, changes: list[tuple[int, int, str]]) -> None:
        """Make (start, end, text) changes, given in the window's offsets, to the file."""
        source = window.source
        for start, end, _ in changes:
            if _inside_text(source.text, source.masked, start, window.floor) or _inside_text(
                source.text, source.masked, end, window.floor
            ):
                raise _Refuse()
        file = self.files[source.path]
        # from the last to the first, so that each one's offsets still hold when it is made
        for start, end, new in sorted(changes, key=lambda change: (change[0], change[1]), reverse=True):
            file.change(window.base + start, window.base + end, new)

    # -- new resources -----------------------------------------------------------------

    def _name_new_resources(self) -> None:
        """Each new key's final name, decided once: taken names get ``_2``, ``_3``, ..."""
        taken: dict[str, set[str]] = {}
        for index, intent in enumerate(self.fix.intents):
            if not isinstance(intent, NewResource):
                continue
            if intent.kind != "kms_key" or not _NAME.match(intent.name or ""):
                raise _Refuse()
            directory = os.path.dirname(intent.near.location.file)
            if directory not in taken:
                taken[directory] = self._key_names_in(directory)
            name, suffix = intent.name, 1
            while name in taken[directory]:
                suffix += 1
                name = f"{intent.name}_{suffix}"
            taken[directory].add(name)
            self.names[index] = name

    def _key_names_in(self, directory: str) -> set[str]:
        """Names of the ``aws_kms_key`` resources the module directory declares."""
        names: set[str] = set()
        cache = self.shared.key_names
        for path, is_json in self.shared.listing(directory).files:
            if not is_json:
                text = self._file(path).original
                found = cache.get((path, text))
                if found is None:
                    found = cache[(path, text)] = _tf_key_names(self._whole(path))
            else:
                text = self.read(path)
                if (path, text) not in cache:
                    cache[(path, text)] = _json_key_names(text)
                found = cache[(path, text)]
                if found is None:
                    raise _Refuse()
            names.update(found)
        return names

    def _add(self, index: int, intent: NewResource) -> None:
        """A new key's block, written after the block of ``near`` (after the keys added there
        before it) once every intent is made."""
        near = intent.near
        path = near.location.file
        whole = self._whole(path)
        item = _block_of(whole, near)
        masked = whole.masked
        line_end = masked.find("\n", item.end)
        line_end = len(masked) if line_end < 0 else line_end
        if masked[item.end + 1 : line_end].strip():
            raise _Refuse()  # something else after the block's closing brace
        at = min(line_end + 1, len(masked))
        if _inside_text(whole.text, masked, at):
            raise _Refuse()  # `} /* ...`: the next line is still a comment
        indent = _indent_of(whole, item.offset)
        unit = _unit(whole, whole.body_of(item), indent, whole)
        lines = [f'{indent}resource "aws_kms_key" "{self.names[index]}" {{']
        if intent.description:
            lines.append(f"{indent}{unit}description         = {_string(intent.description)}")
        lines.append(f"{indent}{unit}enable_key_rotation = true")
        lines.append(f"{indent}}}")
        self.new_keys.setdefault((path, at), []).append(_newline(whole).join(lines))

    def _write_new_keys(self) -> None:
        """Each run of new keys after one block, set off by blank lines."""
        for (path, at), blocks in self.new_keys.items():
            file = self.files[path]
            text = file.original
            newline = _newline(self._whole(path))
            separated = (newline + newline).join(blocks)
            if at >= len(text) and not text.endswith("\n"):  # the block ends the file, no newline after it
                insert = newline + newline + separated
            else:
                next_end = text.find("\n", at)
                following = text[at : len(text) if next_end < 0 else next_end]
                insert = newline + separated + newline + (newline if following.strip() else "")
            current = file.map(at)
            if current is None:
                raise _Refuse()
            file.change(current, current, insert)

    # -- settings ----------------------------------------------------------------------

    def _set(self, intent: SetSetting) -> None:
        resource = intent.resource
        value = self._render(intent.value, resource)
        parts = []
        for part in intent.path.split("."):
            match = _PATH_PART.match(part)
            if not match:
                raise _Refuse()
            parts.append((match.group(1), None if match.group(2) is None else int(match.group(2))))
        window = self._window(resource)
        source, block = window.source, window.block
        body = source.body_of(block)
        missing: list[str] = []
        for depth, (name, index) in enumerate(parts[:-1]):
            if _has_dynamic_or_attribute(body, name):
                raise _Refuse()
            blocks = [item for item in body.items if item.kind == "block" and item.name == name]
            if any(item.labels for item in blocks):
                raise _Refuse()
            if index is not None:
                if index >= len(blocks):
                    raise _Refuse()  # an indexed block is found, never created
                block = blocks[index]
            elif len(blocks) == 1:
                block = blocks[0]
            elif not blocks:
                missing = [part[0] for part in parts[depth:-1]]
                if any(part[1] is not None for part in parts[depth:]):
                    raise _Refuse()
                break
            else:
                raise _Refuse()
            body = source.body_of(block)
        name, index = parts[-1]
        if index is not None:
            raise _Refuse()
        if missing:
            self._insert(window, block, body, missing, name, value)
            return
        if _has_dynamic_or_attribute(body, name, attributes=False):
            raise _Refuse()  # a block of that name: not an attribute to set
        present = [item for item in body.items if item.kind == "attr" and item.name == name]
        if len(present) > 1:
            raise _Refuse()
        if present:
            start, end = _expression_span(source, present[0])
            if not _replaceable(source, start, end):
                raise _Refuse()
            if source.text[start:end] != value:
                realign = _realign(source, body, present[0], value, window.whole)
                self._edit(window, [(start, end, value), *realign])
            return
        self._insert(window, block, body, [], name, value)

    def _insert(self, window: _Window, block: Item, body: Body, blocks: list[str], name: str, value: str) -> None:
        """Write ``name = value`` into ``body``, inside new nested ``blocks`` when given."""
        source, whole = window.source, window.whole
        text, masked = source.text, source.masked
        newline = _newline(whole)
        header_indent = _indent_of(source, block.offset)
        inner = _child_indent(source, body, header_indent, whole)
        unit = _unit(source, body, header_indent, whole)
        opening, close = block.start - 1, block.end
        if not masked[block.start : close].strip():
            if "\n" in masked[opening:close]:
                at = masked.rfind("\n", opening, close) + 1  # an empty body over lines: before the `}` line
                if text[at:close].strip(" \t"):
                    raise _Refuse()
                lines = _new_lines(inner, unit, blocks, name, value)
                self._edit(window, [(at, at, newline.join(lines) + newline)])
            else:  # `x {}`: the body opens onto lines of its own
                lines = _new_lines(inner, unit, blocks, name, value)
                replacement = "{" + newline + newline.join(lines) + newline + header_indent + "}"
                self._edit(window, [(opening, close + 1, replacement)])
            return
        first_newline = masked.find("\n", opening, close)
        if first_newline < 0 or masked[opening + 1 : first_newline].strip():
            raise _Refuse()  # the body is written on its header's line
        close_line = masked.rfind("\n", opening, close) + 1
        if text[close_line:close].strip(" \t"):
            raise _Refuse()  # the last item (or a comment) shares the closing brace's line
        if blocks:  # a new nested block goes last in the body, after a blank line
            lines = _new_lines(inner, unit, blocks, name, value)
            self._edit(window, [(close_line, close_line, newline + newline.join(lines) + newline)])
            return
        attributes = [item for item in body.items if item.kind == "attr"]
        if not attributes:
            at = first_newline + 1
            self._edit(window, [(at, at, f"{inner}{name} = {value}{newline}")])
            return
        last = attributes[-1]
        if masked[last.end : last.end + 1] != "\n":
            raise _Refuse()
        at = last.end + 1
        inner = _indent_of(source, last.offset)
        group = _aligned_group(source, body, last)
        changes: list[tuple[int, int, str]] = []
        gap = " "
        if group and _aligns(source, group, whole):
            changes, column = _pad(source, group, len(inner) + len(name))
            gap = " " * (column - len(inner) - len(name) + 1)
        changes.append((at, at, f"{inner}{name}{gap}= {value}{newline}"))
        self._edit(window, changes)

    # -- values ------------------------------------------------------------------------

    def _render(self, value: Any, resource: Resource) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, str):
            return _string(value)
        if isinstance(value, (tuple, list)) and all(isinstance(v, (str, Link)) for v in value):
            # strings, and references (a statement's resources naming streams)
            return "[" + ", ".join(self._render(v, resource) for v in value) + "]"
        if isinstance(value, Link):
            return self._reference(value, resource)
        raise _Refuse()

    def _reference(self, link: Link, resource: Resource) -> str:
        if link.attribute not in ("arn", "id"):
            raise _Refuse()
        target = link.target
        if isinstance(target, NewResource):
            # the very intent first: two new keys of one name are equal values
            indexes = [i for i, intent in enumerate(self.fix.intents) if intent is target]
            indexes += [i for i, intent in enumerate(self.fix.intents) if intent == target]
            if not indexes:
                raise _Refuse()  # a new resource that this fix does not add
            if not _same_module(target.near, resource):
                raise _Refuse()
            return f"aws_kms_key.{self.names[indexes[0]]}.{link.attribute}"
        if not isinstance(target, Resource) or not _same_module(target, resource):
            raise _Refuse()
        if target.source_format != TERRAFORM:
            raise _Refuse()
        address = _local_address(target)
        # a block with count or for_each is referred to by instance: a gated one that the
        # model holds without its key (count = var.create ? 1 : 0) cannot be named for sure
        target_file = target.location.file
        if not target_file.endswith(".tf"):
            raise _Refuse()
        body = _body_of(self._whole(target_file), target)
        repeated = any(item.kind == "attr" and item.name in ("count", "for_each") for item in body.items)
        if repeated != address.endswith("]"):
            raise _Refuse()
        return f"{address}.{link.attribute}"


# -- finding things ------------------------------------------------------------------------


def _check_resource(resource: Resource) -> None:
    """Only a resource of a ``.tf`` file (not ``.tf.json``, not a plan) is written here."""
    if not isinstance(resource, Resource) or resource.source_format != TERRAFORM:
        raise _Refuse()
    if not resource.location.file.endswith(".tf"):
        raise _Refuse()
    if ".terraform" in resource.location.file.replace("\\", "/").split("/"):
        raise _Refuse()  # a downloaded module's copy: `terraform init` writes it over


def _same_module(target: Resource, resource: Resource) -> bool:
    return (
        isinstance(target, Resource)
        and target.source_format == TERRAFORM
        and target.module == resource.module
        and target.unit == resource.unit
        and os.path.dirname(target.location.file) == os.path.dirname(resource.location.file)
    )


def _source(path: str, text: str) -> SourceFile:
    source = _scanned(path, text)
    if source.text != text:  # offsets would not be the text's (a lone surrogate)
        raise _Refuse()
    return source


# A front-end asks for the edits of many findings of one file in a row (``--fix``, a code
# action for each diagnostic): the file is masked and its top-level blocks listed once.
@functools.lru_cache(maxsize=32)
def _scanned(path: str, text: str) -> SourceFile:
    return SourceFile(path, text.encode("utf-8", errors="surrogatepass"))


def _unscanned(path: str, text: str) -> SourceFile:
    """A block's lines as a fix has changed them: scanned once, so not kept in the cache of
    files as read (where they would push out the files every fix looks at)."""
    source = SourceFile(path, text.encode("utf-8", errors="surrogatepass"))
    if source.text != text:
        raise _Refuse()
    return source


@functools.lru_cache(maxsize=32)
def _index(source: SourceFile) -> dict[tuple[str, ...], list[Item]]:
    """The top-level blocks of a file as read (cached: every fix of the file looks there)."""
    return _headers(source)


def _headers(source: SourceFile) -> dict[tuple[str, ...], list[Item]]:
    """The source's top-level blocks by keyword and labels (``("resource", "aws_kms_key", "k")``)."""
    index: dict[tuple[str, ...], list[Item]] = {}
    for item in source.body_of(Item("block", "", 0, 0, len(source.text))).items:
        if item.kind == "block":
            index.setdefault((item.name, *item.labels), []).append(item)
    return index


def _tf_key_names(source: SourceFile) -> frozenset[str]:
    """The names of the ``aws_kms_key`` resources a ``.tf`` file declares."""
    return frozenset(
        header[2] for header in _index(source) if header[:2] == ("resource", "aws_kms_key") and len(header) == 3
    )


def _json_key_names(text: str) -> Optional[frozenset[str]]:
    """The names of the ``aws_kms_key`` resources a ``.tf.json`` file declares (None: not JSON)."""
    try:
        document = json.loads(text)
    except ValueError:
        return None
    names: set[str] = set()
    blocks = document.get("resource", {}) if isinstance(document, dict) else {}
    for block in blocks if isinstance(blocks, list) else [blocks]:
        keys = block.get("aws_kms_key", {}) if isinstance(block, dict) else {}
        for group in keys if isinstance(keys, list) else [keys]:
            if isinstance(group, dict):
                names.update(group)
    return frozenset(names)


def _local_address(resource: Resource) -> str:
    """The address as its own module writes it: ``aws_kms_key.k[0]``, ``data.x.y``."""
    address = resource.address
    if resource.module:
        if not address.startswith(resource.module + "."):
            raise _Refuse()
        address = address[len(resource.module) + 1 :]
    return address


def _body_of(source: SourceFile, resource: Resource) -> Body:
    return source.body_of(_block_of(source, resource))


def _block_of(source: SourceFile, resource: Resource) -> Item:
    """The resource's block, ``resource "TYPE" "NAME" {`` (``data`` for a data source)."""
    address = _local_address(resource)
    keyword = "resource"
    if address.startswith("data."):
        keyword, address = "data", address[len("data.") :]
    if not address.startswith(resource.type + "."):
        raise _Refuse()
    name = address[len(resource.type) + 1 :].split("[", 1)[0]
    item = _find_block(source, keyword, resource.type, name)
    return item


def _find_block(source: SourceFile, keyword: str, type_: str, name: str) -> Item:
    found = _index(source).get((keyword, type_, name), [])
    if len(found) != 1:
        raise _Refuse()
    return found[0]


def _has_dynamic_or_attribute(body: Body, name: str, attributes: bool = True) -> bool:
    for item in body.items:
        if item.kind == "block" and item.name == "dynamic" and item.labels[:1] == (name,):
            return True
        if attributes and item.kind == "attr" and item.name == name:
            return True
        if not attributes and item.kind == "block" and item.name == name:
            return True
    return False


def _expression_span(source: SourceFile, item: Item) -> tuple[int, int]:
    """The expression's own text: without the blanks around it and a comment after it."""
    masked = source.masked
    start, end = item.start, item.end
    while start < end and masked[start] in " \t":
        start += 1
    while end > start and masked[end - 1] in " \t\r\n":
        end -= 1
    return start, end


def _replaceable(source: SourceFile, start: int, end: int) -> bool:
    """A literal, a plain reference to another resource, or a list of those: nothing that an
    input decides."""
    text, masked = source.text[start:end], source.masked[start:end]
    if text != masked and not _strings_only(text, masked):
        return False  # a comment inside the expression
    return bool(_LITERAL.match(text)) or _template_of_references(text, masked)


def _strings_only(text: str, masked: str) -> bool:
    """Whether ``text`` and its masked form differ only inside strings (no comments)."""
    return all(a == m or m == FILL for a, m in zip(text, masked))


def _template_of_references(text: str, masked: str) -> bool:
    """``"arn:${aws_x.y.arn}/z"``: a string whose interpolations are plain resource references."""
    if "\n" in masked or len(masked) < 2 or masked[0] != '"' or masked[-1] != '"':
        return False
    depth, chunk_start = 0, 0
    for index, char in enumerate(masked):
        if char == "{":
            if depth == 0:
                if masked[index - 1 : index] != FILL:
                    return False
                chunk_start = index + 1
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
            if depth == 0:
                chunk = text[chunk_start:index].strip()
                if chunk.startswith("~"):
                    return False
                if not _REFERENCE.match(chunk):
                    return False
        elif char == '"' and depth == 0 and 0 < index < len(masked) - 1:
            return False
    return depth == 0


def _inside_text(text: str, masked: str, at: int, floor: int = 0) -> bool:
    """Whether ``at`` falls inside a string, a heredoc or a ``/* */`` comment (a line after
    ``x = 1 /*`` is still the comment): code written there would not be code. Only the text
    from ``floor`` (a line start in code) is looked at."""
    if FILL in masked[max(at - 1, floor) : at + 1]:  # a string's text (its quotes stay in masked text)
        return True
    opener = at
    while True:
        opener = text.rfind("/*", floor, opener)
        if opener < 0:
            return False
        if masked[opener] != " ":
            continue  # a string's text
        line_start = text.rfind("\n", 0, opener) + 1
        if any(masked[k] == " " and text.startswith(("#", "//"), k) for k in range(line_start, opener)):
            continue  # `# s3:::bucket/*`: in a line comment (or in a block comment opened before)
        return text.find("*/", opener + 2, at) < 0


# -- layout --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _newline(whole: SourceFile) -> str:
    """The file's line ending (looked for once a file: every fix of a big file writes lines)."""
    return "\r\n" if "\r\n" in whole.text else "\n"


def _line_start(source: SourceFile, offset: int) -> int:
    return source.text.rfind("\n", 0, offset) + 1


def _indent_of(source: SourceFile, offset: int) -> str:
    """The blanks before ``offset`` on its line (refused if code comes before it)."""
    prefix = source.text[_line_start(source, offset) : offset]
    if prefix.strip(" \t"):
        raise _Refuse()
    return prefix


@functools.lru_cache(maxsize=32)
def _file_unit(whole: SourceFile) -> str:
    """One level of indentation as the file writes it: a tab, or two spaces."""
    match = _INDENT.search(whole.masked)
    return "\t" if match and match.group(0).startswith("\t") else "  "


def _child_indent(source: SourceFile, body: Body, header_indent: str, whole: SourceFile) -> str:
    """How the body's items are indented: as its attributes, else its blocks, else one level in."""
    for kind in ("attr", "block"):
        for item in body.items:
            if item.kind == kind:
                prefix = source.text[_line_start(source, item.offset) : item.offset]
                if not prefix.strip(" \t") and len(prefix) > len(header_indent):
                    return prefix
    return header_indent + _file_unit(whole)


def _unit(source: SourceFile, body: Body, header_indent: str, whole: SourceFile) -> str:
    """One level of indentation, as the body's items are set in from its header."""
    inner = _child_indent(source, body, header_indent, whole)
    if inner.startswith(header_indent) and len(inner) > len(header_indent):
        return inner[len(header_indent) :]
    return _file_unit(whole)


def _new_lines(indent: str, unit: str, blocks: list[str], name: str, value: str) -> list[str]:
    lines = [f"{indent}{unit * depth}{block} {{" for depth, block in enumerate(blocks)]
    lines.append(f"{indent}{unit * len(blocks)}{name} = {value}")
    lines.extend(f"{indent}{unit * depth}}}" for depth in reversed(range(len(blocks))))
    return lines


def _chainable(source: SourceFile, item: Item) -> bool:
    """Whether ``terraform fmt`` aligns the attribute with the lines around it: one written on
    a line (a heredoc counts as one line; brackets over lines do not)."""
    _, end = _expression_span(source, item)
    return item.kind == "attr" and "\n" not in source.masked[item.offset : end]


def _chain_before(source: SourceFile, body: Body, index: int) -> list[Item]:
    """The chainable attributes on the lines right above ``body.items[index]``, in order."""
    chain: list[Item] = []
    line = source.line_of(body.items[index].offset)
    for previous in reversed(body.items[:index]):
        if not _chainable(source, previous) or source.line_of(previous.end) != line - 1:
            break
        chain.insert(0, previous)
        line = source.line_of(previous.offset)
    return chain


def _aligned_group(source: SourceFile, body: Body, last: Item) -> list[Item]:
    """The attribute lines, one after the other, that end with ``last``: the lines ``terraform
    fmt`` aligns on ``=`` together with a line added after ``last``."""
    if not _chainable(source, last):
        return []
    return _chain_before(source, body, body.items.index(last)) + [last]


def _pad(source: SourceFile, group: list[Item], name_end: int = 0) -> tuple[list[tuple[int, int, str]], int]:
    """The blanks that put the group's ``=`` one column after its longest name (or after a
    name ending at column ``name_end``, a line being added), and that column."""
    column = max([name_end] + [item.offset + len(item.name) - _line_start(source, item.offset) for item in group])
    changes = []
    for item in group:
        end = item.offset + len(item.name)
        blanks = column - (end - _line_start(source, item.offset)) + 1
        if item.start - 1 - end != blanks:
            changes.append((end, item.start - 1, " " * blanks))
    return changes, column


def _realign(source: SourceFile, body: Body, item: Item, value: str, whole: SourceFile) -> list[tuple[int, int, str]]:
    """An expression over lines replaced by one on a single line joins the attribute lines
    around it, which ``terraform fmt`` aligns on ``=`` (when they were aligned)."""
    if _chainable(source, item) or "\n" in value:
        return []
    index = body.items.index(item)
    group = _chain_before(source, body, index) + [item]
    line = source.line_of(item.end)
    for following in body.items[index + 1 :]:
        if not _chainable(source, following) or source.line_of(following.offset) != line + 1:
            break
        group.append(following)
        line = source.line_of(following.end)
    others = [member for member in group if member is not item]
    if not others or not _aligns(source, others, whole):
        return []
    return _pad(source, group)[0]


def _aligns(source: SourceFile, group: list[Item], whole: SourceFile) -> bool:
    """Whether a line added to ``group`` is padded to the group's ``=`` column."""
    verdict = _run_verdict([(item.offset - _line_start(source, item.offset), len(item.name),
                             item.start - 1 - _line_start(source, item.offset)) for item in group])
    if verdict is not None:
        return verdict
    return _file_aligns(whole)


def _run_verdict(run: list[tuple[int, int, int]]) -> Optional[bool]:
    """(name column, name length, ``=`` column) of consecutive attribute lines: aligned (True),
    written with one space (False), or no telling (None: one line, or names of one length)."""
    gaps = {equals - (column + length) for column, length, equals in run}
    if gaps != {1}:
        return len({equals for _, _, equals in run}) == 1
    if len({length for _, length, _ in run}) > 1:
        return False
    return None


@functools.lru_cache(maxsize=32)
def _file_aligns(whole: SourceFile) -> bool:
    """Whether the file's other runs of attribute lines are aligned as ``terraform fmt`` does
    (the default when nothing tells): one aligned run settles it."""
    lines = whole.masked.split("\n")
    unaligned = False
    run: list[tuple[int, int, int]] = []
    indent = None
    for line in lines + [""]:
        match = _ATTR_LINE.match(line)
        if match and _opens(line[match.end() :]):
            match = None  # an expression over lines: ``terraform fmt`` aligns it with nothing
        if match and (indent is None or match.group(1) == indent):
            column = len(match.group(1))
            run.append((column, len(match.group(2)), column + len(match.group(2)) + len(match.group(3))))
            indent = match.group(1)
            continue
        if len(run) > 1:
            verdict = _run_verdict(run)
            if verdict is True:
                return True
            unaligned = unaligned or verdict is False
        run, indent = [], None
        if match:
            column = len(match.group(1))
            run = [(column, len(match.group(2)), column + len(match.group(2)) + len(match.group(3)))]
            indent = match.group(1)
    return not unaligned


def _opens(expression: str) -> bool:
    """Whether a (masked) line's expression goes on over the next lines: more brackets opened
    than closed."""
    count = expression.count
    return count("(") + count("[") + count("{") > count(")") + count("]") + count("}")


# what a quoted HCL string writes for a character: escapes, and control characters as \uXXXX
_ESCAPES = {code: f"\\u{code:04x}" for code in range(0x20)}
_ESCAPES.update({ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})


def _string(value: str) -> str:
    return '"' + value.translate(_ESCAPES).replace("${", "$${").replace("%{", "%%{") + '"'


# -- edits ---------------------------------------------------------------------------------


class _File:
    """A file's text as read, and the changes made to it so far, in the read text's offsets.

    A change is given against the current text; one that touches an earlier change's text
    (a setting inside a block the fix has just added) is merged into it, so the edits that
    come out never overlap and each says exactly what the fix writes. The current text is
    read a part at a time (``part``), not copied whole at each change of a big file.
    """

    def __init__(self, path: str, text: str):
        self.path = path
        self.original = text
        self.changes: list[tuple[int, int, str]] = []  # sorted, disjoint, not touching
        self._text: Optional[str] = text  # the current text, when it has been put together

    @property
    def text(self) -> str:
        """The current text."""
        if self._text is None:
            self._text = "".join(piece[begin:stop] for piece, begin, stop in self._pieces())
        return self._text

    def part(self, start: int, end: int) -> str:
        """``text[start:end]`` (0 <= start <= end), from the pieces it spans only."""
        if self._text is not None:
            return self._text[start:end]
        out = []
        at = 0  # where the piece starts in the current text
        for piece, begin, stop in self._pieces():
            low, high = max(start, at), min(end, at + stop - begin)
            if low < high:
                out.append(piece[begin + low - at : begin + high - at])
            at += stop - begin
            if at >= end:
                break
        return "".join(out)

    def _pieces(self):
        """The current text as (string, start, stop) pieces, in order."""
        previous = 0
        for original_start, original_end, new in self.changes:
            yield self.original, previous, original_start
            yield new, 0, len(new)
            previous = original_end
        yield self.original, previous, len(self.original)

    def change(self, start: int, end: int, new: str) -> None:
        """Replace ``start:end`` of the current text by ``new``."""
        shift = 0  # current offset minus original offset, after the changes looked at so far
        shift_before = 0  # the same, after the changes wholly before this one
        before: list[tuple[int, int, str]] = []
        touched: list[tuple[int, int, str, int]] = []  # with the change's current start
        after: list[tuple[int, int, str]] = []
        for original_start, original_end, text in self.changes:
            current_start = original_start + shift
            current_end = current_start + len(text)
            shift += len(text) - (original_end - original_start)
            if current_end < start:
                before.append((original_start, original_end, text))
                shift_before = shift
            elif current_start > end:
                after.append((original_start, original_end, text))
            else:
                touched.append((original_start, original_end, text, current_start))
        if not touched:
            merged = (start - shift_before, end - shift_before, new)
        else:
            first, last = touched[0], touched[-1]
            last_end = last[3] + len(last[2])
            merged_start, merged_end = min(start, first[3]), max(end, last_end)
            original_start = first[0] - (first[3] - merged_start)
            original_end = last[1] + (merged_end - last_end)
            merged = (original_start, original_end, self.part(merged_start, start) + new + self.part(end, merged_end))
        self.changes = before + [merged] + after
        self._text = None

    def map(self, offset: int, after: bool = False) -> Optional[int]:
        """Where ``offset`` of the text as read is in the current text (``after``: past what
        was inserted right there); None inside a span that a change replaced."""
        shift = 0
        for start, end, text in self.changes:
            if start <= offset < end:
                return None
            if end < offset or (end == offset and (start < end or after)):
                shift += len(text) - (end - start)
            else:
                break
        return offset + shift

    def edits(self, starts: Optional[list[int]] = None) -> list[TextEdit]:
        """The changes as edits; ``starts``: the offsets where the original's lines start."""
        if not self.changes:
            return []  # a file only read (a module's other files): its lines are not split
        if starts is None:
            starts = [0] + [m.end() for m in re.finditer("\n", self.original)]
        edits = []
        for start, end, text in self.changes:
            if self.original[start:end] == text:
                continue
            start_line, start_column = _position(starts, start)
            end_line, end_column = _position(starts, end)
            edits.append(TextEdit(self.path, start_line, start_column, end_line, end_column, text))
        return edits


def _position(starts: list[int], offset: int) -> tuple[int, int]:
    line = bisect.bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1
