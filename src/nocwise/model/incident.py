"""Incidents: a few explained groups of alarms, with hypotheses and impact."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

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


@dataclass(frozen=True, slots=True)
class Member:
    """An alarm in an incident and the reason it is there."""

    alarm_id: str
    reason: str
    added: datetime
    detail: str = ""
    score: float = 1.0


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


@dataclass(frozen=True, slots=True)
class Incident:
    """A stable group of alarms; its id comes from its first member and never changes."""

    id: str
    state: IncidentState
    opened: datetime
    updated: datetime
    title: str
    members: tuple[Member, ...] = ()
    hypotheses: tuple[Hypothesis, ...] = ()
    impact: Impact = field(default_factory=Impact)
    priority: int = 3
    timeline: tuple[TimelineEntry, ...] = ()
    root_entity_id: str | None = None
