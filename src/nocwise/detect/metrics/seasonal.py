"""Seasonal baseline: daily and weekly profiles learned online, one robust band per bin.

Each series keeps an EW location and deviation for every hour-of-day and hour-of-week bin
(bin width and periods configurable). A sample is compared with its weekly bin once two
weeks have been seen, else with its daily bin once two days have been seen, provided the bin
holds ``min_count`` samples, else it is not scored (cold start is reported as NaN, not
guessed). A bin of two or three samples has a deviation of almost nothing, so its z is
inflated; those z would also set the calibration's record for the series high for a long
time and mute the real seasonal anomalies that follow. The profile is robust (Huber-clipped),
so an incident does not teach the baseline that incidents are normal. The 192 bins per
series are most of a series' state, so they are stored as float32 (the arithmetic is float64;
the rounding, 6e-8 of the location, is far below the 1e-3 scale floor) with uint16 counts.

Weak at: series whose season is not a multiple of the bin (e.g. a 90-minute batch job),
holidays and DST shifts (timestamps are taken as UTC), and the first two periods of a series.
Bin profiles follow the seasonal-baseline practice of Holt–Winters (Winters 1960) in a
robust, per-bin form.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt
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
from nocwise.detect.metrics.robust import MAD_TO_SIGMA, robust_step, robust_z, scale_floor
from nocwise.model.metrics import IntArray, MetricBatch
from nocwise.model.state import ModelState

__all__ = ["SeasonalConfig", "SeasonalDetector"]

#: Samples per bin stop being counted here: the count only matters while the bin is young
#: (the running mean until 1/alpha samples, clipping after 8), so this changes nothing for
#: alpha >= 1/65,535.
CNT_MAX = 65_535


class SeasonalConfig(DetectorConfig):
    """Bin width, the two periods and the EW weight of a sample within its bin."""

    kind: Literal["seasonal"] = "seasonal"
    bin: timedelta = timedelta(hours=1)
    day: timedelta = timedelta(days=1)
    week: timedelta = timedelta(days=7)
    alpha: float = Field(default=0.1, ge=1 / CNT_MAX, le=1)
    min_count: int = Field(default=8, ge=1, le=CNT_MAX)
    clip: float = Field(default=3.0, gt=0)
    rel_floor: float = Field(default=1e-3, ge=0)


@njit(cache=True, error_model="numpy")
def _kernel(
    series: IntArray,
    ts: IntArray,
    values: FloatArray,
    book: FloatArray,
    first: FloatArray,
    loc: npt.NDArray[np.float32],
    dev: npt.NDArray[np.float32],
    cnt: npt.NDArray[np.uint16],
    bin_ms: int,
    n_day: int,
    n_week: int,
    alpha: float,
    min_count: int,
    gap_factor: float,
    clip: float,
    rel_floor: float,
    out: FloatArray,
    band: FloatArray,
    learn: bool,
) -> None:
    for i in range(series.shape[0]):
        s, t, x = series[i], float(ts[i]), values[i]
        k, _ = book_advance(book, s, t, x, gap_factor, learn)
        if k < 0.0:
            continue
        b = ts[i] // bin_ms
        jd = b % n_day
        jw = n_day + b % n_week
        if cnt[jd, s] == 0 and cnt[jw, s] == 0 and first[0, s] == 0.0 and learn:
            first[0, s] = t + 1.0  # +1 keeps epoch 0 distinguishable from "unset"
        seen = t - (first[0, s] - 1.0) if first[0, s] > 0.0 else 0.0
        j = -1
        if seen >= 2.0 * n_week * bin_ms and cnt[jw, s] >= min_count:
            j = jw
        elif seen >= 2.0 * n_day * bin_ms and cnt[jd, s] >= min_count:
            j = jd
        if j >= 0:
            out[i] = robust_z(x, loc[j, s], dev[j, s], rel_floor)
            band[0, i] = loc[j, s]
            band[1, i] = MAD_TO_SIGMA * dev[j, s] + scale_floor(loc[j, s], rel_floor)
        if learn:
            for j in (jd, jw):
                if cnt[j, s] < CNT_MAX:
                    cnt[j, s] += 1
                robust_step(loc, j, dev, j, s, x, decay(alpha, 1.0), float(cnt[j, s]), clip)


class SeasonalDetector(ArrayDetector[SeasonalConfig]):
    """Daily/weekly robust profile detector; see the module docstring."""

    kind: ClassVar[str] = "seasonal"
    config_class: ClassVar[type[DetectorConfig]] = SeasonalConfig
    #: v2: bins as float32 and counts as saturating uint16 (v1: all float64), 2.6x smaller
    version: ClassVar[int] = 2

    def _bins(self) -> tuple[int, int, int]:
        c = self.config
        bin_ms = int(c.bin.total_seconds() * 1000)
        return bin_ms, max(1, int(c.day / c.bin)), max(1, int(c.week / c.bin))

    def _layout(self) -> dict[str, Slot]:
        _, n_day, n_week = self._bins()
        nb = n_day + n_week
        return {
            "first": Slot((1,)),
            "loc": Slot((nb,), 0.0, np.float32),
            "dev": Slot((nb,), 0.0, np.float32),
            "cnt": Slot((nb,), 0.0, np.uint16),
        }

    @classmethod
    def _upgrade(cls, state: ModelState) -> ModelState:
        return upgrade_bins(state) if state.version == 1 else state

    def _run(self, batch: MetricBatch, out: FloatArray, band: FloatArray, learn: bool) -> None:
        c, a = self.config, self._arrays
        bin_ms, n_day, n_week = self._bins()
        _kernel(
            batch.series,
            batch.ts_ms,
            batch.values,
            a["book"],
            a["first"],
            a["loc"],
            a["dev"],
            a["cnt"],
            bin_ms,
            n_day,
            n_week,
            c.alpha,
            c.min_count,
            c.gap_factor,
            c.clip,
            c.rel_floor,
            out,
            band,
            learn,
        )


def upgrade_bins(state: ModelState, prefix: str = "") -> ModelState:
    """A v1 snapshot (float64 bins) at the v2 layout: bins rounded to float32, counts capped.

    ``prefix`` names the bins inside a larger snapshot (the ensemble's ``seasonal/``).
    """
    arrays = dict(state.arrays)
    for name in ("loc", "dev"):
        if prefix + name in arrays:
            arrays[prefix + name] = np.asarray(arrays[prefix + name], dtype=np.float32)
    if prefix + "cnt" in arrays:
        arrays[prefix + "cnt"] = np.minimum(arrays[prefix + "cnt"], CNT_MAX).astype(np.uint16)
    return ModelState(state.schema, SeasonalDetector.version, state.params, arrays)
