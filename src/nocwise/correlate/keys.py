"""Keys built from alarm fields: ``"fingerprint"``, ``"managed_object"``, ``"labels.cluster"``.

Dedup and flapping key on configurable fields per source; a key function is compiled once per
field list so the hot path is a tuple of attribute reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter

from nocwise.model import Alarm

KeyFn = Callable[[Alarm], str]


def key_function(fields: Sequence[str]) -> KeyFn:
    """A function from an alarm to the ``\\x1f``-joined values of ``fields``.

    >>> from datetime import UTC, datetime
    >>> from nocwise.model import Alarm, EventType, Severity
    >>> a = Alarm("a", "r1", EventType.EQUIPMENT, "fan", Severity.MINOR,
    ...           datetime(2026, 1, 1, tzinfo=UTC), labels={"rack": "7"})
    >>> key_function(["managed_object", "labels.rack"])(a)
    'r1\\x1f7'
    """
    if list(fields) == ["fingerprint"]:
        return _fingerprint  # the default key of dedup and flapping: one C-level read
    getters: list[Callable[[Alarm], object]] = []
    for f in fields:
        if f.startswith("labels."):
            getters.append(_label(f.removeprefix("labels.")))
        elif f.startswith("additional_info."):
            getters.append(_info(f.removeprefix("additional_info.")))
        elif f in Alarm.__dataclass_fields__:
            getters.append(attrgetter(f))
        else:
            raise ValueError(f"unknown alarm field {f!r} in a key")

    def key(a: Alarm) -> str:
        return "\x1f".join(str(g(a)) for g in getters)

    return key


def _label(name: str) -> Callable[[Alarm], object]:
    def get(a: Alarm) -> object:
        return a.labels.get(name, "")

    return get


def _info(name: str) -> Callable[[Alarm], object]:
    def get(a: Alarm) -> object:
        return a.additional_info.get(name, "")

    return get


_fingerprint: KeyFn = attrgetter("fingerprint")


class KeysBySource:
    """Key functions per alarm source, with a default for the rest."""

    def __init__(self, default: Sequence[str], per_source: dict[str, tuple[str, ...]]) -> None:
        self._default = key_function(default)
        self._per_source = {s: key_function(f) for s, f in per_source.items()}

    def __call__(self, a: Alarm) -> str:
        fn = self._per_source.get(a.source, self._default) if self._per_source else self._default
        return fn(a)

    @property
    def function(self) -> KeyFn:
        """One function for every source: the default itself when no source has its own."""
        return self if self._per_source else self._default
