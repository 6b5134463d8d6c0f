"""Episodes: one alarm per anomalous stretch, hysteresis, suppression, and the peak gate."""

from __future__ import annotations

import numpy as np
import pytest

from nocwise.detect.metrics.episodes import EpisodeConfig, EpisodeTracker, gate_state, peak_gate
from nocwise.model.metrics import MetricBatch
from nocwise.model.state import ModelState


def feed(tracker: EpisodeTracker, probs: list[float], series: int = 0, start: int = 0):
    n = len(probs)
    steps = np.arange(start, start + n)
    batch = MetricBatch.of([series] * n, steps * 60_000, steps.astype(float))
    p = np.array(probs)
    return tracker.update(batch, p, p - 1, p + 1, ["spike"] * n, "v1")


def test_one_episode_gives_one_alarm_and_one_clear() -> None:
    events = feed(EpisodeTracker(), [0.1, 0.95, 0.99, 0.92, 0.5, 0.4, 0.3, 0.1])
    assert len(events.opened) == 1
    assert events.opened[0].ts_ms == 60_000
    assert events.opened[0].detector == "spike"
    assert events.opened[0].model_version == "v1"
    assert events.closed == [(0, 6 * 60_000)]


def test_hysteresis_keeps_an_episode_open_between_off_and_on() -> None:
    events = feed(EpisodeTracker(), [0.95, 0.8, 0.85, 0.75, 0.95, 0.8])
    assert len(events.opened) == 1
    assert events.closed == []


def test_a_recrossing_within_suppress_continues_the_same_episode() -> None:
    cfg = EpisodeConfig(clear_after=1, suppress=5)
    probs = [0.95, 0.1, 0.1, 0.95, 0.1] + [0.1] * 6 + [0.95]
    events = feed(EpisodeTracker(cfg), probs)
    assert [a.ts_ms // 60_000 for a in events.opened] == [0, 11]


@pytest.mark.parametrize("split", [1, 3, 5])
def test_state_round_trip_continues_identically(split: int) -> None:
    probs = [0.1, 0.95, 0.99, 0.2, 0.1, 0.1, 0.1, 0.97]
    cfg = EpisodeConfig(clear_after=2, suppress=1)
    whole = feed(EpisodeTracker(cfg), probs)
    first = EpisodeTracker(cfg)
    head = feed(first, probs[:split])
    second = EpisodeTracker.from_state(ModelState.from_bytes(first.to_state().to_bytes()))
    tail = feed(second, probs[split:], start=split)
    assert whole.opened == head.opened + tail.opened
    assert whole.closed == head.closed + tail.closed


def test_series_are_independent() -> None:
    tracker = EpisodeTracker()
    feed(tracker, [0.95], series=0)
    assert len(feed(tracker, [0.95], series=1).opened) == 1
    assert tracker.open_series().tolist() == [0, 1]


def test_peak_gate_keeps_only_new_peaks() -> None:
    series = np.zeros(6, dtype=np.int64)
    prob = np.array([0.2, 0.9, 0.8, 0.95, np.nan, 0.3])
    out = peak_gate(series, prob, gate_state(1), decay=1.0)
    assert out[:4].tolist() == [0.2, 0.9, 0.0, 0.95]
    assert np.isnan(out[4])
    assert out[5] == 0.0


def test_refractory_gate_silences_repeats_of_a_clear_alarm_for_hold_samples() -> None:
    series = np.zeros(6, dtype=np.int64)
    prob = np.array([0.9, 0.95, 0.97, 0.99, 0.995, 0.999])
    plain = peak_gate(series, prob, gate_state(1), decay=0.5)
    held = peak_gate(series, prob, gate_state(1), decay=0.5, hold=3, margin=0.15)
    assert plain.tolist() == prob.tolist()
    # 0.9 * 1.15 > 1: nothing passes for three samples, then the gate is open again
    assert held.tolist() == [0.9, 0.0, 0.0, 0.0, 0.995, 0.0]


def test_refractory_gate_lets_a_clearly_stronger_sample_overtake_a_marginal_one() -> None:
    series = np.zeros(3, dtype=np.int64)
    prob = np.array([0.55, 0.6, 0.7])
    out = peak_gate(series, prob, gate_state(1), decay=1.0, hold=10, margin=0.15)
    assert out.tolist() == [0.55, 0.0, 0.7]


def test_refractory_gate_keeps_series_apart() -> None:
    series = np.array([0, 1, 0, 1], dtype=np.int64)
    prob = np.array([0.9, 0.6, 0.95, 0.8])
    out = peak_gate(series, prob, gate_state(2), decay=0.5, hold=5, margin=0.15)
    assert out.tolist() == [0.9, 0.6, 0.0, 0.8]
