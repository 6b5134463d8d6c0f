"""Sequence detector: n-gram surprise over template ids per session or entity."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nocwise.detect.logs.anomalies import LogAnomalyKind
from nocwise.detect.logs.events import LogEvents
from nocwise.detect.logs.ngram import BOS, EOS, UNSEEN_RANK, NgramTable
from nocwise.detect.logs.sequence import SequenceConfig, SequenceDetector, session_transitions
from nocwise.model.errors import InvalidRecordError
from nocwise.model.state import ModelState

WORKFLOWS = ([1, 2, 3, 4, 4, 5], [1, 2, 4, 3, 4, 5], [1, 3, 2, 4, 4, 5, 6])


def normal_sessions(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sessions that follow one of three workflows (the last one rarer)."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(WORKFLOWS), size=n, p=[0.5, 0.4, 0.1])
    rows = [np.array(WORKFLOWS[p], dtype=np.int64) for p in picks]
    return pack(rows)


def pack(rows: list[list[int]] | list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    arrays = [np.asarray(r, dtype=np.int64) for r in rows]
    lengths = np.array([a.size for a in arrays], dtype=np.int64)
    return np.concatenate(arrays), np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


@pytest.fixture
def fitted() -> SequenceDetector:
    det = SequenceDetector(SequenceConfig(order=3))
    det.fit_sessions(*normal_sessions(400))
    return det


def stream(sessions: list[list[int]], start_ms: int = 0) -> LogEvents:
    """Interleave sessions line by line, one entity per session."""
    ts, ent, tpl = [], [], []
    step = 0
    for pos in range(max(len(s) for s in sessions)):
        for e, s in enumerate(sessions):
            if pos < len(s):
                ts.append(start_ms + step)
                ent.append(e)
                tpl.append(s[pos])
                step += 1
    return LogEvents.of(ts, ent, tpl, [6] * len(ts))


def test_transitions_pad_each_session_and_end_it() -> None:
    context, target, session = session_transitions(*pack([[7, 8], [9]]), order=3)
    assert target.tolist() == [7, 8, EOS, 9, EOS]
    assert session.tolist() == [0, 0, 0, 1, 1]
    assert context.tolist() == [[BOS, BOS], [7, BOS], [8, 7], [BOS, BOS], [9, BOS]]


def test_normal_sessions_pass_and_an_unseen_transition_is_flagged(fitted: SequenceDetector) -> None:
    scores = fitted.score_sessions(*pack([WORKFLOWS[0], WORKFLOWS[1], [1, 2, 9, 3, 4, 4, 5]]))
    assert scores.is_anomaly.tolist() == [False, False, True]
    assert scores.position[2] == 2  # the unseen 9 after 2 is where it went wrong
    assert scores.unseen.tolist() == [0, 0, 1]


def test_a_session_cut_short_is_flagged_at_its_end(fitted: SequenceDetector) -> None:
    scores = fitted.score_sessions(*pack([[1, 2]]))
    assert scores.is_anomaly.tolist() == [True]
    assert scores.position[0] == 2


def test_streaming_reports_an_unseen_transition_once_with_evidence(
    fitted: SequenceDetector,
) -> None:
    events = stream([WORKFLOWS[0], [1, 2, 9, 9, 9, 5]])
    anomalies = fitted.process(events, learn=False)
    assert len(anomalies) == 1
    a = anomalies[0]
    assert a.kind is LogAnomalyKind.UNEXPECTED_SEQUENCE
    assert a.entity_id == "1"
    assert a.template_ids == (9,)
    assert a.evidence["context"] == [1, 2]
    assert a.evidence["expected"][0]["template"] in (3, 4)
    assert a.score > fitted.threshold


def test_streaming_surprise_equals_session_surprise(fitted: SequenceDetector) -> None:
    sessions = [WORKFLOWS[2], [1, 2, 9, 3], WORKFLOWS[0]]
    det = SequenceDetector.from_state(fitted.to_state())
    events = stream(sessions)
    per_line = det.score(events)
    worst = np.full(len(sessions), -np.inf)
    np.maximum.at(worst, events.entity, per_line)
    # the session score also includes the end, so it can only be larger
    session_worst = fitted.score_sessions(*pack(sessions)).surprise
    assert np.all(worst <= session_worst + 1e-12)
    assert np.isclose(worst[1], session_worst[1])


def test_two_batches_give_the_same_anomalies_as_one(fitted: SequenceDetector) -> None:
    events = stream([WORKFLOWS[0], [1, 2, 9, 3, 4, 5], [1, 3, 3, 3]])
    whole = SequenceDetector.from_state(fitted.to_state()).process(events, learn=False)
    split = SequenceDetector.from_state(fitted.to_state())
    half = len(events) // 2
    parts = [
        LogEvents(events.ts_ms[s], events.entity[s], events.template[s], events.severity[s])
        for s in (slice(0, half), slice(half, None))
    ]
    got = [a for p in parts for a in split.process(p, learn=False)]
    assert [(a.entity_id, a.ts_ms, a.template_ids) for a in got] == [
        (a.entity_id, a.ts_ms, a.template_ids) for a in whole
    ]


def test_end_sessions_reports_an_early_end_and_resets(fitted: SequenceDetector) -> None:
    fitted.process(stream([[1, 2], WORKFLOWS[0]]), learn=False)
    out = fitted.end_sessions(np.array([0, 1]), 99, learn=False, entity_names=["blk_a", "blk_b"])
    assert [a.entity_id for a in out] == ["blk_a"]
    assert out[0].evidence["reason"] in ("unexpected_end", "unusual_counts")
    assert not fitted.is_open.any()
    assert (fitted.history == BOS).all()


def test_unusual_counts_are_reported_when_the_order_looks_normal() -> None:
    det = SequenceDetector(SequenceConfig(order=2))
    det.fit_sessions(*pack([[1, 2, 2, 3]] * 50 + [[1, 2, 3]] * 50))
    det.process(stream([[1, 2, 2, 2, 2, 2, 2, 3]]), learn=False)
    out = det.end_sessions(np.array([0]), 5, learn=False)
    assert len(out) == 1
    assert out[0].evidence["reason"] == "unusual_counts"
    assert out[0].evidence["observed_minus_nearest_normal"] == {"2": 4}


def test_tick_ends_idle_sessions_only() -> None:
    det = SequenceDetector(SequenceConfig(order=3, session_idle=timedelta(seconds=10)))
    det.fit_sessions(*normal_sessions(200))
    det.process(LogEvents.of([0, 0, 9_000], [0, 0, 1], [1, 2, 1], [6, 6, 6]), learn=False)
    out = det.tick(12_000, learn=False)
    assert [a.entity_id for a in out] == ["0"]
    assert det.is_open.tolist() == [False, True]


def test_state_round_trip_continues_identically(fitted: SequenceDetector) -> None:
    first, second = stream([[1, 2, 3]]), stream([[4, 9, 5]], start_ms=100)
    fitted.process(first)
    copy = SequenceDetector.from_state(ModelState.from_bytes(fitted.to_state().to_bytes()))
    assert copy.threshold == fitted.threshold
    a = fitted.process(second) + fitted.end_sessions(np.array([0]), 200)
    b = copy.process(second) + copy.end_sessions(np.array([0]), 200)
    assert a == b


def test_state_of_another_schema_is_refused() -> None:
    with pytest.raises(InvalidRecordError):
        SequenceDetector.from_state(ModelState("nocwise.detect.other", 1))


def test_learning_on_normal_lines_only_by_default(fitted: SequenceDetector) -> None:
    before = fitted.table.pair_count.sum()
    fitted.process(stream([[1, 2, 9, 9]]))
    after = fitted.table.pair_count.sum()
    assert after - before == 2 * fitted.config.order  # lines 1 and 2, at every order


def test_empty_batch_gives_no_anomaly(fitted: SequenceDetector) -> None:
    assert fitted.process(LogEvents.empty()) == []
    assert fitted.end_sessions(np.array([], dtype=np.int64), 0) == []


def test_top_g_rank_marks_unseen_successors() -> None:
    table = NgramTable.empty(2).learn(np.array([[1], [1], [1], [1]]), np.array([2, 2, 3, 2]))
    ranks = table.rank(np.array([[1], [1], [1]]), np.array([2, 3, 4]))
    assert ranks.tolist() == [0, 1, UNSEEN_RANK]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 6), min_size=1, max_size=8), min_size=2, max_size=12),
    st.integers(1, 4),
)
def test_learning_in_two_parts_equals_learning_at_once(rows: list[list[int]], order: int) -> None:
    half = len(rows) // 2
    once = NgramTable.empty(order).learn(*session_transitions(*pack(rows), order)[:2])
    twice = NgramTable.empty(order)
    for part in (rows[:half], rows[half:]):
        twice = twice.learn(*session_transitions(*pack(part), order)[:2])
    context, target, _ = session_transitions(*pack(rows), order)
    assert np.array_equal(once.pair_key, twice.pair_key)
    assert np.allclose(once.probability(context, target), twice.probability(context, target))
    assert np.all(
        (once.probability(context, target) > 0) & (once.probability(context, target) <= 1)
    )


def test_fitting_needs_a_session_per_fold() -> None:
    with pytest.raises(ValueError, match="at least 5 sessions"):
        SequenceDetector().fit_sessions(*pack([[1, 2], [1, 2]]))
