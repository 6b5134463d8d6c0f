from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from nocwise.ingest import alertmanager
from nocwise.ingest.base import REASONS
from nocwise.model import EventType, Severity

FIRING = {
    "version": "4",
    "status": "firing",
    "receiver": "nocwise",
    "groupLabels": {"alertname": "LinkDown"},
    "commonLabels": {"alertname": "LinkDown"},
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "LinkDown",
                "instance": "csr-1:9100",
                "severity": "critical",
                "event_type": "communicationsAlarm",
            },
            "annotations": {"summary": "link down on csr-1", "runbook_url": "http://rb/1"},
            "startsAt": "2026-01-01T00:00:00.123456789Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prom/graph",
            "fingerprint": "abc123",
        }
    ],
}


def test_firing_alert_maps_to_an_active_alarm() -> None:
    r = alertmanager.parse(json.dumps(FIRING).encode())
    assert r.rejections == []
    (a,) = r.records
    assert a.alarm_id == "alertmanager:abc123"
    assert a.fingerprint == "abc123"
    assert a.managed_object == "csr-1:9100"
    assert a.perceived_severity is Severity.CRITICAL
    assert a.event_type is EventType.COMMUNICATIONS
    assert a.probable_cause == "LinkDown"
    assert a.additional_text == "link down on csr-1"
    assert a.proposed_repair_actions == "http://rb/1"
    assert a.is_active
    assert a.event_time.year == 2026


def test_resolved_alert_clears_the_same_alarm_id() -> None:
    doc = json.loads(json.dumps(FIRING))
    doc["alerts"][0]["status"] = "resolved"
    doc["alerts"][0]["endsAt"] = "2026-01-01T00:05:00Z"
    (a,) = alertmanager.parse(json.dumps(doc).encode()).records
    assert a.alarm_id == "alertmanager:abc123"
    assert a.is_cleared
    assert a.perceived_severity is Severity.CLEARED
    assert a.cleared_time is not None
    assert a.cleared_time.minute == 5


def test_a_bad_alert_does_not_drop_the_good_one() -> None:
    doc = json.loads(json.dumps(FIRING))
    doc["alerts"].append({"status": "firing", "labels": {"a": "b"}, "startsAt": "yesterday"})
    r = alertmanager.parse(json.dumps(doc).encode())
    assert len(r.records) == 1
    assert [(x.reason, x.index) for x in r.rejections] == [("bad_time", 1)]


def test_missing_fingerprint_is_derived_from_labels_stably() -> None:
    doc = json.loads(json.dumps(FIRING))
    del doc["alerts"][0]["fingerprint"]
    a1 = alertmanager.parse(json.dumps(doc).encode()).records[0]
    a2 = alertmanager.parse(json.dumps(doc).encode()).records[0]
    assert a1.alarm_id == a2.alarm_id
    assert a1.fingerprint


def test_not_json_is_fatal() -> None:
    r = alertmanager.parse(b"{nope")
    assert r.fatal
    assert r.rejections[0].reason == "bad_json"


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
    r = alertmanager.parse(body)
    assert all(x.reason in REASONS and x.detail for x in r.rejections)


@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "status": st.sampled_from(["firing", "resolved", "x"]) | json_values,
                "labels": st.dictionaries(st.text(max_size=8), st.text(max_size=8)) | json_values,
                "annotations": json_values,
                "startsAt": st.sampled_from(["2026-01-01T00:00:00Z", "bad", ""]) | json_values,
                "endsAt": st.sampled_from(["2026-01-01T01:00:00Z", "0001-01-01T00:00:00Z"])
                | json_values,
                "fingerprint": json_values,
            },
        )
        | json_values,
        max_size=5,
    )
)
def test_fuzz_structured_every_alert_accepted_or_rejected_with_reason(alerts: list[object]) -> None:
    r = alertmanager.parse(json.dumps({"alerts": alerts}).encode())
    assert r.accepted + r.rejected == len(alerts)
    assert all(x.reason in REASONS and x.detail and x.index is not None for x in r.rejections)
