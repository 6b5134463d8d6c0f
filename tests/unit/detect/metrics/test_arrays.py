"""Bookkeeping every array detector shares: gaps, rejects, irregular sampling, growth."""

from __future__ import annotations

import numpy as np
import pytest

from nocwise.detect.metrics.arrays import decay
from nocwise.detect.metrics.seasonal import SeasonalDetector
from nocwise.detect.metrics.spike import SpikeConfig, SpikeDetector
from nocwise.detect.metrics.trend import TrendDetector
from nocwise.model.errors import InvalidRecordError
from nocwise.model.metrics import MetricBatch
from nocwise.model.state import ModelState


def test_gaps_are_counted_and_reported() -> None:
    ts = np.concatenate([np.arange(50), np.arange(100, 150)]) * 60_000
    det = SpikeDetector()
    det.learn(MetricBatch.of(np.zeros(100), ts, np.ones(100)))
    health = det.health()
    assert health["gaps"][0] == 1
    assert health["count"][0] == 100
    assert health["dt_ms"][0] == pytest.approx(60_000)


def test_out_of_order_and_non_finite_samples_are_rejected_and_counted() -> None:
    det = SpikeDetector()
    batch = MetricBatch.of([0, 0, 0, 0], [1000, 2000, 1500, 3000], [1.0, 2.0, 3.0, np.inf])
    out = det.score_learn(batch)
    assert np.all(np.isnan(out))  # cold, and rejected
    assert det.health()["rejected"][0] == 2
    assert det.health()["count"][0] == 2


def test_negative_series_ids_raise() -> None:
    with pytest.raises(InvalidRecordError):
        SpikeDetector().learn(MetricBatch.of([-1], [0], [1.0]))


def _level_after(last_ts_s: float) -> float:
    """A fast baseline after 30 zeros one minute apart and a 1.0 at ``last_ts_s``."""
    det = SpikeDetector(SpikeConfig(alphas=(0.1,), warmup=1))
    ts = np.append(np.arange(30) * 60.0, last_ts_s) * 1000
    values = np.append(np.zeros(30), 1.0)
    det.learn(MetricBatch.of(np.zeros(31), ts.astype(np.int64), values))
    return float(det.to_state().arrays["loc"][0, 0])


def test_a_gap_decays_by_elapsed_time() -> None:
    """A sample after a gap (8 typical intervals, over gap_factor 6) moves a fast baseline
    more than one on time: the state has aged by the outage."""
    assert _level_after(37 * 60) > _level_after(30 * 60)


def test_between_gaps_every_sample_is_one_step() -> None:
    """Early, late or after a few missed samples, a sample within the gap factor moves the
    baseline exactly as much as one on time: jitter neither under- nor over-weights it."""
    on_time = _level_after(30 * 60)
    for last in (29 * 60 + 1, 29 * 60 + 30, 30 * 60 + 30, 34 * 60):
        assert _level_after(last) == on_time


def test_a_repeated_timestamp_does_not_blow_up_the_trend_slope() -> None:
    """Regression: an interval of zero (a repeated timestamp, or the first sample after the
    clock stepped back) was a step of k = 0, and the trend member divided the level's change
    by it: z of ~6e6 on a flat noisy series (NAB had six such false alarms)."""
    rng = np.random.default_rng(0)
    ts = np.arange(300) * 60_000
    ts[200:] -= 60_000  # sample 200 repeats the timestamp of sample 199
    values = 10.0 + rng.normal(size=300)
    z = TrendDetector().raw(MetricBatch.of(np.zeros(300), ts, values), learn=True)
    assert np.nanmax(z[200:]) < 2.0 * np.nanmax(z[:200])


@pytest.mark.parametrize("alpha", [1.0, 0.25, 0.02, 1e-4, 0.0])
def test_decay_is_one_minus_keep_to_the_k_near_and_far_from_one_interval(alpha: float) -> None:
    """``1 - (1 - alpha) ** k`` (in extended precision) to 1e-14 relative, k floored at 0.1."""
    ks = np.concatenate([1 + np.linspace(-0.05, 0.05, 201), np.linspace(0.0, 60.0, 241)])
    wide = np.longdouble
    for k in ks:
        want = float(1 - (wide(1) - wide(alpha)) ** wide(max(k, 0.1)))
        assert decay(alpha, float(k)) == pytest.approx(want, rel=1e-14, abs=1e-300)
    assert decay(alpha, 1.0) == alpha


def test_unseen_ids_grow_state_without_touching_known_series() -> None:
    det = SpikeDetector()
    det.learn(MetricBatch.of(np.zeros(40), np.arange(40) * 1000, np.arange(40.0)))
    before = det.to_state().arrays["loc"][:, 0].copy()
    det.learn(MetricBatch.of([7], [0], [5.0]))
    assert det.n_series == 8
    assert np.array_equal(det.to_state().arrays["loc"][:, 0], before)


def test_seasonal_bins_are_compact_and_a_version_1_snapshot_migrates() -> None:
    det = SeasonalDetector()
    ts = np.arange(3 * 1440) * 60_000
    det.learn(MetricBatch.of(np.zeros(ts.size), ts, np.sin(ts / 3e6) + 5.0))
    state = det.to_state()
    assert state.arrays["loc"].dtype == np.float32
    assert state.arrays["cnt"].dtype == np.uint16
    old = ModelState(
        state.schema,
        1,
        state.params,
        {k: np.asarray(v, dtype=np.float64) for k, v in state.arrays.items()},
    )
    back = SeasonalDetector.from_state(old).to_state()
    assert back.version == 2
    assert all(np.array_equal(back.arrays[k], v) for k, v in state.arrays.items())
