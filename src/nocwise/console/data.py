"""What the console pages show, read from the stores; no UI code here so it is testable alone."""

from __future__ import annotations

from typing import Any

from nocwise.runtime.runtime import Runtime
from nocwise.store.state import codec
from nocwise.store.state.repositories import AlarmRepository, IncidentRepository


def incident_rows(runtime: Runtime, limit: int = 200) -> list[dict[str, Any]]:
    """Rows of the incidents table, ranked by priority and impact."""
    with runtime.db.session() as s:
        incidents, _ = IncidentRepository(s).list(limit=limit)
    rows = []
    for i in incidents:
        top = i.hypotheses[0] if i.hypotheses else None
        rows.append(
            {
                "id": i.id,
                "priority": f"P{i.priority}",
                "state": i.state.value,
                "title": i.title,
                "alarms": len(i.members),
                "root_cause": f"{top.entity_id} ({top.probability:.0%})" if top else "-",
                "customers": len(i.impact.customers),
                "updated": i.updated.strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
    return rows


def incident_view(runtime: Runtime, incident_id: str) -> dict[str, Any] | None:
    """Everything the incident page shows."""
    with runtime.db.session() as s:
        found = IncidentRepository(s).get(incident_id)
        if found is None:
            return None
        incident, recs = found
        alarms = AlarmRepository(s).get_many(m.alarm_id for m in incident.members)
    d = codec.incident_to_dict(incident)
    d["recommendations"] = [codec.recommendation_to_dict(r) for r in recs]
    d["alarm_rows"] = [
        {
            "alarm_id": m.alarm_id,
            "entity": alarms[m.alarm_id].managed_object if m.alarm_id in alarms else "?",
            "cause": alarms[m.alarm_id].probable_cause if m.alarm_id in alarms else "?",
            "severity": alarms[m.alarm_id].perceived_severity.value
            if m.alarm_id in alarms
            else "?",
            "time": alarms[m.alarm_id].event_time.strftime("%H:%M:%S")
            if m.alarm_id in alarms
            else "",
            "reason": m.reason,
            "detail": m.detail,
        }
        for m in incident.members[:500]
    ]
    return d
