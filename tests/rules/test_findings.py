"""A finding's message kept as a shared ``AroundAddress`` reads, compares and merges as the
same text written out; ``one_per_place`` merges exactly the findings of one rule, file and
line whose messages agree once addresses and module paths are taken out."""

from __future__ import annotations

import itertools
import pickle

from kds_iac import engine
from kds_iac.model import Condition, Location, Resource
from kds_iac.rules.base import (
    AroundAddress,
    Finding,
    Rule,
    Severity,
    SharedMessages,
    _one_per_place_unordered,
    one_per_place,
)

RULE = Rule("KDS901", "CKV_KDS_901", Severity.HIGH, "Stream is not encrypted", ("aws_kinesis_stream",), "ENCRYPTION")
OTHER = Rule("KDS902", "CKV_KDS_902", Severity.LOW, "Stream is short-lived", ("aws_kinesis_stream",), "ENCRYPTION")


def stream(address: str, start: int = 3, file: str = "mod/main.tf", condition: Condition | None = None, fmt: str = "terraform") -> Resource:
    return Resource(
        type="aws_kinesis_stream" if fmt == "terraform" else "AWS::Kinesis::Stream",
        address=address,
        attributes={},
        location=Location(file, start, start + 4),
        source_format=fmt,
        condition=condition,
    )


def test_a_shared_message_reads_as_the_text_written_out():
    resource = stream("module.a.aws_kinesis_stream.s")
    shared = Finding(RULE, resource, AroundAddress("stream ", " is bad"), line=4)
    written = Finding(RULE, resource, "stream module.a.aws_kinesis_stream.s is bad", line=4)
    assert shared.message == "stream module.a.aws_kinesis_stream.s is bad"
    assert shared == written and hash(shared) == hash(written)
    assert repr(shared) == repr(written)
    assert "message='stream module.a.aws_kinesis_stream.s is bad'" in repr(shared)
    assert pickle.loads(pickle.dumps(shared)).message == written.message


def test_a_gated_resource_gets_its_condition_after_a_shared_message():
    gate = Condition("var.create", None)
    resource = stream("aws_kinesis_stream.s", condition=gate)
    shared = Finding(RULE, resource, AroundAddress("stream ", " is bad"))
    assert shared.message == "stream aws_kinesis_stream.s is bad; when created: var.create"
    assert shared.message == Finding(RULE, resource, "stream aws_kinesis_stream.s is bad").message


def test_shared_messages_hand_out_one_object_per_text():
    messages = SharedMessages()
    first = messages.around("stream ", " is" + " bad")
    assert messages.around("stream ", " is bad") is first
    assert messages.around("stream ", " is worse") is not first
    assert messages.around("stream ", " is worse").text(stream("x")) == "stream x is worse"


def place(findings: list[Finding]) -> list[tuple[str, str, int, str, tuple[str, ...]]]:
    return [(f.rule.id, f.address, f.primary_line, f.message, f.instances) for f in findings]


def test_one_per_place_merges_instances_whose_messages_differ_only_in_place():
    a = stream('module.a["x"].aws_kinesis_stream.s')
    b = stream("module.b.aws_kinesis_stream.s")
    c = stream("module.c.aws_kinesis_stream.s")
    alone = stream("aws_kinesis_stream.t", start=20)
    findings = [
        Finding(RULE, a, AroundAddress("stream ", ' reads module.a["x"]: var.key')),
        Finding(OTHER, a, AroundAddress("stream ", ' reads module.a["x"]: var.key')),  # another rule: its own
        Finding(RULE, b, "stream module.b.aws_kinesis_stream.s reads module.b.var.key"),
        Finding(RULE, c, AroundAddress("stream ", " reads var.other")),  # differs in substance
        Finding(RULE, b, "stream module.b.aws_kinesis_stream.s reads module.b.var.key"),  # named once
        Finding(RULE, stream("module.d.aws_kinesis_stream.s"), "stream module.d.aws_kinesis_stream.s reads var.key", line=9),
        Finding(RULE, alone, "stream aws_kinesis_stream.t reads var.key"),
    ]
    assert place(one_per_place(findings)) == [
        ("KDS901", 'module.a["x"].aws_kinesis_stream.s', 3, 'stream module.a["x"].aws_kinesis_stream.s reads module.a["x"]: var.key',
         ("module.b.aws_kinesis_stream.s",)),
        ("KDS902", 'module.a["x"].aws_kinesis_stream.s', 3, 'stream module.a["x"].aws_kinesis_stream.s reads module.a["x"]: var.key', ()),
        ("KDS901", "module.c.aws_kinesis_stream.s", 3, "stream module.c.aws_kinesis_stream.s reads var.other", ()),
        ("KDS901", "module.d.aws_kinesis_stream.s", 9, "stream module.d.aws_kinesis_stream.s reads var.key", ()),
        ("KDS901", "aws_kinesis_stream.t", 20, "stream aws_kinesis_stream.t reads var.key", ()),
    ]


def test_one_per_place_takes_the_nested_stack_out_of_cloudformation_messages_only():
    nested = stream("Parent/Orders", file="child.yaml", fmt="cloudformation")
    own = stream("Orders", file="child.yaml", fmt="cloudformation")
    keyed = stream('aws_kinesis_stream.s["a/b"]', file="k.tf")
    keyed_too = stream('aws_kinesis_stream.s["a/c"]', file="k.tf")
    findings = [
        Finding(RULE, nested, AroundAddress("stream ", " uses key Parent/Key")),
        Finding(RULE, own, "stream Orders uses key Key"),
        # a Terraform key holding "/" is no stack: taking 'aws_kinesis_stream.s["a/' out would merge these
        Finding(RULE, keyed, AroundAddress("stream ", ' uses aws_kinesis_stream.s["a/k"]')),
        Finding(RULE, keyed_too, AroundAddress("stream ", ' uses k"]')),
    ]
    assert place(one_per_place(findings)) == [
        ("KDS901", "Parent/Orders", 3, "stream Parent/Orders uses key Parent/Key", ("Orders",)),
        ("KDS901", 'aws_kinesis_stream.s["a/b"]', 3, 'stream aws_kinesis_stream.s["a/b"] uses aws_kinesis_stream.s["a/k"]', ()),
        ("KDS901", 'aws_kinesis_stream.s["a/c"]', 3, 'stream aws_kinesis_stream.s["a/c"] uses k"]', ()),
    ]


def many_places() -> list[Finding]:
    """Fresh findings (``one_per_place`` names instances in them): places shared by rules,
    instances and messages, in two files."""
    found = []
    for file, start, rule, call, words in itertools.product(
        ("a.tf", "b.tf"), (3, 40), (RULE, OTHER), ("x", "y", "z"), ("reads var.key", "reads var.other")
    ):
        resource = stream(f"module.{call}.aws_kinesis_stream.s", start=start, file=file)
        found.append(Finding(rule, resource, AroundAddress("stream ", f" {words} from module.{call}.input")))
        found.append(Finding(rule, resource, "a message of its own", line=start + 1))
    return found


def test_run_rules_order_is_the_order_of_file_line_rule_and_address():
    def key(f: Finding) -> tuple:
        return (f.location.file, f.primary_line, f.rule.id, f.address)

    found = many_places()
    for order in (found, found[::-1], found[1::2] + found[::2]):
        ordered = list(order)
        engine._sort(ordered)
        assert [id(f) for f in ordered] == [id(f) for f in sorted(order, key=key)]  # ties keep their order


def test_one_per_place_in_run_rules_order_merges_as_in_any_order():
    def outcome(findings: list[Finding]) -> list[tuple]:
        return [(f.rule.id, f.address, f.primary_line, f.message, f.instances) for f in findings]

    ordered, again = many_places(), many_places()
    engine._sort(ordered)
    engine._sort(again)
    merged = outcome(one_per_place(ordered))
    assert merged == outcome(_one_per_place_unordered(again))
    x, y_and_z = "module.x.aws_kinesis_stream.s", ("module.y.aws_kinesis_stream.s", "module.z.aws_kinesis_stream.s")
    assert {(f.rule.id, f.location.file, f.primary_line, f.address, f.instances) for f in one_per_place(many_places())} == {
        (rule.id, file, line, x, y_and_z) for file, line, rule in itertools.product(("a.tf", "b.tf"), (3, 4, 40, 41), (RULE, OTHER))
    }
    assert ("KDS901", x, 3, f"stream {x} reads var.other from module.x.input", y_and_z) in merged


def test_one_per_place_out_of_order_after_an_ordered_start_names_each_instance_once():
    found = many_places()
    engine._sort(found)
    shuffled = found[: len(found) // 2] + found[: len(found) // 2 - 1 : -1]  # ordered, then backwards
    expected = many_places()
    engine._sort(expected)
    expected = expected[: len(expected) // 2] + expected[: len(expected) // 2 - 1 : -1]
    assert [(f.address, f.message, f.instances) for f in one_per_place(shuffled)] == [
        (f.address, f.message, f.instances) for f in _one_per_place_unordered(expected)
    ]
