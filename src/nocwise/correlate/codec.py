"""Alarms to and from plain JSON values, for stage snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nocwise.model import AckState, Alarm, Comment, EventType, Evidence, Severity, Trend


def ts(value: datetime | None) -> str | None:
    """ISO 8601, or None."""
    return None if value is None else value.isoformat()


def parse_ts(value: Any) -> datetime | None:
    """The inverse of :func:`ts`."""
    return None if value is None else datetime.fromisoformat(str(value))


def must_ts(value: Any) -> datetime:
    """A timestamp that has to be there."""
    return datetime.fromisoformat(str(value))


def alarm_to_dict(a: Alarm) -> dict[str, Any]:
    """Every field of the alarm as JSON values."""
    return {
        "alarm_id": a.alarm_id,
        "managed_object": a.managed_object,
        "event_type": str(a.event_type),
        "probable_cause": a.probable_cause,
        "perceived_severity": str(a.perceived_severity),
        "event_time": ts(a.event_time),
        "specific_problem": a.specific_problem,
        "raised_time": ts(a.raised_time),
        "changed_time": ts(a.changed_time),
        "cleared_time": ts(a.cleared_time),
        "additional_text": a.additional_text,
        "additional_info": dict(a.additional_info),
        "proposed_repair_actions": a.proposed_repair_actions,
        "trend_indication": None if a.trend_indication is None else str(a.trend_indication),
        "threshold_info": None if a.threshold_info is None else dict(a.threshold_info),
        "root_cause_indicator": a.root_cause_indicator,
        "correlated_notifications": list(a.correlated_notifications),
        "ack_state": str(a.ack_state),
        "ack_user_id": a.ack_user_id,
        "ack_time": ts(a.ack_time),
        "comments": [[ts(c.time), c.user_id, c.text] for c in a.comments],
        "service_affecting": a.service_affecting,
        "planned_outage_indicator": a.planned_outage_indicator,
        "source": a.source,
        "fingerprint": a.fingerprint,
        "labels": dict(a.labels),
    }


def alarm_from_dict(d: dict[str, Any]) -> Alarm:
    """The inverse of :func:`alarm_to_dict`."""
    trend = d["trend_indication"]
    return Alarm(
        alarm_id=d["alarm_id"],
        managed_object=d["managed_object"],
        event_type=EventType(d["event_type"]),
        probable_cause=d["probable_cause"],
        perceived_severity=Severity(d["perceived_severity"]),
        event_time=must_ts(d["event_time"]),
        specific_problem=d["specific_problem"],
        raised_time=parse_ts(d["raised_time"]),
        changed_time=parse_ts(d["changed_time"]),
        cleared_time=parse_ts(d["cleared_time"]),
        additional_text=d["additional_text"],
        additional_info=dict(d["additional_info"]),
        proposed_repair_actions=d["proposed_repair_actions"],
        trend_indication=None if trend is None else Trend(trend),
        threshold_info=None if d["threshold_info"] is None else dict(d["threshold_info"]),
        root_cause_indicator=bool(d["root_cause_indicator"]),
        correlated_notifications=tuple(d["correlated_notifications"]),
        ack_state=AckState(d["ack_state"]),
        ack_user_id=d["ack_user_id"],
        ack_time=parse_ts(d["ack_time"]),
        comments=tuple(Comment(must_ts(t), u, x) for t, u, x in d["comments"]),
        service_affecting=bool(d["service_affecting"]),
        planned_outage_indicator=bool(d["planned_outage_indicator"]),
        source=d["source"],
        fingerprint=d["fingerprint"],
        labels=dict(d["labels"]),
    )


def evidence_to_dict(e: Evidence) -> dict[str, Any]:
    """Evidence as JSON values."""
    return {"kind": e.kind, "summary": e.summary, "data": dict(e.data)}


def evidence_from_dict(d: dict[str, Any]) -> Evidence:
    """The inverse of :func:`evidence_to_dict`."""
    return Evidence(d["kind"], d["summary"], dict(d["data"]))
