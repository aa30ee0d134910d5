"""Credential detection on model values: what is a key, what is not, and what is shown."""

from __future__ import annotations

import pytest

from kds_iac.model import Encoded, FromInputs, Input, Location, Ref, Resource, Template, Unknown
from kds_iac.views.credentials import (
    PLACEHOLDER,
    in_setting,
    in_structure,
    in_text,
    mask_key_id,
    named_pairs,
    text_of,
)

KEY_ID = "AKIAIOSFODNN7EXAMPLE"  # AWS's documentation example
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SHA1 = "3f786850e387550fdab836ed7e6dc881de23001b"


def kinds(found):
    return sorted(c.kind for c in found)


def test_access_key_ids_long_term_and_temporary():
    assert kinds(in_text(text_of(f"id={KEY_ID}"), "x")) == ["access key id"]
    assert kinds(in_text(text_of("ASIAIOSFODNN7EXAMPLE"), "x")) == ["access key id"]
    # part of a longer word, or the wrong prefix: not an access key id
    assert in_text(text_of(f"X{KEY_ID}"), "x") == []
    assert in_text(text_of(f"{KEY_ID}9"), "x") == []
    assert in_text(text_of("AIDAIOSFODNN7EXAMPLE"), "x") == []


def test_a_secret_counts_near_a_key_id_or_under_its_name_only():
    assert kinds(in_text(text_of(f"{KEY_ID}\n{SECRET}"), "x")) == ["access key id", "secret access key"]
    assert kinds(in_text(text_of(f"export AWS_SECRET_ACCESS_KEY={SECRET}"), "x")) == ["secret access key"]
    assert in_text(text_of(f"checksum {SECRET}"), "x") == []  # 40 characters alone prove nothing
    assert in_text(text_of(f"{KEY_ID} {SHA1}"), "x")[0].kind == "access key id"  # a hex digest is no secret
    assert len(in_text(text_of(f"{KEY_ID} {SHA1}"), "x")) == 1
    assert kinds(in_setting("AWS_SECRET_ACCESS_KEY", SECRET, "env")) == ["secret access key"]
    assert in_setting("BUILD_SHA", SHA1, "env") == []
    assert in_setting("TOKEN_HASH", SECRET, "env") == []


def test_agent_key_settings_count_templated_but_not_empty():
    templated = text_of(Template(('{"awsAccessKeyId": "', Unknown("var.key has no value"), '", "flows": []}')))
    found = in_text(templated, "user data")
    assert [(c.kind, c.shown) for c in found] == [("agent key setting", "Kinesis Agent setting awsAccessKeyId (templated)")]
    assert in_text(text_of('{"awsAccessKeyId": "", "awsSecretAccessKey": " "}'), "user data") == []
    # outside agent configuration (a setting's value) the key names are just text
    assert in_setting("CONFIG", '{"awsAccessKeyId": "abc"}', "env") == []


def test_unknown_values_are_never_credentials():
    assert in_setting("AWS_SECRET_ACCESS_KEY", Unknown("var.secret has no value"), "env") == []
    no_default = Input("parameter", "Secret", None, False)
    assert in_setting("AWS_SECRET_ACCESS_KEY", FromInputs(Unknown("no default"), (no_default,)), "env") == []
    assert text_of(Unknown("x")) is None


def test_a_default_holding_a_key_names_its_input():
    default = Input("parameter", "ProducerKeyId", KEY_ID, True, Location("t.yaml", 7, 8))
    (found,) = in_setting("AWS_ACCESS_KEY_ID", FromInputs(KEY_ID, (default,)), "env")
    assert found.inputs == (default,)
    assert found.describe() == "env: access key id AKIA**************** (the default of ProducerKeyId)"
    # inside a text, only the part that came from the input names it
    text = text_of(Template(("key=", FromInputs(KEY_ID, (default,)), f" other={KEY_ID}")))
    first, second = in_text(text, "user data")
    assert first.inputs == (default,) and second.inputs == ()


def test_an_iam_access_key_put_in_by_reference():
    key = Resource("aws_iam_access_key", "aws_iam_access_key.app", {}, Location("main.tf", 1, 3), "terraform")
    (found,) = in_setting("AWS_SECRET_ACCESS_KEY", Ref(key, "secret"), "env")
    assert found.shown == "the secret of IAM access key aws_iam_access_key.app" and found.key is key
    (found,) = in_setting("AWS_ACCESS_KEY_ID", Ref(key, "id"), "env")
    assert found.shown == "the id of IAM access key aws_iam_access_key.app"
    (found,) = in_text(text_of(Template(("AWS_SECRET_ACCESS_KEY=", Ref(key, "secret")))), "user data")
    assert found.kind == "IAM access key"


def test_nothing_shown_gives_a_secret_away():
    found = in_text(text_of(f"{KEY_ID} {SECRET}"), "user data") + in_setting("secret_key", SECRET, "argument secret_key")
    assert found
    for credential in found:
        assert SECRET not in credential.describe() and SECRET[:6] not in credential.describe()
        assert KEY_ID not in credential.describe()
    assert mask_key_id(KEY_ID) == "AKIA" + "*" * 16


def test_structures_and_named_pairs():
    definition = {"name": "app", "command": ["run", f"--key={KEY_ID}"], "environment": [{"name": "A", "value": "b"}]}
    assert kinds(in_structure(definition, "container app")) == ["access key id"]
    assert list(named_pairs({"A": "1"}))[0][0] == "A"
    entries = [{"Name": "A", "Value": "1"}, {"name": "B", "value": "2"}, {"x": 1}]
    # a list's entries are read with the keys of its format only, never the other's
    assert [(n, f.value) for n, f in named_pairs(entries, ("Name", "Value"))] == [("A", "1")]
    assert [(n, f.value) for n, f in named_pairs(entries, ("name", "value"))] == [("B", "2")]


def test_text_of_keeps_parts_and_decodes_encoded_values():
    text = text_of(Template(("a", Unknown("x"), "b", 3)), decode=lambda v: v)
    assert text.text == f"a{PLACEHOLDER}b3" and not text.literal(0, 3) and text.literal(2, 4)
    encoded = Encoded("Fn::Base64 of a value known only at deployment", "base64", Template(("x", Unknown("y"))))
    assert text_of(encoded, decode=lambda v: v.value).text == f"x{PLACEHOLDER}"
    assert text_of(encoded) is None  # without a decoder an encoded value is not text


@pytest.mark.parametrize("value", [None, 5, True, {"a": 1}, ["x"]])
def test_text_of_non_text(value):
    assert text_of(value) is None
