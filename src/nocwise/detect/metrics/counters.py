"""Cumulative counters to rates, with resets reported instead of guessed.

SNMP ``Counter32/64`` and Prometheus counters only grow, until the device reboots or the
counter wraps. A drop is a reset: the rate across it is unknown (the counter may have
counted anything before restarting), so that sample's rate is NaN and the reset is reported,
rather than guessing a wrap at 2^32 or 2^64 (RFC 2578 §7.1.6 says a single wrap cannot be
told from a discontinuity). Gaps do not break a rate: it is the average over the gap.

Weak at: two resets within one sampling interval, and a counter that resets and climbs back
above its old value before the next sample (invisible in the samples).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit

from nocwise.model.errors import InvalidRecordError
from nocwise.model.metrics import IntArray, MetricBatch
from nocwise.model.state import ModelState

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class CounterRates:
    """Per sample: rate per second (NaN at a series' first sample and across a reset)."""

    rate_per_s: FloatArray
    is_reset: BoolArray


@njit(cache=True)
def _rate_kernel(
    series: IntArray,
    ts: IntArray,
    values: FloatArray,
    last: FloatArray,
    rate: FloatArray,
    reset: BoolArray,
) -> None:
    # last rows: seen (0/1), last value, last ts (ms), resets so far
    for i in range(series.shape[0]):
        s, t, v = series[i], ts[i], values[i]
        if not np.isfinite(v) or (last[0, s] > 0.0 and t <= last[2, s]):
            continue
        if last[0, s] > 0.0:
            if v < last[1, s]:
                reset[i] = True
                last[3, s] += 1.0
            else:
                rate[i] = (v - last[1, s]) * 1000.0 / (t - last[2, s])
        last[0, s], last[1, s], last[2, s] = 1.0, v, float(t)


class CounterRate:
    """Per-series counter-to-rate transform (state: four arrays indexed by series id)."""

    version = 1

    def __init__(self) -> None:
        self._last: FloatArray = np.zeros((4, 0))

    def update(self, batch: MetricBatch) -> CounterRates:
        """Rates for the batch; samples out of order or non-finite get NaN and change nothing."""
        n = batch.n_series_hint
        if n > self._last.shape[1]:
            self._last = np.pad(self._last, ((0, 0), (0, n - self._last.shape[1])))
        rate = np.full(len(batch), np.nan)
        reset = np.zeros(len(batch), dtype=np.bool_)
        _rate_kernel(batch.series, batch.ts_ms, batch.values, self._last, rate, reset)
        return CounterRates(rate, reset)

    def resets(self) -> FloatArray:
        """Resets seen so far, per series id."""
        return np.array(self._last[3], dtype=np.float64)

    def to_state(self) -> ModelState:
        """The per-series last value, timestamp and reset count."""
        return ModelState(
            "nocwise.detect.metrics.counters", self.version, {}, {"last": self._last.copy()}
        )

    @classmethod
    def from_state(cls, state: ModelState) -> CounterRate:
        """Rebuild from :meth:`to_state`."""
        state.expect("nocwise.detect.metrics.counters", cls.version)
        arr = np.array(state.arrays.get("last", np.zeros((4, 0))), dtype=np.float64)
        if arr.ndim != 2 or arr.shape[0] != 4:
            raise InvalidRecordError("counter state must have four rows")
        out = cls()
        out._last = arr
        return out
