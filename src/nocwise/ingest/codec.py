"""Canonical records as plain JSON documents (for storage and replay files).

>>> from datetime import UTC, datetime
>>> from nocwise.model import Change, ChangeKind
>>> to_doc(Change("c1", datetime(2026, 1, 1, tzinfo=UTC), "svc-a", ChangeKind.DEPLOYMENT))["kind"]
'deployment'
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from nocwise.model import Alarm


def to_doc(record: Any) -> dict[str, Any]:
    """A frozen dataclass record -> a JSON-ready dict (datetimes ISO 8601, enums by value)."""
    return {f.name: _plain(getattr(record, f.name)) for f in dataclasses.fields(record)}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_doc(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _t(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def alarm_json(a: Alarm) -> str:
    """The document of an alarm: the same shape as :func:`to_doc`, written out field by field
    because alarms are the one record type stored at 10^4/s."""
    return _ENCODE(
        {
            "alarm_id": a.alarm_id, "managed_object": a.managed_object,
            "event_type": a.event_type.value, "probable_cause": a.probable_cause,
            "perceived_severity": a.perceived_severity.value, "event_time": a.event_time.isoformat(),
            "specific_problem": a.specific_problem, "raised_time": _t(a.raised_time),
            "changed_time": _t(a.changed_time), "cleared_time": _t(a.cleared_time),
            "additional_text": a.additional_text, "additional_info": dict(a.additional_info),
            "proposed_repair_actions": a.proposed_repair_actions,
            "trend_indication": a.trend_indication.value if a.trend_indication else None,
            "threshold_info": None if a.threshold_info is None else dict(a.threshold_info),
            "root_cause_indicator": a.root_cause_indicator,
            "correlated_notifications": list(a.correlated_notifications),
            "ack_state": a.ack_state.value, "ack_user_id": a.ack_user_id, "ack_time": _t(a.ack_time),
            "comments": [{"time": c.time.isoformat(), "user_id": c.user_id, "text": c.text} for c in a.comments],
            "service_affecting": a.service_affecting,
            "planned_outage_indicator": a.planned_outage_indicator, "source": a.source,
            "fingerprint": a.fingerprint, "labels": dict(a.labels),
        }
    )  # fmt: skip


def dumps(record: Any) -> str:
    """Compact JSON of a record."""
    return json.dumps(to_doc(record), separators=(",", ":"), ensure_ascii=False)
