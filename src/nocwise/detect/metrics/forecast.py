"""Capacity forecasting: trend plus seasonality, and when a threshold will be breached.

The history is decomposed by alternating two least-squares steps (a linear trend, then the
mean residual per phase of the season) a few times, as classical decomposition does
(Cleveland et al. 1990 in its simplest, non-robust-loess form). The forecast extends the
trend and repeats the season; the band is ± ``z`` residual standard deviations.

Weak at: non-linear growth (logistic saturation, exponential bursts), regime changes inside
the history (fit after the last change), and histories shorter than two seasons, where the
season is dropped and only the trend is fitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt

from nocwise.model.errors import InvalidRecordError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Forecast:
    """Predicted mean and band at future timestamps (ms)."""

    ts_ms: IntArray
    mean: FloatArray
    lower: FloatArray
    upper: FloatArray
    slope_per_s: float


def _fit(
    ts_ms: IntArray, values: FloatArray, period_steps: int, step_ms: float
) -> tuple[float, float, FloatArray, float]:
    t = (ts_ms - ts_ms[-1]) / 1000.0
    phase = np.rint((ts_ms - ts_ms[0]) / step_ms).astype(np.int64) % max(period_steps, 1)
    season = np.zeros(max(period_steps, 1))
    slope, intercept = 0.0, float(np.mean(values))
    for _ in range(3):
        slope, intercept = np.polyfit(t, values - season[phase], 1)
        if period_steps > 1:
            resid = values - (slope * t + intercept)
            sums = np.bincount(phase, resid, minlength=period_steps)
            counts = np.bincount(phase, minlength=period_steps)
            season = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
            season -= season.mean()
    resid = values - (slope * t + intercept) - season[phase]
    return float(slope), float(intercept), season, float(np.std(resid))


def forecast(
    ts_ms: npt.ArrayLike,
    values: npt.ArrayLike,
    steps: int,
    *,
    period: timedelta | None = timedelta(days=1),
    z: float = 3.0,
) -> Forecast:
    """Forecast ``steps`` samples ahead at the history's median sampling interval."""
    t = np.asarray(ts_ms, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    t, v = t[ok], v[ok]
    if t.size < 3 or np.any(np.diff(t) <= 0):
        raise InvalidRecordError("forecast needs at least 3 finite samples in increasing time")
    step_ms = float(np.median(np.diff(t)))
    period_steps = 0
    if period is not None:
        period_steps = round(period.total_seconds() * 1000.0 / step_ms)
        if (t[-1] - t[0]) < 2 * period.total_seconds() * 1000.0 or period_steps < 2:
            period_steps = 0
    slope, intercept, season, sd = _fit(t, v, period_steps, step_ms)
    future = t[-1] + np.rint(step_ms * np.arange(1, steps + 1)).astype(np.int64)
    dt_s = (future - t[-1]) / 1000.0
    phase = np.rint((future - t[0]) / step_ms).astype(np.int64) % max(period_steps, 1)
    mean = slope * dt_s + intercept + season[phase]
    return Forecast(future, mean, mean - z * sd, mean + z * sd, slope)


def forecast_breach(
    ts_ms: npt.ArrayLike,
    values: npt.ArrayLike,
    threshold: float,
    *,
    horizon: timedelta = timedelta(days=7),
    period: timedelta | None = timedelta(days=1),
    direction: Literal["up", "down"] | None = None,
) -> float | None:
    """Seconds from the last sample until the forecast mean first crosses ``threshold``.

    ``direction`` says which crossing matters ("up": a disk filling towards 90 %); by default
    it is the sign of the fitted trend. Returns 0.0 when the recent level is already past the
    threshold in that direction, None when no breach is forecast within ``horizon``.
    """
    t = np.asarray(ts_ms, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    if t.size < 3:
        raise InvalidRecordError("forecast needs at least 3 samples")
    step_ms = float(np.median(np.diff(t)))
    steps = max(1, int(horizon.total_seconds() * 1000.0 // max(step_ms, 1.0)))
    fc = forecast(t, v, steps, period=period)
    up = fc.slope_per_s >= 0.0 if direction is None else direction == "up"
    recent = float(np.nanmedian(v[-5:]))
    if (recent >= threshold) if up else (recent <= threshold):
        return 0.0
    hits = np.flatnonzero(fc.mean >= threshold if up else fc.mean <= threshold)
    if hits.size == 0:
        return None
    return float((fc.ts_ms[hits[0]] - t[-1]) / 1000.0)
