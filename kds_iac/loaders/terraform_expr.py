"""Read an HCL expression from its source text, for the values tfparse gives up on.

tfparse evaluates a function call to null as soon as one argument is not known (a variable
without a value, a resource attribute): ``base64encode(<<-EOT ... ${var.key} ... EOT)``,
``jsonencode([{ ..., value = var.x }])``. The text of such user data or container
definitions is still in the template, and the checks need it. This module reads the
expression itself into model values:

- literals, strings and heredocs (each ``${...}`` part becomes the value ``reference``
  gives for it; ``%{...}`` directives are dropped and the text of every branch is kept),
  tuples and objects;
- references (``var.x``, ``aws_iam_access_key.k.secret``) through ``reference``;
- ``jsonencode(x)``/``yamlencode(x)`` give ``x`` itself (the loaders decode JSON text into
  structures, so that edges inside survive); ``base64encode(x)``/``base64gzip(x)`` give the
  encoded text when ``x`` is known, else ``Encoded`` keeping ``x``; ``concat``, ``list``,
  ``merge`` and ``join`` combine what they are given; ``file``, ``filebase64`` and
  ``templatefile`` are handed to the loader (``read_file``), which owns file access;
- anything else (operators, conditionals, ``for`` expressions, other functions) is
  ``Unknown``, for that part only.

Nothing is executed and nothing is read here.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Callable, Optional

from kds_iac.model import Encoded, Template, Unknown

# Functions whose call, when tfparse returned null for it, is read from the text.
FALLBACK_FUNCTIONS = frozenset({"base64encode", "base64gzip", "jsonencode", "yamlencode", "concat", "merge", "join", "list"})
FILE_FUNCTIONS = frozenset({"file", "templatefile", "filebase64"})

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")
# Blanks and comments are skipped by a loop over runs (Parser.space), not by one regex of
# repeated alternatives: `(?:[ \t]+|#...)+` is a nested quantifier over the input.
_BLANK_RUN = re.compile(r"[ \t\r]*")
_BLANK_RUN_NL = re.compile(r"[ \t\r\n]*")
_MAX_DEPTH = 40
# Characters a quoted string treats as plain text: none that ends it, escapes or may open
# a ``${``/``%{`` part.
_PLAIN_RUN = re.compile(r'[^"\\\n$%]*')
# a whole quoted string that ``quoted`` would read as its plain text (a ``$`` or ``%`` not
# followed by ``{`` is plain; ``$${`` and ``%%{`` contain ``${``/``%{`` and are left to the loop)
_SIMPLE_QUOTED = re.compile(r'"((?:[^"\\\n$%]|[$%](?!\{))*)"')

Reference = Callable[[str], Any]  # a traversal's text ("var.x", "aws_x.y.arn") -> model value
# file functions (``file``, ``templatefile``, ``filebase64``) are the loader's: (name, args) -> value
ReadFile = Callable[[str, list], Any]


class _Unsupported(Exception):
    pass


def starts_with_fallback_call(masked_expression: str) -> bool:
    """Whether an attribute's (masked) expression is a call this module reads."""
    match = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(", masked_expression)
    return bool(match) and match.group(1) in FALLBACK_FUNCTIONS


def read_expression(text: str, reference: Reference, read_file: ReadFile, module_dir: str = ".") -> Any:
    """The model value of one HCL expression (the whole ``text``)."""
    parser = _Parser(text, reference, read_file, module_dir)
    try:
        value = parser.expression(newline_ends=False)
    except (_Unsupported, RecursionError, IndexError):
        return Unknown("expression could not be read")
    return value


class _Parser:
    def __init__(self, text: str, reference: Reference, read_file: ReadFile, module_dir: str):
        self.text = text
        self.pos = 0
        self.reference = reference
        self.read_file = read_file
        self.module_dir = module_dir
        self.depth = 0

    # -- whitespace and skipping ---------------------------------------------------------

    def space(self, newlines: bool) -> None:
        """Skip blanks (newlines too when ``newlines``) and comments; an unclosed ``/*`` stays."""
        text = self.text
        blanks = _BLANK_RUN_NL if newlines else _BLANK_RUN
        pos = blanks.match(text, self.pos).end()
        char = text[pos : pos + 1]
        # one look at the next character in the common case (no comment follows)
        while char == "#" or (char == "/" and text[pos + 1 : pos + 2] in ("/", "*")):
            if char == "#" or text[pos + 1] == "/":
                newline = text.find("\n", pos)
                pos = len(text) if newline < 0 else newline
            else:
                close = text.find("*/", pos + 2)
                if close < 0:
                    break
                pos = close + 2
            pos = blanks.match(text, pos).end()
            char = text[pos : pos + 1]
        self.pos = pos

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise _Unsupported(f"expected {char!r} at {self.pos}")
        self.pos += 1

    def skip_rest(self, newline_ends: bool) -> None:
        """Skip to the end of the current expression: a delimiter outside brackets."""
        depth = 0
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == '"':
                self._skip_string()
                continue
            if text.startswith("<<", self.pos) and _HEREDOC.match(text, self.pos):
                self._skip_heredoc()
                continue
            if char in "([{":
                depth += 1
            elif char in ")]}":
                if depth == 0:
                    return
                depth -= 1
            elif depth == 0 and (char == "," or (char == "\n" and newline_ends)):
                return
            elif char == "#" or text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
                continue
            self.pos += 1

    def _skip_string(self) -> None:
        self.pos += 1
        depth = 0
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == "\\":
                self.pos += 2
                continue
            if text.startswith("${", self.pos) or text.startswith("%{", self.pos):
                depth += 1
                self.pos += 2
                continue
            if char == "}" and depth:
                depth -= 1
            elif char == '"' and not depth:
                self.pos += 1
                return
            elif char == "\n" and not depth:
                return
            self.pos += 1

    def _skip_heredoc(self) -> None:
        match = _HEREDOC.match(self.text, self.pos)
        marker = match.group(2)
        end = re.compile(r"^[ \t]*" + re.escape(marker) + r"[ \t]*$", re.M).search(self.text, match.end())
        self.pos = end.end() if end else len(self.text)

    def at_end(self, newline_ends: bool) -> bool:
        char = self.peek()
        return char in ("", ",", ")", "]", "}") or (newline_ends and char == "\n")

    # -- expressions ---------------------------------------------------------------------

    def expression(self, newline_ends: bool) -> Any:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _Unsupported("too deep")
        try:
            self.space(newlines=not newline_ends)
            start = self.pos
            try:
                value = self.primary()
            except _Unsupported:
                self.pos = start
                value = _UNREAD
            self.space(newlines=not newline_ends)
            if value is _UNREAD or not self.at_end(newline_ends):
                self.pos = start
                self.skip_rest(newline_ends)
                shown = " ".join(self.text[start : self.pos].split())
                if len(shown) > 60:
                    shown = shown[:57] + "..."
                return Unknown(f"`{shown}` is not evaluated")
            return value
        finally:
            self.depth -= 1

    def primary(self) -> Any:
        char = self.peek()
        if char == '"':
            return self.quoted()
        if self.text.startswith("<<", self.pos):
            return self.heredoc()
        if char == "[":
            return self.tuple_()
        if char == "{":
            return self.object_()
        if char == "(":
            self.pos += 1
            value = self.expression(newline_ends=False)
            self.space(newlines=True)
            self.expect(")")
            return value
        number = _NUMBER.match(self.text, self.pos)
        if number and (char.isdigit() or char == "-"):
            self.pos = number.end()
            literal = number.group(0)
            return float(literal) if any(c in literal for c in ".eE") else int(literal)
        ident = _IDENT.match(self.text, self.pos)
        if not ident:
            raise _Unsupported(f"unexpected {char!r}")
        name = ident.group(0)
        after = ident.end()
        if name in ("true", "false", "null") and not self._continues(after):
            self.pos = after
            return {"true": True, "false": False, "null": None}[name]
        probe = after
        while probe < len(self.text) and self.text[probe] in " \t":
            probe += 1
        if probe < len(self.text) and self.text[probe] == "(":
            self.pos = probe + 1
            return self.call(name)
        return self.traversal()

    def _continues(self, pos: int) -> bool:
        return pos < len(self.text) and self.text[pos] in ".["

    def traversal(self) -> Any:
        start = self.pos
        self.pos = _IDENT.match(self.text, self.pos).end()
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "." and self.pos + 1 < len(self.text):
                ident = _IDENT.match(self.text, self.pos + 1)
                if ident:
                    self.pos = ident.end()
                    continue
                if self.text[self.pos + 1] == "*":
                    self.pos += 2
                    continue
                break
            if char == "[":
                depth = 0
                while self.pos < len(self.text):
                    c = self.text[self.pos]
                    if c == '"':
                        self._skip_string()
                        continue
                    if c == "[":
                        depth += 1
                    elif c == "]":
                        depth -= 1
                        if depth == 0:
                            self.pos += 1
                            break
                    self.pos += 1
                continue
            break
        path = self.text[start : self.pos]
        if path == "path.module":
            return self.module_dir
        if path in ("path.root", "path.cwd"):
            return "."
        return self.reference(path)

    def tuple_(self) -> list:
        self.expect("[")
        self.space(newlines=True)
        if _IDENT.match(self.text, self.pos) and self.text.startswith("for", self.pos) and self.text[self.pos + 3 : self.pos + 4] in (" ", "\t", "\n"):
            raise _Unsupported("for expression")
        items = []
        while True:
            self.space(newlines=True)
            if self.peek() == "]":
                self.pos += 1
                return items
            items.append(self.expression(newline_ends=False))
            self.space(newlines=True)
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "]":
                raise _Unsupported("tuple")

    def object_(self) -> dict:
        self.expect("{")
        self.space(newlines=True)
        if self.text.startswith("for", self.pos) and self.text[self.pos + 3 : self.pos + 4] in (" ", "\t", "\n"):
            raise _Unsupported("for expression")
        out: dict[str, Any] = {}
        while True:
            self.space(newlines=True)
            if self.peek() == "}":
                self.pos += 1
                return out
            key = self.object_key()
            self.space(newlines=False)
            if self.peek() not in ("=", ":"):
                raise _Unsupported("object key")
            self.pos += 1
            value = self.expression(newline_ends=True)
            if key is not None:
                out[key] = value
            self.space(newlines=False)
            if self.peek() == ",":
                self.pos += 1

    def object_key(self) -> Optional[str]:
        char = self.peek()
        if char == '"':
            key = self.quoted()
            return key if isinstance(key, str) else None
        if char == "(":
            self.pos += 1
            key = self.expression(newline_ends=False)
            self.space(newlines=True)
            self.expect(")")
            return key if isinstance(key, str) else None
        ident = _IDENT.match(self.text, self.pos)
        if not ident:
            raise _Unsupported("object key")
        self.pos = ident.end()
        return ident.group(0)

    # -- strings -------------------------------------------------------------------------

    def quoted(self) -> Any:
        simple = _SIMPLE_QUOTED.match(self.text, self.pos)
        if simple:  # no escape, interpolation or directive: the text between the quotes
            self.pos = simple.end()
            return simple.group(1)
        self.expect('"')
        parts: list[Any] = []
        literal: list[str] = []
        text = self.text
        while True:
            if self.pos >= len(text) or text[self.pos] == "\n":
                raise _Unsupported("unterminated string")
            char = text[self.pos]
            if char == '"':
                self.pos += 1
                break
            if char == "\\":
                literal.append(_ESCAPES.get(text[self.pos + 1 : self.pos + 2], text[self.pos + 1 : self.pos + 2]))
                if text[self.pos + 1 : self.pos + 2] == "u":
                    literal[-1] = chr(int(text[self.pos + 2 : self.pos + 6], 16))
                    self.pos += 6
                else:
                    self.pos += 2
                continue
            if text.startswith("$${", self.pos) or text.startswith("%%{", self.pos):
                literal.append(text[self.pos + 1 : self.pos + 3])
                self.pos += 3
                continue
            if text.startswith("${", self.pos):
                parts.append("".join(literal))
                literal = []
                parts.append(self.interpolation())
                continue
            if text.startswith("%{", self.pos):
                self.directive()
                continue
            # a run of plain characters at once (the character-at-a-time loop was the
            # conversion's hot spot on policy documents written as HCL objects)
            run = _PLAIN_RUN.match(text, self.pos + 1).end()
            literal.append(text[self.pos : run])
            self.pos = run
        parts.append("".join(literal))
        return collapse(parts)

    def heredoc(self) -> Any:
        match = _HEREDOC.match(self.text, self.pos)
        if not match:
            raise _Unsupported("heredoc")
        strip, marker = match.group(1) == "-", match.group(2)
        end = re.compile(r"^[ \t]*" + re.escape(marker) + r"[ \t]*$", re.M).search(self.text, match.end())
        if not end:
            raise _Unsupported("unterminated heredoc")
        body_end = end.start()
        body = self.text[match.end() : body_end]
        if strip:
            lines = body.split("\n")
            indents = [len(l) - len(l.lstrip(" \t")) for l in lines if l.strip()]
            cut = min(indents) if indents else 0
            # re-read the dedented body: offsets change, so parse a copy
            dedented = "\n".join(l[cut:] for l in lines)
            value = _Parser(dedented, self.reference, self.read_file, self.module_dir).template_text(0, len(dedented))
        else:
            value = self.template_text(match.end(), body_end)
        self.pos = end.end()
        return value

    def template_text(self, start: int, end: int) -> Any:
        """Template text (heredoc body or template file): literal text with ``${}`` parts."""
        parts: list[Any] = []
        literal: list[str] = []
        text = self.text
        self.pos = start
        while self.pos < end:
            next_marker = min((i for i in (text.find("${", self.pos, end), text.find("%{", self.pos, end)) if i >= 0), default=-1)
            if next_marker < 0:
                literal.append(text[self.pos : end])
                self.pos = end
                break
            if next_marker > self.pos and text[next_marker - 1] in "$%" and text[next_marker - 1] == text[next_marker]:
                literal.append(text[self.pos : next_marker - 1] + text[next_marker : next_marker + 2])
                self.pos = next_marker + 2
                continue
            literal.append(text[self.pos : next_marker])
            self.pos = next_marker
            if text.startswith("${", self.pos):
                parts.append("".join(literal))
                literal = []
                parts.append(self.interpolation())
            else:
                self.directive()
        parts.append("".join(literal))
        return collapse(parts)

    def interpolation(self) -> Any:
        self.pos += 2  # "${"
        if self.peek() == "~":
            self.pos += 1
        value = self.expression(newline_ends=False)
        self.space(newlines=True)
        if self.peek() == "~":
            self.pos += 1
        self.expect("}")
        return value

    def directive(self) -> None:
        """``%{ if ... }``, ``%{ for ... }``, ``%{ else }``, ``%{ endif }``...: dropped."""
        self.pos += 2
        depth = 1
        while self.pos < len(self.text) and depth:
            char = self.text[self.pos]
            if char == '"':
                self._skip_string()
                continue
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            self.pos += 1

    # -- functions -----------------------------------------------------------------------

    def call(self, name: str) -> Any:
        args = []
        while True:
            self.space(newlines=True)
            if self.peek() == ")":
                self.pos += 1
                break
            args.append(self.expression(newline_ends=False))
            self.space(newlines=True)
            if self.text.startswith("...", self.pos):
                self.pos += 3
                self.space(newlines=True)
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != ")":
                raise _Unsupported("arguments")
        if name in FILE_FUNCTIONS:
            return self.read_file(name, args)
        handler = _FUNCTIONS.get(name)
        if handler is None:
            return Unknown(f"{name}() is not evaluated")
        try:
            return handler(self, args)
        except (TypeError, ValueError, KeyError, IndexError):
            return Unknown(f"{name}() could not be evaluated")


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class _Unread:
    pass


_UNREAD = _Unread()


def _base64(encoding: str) -> Callable[[_Parser, list], Any]:
    def run(parser: _Parser, args: list) -> Any:
        (value,) = args
        if isinstance(value, str) and encoding == "base64":
            return base64.b64encode(value.encode("utf-8")).decode("ascii")
        name = "base64encode" if encoding == "base64" else encoding
        return Encoded(f"{name}() of a value known only at deployment", encoding, value)

    return run


def _encode(parser: _Parser, args: list) -> Any:
    (value,) = args
    if isinstance(value, str):
        return json.dumps(value)
    return value


def _concat(parser: _Parser, args: list) -> Any:
    if not all(isinstance(a, list) for a in args):
        return Unknown("concat() of a value known only at deployment")
    return [item for a in args for item in a]


def _list(parser: _Parser, args: list) -> Any:
    return list(args)


def _merge(parser: _Parser, args: list) -> Any:
    if not all(isinstance(a, dict) for a in args):
        return Unknown("merge() of a value known only at deployment")
    out: dict = {}
    for a in args:
        out.update(a)
    return out


def _join(parser: _Parser, args: list) -> Any:
    separator, *lists = args
    if not isinstance(separator, str) or not all(isinstance(a, list) for a in lists):
        return Unknown("join() of a value known only at deployment")
    parts: list[Any] = []
    for index, item in enumerate(i for a in lists for i in a):
        if index:
            parts.append(separator)
        parts.append(item)
    return collapse(parts)


_FUNCTIONS: dict[str, Callable[[_Parser, list], Any]] = {
    "base64encode": _base64("base64"),
    "base64gzip": _base64("base64gzip"),
    "jsonencode": _encode,
    "yamlencode": _encode,
    "concat": _concat,
    "list": _list,
    "tolist": lambda parser, args: args[0],
    "merge": _merge,
    "join": _join,
}


def collapse(parts: list[Any]) -> Any:
    """Literal text and values as one string, or a ``Template`` when a part is not text."""
    merged: list[Any] = []
    for part in parts:
        if isinstance(part, Template):
            items: tuple = part.parts
        else:
            items = (part,)
        for item in items:
            if isinstance(item, bool):
                item = "true" if item else "false"
            elif isinstance(item, (int, float)):
                item = str(item)
            elif item is None:
                item = ""
            if isinstance(item, str):
                if not item:
                    continue
                if merged and isinstance(merged[-1], str):
                    merged[-1] += item
                    continue
            merged.append(item)
    if all(isinstance(p, str) for p in merged):
        return "".join(merged)
    if len(merged) == 1:
        return merged[0]
    return Template(tuple(merged))


__all__ = ["FALLBACK_FUNCTIONS", "FILE_FUNCTIONS", "collapse", "read_expression", "starts_with_fallback_call"]
