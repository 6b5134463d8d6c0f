"""Alarms as 3GPP TS 28.111/28.532 fault supervision, ITU-T X.733 and TMF642 define them.

Lifecycle: raised -> changed* -> cleared (terminal). Acknowledgement is orthogonal to clearing;
an alarm leaves the alarm list when it is both cleared and acknowledged. A clear is never lost.

>>> from datetime import UTC, datetime
>>> t = datetime(2026, 1, 1, tzinfo=UTC)
>>> a = Alarm("a1", "site-1/router-2", EventType.COMMUNICATIONS, "linkDown", Severity.MAJOR, t)
>>> a.is_active, a.clear(t).is_active, a.clear(t).ack("ops", t).in_alarm_list
(True, False, False)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any

from nocwise.model.errors import InvalidRecordError
from nocwise.model.writable import new_object, writable_twin


class Severity(StrEnum):
    """X.733 perceived severity."""

    CRITICAL = "CRITICAL"
    MAJOR = "MAJOR"
    MINOR = "MINOR"
    WARNING = "WARNING"
    INDETERMINATE = "INDETERMINATE"
    CLEARED = "CLEARED"

    @property
    def rank(self) -> int:
        """Higher is worse: CRITICAL 5 ... CLEARED 0."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.CRITICAL: 5,
    Severity.MAJOR: 4,
    Severity.MINOR: 3,
    Severity.WARNING: 2,
    Severity.INDETERMINATE: 1,
    Severity.CLEARED: 0,
}


class EventType(StrEnum):
    """X.733 / 3GPP event types (TMF642 alarmType)."""

    COMMUNICATIONS = "communicationsAlarm"
    QUALITY_OF_SERVICE = "qualityOfServiceAlarm"
    PROCESSING_ERROR = "processingErrorAlarm"
    EQUIPMENT = "equipmentAlarm"
    ENVIRONMENTAL = "environmentalAlarm"
    INTEGRITY_VIOLATION = "integrityViolation"
    OPERATIONAL_VIOLATION = "operationalViolation"
    PHYSICAL_VIOLATION = "physicalViolation"
    SECURITY_VIOLATION = "securityServiceOrMechanismViolation"
    TIME_DOMAIN_VIOLATION = "timeDomainViolation"


class AckState(StrEnum):
    """Acknowledgement state (orthogonal to clearing)."""

    UNACKNOWLEDGED = "unacknowledged"
    ACKNOWLEDGED = "acknowledged"


class Trend(StrEnum):
    """X.733 trend indication."""

    MORE_SEVERE = "moreSevere"
    NO_CHANGE = "noChange"
    LESS_SEVERE = "lessSevere"


@dataclass(frozen=True, slots=True)
class Comment:
    """An operator's note on an alarm."""

    time: datetime
    user_id: str
    text: str


def fingerprint_of(
    source: str, managed_object: str, event_type: str, probable_cause: str, specific_problem: str
) -> str:
    """The identity of "the same problem on the same object": what dedup keys on by default."""
    key = "\x1f".join((source, managed_object, event_type, probable_cause, specific_problem))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Alarm:
    """One alarm on one managed object, as a fault-management system reports it."""

    alarm_id: str
    managed_object: str
    event_type: EventType
    probable_cause: str
    perceived_severity: Severity
    event_time: datetime
    specific_problem: str = ""
    raised_time: datetime | None = None
    changed_time: datetime | None = None
    cleared_time: datetime | None = None
    additional_text: str = ""
    additional_info: Mapping[str, str] = field(default_factory=dict)
    proposed_repair_actions: str = ""
    trend_indication: Trend | None = None
    threshold_info: Mapping[str, str] | None = None
    root_cause_indicator: bool = False
    correlated_notifications: tuple[str, ...] = ()
    ack_state: AckState = AckState.UNACKNOWLEDGED
    ack_user_id: str | None = None
    ack_time: datetime | None = None
    comments: tuple[Comment, ...] = ()
    service_affecting: bool = False
    planned_outage_indicator: bool = False
    source: str = "api"
    fingerprint: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.alarm_id:
            raise InvalidRecordError("alarm_id must not be empty")
        if not self.managed_object:
            raise InvalidRecordError("managed_object must not be empty")
        if self.event_time.tzinfo is None:
            raise InvalidRecordError("event_time must be timezone-aware")
        if not self.fingerprint:
            fp = fingerprint_of(
                self.source,
                self.managed_object,
                self.event_type,
                self.probable_cause,
                self.specific_problem,
            )
            object.__setattr__(self, "fingerprint", fp)
        if self.raised_time is None:
            object.__setattr__(self, "raised_time", self.event_time)
        if self.perceived_severity is Severity.CLEARED and self.cleared_time is None:
            object.__setattr__(self, "cleared_time", self.event_time)

    @property
    def is_cleared(self) -> bool:
        """Cleared is terminal."""
        return self.cleared_time is not None

    @property
    def is_active(self) -> bool:
        """Raised and not yet cleared."""
        return self.cleared_time is None

    @property
    def in_alarm_list(self) -> bool:
        """An alarm stays listed until it is both cleared and acknowledged."""
        return not (self.is_cleared and self.ack_state is AckState.ACKNOWLEDGED)

    def replaced(self, **changes: Any) -> Alarm:
        """``dataclasses.replace`` with the same checks (``__post_init__``), the fields read in
        one call and written straight into the slots: correlation copies an alarm on every
        clear and severity change, and the generated frozen ``__init__`` costs about twice as
        much (one ``object.__setattr__`` by name per field)."""
        values: list[Any] = list(_field_values(self))
        for name, value in changes.items():
            if name not in _FIELD_POSITION:
                raise TypeError(f"Alarm has no field {name!r}")
            values[_FIELD_POSITION[name]] = value
        return _from_values(values)

    def change_severity(self, severity: Severity, at: datetime) -> Alarm:
        """A changed notification; a cleared alarm cannot change any more."""
        if self.is_cleared:
            raise InvalidRecordError(f"alarm {self.alarm_id} is cleared; it cannot change")
        if severity is Severity.CLEARED:
            return self.clear(at)
        old, new = self.perceived_severity.rank, severity.rank
        trend = (
            Trend.MORE_SEVERE if new > old else Trend.LESS_SEVERE if new < old else Trend.NO_CHANGE
        )
        return self.replaced(perceived_severity=severity, changed_time=at, trend_indication=trend)

    def clear(self, at: datetime) -> Alarm:
        """Clear the alarm; clearing twice keeps the first clear time."""
        if self.cleared_time is not None:
            return self
        values: list[Any] = list(_field_values(self))
        values[_SEVERITY_AT] = Severity.CLEARED
        values[_CLEARED_AT] = values[_CHANGED_AT] = at
        return _from_values(values, check=False)  # what __post_init__ checks is unchanged

    def ack(self, user_id: str, at: datetime) -> Alarm:
        """Acknowledge (works on active and cleared alarms alike)."""
        return self.replaced(ack_state=AckState.ACKNOWLEDGED, ack_user_id=user_id, ack_time=at)

    def unack(self, at: datetime | None = None) -> Alarm:
        """Withdraw an acknowledgement at ``at``. A notification that is unacknowledged without
        an ``ack_time`` carries no acknowledgement information and withdraws nothing."""
        return self.replaced(ack_state=AckState.UNACKNOWLEDGED, ack_user_id=None, ack_time=at)

    def keeping_ack_of(self, earlier: Alarm) -> Alarm:
        """This notification, with ``earlier``'s acknowledgement and comments kept unless it
        says otherwise: sources that know nothing of acknowledgement must not undo an
        operator's (TS 28.111: acknowledgement is orthogonal to the alarm's state).

        >>> from datetime import UTC, datetime
        >>> t = datetime(2026, 1, 1, tzinfo=UTC)
        >>> a = Alarm("a1", "csr-1", EventType.COMMUNICATIONS, "linkDown", Severity.MAJOR, t)
        >>> later = a.keeping_ack_of(a.ack("ana", t))
        >>> later.ack_state.value, later.ack_user_id
        ('acknowledged', 'ana')
        >>> a.unack(t).keeping_ack_of(a.ack("ana", t)).ack_state.value
        'unacknowledged'
        """
        out = self
        withdrawn = self.ack_time is not None and (
            earlier.ack_time is None or self.ack_time >= earlier.ack_time
        )
        if (
            earlier.ack_state is AckState.ACKNOWLEDGED
            and self.ack_state is AckState.UNACKNOWLEDGED
            and not withdrawn
        ):
            out = out.replaced(
                ack_state=AckState.ACKNOWLEDGED,
                ack_user_id=earlier.ack_user_id,
                ack_time=earlier.ack_time,
            )
        if earlier.comments:
            known = set(earlier.comments)
            fresh = tuple(c for c in out.comments if c not in known)
            out = out.replaced(comments=(*earlier.comments, *fresh))
        return out

    def comment(self, user_id: str, text: str, at: datetime) -> Alarm:
        """Add an operator comment."""
        return self.replaced(comments=(*self.comments, Comment(at, user_id, text)))


_FIELD_NAMES = tuple(f.name for f in fields(Alarm))
_FIELD_POSITION = {name: i for i, name in enumerate(_FIELD_NAMES)}
_field_values = attrgetter(*_FIELD_NAMES)
_SEVERITY_AT = _FIELD_POSITION["perceived_severity"]
_CLEARED_AT = _FIELD_POSITION["cleared_time"]
_CHANGED_AT = _FIELD_POSITION["changed_time"]
_Unfrozen = writable_twin(Alarm)  # see nocwise.model.writable


def _from_values(values: list[Any], check: bool = True) -> Alarm:
    """``Alarm(*values)``; ``check=False`` skips ``__post_init__`` for a copy that changes
    nothing it checks or derives (a clear of a valid alarm)."""
    new: Any = new_object(_Unfrozen)
    (
        new.alarm_id,
        new.managed_object,
        new.event_type,
        new.probable_cause,
        new.perceived_severity,
        new.event_time,
        new.specific_problem,
        new.raised_time,
        new.changed_time,
        new.cleared_time,
        new.additional_text,
        new.additional_info,
        new.proposed_repair_actions,
        new.trend_indication,
        new.threshold_info,
        new.root_cause_indicator,
        new.correlated_notifications,
        new.ack_state,
        new.ack_user_id,
        new.ack_time,
        new.comments,
        new.service_affecting,
        new.planned_outage_indicator,
        new.source,
        new.fingerprint,
        new.labels,
    ) = values  # in field order (a test checks every field lands where it belongs)
    new.__class__ = Alarm
    if check:
        new.__post_init__()
    alarm: Alarm = new
    return alarm
