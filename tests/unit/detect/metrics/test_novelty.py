"""Novelty member: the smoothed features are per-sample means, so a gap alone is not novel."""

from __future__ import annotations

import numpy as np

from nocwise.detect.metrics.novelty import NoveltyDetector
from nocwise.model.metrics import MetricBatch

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
