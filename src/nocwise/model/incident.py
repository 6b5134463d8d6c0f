"""Incidents: a few explained groups of alarms, with hypotheses and impact."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

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
    members: tuple[Member, ...] = ()
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
        members: tuple[Member, ...] = (),
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
