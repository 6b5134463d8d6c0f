"""Grouping's causality learned from history and from operators' merges and splits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from nocwise.correlate.incidents import Feedback
from nocwise.correlate.learning import (
    FeedbackCausality,
    device_adjacency,
    feedback_pairs,
    learn_causality,
)
from nocwise.correlate.pipeline import CorrelateConfig, build_correlator
from nocwise.correlate.synthetic import raise_alarm
from nocwise.model import Alarm, Domain, Entity, ModelState, Relation, RelationKind
from nocwise.topology.graph import TopologyGraph

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _sites(n: int) -> TopologyGraph:
    """n sites: a power plant feeding a router each."""
    entities, relations = [], []
    for i in range(n):
        entities += [
            Entity(f"pwr-{i}", "power", Domain.POWER),
            Entity(f"csr-{i}", "csr", Domain.TRANSPORT),
        ]
        relations.append(Relation(f"pwr-{i}", f"csr-{i}", RelationKind.POWERS))
    return TopologyGraph(entities, relations)


def _history(n_sites: int, seed: int) -> list[Alarm]:
    """Power failures followed within seconds by the router going down; unrelated noise."""
    rng = np.random.default_rng(seed)
    out: list[Alarm] = []
    for k in range(200):
        site = int(rng.integers(n_sites))
        at = T0 + timedelta(hours=k)
        out.append(raise_alarm(f"p{k}", f"pwr-{site}", "powerProblem", at))
        lag = timedelta(seconds=float(rng.uniform(1, 20)))
        out.append(raise_alarm(f"c{k}", f"csr-{site}", "nodeDown", at + lag))
        other = int(rng.integers(n_sites))
        noise_at = at + timedelta(minutes=float(rng.uniform(5, 55)))
        out.append(raise_alarm(f"n{k}", f"csr-{other}", "fanFailure", noise_at))
    return out


def test_power_then_router_down_is_learned_and_noise_is_not() -> None:
    graph = _sites(20)
    model = learn_causality(_history(20, seed=1), graph)
    assert model.strength("powerProblem", "nodeDown") > 0.5
    assert model.strength("fanFailure", "nodeDown") == 0.0
    assert model.strength("powerProblem", "fanFailure") == 0.0


def test_devices_are_adjacent_through_dependencies_within_reach() -> None:
    graph = _sites(2)
    adj = device_adjacency(graph, ["pwr-0", "csr-0", "csr-1"], reach=2)
    assert adj[0, 1]
    assert adj[1, 0]
    assert not adj[0, 2]
    assert not adj[1, 2]


def _feedback(action: str, incident: str, moved: tuple[str, ...]) -> Feedback:
    return Feedback(T0, "ana", action, (incident, "INC-other"), moved)


def test_merges_vote_for_a_pair_and_splits_against_it() -> None:
    type_of = {"a1": "powerProblem", "b1": "linkDown", "b2": "linkDown", "c1": "fanFailure"}
    fb = [
        _feedback("merge", "INC-a", ("b1",)),
        _feedback("merge", "INC-a", ("b2",)),
        _feedback("split", "INC-a", ("c1",)),
    ]
    members = {"INC-a": ["a1", "b1", "b2"]}  # c1 was split off, so it is not a member now
    votes = feedback_pairs(fb, members, type_of)
    # the split's moved alarm is gone from INC-a: it votes against the types that stayed
    assert votes == {
        ("fanFailure", "linkDown"): -1,
        ("fanFailure", "powerProblem"): -1,
        ("linkDown", "powerProblem"): 2,
    }


def test_votes_move_learned_strengths_and_survive_a_snapshot() -> None:
    graph = _sites(20)
    learned = learn_causality(_history(20, seed=2), graph)
    before = learned.strength("powerProblem", "nodeDown")
    model = FeedbackCausality(learned, {("nodeDown", "powerProblem"): -1, ("a", "b"): 1})
    assert model.strength("powerProblem", "nodeDown") == max(0.0, before - 0.5)
    assert model.strength("b", "a") == 0.5
    again = FeedbackCausality.from_state(ModelState.from_bytes(model.to_state().to_bytes()))
    assert again.votes == model.votes
    assert again.strength("powerProblem", "nodeDown") == model.strength("powerProblem", "nodeDown")
    assert again.base is not None
    assert again.base.strength("powerProblem", "nodeDown") == before


def test_empty_history_learns_nothing_and_never_raises() -> None:
    model = learn_causality([], _sites(1))
    assert model.n_types == 0
    assert model.strength("x", "y") == 0.0
    corr = build_correlator(CorrelateConfig(), _sites(1), FeedbackCausality(model, {}))
    assert corr.open_alarms() == []
