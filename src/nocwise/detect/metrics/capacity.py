"""Capacity thresholds of utilisation-like metrics: what "full" means and how far ahead to look.

One small, general table keyed by words in the metric name, so that a forecast can say "link
utilisation will pass 90 % in 3 days" without per-deployment configuration. Percent metrics
breach at 90, ratio metrics (unit "ratio"/"fraction" or a name ending in "_ratio") at 0.9.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


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


def capacity_of(metric: str, unit: str = "") -> Capacity | None:
    """The capacity rule of a metric, or None when it has no natural "full" level.

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
