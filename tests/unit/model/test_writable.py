"""The writable twin of a frozen slotted dataclass: same slots, so its objects can become one."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass

import pytest

from nocwise.model.writable import new_object, writable_twin


@dataclass(frozen=True, slots=True)
class _Pair:
    a: int
    b: str


def test_a_filled_twin_becomes_an_equal_frozen_instance() -> None:
    twin = writable_twin(_Pair)
    assert twin.__slots__ == ("a", "b")  # type: ignore[attr-defined]
    obj = new_object(twin)
    obj.a, obj.b = 1, "x"  # type: ignore[attr-defined]
    obj.__class__ = _Pair
    assert obj == _Pair(1, "x")
    with pytest.raises(FrozenInstanceError):
        obj.a = 2  # type: ignore[misc]
