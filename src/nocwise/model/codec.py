"""Canonical records <-> JSON-ready dicts: one encoding for the state store, the API and model
snapshots. Explicit, no reflection magic."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nocwise.model import (
    AckState,
    Alarm,
    Change,
    ChangeKind,
    Comment,
    Domain,
    Entity,
    EventType,
    Evidence,
    Hypothesis,
    Impact,
    Incident,
    IncidentState,
    Member,
    Recommendation,
    RecommendationSource,
    Relation,
    RelationKind,
    Severity,
    Ticket,
    TicketStatus,
    TimelineEntry,
    Trend,
)


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def alarm_to_dict(a: Alarm) -> dict[str, Any]:
    """An alarm as a JSON object (TMF642-ish field names in snake case)."""
    return {
        "alarm_id": a.alarm_id,
        "managed_object": a.managed_object,
        "event_type": a.event_type.value,
        "probable_cause": a.probable_cause,
        "specific_problem": a.specific_problem,
        "perceived_severity": a.perceived_severity.value,
        "event_time": _ts(a.event_time),
        "raised_time": _ts(a.raised_time),
        "changed_time": _ts(a.changed_time),
        "cleared_time": _ts(a.cleared_time),
        "additional_text": a.additional_text,
        "additional_info": dict(a.additional_info),
        "proposed_repair_actions": a.proposed_repair_actions,
        "trend_indication": a.trend_indication.value if a.trend_indication else None,
        "threshold_info": dict(a.threshold_info) if a.threshold_info is not None else None,
        "root_cause_indicator": a.root_cause_indicator,
        "correlated_notifications": list(a.correlated_notifications),
        "ack_state": a.ack_state.value,
        "ack_user_id": a.ack_user_id,
        "ack_time": _ts(a.ack_time),
        "comments": [
            {"time": _ts(c.time), "user_id": c.user_id, "text": c.text} for c in a.comments
        ],
        "service_affecting": a.service_affecting,
        "planned_outage_indicator": a.planned_outage_indicator,
        "source": a.source,
        "fingerprint": a.fingerprint,
        "labels": dict(a.labels),
    }


def alarm_from_dict(d: Mapping[str, Any]) -> Alarm:
    """Inverse of :func:`alarm_to_dict` (trusted input: stored rows)."""
    event_time = _dt(d["event_time"])
    assert event_time is not None
    trend = d.get("trend_indication")
    return Alarm(
        alarm_id=d["alarm_id"],
        managed_object=d["managed_object"],
        event_type=EventType(d["event_type"]),
        probable_cause=d["probable_cause"],
        perceived_severity=Severity(d["perceived_severity"]),
        event_time=event_time,
        specific_problem=d.get("specific_problem", ""),
        raised_time=_dt(d.get("raised_time")),
        changed_time=_dt(d.get("changed_time")),
        cleared_time=_dt(d.get("cleared_time")),
        additional_text=d.get("additional_text", ""),
        additional_info=dict(d.get("additional_info") or {}),
        proposed_repair_actions=d.get("proposed_repair_actions", ""),
        trend_indication=Trend(trend) if trend else None,
        threshold_info=d.get("threshold_info"),
        root_cause_indicator=bool(d.get("root_cause_indicator", False)),
        correlated_notifications=tuple(d.get("correlated_notifications") or ()),
        ack_state=AckState(d.get("ack_state", "unacknowledged")),
        ack_user_id=d.get("ack_user_id"),
        ack_time=_dt(d.get("ack_time")),
        comments=tuple(
            Comment(_dt(c["time"]) or event_time, c["user_id"], c["text"])
            for c in d.get("comments") or ()
        ),
        service_affecting=bool(d.get("service_affecting", False)),
        planned_outage_indicator=bool(d.get("planned_outage_indicator", False)),
        source=d.get("source", "api"),
        fingerprint=d.get("fingerprint", ""),
        labels=dict(d.get("labels") or {}),
    )


def evidence_to_dict(e: Evidence) -> dict[str, Any]:
    """Evidence as JSON."""
    return {"kind": e.kind, "summary": e.summary, "data": dict(e.data)}


def evidence_from_dict(d: Mapping[str, Any]) -> Evidence:
    """Inverse of :func:`evidence_to_dict`."""
    return Evidence(d["kind"], d["summary"], dict(d.get("data") or {}))


def hypothesis_to_dict(h: Hypothesis) -> dict[str, Any]:
    """A root-cause hypothesis as JSON."""
    return {
        "entity_id": h.entity_id,
        "fault_type": h.fault_type,
        "probability": h.probability,
        "evidence": [evidence_to_dict(e) for e in h.evidence],
        "explanation": h.explanation,
    }


def hypothesis_from_dict(d: Mapping[str, Any]) -> Hypothesis:
    """Inverse of :func:`hypothesis_to_dict`."""
    return Hypothesis(
        d["entity_id"],
        d["fault_type"],
        float(d["probability"]),
        tuple(evidence_from_dict(e) for e in d.get("evidence") or ()),
        d.get("explanation", ""),
    )


def incident_to_dict(i: Incident) -> dict[str, Any]:
    """An incident with members, hypotheses, impact and timeline as JSON."""
    return {
        "id": i.id,
        "state": i.state.value,
        "opened": _ts(i.opened),
        "updated": _ts(i.updated),
        "title": i.title,
        "priority": i.priority,
        "root_entity_id": i.root_entity_id,
        "members": [
            {
                "alarm_id": m.alarm_id,
                "reason": m.reason,
                "added": _ts(m.added),
                "detail": m.detail,
                "score": m.score,
            }
            for m in i.members
        ],
        "hypotheses": [hypothesis_to_dict(h) for h in i.hypotheses],
        "impact": {
            "services": list(i.impact.services),
            "customers": list(i.impact.customers),
            "sla_at_risk": i.impact.sla_at_risk,
            "score": i.impact.score,
        },
        "timeline": [
            {"ts": _ts(t.ts), "kind": t.kind, "detail": t.detail, "actor": t.actor}
            for t in i.timeline
        ],
    }


def incident_from_dict(d: Mapping[str, Any]) -> Incident:
    """Inverse of :func:`incident_to_dict`."""
    opened = _dt(d["opened"])
    updated = _dt(d["updated"])
    assert opened is not None
    assert updated is not None
    imp = d.get("impact") or {}
    return Incident(
        id=d["id"],
        state=IncidentState(d["state"]),
        opened=opened,
        updated=updated,
        title=d.get("title", ""),
        members=tuple(
            Member(
                m["alarm_id"],
                m["reason"],
                _dt(m["added"]) or opened,
                m.get("detail", ""),
                float(m.get("score", 1.0)),
            )
            for m in d.get("members") or ()
        ),
        hypotheses=tuple(hypothesis_from_dict(h) for h in d.get("hypotheses") or ()),
        impact=Impact(
            tuple(imp.get("services") or ()),
            tuple(imp.get("customers") or ()),
            bool(imp.get("sla_at_risk", False)),
            float(imp.get("score", 0.0)),
        ),
        priority=int(d.get("priority", 3)),
        timeline=tuple(
            TimelineEntry(_dt(t["ts"]) or opened, t["kind"], t["detail"], t.get("actor", "nocwise"))
            for t in d.get("timeline") or ()
        ),
        root_entity_id=d.get("root_entity_id"),
    )


def recommendation_to_dict(r: Recommendation) -> dict[str, Any]:
    """A recommendation as JSON."""
    return {
        "incident_id": r.incident_id,
        "action": r.action,
        "confidence": r.confidence,
        "source": r.source.value,
        "runbook": r.runbook,
        "evidence": [evidence_to_dict(e) for e in r.evidence],
    }


def recommendation_from_dict(d: Mapping[str, Any]) -> Recommendation:
    """Inverse of :func:`recommendation_to_dict`."""
    return Recommendation(
        d["incident_id"],
        d["action"],
        float(d["confidence"]),
        RecommendationSource(d["source"]),
        tuple(evidence_from_dict(e) for e in d.get("evidence") or ()),
        d.get("runbook"),
    )


def entity_to_dict(e: Entity) -> dict[str, Any]:
    """An entity as JSON."""
    return {
        "id": e.id,
        "kind": e.kind,
        "domain": e.domain.value,
        "name": e.name,
        "attributes": dict(e.attributes),
        "labels": dict(e.labels),
    }


def entity_from_dict(d: Mapping[str, Any]) -> Entity:
    """Inverse of :func:`entity_to_dict`."""
    return Entity(
        d["id"],
        d["kind"],
        Domain(d["domain"]),
        d.get("name", ""),
        dict(d.get("attributes") or {}),
        dict(d.get("labels") or {}),
    )


def relation_to_dict(r: Relation) -> dict[str, Any]:
    """A relation as JSON."""
    return {"src": r.src, "dst": r.dst, "kind": r.kind.value}


def relation_from_dict(d: Mapping[str, Any]) -> Relation:
    """Inverse of :func:`relation_to_dict`."""
    return Relation(d["src"], d["dst"], RelationKind(d["kind"]))


def change_to_dict(c: Change) -> dict[str, Any]:
    """A change as JSON."""
    return {
        "id": c.id,
        "ts": _ts(c.ts),
        "entity_id": c.entity_id,
        "kind": c.kind.value,
        "version_before": c.version_before,
        "version_after": c.version_after,
        "description": c.description,
        "source": c.source,
        "end": _ts(c.end),
    }


def change_from_dict(d: Mapping[str, Any]) -> Change:
    """Inverse of :func:`change_to_dict`."""
    ts = _dt(d["ts"])
    assert ts is not None
    return Change(
        d["id"],
        ts,
        d["entity_id"],
        ChangeKind(d["kind"]),
        d.get("version_before", ""),
        d.get("version_after", ""),
        d.get("description", ""),
        d.get("source", "api"),
        _dt(d.get("end")),
    )


def ticket_to_dict(t: Ticket) -> dict[str, Any]:
    """A ticket as JSON (TMF621 fields in snake case)."""
    return {
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "severity": t.severity,
        "status": t.status.value,
        "created": _ts(t.created),
        "external_id": t.external_id,
        "priority": t.priority,
        "ticket_type": t.ticket_type,
        "related_entities": list(t.related_entities),
        "related_alarms": list(t.related_alarms),
        "notes": list(t.notes),
        "resolution": t.resolution,
        "resolved": _ts(t.resolved),
    }


def ticket_from_dict(d: Mapping[str, Any]) -> Ticket:
    """Inverse of :func:`ticket_to_dict`."""
    created = _dt(d["created"])
    assert created is not None
    return Ticket(
        id=d["id"],
        name=d["name"],
        description=d.get("description", ""),
        severity=d.get("severity", ""),
        status=TicketStatus(d["status"]),
        created=created,
        external_id=d.get("external_id", ""),
        priority=int(d.get("priority", 3)),
        ticket_type=d.get("ticket_type", "incident"),
        related_entities=tuple(d.get("related_entities") or ()),
        related_alarms=tuple(d.get("related_alarms") or ()),
        notes=tuple(d.get("notes") or ()),
        resolution=d.get("resolution", ""),
        resolved=_dt(d.get("resolved")),
    )
