"""Spike detector: a robust z against EW baselines on several time scales.

A sample is as anomalous as its *smallest* robust z over the scales: it must stand out from
the last few samples and from the longer history, which keeps a noisy stretch or the settling
after a level shift from firing on every sample (the level-shift detector covers those).

A value equal to the highest or lowest one the series has taken, exactly, is not scored
(NaN): it is an extreme already seen, not a spike. On a series that is flat between bursts
of one height (0 and 20 exactly) the robust scale collapses between bursts, so each repeat
of the same burst scored a larger z than the last and alarmed; a burst to a new height, or
after a long silence to a height not taken before, is still scored (docs/benchmarks/nab.md,
sixth round).

Weak at: slow drifts and changes of shape that stay inside the usual range; the first
``warmup`` samples of a series are not scored. Robust EW statistics as in Hampel et al.,
*Robust Statistics* (1986); multi-scale z as in Twitter's ESD practice (Hochenbaum 2017).
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
from nocwise.detect.metrics.robust import MAD_TO_SIGMA, robust_step, robust_z, scale_floor
from nocwise.model.metrics import IntArray, MetricBatch
from nocwise.model.state import ModelState

__all__ = ["SpikeConfig", "SpikeDetector"]


class SpikeConfig(DetectorConfig):
    """Time scales as EW weights per typical interval (0.2 ≈ the last 5 samples)."""

    kind: Literal["spike"] = "spike"
    alphas: tuple[float, ...] = Field(default=(0.2, 0.02), min_length=1)
    clip: float = Field(default=3.0, gt=0)
    rel_floor: float = Field(default=1e-3, ge=0)


@njit(cache=True, error_model="numpy")
def _kernel(
    series: IntArray,
    ts: IntArray,
    values: FloatArray,
    book: FloatArray,
    loc: FloatArray,
    dev: FloatArray,
    ext: FloatArray,
    alphas: FloatArray,
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
        if n > warmup:
            last = alphas.shape[0] - 1
            z = np.inf
            for j in range(alphas.shape[0]):
                z = min(z, robust_z(x, loc[j, s], dev[j, s], rel_floor))
            out[i] = np.nan if repeats_extreme(ext, 0, s, x) else z
            band[0, i] = loc[last, s]
            band[1, i] = MAD_TO_SIGMA * dev[last, s] + scale_floor(loc[last, s], rel_floor)
        if learn:
            for j in range(alphas.shape[0]):
                robust_step(loc, j, dev, j, s, x, decay(alphas[j], k), n, clip)
            learn_extremes(ext, 0, s, x)


class SpikeDetector(ArrayDetector[SpikeConfig]):
    """Robust z / MAD spike detector over several EW scales; see the module docstring."""

    kind: ClassVar[str] = "spike"
    config_class: ClassVar[type[DetectorConfig]] = SpikeConfig
    #: v2: the highest and lowest value seen
    version: ClassVar[int] = 2

    def _layout(self) -> dict[str, Slot]:
        j = len(self.config.alphas)
        return {"loc": Slot((j,)), "dev": Slot((j,)), "ext": EXT_SLOT}

    @classmethod
    def _upgrade(cls, state: ModelState) -> ModelState:
        return upgrade_extremes(state, 2) if state.version == 1 else state

    def _run(self, batch: MetricBatch, out: FloatArray, band: FloatArray, learn: bool) -> None:
        c, a = self.config, self._arrays
        _kernel(
            batch.series,
            batch.ts_ms,
            batch.values,
            a["book"],
            a["loc"],
            a["dev"],
            a["ext"],
            np.asarray(c.alphas, dtype=np.float64),
            c.warmup,
            c.gap_factor,
            c.clip,
            c.rel_floor,
            out,
            band,
            learn,
        )
