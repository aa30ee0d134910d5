"""Planning, showing and applying fixes (kds_iac.fixes.apply) with a stand-in writer: which
fixes go together, what the diff says, and what reaches the disk, byte for byte."""

from __future__ import annotations

import logging
import os

import pytest

from kds_iac.fixes import UNSAFE, Fix, TextEdit, apply
from tests.fixes import fake_writer
from tests.fixes.fake_writer import finding, resource

TF = """\
# keys
resource "aws_kms_key" "a" {
  description = "a"
}

resource "aws_kms_key" "b" {
  description         = "b"
  enable_key_rotation = false # on purpose
}
"""


@pytest.fixture
def fake(monkeypatch):
    """Every fix is written by the stand-in writer."""
    monkeypatch.setattr(apply, "writer_for", lambda fix: fake_writer.text_edits)


def test_plan_diff_and_apply(tmp_path, fake, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.tf").write_text(TF)
    a = finding(resource("main.tf", 2, 4, "aws_kms_key.a"))
    b = finding(resource("main.tf", 6, 9, "aws_kms_key.b"))
    plan = apply.plan([a, b])
    assert [p.finding for p in plan.planned] == [a, b]
    assert plan.counts() == {"safe": 2, "unsafe": 0}
    assert plan.diff() == """\
--- a/main.tf
+++ b/main.tf
@@ -1,9 +1,10 @@
 # keys
 resource "aws_kms_key" "a" {
+  enable_key_rotation = true
   description = "a"
 }
 
 resource "aws_kms_key" "b" {
   description         = "b"
-  enable_key_rotation = false # on purpose
+  enable_key_rotation = true # on purpose
 }
"""
    assert (tmp_path / "main.tf").read_text() == TF  # planning and diffing write nothing
    assert plan.apply() == ["main.tf"]
    assert (tmp_path / "main.tf").read_text() == TF.replace(
        '"a" {\n', '"a" {\n  enable_key_rotation = true\n'
    ).replace("= false #", "= true #")
    assert plan.applied() == plan.planned


def test_overlapping_fix_waits_for_the_next_pass_and_identical_edits_fix_both(tmp_path, fake):
    path = str(tmp_path / "main.tf")
    (tmp_path / "main.tf").write_text(TF)
    key = resource(path, 6, 9, "aws_kms_key.b")
    on = finding(key)
    again = finding(key)  # a second finding whose fix is the same edit
    off = finding(key, value=False)  # the same text, another value
    plan = apply.plan([on, again, off])
    assert [(p.finding, len(p.edits)) for p in plan.planned] == [(on, 1), (again, 0)]
    assert plan.overlapping == [off]
    plan.apply()
    assert (tmp_path / "main.tf").read_text() == TF.replace("= false #", "= true #")


def test_two_insertions_at_one_point_do_not_go_together(tmp_path, fake):
    path = str(tmp_path / "main.tf")
    (tmp_path / "main.tf").write_text(TF)
    key = resource(path, 2, 4, "aws_kms_key.a")
    first, second = finding(key), finding(key, path="deletion_window_in_days", value=7)
    plan = apply.plan([first, second])
    assert [p.finding for p in plan.planned] == [first]
    assert plan.overlapping == [second]


def test_unsafe_fixes_only_when_asked(tmp_path, fake):
    path = str(tmp_path / "main.tf")
    (tmp_path / "main.tf").write_text(TF)
    risky = finding(resource(path, 2, 4, "aws_kms_key.a"), safety=UNSAFE)
    plan = apply.plan([risky])
    assert (plan.planned, plan.unsafe) == ([], [risky])
    assert plan.diff() == ""
    plan = apply.plan([risky], unsafe=True)
    assert [p.finding for p in plan.planned] == [risky]
    assert plan.counts() == {"safe": 0, "unsafe": 1}


def test_a_writer_that_raises_gives_no_fix_and_a_debug_log(tmp_path, monkeypatch, caplog):
    def broken(fix, read):
        raise RuntimeError("writer bug")

    monkeypatch.setattr(apply, "writer_for", lambda fix: broken)
    (tmp_path / "main.tf").write_text(TF)
    bad = finding(resource(str(tmp_path / "main.tf"), 2, 4))
    with caplog.at_level(logging.DEBUG, logger="kds_iac.fixes"):
        assert apply.edits_for(bad, apply.Files()) is None
        plan = apply.plan([bad])
    assert plan.planned == []
    assert [r.message for r in caplog.records][0] == "kds-iac: the fix writer failed on 'Set enable_key_rotation'"


def test_edits_outside_the_text_are_not_offered(tmp_path, monkeypatch):
    (tmp_path / "main.tf").write_text("a = 1\n")
    path = str(tmp_path / "main.tf")
    monkeypatch.setattr(apply, "writer_for", lambda fix: lambda f, read: [TextEdit(path, 1, 7, 1, 9, "x")])
    assert apply.edits_for(finding(resource(path, 1, 1)), apply.Files()) is None
    monkeypatch.setattr(apply, "writer_for", lambda fix: lambda f, read: [TextEdit(path, 1, 5, 1, 6, "2")])
    assert apply.edits_for(finding(resource(path, 1, 1)), apply.Files()) == [TextEdit(path, 1, 5, 1, 6, "2")]


def test_no_fix_no_writer_or_a_missing_writer_module(tmp_path, monkeypatch):
    key = resource("x.tf", 1, 1)
    no_fix = fake_writer.Finding(fake_writer.RULE, key, "no fix")
    assert apply.edits_for(no_fix, apply.Files()) is None
    assert apply.writer_for(finding(resource("plan.json", 1, 1, fmt="terraform-plan")).fix) is None
    mixed = Fix("two formats", "safe", finding(key).fix.intents + finding(resource("t.yaml", 1, 1, "K", "cloudformation")).fix.intents)
    assert apply.writer_for(mixed) is None
    monkeypatch.setitem(apply.WRITERS, "terraform", "kds_iac.fixes.no_such_writer")
    assert apply.writer_for(finding(key).fix) is None


def test_bom_crlf_and_utf16_are_kept(tmp_path, fake):
    crlf = tmp_path / "crlf.tf"
    crlf.write_bytes(b'\xef\xbb\xbfresource "aws_kms_key" "k" {\r\n  enable_key_rotation = false\r\n}\r\n')
    wide = tmp_path / "wide.tf"
    wide.write_bytes('\ufeffresource "aws_kms_key" "k" {\n  description = "é"\n}\n'.encode("utf-16-le"))
    plan = apply.plan([finding(resource(str(crlf), 1, 3)), finding(resource(str(wide), 1, 3))])
    plan.apply()
    assert crlf.read_bytes() == b'\xef\xbb\xbfresource "aws_kms_key" "k" {\r\n  enable_key_rotation = true\r\n}\r\n'
    assert wide.read_bytes() == (
        '\ufeffresource "aws_kms_key" "k" {\n  enable_key_rotation = true\n  description = "é"\n}\n'.encode("utf-16-le")
    )


def test_a_file_changed_after_planning_is_not_written(tmp_path, fake):
    path = tmp_path / "main.tf"
    path.write_text(TF)
    plan = apply.plan([finding(resource(str(path), 2, 4, "aws_kms_key.a"))])
    path.write_text(TF + "\n# edited meanwhile\n")
    assert plan.apply() == []
    assert plan.changed == [str(path)]
    assert plan.applied() == []
    assert path.read_text() == TF + "\n# edited meanwhile\n"


def test_scope_refuses_unscanned_files_and_links_out_of_the_tree(tmp_path, fake):
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    tree.mkdir()
    outside.mkdir()
    (outside / "real.tf").write_text(TF)
    os.symlink(outside / "real.tf", tree / "linked.tf")
    (tree / "main.tf").write_text(TF)
    (tree / "other.tf").write_text(TF)
    scope = apply.Scope([str(tree)], [str(tree / "main.tf"), str(tree / "linked.tf")])
    assert scope.allows(str(tree / "main.tf"))
    assert not scope.allows(str(tree / "linked.tf"))  # read by the scan, but it leads out of the tree
    assert not scope.allows(str(tree / "other.tf"))  # not read by the scan
    findings = [finding(resource(str(tree / name), 6, 9, "aws_kms_key.b")) for name in ("main.tf", "linked.tf", "other.tf")]
    plan = apply.plan(findings, allowed=scope.allows)
    assert [p.finding for p in plan.planned] == findings[:1]
    assert plan.outside == findings[1:]
    plan.apply()
    assert (outside / "real.tf").read_text() == TF
    assert (tree / "other.tf").read_text() == TF
    assert (tree / "main.tf").read_text() == TF.replace("= false #", "= true #")


def test_a_named_file_is_its_own_tree(tmp_path):
    (tmp_path / "stack.yaml").write_text("x")
    os.symlink(tmp_path / "stack.yaml", tmp_path / "link.yaml")
    scope = apply.Scope([str(tmp_path / "stack.yaml")], [str(tmp_path / "stack.yaml")])
    assert scope.allows(str(tmp_path / "stack.yaml"))
    assert not apply.Scope(["/"], [str(tmp_path / "missing.yaml")]).allows(str(tmp_path / "missing.yaml"))


def test_diff_of_a_last_line_without_newline(tmp_path, fake, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "k.tf").write_text('resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}')
    plan = apply.plan([finding(resource("k.tf", 1, 3))])
    assert plan.diff() == """\
--- a/k.tf
+++ b/k.tf
@@ -1,3 +1,3 @@
 resource "aws_kms_key" "k" {
-  enable_key_rotation = false
+  enable_key_rotation = true
 }
\\ No newline at end of file
"""


def test_diff_lines_end_at_newlines_only(tmp_path, fake, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "k.tf").write_text('resource "aws_kms_key" "k" {\n  description = "a\u2028b\x0cc"\n}\n')
    plan = apply.plan([finding(resource("k.tf", 1, 3))])
    assert plan.diff() == (
        "--- a/k.tf\n+++ b/k.tf\n@@ -1,3 +1,4 @@\n"
        ' resource "aws_kms_key" "k" {\n'
        "+  enable_key_rotation = true\n"
        '   description = "a\u2028b\x0cc"\n'
        " }\n"
    )
