"""``Value``: the base of small classes compared by value, cheaper to define than dataclasses.

``@dataclass(frozen=True)`` writes and compiles ``__init__``, ``__eq__``, ``__hash__``,
``__repr__`` and more for each class when its module is imported: about 1 ms a class, which
for the model's, the views' and the rules' classes was a quarter of ``kds-iac scan FILE``.
A subclass names its fields in ``__slots__`` (``"__dict__"`` too if it caches properties) and
writes its ``__init__``; equality, hashing, ``repr`` and ``replace`` come from here, once. A value
that is hashed (a set member, a dict key) is never changed after ``__init__``.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, Callable, TypeVar

_V = TypeVar("_V", bound="Value")


class Value:
    __slots__ = ()
    _fields: tuple[str, ...] = ()  # every slot, base classes' first: the constructor's order
    _compared: tuple[str, ...] = ()  # the fields equality and hashing look at
    _not_compared: tuple[str, ...] = ()  # set by a subclass for fields that are only extras
    _key: Callable[[Any], Any] = staticmethod(lambda value: ())  # the compared fields' values

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        slots = (name for klass in reversed(cls.__mro__) for name in vars(klass).get("__slots__", ()))
        cls._fields = tuple(name for name in slots if not name.startswith("__"))  # not "__dict__"
        cls._compared = tuple(name for name in cls._fields if name not in cls._not_compared)
        if cls._compared:
            cls._key = attrgetter(*cls._compared)  # fast: models compare values in bulk (unique())

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        key = self._key
        return key(self) == key(other)

    def __hash__(self) -> int:
        return hash(self._key(self))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"

    def replace(self: _V, **changes: Any) -> _V:
        """A copy with ``changes``, like ``dataclasses.replace``."""
        values = {name: getattr(self, name) for name in self._fields}
        values.update(changes)
        return type(self)(**values)


def value_kind(value: Any, none: str = "null") -> str:
    """What a settings or template value is, for messages; ``none`` is the word each format uses for None."""
    if value is None:
        return none
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
