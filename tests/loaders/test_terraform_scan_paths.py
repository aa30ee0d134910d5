"""The Terraform source scans' shortcuts (issue #15) give what the general paths give: block
ends, expression ends, labels, line numbers, attribute lookups, plain quoted strings, the
nesting pre-check, and a module load that leaves no cyclic garbage behind its paused collector."""

from __future__ import annotations

import gc

from kds_iac.loaders import terraform
from kds_iac.loaders.hcl_syntax import SourceFile
from kds_iac.loaders.terraform_expr import read_expression
from kds_iac.loaders.terraform_files import FileCache
from kds_iac.loaders.terraform_precheck import MAX_NESTING, too_deep

TEXT = """\
resource "aws_kinesis_stream" s {
  name = "a}b"
  tags = { team = "x", inner = { deep = 1 } }
  list = [1,
    2]
  stream_mode_details { stream_mode = "ON_DEMAND" }
  dynamic "ingress" {
    content { from = 1 }
  }
  name = "second"
  lifecycle {}
}
data "" "" { x = 1 }
locals {
  call = f(1, (2))
"""


def items(source: SourceFile, body) -> list[tuple]:
    return [
        (item.kind, item.name, item.labels, source.line_of(item.offset), source.source_text(item))
        for item in body.items
    ]


def test_blocks_and_expressions_end_where_their_brackets_close():
    source = SourceFile("main.tf", TEXT.encode())
    top = source.top_level()
    assert items(source, top)[1:] == [
        ("block", "data", ("", ""), 13, " x = 1 "),
        ("block", "locals", (), 14, "\n  call = f(1, (2))\n"),  # unclosed: the body runs to the end
    ]
    body = source.body_of(top.items[0])
    assert items(source, body) == [
        ("attr", "name", (), 2, ' "a}b"'),
        ("attr", "tags", (), 3, ' { team = "x", inner = { deep = 1 } }'),
        ("attr", "list", (), 4, " [1,\n    2]"),
        ("block", "stream_mode_details", (), 6, ' stream_mode = "ON_DEMAND" '),
        ("block", "dynamic", ("ingress",), 7, "\n    content { from = 1 }\n  "),
        ("attr", "name", (), 10, ' "second"'),
        ("block", "lifecycle", (), 11, ""),
    ]
    one_line = source.body_of(body.items[3])
    assert items(source, one_line) == [("attr", "stream_mode", (), 6, ' "ON_DEMAND" ')]


def test_attribute_and_line_of_take_the_first_item_of_a_name():
    source = SourceFile("main.tf", TEXT.encode())
    body = source.body_of(source.top_level().items[0])
    assert source.line_of(body.attribute("name").offset) == 2
    assert body.attribute("lifecycle") is None  # a block is no attribute
    assert body.attribute("missing") is None
    assert [body.line_of(n) for n in ("name", "lifecycle", "ingress", "dynamic", "content", "missing")] == [
        2, 11, 7, 7, None, None,
    ]


def test_lines_counted_by_newline_only():
    source = SourceFile("main.tf", b"a\r\nb\x0bc\n\nd")
    assert source.line_starts == [0, 3, 7, 8]
    assert [source.line_of(offset) for offset in range(10)] == [1, 1, 1, 2, 2, 2, 2, 3, 4, 4]
    assert SourceFile("main.tf", b"").line_starts == [0]
    assert SourceFile("main.tf", b"x\n").line_starts == [0, 2]


def test_released_file_parses_its_bodies_again_the_same():
    source = SourceFile("main.tf", TEXT.encode())
    before = items(source, source.body_of(source.top_level().items[0]))
    first_top = source.top_level()
    block = source.block(1, "s")
    source.release()
    assert source.top_level() is not first_top
    assert items(source, source.body_of(source.top_level().items[0])) == before
    assert items(source, source.block(1, "s")) == items(source, block)


def test_plain_quoted_strings_and_the_ones_that_need_the_loop():
    text = (
        'jsonencode({a = "x$y%z$", b = "", c = "$${lit}", d = "%%{x}", '
        'e = "t\\tq\\"", f = "${var.v}-n", g = "%{ if true }x%{ endif }y"})'
    )
    value = read_expression(text, lambda path: f"<{path}>", lambda name, args: None)
    assert value == {
        "a": "x$y%z$",
        "b": "",
        "c": "${lit}",
        "d": "%{x}",
        "e": 't\tq"',
        "f": "<var.v>-n",
        "g": "xy",  # directives dropped, their text kept
    }


def test_nesting_precheck_counts_depth_not_brackets():
    deep = "x = " + "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1) + "\n"
    assert too_deep(SourceFile("a.tf", ("é = 1\n" + deep).encode())) == 2
    at_limit = "x = " + "(" * MAX_NESTING + ")" * MAX_NESTING + "\n"
    assert too_deep(SourceFile("b.tf", at_limit.encode())) == 0
    many = "x = [" + "{}, " * (3 * MAX_NESTING) + "]\n"  # 601 openings, depth 2
    assert too_deep(SourceFile("c.tf", many.encode())) == 0
    in_strings = 'x = "' + "[" * (MAX_NESTING + 5) + '"\n'  # masked: not brackets
    assert too_deep(SourceFile("d.tf", in_strings.encode())) == 0


MODULE = """\
variable "name" {
  default = "events"
}

resource "aws_kinesis_stream" "s" {
  name        = var.name
  shard_count = 1
  stream_mode_details {
    stream_mode = "PROVISIONED"
  }
}
"""


def test_module_load_leaves_no_cyclic_garbage_and_restores_the_collector(tmp_path):
    (tmp_path / "main.tf").write_text(MODULE)
    terraform.load_module(str(tmp_path))  # worker started, imports done
    enabled = gc.isenabled()
    try:
        gc.disable()
        gc.collect()
        model = terraform.load_module(str(tmp_path))
        assert not gc.isenabled()
        assert gc.collect() == 0  # the parsed source's cycles were broken (FileCache.release)
        gc.enable()
        model = terraform.load_module(str(tmp_path))
        assert gc.isenabled()
    finally:
        if not enabled:
            gc.disable()
    assert [(r.address, r.location.start_line, r.attribute_lines) for r in model.resources] == [
        ("aws_kinesis_stream.s", 5, {"name": 6, "shard_count": 7, "stream_mode_details": 8}),
    ]


def test_file_cache_release_keeps_the_files():
    cache = FileCache("/nonexistent-dir")
    assert cache.get("missing.tf") is None
    cache.release()  # a file that could not be read has nothing to release
    assert cache.get("missing.tf") is None


def test_expression_ends_after_brackets_at_the_newline_or_the_enclosing_brace():
    source = SourceFile("main.tf", b'x { a = [1, (2)] }\ny {\n  b = f({\n    c = [\n]}) + 1\n  d = 2\n}\n')
    top = source.top_level()
    assert [source.source_text(i) for i in source.body_of(top.items[0]).items] == [" [1, (2)] "]
    assert [source.source_text(i) for i in source.body_of(top.items[1]).items] == [
        " f({\n    c = [\n]}) + 1",
        " 2",
    ]


def test_comments_between_tokens_of_an_expression_read_from_text():
    text = 'jsonencode({ # one\n  a = 1 /* two */, b = "x" // three\n  /* four */ c = [ # five\n 2 ]\n})'
    assert read_expression(text, lambda path: path, lambda name, args: None) == {"a": 1, "b": "x", "c": [2]}
