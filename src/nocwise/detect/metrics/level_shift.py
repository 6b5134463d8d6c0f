"""Level-shift / change-point detector: a short EW mean against a long robust baseline.

The short mean over about ``1/fast`` samples is compared with the long Huber-clipped baseline,
in units of the standard error of that short mean under the baseline's scale. A step change
crosses quickly, while a single spike is diluted by the short mean; this is the EW form of a
two-window change test (Basseville & Nikiforov, *Detection of Abrupt Changes*, 1993, §2.2).

The scale has a resolution floor: ``resolution`` times the smallest non-zero step between
consecutive values seen on the series (its quantum: 1 for counts, the level for an on/off
signal). On a series that is exactly flat between bursts the deviation decays to nothing
and the clip keeps a burst from restoring it, so the same burst scored an ever larger z and
beat the calibration's record every time. The short mean cannot be known more finely than
the values it averages, so the floor bounds z there; on continuous values the quantum is
tiny and the floor changes nothing (docs/benchmarks/nab.md: NAB +0.6 standard).

Weak at: changes in variance without a change in level, and slow ramps (see ``trend``); after
a shift it keeps firing until the long baseline catches up, which the episode logic absorbs.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
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
from nocwise.model.state import ModelState

__all__ = ["LevelShiftConfig", "LevelShiftDetector", "upgrade_quantum"]


class LevelShiftConfig(DetectorConfig):
    """EW weights per typical interval of the short mean and of the long baseline."""

    kind: Literal["level_shift"] = "level_shift"
    fast: float = Field(default=0.25, gt=0, le=1)
    slow: float = Field(default=0.01, gt=0, le=1)
    clip: float = Field(default=3.0, gt=0)
    rel_floor: float = Field(default=1e-3, ge=0)
    resolution: float = Field(default=0.03, ge=0, description="scale floor per quantum")


@njit(cache=True, error_model="numpy")
def quantum(x: float, last: float, step: float, n: float) -> float:
    """The smallest non-zero |x - last| so far (0 until two distinct values were seen).

    ``n`` counts the samples including ``x``; a NaN ``last`` (a migrated state) is skipped.
    """
    d = abs(x - last)
    if n > 1.0 and d > 0.0 and (step == 0.0 or d < step):
        return d
    return step


@njit(cache=True, error_model="numpy")
def _kernel(
    series: IntArray,
    ts: IntArray,
    values: FloatArray,
    book: FloatArray,
    short: FloatArray,
    loc: FloatArray,
    dev: FloatArray,
    last: FloatArray,
    step: FloatArray,
    fast: float,
    slow: float,
    warmup: int,
    gap_factor: float,
    clip: float,
    rel_floor: float,
    resolution: float,
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
            sigma += resolution * step[0, s]
            out[i] = abs(m - loc[0, s]) / (sigma * se)
            band[0, i] = loc[0, s]
            band[1, i] = sigma
        if learn:
            short[0, s] = m
            robust_step(loc, 0, dev, 0, s, x, decay(slow, k), n, clip)
            last[0, s], step[0, s] = x, quantum(x, last[0, s], step[0, s], n)


class LevelShiftDetector(ArrayDetector[LevelShiftConfig]):
    """Short-vs-long mean change detector; see the module docstring."""

    kind: ClassVar[str] = "level_shift"
    config_class: ClassVar[type[DetectorConfig]] = LevelShiftConfig
    #: v2: the last value and the quantum (smallest non-zero step) for the resolution floor
    version: ClassVar[int] = 2

    def _layout(self) -> dict[str, Slot]:
        return {
            "short": Slot((1,)),
            "loc": Slot((1,)),
            "dev": Slot((1,)),
            "last": Slot((1,)),
            "step": Slot((1,)),
        }

    @classmethod
    def _upgrade(cls, state: ModelState) -> ModelState:
        return upgrade_quantum(state) if state.version == 1 else state

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
            a["last"],
            a["step"],
            c.fast,
            c.slow,
            c.warmup,
            c.gap_factor,
            c.clip,
            c.rel_floor,
            c.resolution,
            out,
            band,
            learn,
        )


def upgrade_quantum(state: ModelState, prefix: str = "") -> ModelState:
    """A v1 snapshot at the v2 layout: no last value (NaN) and no quantum seen yet (0).

    The floor is then off until the series has shown two distinct values again. ``prefix``
    names the arrays inside a larger snapshot (the ensemble's ``level_shift/``).
    """
    arrays = dict(state.arrays)
    n = int(arrays["book"].shape[-1])
    arrays[prefix + "last"] = np.full((1, n), np.nan)
    arrays[prefix + "step"] = np.zeros((1, n))
    return ModelState(state.schema, 2, state.params, arrays)
