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
    old = NoveltyDetector.from_state(ModelState(state.schema, 1, state.params, arrays))
    assert old.to_state().version == 2
    assert not old.to_state().arrays["base"].any()
    assert np.array_equal(old.to_state().arrays["env"], state.arrays["env"])
