"""ONAP VES 7.x events -> alarms: ``faultFields`` and ``stndDefined`` 3GPP alarm notifications.

Accepts one ``{"event": ...}`` or a batch ``{"eventList": [...]}``. A fault event's alarm is
identified by source name + alarm condition (+ interface), so ``eventSeverity: NORMAL`` clears
the alarm an earlier event raised. A ``stndDefined`` event whose data is a 3GPP TS 28.532
``notifyNewAlarm`` / ``notifyChangedAlarm`` / ``notifyClearedAlarm`` is identified by the
``systemDN`` and ``alarmId``. Other domains (measurements, heartbeats...) are rejected as
``unsupported`` with the domain in the detail.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from nocwise.ingest.base import (
    BAD_SHAPE,
    BAD_TIME,
    MISSING_FIELD,
    UNSUPPORTED,
    Invalid,
    ParseResult,
    Rejection,
    load_json,
    obj,
    parse_time,
    str_map,
    text,
)
from nocwise.ingest.severity import event_type_of, severity_of
from nocwise.model import Alarm, EventType, InvalidRecordError, Severity, Trend

SOURCE = "ves"


def parse(body: bytes, content_type: str | None = None) -> ParseResult[Alarm]:
    """A VES body (single event or batch) -> alarms; each event is accepted or rejected alone."""
    del content_type
    try:
        doc = obj(load_json(body), "VES body")
        if "eventList" in doc:
            events = doc["eventList"]
            if not isinstance(events, list):
                raise Invalid(BAD_SHAPE, "eventList must be an array")
        elif "event" in doc:
            events = [doc["event"]]
        else:
            raise Invalid(MISSING_FIELD, "body needs event or eventList")
    except Invalid as exc:
        return ParseResult.reject_all(exc.reason, exc.detail)
    result = ParseResult[Alarm]()
    for i, event in enumerate(events):
        try:
            result.records.append(alarm_of(obj(event, "event")))
        except Invalid as exc:
            result.rejections.append(Rejection(exc.reason, exc.detail, i))
    return result


def alarm_of(event: Mapping[str, Any]) -> Alarm:
    """One VES event as an alarm."""
    header = obj(event.get("commonEventHeader"), "commonEventHeader")
    domain = text(header, "domain", required=True)
    try:
        if domain == "fault":
            return _fault(header, obj(event.get("faultFields"), "faultFields"))
        if domain == "stndDefined":
            return _stnd(header, obj(event.get("stndDefinedFields"), "stndDefinedFields"))
    except InvalidRecordError as exc:
        raise Invalid(BAD_SHAPE, str(exc)) from exc
    raise Invalid(UNSUPPORTED, f"VES domain {domain[:40]!r} carries no alarm")


def _micros(header: Mapping[str, Any], key: str) -> datetime | None:
    value = header.get(key)
    if value in (None, "", 0):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(BAD_TIME, f"{key} must be a number of microseconds")
    try:
        return datetime.fromtimestamp(value / 1e6, UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise Invalid(BAD_TIME, f"{key} is out of range") from exc


def _fault(header: Mapping[str, Any], fault: Mapping[str, Any]) -> Alarm:
    source_name = text(header, "sourceName", required=True)
    condition = text(fault, "alarmCondition", required=True)
    interface = text(fault, "alarmInterfaceA")
    word = text(fault, "eventSeverity", required=True)
    severity = Severity.CLEARED if word.upper() == "NORMAL" else severity_of(word)
    start = _micros(header, "startEpochMicrosec")
    last = _micros(header, "lastEpochMicrosec") or start
    if last is None:
        raise Invalid(MISSING_FIELD, "startEpochMicrosec is required")
    managed = f"{source_name}/{interface}" if interface else source_name
    info = str_map(fault.get("alarmAdditionalInformation"), "alarmAdditionalInformation")
    if isinstance(fault.get("alarmAdditionalInformation"), list):
        info = {}
    for key in ("eventId", "eventName", "reportingEntityName", "nfVendorName", "sourceId"):
        if value := text(header, key):
            info[key] = value
    return Alarm(
        alarm_id=f"{SOURCE}:{managed}:{condition}",
        managed_object=managed,
        event_type=event_type_of(text(fault, "eventCategory"), _event_type(fault)),
        probable_cause=condition,
        specific_problem=text(fault, "specificProblem"),
        perceived_severity=severity,
        event_time=last,
        raised_time=start or last,
        additional_text=text(fault, "specificProblem"),
        additional_info=info,
        source=SOURCE,
    )


def _event_type(fault: Mapping[str, Any]) -> EventType:
    source_type = text(fault, "eventSourceType").lower()
    if source_type in ("port", "card", "slot", "host", "router", "switch"):
        return EventType.EQUIPMENT
    return EventType.COMMUNICATIONS


_NOTIFICATIONS = (
    "notifyNewAlarm",
    "notifyChangedAlarm",
    "notifyClearedAlarm",
    "notifyChangedAlarmGeneral",
)


def _stnd(header: Mapping[str, Any], fields: Mapping[str, Any]) -> Alarm:
    data = obj(fields.get("data"), "stndDefinedFields.data")
    kind = text(data, "notificationType", required=True)
    if kind not in _NOTIFICATIONS:
        raise Invalid(UNSUPPORTED, f"3GPP notification {kind[:40]!r} is not an alarm notification")
    system_dn = text(data, "systemDN") or text(header, "reportingEntityName")
    alarm_id = text(data, "alarmId", required=True)
    href = text(data, "href")
    managed = _dn_of(href) or text(header, "sourceName") or system_dn
    if not managed:
        raise Invalid(MISSING_FIELD, "href or sourceName is required")
    when = parse_time(text(data, "eventTime", required=True), "eventTime")
    cleared = kind == "notifyClearedAlarm"
    severity = Severity.CLEARED if cleared else severity_of(text(data, "perceivedSeverity"))
    trend = {t.value: t for t in Trend}.get(text(data, "trendIndication").replace("_", ""))
    info = str_map(data.get("additionalInformation"), "additionalInformation")
    if ref := text(fields, "schemaReference"):
        info["schemaReference"] = ref
    correlated = data.get("correlatedNotifications")
    return Alarm(
        alarm_id=f"{SOURCE}:{system_dn}:{alarm_id}",
        managed_object=managed,
        event_type=event_type_of(text(data, "alarmType"), EventType.COMMUNICATIONS),
        probable_cause=text(data, "probableCause"),
        specific_problem=text(data, "specificProblem"),
        perceived_severity=severity,
        event_time=when,
        additional_text=text(data, "additionalText"),
        additional_info=info,
        proposed_repair_actions=text(data, "proposedRepairActions"),
        trend_indication=trend,
        root_cause_indicator=text(data, "rootCauseIndicator").lower() in ("yes", "true"),
        correlated_notifications=tuple(str(c) for c in correlated)
        if isinstance(correlated, list)
        else (),
        source=SOURCE,
    )


def _dn_of(href: str) -> str:
    """``https://host/.../SubNetwork=1,ManagedElement=2`` -> ``SubNetwork=1,ManagedElement=2``."""
    if not href:
        return ""
    tail = href.rsplit("/", 1)[-1]
    return tail if "=" in tail else href
