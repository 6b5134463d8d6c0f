"""twin_logs suite: which log alarms count for which fault, and the summary figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nocwise.bench.twin_logs import false_alarms, per_fault, summarise
from nocwise.model import Alarm, EventType, Severity
from nocwise.model.topology import Relation, RelationKind
from nocwise.sim.truth import FaultTruth

T0 = datetime(2026, 1, 5, tzinfo=UTC)
RELATIONS = [
    Relation("csr-1", "lnk-1", RelationKind.CONNECTS),
    Relation("lnk-1", "agg-1", RelationKind.CONNECTS),
]


def fault(fid: str, kind: str, root: str, start_h: float, end_h: float, n_logs: int) -> FaultTruth:
    return FaultTruth(
        fid, kind, root, T0 + timedelta(hours=start_h), T0 + timedelta(hours=end_h),
        frozenset(), "fix", n_logs=n_logs,
    )  # fmt: skip


def alarm(entity: str, at_h: float) -> Alarm:
    return Alarm(
        alarm_id=f"a-{entity}-{at_h}", managed_object=entity,
        event_type=EventType.PROCESSING_ERROR, probable_cause="unexpectedLogPattern",
        specific_problem="log rare template", perceived_severity=Severity.MINOR,
        event_time=T0 + timedelta(hours=at_h),
    )  # fmt: skip


FAULTS = [
    fault("F1", "fibre_cut", "lnk-1", 2.0, 3.0, 10),  # found through a link end
    fault("F2", "fibre_cut", "lnk-1", 5.0, 6.0, 10),  # missed: the alarm comes too late
    fault("F3", "misconfiguration", "csr-9", 8.0, 9.0, 1),  # missed
    fault("F4", "amf_overload", "amf-1", 10.0, 11.0, 0),  # not log-visible
    fault("F5", "fibre_cut", "lnk-1", 0.5, 0.7, 10),  # in the warm-up: not scored
]
ALARMS = [
    alarm("agg-1", 2.0 + 1 / 60),  # F1, 60 s late
    alarm("csr-1", 6.5),  # after F2's end + 10 min: false
    alarm("amf-1", 10.5),  # near F4: not false, though F4 is not scored
    alarm("csr-1", 0.6),  # in the warm-up: ignored
]
END = T0 + timedelta(hours=25)


def test_per_fault_matches_alarms_on_neighbours_within_the_window() -> None:
    rows = per_fault(FAULTS, RELATIONS, ALARMS, T0 + timedelta(hours=1), END)
    by_id = {r["fault_id"]: r for r in rows}
    assert "F5" not in by_id
    assert by_id["F1"]["detected"]
    assert by_id["F1"]["alarm_entity"] == "agg-1"
    assert by_id["F1"]["delay_s"] == pytest.approx(60.0)
    assert not by_id["F2"]["detected"]
    assert not by_id["F3"]["detected"]
    assert not by_id["F4"]["log_visible"]


def test_false_alarms_are_near_no_fault_and_after_the_warmup() -> None:
    false = false_alarms(FAULTS, RELATIONS, ALARMS, T0 + timedelta(hours=1), END)
    assert [(a.managed_object, a.event_time) for a in false] == [
        ("csr-1", T0 + timedelta(hours=6.5))
    ]


def test_summary_rates_per_type_and_false_alarms_per_day() -> None:
    scored_from = T0 + timedelta(hours=1)
    rows = per_fault(FAULTS, RELATIONS, ALARMS, scored_from, END)
    s = summarise(rows, FAULTS, RELATIONS, ALARMS, scored_from, END)
    assert s["rate.fibre_cut"] == 0.5
    assert s["rate.misconfiguration"] == 0.0
    assert "rate.amf_overload" not in s
    assert s["rate"] == pytest.approx(1 / 3)
    assert s["delay_s.fibre_cut"] == pytest.approx(60.0)
    assert s["false_log_alarms"] == 1.0
    assert s["false_log_alarms_per_day"] == pytest.approx(1.0)
    assert s["log_alarms"] == 3.0
