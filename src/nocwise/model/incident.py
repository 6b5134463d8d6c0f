"""Incidents: a few explained groups of alarms, with hypotheses and impact."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from itertools import islice
from typing import Any, Self, overload

from nocwise.model.writable import new_object, writable_twin

JsonScalar = str | int | float | bool | None


class IncidentState(StrEnum):
    """Incident lifecycle."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One typed piece of evidence: why a decision was made, as data."""

    kind: str
    summary: str
    data: Mapping[str, JsonScalar] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, init=False)
class Member:
    """An alarm in an incident and the reason it is there (built once per alarm grouped, so
    through ``__new__``: see ``nocwise.model.writable``)."""

    alarm_id: str
    reason: str
    added: datetime
    detail: str = ""
    score: float = 1.0

    def __new__(
        cls, alarm_id: str, reason: str, added: datetime, detail: str = "", score: float = 1.0
    ) -> Self:
        new: Any = new_object(_MEMBER_SLOTS)
        new.alarm_id, new.reason, new.added, new.detail, new.score = (
            alarm_id,
            reason,
            added,
            detail,
            score,
        )
        new.__class__ = cls
        made: Self = new
        return made

    def __getnewargs__(self) -> tuple[str, str, datetime, str, float]:
        """Copies and pickles rebuild through ``__new__``, which needs the fields."""
        return (self.alarm_id, self.reason, self.added, self.detail, self.score)


class Members(Sequence[Member]):
    """An incident snapshot's members, read like a tuple (equal to, and hashed as, the tuple
    of the same members): the first ``n`` entries of a list only ever appended to.

    An incident changes every few notifications and is snapshotted each time; while members
    only join, consecutive snapshots share one list and each holds its own length, so a
    snapshot costs O(1) instead of a copy of every member (a removal or a replacement starts
    a new list: an older snapshot never sees a change)."""

    __slots__ = ("_items", "_n")
    _items: list[Member]
    _n: int

    def __init__(self, items: Iterable[Member] = ()) -> None:
        self._items = list(items)
        self._n = len(self._items)

    @classmethod
    def prefix(cls, items: list[Member], n: int) -> Members:
        """The first ``n`` of ``items``, shared: the caller only appends to ``items``."""
        new = object.__new__(cls)
        new._items, new._n = items, n
        return new

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> Member: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Member, ...]: ...

    def __getitem__(self, index: int | slice) -> Member | tuple[Member, ...]:
        if isinstance(index, slice):
            return tuple(self._items[: self._n][index])
        i = index.__index__()
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("members index out of range")
        return self._items[i]

    def __iter__(self) -> Iterator[Member]:
        return islice(self._items, self._n)

    def __reversed__(self) -> Iterator[Member]:
        return reversed(self._items[: self._n])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Members):
            if other._items is self._items:
                return other._n == self._n
            return other._n == self._n and tuple(self) == tuple(other)
        if isinstance(other, tuple):
            return len(other) == self._n and tuple(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))

    def __reduce__(self) -> tuple[type[Members], tuple[tuple[Member, ...]]]:
        """Copies and pickles hold their own list (of the first ``n`` only)."""
        return (Members, (tuple(self),))


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """A candidate root cause, ranked by probability, with evidence."""

    entity_id: str
    fault_type: str
    probability: float
    evidence: tuple[Evidence, ...] = ()
    explanation: str = ""


@dataclass(frozen=True, slots=True)
class Impact:
    """Who is hurt: services and customers reached through CFS -> RFS -> resource."""

    services: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    sla_at_risk: bool = False
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """Something that happened to an incident, and who did it."""

    ts: datetime
    kind: str
    detail: str
    actor: str = "nocwise"


_NO_IMPACT = Impact()  # frozen, so one shared default is as good as a new one each time


@dataclass(frozen=True, slots=True, init=False)
class Incident:
    """A stable group of alarms; its id comes from its first member and never changes.

    Snapshotted for every changed incident on every batch, so built through ``__new__``
    (see ``nocwise.model.writable``)."""

    id: str
    state: IncidentState
    opened: datetime
    updated: datetime
    title: str
    members: Sequence[Member] = ()  # a tuple or ``Members``, equal to each other
    hypotheses: tuple[Hypothesis, ...] = ()
    impact: Impact = _NO_IMPACT
    priority: int = 3
    timeline: tuple[TimelineEntry, ...] = ()
    root_entity_id: str | None = None

    def __new__(
        cls,
        id: str,
        state: IncidentState,
        opened: datetime,
        updated: datetime,
        title: str,
        members: Sequence[Member] = (),
        hypotheses: tuple[Hypothesis, ...] = (),
        impact: Impact = _NO_IMPACT,
        priority: int = 3,
        timeline: tuple[TimelineEntry, ...] = (),
        root_entity_id: str | None = None,
    ) -> Self:
        new: Any = new_object(_INCIDENT_SLOTS)
        new.id, new.state, new.opened, new.updated, new.title, new.members = (
            id,
            state,
            opened,
            updated,
            title,
            members,
        )
        new.hypotheses, new.impact, new.priority, new.timeline, new.root_entity_id = (
            hypotheses,
            impact,
            priority,
            timeline,
            root_entity_id,
        )
        new.__class__ = cls
        made: Self = new
        return made

    def __getnewargs__(self) -> tuple[Any, ...]:
        """Copies and pickles rebuild through ``__new__``, which needs the fields."""
        return tuple(getattr(self, f.name) for f in fields(self))


_MEMBER_SLOTS = writable_twin(Member)
_INCIDENT_SLOTS = writable_twin(Incident)
