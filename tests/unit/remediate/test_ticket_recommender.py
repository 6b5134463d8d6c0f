"""Ticket-based remediation: text kNN weighed with what history did on entities of the root's kind."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from nocwise.model import (
    Alarm,
    Domain,
    Entity,
    EventType,
    Hypothesis,
    Incident,
    IncidentState,
    Severity,
    Ticket,
    TicketStatus,
)
from nocwise.remediate.tickets import RecommenderConfig, TicketRecommender, incident_text
from nocwise.topology.graph import TopologyGraph

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def graph() -> TopologyGraph:
    ents = [
        Entity("l1", "link", Domain.TRANSPORT),
        Entity("l2", "link", Domain.TRANSPORT),
        Entity("p1", "power", Domain.RAN),
        Entity("p2", "power", Domain.RAN),
        Entity("g1", "gnodeb", Domain.RAN),
    ]
    return TopologyGraph(ents, [])


def _ticket(i: int, text: str, code: str, entity: str) -> Ticket:
    return Ticket(
        f"T{i}",
        text,
        "",
        "Major",
        TicketStatus.CLOSED,
        T0,
        related_entities=(entity,),
        resolution=f"done\nClosure code: {code}",
    )


# Both fixes are written with the same words ("sites down"), so text alone cannot tell them
# apart; the entity the ticket was raised on can.
HISTORY = [
    *(
        _ticket(i, "sites down behind it", "FIBRE_REPAIR", "l1" if i % 2 else "l2")
        for i in range(6)
    ),
    *(
        _ticket(10 + i, "sites down on battery", "POWER_TECH", "p1" if i % 2 else "p2")
        for i in range(6)
    ),
]


def _incident(root: str, p: float = 0.9) -> Incident:
    return Incident(
        "inc-1",
        IncidentState.OPEN,
        T0,
        T0,
        "sites down",
        hypotheses=(Hypothesis(root, "x", p), Hypothesis("g1", "x", 1 - p)),
    )


def _alarm() -> Alarm:
    return Alarm("a1", "g1", EventType.COMMUNICATIONS, "lossOfSignal", Severity.MAJOR, T0,
                 additional_text="sites down")  # fmt: skip


def test_kind_of_suspected_root_breaks_a_text_tie(graph: TopologyGraph) -> None:
    rec = TicketRecommender.fit(HISTORY)
    on_link = rec.recommend(_incident("l1"), [_alarm()], graph)
    on_power = rec.recommend(_incident("p2"), [_alarm()], graph)
    assert on_link[0].action == "FIBRE_REPAIR"
    assert on_power[0].action == "POWER_TECH"
    assert {e.kind for e in on_link[0].evidence} == {"similar_tickets", "root_kind"}


def test_confidences_sum_to_one_and_are_sorted(graph: TopologyGraph) -> None:
    recs = TicketRecommender.fit(HISTORY).recommend(_incident("l1"), [_alarm()], graph)
    conf = [r.confidence for r in recs]
    assert conf == sorted(conf, reverse=True)
    assert sum(conf) == pytest.approx(1.0, abs=1e-3)


def test_kind_prior_is_smoothed_and_uniform_for_unseen_kinds(graph: TopologyGraph) -> None:
    rec = TicketRecommender.fit(HISTORY)
    link = rec.kind_prior("link", graph)
    assert link["FIBRE_REPAIR"] == pytest.approx(7 / 8)
    assert link["POWER_TECH"] == pytest.approx(1 / 8)
    assert rec.kind_prior("gnodeb", graph) == {"FIBRE_REPAIR": 0.5, "POWER_TECH": 0.5}


def test_without_the_prior_text_alone_decides(graph: TopologyGraph) -> None:
    rec = TicketRecommender.fit(HISTORY, RecommenderConfig(kind_weight=0.0))
    recs = rec.recommend(_incident("l1"), [_alarm()], graph)
    assert {e.kind for r in recs for e in r.evidence} == {"similar_tickets"}


def test_no_similar_ticket_recommends_nothing(graph: TopologyGraph) -> None:
    rec = TicketRecommender.fit(HISTORY, RecommenderConfig(min_similarity=0.99))
    assert rec.recommend(_incident("l1"), [_alarm()], graph) == []


def test_no_history_recommends_nothing(graph: TopologyGraph) -> None:
    assert TicketRecommender.fit([]).recommend(_incident("l1"), [_alarm()], graph) == []


def test_incident_text_describes_the_suspected_root_once(graph: TopologyGraph) -> None:
    def alarm(i: int, entity: str, text: str, **info: str) -> Alarm:
        return Alarm(f"a{i}", entity, EventType.COMMUNICATIONS, "x", Severity.MAJOR, T0,
                     additional_text=text, additional_info=info)  # fmt: skip

    alarms = [
        alarm(1, "l1", "loss of light"),
        alarm(2, "l1", "loss of light"),
        alarm(3, "g1", "cell on battery"),
        alarm(4, "p1", "rx power low", link="l1"),  # reported elsewhere, about the root
    ]
    text = incident_text(_incident("l1"), alarms, graph)
    assert text.count("loss of light") == 1
    assert "rx power low" in text
    assert "battery" not in text  # a symptom downstream reads like other faults' tickets
    no_root = replace(_incident("l1"), hypotheses=())
    assert "battery" in incident_text(no_root, alarms, graph)
