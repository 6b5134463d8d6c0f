"""Grouping by explanation: an active problem upstream of an alarm claims it, even past the window.

Timelines on a manual clock. Two sites, A and B, hang off one aggregation router ``agg``
(``->``: depends on)::

    cellX -> gX -> cX -> lX <- agg -> up <- core        gX -> pX,  cX -> pX

``pX`` is the site's power plant, ``cX`` its router, ``gX`` its gNodeB and ``lX`` its access
link, which ``agg`` terminates; ``up`` is the aggregation router's uplink to ``core``. The
aggregation router reports "interface down" about a link (``additional_info["link"]``), on
itself. A regional mains failure takes both sites' power within seconds: each site runs on its
battery, and goes down half an hour later, when the battery is empty.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from nocwise.correlate.group import GroupConfig, GroupReason, GroupStage, Held
from nocwise.correlate.synthetic import clear_alarm, raise_alarm
from nocwise.model import Alarm, Domain, Entity, Relation
from nocwise.model import RelationKind as K
from nocwise.topology.graph import TopologyGraph

S = timedelta(seconds=1)
M = timedelta(minutes=1)


def graph() -> TopologyGraph:
    ents = [Entity(e, "router", Domain.TRANSPORT) for e in ("agg", "core", "up")]
    rels = [Relation("agg", "up", K.DEPENDS_ON), Relation("core", "up", K.DEPENDS_ON)]
    for x in "AB":
        ents += [
            Entity(f"p{x}", "power", Domain.POWER),
            Entity(f"c{x}", "csr", Domain.TRANSPORT),
            Entity(f"l{x}", "link", Domain.TRANSPORT),
            Entity(f"g{x}", "gnodeb", Domain.RAN),
            Entity(f"cell{x}", "cell", Domain.RAN),
        ]
        rels += [
            Relation(f"c{x}", f"p{x}", K.DEPENDS_ON),
            Relation(f"g{x}", f"p{x}", K.DEPENDS_ON),
            Relation(f"g{x}", f"c{x}", K.DEPENDS_ON),
            Relation(f"cell{x}", f"g{x}", K.DEPENDS_ON),
            Relation(f"c{x}", f"l{x}", K.DEPENDS_ON),
            Relation("agg", f"l{x}", K.DEPENDS_ON),
        ]
    return TopologyGraph(ents, rels)


def about(a: Alarm, link: str) -> Alarm:
    """The alarm as a router reports it about one of its links."""
    return replace(a, additional_info={"interface": "1/1/1", "link": link})


def warm_up(stage: GroupStage, t0: datetime) -> None:
    """The source is seen clearing an alarm: its active alarms mean "still happening"."""
    old = raise_alarm("old", "core", "fanFailure", t0 - 2 * M)
    stage.process([old, clear_alarm(old, t0 - M)], t0 - M)


def mains_then_site_down(stage: GroupStage, t0: datetime) -> None:
    warm_up(stage, t0)
    for i, x in enumerate("AB"):
        at = t0 + 5 * i * S
        stage.process(
            [raise_alarm(f"mains{x}", f"p{x}", "powerProblem", at, text="AC mains lost")], at
        )
    for minute in range(1, 31):
        stage.tick(t0 + minute * M)
    for i, x in enumerate("AB"):  # the batteries run out 20 s apart
        at = t0 + 30 * M + 20 * i * S
        down = [
            about(raise_alarm(f"link{x}", "agg", "linkDown", at, text="Interface down"), f"l{x}"),
            raise_alarm(f"lvd{x}", f"p{x}", "batteryFailure", at + S, text="LVD operated"),
            raise_alarm(f"gnb{x}", f"g{x}", "nodeDown", at + 2 * S, text="NE disconnected"),
            raise_alarm(f"cell{x}", f"cell{x}", "cellDown", at + 3 * S, text="cell out of service"),
            raise_alarm(f"csr{x}", f"c{x}", "nodeDown", at + 4 * S, text="NE unreachable"),
        ]
        stage.process(down, at + 4 * S)


def test_two_sites_failing_for_their_own_reasons_stay_two_incidents(t0: datetime) -> None:
    stage = GroupStage(None, graph())
    mains_then_site_down(stage, t0)
    for x in "AB":
        inc = stage.incident_of(f"mains{x}")
        assert inc is not None
        got = {stage.incident_of(f"{k}{x}") for k in ("link", "lvd", "gnb", "cell", "csr")}
        assert got == {inc}, x  # the site going down half an hour later is the same problem
    assert stage.incident_of("mainsA") != stage.incident_of("mainsB")
    d = stage.draft(stage.incident_of("linkA") or "")
    assert d is not None
    assert d.members["linkA"].reason == GroupReason.ACTIVE_INCIDENT  # past the window
    assert "2 hop(s) below an active member" in d.members["linkA"].detail  # via cA, to pA


def test_without_explanation_the_sites_merge_on_the_router_that_sees_both(
    t0: datetime,
) -> None:
    """What the rule fixes: the router's two "interface down" alarms share entity and text."""
    cfg = GroupConfig(follow_active=timedelta(0), prefer_explained=False)
    stage = GroupStage(cfg, graph())
    mains_then_site_down(stage, t0)
    assert stage.incident_of("linkA") == stage.incident_of("linkB")
    assert stage.incident_of("lvdA") != stage.incident_of("mainsA")


def test_a_cut_of_a_shared_parent_stays_one_incident(t0: datetime) -> None:
    stage = GroupStage(None, graph())
    warm_up(stage, t0)
    cut = [
        about(raise_alarm("los", "core", "linkDown", t0, text="Interface down"), "up"),
        raise_alarm("agg", "agg", "nodeDown", t0 + 30 * S, text="NE unreachable"),
        raise_alarm("csrA", "cA", "nodeDown", t0 + 40 * S, text="NE unreachable"),
        raise_alarm("csrB", "cB", "nodeDown", t0 + 41 * S, text="NE unreachable"),
    ]
    stage.process(cut, t0 + 41 * S)
    inc = stage.incident_of("los")
    assert inc is not None
    assert {stage.incident_of(a.alarm_id) for a in cut} == {inc}
    for minute in range(1, 21):
        stage.tick(t0 + minute * M)
    late = t0 + 20 * M  # a gNodeB behind the cut reports late: the cut is still active above it
    stage.process([raise_alarm("gnbA", "gA", "nodeDown", late, text="NG link failure")], late)
    assert stage.incident_of("gnbA") == inc


def test_an_event_or_a_cleared_alarm_explains_nothing_later(t0: datetime) -> None:
    stage = GroupStage(None, graph())
    warm_up(stage, t0)
    stage.process([raise_alarm("ev", "pA", "anomaly", t0, source="detector")], t0)
    mains = raise_alarm("mainsB", "pB", "powerProblem", t0)
    stage.process([mains, clear_alarm(mains, t0 + M)], t0 + M)
    for minute in range(2, 21):
        stage.tick(t0 + minute * M)
    late = t0 + 20 * M
    stage.process(
        [
            raise_alarm("gnbA", "gA", "nodeDown", late, text="NE disconnected"),
            raise_alarm("gnbB", "gB", "nodeDown", late + 40 * S, text="other words"),
        ],
        late + 40 * S,
    )
    assert stage.incident_of("gnbA") not in (None, stage.incident_of("ev"))
    assert stage.incident_of("gnbB") not in (None, stage.incident_of("mainsB"))


def test_a_demoted_alarm_does_not_follow_an_incident_past_the_window(t0: datetime) -> None:
    stage = GroupStage(None, graph())
    stage.may_open = lambda a: Held.NOISE if a.alarm_id == "temp" else None
    warm_up(stage, t0)
    stage.process([raise_alarm("mainsA", "pA", "powerProblem", t0)], t0)
    for minute in range(1, 21):
        stage.tick(t0 + minute * M)
    late = t0 + 20 * M
    out = stage.process([raise_alarm("temp", "pA", "highTemperature", late)], late)
    assert stage.incident_of("temp") is None
    assert out.decisions[0].reason == GroupReason.NOISE_HELD


def test_the_explanation_survives_a_snapshot(t0: datetime) -> None:
    topo = graph()
    stage = GroupStage(None, topo)
    warm_up(stage, t0)
    stage.process([raise_alarm("mainsA", "pA", "powerProblem", t0)], t0)
    link = about(raise_alarm("linkA", "agg", "linkDown", t0 + S), "lA")
    stage.process([link], t0 + S)
    restored = GroupStage.from_state(stage.to_state(), topo)
    for minute in range(1, 21):
        restored.tick(t0 + minute * M)
    late = t0 + 20 * M
    restored.process([raise_alarm("csrA", "cA", "nodeDown", late)], late)
    assert restored.incident_of("csrA") == restored.incident_of("mainsA") is not None
    # the router's alarm about lA is indexed on lA and on the router, not on lB beside it
    restored.process([raise_alarm("csrB", "cB", "nodeDown", late + S)], late + S)
    assert restored.incident_of("csrB") != restored.incident_of("mainsA")


def test_past_the_window_a_hub_claims_nothing(t0: datetime) -> None:
    """An overloaded AMF that every gNodeB uses explains their alarms only within the window."""
    ents = [Entity("amf", "amf", Domain.CORE)]
    ents += [Entity(f"g{i}", "gnodeb", Domain.RAN) for i in range(4)]
    topo = TopologyGraph(ents, [Relation(f"g{i}", "amf", K.DEPENDS_ON) for i in range(4)])
    for hub_fanout, claimed in ((3, False), (None, True)):
        stage = GroupStage(GroupConfig(hub_fanout=hub_fanout), topo)
        warm_up(stage, t0)
        stage.process([raise_alarm("amf", "amf", "congestion", t0)], t0)
        for minute in range(1, 21):
            stage.tick(t0 + minute * M)
        late = t0 + 20 * M
        stage.process([raise_alarm("g0", "g0", "nodeDown", late)], late)
        assert (stage.incident_of("g0") == stage.incident_of("amf")) is claimed


def test_a_late_effect_does_not_reopen_the_window(t0: datetime) -> None:
    """Claimed past the window, the site's late alarms do not make the incident a candidate for
    an unrelated alarm that only shares text with them."""
    stage = GroupStage(None, graph())
    warm_up(stage, t0)
    stage.process([raise_alarm("mainsA", "pA", "powerProblem", t0, text="AC mains lost")], t0)
    for minute in range(1, 31):
        stage.tick(t0 + minute * M)
    late = t0 + 30 * M
    stage.process([raise_alarm("lvdA", "pA", "batteryFailure", late, text="LVD operated")], late)
    inc = stage.incident_of("mainsA")
    assert stage.incident_of("lvdA") == inc
    d = stage.draft(inc or "")
    assert d is not None
    assert d.last_event == t0  # the window still counts from the last alarm within it
    other = raise_alarm("lvdB", "pB", "batteryFailure", late + S, text="LVD operated")
    stage.process([other], late + S)
    assert stage.incident_of("lvdB") != inc
