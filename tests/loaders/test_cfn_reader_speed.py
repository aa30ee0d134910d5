"""The reader's speed-ups must not change what it reads: the resolver shortcut gives PyYAML's
own tags, and pausing the cyclic collector leaves it as it was found."""

from __future__ import annotations

import gc
import random

import pytest
import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from kds_iac import gc_pause
from kds_iac.loaders import cfn_reader

# Every kind of text PyYAML's implicit resolvers look at: nulls, booleans of YAML 1.1, ints in
# each base and with "_" or ":" (sexagesimal), floats, timestamps, merge and value keys.
PLAIN = [
    "", "~", "null", "Null", "NULL", "nULL", "true", "True", "TRUE", "tRUE", "yes", "Yes", "NO", "on", "Off",
    "y", "n", "Y", "N", "12", "-12", "+1_000", "0x1F", "0o17", "017", "0b101", "1:30", "190:20:30", "1.5",
    "-.inf", ".NaN", ".nan", "1e3", "1.0e+3", "6.8523015e+5", "2012-10-17", "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5", "=", "<<", "!", "&a", "*a", "Type", "Allow", "12abc", ".5", "._", "0.", "+.inf",
]


def _variants(count: int) -> list[str]:
    rnd = random.Random(15)
    alphabet = "0123456789.-+_:eExXoObBtTnNyYfFaAlLsS~ "
    return ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 9))) for _ in range(count)]


@pytest.mark.parametrize("implicit", [(True, False), (False, True), (False, False)])
def test_the_resolver_shortcut_gives_pyyamls_tags(implicit):
    ours = cfn_reader._Loader("")
    reference = cfn_reader._BaseLoader("")
    try:
        differing = [
            value
            for value in PLAIN + _variants(5000)
            if ours.resolve(ScalarNode, value, implicit) != reference.resolve(ScalarNode, value, implicit)
        ]
        assert differing == []
        # asked twice: the second answer comes from the cache
        assert [ours.resolve(ScalarNode, v, implicit) for v in PLAIN] == [
            reference.resolve(ScalarNode, v, implicit) for v in PLAIN
        ]
        for kind in (MappingNode, SequenceNode):
            assert ours.resolve(kind, None, implicit) == reference.resolve(kind, None, implicit)
    finally:
        ours.dispose()
        reference.dispose()


def test_typed_scalars_read_as_before():
    data = cfn_reader.read_text(
        "a: 12\nb: 0x1F\nc: 1.5\nd: yes\ne: ~\nf: 2012-10-17\ng: '12'\nh: !!str 12\ni: 1_000\nj: .inf\n"
    ).data
    assert data == {
        "a": 12, "b": 31, "c": 1.5, "d": True, "e": None, "f": "2012-10-17", "g": "12", "h": "12", "i": 1000,
        "j": float("inf"),
    }


@pytest.mark.parametrize("text", ["Resources:\n  A: {Type: X}\n", "Resources: [\n", "a: &x [*x]\n"])
def test_reading_leaves_the_collector_on(text):
    assert gc.isenabled()
    try:
        cfn_reader.read_text(text)
    except cfn_reader.ReadError:
        pass
    assert gc.isenabled()


def test_reading_leaves_a_collector_that_was_off_off():
    gc.disable()
    try:
        cfn_reader.read_text("Resources:\n  A: {Type: X}\n")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_nested_pauses_switch_the_collector_on_when_the_outer_one_ends():
    with gc_pause.paused():
        with gc_pause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
