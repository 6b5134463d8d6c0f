"""Learned alarm-type causality: recovery on simulated Hawkes cascades, state, determinism."""

from __future__ import annotations

import contextlib

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nocwise.correlate.causality import AlarmCausalConfig, AlarmCausalModel, AlarmEvents
from nocwise.correlate.causality.excitation import excitation, ring_lists
from nocwise.correlate.causality.lift import cooccurrence_lift
from nocwise.correlate.causality.loader import parse_alarm_csv, parse_matrix_csv
from nocwise.model.errors import InvalidRecordError
from nocwise.model.state import ModelState

TRUE_EDGES = {(0, 1), (1, 2), (0, 3)}


def simulate(
    edges: set[tuple[int, int]],
    n_types: int,
    topology: npt.NDArray[np.bool_] | None,
    n_devices: int,
    seed: int,
    span: float = 200_000.0,
    base_rate: float = 2e-4,
    branching: float = 0.6,
    decay: float = 10.0,
    on_neighbour: bool = False,
) -> AlarmEvents:
    """A topological Hawkes cascade: each edge's child lands on the same device or a neighbour."""
    rng = np.random.default_rng(seed)
    queue: list[tuple[float, int, int]] = []
    for d in range(n_devices):
        for k in range(n_types):
            n = rng.poisson(base_rate * span)
            queue += [(float(t), k, d) for t in rng.uniform(0, span, n)]
    out = []
    while queue:
        t, k, d = queue.pop()
        out.append((t, k, d))
        for u, v in edges:
            if u != k:
                continue
            for _ in range(rng.poisson(branching)):
                target = d
                if on_neighbour and topology is not None:
                    target = int(rng.choice(np.nonzero(topology[d])[0]))
                tc = t + rng.exponential(decay)
                if tc < span:
                    queue.append((tc, v, target))
    arr = np.array(sorted(out))
    return AlarmEvents(arr[:, 0], arr[:, 1].astype(np.int64), arr[:, 2].astype(np.int64))


def ring_topology(n: int) -> npt.NDArray[np.bool_]:
    topo = np.zeros((n, n), dtype=bool)
    idx = np.arange(n)
    topo[idx, (idx + 1) % n] = True
    topo[(idx + 1) % n, idx] = True
    return topo


def is_acyclic(adj: npt.NDArray[np.bool_]) -> bool:
    """Peel off types without parents; a cycle leaves some behind."""
    left = np.ones(adj.shape[0], dtype=bool)
    while left.any():
        roots = left & ~adj[left].any(axis=0)
        if not roots.any():
            return False
        left &= ~roots
    return True


@pytest.fixture(scope="module")
def cascade() -> AlarmEvents:
    return simulate(TRUE_EDGES, 5, None, 12, seed=7)


def test_recovers_the_simulated_direct_causes(cascade: AlarmEvents) -> None:
    model = AlarmCausalModel(AlarmCausalConfig(ancestral=False)).fit(cascade, None, n_types=5)
    assert {(c, e) for c, e, _ in model.edges()} == TRUE_EDGES


def test_adds_the_indirect_cause_along_the_chain(cascade: AlarmEvents) -> None:
    model = AlarmCausalModel().fit(cascade, None, n_types=5)
    assert {(c, e) for c, e, _ in model.edges()} == TRUE_EDGES | {(0, 2)}
    assert 0.0 < model.strength(0, 2) < model.strength(1, 2)


def test_recovers_causes_that_act_on_topology_neighbours() -> None:
    topo = ring_topology(12)
    events = simulate({(0, 1), (2, 1)}, 3, topo, 12, seed=3, on_neighbour=True)
    with_topology = AlarmCausalModel(AlarmCausalConfig(ancestral=False)).fit(events, topo, 3)
    assert {(c, e) for c, e, _ in with_topology.edges()} == {(0, 1), (2, 1)}


def test_strength_is_a_share_and_edges_are_sorted(cascade: AlarmEvents) -> None:
    model = AlarmCausalModel().fit(cascade, None, n_types=5)
    strengths = [s for _, _, s in model.edges()]
    assert strengths == sorted(strengths, reverse=True)
    assert all(0.0 < s <= 1.0 for s in strengths)
    assert model.strength(1, 0) == 0.0
    assert model.strength(0, 99) == 0.0


def test_state_round_trip_keeps_graph_and_strengths(cascade: AlarmEvents) -> None:
    model = AlarmCausalModel().fit(cascade, None, n_types=5)
    again = AlarmCausalModel.from_state(ModelState.from_bytes(model.to_state().to_bytes()))
    assert again.edges() == model.edges()
    assert again.config == model.config


def test_strength_by_type_name_for_grouping(cascade: AlarmEvents) -> None:
    names = ["powerFail", "linkDown", "losAlarm", "fanFail", "tempHigh"]
    model = AlarmCausalModel().fit(cascade, None, n_types=5, type_names=names)
    again = AlarmCausalModel.from_state(model.to_state())
    assert again.strength("powerFail", "linkDown") == model.strength(0, 1) > 0.0
    assert again.strength("linkDown", "powerFail") == 0.0
    assert again.strength("unknown", "linkDown") == 0.0


def test_state_of_another_model_is_refused() -> None:
    with pytest.raises(InvalidRecordError):
        AlarmCausalModel.from_state(ModelState("nocwise.other", 1))


def test_fit_is_deterministic(cascade: AlarmEvents) -> None:
    first = AlarmCausalModel().fit(cascade, None, n_types=5)
    second = AlarmCausalModel().fit(cascade, None, n_types=5)
    assert first.edges() == second.edges()
    np.testing.assert_array_equal(first.gain, second.gain)


def test_empty_history_learns_no_edges() -> None:
    empty = AlarmEvents(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    model = AlarmCausalModel().fit(empty, None, n_types=3)
    assert model.edges() == []
    assert model.n_types == 3


@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.integers(0, 3), st.integers(0, 2)),
        min_size=1,
        max_size=60,
    ),
    st.booleans(),
)
@settings(max_examples=30, deadline=None)
@example(rows=[(0, 0, 0), (16, 1, 0), (17, 1, 1), (20, 2, 0)], with_topology=True)  # share 1+1e-16
def test_any_history_gives_an_acyclic_graph_with_shares(
    rows: list[tuple[int, int, int]], with_topology: bool
) -> None:
    arr = np.array(sorted(rows), dtype=np.int64)
    events = AlarmEvents(arr[:, 0].astype(np.float64), arr[:, 1].copy(), arr[:, 2].copy())
    topo = ring_topology(3) if with_topology else None
    model = AlarmCausalModel().fit(events, topo, n_types=6)
    adj = model.adjacency.astype(np.int64)
    assert model.n_types == 6
    assert is_acyclic(model.adjacency)
    assert all(0.0 <= s <= 1.0 for _, _, s in model.edges())
    assert not adj[4:].any()  # types never seen stay isolated
    assert not adj[:, 4:].any()


def test_excitation_decays_and_ignores_ties() -> None:
    ts = np.array([0.0, 10.0, 10.0])
    types = np.array([0, 1, 0], dtype=np.int64)
    dev = np.zeros(3, dtype=np.int64)
    x = excitation(ts, types, dev, 2, 1, ring_lists(None, 1, 0), tau=10.0)
    np.testing.assert_allclose(x[0, 1], [np.exp(-1.0), 0.0])  # the tie at t=10 does not count
    np.testing.assert_allclose(x[0, 0], [0.0, 0.0])


def test_excitation_counts_ties_when_asked_but_never_the_alarm_itself() -> None:
    ts = np.array([0.0, 10.0, 10.0])
    types = np.array([0, 1, 0], dtype=np.int64)
    dev = np.zeros(3, dtype=np.int64)
    x = excitation(ts, types, dev, 2, 1, ring_lists(None, 1, 0), 10.0, include_ties=True)
    np.testing.assert_allclose(x[0, 1], [np.exp(-1.0) + 1.0, 0.0])
    np.testing.assert_allclose(x[0, 2], [np.exp(-1.0), 1.0])
    np.testing.assert_allclose(x[0, 0], [0.0, 0.0])


def test_lift_peer_finds_a_pair_that_always_follows() -> None:
    events = simulate({(0, 1)}, 3, None, 6, seed=1, branching=1.5)
    adj = cooccurrence_lift(events, None, 3)
    assert adj[0, 1]
    assert not adj.diagonal().any()


@given(
    st.lists(st.tuples(st.integers(0, 30), st.integers(0, 50), st.integers(0, 10**9)), max_size=30)
)
@settings(max_examples=50, deadline=None)
def test_alarm_csv_round_trips(rows: list[tuple[int, int, int]]) -> None:
    text = "alarm_id,device_id,start_timestamp,end_timestamp\n" + "".join(
        f"{a},{d},{t},{t + 5}\n" for a, d, t in rows
    )
    events = parse_alarm_csv(text)
    assert events.alarm_type.tolist() == [a for a, _, _ in rows]
    assert events.device.tolist() == [d for _, d, _ in rows]
    assert events.ts.tolist() == [float(t) for _, _, t in rows]


@given(st.text(max_size=200))
@settings(max_examples=100, deadline=None)
@example(text="9223372036854775808")  # regression: an int64 overflow escaped as OverflowError
def test_parsers_reject_garbage_with_one_error(text: str) -> None:
    for parse in (parse_alarm_csv, parse_matrix_csv):
        with contextlib.suppress(InvalidRecordError):
            parse(text)
