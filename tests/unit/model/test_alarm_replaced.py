"""``Alarm.replaced`` is ``dataclasses.replace`` for alarms, checks included."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from nocwise.model import Alarm, Severity
from nocwise.model.alarm import EventType
from nocwise.model.errors import InvalidRecordError

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def alarm() -> Alarm:
    return Alarm("a1", "site-1/csr", EventType.COMMUNICATIONS, "linkDown", Severity.MAJOR, T0)


def test_replaced_equals_dataclasses_replace() -> None:
    a = alarm()
    changes = {"perceived_severity": Severity.MINOR, "changed_time": T0 + timedelta(seconds=5)}
    assert a.replaced(**changes) == dataclasses.replace(a, **changes)
    assert a.replaced() == a


def test_replaced_refuses_unknown_fields_and_keeps_the_constructors_checks() -> None:
    a = alarm()
    with pytest.raises(TypeError, match="no field"):
        a.replaced(colour="red")
    with pytest.raises((InvalidRecordError, ValueError)):
        dataclasses.replace(a, alarm_id="")
    with pytest.raises((InvalidRecordError, ValueError)):
        a.replaced(alarm_id="")


def test_clear_and_replaced_match_the_constructor_field_for_field() -> None:
    """Written straight into the slots, the copy still equals what ``Alarm(...)`` builds,
    defaults derived in ``__post_init__`` included."""
    a = dataclasses.replace(alarm(), labels={"rack": "7"}, comments=())
    at = T0 + timedelta(minutes=1)
    cleared = a.clear(at)
    assert cleared == dataclasses.replace(
        a, perceived_severity=Severity.CLEARED, cleared_time=at, changed_time=at
    )
    assert cleared.clear(at + timedelta(seconds=1)) is cleared
    refingerprinted = a.replaced(probable_cause="fanFailure", fingerprint="")
    assert (
        refingerprinted.fingerprint
        == dataclasses.replace(a, probable_cause="fanFailure", fingerprint="").fingerprint
    )
    assert refingerprinted.fingerprint != a.fingerprint
    marked = a.replaced(perceived_severity=Severity.CLEARED, event_time=at)
    assert marked.cleared_time == at
    with pytest.raises(InvalidRecordError):
        a.replaced(event_time=datetime(2026, 1, 1))  # noqa: DTZ001 - the naive time is the point
