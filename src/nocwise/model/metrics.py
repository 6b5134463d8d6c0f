"""Series and columnar metric batches (DESIGN §3): no per-sample Python objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from nocwise.model.errors import InvalidRecordError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Series:
    """One time series: a metric with labels, attached to an entity.

    ``id`` is a dense integer assigned by the series index; it is the row of the series in every
    detector's struct-of-arrays state.
    """

    id: int
    metric: str
    labels: Mapping[str, str] = field(default_factory=dict)
    entity_id: str | None = None
    unit: str = ""


@dataclass(frozen=True, slots=True)
class MetricBatch:
    """Samples of many series, columnar: ``series[i]`` had ``values[i]`` at ``ts_ms[i]``.

    Within one series, samples are in time order. Arrays are not copied; treat them as read-only.

    >>> b = MetricBatch.of([0, 1, 0], [1000, 1000, 2000], [1.0, 2.0, 3.0])
    >>> len(b), b.n_series_hint
    (3, 2)
    """

    series: IntArray
    ts_ms: IntArray
    values: FloatArray

    def __post_init__(self) -> None:
        n = self.series.shape[0]
        if self.ts_ms.shape != (n,) or self.values.shape != (n,):
            raise InvalidRecordError("MetricBatch arrays must be one-dimensional and equally long")
        if self.series.dtype != np.int64 or self.ts_ms.dtype != np.int64:
            raise InvalidRecordError("MetricBatch series and ts_ms must be int64")
        if self.values.dtype != np.float64:
            raise InvalidRecordError("MetricBatch values must be float64")

    @classmethod
    def of(cls, series: object, ts_ms: object, values: object) -> MetricBatch:
        """Build a batch from any array-likes, converting dtypes."""
        return cls(
            np.asarray(series, dtype=np.int64),
            np.asarray(ts_ms, dtype=np.int64),
            np.asarray(values, dtype=np.float64),
        )

    @classmethod
    def empty(cls) -> MetricBatch:
        """A batch with no samples."""
        return cls.of([], [], [])

    def __len__(self) -> int:
        return int(self.series.shape[0])

    @property
    def n_series_hint(self) -> int:
        """One more than the largest series id: the state size a detector needs."""
        return int(self.series.max()) + 1 if len(self) else 0

    def select(self, mask: npt.NDArray[np.bool_]) -> MetricBatch:
        """The samples where ``mask`` is true."""
        return MetricBatch(self.series[mask], self.ts_ms[mask], self.values[mask])

    @staticmethod
    def concat(batches: list[MetricBatch]) -> MetricBatch:
        """Join batches in order."""
        if not batches:
            return MetricBatch.empty()
        return MetricBatch(
            np.concatenate([b.series for b in batches]),
            np.concatenate([b.ts_ms for b in batches]),
            np.concatenate([b.values for b in batches]),
        )
