"""Microbenchmark of the full ensemble: samples per second and state bytes for N series."""

from __future__ import annotations

import time

import numpy as np

from nocwise.detect.metrics.ensemble import EnsembleDetector
from nocwise.model.metrics import MetricBatch


def measure_throughput(n_series: int, steps: int, seed: int = 0) -> dict[str, float]:
    """Stream ``steps`` one-sample-per-series batches through a fresh ensemble.

    The first batch (numba compilation, state allocation) is not timed. Values are a daily
    sine plus noise at one sample a minute, so every member is exercised.
    """
    rng = np.random.default_rng(seed)
    det = EnsembleDetector()
    series = np.arange(n_series, dtype=np.int64)
    phase = rng.uniform(0, 2 * np.pi, n_series)

    def batch(step: int) -> MetricBatch:
        ts = np.full(n_series, step * 60_000, dtype=np.int64)
        values = 10 * np.sin(2 * np.pi * step / 1440 + phase) + rng.normal(size=n_series)
        return MetricBatch(series, ts, values)

    det.score_learn(batch(0))
    batches = [batch(k) for k in range(1, steps + 1)]
    start = time.perf_counter()
    for b in batches:
        det.score_learn(b)
    elapsed = time.perf_counter() - start
    return {
        "samples_per_s": n_series * steps / elapsed if elapsed > 0 else float("inf"),
        "state_bytes": float(det.state_bytes()),
        "state_bytes_per_series": det.state_bytes() / n_series,
    }
