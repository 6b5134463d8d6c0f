"""The one JSON codec of canonical records round-trips exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from nocwise.model import (
    Alarm,
    EventType,
    Evidence,
    Hypothesis,
    Incident,
    IncidentState,
    Member,
    Severity,
)
from nocwise.model.codec import (
    alarm_from_dict,
    alarm_to_dict,
    incident_from_dict,
    incident_to_dict,
)

# hypothesis bounds are naive; the drawn values carry UTC
_LOW, _HIGH = datetime(2000, 1, 1), datetime(2100, 1, 1)  # noqa: DTZ001
times = st.datetimes(min_value=_LOW, max_value=_HIGH, timezones=st.just(UTC))
text = st.text(max_size=30)


@st.composite
def alarms(draw: st.DrawFn) -> Alarm:
    t = draw(times)
    a = Alarm(
        alarm_id=draw(text.filter(bool)),
        managed_object=draw(text.filter(bool)),
        event_type=draw(st.sampled_from(EventType)),
        probable_cause=draw(text),
        perceived_severity=draw(
            st.sampled_from([s for s in Severity if s is not Severity.CLEARED])
        ),
        event_time=t,
        specific_problem=draw(text),
        additional_text=draw(text),
        additional_info=draw(st.dictionaries(text, text, max_size=3)),
        service_affecting=draw(st.booleans()),
        labels=draw(st.dictionaries(text, text, max_size=3)),
    )
    if draw(st.booleans()):
        a = a.comment(draw(text), draw(text), t)
    if draw(st.booleans()):
        a = a.ack(draw(text), t)
    if draw(st.booleans()):
        a = a.clear(t)
    return a


@given(alarms())
def test_alarm_round_trips_through_json(a: Alarm) -> None:
    assert alarm_from_dict(json.loads(json.dumps(alarm_to_dict(a)))) == a


@given(alarms(), times)
def test_incident_round_trips_through_json(a: Alarm, t: datetime) -> None:
    inc = Incident(
        id="INC-1",
        state=IncidentState.OPEN,
        opened=t,
        updated=t,
        title="x",
        members=(Member(a.alarm_id, "topology", t, "1 hop", 0.5),),
        hypotheses=(Hypothesis("e", "powerProblem", 0.8, (Evidence("coverage", "s", {"n": 1}),)),),
    )
    assert incident_from_dict(json.loads(json.dumps(incident_to_dict(inc)))) == inc
