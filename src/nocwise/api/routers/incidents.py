"""/api/v1/incidents: ranked lists and one incident with everything that explains it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from nocwise.api.deps import RuntimeDep, Viewer
from nocwise.api.errors import ApiError
from nocwise.api.routers.alarms import alarm_out
from nocwise.api.schemas import (
    HypothesisOut,
    ImpactOut,
    IncidentDetail,
    IncidentSummary,
    MemberOut,
    Page,
    RecommendationOut,
    TimelineOut,
)
from nocwise.model import IncidentState, codec
from nocwise.store.state.repositories import AlarmRepository, IncidentRepository

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


def summary(d: dict[str, Any]) -> IncidentSummary:
    """An incident in a list, from its stored document (``codec.incident_to_dict``)."""
    hypotheses = d.get("hypotheses") or []
    return IncidentSummary.model_validate(
        {
            "id": d["id"],
            "state": d["state"],
            "priority": d["priority"],
            "opened": d["opened"],
            "updated": d["updated"],
            "title": d["title"],
            "root_entity_id": d.get("root_entity_id"),
            "members": len(d["members"]),
            "top_hypothesis": hypotheses[0] if hypotheses else None,
            "impact": d["impact"],
        }
    )


@router.get("", response_model=Page[IncidentSummary])
def list_incidents(
    runtime: RuntimeDep,
    principal: Viewer,
    state: IncidentState | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[IncidentSummary]:
    """Incidents ranked by priority and customer impact."""
    del principal
    with runtime.db.session() as s:
        docs, total = IncidentRepository(s).list_docs(state.value if state else None, limit, offset)
    return Page[IncidentSummary](
        items=[summary(d) for d in docs], total=total, limit=limit, offset=offset
    )


@router.get("/{incident_id}", response_model=IncidentDetail)
def get_incident(incident_id: str, runtime: RuntimeDep, principal: Viewer) -> IncidentDetail:
    """One incident: members (with their alarms), hypotheses, recommendations, impact, timeline."""
    del principal
    with runtime.db.session() as s:
        found = IncidentRepository(s).get(incident_id)
        if found is None:
            raise ApiError(404, "Not found", f"no incident {incident_id!r}")
        incident, recs = found
        alarms = AlarmRepository(s).get_many(m.alarm_id for m in incident.members)
    d = codec.incident_to_dict(incident)
    members = []
    for m in d["members"]:
        a = alarms.get(m["alarm_id"])
        members.append(
            MemberOut.model_validate({**m, "alarm": alarm_out(a, incident.id) if a else None})
        )
    return IncidentDetail(
        id=incident.id,
        state=incident.state.value,
        priority=incident.priority,
        opened=incident.opened,
        updated=incident.updated,
        title=incident.title,
        root_entity_id=incident.root_entity_id,
        members=members,
        hypotheses=[HypothesisOut.model_validate(h) for h in d["hypotheses"]],
        recommendations=[
            RecommendationOut.model_validate(codec.recommendation_to_dict(r)) for r in recs
        ],
        impact=ImpactOut.model_validate(d["impact"]),
        timeline=[TimelineOut.model_validate(t) for t in d["timeline"]],
    )
