"""``json.dumps(obj, indent=N, ensure_ascii=...)``'s very text, written faster.

With ``indent``, CPython's ``json`` falls back to its pure-Python encoder, a generator per
container and per value: the JSON and SARIF documents of 22,800 findings took it about 0.4 s
and 1.0 s, and take this about 0.27 s and 0.7 s (benchmarks/README.md). Python walks only the
containers that hold containers; a container of plain values is written whole by the C
encoder, its item separator carrying the newline and indentation of its level. Encoded
strings never hold a raw newline (JSON escapes control characters), so the layout's newlines
are the only ones. ``tests/output/test_jsonlayout.py`` compares the two on many shapes, so
they cannot drift apart.
"""

from __future__ import annotations

import json
from functools import lru_cache
from itertools import repeat
from typing import Any, Callable, Iterable, Iterator

_CONTAINERS = (dict, list, tuple)
_NONE = object()


def dumps(obj: Any, indent: int = 2, ensure_ascii: bool = False, level: int = 0) -> str:
    """``json.dumps(obj, indent=indent, ensure_ascii=ensure_ascii)``, with every line after the
    first indented ``level`` steps more (``obj`` laid out as a value nested ``level`` deep)."""
    return _writer(indent, ensure_ascii)(obj, level)


# Pieces of text a report writer keeps for reuse (a resource's keys, its locations at a line):
# the findings that share them lie next to each other in the report's order (by file and line),
# so the writers drop them all after this many rather than keep a 10 MB template's 98,000.
KEPT = 1024


def kept(pieces: dict, key: Any, text: Any) -> Any:
    """``pieces[key] = text``, returned; when ``KEPT`` pieces are there already, all are dropped first."""
    if len(pieces) >= KEPT:
        pieces.clear()
    pieces[key] = text
    return text


def value(obj: Any, level: int) -> str:
    """``dumps(obj, level=level)`` (indent 2, not ASCII-only), a string, ``None`` or an int
    written at once: the values of the reports' records, written a key at a time."""
    kind = type(obj)
    if kind is str:
        return json.encoder.encode_basestring(obj)
    if obj is None:
        return "null"
    if kind is int:
        return int.__repr__(obj)
    return _writer(2, False)(obj, level)


def filled(head: str, key: str, level: int, texts: Iterable[str]) -> Iterator[str]:
    """``head`` (a document's ``dumps`` text whose list ``key``, its items ``level`` deep, is
    empty and followed by another key) with the items' ``texts`` (each ``dumps(item,
    level=level)``) written into that list one at a time: the text of the whole document
    dumped, without the whole document in memory (a report's findings). The marker is found by
    its line break, which no encoded string holds."""
    outer = "\n" + " " * (2 * (level - 1))
    before, marker, after = head.partition(outer + json.encoder.encode_basestring(key) + ": [],")
    texts = iter(texts)
    first = next(texts, _NONE)
    if not marker or first is _NONE:
        yield head
        return
    margin = "\n" + " " * (2 * level)
    yield before + marker[:-3] + "[" + margin
    yield first
    for text in texts:
        yield "," + margin
        yield text
    yield outer + "]," + after


def chunked(obj: Any, level: int = 0, depth: int = 2) -> Iterator[str]:
    """``dumps(obj, level=level)`` (indent 2, not ASCII-only) in pieces: the items of a container
    one at a time, and theirs, ``depth`` containers deep, so that a large document (an access
    map) is never one string."""
    if depth <= 0 or not isinstance(obj, _CONTAINERS) or not obj:
        yield dumps(obj, level=level)
        return
    is_dict = isinstance(obj, dict)
    values = obj.values() if is_dict else obj
    if not any(isinstance(item, _CONTAINERS) for item in values) or (
        is_dict and not all(isinstance(key, str) for key in obj)
    ):  # the C encoder's line, or json's conversion of the keys: written whole, as dumps does
        yield dumps(obj, level=level)
        return
    margin = "\n" + " " * (2 * (level + 1))
    yield "{" if is_dict else "["
    separator = margin
    for key, item in obj.items() if is_dict else zip(repeat(None), obj):
        yield separator + (json.encoder.encode_basestring(key) + ": " if is_dict else "")
        yield from chunked(item, level + 1, depth - 1)
        separator = "," + margin
    yield "\n" + " " * (2 * level) + ("}" if is_dict else "]")


@lru_cache(maxsize=None)
def _writer(indent: int, ensure_ascii: bool) -> Callable[[Any, int], str]:
    string = json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    margins: list[str] = []  # "\n" and the indentation of each level
    flat: list[Callable[[Any], str]] = []  # C encoders whose item separator ends a line at each level

    def grow(level: int) -> None:
        while len(margins) <= level:
            margin = "\n" + " " * (indent * len(margins))
            margins.append(margin)
            flat.append(_compact(ensure_ascii, "," + margin))

    def scalar(value: Any, level: int) -> str:
        kind = type(value)
        if kind is str:
            return string(value)
        if value is None:
            return "null"
        if value is True:
            return "true"
        if value is False:
            return "false"
        if kind is int:
            return int.__repr__(value)
        return flat[level](value)  # floats (NaN, Infinity), subclasses, and the TypeError of the rest

    def write(obj: Any, level: int) -> str:
        inner = level + 1
        if len(margins) <= inner:
            grow(inner)
        if not isinstance(obj, _CONTAINERS):
            return scalar(obj, level)
        if not obj:
            return "{}" if isinstance(obj, dict) else "[]"
        is_dict = isinstance(obj, dict)
        values = obj.values() if is_dict else obj
        for value in values:
            if isinstance(value, _CONTAINERS):
                break
        else:  # plain values only: the C encoder writes it, line breaks and all
            text = flat[inner](obj)
            return text[0] + margins[inner] + text[1:-1] + margins[level] + text[-1]
        margin = margins[inner]
        if is_dict:
            try:
                parts = [
                    string(key) + ": " + (write(value, inner) if isinstance(value, _CONTAINERS) else scalar(value, inner))
                    for key, value in obj.items()
                ]
            except TypeError:  # a key that is not a string (or a value json refuses: it raises the same)
                return whole(obj, level)
            return "{" + margin + ("," + margin).join(parts) + margins[level] + "}"
        parts = [write(value, inner) if isinstance(value, _CONTAINERS) else scalar(value, inner) for value in obj]
        return "[" + margin + ("," + margin).join(parts) + margins[level] + "]"

    def whole(obj: Any, level: int) -> str:
        """The reference encoder, for what the fast path leaves: keys that are not strings."""
        return json.dumps(obj, indent=indent, ensure_ascii=ensure_ascii).replace("\n", margins[level])

    return write


def _compact(ensure_ascii: bool, item_separator: str) -> Callable[[Any], str]:
    """``json.dumps`` with these separators, by the C encoder that it would use (made once:
    ``JSONEncoder.encode`` makes one a call), or by ``JSONEncoder`` where there is none."""
    encoder = json.JSONEncoder(ensure_ascii=ensure_ascii, separators=(item_separator, ": "))
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # another Python than CPython
        return encoder.encode
    string = json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    # markers, default, strings, indent, key and item separators, sort_keys, skipkeys, allow_nan
    encode = make(None, encoder.default, string, None, ": ", item_separator, False, False, True)
    join = "".join

    def compact(obj: Any) -> str:
        return string(obj) if type(obj) is str else join(encode(obj, 0))

    return compact
