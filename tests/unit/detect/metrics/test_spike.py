"""Spike member: a value the series has already taken at its extreme is not a spike."""

from __future__ import annotations

import numpy as np

from nocwise.detect.metrics.spike import SpikeDetector
from nocwise.model.metrics import MetricBatch
from nocwise.model.state import ModelState

MINUTE_MS = 60_000


def bursts(heights: list[float], every: int = 100) -> MetricBatch:
    """Exactly 0 between bursts of one sample, every ``every`` samples, of the heights given."""
    values = np.zeros(every * (len(heights) + 1))
    values[every::every] = heights
    steps = np.arange(values.size)
    return MetricBatch.of(np.zeros(values.size, dtype=np.int64), steps * MINUTE_MS, values)


def test_a_burst_to_a_height_already_taken_is_not_scored() -> None:
    """Flat at 0 between bursts, the scale collapses and each repeat of the same burst would
    score a larger z than the last; the repeats are not scored, a new height is."""
    batch = bursts([20.0] * 10 + [25.0, 25.0])
    z = SpikeDetector().raw(batch, learn=True)
    first, repeats, higher = 100, np.arange(200, 1100, 100), 1100
    assert z[first] > 10.0
    assert np.isnan(z[repeats]).all()
    assert z[higher] > 10.0  # a new height is scored
    assert np.isnan(z[1200])  # 25 again
    assert np.isnan(z[1150])  # 0 is the lowest value: taken before, not a spike either


def test_a_value_inside_the_range_seen_is_still_scored() -> None:
    rng = np.random.default_rng(3)
    values = 10 + rng.normal(0, 0.3, 500)
    values[:50] += 30.0  # an early excursion sets the highest value far up
    values[400] = 20.0  # a spike inside the range seen, never taken before
    batch = MetricBatch.of(np.zeros(500, dtype=np.int64), np.arange(500) * MINUTE_MS, values)
    z = SpikeDetector().raw(batch, learn=True)
    assert z[400] > 10.0


def test_a_version_1_snapshot_is_migrated_with_unknown_extremes() -> None:
    batch = bursts([20.0] * 3)
    det = SpikeDetector()
    det.learn(batch.select(np.arange(len(batch)) < 250))
    state = det.to_state()
    arrays = {k: v for k, v in state.arrays.items() if k != "ext"}
    old = SpikeDetector.from_state(ModelState(state.schema, 1, state.params, arrays))
    assert old.to_state().version == 2
    assert np.isnan(old.to_state().arrays["ext"]).all()
    assert np.array_equal(old.to_state().arrays["loc"], state.arrays["loc"])
    z = old.raw(batch.select(np.arange(len(batch)) >= 250), learn=True)
    assert np.isfinite(z[50])  # the first burst after the migration is scored again
