"""Timestamps to and from JSON for stage snapshots; records use the model's one codec."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nocwise.model.codec import (
    alarm_from_dict,
    alarm_to_dict,
    evidence_from_dict,
    evidence_to_dict,
)

__all__ = [
    "alarm_from_dict",
    "alarm_to_dict",
    "evidence_from_dict",
    "evidence_to_dict",
    "must_ts",
    "parse_ts",
    "ts",
]


def ts(value: datetime | None) -> str | None:
    """ISO 8601, or None."""
    return None if value is None else value.isoformat()


def parse_ts(value: Any) -> datetime | None:
    """The inverse of :func:`ts`."""
    return None if value is None else datetime.fromisoformat(str(value))


def must_ts(value: Any) -> datetime:
    """A timestamp that has to be there."""
    return datetime.fromisoformat(str(value))
