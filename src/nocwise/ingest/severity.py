"""Words sources use for severity, mapped onto X.733 perceived severity and event types.

>>> severity_of("crit"), severity_of("P2"), severity_of("nonsense")
(<Severity.CRITICAL: 'CRITICAL'>, <Severity.MAJOR: 'MAJOR'>, <Severity.INDETERMINATE: 'INDETERMINATE'>)
"""

from __future__ import annotations

from nocwise.model import EventType, Severity

_SEVERITY_WORDS: dict[str, Severity] = {
    "critical": Severity.CRITICAL, "crit": Severity.CRITICAL, "fatal": Severity.CRITICAL,
    "emergency": Severity.CRITICAL, "emerg": Severity.CRITICAL, "alert": Severity.CRITICAL,
    "page": Severity.CRITICAL, "p1": Severity.CRITICAL, "disaster": Severity.CRITICAL,
    "major": Severity.MAJOR, "error": Severity.MAJOR, "err": Severity.MAJOR, "high": Severity.MAJOR,
    "p2": Severity.MAJOR,
    "minor": Severity.MINOR, "average": Severity.MINOR, "medium": Severity.MINOR,
    "p3": Severity.MINOR,
    "warning": Severity.WARNING, "warn": Severity.WARNING, "low": Severity.WARNING,
    "p4": Severity.WARNING,
    "info": Severity.INDETERMINATE, "informational": Severity.INDETERMINATE,
    "notice": Severity.INDETERMINATE, "indeterminate": Severity.INDETERMINATE,
    "none": Severity.INDETERMINATE, "unknown": Severity.INDETERMINATE,
    "cleared": Severity.CLEARED, "clear": Severity.CLEARED, "ok": Severity.CLEARED,
    "normal": Severity.CLEARED, "resolved": Severity.CLEARED,
}  # fmt: skip

_EVENT_TYPES: dict[str, EventType] = {e.value.lower(): e for e in EventType}
_EVENT_TYPES.update(
    {
        "communications": EventType.COMMUNICATIONS, "communication": EventType.COMMUNICATIONS,
        "qos": EventType.QUALITY_OF_SERVICE, "qualityofservice": EventType.QUALITY_OF_SERVICE,
        "processingerror": EventType.PROCESSING_ERROR, "processing": EventType.PROCESSING_ERROR,
        "equipment": EventType.EQUIPMENT, "environmental": EventType.ENVIRONMENTAL,
        "environment": EventType.ENVIRONMENTAL, "security": EventType.SECURITY_VIOLATION,
        "securityalarm": EventType.SECURITY_VIOLATION,
    }
)  # fmt: skip


def severity_of(word: str, default: Severity = Severity.INDETERMINATE) -> Severity:
    """A severity word (any case) as X.733; unknown words give ``default``."""
    return _SEVERITY_WORDS.get(word.strip().lower(), default)


def event_type_of(word: str, default: EventType = EventType.QUALITY_OF_SERVICE) -> EventType:
    """An X.733 / 3GPP / TMF642 event type name (any case); unknown names give ``default``."""
    key = word.strip().replace("_", "").replace(" ", "").replace("-", "").lower()
    return _EVENT_TYPES.get(key, default)
