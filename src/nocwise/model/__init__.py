"""The canonical model: frozen, slotted records that every stage speaks. No I/O here."""

from nocwise.model.alarm import AckState, Alarm, Comment, EventType, Severity, Trend, fingerprint_of
from nocwise.model.errors import InvalidRecordError
from nocwise.model.incident import (
    Evidence,
    Hypothesis,
    Impact,
    Incident,
    IncidentState,
    Member,
    Members,
    TimelineEntry,
)
from nocwise.model.logs import LogRecord, Span, SpanStatus
from nocwise.model.metrics import MetricBatch, Series
from nocwise.model.operations import (
    Action,
    ActionMode,
    ActionState,
    AuditEvent,
    Change,
    ChangeKind,
    Recommendation,
    RecommendationSource,
    Ticket,
    TicketStatus,
)
from nocwise.model.state import ModelState
from nocwise.model.topology import ENTITY_KINDS, Domain, Entity, Relation, RelationKind

__all__ = [
    "ENTITY_KINDS",
    "AckState",
    "Action",
    "ActionMode",
    "ActionState",
    "Alarm",
    "AuditEvent",
    "Change",
    "ChangeKind",
    "Comment",
    "Domain",
    "Entity",
    "EventType",
    "Evidence",
    "Hypothesis",
    "Impact",
    "Incident",
    "IncidentState",
    "InvalidRecordError",
    "LogRecord",
    "Member",
    "Members",
    "MetricBatch",
    "ModelState",
    "Recommendation",
    "RecommendationSource",
    "Relation",
    "RelationKind",
    "Series",
    "Severity",
    "Span",
    "SpanStatus",
    "Ticket",
    "TicketStatus",
    "TimelineEntry",
    "Trend",
    "fingerprint_of",
]
