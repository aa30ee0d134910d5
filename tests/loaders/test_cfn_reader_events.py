"""The reader builds its data from libyaml's parse events; the composer-based builder it
replaced is still there for anchors, aliases and every document that cannot be read. Both
must give the same values, types, lines, columns and problems: compared here on every
template of the repository and on texts made to reach each corner of the builder."""

from __future__ import annotations

import math
import pathlib

import pytest

from kds_iac import files
from kds_iac.loaders import cfn_reader
from kds_iac.loaders.cfn_reader import Mapping, ReadError, Sequence

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    str(path.relative_to(ROOT))
    for folder in ("examples", "tests/fixtures")
    for path in (ROOT / folder).rglob("*")
    if path.suffix in (".yaml", ".yml", ".json", ".template") and path.is_file()
)

CORNERS = {
    "block scalars": "A: |\n  one\n  two\n\n\nB: >-\n  folded\n\n",
    "last block scalar": "A:\n  B: |\n    text\n\n\n",
    "typed scalars": "a: 12\nb: 0x1F\nc: 1.5\nd: yes\ne: ~\nf: 2012-10-17\ng: '12'\nh: !!str 12\ni: .nan\nj: !!binary aGk=\n"
    "k: !!int '7'\nl: !!bool 'no'\nm: !!float 3\nn: !!null ''\no: 1_000\np: 1:30\nq: 123" + "4" * 4400 + "\n",
    "intrinsics": "A: !Ref P\nB: !GetAtt R.Arn\nC: !Sub [x, {a: !Ref Q}]\nD: !If\n  - c\n  - !Ref X\n  - |\n    lit\n\n"
    "E: !GetAZs ''\nF: !Join\n  - ''\n  - [a, b]\nG: !Transform {Name: x}\n",
    "tag ! ": "a: ! 12\nb: ! <<\nc: !!map {x: 1}\nd: !!seq [1]\ne: !!omap [a: 1]\n",
    "duplicate keys": "A: 1\nB:\n  C: 1\n  C: 2\nA: {D: 1, D: 2}\n",
    "merge keys": "A:\n  <<: {x: 1, y: 2}\n  y: 3\nB:\n  z: 1\n  <<: [{x: 1}, {w: 2}]\nC: {<<: {q: 1}}\nD:\n  '<<': 5\n  <<: {k: 1}\n",
    "two merge keys": "A:\n  <<: {x: 1}\n  <<:\n    x: 2\n    y: 1\n",
    "merge last": "A:\n  a: 1\n  <<:\n    b: 2\n    c: 3\nB: 1\n",
    "flow over lines": "A: {a: 1,\n  b: [1,\n  2]\n  }\nB: [\n]\nC: {}\n",
    "empty values": "A:\nB: []\nC:\n  -\n  - \n  - x\nD: ''\n",
    "explicit keys": "? A\n: 1\n? B\n",
    "document markers": "%YAML 1.1\n---\nA: 1\n...\n",
    "comments only": "# nothing\n",
    "empty": "",
    "scalar root": "just text\n",
    "sequence root": "- a\n- {b: 1}\n",
    "crlf": "A:\r\n  B: 1\r\n  C: [1,\r\n  2]\r\n",
    "json": '{\n  "Resources": {\n    "S": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1, "X": [1.5, true, null, "a"]}}\n  }\n}\n',
    "json with tabs": '{\n\t"A": {\n\t\t"B": [1,\t2]\n\t}\n}\n',
    "unicode": "A: \"\\u00e9\\t\\x41\"\nB: caf\u00e9\nC: '\u2028'\n",
    "keys typed": "1: a\ntrue: b\n~: c\n!Ref x: d\n",
    "nested 98": "a: " + "[" * 97 + "]" * 97 + "\n",
    "nested 99": "a: " + "[" * 98 + "1" + "]" * 98 + "\n",
    "nested 120": "a: " + "[" * 120 + "]" * 120 + "\n",
    "anchor and alias": "A: &x {a: 1}\nB: *x\nC: &y 1\n",
    "anchor only": "A: &x {a: 1}\n",
    "alias without anchor": "A: *x\n",
    "alias bomb": "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
    + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh")),
    "two documents": "A: 1\n---\nB: 2\n",
    "syntax error late": "A: 1\nB: {x: [}\n",
    "build error then syntax error": "A: !!int x\nB: [\n",
    "mapping key": "{a: 1}: b\n",
    "unknown tag": "A: !!python/object x\n",
    "bad merge": "A:\n  <<: 1\n",
    "reader error": "A: \x07\n",
    # a mapping's keys at one column, then at another, a duplicate and a merge: the reader keeps
    # one column for a mapping until two keys differ
    # keys on one line, one a line (a few, and more than the reader keeps as an int), then not
    "key lines": "A: {a: 1, b: 2}\nB:\n  a: 1\n  b: 2\n  c:\n    - 1\n  d: 3\nC:\n"
    + "".join(f"  k{i}: {i}\n" for i in range(18))
    + "D: {a: 1,\n  b: 2, c: 3}\nE: {\n  a: 1,\n  b: 2\n}\nF:\n  a: 1\n  b: 2\n  a: 3\n",
    "key columns": "A: {a: 1, bb: 2,\n  a: 3, c: 4}\nB:\n  x: 1\n  <<: {m: 1,  n: 2}\nC: {p: 1,\n    q: 2}\nD: {}\n",
}


def _shape(value):
    """Everything the reader gives about a value: type, lines, key lines and columns."""
    if isinstance(value, Mapping):
        items = [(key, _shape(item)) for key, item in value.items()]
        return ("Mapping", value.start_line, value.end_line, dict(value.key_lines), dict(value.key_columns), items)
    if isinstance(value, Sequence):
        return ("Sequence", value.start_line, value.end_line, [_shape(item) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def _outcome(read, text):
    try:
        document = read(text)
    except ReadError as error:
        return ("error", error.message, error.line, error.column, error.code)
    problems = [(p.level, p.line, p.column, p.message, p.code) for p in document.problems]
    return ("read", document.is_json, _shape(document.data), problems)


def _composed(text):
    is_json = text.lstrip(" \t\r\n\ufeff").startswith("{")
    if is_json and "\t" in text:
        text = text.replace("\t", " ")
    budget = max(cfn_reader.MIN_VALUE_BUDGET, 2 * len(text))
    return cfn_reader._read_composed(text, is_json, "JSON" if is_json else "YAML", budget)


def _events_only(text):
    """The event builder alone: ``None`` where it leaves the document to the composer."""
    budget = max(cfn_reader.MIN_VALUE_BUDGET, 2 * len(text))
    try:
        return cfn_reader._EventBuilder(text, budget).read()
    except (cfn_reader._Unsupported, ReadError, cfn_reader.yaml.YAMLError):
        return None


@pytest.mark.parametrize("path", TEMPLATES)
def test_repository_templates_read_as_the_composer_reads_them(path):
    text = files.decode((ROOT / path).read_bytes())
    assert _outcome(cfn_reader.read_text, text) == _outcome(_composed, text)


@pytest.mark.parametrize("name", sorted(CORNERS))
def test_corners_read_as_the_composer_reads_them(name):
    text = CORNERS[name]
    assert _outcome(cfn_reader.read_text, text) == _outcome(_composed, text)


@pytest.mark.parametrize(
    "name",
    ["anchor and alias", "anchor only", "alias without anchor", "alias bomb", "two documents", "syntax error late",
     "build error then syntax error", "mapping key", "unknown tag", "bad merge", "reader error", "nested 120"],
)
def test_what_the_event_builder_leaves_to_the_composer(name):
    assert _events_only(CORNERS[name]) is None


@pytest.mark.parametrize(
    "name",
    ["block scalars", "typed scalars", "intrinsics", "duplicate keys", "merge keys", "two merge keys", "merge last", "json", "nested 98",
     "key columns", "key lines"],
)
def test_the_event_builder_reads_these_itself(name):
    # so that the comparisons above compare the event builder, not the composer with itself
    assert _events_only(CORNERS[name]) is not None


def test_a_syntax_error_after_a_value_that_cannot_be_built_is_still_the_error():
    # the composer read the whole document before anything was built: its error comes first
    with pytest.raises(ReadError) as raised:
        cfn_reader.read_text(CORNERS["build error then syntax error"])
    assert (raised.value.message, raised.value.line, raised.value.column) == (
        "YAML syntax error: while parsing a flow node (line 3): did not find expected node content", 3, 1
    )


def test_key_lines_and_columns_of_a_mapping_read_take_what_is_written_to_them():
    # the reader keeps one column for a block mapping, one line for a flow mapping on one line;
    # what others add (cfn_foreach, serverless) must land in the dict that later reads see
    data = cfn_reader.read_text("Resources:\n  A: {Type: X, Properties: {}}\n  B: {Type: Y}\n").data
    resources = data["Resources"]
    resources.key_columns["C"] = 9
    assert resources.key_columns == {"A": 3, "B": 3, "C": 9}
    first = resources["A"]
    first.key_lines["Extra"] = 7
    assert first.key_lines == {"Type": 2, "Properties": 2, "Extra": 7}
    assert first.line_of("Extra", 1) == 7
    first.key_columns = {"Type": 7}
    assert first.key_columns == {"Type": 7}


@pytest.mark.parametrize("name", ["key lines", "key columns", "duplicate keys", "merge keys", "flow over lines", "intrinsics", "json"])
def test_line_and_column_of_a_key_are_its_key_line_and_column_before_and_after_the_dicts_are_made(name):
    mappings = []

    def walk(value):
        if isinstance(value, Mapping):
            mappings.append(value)
        for item in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
            walk(item)

    walk(cfn_reader.read_text(CORNERS[name]).data)
    asked = [[(m.line_of(key, -1), m.column_of(key, -1)) for key in (*m, "absent")] for m in mappings]
    assert asked == [[(m.key_lines.get(key, -1), m.key_columns.get(key, -1)) for key in (*m, "absent")] for m in mappings]
    assert asked == [[(m.line_of(key, -1), m.column_of(key, -1)) for key in (*m, "absent")] for m in mappings]
