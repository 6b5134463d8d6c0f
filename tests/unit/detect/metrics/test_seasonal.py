"""Seasonal member: a bin is scored only once it holds ``min_count`` samples."""

from __future__ import annotations

import numpy as np

from nocwise.detect.metrics.seasonal import SeasonalConfig, SeasonalDetector
from nocwise.model.metrics import MetricBatch

HOUR_MS = 3_600_000


def hourly(days: int) -> MetricBatch:
    """One sample an hour with a daily sine: each daily bin gets one sample a day."""
    rng = np.random.default_rng(3)
    steps = np.arange(24 * days)
    values = 10 + 5 * np.sin(2 * np.pi * steps / 24) + rng.normal(0, 0.5, steps.size)
    return MetricBatch.of(np.zeros(steps.size, dtype=np.int64), steps * HOUR_MS, values)


def first_scored_day(config: SeasonalConfig) -> int:
    z = SeasonalDetector(config).raw(hourly(12), learn=True)
    return int(np.flatnonzero(~np.isnan(z))[0]) // 24


def test_a_bin_is_scored_once_it_holds_min_count_samples() -> None:
    assert first_scored_day(SeasonalConfig(min_count=2)) == 2
    assert first_scored_day(SeasonalConfig()) == 8  # the default of 8 samples per bin


def test_young_bins_do_not_inflate_z() -> None:
    young = SeasonalDetector(SeasonalConfig(min_count=2)).raw(hourly(12), learn=True)
    mature = SeasonalDetector(SeasonalConfig()).raw(hourly(12), learn=True)
    assert np.nanmax(young) > 2 * np.nanmax(mature)
