"""Read a CloudFormation template (YAML or JSON) into plain data that remembers its lines.

The data is built from libyaml's parse events as they come (``_EventBuilder``), with no node
graph kept. A document with anchors or aliases, and one that cannot be read, is composed
instead by PyYAML's ``CSafeLoader`` (pure-Python ``SafeLoader`` when libyaml is missing) and
the node graph walked by ``_Builder``, which gives the same data and the errors. Nothing is
constructed by PyYAML itself. Both produce:

* ``Mapping`` (a ``dict``) for every mapping, with ``start_line``/``end_line`` (1-based,
  inclusive) and ``key_lines``/``key_columns`` (where each key is written);
* ``Sequence`` (a ``list``) with ``start_line``/``end_line``;
* plain ``str``/``int``/``float``/``bool``/``None`` scalars. YAML timestamps stay strings
  (``Version: 2012-10-17`` is the string CloudFormation sees), and so does ``!!binary``.

Short intrinsic tags become the long form: ``!Ref X`` -> ``{"Ref": "X"}``, ``!GetAtt A.B``
-> ``{"Fn::GetAtt": ["A", "B"]}``, ``!Condition C`` -> ``{"Condition": "C"}``, any other
``!Name arg`` -> ``{"Fn::Name": arg}``; the wrapper mapping carries the tag's line.

JSON is read by the same parser (JSON is YAML flow syntax); tabs, which JSON allows between
tokens and YAML does not, are replaced by spaces first (a valid JSON string cannot hold a
raw tab, so no value changes and no line moves).

Bounds, so that a hostile or broken file gives a ``ReadError`` and never a hang or a crash:
nesting depth (``MAX_DEPTH``), the number of values built once aliases are expanded
(``alias bomb``), and non-UTF-8 bytes (reported at the line of the first bad byte).
Duplicate keys are reported as problems (level ``error``: CloudFormation rejects such a
template) and the last value wins, as in every YAML/JSON reader.
"""

from __future__ import annotations

import itertools
import re
import sys
from typing import Any, Optional

import yaml
from yaml.events import (
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from kds_iac import files, gc_pause
from kds_iac.model import Diagnostic, DiagnosticCode
from kds_iac.value import Value

try:  # libyaml: ~10x faster than the pure-Python parser
    _BaseLoader = yaml.CSafeLoader
    from yaml._yaml import CParser as _CParser
except (AttributeError, ImportError):  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader
    _CParser = None

MAX_DEPTH = 100
# Values built, aliases expanded, beyond which a document is refused. A template without
# aliases has fewer values than characters; aliases may add up to this much again.
MIN_VALUE_BUDGET = 100_000

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_TIMESTAMP_TEXT = yaml.constructor.SafeConstructor.timestamp_regexp
_NULL_TEXT = re.compile(r"^(?:~|null|Null|NULL|)$")
_LONG_INTEGER = re.compile(r"^[-+]?[0-9_]{4000,}$")
_AS_TEXT = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary", "tag:yaml.org,2002:value", "!"}
_STANDARD_COLLECTIONS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:omap",
                         "tag:yaml.org,2002:set", "tag:yaml.org,2002:pairs"}

# Short-form tags whose long form is not "Fn::" + name.
_LONG_FORM = {"!Ref": "Ref", "!Condition": "Condition"}


class Mapping(dict):
    """A mapping of the template with the lines it was written on."""

    # ``_lines``/``_columns``: the ``key_lines``/``key_columns`` dicts, or an int that stands
    # for one (see ``_key_lines``): every key on one line (a flow mapping on one line, an
    # intrinsic), key i on the line after key i-1 (a block mapping or a JSON object of
    # one-line values), every key at one column (a block mapping). The reader keeps the int,
    # made the dict of the mapping's keys when first asked: on the 10 MB template those dicts
    # were two fifths of the data read.
    __slots__ = ("start_line", "end_line", "_lines", "_columns")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.start_line = 0
        self.end_line = 0
        self._lines: Any = {}
        self._columns: Any = {}

    @property
    def key_lines(self) -> dict[str, int]:
        """Where each key is written (1-based line)."""
        lines = self._lines
        if type(lines) is int:
            lines = self._lines = _key_lines(self, lines)
        return lines

    @key_lines.setter
    def key_lines(self, lines: dict[str, int]) -> None:
        self._lines = lines

    def line_of(self, key: str, default: int) -> int:
        """``key_lines.get(key, default)``, without making the dict."""
        lines = self._lines
        if type(lines) is not int:
            return lines.get(key, default)
        if key not in self:
            return default
        if lines >= 0:
            return lines
        for line, known in enumerate(self, -lines):  # a few keys: _STEP_MAX at most
            if known == key:
                break
        return line

    def column_of(self, key: str, default: int) -> int:
        """``key_columns.get(key, default)``, without making the dict."""
        columns = self._columns
        if type(columns) is not int:
            return columns.get(key, default)
        return columns if key in self else default

    @property
    def key_columns(self) -> dict[str, int]:
        """Where each key is written (1-based column)."""
        columns = self._columns
        if type(columns) is int:
            columns = self._columns = dict.fromkeys(self, columns)
        return columns

    @key_columns.setter
    def key_columns(self, columns: dict[str, int]) -> None:
        self._columns = columns


# Keys read one a line are kept as an int up to this many (``line_of`` looks the key up).
_STEP_MAX = 16


def _key_lines(keys: Any, form: int) -> dict[str, int]:
    """The ``key_lines`` that ``form`` stands for: every key on line ``form`` (0 for no key),
    or, negative, key i on line ``-form + i``."""
    if form >= 0:
        return dict.fromkeys(keys, form)
    return dict(zip(keys, itertools.count(-form)))


class Sequence(list):
    """A sequence of the template with the lines it was written on."""

    __slots__ = ("start_line", "end_line")

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.start_line = 0
        self.end_line = 0


class Problem(Value):
    """Something wrong in a document that could still be read (a duplicate key)."""

    __slots__ = ("level", "line", "column", "message", "code")

    def __init__(self, level: str, line: int, column: int, message: str, code: str = DiagnosticCode.PARSE):
        self.level = level
        self.line = line
        self.column = column
        self.message = message
        self.code = code

    def diagnostic(self, file: str) -> Diagnostic:
        return Diagnostic(self.level, file, self.line, self.message, self.column, code=self.code)


class ReadError(Exception):
    """The document cannot be read at all; ``line``/``column`` are 1-based; ``code`` a ``DiagnosticCode``."""

    def __init__(self, message: str, line: int = 1, column: int = 1, code: str = DiagnosticCode.PARSE):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.code = code

    def diagnostic(self, file: str) -> Diagnostic:
        return Diagnostic("error", file, self.line, self.message, self.column, code=self.code)


class Document(Value):
    __slots__ = ("data", "is_json", "problems")

    def __init__(self, data: Any, is_json: bool, problems: Optional[list[Problem]] = None):
        self.data = data
        self.is_json = is_json
        self.problems = [] if problems is None else problems


def read_reporting(path: str, diagnostics: list) -> Optional[Document]:
    """``read_file`` with what is wrong added to ``diagnostics``: the document, or ``None``
    when it cannot be read at all."""
    try:
        document = read_file(path)
    except ReadError as error:
        diagnostics.append(error.diagnostic(path))
        return None
    diagnostics.extend(problem.diagnostic(path) for problem in document.problems)
    return document


def read_file(path: str) -> Document:
    """Read and parse one file; raises ``ReadError`` (never anything else for bad content)."""
    try:
        raw = files.read_bytes(path)  # regular files only: a FIFO would block an open()
    except OSError as error:
        raise ReadError(f"cannot read file: {error.strerror or error}", 0, code=DiagnosticCode.NOT_READ) from None
    text = decode(raw)
    del raw  # not kept while the text is parsed
    return read_text(text)


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 or UTF-32 with BOM; else ``ReadError`` at the bad byte."""
    try:
        return files.decode(raw)
    except files.DecodeError as error:
        raise ReadError(error.message, error.line, error.column, DiagnosticCode.ENCODING) from None


def read_text(text: str) -> Document:
    """Parse YAML or JSON text into ``Mapping``/``Sequence``/scalars (the cyclic collector
    paused: nothing made here is garbage until the read ends, see ``gc_pause``)."""
    with gc_pause.paused():
        return _read_text(text)


def _read_text(text: str) -> Document:
    is_json = text.lstrip(" \t\r\n\ufeff").startswith("{")
    if is_json and "\t" in text:
        text = text.replace("\t", " ")
    kind = "JSON" if is_json else "YAML"
    budget = _budget(text)
    if _CParser is not None:
        try:
            data, problems = _EventBuilder(text, budget).read()
        except (yaml.YAMLError, ReadError, _Unsupported, RecursionError):
            pass  # read again below, by the composer, for its exact error or alias handling
        else:
            return Document(data, is_json, problems)
    return _read_composed(text, is_json, kind, budget)


def _budget(text: str) -> int:
    """How many values a read of ``text`` may build (aliases can multiply them)."""
    return max(MIN_VALUE_BUDGET, 2 * len(text))


def composer(text: str) -> "_Loader":
    """The reader's composer for ``text`` (nodes with marks, nothing constructed), for the fix
    writer, which needs positions; ``dispose()`` it after ``get_single_node()``."""
    return _Loader(text)


def node_builder(text: str) -> "_Builder":
    """The reader's builder of data from ``composer`` nodes of ``text``, with the budget a read
    of that text has: built from a node of the template, the data is what reading gives there."""
    return _Builder(_budget(text), text)


def _read_composed(text: str, is_json: bool, kind: str, budget: int) -> Document:
    """The composer's way: the whole node graph first, then ``_Builder``. Used for what the
    event builder leaves to it: anchors and aliases, and every document that cannot be read."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(kind, error) from None
    except yaml.YAMLError as error:  # ReaderError: a character YAML does not allow
        position = getattr(error, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else 1
        raise ReadError(f"{kind} syntax error: {error}".splitlines()[0], line) from None
    except RecursionError:  # the pure-Python composer on very deep input
        raise ReadError(f"{kind} syntax error: nested too deeply to read", code=DiagnosticCode.SIZE) from None
    finally:
        loader.dispose()
    if node is None:
        return Document(None, is_json)
    if "&" in text and "*" in text:  # anchors and aliases may be in use
        _check_aliases(node, budget)
    builder = _Builder(budget, text)
    try:
        data = builder.build(node, 0)
    except RecursionError:
        raise ReadError(f"{kind} nested too deeply to read", code=DiagnosticCode.SIZE) from None
    return Document(data, is_json, builder.problems)


def to_plain(value: Any) -> Any:
    """A copy with plain ``dict``/``list`` in place of ``Mapping``/``Sequence``."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


class _Loader(_BaseLoader):
    """Composes nodes only; ``_Builder`` turns them into data, so no constructor runs.

    libyaml's composer calls back into Python for every node: ``resolve`` for the tag of each
    untagged scalar, ``descend_resolver``/``ascend_resolver`` around each child. These
    overrides give PyYAML's own answers (SafeLoader has no path resolvers) without its
    per-call work: a plain scalar's tag depends on its text alone, and the same keys and
    values (``Type``, ``Allow``, ``2012-10-17``) come back thousands of times a template."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is ScalarNode:
            if not implicit[0]:
                return _STR
            return _PLAIN_TAGS.get(value) or _plain_tag(value)
        return _SEQ if kind is SequenceNode else _MAP

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_IMPLICIT = _BaseLoader.yaml_implicit_resolvers
_PLAIN_TAGS: dict[str, str] = {}  # plain scalar text -> its tag, shared by every read
_PLAIN_TAGS_MAX = 20_000


def _plain_tag(value: str) -> str:
    """``_resolve_plain``, remembered for short texts."""
    tag = _resolve_plain(value)
    if len(value) <= 64 and len(_PLAIN_TAGS) < _PLAIN_TAGS_MAX:
        _PLAIN_TAGS[value] = tag
    return tag


def _resolve_plain(value: str) -> str:
    """The tag PyYAML's resolver gives a plain (unquoted, untagged) scalar."""
    for tag, regexp in _IMPLICIT.get(value[0] if value else "", []) + _IMPLICIT.get(None, []):
        if regexp.match(value):
            return tag
    return _STR


def _syntax_error(kind: str, error: yaml.MarkedYAMLError) -> ReadError:
    mark = error.problem_mark or error.context_mark
    message = error.problem or error.context or "cannot parse"
    if error.context and error.problem and error.context_mark and mark is not error.context_mark:
        message = f"{error.context} (line {error.context_mark.line + 1}): {error.problem}"
    if mark is None:
        return ReadError(f"{kind} syntax error: {message}")
    return ReadError(f"{kind} syntax error: {message}", mark.line + 1, mark.column + 1)


def _line(node: Any) -> int:
    return node.start_mark.line + 1


def _scalar_end_line(node: Any) -> int:
    return _end_of(node.start_mark, node.end_mark)


def _end_of(start: Any, end: Any) -> int:
    """The last line of what runs from mark ``start`` to mark ``end``."""
    if end.column == 0 and end.line > start.line:
        return end.line  # a block scalar ends with its newline
    return end.line + 1


class _Common:
    """What both builders share: the text's lines for block scalars, and problems reported once."""

    def __init__(self, text: str):
        self.text = text
        self._lines: Optional[list[str]] = None
        self.problems: list[Problem] = []
        self._reported: set[tuple[int, str]] = set()

    def _block_end(self, start: int, end: int, style: Any) -> int:
        """``end`` for a scalar starting at line ``start``; a block scalar (``|``, ``>``)
        without its trailing blank lines."""
        if style in ("|", ">"):
            if self._lines is None:
                self._lines = self.text.splitlines()
            while end > start and end <= len(self._lines) and not self._lines[end - 1].strip():
                end -= 1
        return end

    def _problem(self, level: str, line: int, column: int, message: str) -> None:
        if (line, message) not in self._reported:
            self._reported.add((line, message))
            self.problems.append(Problem(level, line, column, message))

    def _duplicate(self, result: Mapping, key: str, line: int, column: int) -> None:
        self._problem(
            "error", line, column, f"duplicate key '{key}' (first at line {result.key_lines[key]}); the last one is used"
        )


class _Builder(_Common):
    def __init__(self, budget: int, text: str):
        super().__init__(text)
        self.budget = budget
        self.built = 0
        self.seen: set[int] = set()
        self.aliases = "&" in text  # without an anchor there is no alias to track
        self.alias_line: Optional[int] = None  # where the alias being expanded is used

    def build(self, node: Any, depth: int) -> Any:
        self.built += 1
        if self.built > self.budget:
            line = self.alias_line or _line(node)
            raise ReadError(
                f"YAML aliases expand to more than {self.budget} values (an alias bomb?); not loaded",
                line,
                code=DiagnosticCode.SIZE,
            )
        if depth >= MAX_DEPTH:  # the root is level 1
            raise ReadError(
                f"nested more than {MAX_DEPTH} levels deep; not loaded", _line(node), node.start_mark.column + 1, DiagnosticCode.SIZE
            )
        if self.aliases:
            self.seen.add(id(node))
        tag = node.tag
        if isinstance(node, ScalarNode):
            if tag == _STR:
                return node.value
            if tag.startswith("!") and tag != "!":
                return self._intrinsic(node, tag, node.value if tag != "!GetAtt" else _split_get_att(node.value))
            return _scalar(node, tag)
        if isinstance(node, MappingNode):
            value: Any = self._mapping(node, depth)
        elif isinstance(node, SequenceNode):
            value = self._sequence(node, depth)
        else:  # pragma: no cover - the composer makes no other nodes
            raise ReadError("unexpected YAML node", _line(node))
        if tag.startswith("!") and tag != "!":
            return self._intrinsic(node, tag, value)
        if tag not in _STANDARD_COLLECTIONS:
            raise ReadError(f"unsupported YAML tag {tag}", _line(node), node.start_mark.column + 1)
        return value

    def _child(self, child: Any, depth: int, use_line: int) -> Any:
        if not self.aliases:
            return self.build(child, depth)
        if id(child) in self.seen and self.alias_line is None:
            self.alias_line = use_line
            try:
                return self.build(child, depth)
            finally:
                self.alias_line = None
        return self.build(child, depth)

    def _mapping(self, node: MappingNode, depth: int) -> Mapping:
        result = Mapping()
        result.start_line = _line(node)
        lines = result.key_lines
        columns = result.key_columns
        merges: list[Any] = []
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE:
                merges.append(self._child(value_node, depth + 1, key_line))
                continue
            if not isinstance(key_node, ScalarNode):
                raise ReadError("a mapping key must be a string", key_line, key_node.start_mark.column + 1)
            key = key_node.value
            column = key_node.start_mark.column + 1
            if key in result:
                self._duplicate(result, key, key_line, column)
            result[key] = self._child(value_node, depth + 1, key_line)
            lines[key] = key_line
            columns[key] = column
        if merges:
            _merge(result, merges)
        result.end_line = self._end_line(node, result)
        return result

    def _sequence(self, node: SequenceNode, depth: int) -> Sequence:
        result = Sequence()
        result.start_line = line = _line(node)
        for item in node.value:
            result.append(self._child(item, depth + 1, line))
        result.end_line = self._end_line(node, result)
        return result

    def _end_line(self, node: Any, built: Any) -> int:
        if node.flow_style or not node.value:
            return _scalar_end_line(node)
        last = node.value[-1]
        last_node = last[1] if isinstance(node, MappingNode) else last
        last_value = built[-1] if isinstance(built, list) else None
        if isinstance(node, MappingNode):
            key = last[0].value if isinstance(last[0], ScalarNode) else None
            last_value = built.get(key) if key is not None else None
        end = getattr(last_value, "end_line", None)
        if end:
            return max(end, _line(node))
        return self._scalar_end(last_node)

    def _scalar_end(self, node: Any) -> int:
        """Last line of a scalar; a block scalar (``|``, ``>``) without its trailing blank lines."""
        return self._block_end(_line(node), _scalar_end_line(node), getattr(node, "style", None))

    def _intrinsic(self, node: Any, tag: str, argument: Any) -> Mapping:
        end = getattr(argument, "end_line", 0) or self._scalar_end(node)
        return _intrinsic(tag, argument, _line(node), end, node.start_mark.column + 1)


def _intrinsic(tag: str, argument: Any, line: int, end: int, column: int) -> Mapping:
    """``!Name argument`` in its long form, a one-key mapping on the tag's line."""
    name = _LONG_FORM.get(tag) or "Fn::" + tag[1:]
    result = _new_dict(Mapping)
    result[name] = argument
    result.start_line = line
    result.end_line = end
    result._lines = line
    result._columns = column
    return result


def _merge(result: Mapping, merges: list) -> None:
    """Keys of the ``<<`` mappings that ``result`` does not set itself, with their lines."""
    lines = result.key_lines
    columns = result.key_columns
    for merged in merges:
        for source in merged if isinstance(merged, list) else [merged]:
            if not isinstance(source, Mapping):
                raise ReadError("a merge key ('<<') needs a mapping", result.start_line)
            for key, item in source.items():
                if key not in result:
                    result[key] = item
                    lines[key] = source.key_lines.get(key, source.start_line)
                    columns[key] = source.key_columns.get(key, 1)


_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_TYPED: dict[tuple[str, str], Any] = {}  # (tag, text) -> int or bool, shared by every read
_TYPED_MAX = 20_000


def _scalar(node: ScalarNode, tag: str) -> Any:
    """A typed scalar. An explicit tag (``!!int ""``, ``!!bool maybe``) can name a type its
    text is not: that is a ``ReadError`` at the value, never PyYAML's own exception."""
    if tag in _AS_TEXT:
        if tag == _TIMESTAMP and not _TIMESTAMP_TEXT.match(node.value):
            raise _not_a(node, "a timestamp (YYYY-MM-DD, optionally with a time)", "timestamp")
        return node.value
    if tag == _NULL:
        if not _NULL_TEXT.match(node.value):
            raise _not_a(node, "null (null, Null, NULL, ~ or nothing)", "null")
        return None
    try:
        if tag == _INT:
            return _CONSTRUCTOR.construct_yaml_int(node)
        if tag == _BOOL:
            return _CONSTRUCTOR.construct_yaml_bool(node)
        if tag == _FLOAT:
            return _CONSTRUCTOR.construct_yaml_float(node)
    except (ValueError, IndexError, KeyError, TypeError, AttributeError):
        if tag == _INT and _LONG_INTEGER.match(node.value):
            return node.value  # more digits than Python converts (4,300): kept as written
        if tag == _INT:
            raise _not_a(node, "an integer", "int") from None
        if tag == _BOOL:
            raise _not_a(node, "a boolean (true or false)", "bool") from None
        raise _not_a(node, "a number", "float") from None
    raise ReadError(f"unsupported YAML tag {tag}", _line(node), node.start_mark.column + 1)


def _not_a(node: ScalarNode, what: str, short: str) -> ReadError:
    shown = node.value if len(node.value) <= 40 else node.value[:40] + "..."
    return ReadError(f"YAML value {shown!r} is tagged !!{short} but is not {what}", _line(node), node.start_mark.column + 1)


class _Unsupported(Exception):
    """What the event builder leaves to the composer: an anchor, an alias, a document it
    would refuse."""


class _Marks:
    """Where a mapping or sequence read from events starts and ends, as on a node."""

    __slots__ = ("end_mark", "start_mark", "style")

    def __init__(self, start_mark: Any, end_mark: Any):
        self.start_mark = start_mark
        self.end_mark = end_mark
        self.style = None


_new_dict = dict.__new__
_new_list = list.__new__
# Keys and short texts come back thousands of times a template (Type, Properties,
# AWS::Kinesis::Stream, KMS): one string object each instead of one per use, in the data read
# and in every model built from it.
_intern = sys.intern
_INTERN_MAX = 64


class _EventBuilder(_Common):
    """The data ``_Builder`` gives, built straight from libyaml's parse events: no node graph
    is kept (on the 10 MB template the graph was most of the peak memory) and no resolver
    callback runs. Only for a document with no anchor, no alias and nothing ``_Builder`` or
    the composer would refuse: for anything else it raises, and ``_read_composed`` reads the
    text again and gives the answer or the error it always gave."""

    def __init__(self, text: str, budget: int):
        super().__init__(text)
        self.budget = budget
        self.built = 0
        self.end_mark: Any = None  # of the mapping or sequence read last

    def read(self) -> tuple[Any, list[Problem]]:
        parser = _CParser(self.text)
        try:
            self.get = get = parser.get_event
            get()  # stream start
            if type(get()) is StreamEndEvent:  # else a document start
                return None, []
            data = self._value(get(), 0)
            self._count(1)
            get()  # document end
            if type(get()) is not StreamEndEvent:
                raise _Unsupported("another document")
            return data, self.problems
        finally:
            parser.dispose()

    def _value(self, event: Any, depth: int) -> Any:
        """The value that starts with ``event``, all its events read (counted by the caller)."""
        kind = type(event)
        if kind is ScalarEvent:
            if event.tag is None and event.anchor is None:
                value = event.value
                if not event.implicit[0] or _PLAIN_TAGS.get(value) is _STR:  # text, as written
                    return _intern(value) if len(value) <= _INTERN_MAX else value
            return self._scalar(event)
        if kind is MappingStartEvent:
            return self._mapping(event, depth)
        if kind is SequenceStartEvent:
            return self._sequence(event, depth)
        raise _Unsupported("alias")

    def _scalar(self, event: Any) -> Any:
        if event.anchor is not None:
            raise _Unsupported("anchor")
        value = event.value
        tag = event.tag
        if tag is None or tag == "!":
            if not event.implicit[0]:
                return _intern(value) if len(value) <= _INTERN_MAX else value
            tag = _PLAIN_TAGS.get(value) or _plain_tag(value)
        if tag == _STR:
            return _intern(value) if len(value) <= _INTERN_MAX else value
        if tag.startswith("!"):
            start = event.start_mark.line + 1
            end = self._block_end(start, _scalar_end_line(event), event.style)
            argument = value if tag != "!GetAtt" else _split_get_att(value)
            return _intrinsic(tag, argument, start, end, event.start_mark.column + 1)
        if tag == _INT or tag == _BOOL:
            known = _TYPED.get((tag, value))
            if known is not None:
                return known
        typed = _scalar(ScalarNode(tag, value, event.start_mark, event.end_mark, event.style), tag)
        if (tag == _INT or tag == _BOOL) and type(typed) is not str and len(_TYPED) < _TYPED_MAX:
            _TYPED[(tag, value)] = typed
        return typed

    def _mapping(self, start: Any, depth: int) -> Any:
        if start.anchor is not None:
            raise _Unsupported("anchor")
        if depth >= MAX_DEPTH - 1:  # _Builder says exactly where
            raise _Unsupported("nested too deeply")
        result = _new_dict(Mapping)
        result.start_line = start.start_mark.line + 1
        lines: Optional[dict] = None  # made once the keys' lines follow neither of these:
        first = 0  # the first key's line, and every key on it,
        spread: Optional[bool] = None  # or (True) key i on line first + i
        columns: Optional[dict] = None  # made once two keys are at different columns
        same = 0  # else the column of every key
        get = self.get
        value_of = self._value
        depth += 1
        merges: Optional[list] = None
        last: Any = None  # the last value's event (a scalar) or marks (a merged mapping)
        key: Any = None
        count = 0  # values read
        while True:
            event = get()
            if type(event) is not ScalarEvent:
                if type(event) is MappingEndEvent:
                    break
                raise _Unsupported("a key that is not a scalar, or an alias")
            if event.anchor is not None:
                raise _Unsupported("anchor")
            key = _intern(event.value)
            tag = event.tag
            value_event = get()
            count += 1
            if (key == "<<" and event.implicit[0] and (tag is None or tag == "!")) or tag == _MERGE:
                if merges is None:
                    merges = []
                merges.append(value_of(value_event, depth))
                last = value_event if type(value_event) is ScalarEvent else _Marks(value_event.start_mark, self.end_mark)
                continue
            mark = event.start_mark
            line = mark.line + 1
            column = mark.column + 1
            if key in result:
                if lines is None:
                    lines = _key_lines(result, -first if spread else first)
                result._lines = lines
                self._duplicate(result, key, line, column)
            result[key] = value_of(value_event, depth)
            if lines is not None:
                lines[key] = line
            elif not first:
                first = line
            elif line == first and spread is not True:
                spread = False
            elif line == first + len(result) - 1 and spread is not False:
                spread = True
            else:
                lines = _key_lines(result, -first if spread else first)
                lines[key] = line
            if columns is not None:
                columns[key] = column
            elif column != same:
                if same:
                    columns = dict.fromkeys(result, same)
                    columns[key] = column
                else:
                    same = column
            last = value_event
        if lines is not None:
            result._lines = lines
        elif not spread:
            result._lines = first
        else:
            result._lines = -first if len(result) <= _STEP_MAX else _key_lines(result, -first)
        result._columns = same if columns is None else columns
        self._count(count)
        if merges:
            _merge(result, merges)
        return self._closed(start, result, event, last, result.get(key))

    def _sequence(self, start: Any, depth: int) -> Any:
        if start.anchor is not None:
            raise _Unsupported("anchor")
        if depth >= MAX_DEPTH - 1:
            raise _Unsupported("nested too deeply")
        result = _new_list(Sequence)
        result.start_line = start.start_mark.line + 1
        get = self.get
        value_of = self._value
        depth += 1
        append = result.append
        last: Any = None
        while True:
            event = get()
            if type(event) is SequenceEndEvent:
                break
            append(value_of(event, depth))
            last = event
        self._count(len(result))
        return self._closed(start, result, event, last, result[-1] if result else None)

    def _closed(self, start: Any, result: Any, end: Any, last: Any, last_value: Any) -> Any:
        """A mapping or sequence read up to its ``end`` event: its end line (from its last
        value, ``last`` being that value's event or marks) and its tag."""
        self.end_mark = end.end_mark
        if start.flow_style or last is None:
            result.end_line = _end_of(start.start_mark, end.end_mark)
        else:
            result.end_line = self._end_line(last_value, last, result.start_line)
        return result if start.tag is None else self._tagged(start, result)

    def _count(self, values: int) -> None:
        """``_Builder``'s bound on the values built, counted a collection at a time."""
        self.built += values
        if self.built > self.budget:
            raise _Unsupported("too many values")

    def _end_line(self, last_value: Any, last: Any, start: int) -> int:
        """``_Builder._end_line`` of a block collection: its last value's end, or its last
        scalar's."""
        end = getattr(last_value, "end_line", None)
        if end:
            return max(end, start)
        return self._block_end(_line(last), _scalar_end_line(last), last.style)

    def _tagged(self, start: Any, value: Any) -> Any:
        tag = start.tag
        if tag is None or tag == "!":
            return value
        if tag.startswith("!"):
            end = value.end_line or self._block_end(value.start_line, _end_of(start.start_mark, self.end_mark), None)
            return _intrinsic(tag, value, value.start_line, end, start.start_mark.column + 1)
        if tag not in _STANDARD_COLLECTIONS:
            raise _Unsupported("tag")
        return value


def _children(node: Any) -> list:
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, SequenceNode):
        return node.value
    return []


def _check_aliases(root: Any, budget: int) -> None:
    """Refuse a document whose aliases expand beyond ``budget`` values, or refer to
    themselves, before anything is built; the error points at the line where the
    expansion happens."""
    sizes: dict[int, Optional[int]] = {}

    def size(node: Any, depth: int) -> int:
        key = id(node)
        if key in sizes:
            known = sizes[key]
            if known is None:
                raise ReadError("a YAML alias refers to the node that contains it; not loaded", _line(node))
            return known
        if depth > MAX_DEPTH:  # the builder reports it with its line
            return 1
        sizes[key] = None
        total = 1
        for child in _children(node):
            total = min(total + size(child, depth + 1), budget + 1)
        sizes[key] = total
        return total

    if size(root, 0) <= budget:
        return
    # Walk down to the first place written after its parent whose expansion is too large:
    # the alias use, not the anchor it repeats.
    node, line = root, _line(root)
    while True:
        if isinstance(node, MappingNode):
            pairs = [(value, key.start_mark.line + 1) for key, value in node.value]
        else:
            pairs = [(child, _line(child)) for child in _children(node)]
        for child, child_line in pairs:
            if (sizes.get(id(child)) or 0) > budget:
                break
        else:
            break
        line = child_line
        if _line(child) < line:  # an alias of something written earlier
            break
        node = child
    raise ReadError(f"YAML aliases expand to more than {budget} values (an alias bomb?); not loaded", line, code=DiagnosticCode.SIZE)


def _split_get_att(text: str) -> Any:
    resource, dot, attribute = text.partition(".")
    return [resource, attribute] if dot else text
