"""Shared machinery for detectors whose state is a few arrays indexed by series id.

Every array's last axis is the series id, so one state holds 10^5–10^6 series contiguously
and a batch is scored by one compiled loop over its samples (no Python per sample or series).
Unseen ids grow the arrays with each field's initial value. Bookkeeping that every detector
reports lives here too: samples learned, last timestamp, typical interval, rejected samples
(NaN/inf or out of order) and gaps (an interval over ``gap_factor`` typical intervals).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic, NamedTuple, Self, TypeVar

import numpy as np
import numpy.typing as npt
from numba import njit
from pydantic import BaseModel, ConfigDict, Field
from scipy.special import erf

from nocwise.detect.metrics.robust import Index
from nocwise.model.errors import InvalidRecordError
from nocwise.model.metrics import MetricBatch
from nocwise.model.state import ModelState

FloatArray = npt.NDArray[np.float64]

#: Bookkeeping fields, in this order, in every detector's ``book`` array (shape (5, n_series)).
BOOK_FIELDS = ("count", "last_ts_ms", "dt_ms", "rejected", "gaps")
COUNT, LAST_TS, DT, REJECTED, GAPS = range(5)


class Slot(NamedTuple):
    """One state array: leading shape (the series axis is appended), initial value, dtype."""

    lead: tuple[int, ...]
    init: float = 0.0
    dtype: type[np.generic] = np.float64


def grow_arrays(arrays: dict[str, npt.NDArray[Any]], layout: dict[str, Slot], n: int) -> None:
    """Give every array of ``layout`` room for ``n`` series, keeping what is there."""
    for name, slot in layout.items():
        old = arrays.get(name)
        if old is not None and old.shape[-1] >= n:
            continue
        new = np.full((*slot.lead, n), slot.init, dtype=slot.dtype)
        if old is not None:
            new[..., : old.shape[-1]] = old
        arrays[name] = new


class DetectorConfig(BaseModel):
    """Settings every array detector shares."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    warmup: int = Field(default=24, ge=1, description="samples before a series is scored")
    gap_factor: float = Field(default=6.0, gt=1.0, description="interval / typical = a gap")


@njit(cache=True, error_model="numpy")
def book_step(book: FloatArray, s: Index, t: float, x: float, gap_factor: float) -> float:
    """Validate one sample and advance the bookkeeping; returns the step in typical intervals.

    Returns -1.0 for a rejected sample (non-finite value or timestamp before the last one),
    which the caller must neither score nor learn. Between gaps every sample is one step:
    EW weights count samples, so timestamp jitter and a few missed samples neither
    under-weight an early sample nor over-weight a late one. After a gap (over
    ``gap_factor`` typical intervals) the step is the time elapsed in typical intervals, so
    the state ages by the outage (docs/benchmarks/nab.md: measured against elapsed-time steps).
    """
    if not math.isfinite(x) or (book[COUNT, s] > 0 and t < book[LAST_TS, s]):
        book[REJECTED, s] += 1.0
        return -1.0
    k = 1.0
    if book[COUNT, s] > 0:
        dt = t - book[LAST_TS, s]
        if book[COUNT, s] == 1:
            book[DT, s] = dt
        elif book[DT, s] > 0:
            k = 1.0 if dt == book[DT, s] else dt / book[DT, s]
            if k > gap_factor:
                book[GAPS, s] += 1.0
            else:
                book[DT, s] += 0.05 * (dt - book[DT, s])
                k = 1.0
    book[COUNT, s] += 1.0
    book[LAST_TS, s] = t
    return min(max(k, 0.0), 50.0)


@njit(cache=True, error_model="numpy")
def book_check(book: FloatArray, s: Index, t: float, x: float) -> bool:
    """Whether a sample would be accepted, without touching state (for pure scoring)."""
    return math.isfinite(x) and not (book[COUNT, s] > 0 and t < book[LAST_TS, s])


@njit(cache=True, error_model="numpy")
def book_advance(
    book: FloatArray, s: Index, t: float, x: float, gap_factor: float, learn: bool
) -> tuple[float, float]:
    """The prologue of every kernel's per-sample step: ``(k, n)``, the step in typical
    intervals and the sample count including this one. The bookkeeping is advanced only when
    ``learn``; ``k < 0`` marks a rejected sample, which the caller must neither score nor learn."""
    if learn:
        k = book_step(book, s, t, x, gap_factor)
        return k, book[COUNT, s]
    if not book_check(book, s, t, x):
        return -1.0, 0.0
    return 1.0, book[COUNT, s] + 1.0


@njit(cache=True, error_model="numpy")
def decay_log(alpha: float, log_keep: float, k: float) -> float:
    """:func:`decay` given ``log_keep = log1p(-alpha)``, which a kernel computes once per batch.

    ``-expm1(k * log_keep)`` is one exponential per weight where ``1 - (1 - alpha) ** k`` is a
    logarithm and an exponential (the first samples after a gap take this path), and it keeps
    the digits of a small alpha that ``1 - (1 - alpha)`` loses.
    """
    if k == 1.0:
        return alpha
    return -math.expm1(max(k, 0.1) * log_keep)


@njit(cache=True, error_model="numpy")
def decay(alpha: float, k: float) -> float:
    """The EW weight of one sample that arrives after ``k`` typical intervals."""
    return decay_log(alpha, math.log1p(-alpha), k)


def z_to_score(z: FloatArray) -> FloatArray:
    """Map a robust z (≥ 0) to [0, 1] as one minus its two-sided Gaussian tail, erf(z/√2)."""
    return np.asarray(erf(np.asarray(z, dtype=np.float64) / math.sqrt(2.0)), dtype=np.float64)


#: The highest and lowest value a series has taken (rows 0 and 1 of an ``ext`` slot), NaN
#: until known; the spike and novelty members use them to tell a repeated extreme.
EXT_SLOT = Slot((2,), np.nan)


@njit(cache=True, error_model="numpy")
def repeats_extreme(ext: FloatArray, row: Index, s: Index, x: float) -> bool:
    """Whether ``x`` equals exactly the highest or lowest value seen so far (rows ``row`` and
    ``row + 1``; an unknown NaN never does): a value the series has already taken at its
    extreme, such as a CPU back at 100 %, is no news however long ago it was taken."""
    return bool(x == ext[row, s] or x == ext[row + 1, s])


@njit(cache=True, error_model="numpy")
def learn_extremes(ext: FloatArray, row: Index, s: Index, x: float) -> None:
    """Widen the highest and lowest value seen to ``x`` (replacing an unknown NaN)."""
    if not ext[row, s] >= x:
        ext[row, s] = x
    if not ext[row + 1, s] <= x:
        ext[row + 1, s] = x


def upgrade_extremes(state: ModelState, version: int, prefix: str = "") -> ModelState:
    """An older snapshot with the highest and lowest value seen added, unknown (NaN): no value
    is a repeated extreme until the series has taken values again. ``prefix`` names the arrays
    inside a larger snapshot (the ensemble's ``novelty/``); ``version`` is the new one."""
    arrays = dict(state.arrays)
    if "book" not in arrays:
        raise InvalidRecordError("state misses 'book'")
    arrays[prefix + "ext"] = np.full((2, int(arrays["book"].shape[-1])), np.nan)
    return ModelState(state.schema, version, state.params, arrays)


C = TypeVar("C", bound=DetectorConfig)


class ArrayDetector(ABC, Generic[C]):
    """Base of the array detectors: growth, validation, score/learn split and state."""

    kind: ClassVar[str]
    config_class: ClassVar[type[DetectorConfig]]
    version: ClassVar[int] = 1

    def __init__(self, config: C | None = None) -> None:
        self.config: C = config if config is not None else self.config_class()  # type: ignore[assignment]
        self._arrays: dict[str, npt.NDArray[Any]] = {}
        self._n = 0
        self._grow(0)

    # -- what a detector defines ---------------------------------------------------------------

    @abstractmethod
    def _layout(self) -> dict[str, Slot]:
        """Array name -> its slot (leading shape, initial value, dtype)."""

    @classmethod
    def _upgrade(cls, state: ModelState) -> ModelState:
        """Migrate an older snapshot to :attr:`version` (the default knows only the current)."""
        return state

    @abstractmethod
    def _run(self, batch: MetricBatch, out: FloatArray, band: FloatArray, learn: bool) -> None:
        """Write a robust z per sample into ``out`` (NaN when cold/rejected); learn if asked.

        ``band`` (2 × samples) receives the expected value and its standard deviation for
        each scored sample, from the state before that sample (NaN where not applicable).
        """

    # -- the protocol --------------------------------------------------------------------------

    def raw(self, batch: MetricBatch, *, learn: bool = False) -> FloatArray:
        """Robust z per sample (≥ 0, NaN while cold or for rejected samples)."""
        return self.raw_band(batch, learn=learn)[0]

    def raw_band(self, batch: MetricBatch, *, learn: bool = False) -> tuple[FloatArray, FloatArray]:
        """Robust z per sample and the expected (value, sigma) band, shape (2, samples)."""
        if len(batch) and int(batch.series.min()) < 0:
            raise InvalidRecordError("series ids must be non-negative")
        self._grow(batch.n_series_hint)
        out = np.full(len(batch), np.nan)
        band = np.full((2, len(batch)), np.nan)
        if len(batch):
            self._run(batch, out, band, learn)
        return out, band

    def score(self, batch: MetricBatch) -> FloatArray:
        """Score in [0, 1] per sample against the state before the batch; never writes state."""
        return z_to_score(self.raw(batch, learn=False))

    def learn(self, batch: MetricBatch) -> None:
        """Learn the batch in order (the only mutator)."""
        self.raw(batch, learn=True)

    def score_learn(self, batch: MetricBatch) -> FloatArray:
        """Score each sample against everything before it, then learn it (streaming order)."""
        return z_to_score(self.raw(batch, learn=True))

    @property
    def n_series(self) -> int:
        """Series the state has room for."""
        return self._n

    def health(self) -> dict[str, FloatArray]:
        """Per-series bookkeeping: samples learned, rejected samples, gaps seen."""
        book = self._arrays["book"]
        return {name: book[i].copy() for i, name in enumerate(BOOK_FIELDS)}

    def state_bytes(self) -> int:
        """Memory held by the state arrays."""
        return sum(a.nbytes for a in self._arrays.values())

    def to_state(self) -> ModelState:
        """Config as JSON, every array copied (in its own dtype)."""
        return ModelState(
            f"nocwise.detect.metrics.{self.kind}",
            self.version,
            self.config.model_dump(mode="json"),
            {k: v.copy() for k, v in self._arrays.items()},
        )

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """Rebuild from :meth:`to_state` (older versions migrated); raises on any other."""
        state = cls._upgrade(state)
        state.expect(f"nocwise.detect.metrics.{cls.kind}", cls.version)
        det = cls(cls.config_class.model_validate(state.params))  # type: ignore[arg-type]
        n = int(state.arrays["book"].shape[-1])
        det._grow(n)
        for name, arr in state.arrays.items():
            if name not in det._arrays or det._arrays[name].shape != arr.shape:
                raise InvalidRecordError(f"state array {name!r} has an unexpected shape")
            det._arrays[name] = np.array(arr, dtype=det._arrays[name].dtype)
        return det

    # -- internals -----------------------------------------------------------------------------

    def _grow(self, n: int) -> None:
        if n <= self._n and self._arrays:
            return
        n = max(n, self._n)
        grow_arrays(self._arrays, {"book": Slot((len(BOOK_FIELDS),)), **self._layout()}, n)
        self._n = n
