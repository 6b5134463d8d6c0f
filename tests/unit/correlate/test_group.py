"""Grouping: topology, causality and text put alarms into incidents, each with its reason."""

from __future__ import annotations

from datetime import datetime, timedelta

from nocwise.correlate.causal import TableCausality
from nocwise.correlate.group import GroupConfig, GroupReason, GroupStage, Held
from nocwise.correlate.synthetic import clear_alarm, raise_alarm
from nocwise.model import Impact, IncidentState, Severity
from nocwise.topology.graph import TopologyGraph

S = timedelta(seconds=1)
M = timedelta(minutes=1)


def reasons(stage: GroupStage, inc: str) -> dict[str, str]:
    d = stage.draft(inc)
    assert d is not None
    return {m.alarm_id: m.reason for m in d.members.values()}


def test_alarms_near_in_topology_and_time_share_an_incident(
    t0: datetime, topo: TopologyGraph
) -> None:
    stage = GroupStage(None, topo)
    out = stage.process(
        [
            raise_alarm("c0", "s1/cell0", "cellDown", t0),
            raise_alarm("c1", "s1/cell1", "cellDown", t0 + S),
            raise_alarm("far", "s7/cell0", "cellDown", t0 + S, text="another problem"),
        ],
        t0,
    )
    inc = stage.incident_of("c0")
    assert inc is not None
    assert stage.incident_of("c1") == inc
    assert stage.incident_of("far") != inc
    assert reasons(stage, inc) == {"c0": GroupReason.NEW_INCIDENT, "c1": GroupReason.TOPOLOGY}
    assert all(d.passes for d in out.decisions)
    assert "hop(s) in topology" in out.decisions[1].evidence[0].summary


def test_alarms_too_far_apart_in_time_do_not_group(t0: datetime, topo: TopologyGraph) -> None:
    stage = GroupStage(GroupConfig(window=timedelta(minutes=5)), topo)
    stage.process([raise_alarm("a", "s1/cell0", "cellDown", t0)], t0)
    stage.process([clear_alarm(raise_alarm("a", "s1/cell0", "cellDown", t0), t0 + M)], t0 + M)
    stage.process([raise_alarm("b", "s1/cell1", "cellDown", t0 + 6 * M)], t0 + 6 * M)
    assert stage.incident_of("a") != stage.incident_of("b")


def test_an_incident_still_active_absorbs_related_alarms_past_the_window(
    t0: datetime, topo: TopologyGraph
) -> None:
    cfg = GroupConfig(window=timedelta(minutes=5), follow_active=timedelta(hours=1))
    stage = GroupStage(cfg, topo)
    old = raise_alarm("old", "s9/cell0", "cellDown", t0 - M)
    stage.process([old, clear_alarm(old, t0)], t0)  # "ems" clears its alarms: they mean "still"
    stage.process([raise_alarm("a", "s1/gnb", "gnbDown", t0)], t0)
    stage.process([raise_alarm("ev", "s2/gnb", "anomaly", t0, source="detector")], t0)
    stage.tick(t0 + 20 * M)  # the expiry timer fires, but the incident is still happening
    out = stage.process([raise_alarm("b", "s1/cell0", "cellDown", t0 + 30 * M)], t0 + 30 * M)
    inc = stage.incident_of("a")
    assert inc is not None
    assert stage.incident_of("b") == inc
    assert reasons(stage, inc)["b"] == GroupReason.ACTIVE_INCIDENT
    assert "1 hop(s) below an active member" in out.decisions[0].evidence[0].summary
    assert "still has 1 active alarm(s)" in out.decisions[0].evidence[0].summary
    # a source never seen clearing (an anomaly event) does not keep its incident going
    stage.process([raise_alarm("c2", "s2/cell0", "cellDown", t0 + 30 * M)], t0 + 30 * M)
    assert stage.incident_of("c2") != stage.incident_of("ev")
    restored = GroupStage.from_state(stage.to_state(), topo)
    assert restored.to_state() == stage.to_state()
    # no topology path: an ongoing incident absorbs by topology only
    stage.process([raise_alarm("far", "s7/cell0", "cellDown", t0 + 40 * M)], t0 + 40 * M)
    assert stage.incident_of("far") != inc
    # past follow_active after its last new member it stops absorbing, active or not
    late = t0 + 30 * M + 61 * M
    stage.tick(late)
    stage.process([raise_alarm("c", "s1/cell0", "cellDown", late)], late)
    assert stage.incident_of("c") != inc


def test_a_demoted_alarm_rides_along_only_on_a_members_entity(
    t0: datetime, topo: TopologyGraph
) -> None:
    stage = GroupStage(None, topo)
    stage.may_open = lambda a: Held.NOISE if a.alarm_id.startswith("noisy") else None
    stage.process([raise_alarm("real", "s1/cell1", "cellDown", t0)], t0)
    out = stage.process([raise_alarm("noisy", "s1/gnb", "gnbDown", t0 + S)], t0 + S)
    assert stage.incident_of("noisy") is None  # one hop up the chain is too far by default
    assert out.decisions[0].reason == GroupReason.NOISE_HELD
    assert "not within 0 hop(s)" in out.decisions[0].evidence[0].summary
    assert out.passed[0].alarm_id == "noisy"  # still passes: it stays in the alarm list
    stage.process([raise_alarm("noisy2", "s1/cell1", "qosAlarm", t0 + 2 * S)], t0 + 2 * S)
    inc = stage.incident_of("real")
    assert inc is not None
    assert stage.incident_of("noisy2") == inc
    assert reasons(stage, inc)["noisy2"] == GroupReason.NOISE_MEMBER
    never = GroupStage(GroupConfig(demoted_reach=None), topo)
    never.may_open = stage.may_open
    never.process([raise_alarm("real", "s1/cell1", "cellDown", t0)], t0)
    out = never.process([raise_alarm("noisy2", "s1/cell1", "qosAlarm", t0 + S)], t0 + S)
    assert never.incident_of("noisy2") is None
    assert "join no incident" in out.decisions[0].evidence[0].summary


def test_with_a_longer_reach_an_alarm_that_may_not_open_joins_but_never_opens(
    t0: datetime, topo: TopologyGraph
) -> None:
    stage = GroupStage(GroupConfig(demoted_reach=3), topo)
    stage.may_open = lambda a: Held.NOISE if a.alarm_id.startswith("noisy") else None
    out = stage.process([raise_alarm("noisy", "s1/cell0", "cellDown", t0)], t0)
    assert stage.incident_of("noisy") is None
    assert out.decisions[0].reason == GroupReason.NOISE_HELD
    assert out.passed[0].alarm_id == "noisy"  # still passes: it stays in the alarm list
    stage.process([raise_alarm("real", "s1/cell1", "cellDown", t0 + S)], t0 + S)
    # a sibling under the same gNB is too loose a link for a demoted alarm
    out = stage.process([raise_alarm("noisy3", "s1/cell0", "cellDown", t0 + S)], t0 + S)
    assert stage.incident_of("noisy3") is None
    assert "not within 3 hop(s)" in out.decisions[0].evidence[0].summary
    stage.process([raise_alarm("noisy2", "s1/gnb", "gnbDown", t0 + 2 * S)], t0 + 2 * S)
    inc = stage.incident_of("real")
    assert inc is not None
    assert stage.incident_of("noisy2") == inc
    assert reasons(stage, inc)["noisy2"] == GroupReason.NOISE_MEMBER
    d = stage.draft(inc)
    assert d is not None
    assert "s1/gnb" not in d.member_entities
    assert d.last_event == t0 + S


def test_learned_causality_groups_across_sites_within_reach(
    t0: datetime, topo: TopologyGraph
) -> None:
    causal = TableCausality({("coreLinkDown", "s1Failure"): 0.9})
    with_model = GroupStage(None, topo, causal)
    without = GroupStage(None, topo)
    batch = [
        raise_alarm("core", "s3/csr", "coreLinkDown", t0, text="uplink lost"),
        raise_alarm("ran", "s5/gnb", "s1Failure", t0 + S, text="s1 setup failing"),
    ]
    with_model.process(batch, t0)
    without.process(batch, t0)
    assert with_model.incident_of("ran") == with_model.incident_of("core")
    assert without.incident_of("ran") != without.incident_of("core")
    inc = with_model.incident_of("ran")
    assert inc is not None
    assert reasons(with_model, inc)["ran"] == GroupReason.CAUSALITY


def test_same_template_in_the_same_region_groups_by_text(t0: datetime, topo: TopologyGraph) -> None:
    stage = GroupStage(GroupConfig(max_hops=0), topo)  # no topology path allowed
    stage.process(
        [
            raise_alarm("a", "s1/cell0", "ho", t0, text="handover failure rate 31% on cell 7"),
            raise_alarm("b", "s1/cell1", "ho", t0 + S, text="handover failure rate 45% on cell 9"),
        ],
        t0,
    )
    inc = stage.incident_of("a")
    assert inc is not None
    assert stage.incident_of("b") == inc


def test_root_is_the_most_upstream_alarming_entity(t0: datetime, topo: TopologyGraph) -> None:
    stage = GroupStage(None, topo)
    stage.process(
        [
            raise_alarm("c0", "s1/cell0", "cellDown", t0),
            raise_alarm("g", "s1/gnb", "gnbDown", t0 + S, Severity.CRITICAL),
            raise_alarm("c1", "s1/cell1", "cellDown", t0 + 2 * S),
        ],
        t0,
    )
    inc = stage.incident_of("c0")
    assert inc is not None
    d = stage.draft(inc)
    assert d is not None
    assert d.root == "s1/gnb"
    assert any(e.kind == "root_changed" for e in d.timeline)


def test_incidents_publish_after_group_wait_on_event_time(
    t0: datetime, topo: TopologyGraph
) -> None:
    stage = GroupStage(GroupConfig(group_wait=timedelta(seconds=30)), topo)
    stage.process([raise_alarm("a", "s1/cell0", "cellDown", t0)], t0 + S)
    assert stage.take_changed() == []
    stage.tick(t0 + 29 * S)
    assert stage.take_changed() == []
    stage.tick(t0 + 30 * S)
    assert [d.id for d in stage.take_changed()] == [stage.incident_of("a")]
    backfill = GroupStage(GroupConfig(group_wait=timedelta(seconds=30)), topo)
    backfill.process([raise_alarm("old", "s1/cell0", "cellDown", t0)], t0 + timedelta(hours=1))
    assert len(backfill.take_changed()) == 1  # already older than group_wait: at once


def test_clearing_every_member_resolves_and_a_new_member_reopens(
    t0: datetime, topo: TopologyGraph
) -> None:
    stage = GroupStage(None, topo)
    a = raise_alarm("a", "s1/cell0", "cellDown", t0)
    stage.process([a], t0)
    stage.process([clear_alarm(a, t0 + S)], t0 + S)
    inc = stage.incident_of("a")
    assert inc is not None
    draft = stage.draft(inc)
    assert draft is not None
    assert draft.state is IncidentState.RESOLVED
    stage.process([raise_alarm("b", "s1/cell1", "cellDown", t0 + 2 * S)], t0 + 2 * S)
    assert stage.incident_of("b") == inc
    assert draft.state is IncidentState.OPEN


def test_quiet_incidents_close_for_grouping_and_are_forgotten_after_retention(
    t0: datetime, topo: TopologyGraph
) -> None:
    cfg = GroupConfig(window=timedelta(minutes=5), retain_resolved=timedelta(minutes=10))
    stage = GroupStage(cfg, topo)
    a = raise_alarm("a", "s1/cell0", "cellDown", t0)
    stage.process([a, clear_alarm(a, t0 + S)], t0 + S)
    inc = stage.incident_of("a")
    stage.tick(t0 + 6 * M)
    stage.process([raise_alarm("b", "s1/cell1", "cellDown", t0 + 6 * M)], t0 + 6 * M)
    assert stage.incident_of("b") != inc
    stage.tick(t0 + 20 * M)
    assert inc is not None
    assert stage.draft(inc) is None
    assert stage.incident_of("a") is None


def test_merge_and_split_are_applied_and_kept_as_feedback(
    t0: datetime, topo: TopologyGraph
) -> None:
    stage = GroupStage(None, topo)
    stage.process(
        [
            raise_alarm("a", "s1/cell0", "cellDown", t0),
            raise_alarm("b", "s9/cell0", "x", t0, text="zzz"),
        ],
        t0,
    )
    ia, ib = stage.incident_of("a"), stage.incident_of("b")
    assert ia is not None
    assert ib is not None
    assert ia != ib
    stage.merge(ia, ib, "alice", t0 + M)
    assert stage.incident_of("b") == ia
    closed = stage.draft(ib)
    assert closed is not None
    assert closed.state is IncidentState.CLOSED
    src, new = stage.split(ia, ["b"], "bob", t0 + 2 * M)
    assert stage.incident_of("b") == new.id
    assert new.id not in (ia, ib)
    assert [f.action for f in stage.feedback()] == ["merge", "split"]
    assert stage.feedback()[0].alarm_ids == ("b",)
    assert stage.feedback()[1].actor == "bob"
    assert src.members["a"].reason == GroupReason.NEW_INCIDENT


def test_state_round_trip_continues_identically(t0: datetime, topo: TopologyGraph) -> None:
    stage = GroupStage(None, topo)
    stage.process(
        [raise_alarm("a", "s1/cell0", "cellDown", t0), raise_alarm("b", "s2/gnb", "x", t0)], t0
    )
    copy = GroupStage.from_state(stage.to_state(), topo)
    nxt = [
        raise_alarm("c", "s1/cell1", "cellDown", t0 + S),
        raise_alarm("d", "s2/cell0", "y", t0 + S),
    ]
    assert copy.process(nxt, t0 + M) == stage.process(nxt, t0 + M)
    assert [d.freeze.__self__.id for d in copy.take_changed()] == [
        d.id for d in stage.take_changed()
    ]


def test_an_event_from_a_source_that_never_clears_does_not_move_the_window(
    t0: datetime, topo: TopologyGraph
) -> None:
    stage = GroupStage(GroupConfig(window=timedelta(minutes=5)), topo)
    old = raise_alarm("old", "s9/cell0", "cellDown", t0 - M)
    stage.process([old, clear_alarm(old, t0 - M)], t0 - M)
    stage.process([raise_alarm("a", "s1/cell0", "cellDown", t0)], t0)
    stage.process([raise_alarm("ev", "s1/cell1", "kpiAnomaly", t0 + 4 * M, source="detector")], t0)
    inc = stage.incident_of("a")
    assert stage.incident_of("ev") == inc
    d = stage.draft(inc or "")
    assert d is not None
    assert d.last_event == t0
    stage.process([raise_alarm("b", "s1/cell2", "cellDown", t0 + 8 * M)], t0 + 8 * M)
    assert stage.incident_of("b") != inc  # a sibling of the first, past its window


def test_snapshots_reuse_the_member_tuple_until_membership_changes(
    t0: datetime, topo: TopologyGraph
) -> None:
    stage = GroupStage(None, topo)
    c0 = raise_alarm("c0", "s1/cell0", "cellDown", t0)
    stage.process([c0, raise_alarm("c1", "s1/cell1", "cellDown", t0)], t0)
    inc = stage.incident_of("c0")
    d = stage.draft(inc or "")
    assert d is not None
    impact = Impact((), (), False, 0.0)
    first = d.freeze(impact, 3)
    stage.process([clear_alarm(c0, t0 + S)], t0 + S)  # a clear: same members, same tuple
    second = d.freeze(impact, 3)
    assert second.members is first.members
    assert second.timeline is first.timeline
    stage.process([raise_alarm("c2", "s1/cell2", "cellDown", t0 + 2 * S)], t0 + 2 * S)
    third = d.freeze(impact, 3)
    assert [m.alarm_id for m in third.members] == ["c0", "c1", "c2"]
    stage.split(d.id, ["c2"], "op", t0 + 3 * S)
    fourth = d.freeze(impact, 3)
    assert fourth.members == tuple(d.members.values())
    assert [m.alarm_id for m in fourth.members] == ["c0", "c1"]
    assert fourth.timeline[-1].kind == "split"
    assert fourth.timeline == tuple(d.timeline)


def test_the_severity_count_follows_every_change_of_membership(
    t0: datetime, topo: TopologyGraph
) -> None:
    stage = GroupStage(None, topo)

    def check(s: GroupStage) -> None:
        for d in s.drafts():
            ranks = list(d.severity_of.values())
            assert d.max_severity == max(ranks, default=0)
            assert d.severity_count == [ranks.count(r) for r in range(6)]

    a = raise_alarm("a", "s1/cell0", "cellDown", t0, Severity.MINOR)
    b = raise_alarm("b", "s1/cell1", "cellDown", t0, Severity.CRITICAL)
    c = raise_alarm("c", "s1/gnb", "gnbDown", t0, Severity.WARNING)
    far = raise_alarm("far", "s7/cell0", "cellDown", t0, text="another problem")
    stage.process([a, b, c, far], t0)
    check(stage)
    stage.process([raise_alarm("b", "s1/cell1", "cellDown", t0 + S, Severity.MAJOR)], t0 + S)
    check(stage)
    stage.process([clear_alarm(b, t0 + 2 * S)], t0 + 2 * S)
    check(stage)
    inc, other = stage.incident_of("a"), stage.incident_of("far")
    assert inc is not None
    assert other is not None
    assert inc != other
    stage.split(inc, ["c"], "op", t0 + 3 * S)
    check(stage)
    stage.merge(other, inc, "op", t0 + 4 * S)
    check(stage)
    check(GroupStage.from_state(stage.to_state(), topo))
