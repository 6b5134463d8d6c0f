"""Log records and trace spans."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One log line. ``severity`` is the RFC 5424 level: 0 emergency ... 7 debug."""

    ts: datetime
    message: str
    severity: int = 6
    entity_id: str | None = None
    source: str = ""
    host: str = ""
    app: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    trace_id: str | None = None
    span_id: str | None = None
    template_id: int | None = None


class SpanStatus(StrEnum):
    """OpenTelemetry span status."""

    UNSET = "unset"
    OK = "ok"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Span:
    """One operation in a distributed trace."""

    trace_id: str
    span_id: str
    service: str
    operation: str
    start: datetime
    end: datetime
    parent_id: str | None = None
    status: SpanStatus = SpanStatus.UNSET
    attributes: Mapping[str, str] = field(default_factory=dict)
