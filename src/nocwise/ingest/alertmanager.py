"""Alertmanager webhook (payload version 4) -> alarms.

One alert -> one alarm with id ``alertmanager:<fingerprint>``: a resolved notification clears the
alarm that the firing one raised, and a retried webhook upserts the same ids (no duplicates).
Labels: ``severity`` -> perceived severity, ``event_type`` / ``alarm_type`` -> X.733 event type,
``probable_cause`` (else ``alertname``) -> probable cause, the first of ``managed_object``,
``entity``, ``instance``, ``device``, ``host``, ``node``, ``pod``, ``service``, ``job`` -> the
managed object. Annotations ``summary`` / ``description`` -> additional text, ``runbook_url`` /
``remediation`` -> proposed repair actions; all annotations are kept in additional info.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from nocwise.ingest.base import (
    BAD_SHAPE,
    BAD_VALUE,
    MISSING_FIELD,
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
from nocwise.model import Alarm, EventType, InvalidRecordError, Severity

SOURCE = "alertmanager"
_OBJECT_LABELS = (
    "managed_object", "entity", "entity_id", "instance", "device", "host", "hostname", "node",
    "pod", "service", "job",
)  # fmt: skip
_ZERO_TIME = "0001-01-01T00:00:00Z"


def parse(body: bytes, content_type: str | None = None) -> ParseResult[Alarm]:
    """A webhook body -> alarms; each malformed alert is rejected alone."""
    del content_type
    try:
        doc = obj(load_json(body), "webhook body")
        alerts = doc.get("alerts")
        if not isinstance(alerts, list):
            raise Invalid(MISSING_FIELD, "alerts must be an array")
        common = str_map(doc.get("commonLabels"), "commonLabels")
    except Invalid as exc:
        return ParseResult.reject_all(exc.reason, exc.detail)
    result = ParseResult[Alarm]()
    for i, alert in enumerate(alerts):
        try:
            result.records.append(alarm_of(obj(alert, "alert"), common))
        except Invalid as exc:
            result.rejections.append(Rejection(exc.reason, exc.detail, i))
    return result


def alarm_of(alert: Mapping[str, Any], common: Mapping[str, str] | None = None) -> Alarm:
    """One alert object as an alarm."""
    labels = {**(common or {}), **str_map(alert.get("labels"), "labels")}
    if not labels:
        raise Invalid(MISSING_FIELD, "alert has no labels")
    annotations = str_map(alert.get("annotations"), "annotations")
    status = text(alert, "status", default="firing")
    if status not in ("firing", "resolved"):
        raise Invalid(BAD_VALUE, f"status must be firing or resolved, got {status[:40]!r}")
    fp = text(alert, "fingerprint") or _fingerprint(labels)
    starts = parse_time(text(alert, "startsAt", required=True), "startsAt")
    ends_raw = text(alert, "endsAt")
    ends = parse_time(ends_raw, "endsAt") if ends_raw and ends_raw != _ZERO_TIME else None
    resolved = status == "resolved"
    if resolved and ends is None:
        raise Invalid(MISSING_FIELD, "a resolved alert needs endsAt")
    alertname = labels.get("alertname", "")
    managed = next((labels[k] for k in _OBJECT_LABELS if labels.get(k)), "")
    if not managed:
        managed = alertname or "unknown"
    severity = severity_of(labels.get("severity", ""), Severity.WARNING)
    if severity is Severity.CLEARED:
        severity = Severity.INDETERMINATE  # a firing alert labelled "ok" is still active
    info = dict(annotations)
    if url := text(alert, "generatorURL"):
        info["generatorURL"] = url
    try:
        return Alarm(
            alarm_id=f"{SOURCE}:{fp}",
            managed_object=managed,
            event_type=event_type_of(
                labels.get("event_type") or labels.get("alarm_type", ""),
                EventType.QUALITY_OF_SERVICE,
            ),
            probable_cause=labels.get("probable_cause") or alertname,
            specific_problem=alertname,
            perceived_severity=Severity.CLEARED if resolved else severity,
            event_time=ends if resolved and ends is not None else starts,
            raised_time=starts,
            cleared_time=ends if resolved else None,
            additional_text=annotations.get("summary") or annotations.get("description", ""),
            additional_info=info,
            proposed_repair_actions=annotations.get("runbook_url")
            or annotations.get("remediation", ""),
            service_affecting=labels.get("service_affecting", "").lower() == "true",
            source=SOURCE,
            fingerprint=fp,
            labels=labels,
        )
    except InvalidRecordError as exc:
        raise Invalid(BAD_SHAPE, str(exc)) from exc


def _fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's fingerprint is a hash of the sorted label set; ours is stable the same way."""
    key = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(key.encode()).hexdigest()[:16]
