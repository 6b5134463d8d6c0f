from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from nocwise.ingest import tmf642
from nocwise.ingest.base import REASONS
from nocwise.model import AckState, EventType, Severity

ALARM = {
    "id": "42",
    "sourceSystemId": "ems-1",
    "alarmType": "equipmentAlarm",
    "perceivedSeverity": "major",
    "probableCause": "powerProblem",
    "specificProblem": "PSU 2 failed",
    "alarmedObject": {"id": "site-7/enb-3", "href": "/resource/enb-3"},
    "alarmRaisedTime": "2026-03-01T10:00:00Z",
    "state": "raised",
    "ackState": "unacknowledged",
    "isRootCause": True,
    "serviceAffecting": "true",
    "correlatedAlarm": [{"id": "41"}],
    "comment": [{"comment": "on site", "userId": "ops1", "time": "2026-03-01T10:05:00Z"}],
    "crossedThresholdInformation": {"threshold": "90", "direction": "up"},
}


def test_alarm_resource_maps_onto_the_canonical_alarm() -> None:
    r = tmf642.parse(json.dumps(ALARM).encode())
    assert r.rejections == []
    (a,) = r.records
    assert a.alarm_id == "tmf642:ems-1:42"
    assert a.managed_object == "site-7/enb-3"
    assert a.event_type is EventType.EQUIPMENT
    assert a.perceived_severity is Severity.MAJOR
    assert a.root_cause_indicator
    assert a.service_affecting
    assert a.correlated_notifications == ("41",)
    assert a.comments[0].user_id == "ops1"
    assert a.threshold_info == {"threshold": "90", "direction": "up"}
    assert a.source == "ems-1"


def test_cleared_state_in_an_event_envelope() -> None:
    doc = dict(
        ALARM, state="cleared", alarmClearedTime="2026-03-01T11:00:00Z", ackState="acknowledged"
    )
    env = {"eventType": "AlarmStateChangeEvent", "event": {"alarm": doc}}
    (a,) = tmf642.parse(json.dumps([env]).encode()).records
    assert a.is_cleared
    assert a.cleared_time is not None
    assert a.cleared_time.hour == 11
    assert a.ack_state is AckState.ACKNOWLEDGED
    assert not a.in_alarm_list


def test_missing_object_rejects_only_that_alarm() -> None:
    bad = {k: v for k, v in ALARM.items() if k != "alarmedObject"}
    r = tmf642.parse(json.dumps([ALARM, bad]).encode())
    assert len(r.records) == 1
    assert [(x.reason, x.index) for x in r.rejections] == [("missing_field", 1)]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=4),
    max_leaves=20,
)


@given(st.binary(max_size=300))
def test_fuzz_bytes_never_raise(body: bytes) -> None:
    r = tmf642.parse(body)
    assert all(x.reason in REASONS and x.detail for x in r.rejections)


@given(st.lists(st.dictionaries(st.sampled_from(sorted(ALARM)), json_values), max_size=5))
def test_fuzz_fields_every_alarm_accepted_or_rejected_with_reason(
    items: list[dict[str, object]],
) -> None:
    docs = [dict(ALARM) | item for item in items]
    r = tmf642.parse(json.dumps(docs).encode())
    assert r.accepted + r.rejected == len(docs)
    assert all(x.reason in REASONS and x.detail for x in r.rejections)
