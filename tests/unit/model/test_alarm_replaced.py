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
