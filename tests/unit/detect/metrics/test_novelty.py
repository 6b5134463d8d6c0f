"""Novelty member: the smoothed features are per-sample means, so a gap alone is not novel."""

from __future__ import annotations

import numpy as np

from nocwise.detect.metrics.novelty import NoveltyConfig, NoveltyDetector
from nocwise.model.metrics import MetricBatch
from nocwise.model.state import ModelState

MINUTE_MS = 60_000


def test_a_usual_value_after_a_gap_is_not_novel() -> None:
    rng = np.random.default_rng(5)
    values = np.append(10 + rng.uniform(-1, 1, 2000), 10.9)
    steps = np.append(np.arange(2000), 2000 + 30)  # the last sample comes after a 30-minute gap
    batch = MetricBatch.of(np.zeros(values.size, dtype=np.int64), steps * MINUTE_MS, values)
    z = NoveltyDetector().raw(batch, learn=True)
    assert z[-1] < 1.0  # inside the value's envelope, and the means moved one sample's worth


def test_a_value_beyond_everything_seen_is_novel_after_a_gap_too() -> None:
    rng = np.random.default_rng(5)
    values = np.append(10 + rng.uniform(-1, 1, 2000), 13.0)
    steps = np.append(np.arange(2000), 2000 + 30)
    batch = MetricBatch.of(np.zeros(values.size, dtype=np.int64), steps * MINUTE_MS, values)
    z = NoveltyDetector().raw(batch, learn=True)
    assert z[-1] > 2.0


def spiky_then_shifted(shift: float) -> MetricBatch:
    """Noise with a large spike, up or down, every 50 samples, then ``shift`` added for the
    last 40 (the value's envelope is centred on the level, so only the means can tell)."""
    rng = np.random.default_rng(7)
    values = 10 + rng.normal(0, 0.3, 3040)
    values[100:3000:100] += 25.0
    values[150:3000:100] -= 25.0
    values[3000:] += shift
    steps = np.arange(values.size)
    return MetricBatch.of(np.zeros(values.size, dtype=np.int64), steps * MINUTE_MS, values)


def test_spikes_do_not_widen_the_fastest_means_envelope_so_a_sustained_shift_is_novel() -> None:
    batch = spiky_then_shifted(3.0)  # far below the spikes, far above the noise
    for clip, gain in ((8.0, 1.25), (0.0, 1.05)):
        z = NoveltyDetector(NoveltyConfig(clip=clip)).raw(batch, learn=True)
        before, after = np.nanmax(z[1000:3000]), z[3000:].max()
        # clipped, the fastest mean leaves its envelope well beyond anything before; dragged
        # by every spike, its envelope holds the shift
        assert (after > gain * before) if clip else (after < gain * before)


def test_the_clip_leaves_the_value_itself_alone() -> None:
    batch = spiky_then_shifted(40.0)  # beyond every spike: the value's own envelope breaks
    clipped = NoveltyDetector().raw(batch, learn=True)
    unclipped = NoveltyDetector(NoveltyConfig(clip=0.0)).raw(batch, learn=True)
    assert clipped[3000] == unclipped[3000] > 1.5


def test_a_version_1_snapshot_is_migrated_with_an_empty_baseline() -> None:
    batch = spiky_then_shifted(2.0)
    det = NoveltyDetector()
    det.learn(batch.select(np.arange(len(batch)) < 100))
    state = det.to_state()
    arrays = {k: v for k, v in state.arrays.items() if k != "base"}
    arrays = {k: v for k, v in arrays.items() if k != "ext"}
    old = NoveltyDetector.from_state(ModelState(state.schema, 1, state.params, arrays))
    assert old.to_state().version == 3
    assert not old.to_state().arrays["base"].any()
    assert np.array_equal(old.to_state().arrays["env"], state.arrays["env"])


def saturating(n: int = 3000) -> tuple[MetricBatch, np.ndarray]:
    """A gauge that hits its ceiling of 100 exactly every 700 samples, and once goes beyond."""
    rng = np.random.default_rng(11)
    values = np.clip(40 + rng.normal(0, 3, n), 0, 100)
    hits = np.arange(300, n - 300, 700)
    values[hits] = 100.0
    values[n - 100] = 104.0
    steps = np.arange(n)
    return MetricBatch.of(np.zeros(n, dtype=np.int64), steps * MINUTE_MS, values), hits


def test_a_value_back_at_its_highest_is_at_the_edge_however_far_the_envelope_shrank() -> None:
    batch, hits = saturating()
    # the value alone (one sample at 100 moves the smoothed means to new highs of their own)
    only_value = NoveltyConfig(smoothing=(), clip=0.0, forget=1e-3)
    z = NoveltyDetector(only_value).raw(batch, learn=True)
    assert z[hits[0]] > 1.5  # the first time at 100
    assert z[hits[1:]].min() > 0.9  # back at 100: at the edge, not beyond it
    assert z[hits[1:]].max() <= 1.0
    assert z[len(batch) - 100] > 1.02  # beyond the highest value


def test_the_smoothed_means_are_not_capped_by_a_repeated_extreme() -> None:
    batch, _ = saturating()
    values = batch.values.copy()
    values[2000:2040] = 100.0  # a ceiling held for 40 samples moves the means to new highs
    batch = MetricBatch.of(batch.series, batch.ts_ms, values)
    z = NoveltyDetector().raw(batch, learn=True)
    assert z[2000:2040].max() > 1.5


def test_a_version_2_snapshot_is_migrated_with_unknown_extremes() -> None:
    batch, _ = saturating()
    det = NoveltyDetector()
    det.learn(batch.select(np.arange(len(batch)) < 1000))
    state = det.to_state()
    arrays = {k: v for k, v in state.arrays.items() if k != "ext"}
    old = NoveltyDetector.from_state(ModelState(state.schema, 2, state.params, arrays))
    assert old.to_state().version == 3
    assert np.isnan(old.to_state().arrays["ext"]).all()
    assert np.array_equal(old.to_state().arrays["base"], state.arrays["base"])
