"""The Terraform writer's ``text_edits_many`` answers each fix as ``text_edits`` does alone: a
file's fixes share the scans, key names and listings, never each other's edits. And the scan
of the file as read stands in for a scan of a block's lines alone (what the writer relies on
when a fix's first edit of a block uses the file's scan)."""

from __future__ import annotations

import random
from pathlib import Path

from kds_iac.engine import scan
from kds_iac.fixes import SAFE, UNSAFE, Fix, Link, NewResource, SetSetting, apply_edits
from kds_iac.fixes.terraform import _File, _headers, _index, _line_start, text_edits, text_edits_many
from kds_iac.loaders.hcl_syntax import SourceFile
from tests.conftest import EXAMPLES, REPO
from tests.fixes.test_fix_batch import _read, fixes_by_file

FIXTURES = REPO / "tests" / "data" / "fixes" / "terraform"


def _resources(where: Path) -> dict:
    result = scan([str(where)])
    assert result.diagnostics == []
    return {resource.address: resource for resource in result.model.resources}


def test_each_example_files_fixes_in_a_batch_answer_as_each_fix_alone():
    written = set()
    for findings in fixes_by_file(text_edits, EXAMPLES / "terraform").values():
        fixes = [finding.fix for finding in findings]
        alone = [text_edits(fix, _read) for fix in fixes]
        assert text_edits_many(fixes, _read) == alone
        written |= {(f.rule.id, f.address, f.fix.safety) for f, edits in zip(findings, alone) if edits}
    # the comparison covers written fixes, safe and unsafe, new keys among them
    assert {
        ("KDS001", "aws_kinesis_stream.plain", UNSAFE),
        ("KDS002", "aws_kinesis_stream.alias_name", UNSAFE),
        ("KDS003", "aws_kms_key.no_rotation", SAFE),
        ("KDS016", "aws_kinesis_firehose_delivery_stream.inline_aes256", SAFE),
        ("KDS021", "aws_cloudtrail.regional", SAFE),
    } <= written


def _unit(file: int, unit: int) -> str:
    """A stream on a key without rotation, a stream without encryption, one on the AWS
    managed key."""
    name = f"f{file}_{unit}"
    return f"""\
resource "aws_kms_key" "key_{name}" {{
  description = "key {name}"
}}

resource "aws_kinesis_stream" "keyed_{name}" {{
  name            = "keyed-{name}"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.key_{name}.arn
}}

resource "aws_kinesis_stream" "plain_{name}" {{
  name        = "plain-{name}"
  shard_count = 1
}}

resource "aws_kinesis_stream" "managed_{name}" {{
  name            = "managed-{name}"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = "alias/aws/kinesis"
}}
"""


def _module(where: Path, files: int = 2, units: int = 6) -> Path:
    where.mkdir()
    for file in range(files):
        (where / f"main_{file}.tf").write_text("\n".join(_unit(file, unit) for unit in range(units)))
    return where


def test_a_module_with_many_fixes_a_file_answers_as_each_fix_alone(tmp_path):
    where = _module(tmp_path / "module")
    by_file = fixes_by_file(text_edits, where)
    assert set(by_file) == {str(where / "main_0.tf"), str(where / "main_1.tf")}
    everything = []
    for findings in by_file.values():
        fixes = [finding.fix for finding in findings]
        alone = [text_edits(fix, _read) for fix in fixes]
        assert None not in alone
        assert text_edits_many(fixes, _read) == alone
        everything += list(zip(fixes, alone))
        file = Path(findings[0].location.file).stem[-1]
        assert {(f.rule.id, f.address) for f in findings} == {
            (rule, f"{address}_f{file}_{unit}")
            for unit in range(6)
            for rule, address in (
                ("KDS003", "aws_kms_key.key"),
                ("KDS001", "aws_kinesis_stream.plain"),
                ("KDS002", "aws_kinesis_stream.managed"),
            )
        }
    # the module's fixes in one batch, over both files, too
    assert text_edits_many([fix for fix, _ in everything], _read) == [edits for _, edits in everything]


def _streams(where: Path, names: str = "ab") -> Path:
    where.mkdir()
    (where / "main.tf").write_text(
        "\n".join(f'resource "aws_kinesis_stream" "{n}" {{\n  name        = "{n}"\n  shard_count = 1\n}}\n' for n in names)
    )
    return where


def _keyed(stream, name: str = "stream_key") -> Fix:
    key = NewResource("kms_key", name, stream, "for the stream")
    return Fix("encrypt", UNSAFE, (key, SetSetting(stream, "encryption_type", "KMS"), SetSetting(stream, "kms_key_id", Link(key))))


def _key_block(name: str) -> str:
    return f'resource "aws_kms_key" "{name}" {{\n  description         = "for the stream"\n  enable_key_rotation = true\n}}'


def test_two_fixes_adding_a_key_of_one_name_in_one_module_each_get_the_name_alone_gives(tmp_path):
    where = _streams(tmp_path / "module")
    r = _resources(where)
    fixes = [_keyed(r["aws_kinesis_stream.a"]), _keyed(r["aws_kinesis_stream.b"])]
    batch = text_edits_many(fixes, _read)
    assert batch == [text_edits(fix, _read) for fix in fixes]
    original = _read(str(where / "main.tf"))
    for stream, edits in zip("ab", batch):
        fixed = apply_edits(original, edits)
        assert _key_block("stream_key") in fixed and "stream_key_2" not in fixed
        assert 'kms_key_id      = aws_kms_key.stream_key.arn' in fixed.split(f'"{stream}" {{', 1)[1].split("}")[0]
    # a key of that name declared in another file of the module: both take the next name
    (where / "keys.tf").write_text(_key_block("stream_key") + "\n")
    batch = text_edits_many(fixes, _read)
    assert batch == [text_edits(fix, _read) for fix in fixes]
    for edits in batch:
        assert _key_block("stream_key_2") in apply_edits(original, edits)


def test_buffers_that_differ_from_the_disk_are_answered_from_the_buffer(tmp_path):
    where = _streams(tmp_path / "module")
    path = str(where / "main.tf")
    r = _resources(where)
    fixes = [_keyed(r["aws_kinesis_stream.a"]), Fix("shards", SAFE, (SetSetting(r["aws_kinesis_stream.b"], "shard_count", 2),))]
    on_disk = text_edits_many(fixes, _read)
    assert on_disk == [text_edits(fix, _read) for fix in fixes]
    # unsaved buffers: a line added at the top of the edited file, a key of the new key's
    # name in a file of the module that is empty on the disk
    (where / "keys.tf").write_text("")
    buffers = {path: "# unsaved\n" + _read(path), str(where / "keys.tf"): _key_block("stream_key") + "\n"}

    def read(file: str) -> str:
        return buffers[file] if file in buffers else _read(file)

    in_buffers = text_edits_many(fixes, read)
    assert in_buffers == [text_edits(fix, read) for fix in fixes]
    assert [edit.start_line for edit in in_buffers[1]] == [edit.start_line + 1 for edit in on_disk[1]]
    assert _key_block("stream_key_2") in apply_edits(buffers[path], in_buffers[0])
    # and the disk again: nothing of the buffers is kept for the path
    assert text_edits_many(fixes, _read) == on_disk


def test_a_comment_closed_by_its_own_opening_before_a_block_is_not_taken_as_open(tmp_path):
    """``/*/`` ends the comment it opens: the block after it is code, and written."""
    where = tmp_path / "module"
    where.mkdir()
    text = '/* a comment /*/\nresource "aws_kms_key" "k" {\n  description = "k"\n}\n'
    (where / "main.tf").write_text(text)
    fix = Fix("rotate", SAFE, (SetSetting(_resources(where)["aws_kms_key.k"], "enable_key_rotation", True),))
    edits = text_edits(fix, _read)
    assert edits is not None
    assert apply_edits(text, edits) == text.replace(
        'description = "k"\n}', 'description         = "k"\n  enable_key_rotation = true\n}'
    )
    assert text_edits_many([fix], _read) == [edits]


def _tf_files() -> list[Path]:
    return sorted([*(EXAMPLES / "terraform").rglob("*.tf"), *FIXTURES.rglob("*.tf")])


def test_a_blocks_lines_scan_alone_as_they_scan_in_their_file():
    """For each top-level block that starts its line and ends it (blanks around), the file's
    masked text and parsed body over the block's lines are those of the lines scanned alone."""
    checked = set()
    for path in _tf_files():
        text = _read(str(path))
        whole = SourceFile(str(path), text.encode("utf-8"))
        for items in _index(whole).values():
            for item in items:
                start = _line_start(whole, item.offset)
                end = whole.masked.find("\n", item.end)
                end = len(text) if end < 0 else end
                if text[start : item.offset].strip(" \t") or text[item.end + 1 : end].strip(" \t\r"):
                    continue
                alone = SourceFile(str(path), text[start:end].encode("utf-8"))
                assert alone.masked == whole.masked[start:end], (path, item.labels)
                found = _headers(alone)[(item.name, *item.labels)]
                assert [(i.offset + start, i.end + start) for i in found] == [(item.offset, item.end)]
                assert _shape(alone, found[0], start) == _shape(whole, item, 0)
                checked.add((path.parent.name, *item.labels))
    # blocks with a comment over lines, a heredoc, tabs, nested blocks are among them
    assert {
        ("comments", "aws_kinesis_stream", "open_comment"),
        ("comments", "aws_iam_policy", "heredoc"),
        ("tabs", "aws_dynamodb_table", "orders"),
        ("nested", "aws_dynamodb_table", "orders"),
    } <= checked


def _shape(source: SourceFile, item, shift: int) -> list:
    """An item's nested items, their offsets in the file's terms, all the way down."""
    out = []
    for inner in source.body_of(item).items:
        out.append((inner.kind, inner.name, inner.labels, inner.offset + shift, inner.start + shift, inner.end + shift))
        if inner.kind == "block":
            out.append(_shape(source, inner, shift))
    return out


def test_parts_of_the_current_text_are_those_of_the_text_changed_whole():
    """``_File`` keeps changes, not a copy of the current text after each one: its parts and
    the edits are those of the text changed as a whole. Seeded, so a failure repeats."""
    rng = random.Random(29)
    for _ in range(2000):
        original = "".join(rng.choice("ab\n") for _ in range(rng.randint(0, 12)))
        file, current = _File("x.tf", original), original
        for _ in range(rng.randint(1, 5)):
            start = rng.randint(0, len(current))
            end = rng.randint(start, min(len(current), start + 3))
            new = "".join(rng.choice("XY\n") for _ in range(rng.randint(0, 3)))
            file.change(start, end, new)
            current = current[:start] + new + current[end:]
            for _ in range(4):
                low = rng.randint(0, len(current) + 2)
                high = rng.randint(low, len(current) + 2)
                assert file.part(low, high) == current[low:high]
        assert apply_edits(original, file.edits()) == current
        assert file.text == current
