"""The metric detector contract.

A detector keeps state for all series in a few contiguous arrays indexed by series id
(struct of arrays) and works on whole :class:`MetricBatch` es:

- ``score(batch)`` reads state and never writes it; it returns one score per sample where a
  higher score means more anomalous, in [0, 1] once warmed up (NaN while the series is cold,
  and for a rejected sample: NaN/inf value or a timestamp before the series' last one, which
  is counted in the detector's health and never learned).
- ``learn(batch)`` is the only mutator.
- ``to_state()`` / ``from_state()`` round-trip exactly through :class:`ModelState`.

Within a batch, samples of one series are in time order; ``score`` of sample *i* uses only state
learned from samples before the batch (streaming callers alternate score/learn per step or use
``score_learn`` which scores each sample before learning it).
"""

from __future__ import annotations

from typing import ClassVar, Protocol, Self

import numpy as np
import numpy.typing as npt

from nocwise.model.metrics import MetricBatch
from nocwise.model.state import ModelState

Scores = npt.NDArray[np.float64]


class Detector(Protocol):
    """An online, vectorised anomaly detector over many series."""

    kind: ClassVar[str]

    def score(self, batch: MetricBatch) -> Scores:
        """One score per sample, higher = more anomalous; reads state only."""
        ...

    def learn(self, batch: MetricBatch) -> None:
        """Update state from the batch: the only mutator."""
        ...

    def score_learn(self, batch: MetricBatch) -> Scores:
        """Score each sample against the state before it, then learn it (streaming order)."""
        ...

    def to_state(self) -> ModelState:
        """A versioned snapshot of plain values and arrays."""
        ...

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """Rebuild a detector from :meth:`to_state`'s snapshot."""
        ...
