"""Acceptance timelines: the whole chain on a ManualClock, one operational story per test."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from nocwise.clock import ManualClock
from nocwise.correlate.base import Verdict
from nocwise.correlate.config import CorrelateConfig
from nocwise.correlate.dedup import DedupReason
from nocwise.correlate.flapping import FlappingConfig, FlappingReason
from nocwise.correlate.group import GroupReason
from nocwise.correlate.lifecycle import LifecycleReason
from nocwise.correlate.mute import MuteReason
from nocwise.correlate.pipeline import Correlator, ProcessResult, build_correlator
from nocwise.correlate.suppress import SuppressReason
from nocwise.correlate.synthetic import clear_alarm, raise_alarm
from nocwise.model import Alarm, Change, ChangeKind, Incident, IncidentState, Severity
from nocwise.topology.graph import TopologyGraph

S = timedelta(seconds=1)
M = timedelta(minutes=1)


class Timeline:
    """Feeds notifications at clock times and fires timers, as the runtime does."""

    def __init__(
        self, clock: ManualClock, topo: TopologyGraph, config: CorrelateConfig | None = None
    ) -> None:
        self.clock = clock
        self.start = clock.now()
        self.corr: Correlator = build_correlator(config or CorrelateConfig(), topo)
        self.published: dict[str, Incident] = {}

    def at(self, offset: timedelta, *alarms: Alarm) -> ProcessResult:
        self.clock.set(self.start + offset)
        res = self.corr.process(list(alarms), self.clock.now())
        self._keep(res.incidents)
        return res

    def tick(self, offset: timedelta) -> list[Incident]:
        self.clock.set(self.start + offset)
        incs = self.corr.tick(self.clock.now())
        self._keep(incs)
        return incs

    def _keep(self, incs: list[Incident]) -> None:
        for i in incs:
            self.published[i.id] = i


_START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)  # the ``clock`` fixture's start


@pytest.fixture
def tl(clock: ManualClock, topo: TopologyGraph) -> Timeline:
    return Timeline(clock, topo)


def t(minutes: float = 0, seconds: float = 0) -> timedelta:
    return timedelta(minutes=minutes, seconds=seconds)


def at_time(minutes: float = 0, seconds: float = 0) -> datetime:
    return _START + t(minutes, seconds)


def test_dedup_a_source_repeating_one_problem_under_new_ids_is_one_alarm(tl: Timeline) -> None:
    first = raise_alarm("e1", "s1/csr", "linkDown", at_time(0))
    res = tl.at(
        t(0),
        first,
        *(raise_alarm(f"e{i}", "s1/csr", "linkDown", at_time(0, i)) for i in range(2, 6)),
    )
    dups = [
        v
        for v in res.alarms
        if any(d.reason is DedupReason.DUPLICATE_FINGERPRINT for d in v.decisions)
    ]
    assert len(dups) == 4
    tl.tick(t(1))
    (inc,) = tl.published.values()
    assert [m.alarm_id for m in inc.members] == ["e1"]
    assert tl.corr.funnel()["grouped"] == 1


def test_flapping_port_becomes_one_flapping_state_then_settles(
    clock: ManualClock, topo: TopologyGraph
) -> None:
    cfg = CorrelateConfig(flapping=FlappingConfig(max_transitions=4, quiet=timedelta(minutes=5)))
    tl = Timeline(clock, topo, cfg)
    ids = []
    for k in range(5):
        a = raise_alarm(f"f{k}", "s2/link", "lossOfSignal", at_time(k))
        ids.append(a.alarm_id)
        tl.at(t(k), a)
        res = tl.at(t(k, 30), clear_alarm(a, at_time(k, 30)))
        assert [v.alarm.alarm_id for v in res.alarms] == [a.alarm_id]  # every clear is seen
        assert res.alarms[0].alarm.is_cleared
    last = raise_alarm("f-last", "s2/link", "lossOfSignal", at_time(5))
    res = tl.at(t(5), last)
    assert res.alarms[0].is_flapping
    assert res.alarms[0].is_held
    assert tl.corr.alarm("f-last").incident_id is None  # type: ignore[union-attr]
    tl.tick(t(11))  # quiet for 6 minutes: flapping ends, the still-active alarm goes on
    view = tl.corr.alarm("f-last")
    assert view is not None
    assert any(d.reason is FlappingReason.FLAPPING_ENDED for d in view.decisions)
    assert view.incident_id is not None
    reasons = tl.corr.funnel()
    assert reasons["decisions.flapping.flapping_started"] == 1


def test_maintenance_from_a_change_ticket_mutes_the_router_and_its_cells(tl: Timeline) -> None:
    window = tl.corr.add_change(
        Change(
            "CHG-42",
            at_time(0),
            "s3/csr",
            ChangeKind.MAINTENANCE,
            description="line card swap",
            source="cab",
            end=at_time(30),
        )
    )
    assert window is not None
    res = tl.at(
        t(5),
        raise_alarm("r", "s3/csr", "linkDown", at_time(5), Severity.CRITICAL),
        raise_alarm("c", "s3/cell1", "cellDown", at_time(5, 2)),
        raise_alarm("other", "s4/csr", "linkDown", at_time(5, 3)),
    )
    by_id = {v.alarm.alarm_id: v for v in res.alarms}
    assert by_id["r"].muted_by == ("mw-CHG-42",)
    assert by_id["c"].muted_by == ("mw-CHG-42",)
    assert by_id["other"].muted_by == ()
    cleared = tl.at(t(20), clear_alarm(by_id["c"].alarm, at_time(20)))
    assert cleared.alarms[0].alarm.is_cleared  # clears of muted alarms go through
    tl.tick(t(31))  # the router alarm outlived the window: released, grouped
    r = tl.corr.alarm("r")
    assert r is not None
    assert any(d.reason is MuteReason.UNMUTED for d in r.decisions)
    assert r.incident_id is not None


def test_suppression_marks_cells_under_a_dead_gnodeb_but_not_the_other_way(tl: Timeline) -> None:
    tl.at(t(0), raise_alarm("c0", "s5/cell0", "cellDown", at_time(0)))
    res = tl.at(
        t(0, 5),
        raise_alarm("g", "s5/gnb", "gnbDown", at_time(0, 5), Severity.CRITICAL),
        raise_alarm("c1", "s5/cell1", "cellDown", at_time(0, 6)),
    )
    by_id = {v.alarm.alarm_id: v for v in res.alarms}
    assert by_id["c0"].suppressed_by == "g"  # marked after the fact
    assert by_id["c1"].suppressed_by == "g"
    assert by_id["g"].suppressed_by is None  # the parent is never a symptom of its cells
    tl.tick(t(1))
    (inc,) = tl.published.values()
    assert inc.root_entity_id == "s5/gnb"
    assert {m.alarm_id for m in inc.members} == {"c0", "g", "c1"}
    cleared = tl.at(t(2), clear_alarm(by_id["g"].alarm, at_time(2)))
    assert any(v.alarm.alarm_id == "g" and v.alarm.is_cleared for v in cleared.alarms)
    assert tl.corr.alarm("c0").suppressed_by is None  # type: ignore[union-attr]
    assert any(d.reason is SuppressReason.UPSTREAM_CLEARED for d in tl.corr.alarm("c0").decisions)  # type: ignore[union-attr]


def test_clears_resolve_the_incident_and_acknowledged_clears_leave_the_list(tl: Timeline) -> None:
    a = raise_alarm("a", "s6/csr", "linkDown", at_time(0))
    b = raise_alarm("b", "s6/gnb", "gnbDown", at_time(0, 1))
    tl.at(t(0), a, b)
    tl.tick(t(1))
    res = tl.at(t(2), clear_alarm(a, at_time(2)), clear_alarm(b, at_time(2, 1)))
    (inc,) = res.incidents
    assert inc.state is IncidentState.RESOLVED
    assert inc.timeline[-1].kind == "resolved"
    tl.corr.acknowledge("a", "ops", at_time(3))
    tl.tick(t(3))
    assert tl.corr.alarm("a") is None
    assert tl.corr.alarm("b") is not None
    repeat = tl.at(t(4), clear_alarm(b, at_time(4)))
    assert repeat.alarms[0].alarm.is_cleared  # a repeated clear still goes through
    assert any(d.reason is LifecycleReason.REPEATED_CLEAR for d in repeat.alarms[0].decisions)


def test_resync_after_a_gap_clears_missed_clears_and_raises_missed_raises(tl: Timeline) -> None:
    a = raise_alarm("a", "s7/csr", "linkDown", at_time(0))
    b = raise_alarm("b", "s7/gnb", "gnbDown", at_time(0))
    tl.at(t(0), a, b)
    missed = raise_alarm("c", "s7/cell2", "cellDown", at_time(3))
    tl.clock.set(at_time(10))
    res = tl.corr.resync("ems", [b, missed], tl.clock.now())
    by_id = {v.alarm.alarm_id: v for v in res.alarms}
    assert by_id["a"].alarm.is_cleared
    assert any(d.reason is LifecycleReason.RESYNC_CLEARED for d in by_id["a"].decisions)
    assert by_id["c"].alarm.is_active
    assert by_id["c"].incident_id == by_id["b"].incident_id
    assert {v.alarm.alarm_id for v in tl.corr.open_alarms()} == {"b", "c"}


def test_grouping_one_incident_per_fault_ranked_by_customer_impact(tl: Timeline) -> None:
    gold_site = [
        raise_alarm("p", "s1/power", "powerSupplyFailure", at_time(0), Severity.CRITICAL),
        raise_alarm("g1", "s1/gnb", "gnbDown", at_time(0, 3)),
        raise_alarm("r1", "s1/csr", "linkDown", at_time(0, 4)),
        *(raise_alarm(f"c1{i}", f"s1/cell{i}", "cellDown", at_time(0, 5 + i)) for i in range(3)),
    ]
    bronze_site = [
        raise_alarm("g2", "s12/gnb", "gnbDown", at_time(0, 2), Severity.CRITICAL),
        raise_alarm("c2", "s12/cell0", "cellDown", at_time(0, 6)),
    ]
    tl.at(t(0, 10), *sorted(gold_site + bronze_site, key=lambda a: a.event_time))
    assert tl.published == {}  # group_wait not over yet
    tl.tick(t(1, 10))
    ranked = tl.corr.incidents()
    assert len(ranked) == 2
    top, second = ranked
    assert top.root_entity_id == "s1/power"
    assert {m.alarm_id for m in top.members} == {a.alarm_id for a in gold_site}
    assert top.impact.customers == ("cust0",)
    assert top.impact.sla_at_risk
    assert second.root_entity_id == "s12/gnb"
    assert top.priority <= second.priority
    assert all(m.reason in {r.value for r in GroupReason} for i in ranked for m in i.members)
    assert all(m.detail for i in ranked for m in i.members)
    # an operator disagrees: split the cells off, then merge them back
    cells = [f"c1{i}" for i in range(3)]
    _src, new = tl.corr.split(top.id, cells, "alice")
    assert {m.alarm_id for m in new.members} == set(cells)
    merged, closed = tl.corr.merge(top.id, new.id, "alice")
    assert closed.state is IncidentState.CLOSED
    assert {m.alarm_id for m in merged.members} == {a.alarm_id for a in gold_site}
    assert [f.action for f in tl.corr.feedback()] == ["split", "merge"]
    funnel = tl.corr.funnel()
    assert funnel["events"] == 8
    assert funnel["incidents"] == 2  # opened by grouping; operator splits are feedback


def test_muted_alarms_stay_visible_in_the_alarm_list(tl: Timeline) -> None:
    res = tl.at(
        t(0),
        replace(raise_alarm("a", "s8/csr", "linkDown", at_time(0)), planned_outage_indicator=True),
    )
    assert res.alarms[0].is_held
    assert res.alarms[0].decisions[-1].verdict is Verdict.HOLD
    assert [v.alarm.alarm_id for v in tl.corr.open_alarms()] == ["a"]
