"""HCL source text, scanned without an HCL parser: masking, blocks, attributes, references.

tfparse gives evaluated values, never the expressions behind them; the Terraform loader reads
those from the source. ``mask`` blanks string contents and comments (keeping ``${...}``
interpolations, which are code) so that attributes, nested blocks and references are found by
linear scans; no regex here may backtrack over template text. ``SourceFile`` is one ``.tf`` or
``.tf.json`` file with its masked text and line index; ``Body`` and ``Item`` are a block's
contents as offsets into it.
"""

from __future__ import annotations

import bisect
import re
from itertools import accumulate
from typing import Iterable, Optional

FILL = "\x01"  # what string contents become in masked text (comments become spaces)

# In code: a whole string without interpolation (the common case, one match), the start of
# any other string, a comment, a heredoc opener; braces only matter inside an interpolation.
_SIMPLE_STRING = r'"(?:[^"\\\n$%]|\\.|\$\$\{|%%\{|\$(?!\{)|%(?!\{))*"'
_CODE_TOKEN = re.compile(_SIMPLE_STRING + r'|"|#|//|/\*|<<-?([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n|[{}]')
_TOP_CODE_TOKEN = re.compile(_SIMPLE_STRING + r'|"|#|//|/\*|<<-?([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n')
_STRING_TOKEN = re.compile(r'\\.|\$\$\{|%%\{|[$%]\{|"|\n', re.S)
_HEREDOC_TOKEN = re.compile(r"\$\$\{|%%\{|[$%]\{")
# A block header (`name "label" label {`) is read by _block_header, a linear scan: a regex
# `ident(?:[ \t]*(?:"..."|ident))*` can split one long identifier into labels in exponentially
# many ways before it fails (a non-ASCII letter after 30 characters took minutes).
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_BLANKS = re.compile(r"[ \t]*")
# linear: an identifier can end only where a blank or "=" follows, so a failed match gives
# back each character once
_ATTR = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)[ \t]*=(?![=>])")
_LABEL = re.compile(r'"([^"\n]*)"|([A-Za-z_][A-Za-z0-9_-]*)')
_JSON_KEY = re.compile(r'"([^"\n]*)"\s*:')
_OPENING_BRACE = re.compile(r"\s*\{")
# an item of a body after blanks: `name =` (group 1, linear as _ATTR) or a block's name (group 2)
_ITEM = re.compile(r"[ \t\r\n,;]*(?:([A-Za-z_][A-Za-z0-9_-]*)[ \t]*=(?![=>])|([A-Za-z_][A-Za-z0-9_-]*))?")
_BRACKETS = re.compile(r"[\[\](){}\n]")
_JSON_BRACKETS = re.compile(r"[\[\]{},]")
_BRACKET_CHAR = re.compile(r"[\[\](){}]")
_CLOSING = re.compile(r"[\])}]")
_SKIP_COMMENT = re.compile(
    r"(?:#|//|/\*)[ \t]*(?:checkov|bridgecrew):skip=[ \t]*([A-Za-z0-9_.*-]+)(?:[ \t]*:([^\n]*))?"
)
# var.x, local.x, module.x.out (also module.x["k"].out); not x.var.y
_REF = re.compile(
    r"(?<![\w.])(var|local|module)\.([A-Za-z_][A-Za-z0-9_-]*)"
    r"(?:\s*\[[^\]\n]*\])?(?:\.([A-Za-z_][A-Za-z0-9_-]*))?"
)


def mask(text: str) -> str:
    """``text`` with string contents replaced by ``FILL`` and comments by spaces.

    Offsets are kept (same length). ``${...}``/``%{...}`` inside strings and heredocs stay
    code (their braces are kept, the ``$`` is masked); newlines inside heredocs are masked so
    that a heredoc does not end its attribute; other newlines are kept.
    """
    out: list[str] = []
    n = len(text)
    pos = 0
    # open braces inside interpolations: None for a brace, else the state to return to
    stack: list[Optional[tuple[str, Optional[str]]]] = []
    state = "code"
    marker: Optional[str] = None
    while pos < n:
        if state == "code":
            if stack:
                match = _CODE_TOKEN.search(text, pos)
            else:
                # outside interpolations most tokens are whole strings without one: masked
                # here, one after the other, until another token (or none) comes
                for match in _TOP_CODE_TOKEN.finditer(text, pos):
                    start, stop = match.span()
                    if stop - start < 2 or text[start] != '"':
                        break
                    out.append(text[pos:start])
                    out.append('"' + FILL * (stop - start - 2) + '"')
                    pos = stop
                else:
                    match = None
            if not match:
                out.append(text[pos:])
                break
            start = match.start()
            out.append(text[pos:start])
            token = match.group(0)
            if len(token) > 1 and token[0] == '"':  # a whole string without interpolation
                out.append('"' + FILL * (len(token) - 2) + '"')
                pos = match.end()
            elif token == '"':
                out.append('"')
                pos, state = match.end(), "string"
            elif token in ("#", "//"):
                end = text.find("\n", start)
                end = n if end < 0 else end
                out.append(" " * (end - start))
                pos = end
            elif token == "/*":
                end = text.find("*/", start + 2)
                end = n if end < 0 else end + 2
                out.append(re.sub(r"[^\n]", " ", text[start:end]))
                pos = end
            elif token == "{":
                stack.append(None)
                out.append("{")
                pos = match.end()
            elif token == "}":
                back = stack.pop() if stack else None
                out.append("}")
                pos = match.end()
                if back is not None:
                    state, marker = back
            else:  # heredoc opener, including its newline
                marker = match.group(1)
                out.append(" " * (match.end() - start))
                pos, state = match.end(), "heredoc"
        elif state == "string":
            match = _STRING_TOKEN.search(text, pos)
            if not match:
                out.append(FILL * (n - pos))
                break
            out.append(FILL * (match.start() - pos))
            token = match.group(0)
            pos = match.end()
            if token == '"':
                out.append('"')
                state = "code"
            elif token == "\n":  # unterminated string: recover at the line end
                out.append("\n")
                state = "code"
            elif token in ("${", "%{"):
                out.append(FILL + "{")
                stack.append(("string", None))
                state = "code"
            else:
                out.append(FILL * len(token))
        else:  # heredoc
            newline = text.find("\n", pos)
            line_end = n if newline < 0 else newline
            if (pos == 0 or text[pos - 1] == "\n") and text[pos:line_end].strip() == marker:
                out.append(" " * (line_end - pos))
                pos, state = line_end, "code"
                continue
            match = _HEREDOC_TOKEN.search(text, pos, line_end)
            if match and match.group(0) in ("${", "%{"):
                out.append(FILL * (match.start() - pos) + FILL + "{")
                stack.append(("heredoc", marker))
                pos, state = match.end(), "code"
            elif match:
                out.append(FILL * (match.end() - pos))
                pos = match.end()
            else:
                out.append(FILL * (line_end - pos))
                if newline >= 0:
                    out.append(FILL)
                pos = line_end + 1
    return "".join(out)


class Item:
    """An attribute (``name = expr``) or a nested block (``name "label" { body }``) in a body."""

    __slots__ = ("kind", "name", "offset", "start", "end", "labels", "_body")

    def __init__(
        self,
        kind: str,
        name: str,
        offset: int,
        start: int,
        end: int,
        labels: tuple[str, ...] = (),
    ):
        self.kind = kind  # "attr" or "block"
        self.name = name
        self.offset = offset  # where the name starts
        self.start = start  # expression or body start
        self.end = end  # expression or body end (exclusive; for a block, its closing brace)
        self.labels = labels
        self._body: Optional[Body] = None  # parsed on first use


class Body:
    __slots__ = ("source", "items", "start", "end", "_by_line", "_attributes", "_named")

    def __init__(self, source: "SourceFile", items: Optional[list[Item]] = None, start: int = 0, end: int = 0):
        self.source = source
        self.items = [] if items is None else items
        self.start, self.end = start, end  # the body's text, between its braces
        self._by_line: Optional[dict[int, Item]] = None  # built on first use
        self._attributes: Optional[dict[str, Item]] = None  # the first attribute of each name, on first use
        self._named: Optional[dict[str, Item]] = None  # the first item of each name (line_of), on first use

    def attribute(self, name: str) -> Optional[Item]:
        # the conversion asks for every attribute of every body: one walk, then lookups
        if self._attributes is None:
            attributes: dict[str, Item] = {}
            for item in self.items:
                if item.kind == "attr":
                    attributes.setdefault(item.name, item)
            self._attributes = attributes
        return self._attributes.get(name)

    def line_of(self, name: str) -> Optional[int]:
        """The line of attribute ``name`` or of the first nested block written as ``name``."""
        if self._named is None:  # asked for every attribute of a resource: one walk, then lookups
            named: dict[str, Item] = {}
            for item in self.items:
                named.setdefault(item.name, item)
                if item.name == "dynamic" and item.labels:
                    named.setdefault(item.labels[0], item)
            self._named = named
        item = self._named.get(name)
        return None if item is None else self.source.line_of(item.offset)

    def block_at(self, line: int) -> Optional[Item]:
        """The nested block whose header is on ``line`` (the ``content`` of a dynamic block too)."""
        if self._by_line is None:
            self._by_line = {}
            for item in self.items:
                if item.kind != "block":
                    continue
                self._by_line.setdefault(self.source.line_of(item.offset), item)
                if item.name == "dynamic":
                    for inner in self.source.body_of(item).items:
                        if inner.kind == "block" and inner.name == "content":
                            self._by_line.setdefault(self.source.line_of(inner.offset), inner)
        return self._by_line.get(line)


class SourceFile:
    """One .tf / .tf.json file: text, masked text, line offsets and block bodies (cached)."""

    def __init__(self, path: str, data: bytes):
        self.path = path
        self.text = data.decode("utf-8", errors="replace")
        self.is_json = path.endswith(".json")
        self._masked: Optional[str] = None
        self._line_starts: Optional[list[int]] = None
        self._bodies: dict[tuple[int, str], Optional[Body]] = {}
        self._top: Optional[Body] = None

    @property
    def masked(self) -> str:
        if self._masked is None:
            self._masked = mask(self.text)
        return self._masked

    @property
    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            # the offsets after each newline, summed in C from the lines' lengths
            lengths = map(len, self.text.split("\n"))
            self._line_starts = list(accumulate(map((1).__add__, lengths), initial=0))[:-1]
        return self._line_starts

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts or self.line_starts, offset)  # the property once

    def offset_of(self, line: int) -> int:
        starts = self.line_starts
        if line < 1:
            return 0
        return starts[line - 1] if line <= len(starts) else len(self.text)

    def expression(self, item: Item) -> str:
        """The masked text of an attribute's expression (or a block's body)."""
        return self.masked[item.start : item.end]

    def source_text(self, item: Item) -> str:
        return self.text[item.start : item.end]

    def block(self, line: int, name: str = "") -> Optional[Body]:
        """The body of the top-level block that starts on ``line`` (``name``: its last label)."""
        key = (line, name)
        if key not in self._bodies:
            self._bodies[key] = self._find_block(line, name)
        return self._bodies[key]

    def top_level(self) -> Body:
        """The file's own items (blocks and stray attributes) at depth 0, whatever their
        indentation: Terraform accepts an indented ``resource`` block, and a scan anchored at
        the line start would miss it while one that allows blanks would also match nested
        blocks. Empty for JSON (its keys are not blocks)."""
        if self._top is None:
            self._top = Body(self, start=0, end=len(self.text)) if self.is_json else _parse_body(self, 0, len(self.masked))
        return self._top

    def release(self) -> None:
        """Forget the parsed bodies, which refer back to this file: once its reader is done,
        the file and its bodies are freed by reference counting instead of waiting for the
        cyclic collector (paused while a Terraform module loads). Asked again, they are
        parsed again."""
        self._bodies = {}
        self._top = None

    def top_level_body(self, item: Item) -> Body:
        """The body of a block of ``top_level()``, also kept where ``block(line, name)`` looks
        (the evaluation reads the same blocks by line: each body is parsed once)."""
        body = self.body_of(item)
        line = self.line_of(item.offset)
        if item.labels and self.masked.find("{", self.offset_of(line)) == item.start - 1:
            self._bodies.setdefault((line, item.labels[-1]), body)
        return body

    def body_of(self, item: Item) -> Body:
        if item._body is None:
            item._body = self._parse(item.start, item.end)
        return item._body

    def skips(self, start_line: int, end_line: int) -> dict[str, str]:
        """``#checkov:skip=ID:reason`` comments written inside the block's lines."""
        begin, end = self.offset_of(start_line), self.offset_of(end_line + 1)
        chunk = self.text[begin:end]
        if "skip=" not in chunk:
            return {}
        found: dict[str, str] = {}
        masked = self.masked
        for match in _SKIP_COMMENT.finditer(chunk):
            if self.is_json or masked[begin + match.start()] != " ":  # inside a string, not a comment
                continue
            reason = (match.group(2) or "").strip()
            if reason.endswith("*/"):
                reason = reason[:-2].rstrip()
            found.setdefault(match.group(1), reason)
        return found

    # -- parsing -----------------------------------------------------------------------

    def _find_block(self, line: int, name: str) -> Optional[Body]:
        masked = self.masked
        begin = self.offset_of(line)
        line_end = masked.find("\n", begin)
        line_end = len(masked) if line_end < 0 else line_end
        if self.is_json:
            # tfparse's line is the one holding `"name": {`; a one-line file holds all of them
            opening = -1
            for match in _JSON_KEY.finditer(masked, begin):
                key = self.text[match.start() + 1 : match.start() + 1 + len(match.group(1))]
                if key == name:
                    brace = _OPENING_BRACE.match(masked, match.end())
                    if brace:
                        opening = brace.end() - 1
                        break
                if match.start() > line_end:
                    break
            if opening < 0:
                opening = masked.find("{", begin, line_end)
        else:
            opening = masked.find("{", begin, line_end)
        if opening < 0:
            return None
        close = _closing_brace(masked, opening + 1, len(masked))
        return self._parse(opening + 1, close)

    def _parse(self, start: int, end: int) -> Body:
        return _parse_json_body(self, start, end) if self.is_json else _parse_body(self, start, end)


def _closing_brace(masked: str, start: int, end: int) -> int:
    """The ``}`` that closes a ``{`` just before ``start``. Depth can only reach zero at a
    closing brace, so the scan goes from one ``}`` to the next, counting the openings between
    them in C (``str.count``) rather than looking at every brace in Python."""
    depth = 1
    pos = start
    find, count = masked.find, masked.count
    while True:
        close = find("}", pos, end)
        if close < 0:
            return end
        depth += count("{", pos, close) - 1
        if depth == 0:
            return close
        pos = close + 1


def _expression_end(masked: str, start: int, end: int) -> int:
    """Where an attribute expression ends: a newline outside brackets, or the body's end."""
    newline = masked.find("\n", start, end)
    line_end = end if newline < 0 else newline
    if _BRACKET_CHAR.search(masked, start, line_end) is None:  # most expressions: one line, no brackets
        return line_end
    pos = start
    while True:
        # outside brackets: a newline ends the expression, a closing bracket is the enclosing
        # one-line block's `}`, an opening one starts a bracketed part
        match = _BRACKETS.search(masked, pos, end)
        if match is None:
            return end
        char = match.group(0)
        if char == "\n" or char in ")]}":
            return match.start()
        # inside brackets newlines do not count, and the depth can only come back to zero at a
        # closing bracket: from one to the next, the openings between them counted in C
        depth, pos = 1, match.end()
        count = masked.count
        while depth:
            close = _CLOSING.search(masked, pos, end)
            if close is None:
                return end
            at = close.start()
            depth += count("(", pos, at) + count("[", pos, at) + count("{", pos, at) - 1
            pos = at + 1


def _parse_body(source: SourceFile, start: int, end: int) -> Body:
    masked, text = source.masked, source.text
    body = Body(source, start=start, end=end)
    items = body.items
    match_item = _ITEM.match
    pos = start
    while pos < end:
        found = match_item(masked, pos, end)  # blanks, then an attribute's `name =` or a name
        attr, name = found.group(1, 2)
        if attr is not None:
            expr_start = found.end()
            expr_end = _expression_end(masked, expr_start, end)
            items.append(Item("attr", attr, found.start(1), expr_start, expr_end))
            pos = expr_end
            continue
        if name is None:
            pos = found.end()
            if pos >= end:
                break
        else:
            pos = found.start(2)
            header = _block_header(masked, found.end(), end)
            if header is not None:
                labels_end, opening = header
                close = _closing_brace(masked, opening + 1, end)
                # a label is a quoted string (group 1, maybe empty) or an identifier (never empty)
                labels = tuple(ident or quoted for quoted, ident in _LABEL.findall(text, found.end(), labels_end))
                items.append(Item("block", name, pos, opening + 1, close, labels))
                pos = close + 1
                continue
        pos = _expression_end(masked, pos, end) + 1  # something else: skip the line
    return body


def _block_header(masked: str, pos: int, end: int) -> Optional[tuple[int, int]]:
    """After a block's name at ``pos``: (end of its labels, offset of its ``{``), or ``None``.

    Labels are quoted strings or identifiers on the header's line, separated by blanks or
    nothing; each is taken whole (an identifier is never split), so the scan is linear.
    """
    labels_end = pos
    while True:
        at = _BLANKS.match(masked, labels_end, end).end()
        if at >= end:
            return None
        char = masked[at]
        if char == "{":
            return labels_end, at
        if char == '"':
            newline = masked.find("\n", at + 1, end)
            close = masked.find('"', at + 1, newline if newline >= 0 else end)
            if close < 0:  # a label string ends on its line
                return None
            labels_end = close + 1
            continue
        label = _IDENT.match(masked, at, end)
        if label is None:
            return None
        labels_end = label.end()


def _parse_json_body(source: SourceFile, start: int, end: int) -> Body:
    """Top-level keys of a JSON object body; every value counts as an attribute."""
    masked, text = source.masked, source.text
    body = Body(source, start=start, end=end)
    pos = start
    while pos < end:
        key = _JSON_KEY.search(masked, pos, end)
        if not key:
            break
        depth = 0
        value_end = end
        for match in _JSON_BRACKETS.finditer(masked, key.end(), end):
            char = match.group(0)
            if char in "[{":
                depth += 1
            elif char in "]}":
                depth -= 1
            if depth < 0 or (depth == 0 and char == ","):
                value_end = match.start()
                break
        name = text[key.start() + 1 : key.start() + 1 + len(key.group(1))]
        body.items.append(Item("attr", name, key.start(), key.end(), value_end))
        pos = value_end + 1
    return body


def references(masked_expression: str) -> Iterable[tuple[str, str, Optional[str]]]:
    """``(kind, name, sub)`` for each var./local./module. reference in a masked expression."""
    for match in _REF.finditer(masked_expression):
        yield match.group(1), match.group(2), match.group(3)
