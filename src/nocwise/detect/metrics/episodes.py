"""From per-sample probabilities to episodes: one alarm per anomalous stretch, then a clear.

A series opens an episode when its probability reaches ``on`` and closes it after
``clear_after`` consecutive samples below ``off`` (hysteresis: a value hovering around one
threshold does not flap). A re-crossing within ``suppress`` samples of a close continues the
same episode instead of raising a new alarm. State is four arrays indexed by series id.

:func:`peak_gate` is the threshold-free cousin used for scoring streams (NAB): a sample keeps
its probability only when it exceeds the series' recent peak, so an episode contributes its
first and highest samples and not the long tail that follows. For ``hold`` samples after a
sample passes, it is also refractory: a new pass must beat the last one by ``margin`` (times
its probability), so a clear alarm (probability above 1 / (1 + margin)) is not repeated by
the samples that follow it, while a marginal one can still be overtaken by a clearly
stronger one. Both follow Merlion's ``AggregateAlarms`` (min hits, suppression) in a
vectorised, per-series form.

Weak at: two distinct incidents on one series within ``suppress`` samples (reported as one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Self

import numpy as np
import numpy.typing as npt
from numba import njit
from pydantic import BaseModel, ConfigDict, Field

from nocwise.detect.metrics.anomaly import MetricAnomaly
from nocwise.model.errors import InvalidRecordError
from nocwise.model.metrics import IntArray, MetricBatch
from nocwise.model.state import ModelState

FloatArray = npt.NDArray[np.float64]

NONE, OPENED, CLOSED = 0, 1, 2


class EpisodeConfig(BaseModel):
    """Hysteresis thresholds and the sample counts that end and merge episodes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["episodes"] = "episodes"
    on: float = Field(default=0.9, gt=0, le=1)
    off: float = Field(default=0.7, ge=0, le=1)
    clear_after: int = Field(default=3, ge=1)
    suppress: int = Field(default=30, ge=0)


@njit(cache=True)
def _episode_kernel(
    series: IntArray,
    prob: FloatArray,
    state: FloatArray,
    on: float,
    off: float,
    clear_after: int,
    suppress: int,
    events: IntArray,
) -> None:
    # state rows: open, samples below off while open, samples since close (-1 = never)
    for i in range(series.shape[0]):
        s, p = series[i], prob[i]
        if p != p:
            continue
        if state[0, s] > 0.0:
            state[1, s] = state[1, s] + 1.0 if p < off else 0.0
            if state[1, s] >= clear_after:
                state[0, s], state[1, s], state[2, s] = 0.0, 0.0, 0.0
                events[i] = CLOSED
        elif p >= on:
            merged = 0.0 <= state[2, s] < suppress
            state[0, s], state[1, s] = 1.0, 0.0
            if not merged:
                events[i] = OPENED
        elif state[2, s] >= 0.0:
            state[2, s] += 1.0


@dataclass(frozen=True, slots=True)
class EpisodeEvents:
    """Alarms raised (one per new episode) and clears (series, ts_ms) in this batch."""

    opened: list[MetricAnomaly]
    closed: list[tuple[int, int]]


class EpisodeTracker:
    """Per-series episode state; see the module docstring."""

    version = 1

    def __init__(self, config: EpisodeConfig | None = None) -> None:
        self.config = config if config is not None else EpisodeConfig()
        self._state = np.zeros((3, 0))

    def update(
        self,
        batch: MetricBatch,
        prob: FloatArray,
        lower: FloatArray,
        upper: FloatArray,
        detector: list[str],
        model_version: str,
    ) -> EpisodeEvents:
        """Advance every series through the batch; evidence is taken at the opening sample."""
        n = batch.n_series_hint
        if n > self._state.shape[1]:
            grown = np.zeros((3, n))
            grown[2] = -1.0
            grown[:, : self._state.shape[1]] = self._state
            self._state = grown
        events = np.zeros(len(batch), dtype=np.int64)
        c = self.config
        _episode_kernel(
            batch.series, prob, self._state, c.on, c.off, c.clear_after, c.suppress, events
        )
        opened = [
            MetricAnomaly(
                int(batch.series[i]),
                int(batch.ts_ms[i]),
                float(batch.values[i]),
                float(lower[i]),
                float(upper[i]),
                float(prob[i]),
                detector[i],
                model_version,
            )
            for i in np.flatnonzero(events == OPENED)
        ]
        closed = [
            (int(batch.series[i]), int(batch.ts_ms[i])) for i in np.flatnonzero(events == CLOSED)
        ]
        return EpisodeEvents(opened, closed)

    def open_series(self) -> IntArray:
        """Ids of the series with an open episode."""
        return np.flatnonzero(self._state[0] > 0.0).astype(np.int64)

    def to_state(self) -> ModelState:
        """Config and the per-series episode arrays."""
        return ModelState(
            "nocwise.detect.metrics.episodes",
            self.version,
            self.config.model_dump(mode="json"),
            {"state": self._state.copy()},
        )

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """Rebuild from :meth:`to_state`."""
        state.expect("nocwise.detect.metrics.episodes", cls.version)
        tracker = cls(EpisodeConfig.model_validate(state.params))
        arr = np.array(state.arrays.get("state", np.zeros((3, 0))), dtype=np.float64)
        if arr.ndim != 2 or arr.shape[0] != 3:
            raise InvalidRecordError("episode state must have three rows")
        tracker._state = arr
        return tracker


#: Rows of the peak gate's per-series state (:func:`gate_state`).
GATE_PEAK, GATE_SINCE, GATE_LAST = range(3)


def gate_state(n_series: int) -> FloatArray:
    """A fresh peak-gate state: decaying peak, samples since the last pass, last passed prob."""
    state = np.zeros((3, n_series))
    state[GATE_SINCE] = np.inf
    return state


@njit(cache=True)
def _gate_kernel(
    series: IntArray,
    prob: FloatArray,
    state: FloatArray,
    decay: float,
    hold: int,
    margin: float,
    out: FloatArray,
) -> None:
    for i in range(series.shape[0]):
        s, p = series[i], prob[i]
        if p != p:
            continue
        state[GATE_SINCE, s] += 1.0
        passed = p > state[GATE_PEAK, s]
        if passed and state[GATE_SINCE, s] <= hold:
            passed = p > state[GATE_LAST, s] * (1.0 + margin)
        out[i] = p if passed else 0.0
        if passed:
            state[GATE_SINCE, s], state[GATE_LAST, s] = 0.0, p
        state[GATE_PEAK, s] = max(state[GATE_PEAK, s] * decay, p)


def peak_gate(
    series: IntArray,
    prob: FloatArray,
    state: FloatArray,
    decay: float,
    hold: int = 0,
    margin: float = 0.0,
) -> FloatArray:
    """Keep a probability only where it beats the series' decaying recent peak (else 0).

    Within ``hold`` samples of the series' last pass it must also beat that pass by
    ``margin`` (relative). ``state`` (:func:`gate_state`, grown by the caller) is updated in
    place; NaN stays NaN and does not count as a sample.
    """
    out = np.full(prob.shape[0], np.nan)
    _gate_kernel(series, prob, state, decay, hold, margin, out)
    return out
