"""The per-tick cost of predicted-breach forecasting on many series (a synthetic load).

Every series is a capacity series (the worst case): utilisation with a daily busy hour, noise
and, on one series in a hundred, steady growth. The stage is warmed past the forecaster's
warm-up on 5-min samples, then fed 1-min samples for ``hours``; the CPU time of each forecast
tick (every 5 min of event time) and of the 1-min batches between them is measured, with the
size of the forecaster's state. Run: ``python -m nocwise.bench.forecast_cost [series]``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np

from nocwise.detect.metrics.forecast import FloatArray
from nocwise.model import MetricBatch, Series
from nocwise.runtime.detection import PredictiveBreach

MIN_MS = 60_000


@dataclass(frozen=True, slots=True)
class Cost:
    """CPU seconds per forecast tick and per 1-min batch, state size, alarms raised."""

    series: int
    tick_s: float
    batch_s: float
    state_bytes: int
    alarms: int


def _values(
    t_min: float, level: FloatArray, growth: FloatArray, rng: np.random.Generator
) -> FloatArray:
    busy = float(np.sin(np.pi * (t_min % 1440) / 1440) ** 4)
    noise: FloatArray = rng.normal(0, 1.0, level.size)
    return level * (0.5 + 0.8 * busy) + growth * t_min + noise


def measure(n: int = 220_000, hours: float = 1.0, seed: int = 0) -> Cost:
    """Warm the stage on ``n`` series, then time ``hours`` of 1-min batches and their ticks."""
    rng = np.random.default_rng(seed)
    series = {i: Series(i, "if_utilisation", {}, f"link-{i}", "percent") for i in range(n)}
    level = rng.uniform(10.0, 60.0, n)
    growth = np.where(rng.random(n) < 0.01, rng.uniform(0.005, 0.05, n), 0.0)
    ids = np.arange(n, dtype=np.int64)
    stage = PredictiveBreach()
    warm_min = int(stage.forecaster.config.warmup_s // 60) + 60
    for m in range(0, warm_min, 5):
        ts = np.full(n, m * MIN_MS, dtype=np.int64)
        stage.process(MetricBatch(ids, ts, _values(m, level, growth, rng)), series)
    ticks: list[float] = []
    batches: list[float] = []
    alarms = 0
    for m in range(warm_min, warm_min + int(hours * 60)):
        ts = np.full(n, m * MIN_MS, dtype=np.int64)
        batch = MetricBatch(ids, ts, _values(m, level, growth, rng))
        due = stage.next_ms is not None and m * MIN_MS >= stage.next_ms
        t0 = time.process_time()
        alarms += len(stage.process(batch, series))
        (ticks if due else batches).append(time.process_time() - t0)
    size = sum(v.nbytes for v in stage.forecaster.to_state().arrays.values())
    return Cost(n, float(np.mean(ticks)), float(np.mean(batches)), size, alarms)


if __name__ == "__main__":
    print(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 220_000))
