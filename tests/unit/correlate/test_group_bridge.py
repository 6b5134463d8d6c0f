"""Bridging: one alarm closely linked to several open incidents merges them (a storm's fragments).

Timeline on a manual clock. Topology: ``x1 -> r1 -> l12 <- r2 <- y2`` (``->``: depends on), so
the routers ``r1`` and ``r2`` are the two ends of the point-to-point link ``l12``, and ``x1``,
``y2`` hang below them, four hops apart (beyond ``max_hops``), so each opens its own incident.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from nocwise.correlate.group import GroupConfig, GroupReason, GroupStage, Held
from nocwise.correlate.synthetic import raise_alarm
from nocwise.model import Domain, Entity, IncidentState, Relation
from nocwise.model import RelationKind as K
from nocwise.topology.graph import TopologyGraph

S = timedelta(seconds=1)


def graph(shared: str = "l12", extra_dependents: int = 0) -> TopologyGraph:
    ents = [Entity(e, "router", Domain.TRANSPORT) for e in ("x1", "r1", "r2", "y2", shared)]
    rels = [
        Relation("x1", "r1", K.DEPENDS_ON),
        Relation("r1", shared, K.DEPENDS_ON),
        Relation("r2", shared, K.DEPENDS_ON),
        Relation("y2", "r2", K.DEPENDS_ON),
    ]
    for i in range(extra_dependents):  # more users of the shared entity make it a hub
        ents.append(Entity(f"u{i}", "router", Domain.TRANSPORT))
        rels.append(Relation(f"u{i}", shared, K.DEPENDS_ON))
    return TopologyGraph(ents, rels)


def two_fragments(stage: GroupStage, t0: datetime) -> tuple[str, str]:
    stage.process([raise_alarm("x", "x1", "nodeDown", t0, text="node x1 unreachable")], t0)
    stage.process(
        [
            raise_alarm("y", "y2", "linkDown", t0 + S, text="port 7 down"),
            raise_alarm("y'", "y2", "linkDown", t0 + S, text="port 8 down"),
        ],
        t0 + S,
    )
    a, b = stage.incident_of("x"), stage.incident_of("y")
    assert a is not None
    assert b is not None
    assert a != b
    return a, b


def test_an_alarm_linked_to_two_open_incidents_merges_them(t0: datetime) -> None:
    stage = GroupStage(None, graph())
    small, large = two_fragments(stage, t0)
    out = stage.process([raise_alarm("r", "r1", "lossOfSignal", t0 + 2 * S)], t0 + 2 * S)
    assert {stage.incident_of(a) for a in ("x", "y", "y'", "r")} == {large}  # the larger one
    d = stage.draft(large)
    assert d is not None
    assert d.members["x"].reason == GroupReason.BRIDGED
    assert "links both" in d.members["x"].detail
    assert any(e.kind == "merged" and small in e.detail for e in d.timeline)
    assert d.opened == t0  # the merged incident is as old as its oldest fragment
    assert stage.draft(small) is None  # never published: it was never a separate incident
    assert out.decisions[0].reason == GroupReason.TOPOLOGY


def test_a_published_fragment_is_closed_empty_with_a_pointer(t0: datetime) -> None:
    stage = GroupStage(None, graph())
    small, large = two_fragments(stage, t0)
    stage.tick(t0 + 70 * S)  # both published after group_wait
    assert {d.id for d in stage.take_changed()} == {small, large}
    stage.process([raise_alarm("r", "r1", "lossOfSignal", t0 + 75 * S)], t0 + 75 * S)
    gone = stage.draft(small)
    assert gone is not None
    assert gone.state is IncidentState.CLOSED
    assert not gone.members
    assert gone.timeline[-1].kind == "merged"
    assert large in gone.timeline[-1].detail
    assert {d.id for d in stage.take_changed()} == {small, large}
    # the closed fragment is forgotten after retention; the merged incident keeps every alarm
    stage.tick(t0 + timedelta(hours=2))
    assert stage.draft(small) is None
    assert stage.incident_of("x") == large


def test_without_bridging_the_fragments_stay_apart(t0: datetime) -> None:
    stage = GroupStage(GroupConfig(bridge=False), graph())
    small, large = two_fragments(stage, t0)
    stage.process([raise_alarm("r", "r1", "lossOfSignal", t0 + 2 * S)], t0 + 2 * S)
    assert stage.incident_of("x") == small
    assert stage.incident_of("y") == large


def test_siblings_under_a_hub_do_not_bridge(t0: datetime) -> None:
    stage = GroupStage(None, graph("amf", extra_dependents=3))
    small, large = two_fragments(stage, t0)
    stage.process([raise_alarm("r", "r1", "lossOfSignal", t0 + 2 * S)], t0 + 2 * S)
    assert stage.incident_of("x") == small == stage.incident_of("r")  # along its chain only
    assert stage.incident_of("y") == large


def test_a_demoted_alarm_never_bridges(t0: datetime) -> None:
    stage = GroupStage(None, graph())
    stage.may_open = lambda a: Held.NOISE if a.alarm_id == "r" else None
    small, large = two_fragments(stage, t0)
    stage.process([raise_alarm("r", "r1", "lossOfSignal", t0 + 2 * S)], t0 + 2 * S)
    assert (stage.incident_of("x"), stage.incident_of("y")) == (small, large)
    assert stage.incident_of("r") is None


def test_hub_fanout_keeps_siblings_under_a_hub_apart(t0: datetime) -> None:
    topo = graph("amf", extra_dependents=3)
    alarms = [
        raise_alarm("r", "r1", "nodeDown", t0, text="same text"),
        raise_alarm("q", "r2", "nodeDown", t0 + S, text="other words entirely"),
    ]
    loose = GroupStage(None, topo)
    loose.process(alarms, t0 + S)
    assert loose.incident_of("r") == loose.incident_of("q")  # two hops under the AMF
    strict = GroupStage(GroupConfig(hub_fanout=4), topo)
    strict.process(alarms, t0 + S)
    assert strict.incident_of("r") != strict.incident_of("q")
    assert GroupStage.from_state(strict.to_state(), topo).config.hub_fanout == 4
