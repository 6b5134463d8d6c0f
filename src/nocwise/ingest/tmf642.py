"""TMF642 Alarm Management JSON -> alarms.

Accepts one Alarm resource, an array of them, or a TMF event envelope
(``{"eventType": "AlarmCreateEvent", "event": {"alarm": {...}}}``). The alarm id is
``tmf642:<sourceSystemId>:<id>`` (``externalAlarmId`` when there is no ``id``), so the same alarm
reported again, changed or cleared, upserts one record. ``state: cleared`` or a
``perceivedSeverity`` of ``cleared`` or an ``alarmClearedTime`` clears the alarm.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nocwise.ingest.base import (
    BAD_SHAPE,
    BAD_VALUE,
    MISSING_FIELD,
    Invalid,
    ParseResult,
    Rejection,
    as_list,
    load_json,
    obj,
    parse_time,
    str_map,
    text,
)
from nocwise.ingest.severity import event_type_of, severity_of
from nocwise.model import AckState, Alarm, Comment, EventType, InvalidRecordError, Severity

SOURCE = "tmf642"


def parse(body: bytes, content_type: str | None = None) -> ParseResult[Alarm]:
    """A TMF642 body -> alarms; each malformed alarm is rejected alone."""
    del content_type
    try:
        items = as_list(load_json(body))
    except Invalid as exc:
        return ParseResult.reject_all(exc.reason, exc.detail)
    result = ParseResult[Alarm]()
    for i, item in enumerate(items):
        try:
            result.records.append(alarm_of(_unwrap(obj(item, "alarm"))))
        except Invalid as exc:
            result.rejections.append(Rejection(exc.reason, exc.detail, i))
    return result


def _unwrap(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """The Alarm resource inside a TMF notification envelope, or the document itself."""
    event = doc.get("event")
    if isinstance(event, dict):
        return obj(event.get("alarm"), "event.alarm")
    return doc


def alarm_of(doc: Mapping[str, Any]) -> Alarm:
    """One TMF642 Alarm resource as an alarm."""
    native = text(doc, "id") or text(doc, "externalAlarmId")
    if not native:
        raise Invalid(MISSING_FIELD, "id (or externalAlarmId) is required")
    system = text(doc, "sourceSystemId") or text(doc, "reportingSystemId")
    managed = _managed_object(doc)
    severity_word = text(doc, "perceivedSeverity", required=True)
    severity = severity_of(severity_word, Severity.INDETERMINATE)
    state = text(doc, "state").lower()
    raised = _time(doc, "alarmRaisedTime")
    changed = _time(doc, "alarmChangedTime")
    cleared = _time(doc, "alarmClearedTime")
    event = _time(doc, "eventTime") or _time(doc, "alarmReportingTime") or changed or raised
    if event is None:
        raise Invalid(MISSING_FIELD, "alarmRaisedTime (or eventTime) is required")
    if state == "cleared" or severity is Severity.CLEARED:
        cleared = cleared or changed or event
    if cleared is not None:
        severity = Severity.CLEARED
    ack = text(doc, "ackState").lower()
    threshold = doc.get("crossedThresholdInformation")
    try:
        return Alarm(
            alarm_id=f"{SOURCE}:{system}:{native}",
            managed_object=managed,
            event_type=event_type_of(text(doc, "alarmType"), EventType.QUALITY_OF_SERVICE),
            probable_cause=text(doc, "probableCause"),
            specific_problem=text(doc, "specificProblem"),
            perceived_severity=severity,
            event_time=event,
            raised_time=raised or event,
            changed_time=changed,
            cleared_time=cleared,
            additional_text=text(doc, "alarmDetails") or text(doc, "alarmEscalation"),
            additional_info=_details(doc),
            proposed_repair_actions=text(doc, "proposedRepairedActions")
            or text(doc, "proposedRepairActions"),
            threshold_info=str_map(threshold, "crossedThresholdInformation")
            if threshold is not None
            else None,
            root_cause_indicator=_flag(doc, "isRootCause"),
            correlated_notifications=_refs(doc.get("correlatedAlarm")),
            ack_state=AckState.ACKNOWLEDGED if ack == "acknowledged" else AckState.UNACKNOWLEDGED,
            ack_user_id=text(doc, "ackUserId") or None,
            comments=_comments(doc.get("comment"), event),
            service_affecting=_flag(doc, "serviceAffecting"),
            planned_outage_indicator=_flag(doc, "plannedOutageIndicator"),
            source=system or SOURCE,
            fingerprint=text(doc, "fingerprint"),
        )
    except InvalidRecordError as exc:
        raise Invalid(BAD_SHAPE, str(exc)) from exc


def _managed_object(doc: Mapping[str, Any]) -> str:
    alarmed = doc.get("alarmedObject")
    if isinstance(alarmed, dict):
        value = text(alarmed, "id") or text(alarmed, "href") or text(alarmed, "name")
        if value:
            return value
    elif alarmed not in (None, ""):
        raise Invalid(BAD_SHAPE, "alarmedObject must be an object")
    value = text(doc, "alarmedObjectId") or text(doc, "managedObject")
    if not value:
        raise Invalid(MISSING_FIELD, "alarmedObject.id is required")
    return value


def _time(doc: Mapping[str, Any], key: str) -> datetime | None:
    value = doc.get(key)
    return None if value in (None, "") else parse_time(value, key)


def _flag(doc: Mapping[str, Any], key: str) -> bool:
    value = doc.get(key, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if value is None:
        return False
    raise Invalid(BAD_VALUE, f"{key} must be a boolean")


def _refs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    out = []
    for ref in as_list(value):
        if isinstance(ref, dict) and (rid := ref.get("id")):
            out.append(str(rid))
        elif isinstance(ref, str):
            out.append(ref)
    return tuple(out)


def _comments(value: Any, default_time: datetime) -> tuple[Comment, ...]:
    if value is None:
        return ()
    out = []
    for c in as_list(value):
        c = obj(c, "comment")
        when = _time(c, "time") or default_time
        out.append(Comment(when, text(c, "userId") or text(c, "systemId"), text(c, "comment")))
    return tuple(out)


def _details(doc: Mapping[str, Any]) -> dict[str, str]:
    info: dict[str, str] = {}
    for key in ("alarmReportingTime", "reportingSystemId", "externalAlarmId", "href"):
        if v := text(doc, key):
            info[key] = v
    affected = doc.get("affectedService")
    if affected is not None:
        info["affectedService"] = ",".join(_refs(affected))
    if (details := doc.get("alarmDetails")) is not None and not isinstance(details, str):
        raise Invalid(BAD_VALUE, "alarmDetails must be a string")
    return info
