"""Operators correct the grouping: merge two incidents, split alarms off into a new one.

Both act on correlation's live incidents, are audited, and are kept as feedback records
(``GET /api/v1/incidents/feedback``) that retraining the grouping reads.
"""

from __future__ import annotations

from fastapi import APIRouter

from nocwise.api.deps import Operator, RuntimeDep, Viewer
from nocwise.api.errors import ApiError
from nocwise.api.schemas import FeedbackOut, GroupingChangeOut, MergeIn, SplitIn

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


@router.get("/feedback", response_model=list[FeedbackOut])
def list_feedback(runtime: RuntimeDep, principal: Viewer) -> list[FeedbackOut]:
    """Every merge and split operators made, oldest first."""
    del principal
    return [FeedbackOut.model_validate(f.to_dict()) for f in runtime.stages.correlator.feedback()]


@router.post("/{incident_id}/merge", response_model=GroupingChangeOut)
async def merge_incident(
    incident_id: str, body: MergeIn, runtime: RuntimeDep, principal: Operator
) -> GroupingChangeOut:
    """Move every alarm of ``from_incident_id`` into this incident and close the other."""
    try:
        changed = await runtime.merge_incidents(
            incident_id, body.from_incident_id, principal.name, principal.role, body.comment
        )
    except LookupError as exc:
        raise ApiError(404, "Not found", _not_live(exc)) from exc
    except ValueError as exc:
        raise ApiError(409, "Conflict", str(exc)) from exc
    return GroupingChangeOut(incident_id=incident_id, changed=changed)


@router.post("/{incident_id}/split", response_model=GroupingChangeOut)
async def split_incident(
    incident_id: str, body: SplitIn, runtime: RuntimeDep, principal: Operator
) -> GroupingChangeOut:
    """Move the listed member alarms into a new incident."""
    try:
        new_id, changed = await runtime.split_incident(
            incident_id, body.alarm_ids, principal.name, principal.role, body.comment
        )
    except LookupError as exc:
        raise ApiError(404, "Not found", _not_live(exc)) from exc
    except ValueError as exc:
        raise ApiError(409, "Conflict", str(exc)) from exc
    return GroupingChangeOut(incident_id=incident_id, new_incident_id=new_id, changed=changed)


def _not_live(exc: LookupError) -> str:
    return f"no incident {exc.args[0]!r} is open in correlation (unknown, or closed and forgotten)"
