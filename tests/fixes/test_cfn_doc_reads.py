"""What the CloudFormation writer knows of a template before its edits is built from the nodes it
composed (``_Doc.document``, ``_Doc.entries_read``) instead of reading the text again: it
must be exactly what the template reader gives (values, types, lines, problems), on every
template of the repository and on the reader's corner cases, and the self-check built on it
must answer as the whole template's check does."""

from __future__ import annotations

import pathlib

import pytest

from kds_iac import files
from kds_iac.fixes import SAFE, Fix, SetSetting
from kds_iac.fixes import cloudformation
from kds_iac.fixes.cloudformation import _Doc, text_edits
from kds_iac.loaders import cfn_reader
from tests.fixes.test_cfn_entry_check import _answers, _key_id_change, _span_of, _spy, _whole_only, _write
from tests.fixes.test_fix_batch import _read, _resources
from tests.loaders.test_cfn_reader_events import CORNERS, _outcome

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    str(path.relative_to(ROOT))
    for folder in ("examples", "tests/fixtures", "tests/data/fixes")
    for path in (ROOT / folder).rglob("*")
    if path.suffix in (".yaml", ".yml", ".json", ".template") and path.is_file()
)
# The reader's corners in a template the writer composes (one with Resources), and a few of its
# own: a byte order mark, CRLF line ends in JSON, a Serverless service (entries one level deeper).
TEXTS = {
    **{name: text if text.startswith("{") else "Resources:\n  R:\n    Type: X\n" + text for name, text in CORNERS.items()},
    "json with tabs": CORNERS["json with tabs"].replace('"A"', '"Resources": {}, "A"'),
    "bom": "\ufeffResources:\n  A:\n    Type: X\n    Properties: {B: 1}\n",
    "two boms": "\ufeff\ufeff{\"Resources\": {\"A\": {\"Type\": \"X\"}}}\n",
    "json crlf": '{\r\n\t"Resources": {\r\n\t\t"A": {"Type": "X", "Properties": {"B": [1, 2]}}\r\n\t}\r\n}\r\n',
    "serverless": "service: s\nresources:\n  Resources:\n    A:\n      Type: X\n      Properties:\n        B: |\n          text\n\n",
}


def _doc(text: str):
    """The writer's composition of ``text``, or None where it refuses the text."""
    return cloudformation._compose("t", text)


def _same_as_read(doc: _Doc) -> None:
    def built(_text):
        return doc.document()

    assert _outcome(built, doc.text) == _outcome(cfn_reader.read_text, doc.text[doc.offset:])


@pytest.mark.parametrize("path", TEMPLATES)
def test_repository_templates_are_built_as_the_reader_reads_them(path):
    doc = _doc(files.decode((ROOT / path).read_bytes()))
    if doc is not None:
        _same_as_read(doc)


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_corners_are_built_as_the_reader_reads_them(name):
    doc = _doc(TEXTS[name])
    if doc is not None:
        _same_as_read(doc)


def test_the_corners_compared_include_what_matters():
    # so that the comparisons above are not all skipped: these are composed by the writer
    composed = {name for name, text in TEXTS.items() if _doc(text) is not None}
    assert {"block scalars", "duplicate keys", "merge keys", "json with tabs", "crlf", "bom", "json crlf",
            "serverless", "anchor and alias", "typed scalars", "intrinsics"} <= composed


def _entries_as_read_alone(doc: _Doc, numbers: list[int]) -> tuple[object, int]:
    """What the self-check read before: the entries' own text, as one small document."""
    entries = doc.entry_lines()
    parts = []
    for number in numbers:
        start, end, _ = entries[number]
        part = doc.text[start:end]
        parts.append(part if doc.is_json or part.endswith("\n") else part + doc.nl)
    text = "{" + ", ".join(parts) + "}" if doc.is_json else "".join(parts)
    read = cfn_reader.read_text(text)
    return _typed(read.data), len(read.problems)


def _typed(value):
    """A value with the type of every part (``1``, ``1.0`` and ``True`` compare equal), without
    lines (entries read alone sit on other lines)."""
    if isinstance(value, dict):
        return ("Mapping" if isinstance(value, cfn_reader.Mapping) else "dict", [(k, _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return (type(value).__name__, [_typed(v) for v in value])
    return (type(value).__name__, value)


def _built(doc: _Doc, numbers: list[int]):
    data, problems = doc.entries_read(numbers)
    return ("Mapping", [(k, _typed(v)) for k, v in data.items()]), problems


@pytest.mark.parametrize("path", TEMPLATES)
def test_entries_are_built_as_reading_them_alone_gave(path):
    doc = _doc(files.decode((ROOT / path).read_bytes()))
    if doc is None or doc.entry_lines() is None:
        return
    numbers = list(range(len(doc.entry_lines())))
    try:
        alone = _entries_as_read_alone(doc, numbers)
    except cfn_reader.ReadError:
        with pytest.raises(cloudformation._DECLINED):
            doc.entries_read(numbers)
        return
    assert _built(doc, numbers) == alone
    for number in numbers:  # one at a time, as the checks of single fixes ask
        assert _built(doc, [number]) == _entries_as_read_alone(doc, [number])


DUPLICATES = """Resources:
  A:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
      ShardCount: 2
      StreamEncryption:
        EncryptionType: KMS
        KeyId: alias/aws/kinesis
  B:
    Type: AWS::SNS::Topic
  B:
    Type: AWS::SQS::Queue
"""


def test_problems_within_entries_are_counted_and_a_logical_id_twice_is_refused():
    doc = _Doc("t.yaml", DUPLICATES)
    data, problems = doc.entries_read([0])
    assert data == {"A": {"Type": "AWS::Kinesis::Stream", "Properties": {
        "ShardCount": 2, "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}}}}
    assert problems == 1
    assert doc.entries_read([1]) == ({"B": {"Type": "AWS::SNS::Topic"}}, 0)
    with pytest.raises(cloudformation._Refused):
        doc.entries_read([1, 2])


@pytest.mark.parametrize("new, entries, whole", [
    ("alias/mine", True, "ok"),  # the duplicate written before stays: as many problems after
    ("alias/mine\n        KeyId: again", False, "refused"),  # one more duplicate key
])
def test_entry_check_counts_the_problems_the_template_had(monkeypatch, new, entries, whole):
    doc = _Doc("t.yaml", DUPLICATES)
    start, end = _span_of(DUPLICATES, "alias/aws/kinesis")
    assert _answers(doc, [(start, end, new)], [_key_id_change("A", "alias/mine")], monkeypatch) == (entries, whole)


def test_fixes_of_a_template_with_a_duplicate_key_are_written_as_by_the_whole_check(tmp_path, monkeypatch):
    path = _write(tmp_path, "t.yaml", DUPLICATES.replace("  B:\n    Type: AWS::SQS::Queue\n", ""))
    r = _resources(path)
    fixes = [Fix("key", SAFE, (SetSetting(r["A"], "StreamEncryption.KeyId", "alias/mine"),))]
    answers = _spy(monkeypatch)
    written = [text_edits(fix, _read) for fix in fixes]
    assert answers == [True] and None not in written
    assert _whole_only(monkeypatch, lambda: [text_edits(fix, _read) for fix in fixes]) == written


def _metadata(value):
    def change(data):
        data["Resources"]["B"]["Metadata"] = value
    return change


def test_an_entry_nested_too_deep_where_the_template_holds_it_is_refused(monkeypatch):
    # Read alone the entry would be shallower; built where the template holds it, its value is
    # nested past the reader's limit (as reading the whole template says), so an edit that
    # replaces that value is not accepted by the entry check either.
    for depth, answers in ((cfn_reader.MAX_DEPTH - 2, (False, "refused")), (cfn_reader.MAX_DEPTH - 3, (True, "ok"))):
        deep = "[" * depth + "]" * depth  # under Resources and the entry
        text = DUPLICATES.replace("    Type: AWS::SNS::Topic\n", f"    Type: AWS::SNS::Topic\n    Metadata: {deep}\n", 1)
        text = text.replace("  B:\n    Type: AWS::SQS::Queue\n", "")
        doc = _Doc("t.yaml", text)
        start, end = _span_of(text, deep)
        assert _answers(doc, [(start, end, "x")], [_metadata("x")], monkeypatch) == answers


# -- a new key's policy, the same in every new key, is written once per way of writing it ------

STYLES = {  # the same indentation, written otherwise
    "short tags, double quotes": 'Resources:\n  A:\n    Type: X\n    Properties:\n      B: !Ref C\n      D: "x"\n      E:\n        - 1\n',
    "long form, single quotes": "Resources:\n  A:\n    Type: X\n    Properties:\n      B: {Ref: C}\n      D: 'x'\n      E:\n        - 1\n",
    "json": '{\n  "Resources": {\n    "A": {"Type": "X"}\n  }\n}\n',
    "json, crlf": '{\r\n  "Resources": {\r\n    "A": {"Type": "X"}\r\n  }\r\n}\r\n',
}


@pytest.mark.parametrize("order", [list(STYLES), list(reversed(STYLES))])
def test_a_new_keys_policy_is_written_as_each_template_writes_it(order):
    policy = cloudformation._ACCOUNT_KEY_POLICY
    fresh = cloudformation._plain(policy)  # the same value, not the shared one: written afresh
    fresh["Statement"][0]["Principal"]["AWS"] = policy["Statement"][0]["Principal"]["AWS"]
    assert type(fresh) is dict
    for name in order * 2:  # each style twice, in turns: a text written once is given back
        doc = _Doc("t", STYLES[name])
        if doc.is_json:
            for indent, unit in ((None, ""), ("    ", "  "), ("\t", "\t")):
                assert cloudformation._json(policy, indent, unit, doc.nl) == cloudformation._json(fresh, indent, unit, doc.nl)
        else:
            seq, step = cloudformation._seq_step(doc), cloudformation._step_of(doc)
            got = cloudformation._block_value(policy, doc, seq, step)
            assert got == cloudformation._block_value(fresh, doc, seq, step)
            assert got is not cloudformation._block_value(policy, doc, seq, step)  # a list of its own each time
    written = {name: _Doc("t", text) for name, text in STYLES.items()}
    assert {doc.quote for doc in written.values() if not doc.is_json} == {'"', "'"}
    assert {doc.long_form for doc in written.values() if not doc.is_json} == {True, False}


def test_positions_are_the_line_and_column_of_every_index():
    text = 'Resources:\r\n  A:\n    Type: X\n\n  B: {Type: "Y"}'  # no line break at the end
    doc = _Doc("t", text)
    for index in range(len(text) + 1):
        line_start = text.rfind("\n", 0, index) + 1
        assert doc.position(index) == (text.count("\n", 0, index) + 1, index - line_start + 1), index


# -- a setting's key, before its edits, is built from the template's nodes too ----------------

SETTING = """Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
      KeyPolicy:
        Version: "2012-10-17"
        Sid: a
        Sid: b
      Tags: %s
  Other:
    Type: AWS::SNS::Topic
"""


def _tags(value):
    def change(data):
        data["Resources"]["Key"]["Properties"]["Tags"] = value
    return change


@pytest.mark.parametrize("new, changes, answers", [
    ('"2012-10-17"', [], (True, "ok")),  # the duplicate written before stays: as many problems after
    ('"2012-10-17"\n        Sid: c', [], (False, "refused")),  # one more duplicate key
    ('"2012-10-18"', [], (False, "refused")),  # a change that was not intended
])
def test_a_setting_is_compared_with_the_templates_reading(monkeypatch, new, changes, answers):
    text = SETTING % "[]"
    doc = _Doc("t.yaml", text)
    start, end = _span_of(text, '"2012-10-17"')
    items = [(start, end, new)]
    assert cloudformation._settings_alone(doc, 0, items) is not None  # the setting is read alone
    assert _answers(doc, items, changes, monkeypatch) == answers


def test_a_setting_nested_too_deep_where_the_template_holds_it_is_refused(monkeypatch):
    for depth, answers in ((cfn_reader.MAX_DEPTH - 3, (False, "refused")), (cfn_reader.MAX_DEPTH - 4, (True, "ok"))):
        deep = "[" * depth + "]" * depth  # under Resources, the entry and Properties
        text = (SETTING % deep).replace("        Sid: b\n", "")
        doc = _Doc("t.yaml", text)
        start, end = _span_of(text, deep)
        items = [(start, end, "x")]
        assert cloudformation._settings_alone(doc, 0, items) is not None
        assert _answers(doc, items, [_tags("x")], monkeypatch) == answers


# -- an edit must leave a region's key where it is and its last line break ---------------------

REGIONS = """Resources:
  First:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
      RetentionPeriodHours: 24

  Second:
    Type: AWS::SNS::Topic
Outputs:
  X:
    Value: 1
"""


@pytest.mark.parametrize("old, at, length, new", [
    # the first Properties key indented deeper than the next: its lines alone read well
    ("      ShardCount", 2, 2, "\n      "),
    # the last entry's last line break followed by spaces: the next line (Outputs) joins it
    ("\nOutputs:", 0, 1, "\n    "),
])
def test_edits_that_move_a_key_or_join_the_next_line_are_refused(monkeypatch, old, at, length, new):
    start = REGIONS.index(old) + at
    doc = _Doc("t.yaml", REGIONS)
    assert _answers(doc, [(start, start + length, new)], [], monkeypatch) == (False, "refused")
