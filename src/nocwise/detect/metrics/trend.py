"""Trend / drift detector: a sustained slope, in baseline standard deviations per horizon.

A robust Holt linear filter (Holt 1957) keeps a level and a slope per series. The score is
how many baseline standard deviations the current slope would move the level within
``horizon`` samples: a metric creeping towards exhaustion (disk, memory, queue depth) scores
high long before any single sample looks odd.

Weak at: spikes (by design it barely moves), seasonal series whose daily ramps look like
drift at short horizons, and slopes smaller than the noise over the horizon.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from numba import njit
from pydantic import Field

from nocwise.detect.metrics.arrays import (
    ArrayDetector,
    DetectorConfig,
    FloatArray,
    Slot,
    book_advance,
    decay,
)
from nocwise.detect.metrics.robust import (
    MAD_TO_SIGMA,
    ew_weight,
    robust_step,
    scale_floor,
)
from nocwise.model.metrics import IntArray, MetricBatch

__all__ = ["TrendConfig", "TrendDetector"]


class TrendConfig(DetectorConfig):
    """Holt weights (level, slope), the horizon in samples and the noise baseline weight."""

    kind: Literal["trend"] = "trend"
    level: float = Field(default=0.1, gt=0, le=1)
    slope: float = Field(default=0.02, gt=0, le=1)
    noise: float = Field(default=0.01, gt=0, le=1)
    horizon: float = Field(default=50.0, gt=0)
    clip: float = Field(default=3.0, gt=0)
    rel_floor: float = Field(default=1e-3, ge=0)


@njit(cache=True, error_model="numpy")
def _kernel(
    series: IntArray,
    ts: IntArray,
    values: FloatArray,
    book: FloatArray,
    holt: FloatArray,
    loc: FloatArray,
    dev: FloatArray,
    a_level: float,
    a_slope: float,
    a_noise: float,
    horizon: float,
    warmup: int,
    gap_factor: float,
    clip: float,
    rel_floor: float,
    out: FloatArray,
    band: FloatArray,
    learn: bool,
) -> None:
    for i in range(series.shape[0]):
        s, t, x = series[i], float(ts[i]), values[i]
        k, n = book_advance(book, s, t, x, gap_factor, learn)
        if k < 0.0:
            continue
        level, slope = holt[0, s], holt[1, s]
        if n <= 1.0:
            new_level, new_slope = x, 0.0
        else:
            al = ew_weight(decay(a_level, k), n)
            new_level = al * x + (1.0 - al) * (level + slope * k)
            step = new_level - level if k == 1.0 else (new_level - level) / max(k, 1e-9)
            new_slope = slope + a_slope * (step - slope)
        if n > warmup:
            sigma = MAD_TO_SIGMA * dev[0, s] + scale_floor(loc[0, s], rel_floor)
            out[i] = abs(new_slope) * horizon / sigma
            band[0, i] = level + slope * k
            band[1, i] = sigma
        if learn:
            holt[0, s], holt[1, s] = new_level, new_slope
            # noise is measured around the Holt level so that the drift itself is not noise
            robust_step(loc, 0, dev, 0, s, x - new_level, decay(a_noise, k), n, clip)


class TrendDetector(ArrayDetector[TrendConfig]):
    """Holt-slope drift detector; see the module docstring."""

    kind: ClassVar[str] = "trend"
    config_class: ClassVar[type[DetectorConfig]] = TrendConfig

    def _layout(self) -> dict[str, Slot]:
        return {"holt": Slot((2,)), "loc": Slot((1,)), "dev": Slot((1,))}

    def _run(self, batch: MetricBatch, out: FloatArray, band: FloatArray, learn: bool) -> None:
        c, a = self.config, self._arrays
        _kernel(
            batch.series,
            batch.ts_ms,
            batch.values,
            a["book"],
            a["holt"],
            a["loc"],
            a["dev"],
            c.level,
            c.slope,
            c.noise,
            c.horizon,
            c.warmup,
            c.gap_factor,
            c.clip,
            c.rel_floor,
            out,
            band,
            learn,
        )
