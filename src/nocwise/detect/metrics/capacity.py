"""Capacity thresholds of utilisation-like metrics: what "full" means and how far ahead to look.

One small, general table keyed by words in the metric name, so that a forecast can say "link
utilisation will pass 90 % in 3 days" without per-deployment configuration. Percent metrics
breach at 90, ratio metrics (unit "ratio"/"fraction" or a name ending in "_ratio") at 0.9.
:func:`peak_trend` answers the slow question ("the daily peak passes 90 % in 12 days") from a
short array of daily peaks per series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Capacity:
    """The level at which a metric is considered exhausted, and the forecast horizon."""

    threshold: float
    horizon: timedelta


# (words any of which must be in the metric name, horizon); first match wins.
_HORIZONS: tuple[tuple[tuple[str, ...], timedelta], ...] = (
    (("disk", "storage", "filesystem", "fs_", "volume", "inode"), timedelta(hours=24)),
    (("if_", "link", "interface", "port", "prb", "bandwidth", "throughput"), timedelta(days=3)),
    (("memory", "mem_", "heap", "swap"), timedelta(hours=24)),
    (("cpu", "load"), timedelta(hours=6)),
)
_DEFAULT_HORIZON = timedelta(hours=24)
_UTILISATION_WORDS = ("util", "usage_pct", "used_pct", "usage_percent", "used_percent", "_full")
_RATIO_UNITS = frozenset({"ratio", "fraction", "1", ""})
_PERCENT_UNITS = frozenset({"percent", "%", "pct"})


@lru_cache(maxsize=4096)
def capacity_of(metric: str, unit: str = "") -> Capacity | None:
    """The capacity rule of a metric, or None when it has no natural "full" level (cached:
    a network has few metric names and many series).

    >>> capacity_of("if_utilisation", "percent")
    Capacity(threshold=90.0, horizon=datetime.timedelta(days=3))
    >>> capacity_of("disk_used_ratio", "ratio").threshold
    0.9
    >>> capacity_of("latency", "ms") is None
    True
    """
    name = metric.lower()
    u = unit.strip().lower()
    percent = u in _PERCENT_UNITS or name.endswith(("_pct", "_percent"))
    ratio = not percent and (u in _RATIO_UNITS) and name.endswith(("_ratio", "_fraction"))
    utilisation = any(w in name for w in _UTILISATION_WORDS) or ratio
    if not utilisation:
        return None
    if not percent and not ratio:
        if u not in _RATIO_UNITS:
            return None  # a utilisation in some other unit (e.g. bit/s): no known ceiling
        percent = False
    threshold = 90.0 if percent else 0.9
    for words, horizon in _HORIZONS:
        if any(w in name for w in words):
            return Capacity(threshold, horizon)
    return Capacity(threshold, _DEFAULT_HORIZON)


def peak_trend(
    peaks: npt.NDArray[np.floating[Any]],
    days: npt.NDArray[np.int64],
    threshold: npt.NDArray[np.float64],
    *,
    last_day: int,
    min_days: int = 10,
    z: float = 3.0,
    reach: float = 1.0,
    horizon_days: float | FloatArray = 30.0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Days until each row's daily peak passes its threshold, from a robust trend of its peaks.

    ``peaks`` holds one row per series and one column per day (NaN: no peak that day), ``days``
    the day number of each column (-1: unused). The trend is the Theil-Sen slope (median of the
    pairwise slopes, Sen 1968), so one odd day (an outage, a holiday) does not tilt it; it
    counts only when its lower confidence bound (Kendall's rank test at ``z``) is above zero
    and reaches the threshold within ``horizon_days`` and ``reach`` times the span of the
    peaks (the lower bound, not only the median, as the short-horizon forecast asks). The level
    is the median of the peaks detrended to ``last_day``. Returns (ETA in days from the end of
    ``last_day`` at the median slope, NaN when not foreseen; slope per day; fitted peak level),
    one per row.
    Weak at: weekly patterns over a partial week (a weekend at one end tilts the slope), and
    growth that has just started (the median slope lags until half the pairs see it).
    """
    n, width = peaks.shape
    nan = np.full(n, np.nan)
    if n == 0 or width < 2:
        return nan, nan.copy(), nan.copy()
    y = np.where(days[None, :] >= 0, peaks.astype(np.float64), np.nan)
    x = (days - last_day).astype(np.float64)
    i, j = np.triu_indices(width, 1)
    dx = x[j] - x[i]
    with np.errstate(invalid="ignore", divide="ignore"):
        pair = (y[:, j] - y[:, i]) / np.where(dx != 0, dx, np.nan)[None, :]
    slope, pairs, pair = _row_median(pair)
    m = np.isfinite(y).sum(axis=1)
    # Sen's confidence bound: the pairwise slope at rank (N - C) / 2, C = z * sd of Kendall's S.
    c = z * np.sqrt(m * (m - 1.0) * (2.0 * m + 5.0) / 18.0)
    rank = np.clip(np.ceil((pairs - c) / 2.0).astype(np.int64) - 1, 0, np.maximum(pairs - 1, 0))
    lower = np.where(pairs > c, pair[np.arange(n), rank], -np.inf)
    level = _row_median(y - slope[:, None] * x[None, :])[0]
    span = np.fmax.reduce(np.where(np.isfinite(y), 1.0 - x[None, :], np.nan), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        eta = (threshold - level) / slope
        sure = (threshold - level) / lower  # the ETA at the slope's lower bound
    found = (m >= min_days) & (lower > 0) & (level < threshold)
    found &= sure <= np.minimum(horizon_days, reach * span)
    return np.where(found, eta, np.nan), slope, level


def _row_median(
    a: npt.NDArray[np.float64],
) -> tuple[FloatArray, npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Median of each row's finite values (NaN when none), their count, and the sorted rows."""
    srt = np.sort(a, axis=1)  # NaN last
    k = np.isfinite(srt).sum(axis=1)
    rows = np.arange(a.shape[0])
    lo, hi = np.maximum(k - 1, 0) // 2, k // 2
    med = 0.5 * (srt[rows, lo] + srt[rows, np.minimum(hi, a.shape[1] - 1)])
    return np.where(k > 0, med, np.nan), k, srt
