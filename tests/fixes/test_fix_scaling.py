"""The CloudFormation writer's per-template indexes (entries by name, line ends) and its
checks in groups answer exactly as the searches and the one check they replaced: they exist
so that a template with 98,000 streams and 58,800 fixes is written in linear time and memory."""

from __future__ import annotations

import random

import pytest

from kds_iac.fixes import SAFE, Fix, SetSetting, TextEdit, apply, apply_edits, replaced
from kds_iac.fixes import cloudformation
from kds_iac.fixes.cloudformation import _Doc, _get, _Refused, text_edits, text_edits_many
from tests.conftest import EXAMPLES
from tests.fixes.test_fix_batch import FIXTURES, _cfn_fixes_by_file, _read, _resources, _spy_checks


def _counted(text: str, index: int) -> tuple[int, int]:
    """Line and column by counting line ends, as the writer did before it listed them."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


@pytest.mark.parametrize("text", [
    "Resources:\n  A:\n    Type: AWS::Kinesis::Stream\n",
    "\ufeffResources:\r\n  A:\r\n    Type: AWS::Kinesis::Stream",
    "Resources: {A: {Type: AWS::Kinesis::Stream}}",
])
def test_positions_are_the_counted_ones(text):
    doc = _Doc("t.yaml", text)
    assert [doc.position(i) for i in range(len(text) + 1)] == [_counted(text, i) for i in range(len(text) + 1)]


def test_positions_of_the_fixtures_are_the_counted_ones():
    for path in sorted(FIXTURES.iterdir()):
        text = _read(str(path))
        doc = cloudformation._compose(str(path), text)
        if doc is None:
            continue
        step = max(1, len(text) // 500)
        indices = list(range(0, len(text) + 1, step)) + [len(text)]
        assert [doc.position(i) for i in indices] == [_counted(text, i) for i in indices], path


def _answer(call):
    try:
        return "found", call()
    except _Refused:
        return "refused", None


@pytest.mark.parametrize("entries", [
    "  A: {Type: X}\n  B: {Type: Y}\n",
    "  A: {Type: X}\n  A: {Type: Y}\n  B: {Type: Z}\n",  # a duplicate
    "  <<: {C: {Type: X}}\n  A: {Type: Y}\n",  # a merge key
    "  A: {Type: X}\n  ? [1, 2]\n  : {Type: Y}\n",  # a key that is no scalar
])
def test_entries_by_name_answer_as_the_search(entries):
    doc = _Doc("t.yaml", "Resources:\n" + entries)
    for name in ("A", "B", "C", "<<", "Missing"):
        for strict in (True, False):
            indexed = _answer(lambda: doc.resource_entry(name, strict))
            searched = _answer(lambda: _get(doc.resources, name, strict))
            assert indexed == searched, (name, strict)


def test_fixes_are_checked_in_groups_that_share_no_entry(monkeypatch):
    r = _resources(FIXTURES / "streams.yaml")
    key_fix = Fix("key", SAFE, (SetSetting(r["ManagedKey"], "StreamEncryption.KeyId", "alias/mine"),))
    shards = Fix("shards", SAFE, (SetSetting(r["ManagedKey"], "ShardCount", 2),))
    other = Fix("other", SAFE, (SetSetting(r["Unencrypted"], "StreamEncryption.EncryptionType", "KMS"),))
    fixes = [key_fix, other, shards]
    alone = [text_edits(fix, _read) for fix in fixes]
    assert None not in alone
    monkeypatch.setattr(cloudformation, "_GROUP", 1)
    calls = _spy_checks(monkeypatch)
    assert text_edits_many(fixes, _read) == alone
    # ManagedKey's two fixes together (one entry, edits apart); Unencrypted's, a group of one, alone
    assert calls == [2, 1]


def test_a_batch_in_groups_of_one_answers_as_each_fix_alone(monkeypatch):
    monkeypatch.setattr(cloudformation, "_GROUP", 1)
    by_file = _cfn_fixes_by_file(EXAMPLES / "cloudformation", FIXTURES)
    written = 0
    for findings in by_file.values():
        fixes = [finding.fix for finding in findings]
        alone = [text_edits(fix, _read) for fix in fixes]
        assert text_edits_many(fixes, _read) == alone
        written += sum(edits is not None for edits in alone)
    assert written > 0


def _replaced_one_by_one(text: str, items: list[tuple[int, int, str]]) -> str:
    """Replacements made from the last, as the writer did before."""
    for start, end, new in sorted(items, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _edited_one_by_one(text: str, items: list[tuple[int, int, str]]) -> str:
    """As ``apply_edits`` did before: in the order given where two start and end alike."""
    for start, end, new in reversed(sorted(items, key=lambda item: (item[0], item[1]))):
        text = text[:start] + new + text[end:]
    return text


def _random_items(rng: random.Random, size: int) -> list[tuple[int, int, str]]:
    """Non-overlapping replacements and insertions, some at the same place."""
    items, position = [], 0
    while position < size:
        start = min(size, position + rng.randrange(0, 4))
        end = min(size, start + rng.choice([0, 0, 1, 3]))
        items.append((start, end, rng.choice(["", "x", "yz\n"])))
        if end == start and rng.random() < 0.3:
            items.append((start, start, "i"))
        position = end if end > start else start + 1
    return items


def test_replacements_joined_once_are_the_ones_made_one_by_one():
    rng = random.Random(7)
    text = "ab\ncd\n\nefgh\nij"
    for _ in range(300):
        items = _random_items(rng, len(text))
        assert replaced(text, sorted(items)) == _replaced_one_by_one(text, items)
        edits = []
        for start, end, new in items:
            edits.append(TextEdit("f", *_counted(text, start), *_counted(text, end), new))
        assert apply_edits(text, edits) == _edited_one_by_one(text, items)


def test_taken_ranges_answer_as_comparing_with_every_range():
    """``plan``'s acceptance of each fix's ranges (its own may meet, between fixes none may
    overlap), with the sorted ranges and with every range compared."""
    rng = random.Random(11)
    for _ in range(300):
        taken, every = apply._Taken(), []
        for _ in range(rng.randrange(1, 30)):
            mine = []
            for _ in range(rng.randrange(1, 3)):
                start = rng.randrange(0, 40)
                mine.append((start, start + rng.choice([0, 0, 1, 2, 5])))
            expected = any(apply._overlaps(span, other) for span in mine for other in every)
            assert any(taken.overlaps(span) for span in mine) == expected
            if expected or apply._self_overlap([(None, *span) for span in mine]):
                continue
            for span in mine:
                taken.add(span)
                every.append(span)
        assert not taken.nested  # the ranges plan takes keep to the order the search relies on
