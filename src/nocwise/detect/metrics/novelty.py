"""Novelty detector: how far a value lies beyond the envelope of everything seen recently.

Each series keeps a slowly forgetting envelope (highest and lowest value, pulled towards each
other by ``forget`` per typical interval). A value inside the envelope scores 0; one beyond it
scores the excess in units of ``width`` of the envelope, so a sensor that never left [20, 30]
reading 35 scores 0.5 whatever its noise. This catches what robust z misses on heavy-tailed
series: the first time a value is reached at all, which is what many incidents look like
(Ahmad et al. 2017 report novel values as the most common NAB anomaly).

A smoothed feature is there to follow the level, but one spike of size S moves a mean with
weight a by a·S: the fastest mean (0.1 by default) is dragged far enough by ordinary spikes
that its envelope grows as wide as they are, and a sustained change of level then stays
inside it. So a sample enters the fastest mean clipped to ``clip`` robust standard deviations
(0: not clipped) about a Huber-clipped EW baseline of the series, with weight ``base`` per
typical interval like the spike member's long scale. The slower means, which a spike moves
less, and the raw value are not clipped: clipping the slower ones too gained less and left
the low-FP score where it was (docs/benchmarks/nab.md, fifth round: NAB +1.5 standard,
+0.6 low FP, +1.9 low FN in the paired check).

A value the series has already taken at its extreme is not novel, however far the
envelope has shrunk since: its own novelty is capped at 1 (the edge) when it equals the
highest or lowest value seen so far, exactly (a CPU back at 100 %, a gauge back at its
ceiling). The smoothed means are not capped: a repeated extreme that lasts still moves them.
On NAB this removed 8 of cpu_utilization_asg_misconfiguration's 10 false positives (paired
+0.4 / +0.8 / +0.3 standard / low FP / low FN; with the spike member's own rule for repeated
extremes, +1.1 / +2.2 / +0.7: docs/benchmarks/nab.md, sixth round).

The smoothed features are EW means per *sample*, whatever the time between samples, unlike
the other members' time-aware baselines. Each is compared with the envelope of its own past
values, so it must stay the same statistic: a time-aware mean would jump to the first value
after a gap, be a raw value by then, and break the narrower envelope of the smoothed values
though nothing unusual happened. The envelope itself still forgets per typical interval.

Weak at: anomalies inside the usual range (shape changes, missed daily peaks), series that
grow steadily, where every new high is "novel" until the envelope catches up, and clusters
of spikes on a heavy-tailed series: clipped, a run of them still moves the fastest mean as a
short change of level would.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from numba import njit
from pydantic import Field

from nocwise.detect.metrics.arrays import (
    EXT_SLOT,
    ArrayDetector,
    DetectorConfig,
    FloatArray,
    Slot,
    book_advance,
    decay,
    learn_extremes,
    repeats_extreme,
    upgrade_extremes,
)
from nocwise.detect.metrics.robust import MAD_TO_SIGMA, Index, robust_step, scale_floor
from nocwise.model.metrics import IntArray, MetricBatch
from nocwise.model.state import ModelState

__all__ = ["NoveltyConfig", "NoveltyDetector", "clip_band", "upgrade_base"]

#: Huber clip of the baseline that the fastest mean's input is clipped about (as every member's)
BASE_CLIP = 3.0


class NoveltyConfig(DetectorConfig):
    """Envelope forgetting per typical interval, the EW smoothings also watched, and how far
    (in robust standard deviations about the baseline) a sample may enter the fastest one."""

    kind: Literal["novelty"] = "novelty"
    forget: float = Field(default=1e-4, ge=0, lt=1)
    smoothing: tuple[float, ...] = (0.02, 0.05, 0.1)
    clip: float = Field(default=8.0, ge=0, description="fastest mean's input, in sigmas")
    base: float = Field(default=0.02, gt=0, le=1)
    rel_floor: float = Field(default=1e-3, ge=0)


@njit(cache=True, error_model="numpy")
def clip_band(
    base: FloatArray, row: Index, s: Index, warmup: int, rel_floor: float
) -> tuple[float, float]:
    """Centre and robust standard deviation of the baseline at rows ``row`` to ``row + 2``
    (location, deviation, samples learned): an infinite deviation (no clip) until it has
    learned ``warmup`` samples."""
    loc = base[row, s]
    if base[row + 2, s] < warmup:
        return loc, np.inf
    return loc, MAD_TO_SIGMA * base[row + 1, s] + scale_floor(loc, rel_floor)


@njit(cache=True, error_model="numpy")
def _kernel(
    series: IntArray,
    ts: IntArray,
    values: FloatArray,
    book: FloatArray,
    env: FloatArray,
    smooth: FloatArray,
    base: FloatArray,
    ext: FloatArray,
    alphas: FloatArray,
    clip: float,
    base_alpha: float,
    forget: float,
    warmup: int,
    gap_factor: float,
    rel_floor: float,
    out: FloatArray,
    band: FloatArray,
    learn: bool,
) -> None:
    n_feat = alphas.shape[0] + 1
    fastest = np.argmax(alphas) + 1 if clip > 0.0 else -1  # the feature whose input is clipped
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
        mid_b, sd_b = clip_band(base, 0, s, warmup, rel_floor)
        repeat = repeats_extreme(ext, 0, s, x)
        z = 0.0
        # feature 0 is the value, feature j > 0 its EW mean with weight alphas[j - 1] per
        # sample (not per typical interval); the fastest one's input is clipped about the
        # baseline (see the module docstring)
        for j in range(n_feat):
            f = x
            if j > 0 and n > 1.0:
                xc = x
                if j == fastest:
                    xc = min(max(x, mid_b - clip * sd_b), mid_b + clip * sd_b)
                f = smooth[j - 1, s] + alphas[j - 1] * (xc - smooth[j - 1, s])
            lo, hi = env[2 * j, s], env[2 * j + 1, s]
            if scored:
                mid = 0.5 * (hi + lo)
                z_f = abs(f - mid) / (0.5 * (hi - lo) + scale_floor(mid, rel_floor))
                if j == 0 and repeat:
                    z_f = min(z_f, 1.0)
                z = max(z, z_f)
            if learn:
                if j > 0:
                    smooth[j - 1, s] = f
                if n <= 1.0:
                    env[2 * j, s], env[2 * j + 1, s] = f, f
                else:
                    shrink = shrink_w * (hi - lo)
                    env[2 * j, s] = min(lo + shrink, f)
                    env[2 * j + 1, s] = max(hi - shrink, f)
        if learn:
            base[2, s] += 1.0
            a = decay(base_alpha, k)
            robust_step(base, 0, base, 1, s, x, a, base[2, s], BASE_CLIP)
            learn_extremes(ext, 0, s, x)
        if scored:
            out[i] = z


class NoveltyDetector(ArrayDetector[NoveltyConfig]):
    """Forgetting-envelope novelty detector; see the module docstring."""

    kind: ClassVar[str] = "novelty"
    config_class: ClassVar[type[DetectorConfig]] = NoveltyConfig
    #: v2: the baseline the smoothed means' input is clipped about (location, deviation, count);
    #: v3: the highest and lowest value seen
    version: ClassVar[int] = 3

    def _layout(self) -> dict[str, Slot]:
        n_smooth = len(self.config.smoothing)
        return {
            "env": Slot((2 * (n_smooth + 1),)),
            "smooth": Slot((n_smooth,)),
            "base": Slot((3,)),
            "ext": EXT_SLOT,
        }

    @classmethod
    def _upgrade(cls, state: ModelState) -> ModelState:
        if state.version == 1:
            state = upgrade_base(state)
        return upgrade_extremes(state, 3) if state.version == 2 else state

    def _run(self, batch: MetricBatch, out: FloatArray, band: FloatArray, learn: bool) -> None:
        c, a = self.config, self._arrays
        _kernel(
            batch.series,
            batch.ts_ms,
            batch.values,
            a["book"],
            a["env"],
            a["smooth"],
            a["base"],
            a["ext"],
            np.asarray(c.smoothing, dtype=np.float64),
            c.clip,
            c.base,
            c.forget,
            c.warmup,
            c.gap_factor,
            c.rel_floor,
            out,
            band,
            learn,
        )


def upgrade_base(state: ModelState, prefix: str = "") -> ModelState:
    """A v1 snapshot at the v2 layout: a baseline that has learned nothing yet.

    The smoothed means are then unclipped until it has learned ``warmup`` samples. ``prefix``
    names the arrays inside a larger snapshot (the ensemble's ``novelty/``).
    """
    arrays = dict(state.arrays)
    arrays[prefix + "base"] = np.zeros((3, int(arrays["book"].shape[-1])))
    return ModelState(state.schema, 2, state.params, arrays)
