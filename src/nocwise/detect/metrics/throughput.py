"""Microbenchmark of the full ensemble: samples per second and state bytes for N series."""

from __future__ import annotations

import resource
import time

import numpy as np

from nocwise.detect.metrics.ensemble import EnsembleDetector
from nocwise.model.metrics import MetricBatch

#: One sample every 15 minutes: the daily profile is warm after two days (192 samples).
INTERVAL_MS = 15 * 60_000
DAY_STEPS = 24 * 3_600_000 // INTERVAL_MS


def measure_throughput(
    n_series: int,
    steps: int,
    seed: int = 0,
    warmup_steps: int | None = None,
    *,
    shuffled: bool = False,
) -> dict[str, float]:
    """Stream ``steps`` one-sample-per-series batches through a warmed-up ensemble.

    The first ``warmup_steps`` batches (numba compilation, state allocation, members and
    calibration warming up) are not timed, so the figure is the steady state. By default
    that lasts until all five members score and are calibrated on every series: two days
    for the seasonal member's daily profile, then ``min_seen`` scored samples. Values are a
    daily sine plus noise. ``calibrated`` is the share of (member, series) pairs calibrated
    when the timing starts. ``page_faults_per_sample`` counts the minor page faults of the
    timed part: the allocator hands out fresh pages for the outputs of each batch.

    Every batch holds the series in id order, or with ``shuffled`` in one random order (as
    a scrape of many targets may deliver them).
    """
    rng = np.random.default_rng(seed)
    det = EnsembleDetector()
    if warmup_steps is None:
        warmup_steps = 2 * DAY_STEPS + det.config.min_seen + 1
    series = np.arange(n_series, dtype=np.int64)
    if shuffled:
        series = rng.permutation(series)
    phase = rng.uniform(0, 2 * np.pi, n_series)

    def batch(step: int) -> MetricBatch:
        ts = np.full(n_series, step * INTERVAL_MS, dtype=np.int64)
        values = 10 * np.sin(2 * np.pi * step / DAY_STEPS + phase) + rng.normal(size=n_series)
        return MetricBatch(series, ts, values)

    for k in range(warmup_steps + 1):
        det.score_learn(batch(k))
    calibrated = float(np.mean(det.calibrated()))
    batches = [batch(k) for k in range(warmup_steps + 1, warmup_steps + steps + 1)]
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start, start_cpu = time.perf_counter(), time.process_time()
    for b in batches:
        det.score_learn(b)
    cpu = time.process_time() - start_cpu
    wall = time.perf_counter() - start
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    n = n_series * steps
    return {
        # CPU time of this (single-threaded) process: samples per second per core, which
        # stays meaningful on a shared machine where wall time includes waiting for a core
        "samples_per_s": n / cpu if cpu > 0 else float("inf"),
        "samples_per_s_wall": n / wall if wall > 0 else float("inf"),
        "state_bytes": float(det.state_bytes()),
        "state_bytes_per_series": det.state_bytes() / n_series,
        "calibrated": calibrated,
        # pages the kernel mapped in during the timed batches: every fresh output array of
        # this size comes from new pages, each a fault of a few microseconds on this VM
        "page_faults_per_sample": faults / n,
    }
