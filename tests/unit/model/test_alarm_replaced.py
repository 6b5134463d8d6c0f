"""``Alarm.replaced`` is ``dataclasses.replace`` for alarms, checks included."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from nocwise.model import Alarm, Severity
from nocwise.model.alarm import AckState, Comment, EventType, Trend
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


def test_every_field_lands_where_it_belongs_and_the_copy_stays_frozen() -> None:
    """The copy is filled in field order on a writable twin: a field out of place, or one
    missing from the twin, shows up here."""
    t = [T0 + timedelta(seconds=i) for i in range(5)]
    a = Alarm(
        "a1", "site-1/csr", EventType.EQUIPMENT, "fanFailure", Severity.MINOR, t[0],
        specific_problem="fan 2", raised_time=t[1], changed_time=t[2],
        additional_text="fan 2 stopped", additional_info={"slot": "2"},
        proposed_repair_actions="replace fan", trend_indication=Trend.MORE_SEVERE,
        threshold_info={"rpm": "0"}, root_cause_indicator=True,
        correlated_notifications=("n1",), ack_state=AckState.ACKNOWLEDGED, ack_user_id="ana",
        ack_time=t[3], comments=(Comment(t[4], "ana", "on it"),), service_affecting=True,
        planned_outage_indicator=True, source="ems1", fingerprint="fp-1", labels={"rack": "7"},
    )  # fmt: skip
    values = {f.name: getattr(a, f.name) for f in dataclasses.fields(Alarm)}
    flags = [name for name, v in values.items() if isinstance(v, bool)]
    others = [repr(v) for v in values.values() if not isinstance(v, bool)]
    assert len(set(others)) == len(others)  # every other field distinct
    for flag in flags:  # one flag set at a time: flags cannot trade places either
        one = dataclasses.replace(a, **{f: f == flag for f in flags})
        assert [getattr(one.replaced(), f) for f in flags] == [f == flag for f in flags]
    copy = a.replaced()
    assert type(copy) is Alarm
    assert {f.name: getattr(copy, f.name) for f in dataclasses.fields(Alarm)} == values
    cleared = a.clear(t[4])
    assert type(cleared) is Alarm
    for name, value in values.items():
        if name not in ("perceived_severity", "cleared_time", "changed_time"):
            assert getattr(cleared, name) == value, name
    with pytest.raises(dataclasses.FrozenInstanceError):
        cleared.alarm_id = "b"  # type: ignore[misc]
    assert copy == a
    assert cleared != a
