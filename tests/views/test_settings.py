"""Settings tables: a setting is looked up in the resource's own format, never the other's."""

from __future__ import annotations

import pytest

from kds_iac.model import CLOUDFORMATION, TERRAFORM, TERRAFORM_PLAN, Location, Resource
from kds_iac.views.settings import Settings, is_terraform, naming

TABLE = Settings(
    terraform={"user": "user", "sensitive": "sensitive"},
    cloudformation={"user": "UserName", "sensitive": None},
)


def resource(source_format: str, **attributes) -> Resource:
    return Resource("t", "t.a", attributes, Location("main", 1, 2), source_format)


def test_each_format_reads_its_own_column():
    tf, plan, cfn = resource(TERRAFORM, user="a"), resource(TERRAFORM_PLAN, user="a"), resource(CLOUDFORMATION, UserName="b")
    assert [TABLE.name(r, "user") for r in (tf, plan, cfn)] == ["user", "user", "UserName"]
    assert [TABLE.get(r, "user") for r in (tf, plan, cfn)] == ["a", "a", "b"]
    assert [naming(r) for r in (tf, plan, cfn)] == [TERRAFORM, TERRAFORM, CLOUDFORMATION]
    assert [is_terraform(r) for r in (tf, plan, cfn)] == [True, True, False]


def test_the_other_formats_key_is_never_read():
    assert TABLE.get(resource(CLOUDFORMATION, user="a"), "user") is None
    assert TABLE.get(resource(TERRAFORM, UserName="b"), "user", "left out") == "left out"


def test_a_setting_one_format_lacks_is_none_and_an_unknown_key_is_a_bug():
    assert TABLE.name(resource(CLOUDFORMATION, sensitive=True), "sensitive") is None
    assert TABLE.get(resource(CLOUDFORMATION, sensitive=True), "sensitive") is None
    with pytest.raises(KeyError):
        TABLE.name(resource(TERRAFORM), "role")


def test_a_table_names_every_setting_for_both_formats():
    with pytest.raises(ValueError, match="role"):
        Settings(terraform={"user": "user", "role": "role"}, cloudformation={"user": "UserName"})


def test_messages_quote_a_setting_as_its_format_writes_it():
    table = Settings(terraform={"mode": "read_write_type"}, cloudformation={"mode": "ReadWriteType"})
    assert table.written(resource(TERRAFORM), "mode", "ReadOnly") == "read_write_type = ReadOnly"
    assert table.written(resource(CLOUDFORMATION), "mode", "ReadOnly") == "ReadWriteType: ReadOnly"
