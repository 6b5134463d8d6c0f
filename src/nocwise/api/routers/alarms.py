"""/api/v1/alarms: POST canonical JSON (durable before 2xx, partial acceptance), GET with filters."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, ValidationError

from nocwise.api.deps import Operator, RuntimeDep, Viewer
from nocwise.api.errors import ApiError
from nocwise.api.schemas import AckIn, AlarmBatchIn, AlarmIn, AlarmOut, IngestResult, Page, Rejected
from nocwise.model import Alarm, Severity, codec
from nocwise.store.state.repositories import AlarmFilter, AlarmRepository

router = APIRouter(prefix="/api/v1/alarms", tags=["alarms"])

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/AlarmIn"},
                        {"type": "array", "items": {"$ref": "#/components/schemas/AlarmIn"}},
                        {"$ref": "#/components/schemas/AlarmBatchIn"},
                    ]
                }
            }
        },
    }
}


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


def parse_alarms(body: bytes) -> tuple[list[Alarm], list[Rejected], str | None]:
    """Parse one alarm, a list, or ``{"batch_id", "alarms"}``; keep the valid items."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "Malformed JSON", f"the body is not valid JSON: {exc}") from exc
    batch_id: str | None = None
    if isinstance(data, dict) and "alarms" in data:
        head = {k: v for k, v in data.items() if k != "alarms"}
        try:
            batch_id = AlarmBatchIn.model_validate({**head, "alarms": []}).batch_id
        except ValidationError as exc:
            detail = "; ".join(f"{_path(tuple(e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ApiError(422, "Invalid request", detail) from exc
        items = data["alarms"]
        if not isinstance(items, list):
            raise ApiError(422, "Invalid request", "alarms: must be a list of alarm objects")
    elif isinstance(data, list):
        items = data
    elif isinstance(data, dict):
        items = [data]
    else:
        raise ApiError(422, "Invalid request", "expected an alarm object, a list, or a batch")
    if len(items) > 10_000:
        raise ApiError(413, "Payload too large", "at most 10000 alarms per request")
    alarms: list[Alarm] = []
    rejected: list[Rejected] = []
    for i, item in enumerate(items):
        try:
            alarms.append(AlarmIn.model_validate(item).to_model())
        except ValidationError as exc:
            detail = "; ".join(f"{_path(tuple(e['loc']))}: {e['msg']}" for e in exc.errors())
            rejected.append(Rejected(index=i, reason="invalid", detail=detail))
        except ValueError as exc:
            rejected.append(Rejected(index=i, reason="invalid", detail=str(exc)))
    return alarms, rejected, batch_id


@router.post(
    "",
    response_model=IngestResult,
    openapi_extra=_BODY_DOC,
    responses={422: {"description": "Nothing valid in the request"}},
)
async def post_alarms(request: Request, runtime: RuntimeDep, principal: Operator) -> IngestResult:
    """Store alarms durably, then hand them to correlation. Invalid items are reported, valid
    ones kept; a request where nothing is valid gets 422."""
    runtime.check_capacity("alarms")
    alarms, rejected, batch_id = parse_alarms(await request.body())
    for r in rejected:
        runtime.metrics.rejected.labels("api", r.reason).inc()
    if not alarms:
        detail = "; ".join(f"[{r.index}] {r.detail}" for r in rejected[:10]) or "no alarms"
        raise ApiError(
            422, "Invalid request", detail, rejected=[r.model_dump() for r in rejected[:100]]
        )
    fresh = await runtime.ingest_alarms(alarms, batch_id, source="api")
    runtime.audit(
        principal.name,
        principal.role,
        "alarms.create",
        batch_id or alarms[0].alarm_id,
        f"{len(alarms)} alarms",
    )
    return IngestResult(accepted=len(alarms), rejected=rejected, duplicate_batch=not fresh)


def alarm_out(a: Alarm, incident_id: str | None = None) -> AlarmOut:
    """The API view of an alarm."""
    return AlarmOut.model_validate({**codec.alarm_to_dict(a), "incident_id": incident_id})


@router.get("", response_model=Page[AlarmOut])
def list_alarms(
    runtime: RuntimeDep,
    principal: Viewer,
    active: bool | None = None,
    severity: Severity | None = None,
    managed_object: str | None = None,
    source: str | None = None,
    incident_id: str | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[AlarmOut]:
    """Alarms, newest first, filtered."""
    del principal
    f = AlarmFilter(active, severity, managed_object, source, incident_id, since, until)
    with runtime.db.session() as s:
        repo = AlarmRepository(s)
        items, total = repo.list(f, limit, offset)
        owners = repo.incident_of(a.alarm_id for a in items)
    return Page[AlarmOut](
        items=[alarm_out(a, owners.get(a.alarm_id)) for a in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{alarm_id}", response_model=AlarmOut)
def get_alarm(alarm_id: str, runtime: RuntimeDep, principal: Viewer) -> AlarmOut:
    """One alarm."""
    del principal
    with runtime.db.session() as s:
        repo = AlarmRepository(s)
        alarm = repo.get(alarm_id)
        owner = repo.incident_of([alarm_id]).get(alarm_id)
    if alarm is None:
        raise ApiError(404, "Not found", f"no alarm {alarm_id!r}")
    return alarm_out(alarm, owner)


async def _change(
    runtime: RuntimeDep, alarm_id: str, change: str, actor: str, role: str, comment: str
) -> AlarmOut:
    with runtime.db.session() as s:
        alarm = AlarmRepository(s).get(alarm_id)
    if alarm is None:
        raise ApiError(404, "Not found", f"no alarm {alarm_id!r}")
    now: datetime = runtime.clock.now()
    updated = alarm.ack(actor, now) if change == "ack" else alarm.clear(now)
    if comment:
        updated = updated.comment(actor, comment, now)
    await runtime.ingest_alarms([updated], source=alarm.source)
    runtime.audit(actor, role, f"alarm.{change}", alarm_id, comment)
    return alarm_out(updated)


@router.post("/{alarm_id}/ack", response_model=AlarmOut)
async def ack_alarm(
    alarm_id: str, body: AckIn, runtime: RuntimeDep, principal: Operator
) -> AlarmOut:
    """Acknowledge an alarm (clearing is separate)."""
    return await _change(runtime, alarm_id, "ack", principal.name, principal.role, body.comment)


@router.post("/{alarm_id}/clear", response_model=AlarmOut)
async def clear_alarm(
    alarm_id: str, body: AckIn, runtime: RuntimeDep, principal: Operator
) -> AlarmOut:
    """Clear an alarm by hand (terminal)."""
    return await _change(runtime, alarm_id, "clear", principal.name, principal.role, body.comment)
