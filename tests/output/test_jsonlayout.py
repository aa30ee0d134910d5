"""jsonlayout.dumps must give json.dumps(..., indent=N)'s bytes on any shape, so the reports
written with it (JSON, SARIF) cannot drift from the documents they dump."""

from __future__ import annotations

import enum
import json
import math
import random

import pytest

from kds_iac.output.jsonlayout import chunked, dumps, value

STRINGS = [
    "",
    "plain",
    'quote " and backslash \\',
    "line\nbreak\r\ttab",
    "\x00\x01\x1f\x7f control",
    "café ✓ Ünïcødé",
    "\u2028\u2029 separators",
    "😀 astral",
    "\ud800 lone surrogate",
    '\n  "findings": [],',  # looks like the report's own layout
    "{[,]}: ",
    "    ",
]


class Level(enum.IntEnum):
    LOW = 1


class Name(str):
    pass


SCALARS = [
    None, True, False, 0, -1, 7, 2**70, -(2**65), 0.0, -0.0, 0.1, 1e300, -2.5e-8,
    math.inf, -math.inf, math.nan, Level.LOW, Name("sub ✓"), *STRINGS,
]  # fmt: skip
KEYS = [*STRINGS, "rule_id", "ü", 1, -3, 2.5, True, False, None, Name("k")]


def _shape(rng: random.Random, depth: int):
    roll = rng.random()
    if depth <= 0 or roll < 0.35:
        return rng.choice(SCALARS)
    width = rng.choice([0, 0, 1, 2, 3, 6])
    if roll < 0.6:
        items = [_shape(rng, depth - 1) for _ in range(width)]
        return tuple(items) if rng.random() < 0.15 else items
    keys = KEYS if rng.random() < 0.2 else STRINGS + ["a", "b", "c", "d"]
    return {rng.choice(keys): _shape(rng, depth - 1) for _ in range(width)}


@pytest.mark.parametrize("ensure_ascii", [False, True])
@pytest.mark.parametrize("indent", [2, 0, 1, 4])
def test_the_same_text_as_json_dumps_on_random_shapes(indent, ensure_ascii):
    rng = random.Random(f"{indent}-{ensure_ascii}")
    for _ in range(1500):
        obj = _shape(rng, rng.randint(0, 6))
        expected = json.dumps(obj, indent=indent, ensure_ascii=ensure_ascii)
        assert dumps(obj, indent=indent, ensure_ascii=ensure_ascii) == expected, obj
        level = rng.randint(1, 3)
        nested = expected.replace("\n", "\n" + " " * (indent * level))
        assert dumps(obj, indent=indent, ensure_ascii=ensure_ascii, level=level) == nested, obj


def test_a_value_is_laid_out_as_dumps_lays_it_out():
    """``value`` writes strings, None and ints itself (not their subclasses: an IntEnum, a str
    subclass) and the rest as ``dumps``."""
    rng = random.Random("value")
    for obj in [*SCALARS, *(_shape(rng, rng.randint(0, 4)) for _ in range(500))]:
        level = rng.randint(0, 6)
        assert value(obj, level) == dumps(obj, level=level), obj


def test_pieces_join_into_the_text_of_dumps():
    """``chunked`` cuts a document into its containers' items, at any depth, and the pieces are
    ``dumps``' text; a document with containers gives more than one piece."""
    rng = random.Random("chunked")
    for _ in range(1500):
        obj = _shape(rng, rng.randint(0, 6))
        level, depth = rng.randint(0, 3), rng.randint(0, 3)
        pieces = list(chunked(obj, level, depth))
        assert "".join(pieces) == dumps(obj, level=level), obj
    assert list(chunked({"a": [1], "b": {"c": [2]}}, depth=1)) == [
        "{", '\n  "a": ', '[\n    1\n  ]', ',\n  "b": ', '{\n    "c": [\n      2\n    ]\n  }', "\n}"]


@pytest.mark.parametrize(
    "obj",
    [
        {},
        [],
        (),
        [[]],
        {"a": {}},
        {"a": [], "b": [{}], "c": [[[]]]},
        [{"x": 1}, {"y": [1, 2.5, None]}, "s"],
        {"fix": {"title": "t", "edits": [{"file": "a.tf", "start_line": 1, "text": "x\n\ty = \"ü\""}]}},
        {1: [1], "b": {None: {True: 0.5}}},  # keys that are not strings, beside nested values
        {Name("key"): [1]},
        "only a string",
        3.25,
        None,
    ],
)
def test_the_same_text_as_json_dumps_on_edge_shapes(obj):
    for ensure_ascii in (False, True):
        assert dumps(obj, ensure_ascii=ensure_ascii) == json.dumps(obj, indent=2, ensure_ascii=ensure_ascii)


@pytest.mark.parametrize("obj", [{"a": [object()]}, [1, {2}], {"a": {"b": b"bytes"}}, {(1, 2): [1]}])
def test_what_json_dumps_refuses_is_refused(obj):
    with pytest.raises(TypeError) as expected:
        json.dumps(obj, indent=2)
    with pytest.raises(TypeError) as ours:
        dumps(obj)
    assert str(ours.value) == str(expected.value)


def test_the_same_text_without_the_c_encoder(monkeypatch):
    """Where ``json`` has no C encoder (another Python), ``JSONEncoder`` writes the plain containers."""
    import kds_iac.output.jsonlayout as jsonlayout

    monkeypatch.setattr(json.encoder, "c_make_encoder", None)
    jsonlayout._writer.cache_clear()
    try:
        rng = random.Random("no C")
        for _ in range(300):
            obj = _shape(rng, rng.randint(0, 5))
            assert dumps(obj) == json.dumps(obj, indent=2, ensure_ascii=False), obj
    finally:
        jsonlayout._writer.cache_clear()
