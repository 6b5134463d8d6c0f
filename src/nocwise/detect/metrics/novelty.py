"""Novelty detector: how far a value lies beyond the envelope of everything seen recently.

Each series keeps a slowly forgetting envelope (highest and lowest value, pulled towards each
other by ``forget`` per typical interval). A value inside the envelope scores 0; one beyond it
scores the excess in units of ``width`` of the envelope, so a sensor that never left [20, 30]
reading 35 scores 0.5 whatever its noise. This catches what robust z misses on heavy-tailed
series: the first time a value is reached at all, which is what many incidents look like
(Ahmad et al. 2017 report novel values as the most common NAB anomaly).

The smoothed features are EW means per *sample*, whatever the time between samples, unlike
the other members' time-aware baselines. Each is compared with the envelope of its own past
values, so it must stay the same statistic: a time-aware mean would jump to the first value
after a gap, be a raw value by then, and break the narrower envelope of the smoothed values
though nothing unusual happened. The envelope itself still forgets per typical interval.

Weak at: anomalies inside the usual range (shape changes, missed daily peaks) and series that
grow steadily, where every new high is "novel" until the envelope catches up.
"""

from __future__ import annotations

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
from nocwise.detect.metrics.robust import scale_floor
from nocwise.model.metrics import IntArray, MetricBatch

__all__ = ["NoveltyConfig", "NoveltyDetector"]


class NoveltyConfig(DetectorConfig):
    """Envelope forgetting per typical interval, and the EW smoothings also watched."""

    kind: Literal["novelty"] = "novelty"
    forget: float = Field(default=1e-4, ge=0, lt=1)
    smoothing: tuple[float, ...] = (0.02, 0.05, 0.1)
    rel_floor: float = Field(default=1e-3, ge=0)


@njit(cache=True, error_model="numpy")
def _kernel(
    series: IntArray,
    ts: IntArray,
    values: FloatArray,
    book: FloatArray,
    env: FloatArray,
    smooth: FloatArray,
    alphas: FloatArray,
    forget: float,
    warmup: int,
    gap_factor: float,
    rel_floor: float,
    out: FloatArray,
    band: FloatArray,
    learn: bool,
) -> None:
    n_feat = alphas.shape[0] + 1
    for i in range(series.shape[0]):
        s, t, x = series[i], float(ts[i]), values[i]
        k, n = book_advance(book, s, t, x, gap_factor, learn)
        if k < 0.0:
            continue
        scored = n > warmup
        if scored:
            band[0, i] = 0.5 * (env[0, s] + env[1, s])
            band[1, i] = 0.5 * (env[1, s] - env[0, s]) + scale_floor(band[0, i], rel_floor)
        shrink_w = 0.5 * decay(forget, k)
        z = 0.0
        # feature 0 is the value, feature j > 0 its EW mean with weight alphas[j - 1] per
        # sample (not per typical interval: see the module docstring)
        for j in range(n_feat):
            f = x
            if j > 0 and n > 1.0:
                f = smooth[j - 1, s] + alphas[j - 1] * (x - smooth[j - 1, s])
            lo, hi = env[2 * j, s], env[2 * j + 1, s]
            if scored:
                mid = 0.5 * (hi + lo)
                z = max(z, abs(f - mid) / (0.5 * (hi - lo) + scale_floor(mid, rel_floor)))
            if learn:
                if j > 0:
                    smooth[j - 1, s] = f
                if n <= 1.0:
                    env[2 * j, s], env[2 * j + 1, s] = f, f
                else:
                    shrink = shrink_w * (hi - lo)
                    env[2 * j, s] = min(lo + shrink, f)
                    env[2 * j + 1, s] = max(hi - shrink, f)
        if scored:
            out[i] = z


class NoveltyDetector(ArrayDetector[NoveltyConfig]):
    """Forgetting-envelope novelty detector; see the module docstring."""

    kind: ClassVar[str] = "novelty"
    config_class: ClassVar[type[DetectorConfig]] = NoveltyConfig

    def _layout(self) -> dict[str, Slot]:
        n_smooth = len(self.config.smoothing)
        return {"env": Slot((2 * (n_smooth + 1),)), "smooth": Slot((n_smooth,))}

    def _run(self, batch: MetricBatch, out: FloatArray, band: FloatArray, learn: bool) -> None:
        c, a = self.config, self._arrays
        _kernel(
            batch.series,
            batch.ts_ms,
            batch.values,
            a["book"],
            a["env"],
            a["smooth"],
            np.asarray(c.smoothing, dtype=np.float64),
            c.forget,
            c.warmup,
            c.gap_factor,
            c.rel_floor,
            out,
            band,
            learn,
        )
