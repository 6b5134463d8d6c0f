"""Topology suppression: downstream alarms are symptoms of an upstream fault, never the reverse."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from nocwise.correlate.suppress import SuppressConfig, SuppressReason, SuppressStage
from nocwise.correlate.synthetic import access_network, clear_alarm, raise_alarm
from nocwise.model import Severity
from nocwise.topology.graph import TopologyGraph

S = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("parent", "child", "depth", "suppressed"),
    [
        pytest.param("s1/csr", "s1/gnb", 3, True, id="child-of-router"),
        pytest.param("s1/csr", "s1/cell0", 3, True, id="grandchild"),
        pytest.param("s1/gnb", "s1/csr", 3, False, id="wrong-direction"),
        pytest.param("s1/power", "s1/cell2", 3, True, id="site-power"),
        pytest.param("s1/link", "s1/cell0", 2, False, id="beyond-depth"),
        pytest.param("s1/link", "s1/cell0", 3, True, id="within-depth"),
        pytest.param("s2/csr", "s1/cell0", 3, False, id="other-site"),
    ],
)
def test_suppression_follows_direction_and_depth(
    t0: datetime, topo: TopologyGraph, parent: str, child: str, depth: int, suppressed: bool
) -> None:
    stage = SuppressStage(SuppressConfig(max_depth=depth), topo)
    p = raise_alarm("p", parent, "linkDown", t0, Severity.CRITICAL)
    c = raise_alarm("c", child, "cellDown", t0 + S)
    out = stage.process([p, c], t0)
    assert out.passed == [p, c]  # symptoms stay visible and go on
    marks = [d for d in out.decisions if d.alarm_id == "c"]
    assert bool(marks) is suppressed
    if suppressed:
        assert marks[0].reason is SuppressReason.UPSTREAM_FAULT
        assert marks[0].evidence[0].data["source_alarm_id"] == "p"
        assert marks[0].evidence[0].data["source_entity"] == parent


def test_a_late_parent_marks_children_already_open(t0: datetime, topo: TopologyGraph) -> None:
    stage = SuppressStage(None, topo)
    kids = [raise_alarm(f"c{i}", f"s1/cell{i}", "cellDown", t0) for i in range(3)]
    stage.process(kids, t0)
    out = stage.process([raise_alarm("p", "s1/gnb", "gnbDown", t0 + S, Severity.CRITICAL)], t0)
    assert sorted(d.alarm_id for d in out.decisions) == ["c0", "c1", "c2"]
    assert stage.suppressed_by("c1") == ("p", "s1/gnb", 1)


def test_minor_alarms_do_not_suppress(t0: datetime, topo: TopologyGraph) -> None:
    stage = SuppressStage(None, topo)
    out = stage.process(
        [
            raise_alarm("p", "s1/gnb", "x", t0, Severity.MINOR),
            raise_alarm("c", "s1/cell0", "y", t0),
        ],
        t0,
    )
    assert out.decisions == []


def test_parent_clear_lifts_the_mark_and_the_clear_itself_passes(
    t0: datetime, topo: TopologyGraph
) -> None:
    stage = SuppressStage(None, topo)
    p = raise_alarm("p", "s1/gnb", "gnbDown", t0, Severity.CRITICAL)
    c = raise_alarm("c", "s1/cell0", "cellDown", t0)
    stage.process([p, c], t0)
    clear = clear_alarm(p, t0 + S)
    out = stage.process([clear], t0)
    assert out.passed == [clear]
    assert out.decisions[0].reason is SuppressReason.UPSTREAM_CLEARED
    assert stage.suppressed_by("c") is None


def test_a_second_upstream_fault_keeps_the_child_suppressed(
    t0: datetime, topo: TopologyGraph
) -> None:
    stage = SuppressStage(None, topo)
    gnb = raise_alarm("g", "s1/gnb", "gnbDown", t0, Severity.CRITICAL)
    csr = raise_alarm("r", "s1/csr", "linkDown", t0, Severity.CRITICAL)
    stage.process([gnb, csr, raise_alarm("c", "s1/cell0", "cellDown", t0)], t0)
    out = stage.process([clear_alarm(gnb, t0 + S)], t0)
    assert stage.suppressed_by("c") == ("r", "s1/csr", 2)
    assert out.decisions[0].reason is SuppressReason.UPSTREAM_FAULT


def test_a_clear_of_a_symptom_is_never_suppressed(t0: datetime, topo: TopologyGraph) -> None:
    stage = SuppressStage(None, topo)
    c = raise_alarm("c", "s1/cell0", "cellDown", t0)
    stage.process([raise_alarm("p", "s1/gnb", "gnbDown", t0, Severity.CRITICAL), c], t0)
    out = stage.process([clear_alarm(c, t0 + S)], t0)
    assert [a.alarm_id for a in out.passed] == ["c"]
    assert out.decisions == []


def test_state_round_trip_continues_identically(t0: datetime, topo: TopologyGraph) -> None:
    stage = SuppressStage(None, topo)
    p = raise_alarm("p", "s1/gnb", "gnbDown", t0, Severity.CRITICAL)
    stage.process([p, raise_alarm("c", "s1/cell0", "cellDown", t0)], t0)
    copy = SuppressStage.from_state(stage.to_state(), topo)
    nxt = [raise_alarm("d", "s1/cell1", "cellDown", t0 + S), clear_alarm(p, t0 + 2 * S)]
    assert copy.process(nxt, t0) == stage.process(nxt, t0)


def test_suppression_is_also_a_muter(t0: datetime, topo: TopologyGraph) -> None:
    from nocwise.correlate.muter import Muter, MuteReason

    stage = SuppressStage(None, topo)
    muter: Muter = stage
    v0 = muter.version
    muter.observe(raise_alarm("p", "s1/gnb", "gnbDown", t0, Severity.CRITICAL))
    assert muter.version == v0 + 1
    verdict = muter.mutes(raise_alarm("c", "s1/cell0", "cellDown", t0), t0)
    assert verdict is not None
    assert verdict.reason is MuteReason.UPSTREAM_FAULT
    assert verdict.by_ids == ("p",)
    assert muter.mutes(raise_alarm("up", "s1/csr", "linkDown", t0), t0) is None


def test_a_parent_that_calms_down_stops_suppressing(t0: datetime, topo: TopologyGraph) -> None:
    from dataclasses import replace

    stage = SuppressStage(None, topo)
    p = raise_alarm("p", "s1/gnb", "gnbDown", t0, Severity.CRITICAL)
    stage.process([p, raise_alarm("c", "s1/cell0", "cellDown", t0)], t0)
    out = stage.process([replace(p, perceived_severity=Severity.WARNING, event_time=t0 + S)], t0)
    assert stage.suppressed_by("c") is None
    assert out.decisions[0].reason is SuppressReason.UPSTREAM_CLEARED


def test_evidence_lives_while_its_fault_suppresses(t0: datetime) -> None:
    """A fault's evidence record is built once and shared by its symptoms however many other
    faults are open (a fixed-size cache cleared when full rebuilt it once more faults were
    open than it held), and is let go when the fault stops suppressing."""
    topo = TopologyGraph(*access_network(2200))
    stage = SuppressStage(None, topo)
    first = stage.process(
        [
            raise_alarm("p0", "s0/gnb", "gnbDown", t0, Severity.CRITICAL),
            raise_alarm("c0", "s0/cell0", "cellDown", t0 + S),
        ],
        t0,
    ).decisions
    others = []
    for site in range(1, 2200):  # 2,199 more faults, each marking 4 symptoms at 2 depths
        others.append(raise_alarm(f"p{site}", f"s{site}/csr", "linkDown", t0, Severity.MAJOR))
        others += [raise_alarm(f"c{site}-{k}", f"s{site}/cell{k}", "x", t0) for k in range(3)]
        others.append(raise_alarm(f"g{site}", f"s{site}/gnb", "x", t0))
    stage.process(others, t0 + S)
    later = stage.process([raise_alarm("c1", "s0/cell1", "cellDown", t0 + 2 * S)], t0).decisions
    assert later[0].evidence is first[0].evidence
    held = len(stage._evidence)
    stage.process([clear_alarm(raise_alarm("p0", "s0/gnb", "gnbDown", t0), t0 + 3 * S)], t0)
    assert len(stage._evidence) == held - 1
    assert stage.suppressed_by("c0") is None


def test_state_round_trip_keeps_marks_and_suppressors(t0: datetime, topo: TopologyGraph) -> None:
    """The per-entity records are rebuilt from the state: a restored stage marks, steps down
    and reports exactly as the one it was saved from."""
    stage = SuppressStage(None, topo)
    p = raise_alarm("p", "s1/gnb", "gnbDown", t0, Severity.CRITICAL)
    kids = [raise_alarm(f"c{i}", f"s1/cell{i}", "cellDown", t0) for i in range(2)]
    stray = raise_alarm("x", "not-in-inventory", "cellDown", t0)
    stage.process([p, *kids, stray], t0)
    back = SuppressStage.from_state(stage.to_state(), topo)
    assert back.to_state().params == stage.to_state().params
    late = raise_alarm("c2", "s1/cell2", "cellDown", t0 + S)
    assert [d.alarm_id for d in back.process([late], t0).decisions] == ["c2"]
    out = back.process([clear_alarm(p, t0 + 2 * S)], t0)
    assert sorted(d.alarm_id for d in out.decisions) == ["c0", "c1", "c2"]
    assert {d.reason for d in out.decisions} == {SuppressReason.UPSTREAM_CLEARED}
    back.process([clear_alarm(stray, t0 + 3 * S)], t0)
    assert "not-in-inventory" not in back._entities  # an id outside the inventory is let go
