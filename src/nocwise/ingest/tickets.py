"""Trouble tickets -> tickets: ServiceNow-style exports (CSV or JSON) and TMF621 JSON.

ServiceNow exports differ by how they were made: field names as in the table (``number``,
``short_description``, ``state``, ``opened_at``, ``close_notes``, ``cmdb_ci``...), values either
plain or ``{"display_value", "value"}`` pairs, states as words ("In Progress") or numbers (2), and
priorities as "1 - Critical". All of these are read. A JSON document with ``ticketType``,
``creationDate`` or ``@type: TroubleTicket`` is read as TMF621.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nocwise.ingest.base import (
    BAD_ENCODING,
    BAD_VALUE,
    MISSING_FIELD,
    Invalid,
    ParseResult,
    Rejection,
    as_list,
    load_json,
    obj,
    parse_time,
    text,
)
from nocwise.model import Ticket, TicketStatus

_STATUS_WORDS: dict[str, TicketStatus] = {s.value.lower(): s for s in TicketStatus} | {
    "new": TicketStatus.ACKNOWLEDGED, "open": TicketStatus.ACKNOWLEDGED,
    "in progress": TicketStatus.IN_PROGRESS, "work in progress": TicketStatus.IN_PROGRESS,
    "active": TicketStatus.IN_PROGRESS, "assigned": TicketStatus.IN_PROGRESS,
    "on hold": TicketStatus.HELD, "awaiting info": TicketStatus.PENDING,
    "canceled": TicketStatus.CANCELLED, "cancelled": TicketStatus.CANCELLED,
    "1": TicketStatus.ACKNOWLEDGED, "2": TicketStatus.IN_PROGRESS, "3": TicketStatus.HELD,
    "6": TicketStatus.RESOLVED, "7": TicketStatus.CLOSED, "8": TicketStatus.CANCELLED,
}  # fmt: skip
_SN_SEVERITY = {"1": "critical", "2": "major", "3": "minor", "4": "minor", "5": "warning"}


def parse(body: bytes, content_type: str | None = None) -> ParseResult[Ticket]:
    """CSV (by content type or shape) or JSON -> tickets; each row is accepted or rejected alone."""
    stripped = body.lstrip()
    if (content_type and "csv" in content_type.lower()) or not stripped.startswith((b"{", b"[")):
        return parse_csv(body)
    try:
        doc = load_json(body)
    except Invalid as exc:
        return ParseResult.reject_all(exc.reason, exc.detail)
    if isinstance(doc, dict):
        for key in ("records", "result", "tickets"):
            if isinstance(doc.get(key), list):
                doc = doc[key]
                break
    return _rows(as_list(doc))


def parse_csv(body: bytes) -> ParseResult[Ticket]:
    try:
        reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
        rows: list[Any] = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        return ParseResult.reject_all(BAD_ENCODING, f"not UTF-8 CSV: {exc}")
    return _rows(rows)


def _rows(rows: list[Any]) -> ParseResult[Ticket]:
    result = ParseResult[Ticket]()
    for i, row in enumerate(rows):
        try:
            doc = obj(row, "ticket")
            tmf = (
                "ticketType" in doc or "creationDate" in doc or doc.get("@type") == "TroubleTicket"
            )
            result.records.append(tmf621_of(doc) if tmf else servicenow_of(doc))
        except Invalid as exc:
            result.rejections.append(Rejection(exc.reason, exc.detail, i))
    return result


def _sn(doc: Mapping[str, Any], key: str) -> str:
    """A ServiceNow field: plain, or the display value of a {display_value, value} pair."""
    value = doc.get(key)
    if isinstance(value, dict):
        value = value.get("display_value") or value.get("value")
    if value is None:
        return ""
    if isinstance(value, list | dict):
        raise Invalid(BAD_VALUE, f"{key} must be a scalar")
    return str(value).strip()


def _sn_time(doc: Mapping[str, Any], key: str) -> datetime | None:
    value = _sn(doc, key)
    return parse_time(value, key) if value else None


def _status(word: str) -> TicketStatus:
    status = _STATUS_WORDS.get(word.strip().lower())
    if status is None:
        raise Invalid(BAD_VALUE, f"unknown ticket state {word[:40]!r}")
    return status


def _priority(word: str) -> int:
    m = re.match(r"\s*(\d)", word)
    return int(m.group(1)) if m else 3


def servicenow_of(doc: Mapping[str, Any]) -> Ticket:
    number = _sn(doc, "number") or _sn(doc, "sys_id")
    if not number:
        raise Invalid(MISSING_FIELD, "number is required")
    opened = _sn_time(doc, "opened_at") or _sn_time(doc, "sys_created_on")
    if opened is None:
        raise Invalid(MISSING_FIELD, "opened_at is required")
    status = _status(_sn(doc, "state") or "new")
    resolved = _sn_time(doc, "resolved_at") or _sn_time(doc, "closed_at")
    priority = _priority(_sn(doc, "priority"))
    ci = _sn(doc, "cmdb_ci")
    notes = tuple(n for n in (_sn(doc, "work_notes"), _sn(doc, "comments")) if n)
    resolution = " ".join(x for x in (_sn(doc, "close_code"), _sn(doc, "close_notes")) if x)
    return Ticket(
        id=f"servicenow:{number}",
        name=_sn(doc, "short_description") or number,
        description=_sn(doc, "description"),
        severity=_SN_SEVERITY.get(_sn(doc, "severity")[:1] or str(priority), "minor"),
        status=status,
        created=opened,
        external_id=number,
        priority=priority,
        ticket_type=(_sn(doc, "sys_class_name") or "incident").lower(),
        related_entities=(ci,) if ci else (),
        related_alarms=tuple(a for a in _sn(doc, "u_alarm_ids").replace(";", ",").split(",") if a),
        notes=notes,
        resolution=resolution,
        resolved=resolved if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED) else None,
    )


def tmf621_of(doc: Mapping[str, Any]) -> Ticket:
    tid = text(doc, "id", required=True)
    created_raw = doc.get("creationDate")
    if created_raw in (None, ""):
        raise Invalid(MISSING_FIELD, "creationDate is required")
    created = parse_time(created_raw, "creationDate")
    resolved_raw = doc.get("resolutionDate")
    resolved = (
        parse_time(resolved_raw, "resolutionDate") if resolved_raw not in (None, "") else None
    )
    entities: list[str] = []
    alarms: list[str] = []
    for ref in as_list(doc.get("relatedEntity") or []):
        ref = obj(ref, "relatedEntity")
        rid = text(ref, "id")
        if not rid:
            continue
        kind = (text(ref, "@referredType") + text(ref, "role")).lower()
        (alarms if "alarm" in kind else entities).append(rid)
    notes = tuple(text(obj(n, "note"), "text") for n in as_list(doc.get("note") or []))
    prio = doc.get("priority")
    if (prio is not None and not isinstance(prio, int | str)) or isinstance(prio, bool):
        raise Invalid(BAD_VALUE, "priority must be a number or text")
    return Ticket(
        id=f"tmf621:{tid}",
        name=text(doc, "name") or tid,
        description=text(doc, "description"),
        severity=text(doc, "severity", default="minor").lower(),
        status=_status(text(doc, "status", default="acknowledged")),
        created=created,
        external_id=text(doc, "externalId") or tid,
        priority=_priority(str(prio)) if prio is not None else 3,
        ticket_type=text(doc, "ticketType", default="incident"),
        related_entities=tuple(entities),
        related_alarms=tuple(alarms),
        notes=tuple(n for n in notes if n),
        resolution=text(doc, "statusChangeReason") if resolved else "",
        resolved=resolved,
    )


__all__ = ["parse", "parse_csv", "servicenow_of", "tmf621_of"]
