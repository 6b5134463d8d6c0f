"""Changes, tickets, recommendations, actions and the audit trail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from nocwise.model.incident import Evidence, JsonScalar


class ChangeKind(StrEnum):
    """What kind of change: the usual cause of an incident."""

    DEPLOYMENT = "deployment"
    CONFIGURATION = "configuration"
    MAINTENANCE = "maintenance"


@dataclass(frozen=True, slots=True)
class Change:
    """A deployment, configuration push or maintenance on an entity."""

    id: str
    ts: datetime
    entity_id: str
    kind: ChangeKind
    version_before: str = ""
    version_after: str = ""
    description: str = ""
    source: str = "api"
    end: datetime | None = None


class TicketStatus(StrEnum):
    """TMF621 trouble ticket status."""

    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "inProgress"
    PENDING = "pending"
    HELD = "held"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Ticket:
    """A trouble ticket in TMF621 shape; resolved tickets teach remediation."""

    id: str
    name: str
    description: str
    severity: str
    status: TicketStatus
    created: datetime
    external_id: str = ""
    priority: int = 3
    ticket_type: str = "incident"
    related_entities: tuple[str, ...] = ()
    related_alarms: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    resolution: str = ""
    resolved: datetime | None = None


class RecommendationSource(StrEnum):
    """Where a recommendation came from."""

    TICKETS = "tickets"
    RUNBOOK = "runbook"
    MODEL = "model"


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A proposed remediation for an incident, with its evidence."""

    incident_id: str
    action: str
    confidence: float
    source: RecommendationSource
    evidence: tuple[Evidence, ...] = ()
    runbook: str | None = None


class ActionMode(StrEnum):
    """How far automation may go."""

    DRY_RUN = "dry_run"
    APPROVAL = "approval"
    AUTO = "auto"


class ActionState(StrEnum):
    """Action lifecycle."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


@dataclass(frozen=True, slots=True)
class Action:
    """A runbook execution derived from a recommendation."""

    id: str
    recommendation_id: str
    runbook: str
    mode: ActionMode
    state: ActionState
    parameters: Mapping[str, JsonScalar] = field(default_factory=dict)
    results: Mapping[str, JsonScalar] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One append-only, hash-chained entry: who did what to which target."""

    ts: datetime
    actor: str
    role: str
    action: str
    target: str
    detail: str
    prev_hash: str
    hash: str
