"""Level-shift / change-point detector: a short EW mean against a long robust baseline.

The short mean over about ``1/fast`` samples is compared with the long Huber-clipped baseline,
in units of the standard error of that short mean under the baseline's scale. A step change
crosses quickly, while a single spike is diluted by the short mean; this is the EW form of a
two-window change test (Basseville & Nikiforov, *Detection of Abrupt Changes*, 1993, §2.2).

Weak at: changes in variance without a change in level, and slow ramps (see ``trend``); after
a shift it keeps firing until the long baseline catches up, which the episode logic absorbs.
"""

from __future__ import annotations

import math
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

__all__ = ["LevelShiftConfig", "LevelShiftDetector"]


class LevelShiftConfig(DetectorConfig):
    """EW weights per typical interval of the short mean and of the long baseline."""

    kind: Literal["level_shift"] = "level_shift"
    fast: float = Field(default=0.25, gt=0, le=1)
    slow: float = Field(default=0.01, gt=0, le=1)
    clip: float = Field(default=3.0, gt=0)
    rel_floor: float = Field(default=1e-3, ge=0)


@njit(cache=True, error_model="numpy")
def _kernel(
    series: IntArray,
    ts: IntArray,
    values: FloatArray,
    book: FloatArray,
    short: FloatArray,
    loc: FloatArray,
    dev: FloatArray,
    fast: float,
    slow: float,
    warmup: int,
    gap_factor: float,
    clip: float,
    rel_floor: float,
    out: FloatArray,
    band: FloatArray,
    learn: bool,
) -> None:
    se = math.sqrt(fast / (2.0 - fast))
    for i in range(series.shape[0]):
        s, t, x = series[i], float(ts[i]), values[i]
        k, n = book_advance(book, s, t, x, gap_factor, learn)
        if k < 0.0:
            continue
        a_fast = decay(fast, k)
        m = x if n <= 1.0 else short[0, s] + ew_weight(a_fast, n) * (x - short[0, s])
        if n > warmup:
            sigma = MAD_TO_SIGMA * dev[0, s] + scale_floor(loc[0, s], rel_floor)
            out[i] = abs(m - loc[0, s]) / (sigma * se)
            band[0, i] = loc[0, s]
            band[1, i] = sigma
        if learn:
            short[0, s] = m
            robust_step(loc, 0, dev, 0, s, x, decay(slow, k), n, clip)


class LevelShiftDetector(ArrayDetector[LevelShiftConfig]):
    """Short-vs-long mean change detector; see the module docstring."""

    kind: ClassVar[str] = "level_shift"
    config_class: ClassVar[type[DetectorConfig]] = LevelShiftConfig

    def _layout(self) -> dict[str, Slot]:
        return {"short": Slot((1,)), "loc": Slot((1,)), "dev": Slot((1,))}

    def _run(self, batch: MetricBatch, out: FloatArray, band: FloatArray, learn: bool) -> None:
        c, a = self.config, self._arrays
        _kernel(
            batch.series,
            batch.ts_ms,
            batch.values,
            a["book"],
            a["short"],
            a["loc"],
            a["dev"],
            c.fast,
            c.slow,
            c.warmup,
            c.gap_factor,
            c.clip,
            c.rel_floor,
            out,
            band,
            learn,
        )
