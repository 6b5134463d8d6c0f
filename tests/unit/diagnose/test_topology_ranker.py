"""Root-cause ranking on small hand-made incidents: one test per piece of evidence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from nocwise.diagnose.topology_ranker import TopologyRanker, TopologyRankerConfig
from nocwise.model import (
    Alarm,
    Change,
    ChangeKind,
    Domain,
    Entity,
    EventType,
    Incident,
    IncidentState,
    Relation,
    RelationKind,
    Severity,
)
from nocwise.topology.graph import TopologyGraph

T0 = datetime(2026, 3, 1, tzinfo=UTC)
K = RelationKind
INCIDENT = Incident("inc-1", IncidentState.OPEN, T0, T0, "test")


def _graph(
    kinds: Mapping[str, str], relations: Sequence[tuple[str, str, RelationKind]]
) -> TopologyGraph:
    ents = [Entity(e, k, Domain.TRANSPORT, name=f"name-{e}") for e, k in kinds.items()]
    return TopologyGraph(ents, [Relation(a, b, k) for a, b, k in relations])


def _alarm(
    entity: str, seconds: float, cause: str = "communicationsProtocolError", **info: str
) -> Alarm:
    return Alarm(f"{entity}-{seconds}", entity, EventType.COMMUNICATIONS, cause, Severity.MAJOR,
                 T0 + timedelta(seconds=seconds), additional_info=info)  # fmt: skip


def _top(ranker: TopologyRanker, alarms: Sequence[Alarm], changes: Sequence[Change] = ()) -> str:
    return ranker.rank(INCIDENT, alarms, changes)[0].entity_id


# a link depends on the two routers it connects; nothing depends on the link
LINK = _graph({"r1": "router", "r2": "router", "l": "link"}, [("l", "r1", K.CONNECTS), ("l", "r2", K.CONNECTS)])  # fmt: skip


def test_a_silent_link_named_by_the_alarms_at_both_ends_is_the_root() -> None:
    alarms = [_alarm("r1", 0, "degradedSignal", link="l"), _alarm("r2", 20, "degradedSignal", link="l")]  # fmt: skip
    hyps = TopologyRanker(LINK).rank(INCIDENT, alarms, [])
    assert hyps[0].entity_id == "l"
    assert "mentioned" in {e.kind for e in hyps[0].evidence}


def test_without_the_mention_the_earliest_reporter_wins() -> None:
    alarms = [_alarm("r1", 0, "degradedSignal"), _alarm("r2", 20, "degradedSignal")]
    assert _top(TopologyRanker(LINK), alarms) == "r1"


def test_a_peer_named_by_name_is_resolved_and_takes_the_credit() -> None:
    alarms = [_alarm("r1", 0, peer="name-r2")]  # r2 is silent (unreachable), r1 reports it
    assert _top(TopologyRanker(LINK), alarms) == "r1"  # without names the reporter stays first
    ranker = TopologyRanker(LINK, names={"name-r1": "r1", "name-r2": "r2"})
    assert _top(ranker, alarms) == "r2"


def test_two_ends_naming_each_other_keep_their_own_alarms() -> None:
    names = {"name-r1": "r1", "name-r2": "r2"}
    alarms = [_alarm("r2", 0, peer="name-r1"), _alarm("r1", 3, peer="name-r2")]
    assert _top(TopologyRanker(LINK, names=names), alarms) == "r2"  # the earlier, as without names


# a csr carries a gNodeB which carries three cells
SITE = _graph(
    {"csr": "csr", "gnb": "gnodeb", "c1": "cell", "c2": "cell", "c3": "cell"},
    [("gnb", "csr", K.DEPENDS_ON), *((c, "gnb", K.DEPENDS_ON) for c in ("c1", "c2", "c3"))],
)


def test_a_configuration_change_just_before_the_first_alarm_outranks_the_first_alarm() -> None:
    alarms = [_alarm(c, 0, "performanceDegraded") for c in ("c1", "c2", "c3")] + [_alarm("gnb", 60)]
    change = Change("chg-1", T0 - timedelta(seconds=30), "csr", ChangeKind.CONFIGURATION)
    hyps = TopologyRanker(SITE).rank(INCIDENT, alarms, [change])
    assert hyps[0].entity_id == "csr"
    assert hyps[0].fault_type == "configuration_change"
    assert _top(TopologyRanker(SITE), alarms) == "gnb"  # without it: the first to alarm upstream


def test_the_change_before_the_alarms_is_cited_not_the_rollback_after() -> None:
    alarms = [_alarm("gnb", 0)]
    before = Change("chg-push", T0 - timedelta(seconds=30), "csr", ChangeKind.CONFIGURATION)
    after = Change("chg-back", T0 + timedelta(seconds=20), "csr", ChangeKind.CONFIGURATION)
    hyp = TopologyRanker(SITE).rank(INCIDENT, [*alarms, _alarm("gnb", 40)], [after, before])[0]
    change = next(e for e in hyp.evidence if e.kind == "change")
    assert change.data["change_id"] == "chg-push"


def test_maintenance_is_no_suspect() -> None:
    alarms = [_alarm("gnb", 0)]
    change = Change("m", T0 - timedelta(seconds=30), "csr", ChangeKind.MAINTENANCE)
    assert _top(TopologyRanker(SITE), alarms, [change]) == "gnb"


# a hub on which ten nodes depend
HUB = _graph({"hub": "core", **{f"n{i}": "node" for i in range(10)}}, [(f"n{i}", "hub", K.DEPENDS_ON) for i in range(10)])  # fmt: skip


def test_a_silent_hub_with_mostly_quiet_dependents_is_a_poor_explanation() -> None:
    alarms = [_alarm("n0", 0), _alarm("n1", 30)]
    assert _top(TopologyRanker(HUB), alarms) == "n0"


def test_a_silent_upstream_all_of_whose_dependents_alarm_is_the_root() -> None:
    alarms = [_alarm(f"n{i}", 5 * i) for i in range(10)]
    hyps = TopologyRanker(HUB).rank(INCIDENT, alarms, [])
    assert hyps[0].entity_id == "hub"
    assert hyps[0].fault_type == "unknown"  # inferred, not seen


# a router and a link that depend on each other (an uplink the router needs, which needs it)
CYCLE = _graph({"r": "router", "l": "link"}, [("l", "r", K.CONNECTS), ("r", "l", K.DEPENDS_ON)])


def test_a_dependent_that_alarmed_first_is_not_explained_by_a_later_alarm() -> None:
    alarms = [_alarm("r", 0, "processorProblem"), _alarm("l", 300, "thresholdCrossed")]
    assert _top(TopologyRanker(CYCLE), alarms) == "r"


@pytest.mark.parametrize("reverse", [False, True])
def test_probabilities_are_sorted_bounded_and_order_free(reverse: bool) -> None:
    alarms = [_alarm(f"n{i}", 5 * i) for i in range(4)]
    hyps = TopologyRanker(HUB).rank(INCIDENT, alarms[::-1] if reverse else alarms, [])
    probs = [h.probability for h in hyps]
    assert probs == sorted(probs, reverse=True)
    assert 0.0 < sum(probs) <= 1.0  # rounded probabilities too (regression: 1.0001)
    assert all(h.evidence for h in hyps)
    assert [h.entity_id for h in hyps] == [
        h.entity_id for h in TopologyRanker(HUB).rank(INCIDENT, alarms, [])
    ]


def test_no_alarms_no_hypotheses() -> None:
    assert TopologyRanker(HUB).rank(INCIDENT, [], []) == []


# links carry routers (the runtime's default reading: endpoints depend on the link); nothing
# depends on a router, so an overloaded router explains its links and peers only by timing
RING_UP = TopologyGraph(
    [Entity(e, k, Domain.TRANSPORT) for e, k in (("r1", "router"), ("r2", "router"), ("r3", "router"), ("l12", "link"), ("l13", "link"))],
    [Relation(a, b, K.DEPENDS_ON) for a, b in (("r1", "l12"), ("r2", "l12"), ("r1", "l13"), ("r3", "l13"))],
)  # fmt: skip


def test_adjacent_entities_alarming_after_a_candidate_count_for_it() -> None:
    alarms = [
        _alarm("r1", 0, "processorProblem"),
        _alarm("l12", 300, "thresholdCrossed"),
        _alarm("l13", 300, "thresholdCrossed"),
        _alarm("r2", 600),
    ]
    hyps = TopologyRanker(RING_UP).rank(INCIDENT, alarms, [])
    assert hyps[0].entity_id == "r1"
    spread = next(e for e in hyps[0].evidence if e.kind == "spread")
    assert spread.data["count"] == 3
    assert TopologyRanker(RING_UP, TopologyRankerConfig(w_spread=0.0)).rank(INCIDENT, alarms, [])[0].entity_id == "l12"  # fmt: skip


# a site: power feeds the csr and the gNodeB; the csr hangs off an access link that a
# neighbouring aggregation router terminates
SITE_POWER = TopologyGraph(
    [Entity(e, k, Domain.RAN) for e, k in (("pwr", "power"), ("csr", "csr"), ("gnb", "gnodeb"), ("acc", "link"), ("agg", "agg_router"))],
    [
        Relation("pwr", "csr", K.POWERS),
        Relation("pwr", "gnb", K.POWERS),
        Relation("gnb", "csr", K.DEPENDS_ON),
        Relation("csr", "acc", K.DEPENDS_ON),
        Relation("agg", "acc", K.DEPENDS_ON),
    ],
)  # fmt: skip


def test_a_link_named_by_its_far_end_does_not_outrank_the_dead_power_behind_it() -> None:
    alarms = [
        _alarm("pwr", 0, "batteryFailure"),
        _alarm("agg", 1, "linkDown", link="acc"),  # the far end sees the site's link go down
        _alarm("gnb", 20, "communicationsSubsystemFailure"),
        _alarm("csr", 45, "communicationsSubsystemFailure"),
    ]
    assert _top(TopologyRanker(SITE_POWER), alarms) == "pwr"


def test_an_unrelated_alarm_before_the_fault_does_not_hide_the_power_behind_it() -> None:
    """Regression: a chatty cooling alarm on the csr 90 s before mains failed made the csr look
    first, so the power no longer explained it and the csr ranked first."""
    alarms = [
        _alarm("csr", 0, "coolingSystemFailure"),
        _alarm("pwr", 98, "powerProblem"),
        _alarm("agg", 511, "powerProblem"),
        _alarm("pwr", 1890, "batteryFailure"),
        _alarm("agg", 1894, "linkDown", link="acc"),
        _alarm("csr", 1938, "communicationsSubsystemFailure"),
    ]
    assert _top(TopologyRanker(SITE_POWER), alarms) == "pwr"
