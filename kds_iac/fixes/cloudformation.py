"""The CloudFormation fix writer: a fix's intents as text edits to YAML or JSON templates.

Positions come from PyYAML's composer (nodes with start and end marks; nothing is
constructed, custom ``!Tags`` compose as tagged nodes), so an edit touches only the value it
replaces or the lines it adds, and comments, quoting and layout stay as written. Every answer
is checked before it is given: the edited text is read again and must equal the original
with exactly the intended settings changed (and be strict JSON for a JSON file). Whenever a
value comes from an input (a parameter, ``Fn::If``, a Serverless variable), the place is
shared (a YAML anchor or merge key) or the resource was generated (SAM), the writer gives
None: a wrong edit is worse than none.

A nested stack's child is edited in its own file, and a link never crosses templates; a
Serverless service's ``resources.Resources`` and the fragments it includes are edited too
(a new resource only in the service file, where its name is known to be free).
"""

from __future__ import annotations

import bisect
import functools
import json
import os
import re
import threading
from typing import Any, Callable, Optional, Union

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kds_iac import gc_pause
from kds_iac.fixes import Fix, Link, NewResource, SetSetting, TextEdit, _line_starts, replaced
from kds_iac.loaders import cfn_reader
from kds_iac.model import Resource

try:  # libyaml when present; the pure-Python composer gives the same marks
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = {_STR, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", _NULL}
_PART = re.compile(r"^([A-Za-z0-9_]+)(?:\[(\d+)\])?$")
_LOGICAL_ID = re.compile(r"^[A-Za-z0-9]+$")
_SECTIONS = ("Parameters", "Resources", "Outputs", "Conditions", "Mappings")
_RESOLVER = yaml.resolver.Resolver()


class _Refused(Exception):
    """The fix cannot be written with certainty."""


_DECLINED = (_Refused, OSError, UnicodeError, yaml.YAMLError, cfn_reader.ReadError, RecursionError)


def text_edits(fix: Fix, read: Callable[[str], str]) -> Optional[list[TextEdit]]:
    """The edits that make ``fix`` in the templates ``read`` gives, or None when they cannot
    be written with certainty (all of the fix's intents, or none)."""
    try:
        return _Writer(read).write(fix)
    except _DECLINED:
        return None


def text_edits_many(fixes: list[Fix], read: Callable[[str], str]) -> list[Optional[list[TextEdit]]]:
    """``text_edits`` of each fix, in order, for fixes that mostly edit the same templates (a
    file's findings): each template is composed once for all of them, and the self-check
    reads each edited template once with every fix's edits applied together. Only when that
    fails (two fixes' edits touch, or one is wrong) is each fix checked alone, as
    ``text_edits`` does; either way the answers are ``text_edits``' answers."""
    docs: dict[tuple[str, str], Optional[_Doc]] = {}
    planned: list[Optional[tuple[_Writer, dict[str, list[tuple[int, int, str]]]]]] = []
    for fix in fixes:
        writer = _Writer(read, docs)
        try:
            writer.plan(fix)
            planned.append((writer, writer.spans()))
        except _DECLINED:
            planned.append(None)
    by_path: dict[str, list[tuple[_Writer, list[tuple[int, int, str]]]]] = {}
    for entry in planned:
        if entry is not None:
            for path, items in entry[1].items():
                by_path.setdefault(path, []).append((entry[0], items))
    together: dict[tuple[str, int], bool] = {}  # (path, id(writer)) -> checked with the others
    for path, entries in by_path.items():
        for group in _groups(path, entries):
            passed = _check_together(path, group)
            for writer, _ in group:
                together[(path, id(writer))] = passed
    results: list[Optional[list[TextEdit]]] = []
    for entry in planned:
        if entry is None:
            results.append(None)
            continue
        writer, spans = entry
        try:
            for path, items in spans.items():
                if not together[(path, id(writer))]:
                    writer.check(writer.docs[path], items)
            results.append(writer.text_edits(spans))
        except _DECLINED:
            results.append(None)
    return results


# Fixes of one template checked together at most: a check reads the edited entries before and
# after, and reading them all at once (the 98,000-stream template's 58,800 fixes) held
# gigabytes of nodes and data alive together.
_GROUP = 2000


def _groups(path: str, entries: list[tuple["_Writer", list[tuple[int, int, str]]]]) -> list[list[tuple["_Writer", list[tuple[int, int, str]]]]]:
    """The fixes of one template in groups of about ``_GROUP`` that edit no ``Resources``
    entry in common (each in the order given), for ``_check_together`` one group at a time;
    one group when the edits are not all within entries (the whole template is read then)."""
    if len(entries) <= _GROUP:
        return [entries]
    doc = entries[0][0].docs[path]
    lines = doc.entry_lines() if all(writer.docs[path] is doc for writer, _ in entries) else None
    if lines is None:
        return [entries]
    spans = []
    for number, (writer, items) in enumerate(entries):
        touched = ([_entry_at(lines, start, end=_appends(doc, lines, start, end)) for start, end, _ in items]
                   + [_entry_at(lines, end, end=True) for _, end, _ in items])
        if not touched or None in touched:
            return [entries]
        spans.append((min(touched), max(touched), number))
    spans.sort()
    groups: list[list[int]] = []
    current: list[int] = []
    reach = -1
    for low, high, number in spans:
        if len(current) >= _GROUP and low > reach:  # no later fix edits an entry of this group
            groups.append(current)
            current = []
        current.append(number)
        reach = max(reach, high)
    groups.append(current)
    return [[entries[number] for number in sorted(group)] for group in groups]


def _check_together(path: str, entries: list[tuple["_Writer", list[tuple[int, int, str]]]]) -> bool:
    """Whether the edits of every fix of one template, applied together, read as the
    original with every fix's changes; False also when two fixes' edits touch or meet (which
    text comes first would not be certain), and then each fix is checked alone."""
    if len(entries) < 2:
        return False  # the fix's own check is the same work
    doc = entries[0][0].docs[path]
    if any(writer.docs[path] is not doc for writer, _ in entries):
        return False  # the text changed between fixes (an editor's buffer)
    tagged = sorted((start, end, number, text) for number, (_, items) in enumerate(entries) for start, end, text in items)
    for (_, last_end, last_number, _), (start, _, number, _) in zip(tagged, tagged[1:]):
        if number != last_number and start <= last_end:
            return False
    changes = [change for writer, _ in entries for change in writer.expected.get(doc.path, [])]
    try:
        _check(doc, [(start, end, text) for start, end, _, text in tagged], changes)
    except _DECLINED:
        return False
    return True


def _refuse(condition: bool = True) -> None:
    if condition:
        raise _Refused()


class _Fn:
    """An intrinsic function in a value the writer produces (``!Sub``, ``!GetAtt``, ``!Ref``)."""

    def __init__(self, name: str, argument: Any):
        self.name = name  # "Sub", "GetAtt", "Ref"
        self.argument = argument  # GetAtt: [logical id, attribute]

    def plain(self) -> dict:
        return {"Ref" if self.name == "Ref" else "Fn::" + self.name: self.argument}


class _Same(dict):
    """A part of every new resource of a kind that is the same in each (a new key's policy):
    a module constant, never changed, so its text is written once per way of writing it
    (``_rendered``) instead of once per resource (58,800 new keys in the 10 MB template)."""

    __slots__ = ()


def _rendered(value: _Same, how: tuple, render: Callable[[], Any]) -> Any:
    """``render()`` for ``value`` written ``how`` (style, indentation), worked out once."""
    key = (id(value),) + how
    found = _RENDERED.get(key)
    if found is None:
        if len(_RENDERED) >= 256:
            _RENDERED.clear()
        found = _RENDERED[key] = (value, render())  # the value kept alive: its id is not reused
    return found[1]


_RENDERED: dict[tuple, tuple[_Same, Any]] = {}

# The account's default key policy: KDS003 passes a key with it.
_ACCOUNT_KEY_POLICY = _Same({
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "AccountAdministration",
        "Effect": "Allow",
        "Principal": {"AWS": _Fn("Sub", "arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
        "Action": "kms:*",
        "Resource": "*",
    }],
})


def _kms_key(description: str) -> dict:
    """A customer managed key with rotation on and the account's default key policy (KDS003
    passes it)."""
    properties: dict[str, Any] = {}
    if description:
        properties["Description"] = description
    properties["EnableKeyRotation"] = True
    properties["KeyPolicy"] = _ACCOUNT_KEY_POLICY
    return {"Type": "AWS::KMS::Key", "Properties": properties}


_NEW_RESOURCES = {"kms_key": _kms_key}


def _plain(value: Any) -> Any:
    """What the template reader gives for a value the writer produces."""
    if isinstance(value, _Fn):
        return value.plain()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class _Doc:
    """One template as composed nodes, with the style facts the writer copies."""

    def __init__(self, path: str, text: str):
        self.path = path
        self.text = text
        self.offset = 1 if text.startswith("\ufeff") else 0
        body = text[self.offset:]
        self.is_json = body.lstrip(" \t\r\n").startswith("{")
        if self.is_json:
            body = body.replace("\t", " ")  # JSON allows tabs between tokens, YAML does not
        loader = cfn_reader.composer(body)  # the template loader's composer: the same nodes, tags from a cache
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
        _refuse(not isinstance(root, MappingNode) or root.tag != _MAP)
        self.root: MappingNode = root
        _refuse("\r" in text.replace("\r\n", ""))  # old Mac line ends: lines would be counted apart
        self.nl = "\r\n" if "\r\n" in text else "\n"
        self.shared: set[int] = set()
        self._walk_facts()
        self.serverless_root = _get(root, "service") is not None and _get(root, "resources") is not None
        self.resources = self._resources()
        self.names = self._names()
        self._document: Optional[cfn_reader.Document] = None
        self._entries: Any = False  # entry_lines(), once asked
        self._json_agrees: Optional[bool] = None
        self._properties: dict[int, Any] = {}  # property_lines(), once asked per entry
        # Worked out once a template is asked for them (a template's fixes each ask; a
        # search per fix made the 98,000-stream template's fixes quadratic).
        self._by_name: Optional[dict[str, list[tuple[Node, Node]]]] = None
        self._merges = False  # a merge key among the entries
        self._entry_names: Optional[set[str]] = None
        self._line_starts: Optional[list[int]] = None

    def _walk_facts(self) -> None:
        """Nodes reached twice (an anchor and its aliases), quoting and intrinsic style."""
        seen: set[int] = set()
        quotes = {"'": 0, '"': 0}
        self.short_tags = 0
        self.long_keys = 0
        self.sequence_offset: Optional[int] = None
        if "&" not in self.text:  # without an anchor no node is reached twice
            self._walk_tree()
            return
        stack: list[Node] = [self.root]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                self.shared.add(id(node))
                continue
            seen.add(id(node))
            if node.tag.startswith("!") and node.tag != "!":
                self.short_tags += 1
            if isinstance(node, ScalarNode):
                if node.style in quotes:
                    quotes[node.style] += 1
            elif isinstance(node, MappingNode):
                for key, value in node.value:
                    if isinstance(key, ScalarNode) and (key.value == "Ref" or key.value.startswith("Fn::")):
                        self.long_keys += 1
                    if (self.sequence_offset is None and isinstance(value, SequenceNode) and not value.flow_style
                            and value.value and key.start_mark.line < value.start_mark.line):
                        self.sequence_offset = value.start_mark.column - key.start_mark.column
                    stack.append(value)
                    stack.append(key)
            elif isinstance(node, SequenceNode):
                stack.extend(node.value)
        self.quote = "'" if quotes["'"] > quotes['"'] else '"'
        self.long_form = self.long_keys > 0 and self.short_tags == 0

    def _walk_tree(self) -> None:
        """``_walk_facts`` for a tree (no node reached twice), in the same order, with the
        scalar keys of a mapping counted where it is met (the facts of one template are
        worked out for every fix of a file in JSON and SARIF output)."""
        single = double = short = long_keys = 0
        offset: Optional[int] = None
        stack: list[Node] = [self.root]
        pop, push = stack.pop, stack.append
        while stack:
            node = pop()
            tag = node.tag
            if tag[:1] == "!" and tag != "!":
                short += 1
            kind = type(node)
            if kind is ScalarNode:
                style = node.style
                if style == "'":
                    single += 1
                elif style == '"':
                    double += 1
            elif kind is MappingNode:
                for key, value in node.value:
                    if (offset is None and type(value) is SequenceNode and not value.flow_style and value.value
                            and key.start_mark.line < value.start_mark.line):
                        offset = value.start_mark.column - key.start_mark.column
                    push(value)
                    if type(key) is ScalarNode:
                        text = key.value
                        if text == "Ref" or text.startswith("Fn::"):
                            long_keys += 1
                        tag = key.tag
                        if tag[:1] == "!" and tag != "!":
                            short += 1
                        style = key.style
                        if style == "'":
                            single += 1
                        elif style == '"':
                            double += 1
                    else:
                        push(key)
            else:
                stack.extend(node.value)
        self.short_tags, self.long_keys, self.sequence_offset = short, long_keys, offset
        self.quote = "'" if single > double else '"'
        self.long_form = long_keys > 0 and short == 0

    def _resources(self) -> MappingNode:
        found = _get(self.root, "Resources")
        # How many keys the entries sit under (cfn_reader's depth limit counts them).
        self.entry_depth = 1
        if found is None and self.serverless_root:
            self.entry_depth = 2
            section = _get(self.root, "resources")
            if section is not None and _is_map(section[1]):
                found = _get(section[1], "Resources")
        _refuse(found is None or not _is_map(found[1]) or id(found[1]) in self.shared)
        return found[1]

    def _names(self) -> set[str]:
        """Logical ids, parameter names and the other section keys: what a new resource's
        name must not be."""
        names: set[str] = set()
        holders = [self.root]
        if self.serverless_root:
            section = _get(self.root, "resources", strict=False)
            if section is not None and isinstance(section[1], MappingNode):
                holders.append(section[1])
        for holder in holders:
            for section in _SECTIONS:
                found = _get(holder, section, strict=False)
                if found is not None and isinstance(found[1], MappingNode):
                    names.update(k.value for k, _ in found[1].value if isinstance(k, ScalarNode))
        names.update(k.value for k, _ in self.resources.value if isinstance(k, ScalarNode))
        return names

    def entry_lines(self) -> Optional[list[tuple[int, int, int]]]:
        """(start, end, column) of each ``Resources`` entry's lines, in order, when the
        template allows checking entries alone (``_check_entries``); else None. In a JSON
        template an entry runs from its key to its value's end (column 0)."""
        if self._entries is False:
            try:
                self._entries = self._entry_lines()
            except _Refused:
                self._entries = None
        return self._entries

    def _entry_lines(self) -> Optional[list[tuple[int, int, int]]]:
        text, resources = self.text, self.resources
        if self.is_json:
            if not resources.flow_style or not resources.value or self.shared:
                return None  # no node reached twice: no alias reads an anchor across entries
            return [(self.index(key.start_mark), self.index(value.end_mark), 0) for key, value in resources.value]
        if resources.flow_style or not resources.value or "&" in text:
            return None
        if text.startswith("%") or "\n%" in text:  # a directive (%TAG) changes what tags mean
            return None
        if "\t" in text or self.shared:
            return None
        return self._key_lines(resources, len(text))

    def _key_lines(self, mapping: MappingNode, limit: int) -> Optional[list[tuple[int, int, int]]]:
        """(start, end, column) of the lines of each key of a block ``mapping`` whose keys each
        begin a line, at one column: a key's line to the next key's, the last key's to the
        next line before ``limit`` that holds more than a comment (left of their column), or
        to ``limit``; None when the mapping is not written so."""
        text = self.text
        column = mapping.value[0][0].start_mark.column
        starts = []
        for key, _ in mapping.value:
            index = self.index(key.start_mark)
            line_start = text.rfind("\n", 0, index) + 1
            if key.start_mark.column != column or text[line_start:index].strip(" "):
                return None
            starts.append(line_start)
        end = self._outer_line(self.line_end(_content_end(self, mapping.value[-1][1])), limit, column)
        if end is None:
            return None
        return [(start, stop, column) for start, stop in zip(starts, starts[1:] + [end])]

    def property_lines(self, number: int) -> Optional[tuple[str, list[tuple[int, int, int]], int]]:
        """For the block entry ``number`` of ``entry_lines()``: its logical id, the (start, end,
        column) of the lines of each key of its block ``Properties`` (a key's line to the next
        key's; the last to the next line left of their column, or the entry's end) and their
        column; None when the entry is not written so (``_settings_alone``)."""
        if number not in self._properties:
            try:
                self._properties[number] = self._property_lines(number)
            except _Refused:
                self._properties[number] = None
        return self._properties[number]

    def _property_lines(self, number: int) -> Optional[tuple[str, list[tuple[int, int, int]], int]]:
        entries = self.entry_lines()
        key, entry = self.resources.value[number]
        if entries is None or self.is_json or not isinstance(key, ScalarNode) or not _LOGICAL_ID.match(key.value):
            return None
        if not _is_map(entry) or entry.flow_style or id(entry) in self.shared:
            return None
        found = _get(entry, "Properties")
        if found is None:
            return None
        properties = found[1]
        if not _is_map(properties) or properties.flow_style or not properties.value or id(properties) in self.shared:
            return None
        column = properties.value[0][0].start_mark.column
        if column < self.entry_depth + 2:  # room for the holders _read_settings writes
            return None
        regions = self._key_lines(properties, entries[number][1])  # within the entry's lines
        return None if regions is None else (key.value, regions, column)

    def _outer_line(self, index: int, limit: int, column: int) -> Optional[int]:
        """The start of the first line after ``index`` (a line end) and before ``limit`` that
        holds more than a comment, where the lines above it end: ``limit`` when there is
        none, None when it starts at ``column`` or right of it (it would belong to them)."""
        text = self.text
        while index < limit:
            line_start = text.find("\n", index) + 1
            if line_start == 0 or line_start >= limit:
                break
            line = text[line_start:self.line_end(line_start)]
            stripped = line.lstrip(" ")
            if stripped.strip() and not stripped.startswith("#"):
                return None if len(line) - len(stripped) >= column else line_start
            index = self.line_end(line_start)
        return limit

    def entry_names(self) -> set[str]:
        if self._entry_names is None:
            self._entry_names = {k.value for k, _ in self.resources.value if isinstance(k, ScalarNode)}
        return self._entry_names

    def resource_entry(self, name: str, strict: bool = True) -> Optional[tuple[Node, Node]]:
        """``_get(self.resources, name, strict)`` from an index of the entries built once."""
        if self._by_name is None:
            by_name: dict[str, list[tuple[Node, Node]]] = {}
            for key, value in self.resources.value:
                if key.tag == "tag:yaml.org,2002:merge":
                    self._merges = True
                if isinstance(key, ScalarNode):
                    by_name.setdefault(key.value, []).append((key, value))
            self._by_name = by_name
        _refuse(strict and self._merges)
        found = self._by_name.get(name)
        if not found:
            return None
        _refuse(strict and len(found) > 1)
        return found[-1]

    def position(self, index: int) -> tuple[int, int]:
        """1-based line and column of ``index`` in the text (a search of the line starts, which
        are listed once: counting them per edit grew with the template)."""
        if self._line_starts is None:
            self._line_starts = _line_starts(self.text)
        line = bisect.bisect_right(self._line_starts, index)
        return line, index - self._line_starts[line - 1] + 1

    def json_agrees(self) -> bool:
        """Whether the original text's strict JSON reading is the loader's reading of it; then
        an edited text's JSON reading can be compared with the original's, not the loader's."""
        if self._json_agrees is None:
            try:
                strict = json.loads(self.text[self.offset:])
                self._json_agrees = strict == self.document().data  # Mapping and Sequence compare as dict and list
            except (ValueError, RecursionError, cfn_reader.ReadError):
                self._json_agrees = False
        return self._json_agrees

    def document(self) -> cfn_reader.Document:
        """The template as the loader reads it (once per text). Without an anchor it is built
        from the nodes composed here, as the reader builds a document it composes (reading
        the text again cost as much, for the same data and problems); with one, or where the
        reader would tell YAML from JSON otherwise (a second byte order mark), it is read."""
        if self._document is None:
            body = self.text[self.offset:]
            if "&" in self.text or body.lstrip(" \t\r\n")[:1] == "\ufeff":
                self._document = cfn_reader.read_text(body)
            else:
                builder = self.builder()
                with gc_pause.paused():
                    data = builder.build(self.root, 0)
                self._document = cfn_reader.Document(data, self.is_json, builder.problems)
        return self._document

    def builder(self) -> Any:
        """The template reader's builder of data from composed nodes, for this text: what it
        builds from a node of the template is what reading the template gives there."""
        body = self.text[self.offset:]
        if self.is_json:
            body = body.replace("\t", " ")  # as composed
        return cfn_reader.node_builder(body)

    def entries_read(self, numbers: list[int]) -> tuple[dict[str, Any], int]:
        """The ``Resources`` entries ``numbers`` as reading the template gives them (by
        logical id, in order) and the problems (duplicate keys) within them; raises
        ``_Refused`` where reading them alone would not give one value per logical id (a
        merge key, a key that is not text, a logical id twice) and ``ReadError`` as the
        reader would."""
        found, problems = self._pairs_read([[self.resources.value[number] for number in numbers]], self.entry_depth + 1)
        return found[0], problems

    def properties_read(self, places: list[tuple[int, list[int]]]) -> tuple[list[dict[str, Any]], int]:
        """For each (number of a block entry, numbers of keys of its ``Properties``) those keys
        as reading the template gives them, and the problems within them; raises as
        ``entries_read`` does (``_settings_alone``'s entries, before their edits)."""
        groups = []
        for number, keys in places:
            found = _get(self.resources.value[number][1], "Properties")
            _refuse(found is None)
            groups.append([found[1].value[at] for at in keys])
        return self._pairs_read(groups, self.entry_depth + 3)

    def _pairs_read(self, groups: list[list[tuple[Node, Node]]], depth: int) -> tuple[list[dict[str, Any]], int]:
        """Each group of (key, value) nodes, written at ``depth`` in the template, as a mapping
        built by the reader's builder (one for all: problems are counted as in one read)."""
        builder = self.builder()
        out = []
        with gc_pause.paused():
            for pairs in groups:
                data: dict[str, Any] = {}
                for key, value in pairs:
                    _refuse(not isinstance(key, ScalarNode) or key.tag == _MERGE or key.value in data)
                    data[key.value] = builder.build(value, depth)  # at its depth in the template
                out.append(data)
        return out, len(builder.problems)

    def index(self, mark: Any) -> int:
        return mark.index + self.offset

    def entry(self, logical_id: str, line: int) -> tuple[ScalarNode, MappingNode]:
        """The ``Resources`` entry written at ``line`` (the resource's location)."""
        found = self.resource_entry(logical_id)
        _refuse(found is None)
        key, value = found
        _refuse(key.start_mark.line + 1 != line or not _is_map(value) or id(value) in self.shared)
        return key, value

    def is_resource(self, name: Any) -> bool:
        return isinstance(name, str) and self.resource_entry(name, strict=False) is not None

    def line_end(self, index: int) -> int:
        """Where the line holding ``index`` ends (before its line break)."""
        end = self.text.find("\n", index)
        if end < 0:
            return len(self.text)
        return end - 1 if end > 0 and self.text[end - 1] == "\r" else end

    def line_prefix(self, index: int) -> str:
        """The text of ``index``'s line before it."""
        return self.text[self.text.rfind("\n", 0, index) + 1:index]


# Templates composed lately, by path and text: the fixes of a file's findings are written one
# after another against the same text (a front-end asks for each), and composing a large
# template is most of the cost of a fix. A _Doc is never changed once made.
_RECENT: dict[tuple[str, str], Optional[_Doc]] = {}  # None: a text the writer refuses
_RECENT_MAX = 8


_RECENT_LOCK = threading.Lock()  # a language server may ask from more than one thread


def _compose(path: str, text: str) -> Optional[_Doc]:
    """The template composed, or None when the writer refuses its text."""
    try:
        return _Doc(path, text)
    except (_Refused, yaml.YAMLError, RecursionError):
        return None


def _composed(path: str, text: str) -> _Doc:
    key = (path, text)
    with _RECENT_LOCK:
        if key in _RECENT:
            found = _RECENT[key]
            _refuse(found is None)
            return found
    doc = _compose(path, text)
    with _RECENT_LOCK:
        if len(_RECENT) >= _RECENT_MAX:
            del _RECENT[next(iter(_RECENT))]
        _RECENT[key] = doc
    _refuse(doc is None)
    return doc


def _get(mapping: MappingNode, key: str, strict: bool = True) -> Optional[tuple[Node, Node]]:
    """The (key, value) nodes of ``key``; with ``strict`` a merge key or a duplicate is refused."""
    found = None
    for key_node, value_node in mapping.value:
        if strict and key_node.tag == "tag:yaml.org,2002:merge":
            raise _Refused()
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            _refuse(strict and found is not None)
            found = (key_node, value_node)
    return found


def _is_map(node: Node) -> bool:
    return isinstance(node, MappingNode) and node.tag == _MAP


def _is_intrinsic_map(node: MappingNode) -> bool:
    return any(isinstance(k, ScalarNode) and (k.value == "Ref" or k.value.startswith("Fn::")) for k, _ in node.value)


class _Insertion:
    """New keys for one existing mapping, written as one edit."""

    def __init__(self, doc: _Doc, mapping: MappingNode, key: Node):
        self.doc = doc
        self.mapping = mapping
        self.key = key  # the key the mapping is the value of (its column guides indentation)
        self.tree: dict[str, Any] = {}


class _Writer:
    def __init__(self, read: Callable[[str], str], composed: Optional[dict[tuple[str, str], Optional[_Doc]]] = None):
        self.read = read
        self.composed = composed  # a batch's templates by (path, text); else the module's recent ones
        self.docs: dict[str, _Doc] = {}
        self.insertions: dict[tuple[str, int], _Insertion] = {}
        self.replacements: dict[tuple[str, int, int], str] = {}
        self.appends: dict[tuple[str, int], list[str]] = {}  # new resources after an entry
        self.expected: dict[str, list[Callable[[Any], None]]] = {}
        self.names: dict[int, tuple[str, Resource]] = {}  # id(NewResource) -> (logical id, near)
        self.found: dict[int, tuple[Resource, tuple[_Doc, ScalarNode, MappingNode]]] = {}  # located()

    def doc(self, path: str) -> _Doc:
        if path not in self.docs:
            text = self.read(path)
            if self.composed is None:
                self.docs[path] = _composed(path, text)
            else:
                key = (path, text)
                if key not in self.composed:
                    self.composed[key] = _compose(path, text)
                found = self.composed[key]
                _refuse(found is None)
                self.docs[path] = found
        return self.docs[path]

    # -- the intents ---------------------------------------------------------------------

    def write(self, fix: Fix) -> Optional[list[TextEdit]]:
        self.plan(fix)
        spans = self.spans()
        for path, items in spans.items():
            self.check(self.docs[path], items)
        return self.text_edits(spans)

    def plan(self, fix: Fix) -> None:
        """Work out the fix's replacements, insertions and expected changes (unchecked)."""
        _refuse(not fix.intents)
        for intent in fix.intents:
            if isinstance(intent, NewResource):
                self.name_new(intent)
        for intent in fix.intents:
            if isinstance(intent, NewResource):
                self.new_resource(intent)
            elif isinstance(intent, SetSetting):
                self.set_setting(intent)
            else:
                raise _Refused()

    def located(self, resource: Resource) -> tuple[_Doc, ScalarNode, MappingNode]:
        """Where ``resource`` is written (a fix's intents ask again for the same resource:
        found once per writer)."""
        found = self.found.get(id(resource))
        if found is not None and found[0] is resource:
            return found[1]
        _refuse(not isinstance(resource, Resource))
        _refuse(resource.generated_from is not None or resource.origin is not None)  # SAM wrote it
        logical_id = resource.address.rpartition("/")[2]
        _refuse(not _LOGICAL_ID.match(logical_id))
        doc = self.doc(resource.location.file)
        key, entry = doc.entry(logical_id, resource.location.start_line)
        self.found[id(resource)] = (resource, (doc, key, entry))
        return doc, key, entry

    def name_new(self, intent: NewResource) -> None:
        _refuse(intent.kind not in _NEW_RESOURCES or not _LOGICAL_ID.match(intent.name or ""))
        near = intent.near
        doc, _, _ = self.located(near)
        # A Serverless service merges several files into one stack: a name is only known
        # to be free in the service file itself.
        _refuse(_serverless(near) and os.path.normpath(near.location.file) != os.path.normpath(near.unit))
        mine = {name for name, other in self.names.values() if other.location.file == near.location.file}
        name, number = intent.name, 1
        while name in doc.names or name in mine:
            number += 1
            name = f"{intent.name}{number}"
        self.names[id(intent)] = (name, near)

    def new_resource(self, intent: NewResource) -> None:
        name, near = self.names[id(intent)]
        doc, key, entry = self.located(near)
        body = _NEW_RESOURCES[intent.kind](intent.description)
        resources = doc.resources
        if doc.is_json:
            after = doc.index(entry.end_mark)
            prefix = doc.line_prefix(doc.index(key.start_mark))
            if prefix.strip() or key.start_mark.line == resources.start_mark.line:
                text = f", {json.dumps(name)}: " + _json(body, None, "", doc.nl)
            else:
                unit = _json_unit(doc, key, entry)
                text = f",{doc.nl}{prefix}{json.dumps(name)}: " + _json(body, prefix, unit, doc.nl)
        else:
            _refuse(resources.flow_style)
            column = key.start_mark.column
            after = _past_comments(doc, doc.line_end(_content_end(doc, entry)), column)
            step = _step(key, entry)
            lines = _block_entry(name, body, doc, step, _seq_step(doc))
            blank = doc.nl if _blank_between_entries(doc) else ""
            text = doc.nl + blank + doc.nl.join(" " * column + line for line in lines)
        self.appends.setdefault((doc.path, after), []).append(text)
        self.expect(doc.path, lambda data: _set_new(data, name, _plain(body)))

    def set_setting(self, intent: SetSetting) -> None:
        resource = intent.resource
        doc, entry_key, entry = self.located(resource)
        parts = [("Properties", None)]
        for part in intent.path.split("."):
            match = _PART.match(part)
            _refuse(match is None)
            parts.append((match.group(1), int(match.group(2)) if match.group(2) is not None else None))
        _refuse(parts[-1][1] is not None)
        value = self.value_of(intent.value, resource)
        serverless = _serverless(resource)
        mapping, mapping_key = entry, entry_key
        for number, (name, index) in enumerate(parts):
            last = number == len(parts) - 1
            found = _get(mapping, name)
            if found is None:
                _refuse(index is not None or any(i is not None for _, i in parts[number:]))
                self.insert(doc, mapping, mapping_key, [p for p, _ in parts[number:]], value)
                break
            key, node = found
            if last:
                _refuse(not _replaceable(doc, node, serverless))
                self.replace(doc, mapping, key, node, value)
                break
            _refuse(id(node) in doc.shared)
            if index is not None:
                _refuse(not isinstance(node, SequenceNode) or node.tag != _SEQ or index >= len(node.value))
                node = node.value[index]
                _refuse(id(node) in doc.shared)
            _refuse(not _is_map(node) or _is_intrinsic_map(node))
            mapping, mapping_key = node, key
        steps = parts[1:]
        logical_id = resource.address.rpartition("/")[2]
        self.expect(doc.path, lambda data: _set_path(data, logical_id, steps, _plain(value)))

    def value_of(self, value: Any, resource: Resource) -> Any:
        """The intent's value with links made into intrinsics (same-stack targets only)."""
        if isinstance(value, tuple):  # a list of names, or of ARNs (a statement's Resource)
            _refuse(not all(isinstance(item, (str, Link)) for item in value))
            return tuple(self.value_of(item, resource) for item in value)
        if isinstance(value, Link):
            target = value.target
            if isinstance(target, NewResource):
                _refuse(id(target) not in self.names)
                name, near = self.names[id(target)]
                _refuse(_stack(near) != _stack(resource))
            else:
                _refuse(not isinstance(target, Resource) or _stack(target) != _stack(resource))
                self.located(target)  # written in a template of the stack, where it says
                name = target.address.rpartition("/")[2]
            if value.attribute == "arn":
                return _Fn("GetAtt", [name, "Arn"])
            _refuse(value.attribute != "id")
            return _Fn("Ref", name)
        _refuse(value is None or not isinstance(value, (str, bool, int, float)))
        return value

    # -- edits -----------------------------------------------------------------------------

    def insert(self, doc: _Doc, mapping: MappingNode, key: Node, path: list[str], value: Any) -> None:
        insertion = self.insertions.setdefault((doc.path, id(mapping)), _Insertion(doc, mapping, key))
        tree = insertion.tree
        for part in path[:-1]:
            tree = tree.setdefault(part, {})
            _refuse(not isinstance(tree, dict))
        if path[-1] in tree:
            _refuse(not _same(tree[path[-1]], value))
        tree[path[-1]] = value

    def replace(self, doc: _Doc, mapping: MappingNode, key: Node, node: Node, value: Any) -> None:
        start, end = doc.index(node.start_mark), doc.index(node.end_mark)
        if doc.is_json:
            text = _json(value, None, "", doc.nl)
        elif mapping.flow_style or (isinstance(node, SequenceNode) and node.flow_style and isinstance(value, tuple)):
            text = _flow(value, doc)  # a flow list stays one
        else:
            block = isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style
            if block:
                end = _content_end(doc, node)
            rendered = _block_value(value, doc, _seq_step(doc), _step_of(doc))
            if block or isinstance(rendered, list):
                colon = _colon_after(doc, key)
                column = key.start_mark.column
                if "#" in doc.text[colon + 1:start]:
                    # A comment after the key stays: the value keeps its own line.
                    _refuse(not block)
                    if isinstance(rendered, list):
                        first = rendered[0]
                        _refuse(len(first) - len(first.lstrip(" ")) != node.start_mark.column - column)
                        text = first.lstrip(" ") + "".join(doc.nl + " " * column + line for line in rendered[1:])
                    else:
                        text = rendered
                elif isinstance(rendered, list):
                    start = colon + 1
                    text = "".join(doc.nl + " " * column + line for line in rendered)
                else:
                    start = colon + 1
                    text = " " + rendered
            else:
                text = rendered
        span = (doc.path, start, end)
        _refuse(span in self.replacements and self.replacements[span] != text)
        self.replacements[span] = text

    def expect(self, path: str, change: Callable[[Any], None]) -> None:
        self.expected.setdefault(path, []).append(change)

    def spans(self) -> dict[str, list[tuple[int, int, str]]]:
        """Per template, the (start, end, new text) of the fix's edits, merged and in order."""
        spans: dict[str, list[tuple[int, int, str]]] = {}
        for (path, start, end), text in self.replacements.items():
            spans.setdefault(path, []).append((start, end, text))
        for (path, _), insertion in self.insertions.items():
            index, text = _insertion_text(insertion)
            spans.setdefault(path, []).append((index, index, text))
        for (path, index), texts in self.appends.items():
            spans.setdefault(path, []).append((index, index, "".join(texts)))
        return {path: _merged(items) for path, items in spans.items()}

    def text_edits(self, spans: dict[str, list[tuple[int, int, str]]]) -> list[TextEdit]:
        result: list[TextEdit] = []
        for path, items in spans.items():
            doc = self.docs[path]
            for start, end, text in items:
                result.append(TextEdit(path, *doc.position(start), *doc.position(end), text))
        return result

    def check(self, doc: _Doc, items: list[tuple[int, int, str]]) -> None:
        _check(doc, items, self.expected.get(doc.path, []))


def _check(doc: _Doc, items: list[tuple[int, int, str]], changes: list[Callable[[Any], None]]) -> None:
    """The text with the (start, end, new text) edits made reads as the original with exactly
    the intended changes: only the resource entries the edits fall in are read again when
    that is known to be the same (``_check_entries``), else the whole template."""
    if not _check_entries(doc, items, changes):
        _check_whole(doc, replaced(doc.text, sorted(items)), changes)


def _check_entries(doc: _Doc, items: list[tuple[int, int, str]], changes: list[Callable[[Any], None]]) -> bool:
    """Check the edited resource entries of a block-style YAML template or of a JSON template
    alone: the edited entries are read as one small document and compared with the same
    entries as the template reads them (built from its composed nodes, ``entries_read``)
    with the changes made. A shortcut that only ever accepts: False (the template or the
    edits are not of that kind, or the check fails) leaves the answer to the whole
    template's check.

    Why that reads the same as the whole template: an entry's lines run from its key's line
    (at the column ``c`` of the ``Resources`` keys) to the next key's line, or for the last
    entry to the next line written left of ``c``; the text outside them is unchanged. Read
    alone, each edited entry must parse completely (no open quote or bracket at its end)
    and no line of it may start left of ``c``, so in the template the unchanged line that
    follows closes it as it did before. Without anchors (no ``&``) or directives (``%``)
    nothing in an entry depends on text outside it. A new resource's name must also be free
    among the entries not read. JSON: see ``_check_json_entries``."""
    entries = doc.entry_lines()
    if entries is None or not items:
        return False
    touched: dict[int, list[tuple[int, int, str]]] = {}
    for start, end, text in items:
        found = _entry_of(doc, entries, start, end)
        if found is None:
            return False
        touched.setdefault(found, []).append((start, end, text))
    column = entries[0][2]
    numbers, after_parts = [], []
    # (entry number, logical id, numbers of its Properties keys edited, their lines after the edits)
    settings: list[tuple[int, str, list[int], list[str]]] = []
    for number in sorted(touched):
        if doc.is_json:
            edited = _region_edited(doc, entries[number], touched[number])[1]
        else:
            found = _settings_alone(doc, number, touched[number])
            if found is not None:
                settings.append((number, *found))
                continue
            edited = _block_edited(doc, entries[number], doc.resources.value[number][0], touched[number])
            if edited is None:
                return False
        numbers.append(number)
        after_parts.append(edited)
    # Under as many keys as the template nests its entries, so that the reader's depth limit
    # counts as it does for the whole template.
    names = ("R", "S")[: doc.entry_depth]
    if doc.is_json:
        if not doc.json_agrees():
            return False
        after_text = "".join(f'{{"{name}": ' for name in names) + "{" + ", ".join(after_parts) + "}" * (len(names) + 1)
    else:
        if column < doc.entry_depth:
            return False
        holders = ["R:", " " * (column - 1) + "S:"][: doc.entry_depth]
        after_text = doc.nl.join(holders) + doc.nl + "".join(after_parts)
    try:
        got: dict = {}
        expected: dict = {"Resources": {}}  # built for this check only: changed in place
        if numbers:
            after = cfn_reader.read_text(after_text)
            got = after.data
            for name in names:
                if not isinstance(got, dict) or list(got) != [name]:
                    return False
                got = got[name]
            # The entries before the edits: built from the template's own nodes (what the
            # loader read there), not read again from their text.
            before, before_problems = doc.entries_read(numbers)
            if not isinstance(got, dict) or len(after.problems) > before_problems:
                return False
            expected["Resources"] = before
        if settings:
            got = dict(got)
            after_settings, after_problems = _read_settings(doc, [after for _, _, _, after in settings])
            # from the nodes, as the entries
            before_settings, before_problems = doc.properties_read([(number, keys) for number, _, keys, _ in settings])
            if after_problems > before_problems:
                return False
            for (_, logical_id, _, _), before_properties, after_properties in zip(settings, before_settings, after_settings):
                if logical_id in got or logical_id in expected["Resources"]:
                    return False
                got[logical_id] = {"Properties": after_properties}
                expected["Resources"][logical_id] = {"Properties": before_properties}
        entry_names = set(expected["Resources"])
        for change in changes:
            change(expected)
    except _DECLINED:
        return False
    # Mapping and Sequence compare as the dict and list they are
    if got != expected["Resources"] or any(name not in entry_names and name in doc.entry_names() for name in got):
        return False
    return not doc.is_json or _check_json_entries(doc, items, changes)


def _check_json_entries(doc: _Doc, items: list[tuple[int, int, str]], changes: list[Callable[[Any], None]]) -> bool:
    """The rest of a JSON template's entry check: the whole edited text is strict JSON that
    reads as the original's JSON with the changes.

    Why reading the edited entries alone is sound in JSON: an entry (its key to its value's
    end) that parses completely inside braces leaves the parser where the unchanged text
    around it expects (after a value, in a mapping), and with no node reached twice no
    alias reads across entries. The whole template's check compares the edited text's JSON
    reading with the loader's reading of the original; where the original's two readings
    agree (``json_agrees``), comparing with the original's JSON reading is the same."""
    try:
        strict = json.loads(replaced(doc.text, sorted(items))[doc.offset:])
        expected = json.loads(doc.text[doc.offset:])  # a fresh copy: changed in place
        for change in changes:
            change(expected)
    except (ValueError, RecursionError) + _DECLINED:
        return False
    return strict == expected


def _entry_of(doc: _Doc, entries: list[tuple[int, int, int]], start: int, end: int) -> Optional[int]:
    """The number of the entry an edit falls in, or None."""
    found = _entry_at(entries, start, end=_appends(doc, entries, start, end))
    if found is None or found != _entry_at(entries, end, end=True):
        return None
    return found


def _settings_alone(doc: _Doc, number: int, items: list[tuple[int, int, str]]) -> Optional[tuple[str, list[int], list[str]]]:
    """When every edit of a block entry falls in the lines of one of its ``Properties`` keys
    and stays right of their column: the entry's logical id, the numbers of those keys and
    their lines after the edits (a changed setting is read again with its key, not the whole
    entry; before the edits it is built from the template's nodes)."""
    found = doc.property_lines(number)
    if found is None:
        return None
    logical_id, regions, _ = found
    keys = _get(doc.resources.value[number][1], "Properties")[1].value
    touched: dict[int, list[tuple[int, int, str]]] = {}
    for start, end, text in items:
        at = _entry_at(regions, start)
        if at is None or at != _entry_at(regions, end, end=True):
            return None
        touched.setdefault(at, []).append((start, end, text))
    numbers = sorted(touched)
    after = []
    for at in numbers:
        edited = _block_edited(doc, regions[at], keys[at][0], touched[at])
        if edited is None:
            return None
        after.append(edited)
    return logical_id, numbers, after


def _region_edited(doc: _Doc, region: tuple[int, int, int], items: list[tuple[int, int, str]]) -> tuple[str, str]:
    """The text of ``region`` (start, end, column) before and after the edits that fall in it."""
    start, end, _ = region
    original = doc.text[start:end]
    return original, replaced(original, sorted((s - start, e - start, t) for s, e, t in items))


def _block_edited(doc: _Doc, region: tuple[int, int, int], key: Node, items: list[tuple[int, int, str]]) -> Optional[str]:
    """The lines of a block region (an entry, or a ``Properties`` key; ``key`` its key node)
    after the edits that fall in it, ending in a line break (the last lines of a file without
    one get it); None when an edited line starts left of the region's column or the edits
    touch its key or its last line break (``_indented_from``, ``_key_line_kept``)."""
    original, edited = _region_edited(doc, region, items)
    if not _indented_from(edited, region[2]) or not _key_line_kept(doc, key, items, original, edited):
        return None
    return edited if original.endswith("\n") else edited + doc.nl


def _read_settings(doc: _Doc, settings: list[list[str]]) -> tuple[list[Any], int]:
    """The Properties after the edits of the entries ``_settings_alone`` took (their keys'
    lines after the edits, in order), and the problems read: the lines read in one document
    under ``Resources``-, entry- and ``Properties``-like holders (the same depth as in the
    template); raises ``_Refused``. (Before the edits they are built from the template's nodes.)"""
    names = ("R", "S")[: doc.entry_depth]
    holders = "".join(" " * depth + name + ":" + doc.nl for depth, name in enumerate(names))
    depth = len(names)

    document = cfn_reader.read_text(holders + "".join(
        " " * depth + f"E{number}:" + doc.nl + " " * (depth + 1) + "P:" + doc.nl + "".join(after)
        for number, after in enumerate(settings)
    ))
    data = document.data
    for name in names:
        _refuse(not isinstance(data, dict) or list(data) != [name])
        data = data[name]
    _refuse(not isinstance(data, dict) or list(data) != [f"E{number}" for number in range(len(settings))])
    properties = []
    for entry in data.values():
        _refuse(not isinstance(entry, dict) or list(entry) != ["P"] or not isinstance(entry["P"], dict))
        properties.append(entry["P"])
    return properties, len(document.problems)


def _appends(doc: _Doc, entries: list[tuple[int, int, int]], start: int, end: int) -> bool:
    """Whether an insertion at an entry's end falls in that entry: in JSON, where entries do
    not meet (a new resource after an entry), and after the last entry of block YAML (a new
    resource at the end of a file without a last line break); elsewhere in YAML an entry's
    end is the next one's start, and the insertion falls in the next."""
    return start == end and (doc.is_json or start == entries[-1][1])


def _entry_at(entries: list[tuple[int, int, int]], index: int, end: bool = False) -> Optional[int]:
    """The number of the entry whose lines hold ``index`` (an edit's end may be its last)."""
    number = bisect.bisect_right(entries, index, key=_first) - 1
    if number < 0:
        return None
    start, stop, _ = entries[number]
    if index < stop or (end and index == stop and index > start):
        return number
    return None


def _first(item: tuple) -> Any:
    return item[0]


def _key_line_kept(doc: _Doc, key: Node, items: list[tuple[int, int, str]], original: str, edited: str) -> bool:
    """Whether edits of a region of block lines (an entry, a ``Properties`` key) leave its key
    as written (nothing edited before the key's end: its indentation sets its mapping's) and
    its last line break (text after it would join the line that follows the region)."""
    key_end = doc.index(key.end_mark)
    return all(start >= key_end for start, _, _ in items) and (edited.endswith("\n") or not original.endswith("\n"))


def _indented_from(text: str, column: int) -> bool:
    """Every line of ``text`` that holds more than a comment starts at ``column`` or right of it."""
    return column <= 0 or _left_of(column).search(text) is None


@functools.lru_cache(maxsize=64)
def _left_of(column: int) -> "re.Pattern[str]":
    """A line that starts left of ``column`` (fewer spaces, then neither a space nor ``#``)
    and holds more than white space: one search of an edited entry, not a split of it."""
    return re.compile("^ {0," + str(column - 1) + r"}(?![ #])(?![^\S\n]*$)", re.MULTILINE)


def _check_whole(doc: _Doc, changed: str, changes: list[Callable[[Any], None]]) -> None:
    """The edited text reads as the original with exactly the intended changes."""
    before = doc.document()
    after = cfn_reader.read_text(changed[doc.offset:])
    _refuse(after.is_json != before.is_json or len(after.problems) > len(before.problems))
    expected = cfn_reader.to_plain(before.data)
    for change in changes:
        change(expected)
    _refuse(cfn_reader.to_plain(after.data) != expected)
    if doc.is_json:
        try:
            strict = json.loads(changed[doc.offset:])
        except ValueError:
            raise _Refused() from None
        _refuse(strict != expected)


def _merged(items: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Insertions at one place become one edit; any other overlap refuses the fix."""
    items = sorted(items, key=lambda item: (item[0], item[1]))
    out: list[tuple[int, int, str]] = []
    for start, end, text in items:
        if out:
            last_start, last_end, last_text = out[-1]
            if start == end == last_start == last_end:
                out[-1] = (start, end, last_text + text)
                continue
            _refuse(start < last_end)
        out.append((start, end, text))
    return out


def _same(a: Any, b: Any) -> bool:
    return _plain(a) == _plain(b)


def _stack(resource: Resource) -> tuple[str, str]:
    """Which deployed template a resource belongs to: its unit and nested-stack path."""
    return (resource.unit, resource.address.rpartition("/")[0])


def _serverless(resource: Resource) -> bool:
    return os.path.basename(resource.unit or "").startswith("serverless.")


def _set_path(data: Any, logical_id: str, steps: list[tuple[str, Optional[int]]], value: Any) -> None:
    node = _resources_of(data)[logical_id].setdefault("Properties", {})
    for name, index in steps[:-1]:
        node = node.setdefault(name, {})
        if index is not None:
            node = node[index]
    node[steps[-1][0]] = value


def _set_new(data: Any, name: str, body: dict) -> None:
    resources = _resources_of(data)
    _refuse(name in resources)
    resources[name] = body


def _resources_of(data: Any) -> dict:
    if "Resources" in data:
        return data["Resources"]
    return data["resources"]["Resources"]


# -- what a value's node allows ----------------------------------------------------------------

def _replaceable(doc: _Doc, node: Node, serverless: bool) -> bool:
    """A literal (a scalar, a list of scalars) or a reference to a resource of the template:
    replacing it changes no input's meaning. A parameter, a condition, a Serverless
    variable, a block scalar or a shared (anchored) node are not."""
    if id(node) in doc.shared:
        return False
    if isinstance(node, ScalarNode):
        if node.tag in _SCALAR_TAGS:
            if node.style in ("|", ">") or (node.tag == _NULL and not node.value):
                return False
            return not (serverless and "${" in node.value)
        if node.tag == "!Ref":
            return doc.is_resource(node.value)
        if node.tag == "!GetAtt":
            return doc.is_resource(node.value.split(".")[0])
        if node.tag == "!Sub":
            return _sub_of_no_input(doc, node.value)
        return False
    if isinstance(node, SequenceNode):
        items = node.value
        if node.tag == _SEQ:  # a list of fixed values (names, ARNs of the template's resources)
            return all(not isinstance(i, SequenceNode) and _replaceable(doc, i, serverless) for i in items)
        if not all(isinstance(i, ScalarNode) and i.tag in _SCALAR_TAGS and id(i) not in doc.shared for i in items):
            return False
        return node.tag == "!GetAtt" and bool(items) and doc.is_resource(items[0].value)
    if _is_map(node) and len(node.value) == 1:
        key, value = node.value[0]
        if not isinstance(key, ScalarNode) or id(value) in doc.shared:
            return False
        if key.value == "Ref":
            return isinstance(value, ScalarNode) and value.tag == _STR and doc.is_resource(value.value)
        if key.value == "Fn::GetAtt":
            if isinstance(value, ScalarNode):
                return value.tag == _STR and doc.is_resource(value.value.split(".")[0])
            return (isinstance(value, SequenceNode) and bool(value.value) and isinstance(value.value[0], ScalarNode)
                    and doc.is_resource(value.value[0].value))
        if key.value == "Fn::Sub":
            return isinstance(value, ScalarNode) and value.tag == _STR and _sub_of_no_input(doc, value.value)
    return False


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _sub_of_no_input(doc: _Doc, text: str) -> bool:
    """A ``Fn::Sub`` string that reads only pseudo parameters (``AWS::Region``) and resources
    of the template: a fixed value once deployed, no deployer's choice."""
    for name in _SUB_VARIABLE.findall(text):
        if name.startswith(("!", "AWS::")):
            continue  # ${!Literal} is text; a pseudo parameter is no input
        if not doc.is_resource(name.split(".")[0]):
            return False
    return True


# -- where text goes ---------------------------------------------------------------------------

def _content_end(doc: _Doc, node: Node) -> int:
    """Index just after the last character of ``node``'s own text (a block collection's
    end mark lies past trailing comments and blank lines)."""
    if isinstance(node, ScalarNode):
        end = doc.index(node.end_mark)
        if node.style in ("|", ">"):
            while end > 0 and doc.text[end - 1] in " \t\r\n":
                end -= 1
        return end
    if node.flow_style or not node.value:
        return doc.index(node.end_mark)
    if isinstance(node, MappingNode):
        key, value = node.value[-1]
        if isinstance(value, ScalarNode) and value.tag == _NULL and not value.value:
            return doc.index(key.end_mark)
        return _content_end(doc, value)
    last = node.value[-1]
    _refuse(isinstance(last, ScalarNode) and last.tag == _NULL and not last.value)
    return _content_end(doc, last)


def _past_comments(doc: _Doc, index: int, column: int) -> int:
    """The end of the comment lines after ``index`` (a line end) indented deeper than
    ``column``: they belong to the entry above, a new entry goes after them."""
    while index < len(doc.text):
        start = doc.text.find("\n", index) + 1
        if start == 0:
            break
        end = doc.line_end(start)
        line = doc.text[start:end]
        text = line.lstrip(" ")
        if not text.startswith("#") or len(line) - len(text) <= column:
            break
        index = end
    return index


def _colon_after(doc: _Doc, key: Node) -> int:
    """Index of the ``:`` that ends a block mapping key."""
    index = doc.index(key.end_mark)
    while index < len(doc.text) and doc.text[index] in " \t":
        index += 1
    _refuse(index >= len(doc.text) or doc.text[index] != ":")
    return index


def _step(key: Node, mapping: MappingNode) -> int:
    """How far a block mapping's keys are indented under its key."""
    step = mapping.value[0][0].start_mark.column - key.start_mark.column if mapping.value else 2
    return step if step > 0 else 2


def _step_of(doc: _Doc) -> int:
    """The template's indentation step, read off the resource entries."""
    for entry_key, entry in doc.resources.value:
        if _is_map(entry) and not entry.flow_style and entry.value:
            return _step(entry_key, entry)
    return 2


def _seq_step(doc: _Doc) -> int:
    """How far a block sequence's dashes are indented under its key, as the template does."""
    offset = doc.sequence_offset
    return offset if offset is not None and 0 <= offset <= 8 else _step_of(doc)


def _blank_between_entries(doc: _Doc) -> bool:
    """Whether the template separates its resources by a blank line (one resource: yes)."""
    entries = doc.resources.value
    if len(entries) < 2:
        return True
    end = _content_end(doc, entries[0][1])
    between = doc.text[doc.line_end(end):doc.index(entries[1][0].start_mark)]
    return any(not line.strip() for line in between.split("\n")[1:-1])


def _json_unit(doc: _Doc, key: Node, mapping: MappingNode) -> str:
    """The JSON file's indentation unit (spaces or a tab), read off a resource entry."""
    if mapping.value:
        outer = doc.line_prefix(doc.index(key.start_mark))
        inner = doc.line_prefix(doc.index(mapping.value[0][0].start_mark))
        if not outer.strip() and not inner.strip() and inner.startswith(outer) and len(inner) > len(outer):
            return inner[len(outer):]
    return "  "


def _insertion_text(insertion: _Insertion) -> tuple[int, str]:
    doc, mapping, tree = insertion.doc, insertion.mapping, insertion.tree
    items = list(tree.items())
    if doc.is_json or mapping.flow_style:
        close = doc.index(mapping.end_mark) - 1
        _refuse(doc.text[close] != "}")
        if not mapping.value:
            if doc.is_json:
                return close, ", ".join(f"{json.dumps(k)}: " + _json(v, None, "", doc.nl) for k, v in items)
            return close, ", ".join(f"{k}: {_flow(v, doc)}" for k, v in items)
        last_key, last_value = mapping.value[-1]
        after = doc.index(last_value.end_mark)
        if doc.is_json:
            prefix = doc.line_prefix(doc.index(last_key.start_mark))
            multiline = not prefix.strip() and last_key.start_mark.line != mapping.start_mark.line
            if multiline:
                unit = _json_unit(doc, insertion.key, mapping)
                return after, "".join(
                    f",{doc.nl}{prefix}{json.dumps(k)}: " + _json(v, prefix, unit, doc.nl) for k, v in items
                )
            return after, "".join(f", {json.dumps(k)}: " + _json(v, None, "", doc.nl) for k, v in items)
        return after, "".join(f", {k}: {_flow(v, doc)}" for k, v in items)
    column = mapping.value[0][0].start_mark.column
    step = _step_of(doc)
    seq = _seq_step(doc)
    lines: list[str] = []
    for key, value in items:
        lines.extend(_block_entry(key, value, doc, step, seq))
    after = doc.line_end(_content_end(doc, mapping))
    return after, "".join(doc.nl + " " * column + line for line in lines)


# -- how values are written --------------------------------------------------------------------

# Words, paths and versions: what a new resource's description and most values are made of.
_PLAIN_WORDS = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/-]*")


@functools.lru_cache(maxsize=4096)  # the same few strings come back in every fix (2012-10-17, kms:*)
def _plain_ok(text: str, flow: bool) -> bool:
    """``text`` reads back as the same string when written unquoted."""
    if not text or text != text.strip() or "\n" in text or "#" in text or text[0] in "!&*@`|>%'\"[]{},?-:":
        return False
    if _RESOLVER.resolve(ScalarNode, text, (True, False)) != _STR:
        return False
    if _PLAIN_WORDS.fullmatch(text):
        return True  # no indicator, comment or flow character: a plain scalar as written
    probe = f"[{text}]" if flow else f"k: {text}"
    try:
        node = yaml.compose(probe, Loader=_Loader)
    except yaml.YAMLError:
        return False
    value = node.value[0] if flow else node.value[0][1]
    return isinstance(value, ScalarNode) and value.tag == _STR and value.value == text and not value.style


def _quoted(text: str, doc: _Doc) -> str:
    if doc.quote == "'" and all(c >= " " for c in text):
        return "'" + text.replace("'", "''") + "'"
    return json.dumps(text, ensure_ascii=False)


def _scalar(value: Any, doc: _Doc, flow: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return value if _plain_ok(value, flow) else _quoted(value, doc)


def _flow(value: Any, doc: _Doc) -> str:
    """A value in YAML flow syntax."""
    if isinstance(value, _Fn):
        if doc.long_form:
            return "{" + _fn_long(value, doc, flow=True) + "}"
        return _fn_short(value, doc, flow=True)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v, doc)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v, doc) for v in value) + "]"
    return _scalar(value, doc, flow=True)


def _fn_short(fn: _Fn, doc: _Doc, flow: bool) -> str:
    if fn.name == "GetAtt":
        return f"!GetAtt {fn.argument[0]}.{fn.argument[1]}"
    return f"!{fn.name} {_scalar(fn.argument, doc, flow)}"


def _fn_long(fn: _Fn, doc: _Doc, flow: bool) -> str:
    key = "Ref" if fn.name == "Ref" else "Fn::" + fn.name
    if fn.name == "GetAtt":
        return f"{key}: [{fn.argument[0]}, {fn.argument[1]}]"
    return f"{key}: {_scalar(fn.argument, doc, flow)}"


def _block_value(value: Any, doc: _Doc, seq: int, step: int) -> Union[str, list[str]]:
    """A value in YAML block style: inline text, or lines relative to its key's column."""
    if isinstance(value, _Fn):
        if doc.long_form:
            return [" " * step + _fn_long(value, doc, flow=False)]
        return _fn_short(value, doc, flow=False)
    if isinstance(value, dict):
        if not value:
            return "{}"
        if type(value) is _Same:
            return list(_rendered(value, ("yaml", seq, step, doc.quote, doc.long_form), lambda: tuple(
                " " * step + line for line in _block_body(value, doc, step, seq))))
        return [" " * step + line for line in _block_body(value, doc, step, seq)]
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        lines: list[str] = []
        for item in value:
            if isinstance(item, dict) and item:
                body = _block_body(item, doc, step, seq)
                lines.append(" " * seq + "- " + body[0])
                lines.extend(" " * (seq + 2) + line for line in body[1:])
            elif isinstance(item, _Fn) and doc.long_form:
                lines.append(" " * seq + "- " + _fn_long(item, doc, flow=False))
            else:
                rendered = _block_value(item, doc, seq, step)
                _refuse(isinstance(rendered, list))
                lines.append(" " * seq + "- " + rendered)
        return lines
    return _scalar(value, doc, flow=False)


def _block_entry(key: str, value: Any, doc: _Doc, step: int, seq: int) -> list[str]:
    rendered = _block_value(value, doc, seq, step)
    if isinstance(rendered, list):
        return [f"{key}:"] + rendered
    return [f"{key}: {rendered}"]


def _block_body(mapping: dict, doc: _Doc, step: int, seq: int) -> list[str]:
    """A mapping's lines with its keys at column 0."""
    lines: list[str] = []
    for key, value in mapping.items():
        lines.extend(_block_entry(key, value, doc, step, seq))
    return lines


def _json(value: Any, indent: Optional[str], unit: str, nl: str) -> str:
    """A value in JSON; with ``indent`` (the line's indentation) mappings and lists of
    mappings span lines, one key a line."""
    if isinstance(value, _Fn):
        return json.dumps(value.plain())
    if type(value) is _Same:
        return _rendered(value, ("json", indent, unit, nl), lambda: _json(dict(value), indent, unit, nl))
    if isinstance(value, dict):
        if indent is None or not value:
            return "{" + ", ".join(f"{json.dumps(k)}: {_json(v, None, unit, nl)}" for k, v in value.items()) + "}"
        inner = indent + unit
        items = [f"{inner}{json.dumps(k)}: {_json(v, inner, unit, nl)}" for k, v in value.items()]
        return "{" + nl + ("," + nl).join(items) + nl + indent + "}"
    if isinstance(value, (list, tuple)):
        if indent is None or not any(isinstance(v, dict) for v in value):
            return "[" + ", ".join(_json(v, None, unit, nl) for v in value) + "]"
        inner = indent + unit
        return "[" + nl + ("," + nl).join(inner + _json(v, inner, unit, nl) for v in value) + nl + indent + "]"
    return json.dumps(value, ensure_ascii=False)

