"""The Terraform fix writer (kds_iac.fixes.terraform): intents made by hand on resources from a
real scan, edits applied, the whole file compared, the edited folder scanned again (an edit
never breaks the template); and every case where an edit would be a guess gives None."""

from __future__ import annotations

import copy
import random
import shutil
from pathlib import Path

import pytest

from kds_iac.engine import scan
from kds_iac.fixes import SAFE, UNSAFE, Fix, Link, NewResource, SetSetting, apply_edits
from kds_iac.fixes.terraform import _File, text_edits
from kds_iac.model import TERRAFORM_PLAN

DATA = Path(__file__).resolve().parent.parent / "data" / "fixes" / "terraform"


def folder(tmp_path: Path, case: str) -> Path:
    """A copy of a fixture folder (the fixture itself is never edited)."""
    return Path(shutil.copytree(DATA / case, tmp_path / case))


def read(path: str) -> str:
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def resources(where: Path) -> dict:
    result = scan([str(where)])
    assert result.diagnostics == []
    return {resource.address: resource for resource in result.model.resources}


def fixed(fix: Fix, path: Path) -> str:
    edits = text_edits(fix, read)
    assert edits  # None is a refusal; [] would make a comparison with the unchanged file vacuous
    assert {edit.file for edit in edits} == {str(path)}
    return apply_edits(read(str(path)), edits)


def rescan(where: Path, path: Path, text: str):
    """Write the edited text and scan the folder again: it must load without a diagnostic."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    result = scan([str(where)])
    assert result.diagnostics == []
    return result


def found(result, rule_id: str) -> set[str]:
    return {finding.address for finding in result.findings if finding.rule.id == rule_id}


def safe(*intents) -> Fix:
    return Fix("test fix", SAFE, intents)


# -- replacing a value ---------------------------------------------------------------------


def test_replaces_a_literal_and_keeps_the_comment_after_it(tmp_path):
    where = folder(tmp_path, "literals")
    key = resources(where)["aws_kms_key.stream"]
    text = fixed(safe(SetSetting(key, "enable_key_rotation", True)), where / "main.tf")
    assert text == read(str(DATA / "literals" / "main.tf")).replace(
        "enable_key_rotation = false # off", "enable_key_rotation = true # off"
    )
    result = rescan(where, where / "main.tf", text)
    assert {r.address: r.get("enable_key_rotation") for r in result.model.resources if r.type == "aws_kms_key"} == {
        "aws_kms_key.stream": True,
        "aws_kms_key.empty": None,
    }


def test_a_value_already_set_gives_no_edit(tmp_path):
    where = folder(tmp_path, "literals")
    stream = resources(where)["aws_kinesis_stream.events"]
    assert text_edits(safe(SetSetting(stream, "shard_count", 1)), read) == []


def test_replaces_the_actions_of_the_second_statement(tmp_path):
    where = folder(tmp_path, "policy")
    document = resources(where)["data.aws_iam_policy_document.producer"]
    fix = safe(SetSetting(document, "statement[1].actions", ("kinesis:PutRecord", "kinesis:PutRecords")))
    text = fixed(fix, where / "main.tf")
    assert text == """\
data "aws_iam_policy_document" "producer" {
  statement {
    sid       = "Describe"
    actions   = ["kinesis:DescribeStreamSummary"]
    resources = ["*"]
  }

  statement {
    sid       = "Write"
    actions   = ["kinesis:PutRecord", "kinesis:PutRecords"] # far too much
    resources = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]
  }
}

resource "aws_iam_policy" "producer" {
  name   = "producer"
  policy = data.aws_iam_policy_document.producer.json
}

resource "aws_kinesis_stream" "orders" {
  name        = "orders"
  shard_count = 1
}
"""
    rescan(where, where / "main.tf", text)
    # an indexed block is found, never created
    assert text_edits(safe(SetSetting(document, "statement[2].actions", ("kinesis:PutRecord",))), read) is None


def test_a_list_of_references_names_the_streams(tmp_path):
    where = folder(tmp_path, "policy")
    found_ = resources(where)
    document, stream = found_["data.aws_iam_policy_document.producer"], found_["aws_kinesis_stream.orders"]
    fix = safe(SetSetting(document, "statement[0].resources", (Link(stream), "arn:aws:kinesis:*:*:stream/x")))
    text = fixed(fix, where / "main.tf")
    assert text == read(str(DATA / "policy" / "main.tf")).replace(
        'resources = ["*"]', 'resources = [aws_kinesis_stream.orders.arn, "arn:aws:kinesis:*:*:stream/x"]'
    )
    rescan(where, where / "main.tf", text)
    # a list of references and strings is plain too: it can be replaced again
    document = resources(where)["data.aws_iam_policy_document.producer"]
    again = fixed(safe(SetSetting(document, "statement[0].resources", ("*",))), where / "main.tf")
    assert again == read(str(DATA / "policy" / "main.tf"))


def test_strings_are_written_with_hcl_escapes(tmp_path):
    where = folder(tmp_path, "literals")
    stream = resources(where)["aws_kinesis_stream.orders"]
    name = 'say "hi" \\ ${not.a_ref} %{ if x } ok\n\tdone \u00e9\u0001'
    text = fixed(safe(SetSetting(stream, "name", name)), where / "main.tf")
    written = '"say \\"hi\\" \\\\ $${not.a_ref} %%{ if x } ok\\n\\tdone \u00e9\\u0001"'
    assert f"name = {written} # the only attribute\n" in text
    result = rescan(where, where / "main.tf", text)
    assert {r.address: r.get("name") for r in result.model.resources}["aws_kinesis_stream.orders"] == name


# -- inserting a setting -------------------------------------------------------------------


def test_inserts_settings_aligned_with_their_neighbours(tmp_path):
    where = folder(tmp_path, "literals")
    found_ = resources(where)
    stream, key = found_["aws_kinesis_stream.events"], found_["aws_kms_key.stream"]
    fix = safe(SetSetting(stream, "encryption_type", "KMS"), SetSetting(stream, "kms_key_id", Link(key)))
    text = fixed(fix, where / "main.tf")
    # after the last attribute; the multi-line `tags` stands alone, so the new lines align
    # with each other only
    assert text == read(str(DATA / "literals" / "main.tf")).replace(
        """\
  tags = {
    team = "data"
  }
}
""",
        """\
  tags = {
    team = "data"
  }
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.stream.arn
}
""",
    )
    result = rescan(where, where / "main.tf", text)
    assert "aws_kinesis_stream.events" not in found(result, "KDS001")


def test_a_longer_name_pads_the_neighbours_as_terraform_fmt_does(tmp_path):
    where = folder(tmp_path, "literals")
    stream = resources(where)["aws_kinesis_stream.orders"]
    fix = safe(SetSetting(stream, "encryption_type", "KMS"), SetSetting(stream, "kms_key_id", "alias/orders"))
    text = fixed(fix, where / "main.tf")
    assert text == read(str(DATA / "literals" / "main.tf")).replace(
        """\
  name = "orders" # the only attribute
""",
        """\
  name            = "orders" # the only attribute
  encryption_type = "KMS"
  kms_key_id      = "alias/orders"
""",
    )
    rescan(where, where / "main.tf", text)


def test_inserts_with_one_space_where_the_neighbours_are_not_aligned(tmp_path):
    where = folder(tmp_path, "unaligned")
    stream = resources(where)["aws_kinesis_stream.events"]
    fix = safe(SetSetting(stream, "encryption_type", "KMS"), SetSetting(stream, "kms_key_id", "alias/events"))
    text = fixed(fix, where / "main.tf")
    assert text == """\
# Written by hand: one space before every "=".
resource "aws_kinesis_stream" "events" {
  name = "events"
  shard_count = 1
  encryption_type = "KMS"
  kms_key_id = "alias/events"
}
"""
    result = rescan(where, where / "main.tf", text)
    assert found(result, "KDS001") == set()


def test_opens_a_one_line_empty_block(tmp_path):
    where = folder(tmp_path, "literals")
    key = resources(where)["aws_kms_key.empty"]
    text = fixed(safe(SetSetting(key, "enable_key_rotation", True)), where / "main.tf")
    assert text == read(str(DATA / "literals" / "main.tf")).replace(
        'resource "aws_kms_key" "empty" {}\n',
        'resource "aws_kms_key" "empty" {\n  enable_key_rotation = true\n}\n',
    )
    rescan(where, where / "main.tf", text)


def test_inserts_a_missing_nested_block_once_for_two_settings(tmp_path):
    where = folder(tmp_path, "nested")
    found_ = resources(where)
    table, key = found_["aws_dynamodb_table.orders"], found_["aws_kms_key.table"]
    fix = safe(
        SetSetting(table, "server_side_encryption.enabled", True),
        SetSetting(table, "server_side_encryption.kms_key_arn", Link(key)),
    )
    text = fixed(fix, where / "main.tf")
    assert text == """\
resource "aws_kms_key" "table" {
  description         = "table key"
  enable_key_rotation = true
}

resource "aws_dynamodb_table" "orders" {
  name     = "orders"
  hash_key = "id"

  attribute {
    name = "id"
    type = "S"
  }
  # the table keeps its point-in-time recovery
  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.table.arn
  }
}
"""
    result = rescan(where, where / "main.tf", text)
    table = {r.address: r for r in result.model.resources}["aws_dynamodb_table.orders"]
    assert table.get("server_side_encryption") is not None


def test_sets_an_attribute_inside_an_existing_nested_block(tmp_path):
    where = folder(tmp_path, "nested")
    table = resources(where)["aws_dynamodb_table.orders"]
    text = fixed(safe(SetSetting(table, "point_in_time_recovery.enabled", False)), where / "main.tf")
    assert text == read(str(DATA / "nested" / "main.tf")).replace(
        "  point_in_time_recovery {\n    enabled = true\n", "  point_in_time_recovery {\n    enabled = false\n"
    )
    # an empty nested block written on one line opens onto lines of its own
    main = where / "main.tf"
    main.write_text(read(str(main)).replace("  point_in_time_recovery {\n    enabled = true\n  }\n", "  ttl {}\n"))
    table = resources(where)["aws_dynamodb_table.orders"]
    text = fixed(safe(SetSetting(table, "ttl.enabled", True)), main)
    assert text.endswith(
        """\
  # the table keeps its point-in-time recovery
  ttl {
    enabled = true
  }
}
"""
    )
    rescan(where, main, text)


def test_inserts_after_a_heredoc_and_never_inside_a_comment(tmp_path):
    where = folder(tmp_path, "comments")
    found_ = resources(where)
    policy, stream = found_["aws_iam_policy.heredoc"], found_["aws_kinesis_stream.open_comment"]
    text = fixed(safe(SetSetting(policy, "description", "no statements")), where / "main.tf")
    # terraform fmt aligns a heredoc's line with the lines around it
    assert text == read(str(DATA / "comments" / "main.tf")).replace(
        """\
  name   = "heredoc"
  policy = <<-POLICY
    {"Version": "2012-10-17", "Statement": []}
  POLICY
}
""",
        """\
  name        = "heredoc"
  policy      = <<-POLICY
    {"Version": "2012-10-17", "Statement": []}
  POLICY
  description = "no statements"
}
""",
    )
    rescan(where, where / "main.tf", text)
    # after `shard_count = 1 /* ...` the next line is still the comment
    assert text_edits(safe(SetSetting(stream, "encryption_type", "KMS")), read) is None
    # a `/*` in a line comment opens nothing
    later = found_["aws_kinesis_stream.after_line_comment"]
    text = fixed(safe(SetSetting(later, "encryption_type", "KMS")), where / "main.tf")
    assert text.endswith('  shard_count     = 1\n  encryption_type = "KMS"\n}\n')


# -- references and new resources ---------------------------------------------------------


def test_links_within_a_module_are_written_without_the_module_prefix(tmp_path):
    where = folder(tmp_path, "module")
    found_ = resources(where)
    stream = found_["module.events.aws_kinesis_stream.this"]
    module_file = where / "modules" / "stream" / "main.tf"
    for target, reference in (
        ("module.events.aws_kms_key.plain", "aws_kms_key.plain.arn"),
        ("module.events.aws_kms_key.counted[0]", "aws_kms_key.counted[0].arn"),
    ):
        fix = safe(SetSetting(stream, "encryption_type", "KMS"), SetSetting(stream, "kms_key_id", Link(found_[target])))
        text = fixed(fix, module_file)
        assert text == read(str(module_file)).replace(
            """\
  name        = var.name
  shard_count = 1
""",
            f"""\
  name            = var.name
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = {reference}
""",
        )
    with_id = fixed(safe(SetSetting(stream, "kms_key_id", Link(found_["module.events.aws_kms_key.plain"], "id"))), module_file)
    assert "  kms_key_id  = aws_kms_key.plain.id\n" in with_id
    result = rescan(where, module_file, text)
    assert found(result, "KDS001") == set()  # the module's one block serves both calls
    # a key of another module call, or of the root module, is out of reach
    for target in ("module.audit.aws_kms_key.plain", "aws_kms_key.root"):
        assert text_edits(safe(SetSetting(stream, "kms_key_id", Link(found_[target]))), read) is None
    assert text_edits(safe(SetSetting(stream, "kms_key_id", Link(found_["aws_kms_key.root"], "name"))), read) is None


def test_links_to_a_repeated_block_name_the_instance_or_nothing(tmp_path):
    where = folder(tmp_path, "gated")
    found_ = resources(where)
    stream = found_["aws_kinesis_stream.s"]
    text = fixed(safe(SetSetting(stream, "kms_key_id", Link(found_['aws_kms_key.two["a"]']))), where / "main.tf")
    assert text == read(str(DATA / "gated" / "main.tf")).replace(
        '  name        = "s"\n  shard_count = 1\n',
        '  name        = "s"\n  shard_count = 1\n  kms_key_id  = aws_kms_key.two["a"].arn\n',
    )
    rescan(where, where / "main.tf", text)
    # held without an instance key while the block has count or for_each: no certain name
    for gated in ("aws_kms_key.each", "aws_kms_key.gated"):
        assert text_edits(safe(SetSetting(stream, "kms_key_id", Link(found_[gated]))), read) is None


def test_new_key_takes_a_free_name_and_the_link_uses_it(tmp_path):
    where = folder(tmp_path, "clash")
    found_ = resources(where)
    stream = found_["aws_kinesis_stream.events"]
    key = NewResource("kms_key", "stream", stream, 'Key for the "events" stream')
    fix = Fix(
        "encrypt with a new key",
        UNSAFE,
        (SetSetting(stream, "encryption_type", "KMS"), SetSetting(stream, "kms_key_id", Link(key)), key),
    )
    text = fixed(fix, where / "main.tf")
    assert text == """\
resource "aws_kinesis_stream" "events" {
  name            = "events"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.stream_2.arn
}

resource "aws_kms_key" "stream_2" {
  description         = "Key for the \\"events\\" stream"
  enable_key_rotation = true
}

resource "aws_kinesis_stream" "orders" {
  name        = "orders"
  shard_count = 1
}
"""
    result = rescan(where, where / "main.tf", text)
    assert found(result, "KDS001") == {"aws_kinesis_stream.orders"}
    assert found(result, "KDS003") == set()  # the default key policy gives the key to the account alone
    assert found(result, "KDS002") == set()


def test_links_to_a_key_in_another_file_of_the_module(tmp_path):
    where = folder(tmp_path, "clash")
    found_ = resources(where)
    stream, key = found_["aws_kinesis_stream.orders"], found_["aws_kms_key.stream"]
    assert key.location.file.endswith("keys.tf")
    fix = safe(SetSetting(stream, "encryption_type", "KMS"), SetSetting(stream, "kms_key_id", Link(key)))
    text = fixed(fix, where / "main.tf")  # the key's file is not edited
    assert text == read(str(DATA / "clash" / "main.tf")).replace(
        """\
  name        = "orders"
  shard_count = 1
""",
        """\
  name            = "orders"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.stream.arn
""",
    )
    result = rescan(where, where / "main.tf", text)
    assert found(result, "KDS001") == {"aws_kinesis_stream.events"}


def test_two_new_keys_keep_the_intents_order(tmp_path):
    where = folder(tmp_path, "clash")
    found_ = resources(where)
    events, orders = found_["aws_kinesis_stream.events"], found_["aws_kinesis_stream.orders"]
    first = NewResource("kms_key", "stream", orders)
    second = NewResource("kms_key", "stream", orders)
    fix = Fix("two keys", UNSAFE, (first, second, SetSetting(events, "kms_key_id", Link(second))))
    text = fixed(fix, where / "main.tf")
    assert text == """\
resource "aws_kinesis_stream" "events" {
  name        = "events"
  shard_count = 1
  kms_key_id  = aws_kms_key.stream_3.arn
}
resource "aws_kinesis_stream" "orders" {
  name        = "orders"
  shard_count = 1
}

resource "aws_kms_key" "stream_2" {
  enable_key_rotation = true
}

resource "aws_kms_key" "stream_3" {
  enable_key_rotation = true
}
"""
    rescan(where, where / "main.tf", text)
    # a link to a key that the fix does not add is not written
    other = NewResource("kms_key", "other", orders)
    assert text_edits(safe(SetSetting(events, "kms_key_id", Link(other))), read) is None


# -- line endings and indentation ------------------------------------------------------------


def test_a_crlf_file_stays_crlf(tmp_path):
    where = folder(tmp_path, "clash")
    main = where / "main.tf"
    main.write_bytes(main.read_bytes().replace(b"\n", b"\r\n"))
    stream = resources(where)["aws_kinesis_stream.orders"]
    key = NewResource("kms_key", "orders", stream, "orders")
    fix = Fix("new key", UNSAFE, (SetSetting(stream, "kms_key_id", Link(key)), key))
    text = fixed(fix, main)
    assert text == (
        'resource "aws_kinesis_stream" "events" {\r\n'
        '  name        = "events"\r\n'
        "  shard_count = 1\r\n"
        "}\r\n"
        'resource "aws_kinesis_stream" "orders" {\r\n'
        '  name        = "orders"\r\n'
        "  shard_count = 1\r\n"
        "  kms_key_id  = aws_kms_key.orders.arn\r\n"
        "}\r\n"
        "\r\n"
        'resource "aws_kms_key" "orders" {\r\n'
        '  description         = "orders"\r\n'
        "  enable_key_rotation = true\r\n"
        "}\r\n"
    )
    rescan(where, main, text)


def test_a_file_without_a_last_newline_gets_none_added(tmp_path):
    where = folder(tmp_path, "unaligned")
    main = where / "main.tf"
    main.write_text(read(str(main)).rstrip("\n"))
    stream = resources(where)["aws_kinesis_stream.events"]
    key = NewResource("kms_key", "events", stream)
    fix = Fix("new key", UNSAFE, (SetSetting(stream, "kms_key_id", Link(key)), key))
    text = fixed(fix, main)
    assert text == """\
# Written by hand: one space before every "=".
resource "aws_kinesis_stream" "events" {
  name = "events"
  shard_count = 1
  kms_key_id = aws_kms_key.events.arn
}

resource "aws_kms_key" "events" {
  enable_key_rotation = true
}"""
    rescan(where, main, text)


def test_a_tab_indented_file_gets_tabs(tmp_path):
    where = folder(tmp_path, "tabs")
    found_ = resources(where)
    table, key = found_["aws_dynamodb_table.orders"], found_["aws_kms_key.table"]
    new_key = NewResource("kms_key", "table_2", table, "table")
    fix = Fix(
        "encrypt the table",
        UNSAFE,
        (
            SetSetting(table, "server_side_encryption.enabled", True),
            SetSetting(table, "server_side_encryption.kms_key_arn", Link(new_key)),
            SetSetting(key, "enable_key_rotation", True),
            new_key,
        ),
    )
    text = fixed(fix, where / "main.tf")
    assert text == (
        'resource "aws_dynamodb_table" "orders" {\n'
        '\tname     = "orders"\n'
        '\thash_key = "id"\n'
        "\n"
        "\tattribute {\n"
        '\t\tname = "id"\n'
        '\t\ttype = "S"\n'
        "\t}\n"
        "\n"
        "\tserver_side_encryption {\n"
        "\t\tenabled     = true\n"
        "\t\tkms_key_arn = aws_kms_key.table_2.arn\n"
        "\t}\n"
        "}\n"
        "\n"
        'resource "aws_kms_key" "table_2" {\n'
        '\tdescription         = "table"\n'
        "\tenable_key_rotation = true\n"
        "}\n"
        "\n"
        'resource "aws_kms_key" "table" {\n'
        "\tenable_key_rotation = true\n"
        "}\n"
    )
    rescan(where, where / "main.tf", text)


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address,path",
    [
        ("aws_kinesis_stream.from_variable", "kms_key_id"),  # would override the deployer's input
        ("aws_kinesis_stream.from_local", "kms_key_id"),
        ("aws_kinesis_stream.from_call", "kms_key_id"),
        ("aws_kinesis_stream.conditional", "encryption_type"),
        ("aws_kinesis_stream.interpolated", "kms_key_id"),
        ("aws_kinesis_stream.interpolated", "name"),
        ("aws_kinesis_stream.heredoc", "name"),
        ("aws_dynamodb_table.dynamic", "server_side_encryption.enabled"),  # a dynamic block
        ("aws_dynamodb_table.dynamic", "server_side_encryption"),
        ("aws_dynamodb_table.two_blocks", "attribute.type"),  # which one?
        ("aws_kinesis_firehose_delivery_stream.object", "tags.owner"),  # an attribute, not a block
        ("aws_kinesis_firehose_delivery_stream.object", "extended_s3_configuration"),  # a block
        ("aws_kinesis_firehose_delivery_stream.object", "extended_s3_configuration[0].x[0].y"),
        ("data.aws_iam_policy_document.commented", "statement.actions"),  # a comment inside
    ],
)
def test_refuses_what_it_cannot_write_with_certainty(tmp_path, address, path):
    where = folder(tmp_path, "refusals")
    resource = resources(where)[address]
    assert text_edits(safe(SetSetting(resource, path, "KMS")), read) is None
    # the block itself is found: a setting it leaves out can be added
    assert text_edits(safe(SetSetting(resource, "retention_period", 48)), read)


def test_replaces_a_string_that_only_interpolates_a_resource_reference(tmp_path):
    where = folder(tmp_path, "literals")
    found_ = resources(where)
    stream, key = found_["aws_kinesis_stream.templated"], found_["aws_kms_key.empty"]
    text = fixed(safe(SetSetting(stream, "kms_key_id", Link(key))), where / "main.tf")
    assert text == read(str(DATA / "literals" / "main.tf")).replace(
        'kms_key_id      = "${aws_kms_key.stream.arn}"', "kms_key_id      = aws_kms_key.empty.arn"
    )
    rescan(where, where / "main.tf", text)


def test_replaces_a_list_over_lines_by_a_list_on_one_line(tmp_path):
    where = folder(tmp_path, "refusals")
    document = resources(where)["data.aws_iam_policy_document.commented"]
    source = read(str(where / "main.tf")).replace("# the producer's", "")
    edits = text_edits(safe(SetSetting(document, "statement.actions", ("kinesis:PutRecord",))), lambda path: source)
    assert apply_edits(source, edits).endswith(
        """data "aws_iam_policy_document" "commented" {
  statement {
    actions   = ["kinesis:PutRecord"]
    resources = ["*"]
  }
}
"""
    )


def test_refuses_a_body_on_its_header_line_and_values_it_cannot_write(tmp_path):
    where = folder(tmp_path, "literals")
    found_ = resources(where)
    inline, events = found_["aws_kinesis_stream.inline"], found_["aws_kinesis_stream.events"]
    assert text_edits(safe(SetSetting(inline, "encryption_type", "KMS")), read) is None
    # a value in such a body is still replaced where it stands
    text = fixed(safe(SetSetting(inline, "name", "renamed")), where / "main.tf")
    assert text == read(str(DATA / "literals" / "main.tf")).replace('{ name = "inline" }', '{ name = "renamed" }')
    for value in (None, 1.5, {"a": "b"}, ("a", 1)):
        assert text_edits(safe(SetSetting(events, "encryption_type", value)), read) is None
    assert text_edits(safe(SetSetting(events, "bad path", "KMS")), read) is None
    assert text_edits(safe(NewResource("role", "r", events)), read) is None
    assert text_edits(safe(NewResource("kms_key", "not a name", events)), read) is None
    # all intents or none: one that cannot be written drops the fix
    both = safe(SetSetting(events, "encryption_type", "KMS"), SetSetting(inline, "encryption_type", "KMS"))
    assert text_edits(both, read) is None


def test_refuses_a_block_that_an_override_file_also_writes(tmp_path):
    where = folder(tmp_path, "override")
    found_ = resources(where)
    events, orders = found_["aws_kinesis_stream.events"], found_["aws_kinesis_stream.orders"]
    assert text_edits(safe(SetSetting(events, "encryption_type", "KMS")), read) is None
    assert text_edits(safe(SetSetting(events, "retention_period", 48)), read) is None
    text = fixed(safe(SetSetting(orders, "retention_period", 48)), where / "main.tf")
    assert text == read(str(DATA / "override" / "main.tf")).replace(
        '  name        = "orders"\n  shard_count = 1\n',
        '  name             = "orders"\n  shard_count      = 1\n  retention_period = 48\n',
    )


def test_refuses_json_and_plan_resources(tmp_path):
    where = folder(tmp_path, "json")
    stream = resources(where)["aws_kinesis_stream.events"]
    assert stream.location.file.endswith(".tf.json")
    assert text_edits(safe(SetSetting(stream, "encryption_type", "KMS")), read) is None
    tf_where = folder(tmp_path, "unaligned")
    planned = copy.copy(resources(tf_where)["aws_kinesis_stream.events"])
    planned.source_format = TERRAFORM_PLAN
    assert text_edits(safe(SetSetting(planned, "encryption_type", "KMS")), read) is None
    # a module that `terraform init` downloaded is not the user's to edit
    downloaded = tmp_path / ".terraform" / "modules" / "streams"
    shutil.copytree(tf_where, downloaded)
    stream = resources(downloaded)["aws_kinesis_stream.events"]
    assert text_edits(safe(SetSetting(stream, "encryption_type", "KMS")), read) is None


def test_a_file_changed_since_the_scan_is_read_as_it_is_now(tmp_path):
    """The block is found by its labels in the text ``read`` gives (an editor's buffer), not by
    the scan's line numbers; a block no longer there gives None."""
    where = folder(tmp_path, "unaligned")
    stream = resources(where)["aws_kinesis_stream.events"]
    buffer = "# a new first line\n\n" + read(str(where / "main.tf"))
    edits = text_edits(safe(SetSetting(stream, "shard_count", 2)), lambda path: buffer)
    assert apply_edits(buffer, edits) == buffer.replace("shard_count = 1", "shard_count = 2")
    assert text_edits(safe(SetSetting(stream, "shard_count", 2)), lambda path: "") is None


def test_changes_kept_in_the_offsets_of_the_text_as_read():
    """Changes made one after another (each against the text so far) come out as edits of
    the text as read that never overlap and give the same text; an offset of the text as
    read is found again in the text so far. Seeded, so a failure repeats."""
    rng = random.Random(13)
    for _ in range(3000):
        original = "".join(rng.choice("ab\n") for _ in range(rng.randint(0, 12)))
        file = _File("x.tf", original)
        for _ in range(rng.randint(1, 5)):
            start = rng.randint(0, len(file.text))
            end = rng.randint(start, min(len(file.text), start + 3))
            file.change(start, end, "".join(rng.choice("XY\n") for _ in range(rng.randint(0, 3))))
        assert apply_edits(original, file.edits()) == file.text
        for offset in range(len(original)):
            mapped = file.map(offset)
            replaced = any(start <= offset < end for start, end, _ in file.changes)
            assert (mapped is None) == replaced
            if mapped is not None:
                following = min([start for start, _, _ in file.changes if start >= offset] + [len(original)])
                assert file.text[mapped : mapped + following - offset] == original[offset:following]
