"""``Value``: what the model's value classes inherit in place of ``@dataclass(frozen=True)``."""

from __future__ import annotations

from kds_iac.model import Encoded, Location, Ref, Unknown
from kds_iac.value import Value


class _Pair(Value):
    __slots__ = ("left", "right", "note")
    _not_compared = ("note",)

    def __init__(self, left: int, right: int = 0, note: str = ""):
        self.left = left
        self.right = right
        self.note = note


def test_equal_and_hashed_by_compared_fields_of_the_same_class():
    assert _Pair(1, 2, "a") == _Pair(1, 2, "b")
    assert hash(_Pair(1, 2, "a")) == hash(_Pair(1, 2, "b"))
    assert _Pair(1, 2) != _Pair(2, 1)
    assert Location("f", 1, 2) == Location("f", 1, 2) and len({Location("f", 1, 2), Location("f", 1, 2)}) == 1
    assert Encoded("r") != Unknown("r") and Unknown("r") != Encoded("r")  # a subclass is another value


def test_fields_follow_the_class_hierarchy_for_repr_and_replace():
    encoded = Encoded("base64 of a template", value="text")
    assert encoded._fields == ("reason", "encoding", "value")
    assert repr(encoded) == "Encoded(reason='base64 of a template', encoding='base64', value='text')"
    assert encoded.replace(value="other") == Encoded("base64 of a template", value="other")
    assert _Pair(1, 2, "kept").replace(right=3).note == "kept"


def test_edges_stay_compared_by_identity():
    target = object()
    assert Ref(target, "arn") != Ref(target, "arn")  # type: ignore[arg-type]
