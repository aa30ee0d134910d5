"""The CloudFormation writer's self-check on the edited ``Resources`` entries alone (block
YAML and JSON) answers exactly as reading the whole template: it is a shortcut that only
ever accepts, so every edit the whole check refuses stays refused, and every answer is the
same with the shortcut turned off."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Optional

import pytest
import yaml

from kds_iac.fixes import SAFE, UNSAFE, Fix, NewResource, SetSetting
from kds_iac.fixes import cloudformation
from kds_iac.fixes.cloudformation import _Doc, text_edits, text_edits_many
from tests.fixes.test_fix_batch import FIXTURES, _cfn_fixes_by_file, _read, _resources

JSON_TEMPLATE = """{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "First": {
      "Type": "AWS::Kinesis::Stream",
      "Properties": {"ShardCount": 1}
    },
    "Managed": {
      "Type": "AWS::Kinesis::Stream",
      "Properties": {
        "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}
      }
    },
    "Last": {
      "Type": "AWS::Kinesis::Stream",
      "Properties": {
        "ShardCount": 1
      }
    }
  }%s
}
"""

YAML_TEMPLATE = """Resources:
  First:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
  Managed:
    Type: AWS::Kinesis::Stream
    Properties:
      StreamEncryption:
        EncryptionType: KMS
        KeyId: alias/aws/kinesis
  Last:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1"""  # the last entry ends the file, with no line break after it


def _spy(monkeypatch, accepted: Optional[list[str]] = None) -> list[bool]:
    """What each entry check answered (and the names of the files it accepted)."""
    answers: list[bool] = []
    real = cloudformation._check_entries

    def spy(doc, items, changes):
        answers.append(real(doc, items, changes))
        if answers[-1] and accepted is not None:
            accepted.append(Path(doc.path).name)
        return answers[-1]

    monkeypatch.setattr(cloudformation, "_check_entries", spy)
    return answers


def _whole_only(monkeypatch, call):
    """``call()`` with the entry check turned off (the whole template is read)."""
    with monkeypatch.context() as patched:
        patched.setattr(cloudformation, "_check_entries", lambda doc, items, changes: False)
        return call()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _key_fixes(path: Path) -> list[Fix]:
    """A value replaced, keys inserted into the last entry, and new keys after an entry in
    the middle and after the last one."""
    r = _resources(path)
    return [
        Fix("key", SAFE, (SetSetting(r["Managed"], "StreamEncryption.KeyId", "alias/mine"),)),
        Fix("type", SAFE, (SetSetting(r["Last"], "StreamEncryption.EncryptionType", "KMS"),)),
        Fix("new key", UNSAFE, (NewResource("kms_key", "ManagedKey", r["Managed"], "For Managed"),)),
        Fix("new key last", UNSAFE, (NewResource("kms_key", "LastKey", r["Last"], "For Last"),)),
    ]


@pytest.mark.parametrize("name, text, batch", [
    ("t.json", JSON_TEMPLATE % "", [True]),  # the batch: one check of all four together
    # the last entry's new key and new setting meet at the file's end: checked one at a time
    ("t.yaml", YAML_TEMPLATE, [True] * 4),
])
def test_edits_in_the_middle_and_the_last_entry_are_checked_alone(tmp_path, monkeypatch, name, text, batch):
    path = _write(tmp_path, name, text)
    fixes = _key_fixes(path)
    answers = _spy(monkeypatch)
    alone = [text_edits(fix, _read) for fix in fixes]
    assert None not in alone
    assert answers == [True] * len(fixes)
    assert text_edits_many(fixes, _read) == alone
    assert answers[len(fixes):] == batch
    assert _whole_only(monkeypatch, lambda: [text_edits(fix, _read) for fix in fixes]) == alone


def test_json_new_resource_after_the_last_entry_is_written_inside_resources(tmp_path):
    path = _write(tmp_path, "t.json", JSON_TEMPLATE % "")
    edits = text_edits(_key_fixes(path)[3], _read)
    assert edits is not None and len(edits) == 1
    edit = edits[0]
    # right after the last entry's closing brace (line 19, column 6), before Resources' own
    assert (edit.start_line, edit.start_column, edit.end_line, edit.end_column) == (19, 6, 19, 6)
    assert edit.text.startswith(',\n    "LastKey": {\n      "Type": "AWS::KMS::Key"')


def test_json_whose_untouched_values_the_loader_reads_otherwise_is_checked_whole(tmp_path, monkeypatch):
    # 1e5 is a number to JSON and a string to the YAML loader: the whole check refuses every
    # fix of the file, and the entries alone must not accept one.
    path = _write(tmp_path, "t.json", JSON_TEMPLATE % ',\n  "Metadata": {"Size": 1e5}')
    fixes = _key_fixes(path)
    answers = _spy(monkeypatch)
    assert [text_edits(fix, _read) for fix in fixes] == [None] * len(fixes)
    assert answers == [False] * len(fixes)
    doc = cloudformation._compose(str(path), _read(str(path)))
    assert doc is not None and doc.json_agrees() is False
    # without the number, the same fixes are written
    path = _write(tmp_path, "t.json", JSON_TEMPLATE % ',\n  "Metadata": {"Size": 100000}')
    assert None not in [text_edits(fix, _read) for fix in _key_fixes(path)]


def _key_id_change(logical_id: str, value: str):
    return lambda data: cloudformation._set_path(data, logical_id, [("StreamEncryption", None), ("KeyId", None)], value)


def _span_of(text: str, old: str) -> tuple[int, int]:
    start = text.index(old)
    return start, start + len(old)


def _answers(doc: _Doc, items, changes, monkeypatch) -> tuple[bool, str]:
    """(what the entry check answered, what the whole check answered): ``ok`` or ``refused``."""
    entries = cloudformation._check_entries(doc, items, changes)
    try:
        _whole_only(monkeypatch, lambda: cloudformation._check(doc, items, changes))
        whole = "ok"
    except cloudformation._DECLINED:
        whole = "refused"
    return entries, whole


@pytest.mark.parametrize("new, entries, whole", [
    ('"alias/mine"', True, "ok"),
    ("'alias/mine'", False, "refused"),  # the loader reads the same string, JSON does not
    ('"alias/mine", "Extra": 1', False, "refused"),  # a setting that was not intended
    ('"alias/mine"}}, "Intruder": {"Type": "X", "Properties": {"A": 1', False, "refused"),  # a neighbour entry
    ('"alias/mine', False, "refused"),  # an open quote
])
def test_json_entry_check_refuses_what_the_whole_check_refuses(tmp_path, monkeypatch, new, entries, whole):
    text = JSON_TEMPLATE % ""
    doc = _Doc(str(tmp_path / "t.json"), text)
    start, end = _span_of(text, '"alias/aws/kinesis"')
    items = [(start, end, new)]
    assert _answers(doc, items, [_key_id_change("Managed", "alias/mine")], monkeypatch) == (entries, whole)


@pytest.mark.parametrize("new, entries, whole", [
    ("alias/mine", True, "ok"),
    ("alias/mine\n        Extra: 1", False, "refused"),  # a setting that was not intended
    ("alias/mine\n  Intruder:\n    Type: X", False, "refused"),  # a new entry beside it
    ("alias/mine\nOutputs: {}", False, "refused"),  # a line left of the entries' column
    ("'alias/mine", False, "refused"),  # an open quote that the next entries would close
    ("[alias/mine", False, "refused"),  # an open bracket
    ("|\n  alias/mine", False, "refused"),  # a block scalar that would take the next entry in
])
def test_yaml_entry_check_refuses_what_the_whole_check_refuses(tmp_path, monkeypatch, new, entries, whole):
    text = YAML_TEMPLATE
    doc = _Doc(str(tmp_path / "t.yaml"), text)
    start, end = _span_of(text, "alias/aws/kinesis")
    items = [(start, end, new)]
    assert _answers(doc, items, [_key_id_change("Managed", "alias/mine")], monkeypatch) == (entries, whole)


def test_a_failed_check_of_one_json_fix_leaves_the_others_written(tmp_path, monkeypatch):
    path = _write(tmp_path, "t.json", JSON_TEMPLATE % "")
    r = _resources(path)
    fixes = [
        Fix("key", SAFE, (SetSetting(r["Managed"], "StreamEncryption.KeyId", "alias/mine"),)),
        Fix("key a", UNSAFE, (NewResource("kms_key", "Shared", r["First"], ""),)),
        Fix("key b", UNSAFE, (NewResource("kms_key", "Shared", r["Last"], ""),)),
    ]
    alone = [text_edits(fix, _read) for fix in fixes]
    assert None not in alone
    answers = _spy(monkeypatch)
    # together the template would hold Shared twice: checked again one fix at a time
    assert text_edits_many(fixes, _read) == alone
    assert answers == [False, True, True, True]


def test_flow_style_resources_are_read_whole(tmp_path, monkeypatch):
    path = _write(tmp_path, "t.yaml", "Resources: {Managed: {Type: AWS::Kinesis::Stream, "
                                      "Properties: {StreamEncryption: {EncryptionType: KMS, KeyId: alias/aws/kinesis}}}}\n")
    fix = Fix("key", SAFE, (SetSetting(_resources(path)["Managed"], "StreamEncryption.KeyId", "alias/mine"),))
    answers = _spy(monkeypatch)
    edits = text_edits(fix, _read)
    assert edits is not None and [e.text for e in edits] == ["alias/mine"]
    assert answers == [False]


def test_json_fixtures_take_the_entry_check_and_answer_as_the_whole_check(monkeypatch):
    by_file = _cfn_fixes_by_file(FIXTURES)
    fixes = [finding.fix for path, findings in by_file.items() if path.endswith(".json") for finding in findings]
    taken: list[str] = []
    _spy(monkeypatch, taken)
    with_entries = [text_edits(fix, _read) for fix in fixes]
    assert set(taken) == {"streams.json", "tabs.json"}
    assert _whole_only(monkeypatch, lambda: [text_edits(fix, _read) for fix in fixes]) == with_entries


# -- the helpers that replaced slower ones answer as those did -------------------------------

def _indented_by_lines(text: str, column: int) -> bool:
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        if stripped.strip() and not stripped.startswith("#") and len(line) - len(stripped) < column:
            return False
    return True


def test_left_of_column_search_answers_as_checking_each_line():
    rng = random.Random(3)
    alphabet = [" ", " ", " ", "\n", "#", "a", "\t", "\r", "\u00a0", "\x1c", "\u2028"]
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 14)))
        column = rng.randrange(0, 5)
        assert cloudformation._indented_from(text, column) == _indented_by_lines(text, column), (text, column)


def _entry_by_search(entries, index, end=False):
    """The last entry that starts at or before ``index``, if ``index`` is within it."""
    starting = [number for number, (start, _, _) in enumerate(entries) if start <= index]
    if not starting:
        return None
    start, stop, _ = entries[starting[-1]]
    return starting[-1] if index < stop or (end and index == stop and index > start) else None


@pytest.mark.parametrize("entries", [
    [(3, 7, 2), (7, 12, 2), (12, 20, 2)],  # YAML: an entry ends where the next starts
    [(3, 7, 0), (9, 12, 0), (15, 20, 0)],  # JSON: commas and spaces between entries
])
def test_entry_lookup_answers_as_the_search(entries):
    for index in range(23):
        for end in (False, True):
            assert cloudformation._entry_at(entries, index, end) == _entry_by_search(entries, index, end), (index, end)


def _reads_back_plain(text: str, flow: bool) -> bool:
    probe = f"[{text}]" if flow else f"k: {text}"
    node = yaml.compose(probe, Loader=cloudformation._Loader)
    value = node.value[0] if flow else node.value[0][1]
    return isinstance(value, yaml.ScalarNode) and value.tag == cloudformation._STR and value.value == text and not value.style


def test_words_written_unquoted_read_back_as_written():
    rng = random.Random(5)
    tried = 0
    for _ in range(5000):
        text = rng.choice("aZ09") + "".join(rng.choice("aZ09 ._/-") for _ in range(rng.randrange(0, 8)))
        for flow in (False, True):
            cloudformation._plain_ok.cache_clear()
            if cloudformation._plain_ok(text, flow):
                tried += 1
                assert _reads_back_plain(text, flow), text
    assert tried > 1000
    # what the resolver reads as another type still goes quoted
    assert not cloudformation._plain_ok("yes", False) and not cloudformation._plain_ok("1_000", True)


# -- a setting read again with its Properties key, not the whole entry ----------------------

KEY_TEMPLATE = """Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      Description: the key
      EnableKeyRotation: false
      KeyPolicy:
        Version: "2012-10-17"
      # the policy ends here
    DependsOn: Other
  Other:
    Type: AWS::SNS::Topic
"""


def test_a_replaced_setting_is_read_with_its_key_alone():
    doc = _Doc("t.yaml", KEY_TEMPLATE)
    start, end = _span_of(KEY_TEMPLATE, "false")
    assert cloudformation._settings_alone(doc, 0, [(start, end, "true")]) == (
        "Key", [1], ["      EnableKeyRotation: true\n"])
    # the last key's lines run to the entry's next key, its comment with them
    start, end = _span_of(KEY_TEMPLATE, '"2012-10-17"')
    assert cloudformation._settings_alone(doc, 0, [(start, end, "2012-10-17")]) == (
        "Key", [2], ["      KeyPolicy:\n        Version: 2012-10-17\n      # the policy ends here\n"])


def _rotation_change(data):
    data["Resources"]["Key"]["Properties"]["EnableKeyRotation"] = True


@pytest.mark.parametrize("new, alone, entries, whole", [
    ("true", True, True, "ok"),
    ("true\n      Extra: 1", True, False, "refused"),  # a setting that was not intended
    ("true\n    Extra: 1", False, False, "refused"),  # a key of the entry, left of the settings
    ("true\n  Intruder: {Type: X}", False, False, "refused"),  # a new entry beside it
    ("'true", True, False, "refused"),  # an open quote that the next keys would close
    ("[true", True, False, "refused"),  # an open bracket
])
def test_a_setting_read_alone_refuses_what_the_whole_check_refuses(monkeypatch, new, alone, entries, whole):
    doc = _Doc("t.yaml", KEY_TEMPLATE)
    start, end = _span_of(KEY_TEMPLATE, "false")
    items = [(start, end, new)]
    assert (cloudformation._settings_alone(doc, 0, items) is not None) == alone
    assert _answers(doc, items, [_rotation_change], monkeypatch) == (entries, whole)


def test_settings_and_whole_entries_are_checked_together(tmp_path, monkeypatch):
    path = _write(tmp_path, "t.yaml", KEY_TEMPLATE.replace("    DependsOn: Other\n", ""))
    r = _resources(path)
    fixes = [
        Fix("rotation", SAFE, (SetSetting(r["Key"], "EnableKeyRotation", True),)),
        Fix("new key", UNSAFE, (NewResource("kms_key", "TopicKey", r["Other"], "For Other"),)),
    ]
    alone = [text_edits(fix, _read) for fix in fixes]
    assert None not in alone
    settings: list[list[list[str]]] = []
    real = cloudformation._read_settings

    def spy(doc, found):
        settings.append(found)
        return real(doc, found)

    monkeypatch.setattr(cloudformation, "_read_settings", spy)
    answers = _spy(monkeypatch)
    assert text_edits_many(fixes, _read) == alone
    # Key's setting read alone (its one edited Properties key), Other's entry whole
    assert answers == [True] and settings == [[["      EnableKeyRotation: true\n"]]]
    assert _whole_only(monkeypatch, lambda: text_edits_many(fixes, _read)) == alone
