"""The metric ensemble: every univariate detector, calibrated per series, in one probability.

Each member scores every sample and :mod:`calibrate` turns their robust z into one
probability per sample and names the member that contributed most, all in one compiled pass
over the batch (:mod:`fused`) on one shared bookkeeping. The expected band for the evidence
comes from the seasonal profile where it is warm, else from the long spike baseline.
Thresholding and episodes live outside (see :mod:`episodes`), as in Merlion's calibrator /
alarm split.

Weak at: anything no member sees (see each member's "Weak at"), and the first samples of a
series, which are NaN until at least one member is warm and its record has been seen
``min_seen`` times, and are then tempered by the age confidence of :mod:`calibrate`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from nocwise.detect.metrics.arrays import (
    BOOK_FIELDS,
    ArrayDetector,
    FloatArray,
    Slot,
    grow_arrays,
    upgrade_extremes,
)
from nocwise.detect.metrics.episodes import EpisodeEvents, EpisodeTracker
from nocwise.detect.metrics.fused import (
    TR_DEV,
    ensemble_kernel,
    gather_inputs,
    gather_outputs,
    visit_plan,
)
from nocwise.detect.metrics.level_shift import (
    LevelShiftConfig,
    LevelShiftDetector,
    upgrade_quantum,
)
from nocwise.detect.metrics.novelty import NoveltyConfig, NoveltyDetector, upgrade_base
from nocwise.detect.metrics.seasonal import SeasonalConfig, SeasonalDetector, upgrade_bins
from nocwise.detect.metrics.spike import SpikeConfig, SpikeDetector
from nocwise.detect.metrics.trend import TrendConfig, TrendDetector
from nocwise.model.errors import InvalidRecordError
from nocwise.model.metrics import IntArray, MetricBatch
from nocwise.model.state import ModelState

__all__ = ["EnsembleConfig", "EnsembleDetector", "EnsembleOutput"]

MEMBERS: tuple[str, ...] = ("spike", "level_shift", "seasonal", "trend", "novelty")
#: the seasonal member's per-bin arrays (rows of bins, not columns of a per-series record)
BINS = ("seasonal/loc", "seasonal/dev", "seasonal/cnt")
#: the per-series record's fields in the pass's order: the fixed-size ones at the rows of
#: ``fused`` (book 0-4, level shift 5-7, seasonal start 8, trend 9-12), then spike and novelty,
#: then the level shift's last value and quantum (v4, appended so the fixed rows stay put),
#: then the novelty's clipping baseline (v5), then the highest and lowest value seen (v6)
RECORD = (
    "book",
    "level_shift/short",
    "level_shift/loc",
    "level_shift/dev",
    "seasonal/first",
    "trend/holt",
    "trend/loc",
    "trend/dev",
    "spike/loc",
    "spike/dev",
    "novelty/env",
    "novelty/smooth",
    "level_shift/last",
    "level_shift/step",
    "novelty/base",
    "novelty/ext",
)


class EnsembleConfig(BaseModel):
    """Member configs, member weights and the calibration settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["ensemble"] = "ensemble"
    spike: SpikeConfig = SpikeConfig()
    level_shift: LevelShiftConfig = LevelShiftConfig()
    seasonal: SeasonalConfig = SeasonalConfig()
    trend: TrendConfig = TrendConfig()
    novelty: NoveltyConfig = NoveltyConfig()
    weights: tuple[float, float, float, float, float] = (0.8, 0.8, 0.8, 0.48, 1.0)
    record_decay: float = Field(default=0.9999, gt=0, le=1)
    record_floor: float = Field(default=8.0, gt=0)
    min_seen: int = Field(default=100, ge=0)
    sharpness: float = Field(default=4.0, gt=0)
    age_half: float = Field(default=100.0, ge=0)
    band_z: float = Field(default=3.0, gt=0)
    layout: Literal["rows", "records"] = Field(
        default="rows",
        description="the state as a row per field (runs of consecutive ids take the "
        "vectorised path) or a record per series (for batches of scattered ids)",
    )
    model_version: str = "1"


@dataclass(frozen=True, slots=True)
class EnsembleOutput:
    """Per sample: probability, index of the winning member (-1 if cold) and expected band."""

    prob: FloatArray
    winner: npt.NDArray[np.int64]
    lower: FloatArray
    upper: FloatArray


class EnsembleDetector:
    """Calibrated ensemble of the univariate detectors; see the module docstring."""

    kind: ClassVar[str] = "ensemble"
    #: v2: one bookkeeping for all members, seasonal bins as float32; v3: calibration records
    #: as float32 and counts as uint32; v4: the level shift's last value and quantum; v5: the
    #: novelty's clipping baseline; v6: the highest and lowest value seen (v1-v5 are migrated)
    version: ClassVar[int] = 6

    def __init__(self, config: EnsembleConfig | None = None) -> None:
        self.config = config if config is not None else EnsembleConfig()
        c = self.config
        self.members: tuple[ArrayDetector[Any], ...] = (
            SpikeDetector(c.spike),
            LevelShiftDetector(c.level_shift),
            SeasonalDetector(c.seasonal),
            TrendDetector(c.trend),
            NoveltyDetector(c.novelty),
        )
        self._layout: dict[str, Slot] = {"book": Slot((len(BOOK_FIELDS),))}
        for member in self.members:  # each member's kind is its name in MEMBERS
            self._layout.update({f"{member.kind}/{k}": v for k, v in member._layout().items()})
        # the highest and lowest value seen are the spike's and the novelty's alike: one copy
        # (the pass's spike section reads it before the novelty section learns the sample)
        del self._layout["spike/ext"]
        # records as float32 (a ratio's reference: 6e-8 relative rounding), counts as uint32
        m = (len(MEMBERS),)
        self._layout.update({"record": Slot(m, 0.0, np.float32), "seen": Slot(m, 0.0, np.uint32)})
        self._arrays: dict[str, npt.NDArray[Any]] = {}
        self._slabs: dict[str, npt.NDArray[Any]] = {}
        self._rows: dict[str, int] = {}  # first row of each field in its slab
        self._grow(0)
        self._args: tuple[tuple[Any, ...], ...] | None = None  # rebuilt when the arrays change
        # the ids of the last batch out of id order and their visit plan (_visit_plan)
        self._last_plan: tuple[IntArray, tuple[IntArray, IntArray, IntArray]] | None = None
        self._scratch = np.empty((6, 0))  # the rows of _buffers
        self._blocks: list[FloatArray] = []  # the outputs' blocks (_outputs)
        self._weights = np.asarray(c.weights, dtype=np.float64)
        self._self_calibrated = np.array([m == "novelty" for m in MEMBERS])

    def _grow(self, n: int) -> None:
        """Room for ``n`` series, keeping the state there is.

        Every per-series field but the seasonal bins is a row of one (field, series) slab
        (33 float64 rows by default), so the pass finds each field at a row of one array.
        With ``layout="rows"`` the slab is C-ordered: consecutive series sit in consecutive
        words, and runs of consecutive ids take the vectorised path (``fused.steady_chunk``),
        2x faster, but a batch of scattered ids touches a cache line per field and sample
        and runs about half as fast. With ``layout="records"`` it is the view of one record
        per series (a sample's fields share ~4 cache lines) and every sample takes the
        scalar path. The named arrays, which the pass and the snapshots use, are row views
        of the slabs either way. The bins stay one row per bin: a batch scraped at one
        instant updates the same bin of every series.
        """
        if self._slabs and n <= self.n_series:
            return
        slabs = {"state": list(RECORD), "record": ["record"], "seen": ["seen"]}
        if set(RECORD) | {*BINS, "record", "seen"} != self._layout.keys():
            raise TypeError("every per-series field must have its place in RECORD")
        rows = self.config.layout == "rows"
        for slab_name, fields in slabs.items():
            slots = [self._layout[k] for k in fields]
            width_all = sum(slot.lead[0] for slot in slots)
            # (field, series) itself, or the (field, series) view of a (series, field) slab
            slab = np.empty((width_all, n) if rows else (n, width_all), dtype=slots[0].dtype)
            view_all = slab if rows else slab.T
            old = self._slabs.get(slab_name)
            kept = 0 if old is None else old.shape[1]
            if old is not None:
                view_all[:, :kept] = old
            off = 0
            for name, slot in zip(fields, slots, strict=True):
                (width,) = slot.lead  # every per-series field is a vector
                if slot.dtype != slab.dtype:
                    raise TypeError(f"{name} is {slot.dtype}, its slab {slab.dtype}")
                view = view_all[off : off + width]
                view[:, kept:] = slot.init
                self._arrays[name] = view
                self._rows[name] = off
                off += width
            self._slabs[slab_name] = view_all
        grow_arrays(self._arrays, {k: self._layout[k] for k in BINS}, n)
        self._args = None

    def _member_args(self) -> tuple[tuple[Any, ...], ...]:
        """Each member's state arrays and settings, in ``ensemble_kernel``'s order (cached)."""
        if self._args is None:
            self._args = self._build_args()
        return self._args

    def _build_args(self) -> tuple[tuple[Any, ...], ...]:
        c, a, rows = self.config, self._arrays, self._rows
        if rows["trend/dev"] != TR_DEV:
            raise AssertionError("the record's fields are not at the rows the pass expects")
        bin_ms, n_day, n_week = self.members[2]._bins()  # type: ignore[attr-defined]
        return (
            (self._slabs["state"],),  # (field, series): C- or F-ordered by the layout
            (
                np.uint64(rows["spike/loc"]),
                np.uint64(rows["spike/dev"]),
                np.asarray(c.spike.alphas, dtype=np.float64),
                c.spike.warmup,
                c.spike.clip,
                c.spike.rel_floor,
                np.uint64(rows["novelty/ext"]),
            ),
            (
                c.level_shift.fast,
                c.level_shift.slow,
                c.level_shift.warmup,
                c.level_shift.clip,
                c.level_shift.rel_floor,
                np.uint64(rows["level_shift/last"]),
                np.uint64(rows["level_shift/step"]),
                c.level_shift.resolution,
            ),
            (
                a["seasonal/loc"],
                a["seasonal/dev"],
                a["seasonal/cnt"],
                bin_ms,
                n_day,
                n_week,
                c.seasonal.alpha,
                c.seasonal.min_count,
                c.seasonal.clip,
                c.seasonal.rel_floor,
            ),
            (
                c.trend.level,
                c.trend.slope,
                c.trend.noise,
                c.trend.horizon,
                c.trend.warmup,
                c.trend.clip,
                c.trend.rel_floor,
            ),
            (
                np.uint64(rows["novelty/env"]),
                np.uint64(rows["novelty/smooth"]),
                np.uint64(rows["novelty/base"]),
                np.asarray(c.novelty.smoothing, dtype=np.float64),
                c.novelty.clip,
                c.novelty.base,
                c.novelty.forget,
                c.novelty.warmup,
                c.novelty.rel_floor,
                np.uint64(rows["novelty/ext"]),
            ),
            (
                self._weights,
                self._self_calibrated,
                a["record"],
                a["seen"],
                c.record_decay,
                c.record_floor,
                float(c.min_seen),
                c.sharpness,
                c.age_half,
            ),
        )

    def detect(self, batch: MetricBatch, *, learn: bool) -> EnsembleOutput:
        """Probability, winner and band per sample; learns the batch when ``learn``.

        The four arrays are rows of one block (the winner's read as int64), which a later
        batch reuses once none of them is referred to any more (:meth:`_outputs`).
        """
        if len(batch) and int(batch.series.min()) < 0:
            raise InvalidRecordError("series ids must be non-negative")
        if batch.n_series_hint > self.n_series:
            self._grow(batch.n_series_hint)
        plan = self._visit_plan(batch.series)
        out = self._outputs(len(batch))
        if plan is None:
            return self._pass(batch.series, batch.ts_ms, batch.values, learn, out)
        # ids out of order: the pass runs in id order, the outputs go back to batch order
        order, place, series = plan
        # the batch in visiting order and the pass's outputs go to buffers kept from batch
        # to batch: fresh arrays of this size come from new pages, and the page faults cost
        # more than the gathers (measured: 4 ns per sample and array at 10^5 series)
        buf = self._buffers(len(batch))
        ts, values = buf[0].view(np.int64), buf[1]
        gather_inputs(order, batch.ts_ms, batch.values, ts, values)
        part = self._pass(series, ts, values, learn, buf[2:])
        res = _rows(out)
        gather_outputs(place, part.prob, part.winner, part.lower, part.upper, *_fields(res))
        return res

    def _buffers(self, n: int) -> FloatArray:
        """Six rows of ``n`` float64 for a batch out of id order, kept for the next one."""
        if self._scratch.shape[1] < n:
            self._scratch = np.empty((6, n))
        return self._scratch[:, :n]

    def _outputs(self, n: int) -> FloatArray:
        """Four rows of ``n`` float64 for a batch's outputs: a block of an earlier batch that
        no output still refers to, else a new one.

        The outputs of a large batch are arrays of new pages on every batch (glibc gives
        freed blocks of this size back to the kernel), and their page faults cost more than
        a member: about 13 ns per sample at 10^5 series, a fifth of the pass. Every
        returned array is a view that holds its block, so a block whose only references are
        this detector's is one that no caller can read any more, and writing it again
        changes nothing anyone sees. Two blocks are kept, for a caller that holds one
        batch's outputs while scoring the next.
        """
        blocks = self._blocks
        for k in range(len(blocks)):
            # references: the list's and the argument's; any output alive adds its own
            if blocks[k].shape[1] >= n and sys.getrefcount(blocks[k]) == _FREE_REFS:
                return blocks[k][:, :n]
        block = np.empty((4, n))
        self._blocks = [block, *blocks[:1]]
        return block

    def _visit_plan(self, series: IntArray) -> tuple[IntArray, IntArray, IntArray] | None:
        """``fused.visit_plan`` and the ids in its order, or None for ids in order.

        The plan of the last batch of ids out of order is kept: a scrape of the same targets
        delivers its series in the same order batch after batch, and comparing the ids
        (one sequential pass) is cheaper than sorting them again.
        """
        kept = self._last_plan
        if kept is not None and kept[0].shape == series.shape and np.array_equal(kept[0], series):
            return kept[1]
        order, place = visit_plan(series)
        if not order.shape[0]:
            return None
        plan = (order, place, series[order])
        self._last_plan = (series.copy(), plan)
        return plan

    def _pass(
        self,
        series: IntArray,
        ts: IntArray,
        values: FloatArray,
        learn: bool,
        out: FloatArray,
    ) -> EnsembleOutput:
        """One compiled pass over the samples, in the order given; the outputs go to the
        rows of ``out`` (probability, winner as int64, lower, upper)."""
        n = series.shape[0]
        res = _rows(out)
        prob, winner, lower, upper = _fields(res)
        if n:
            c = self.config
            (st,), spike, level_shift, seasonal, trend, novelty, calibration = self._member_args()
            ensemble_kernel(
                series,
                ts,
                values,
                st,
                c.spike.gap_factor,
                spike,
                level_shift,
                seasonal,
                trend,
                novelty,
                calibration,
                c.band_z,
                prob,
                winner,
                lower,
                upper,
                learn,
                c.layout == "rows",
            )
        return res

    @property
    def n_series(self) -> int:
        """Series the state has room for."""
        return int(self._arrays["book"].shape[-1])

    def observe(self, batch: MetricBatch, episodes: EpisodeTracker) -> EpisodeEvents:
        """Score and learn a batch, then open/close episodes: the alarms with their evidence."""
        out = self.detect(batch, learn=True)
        names = [MEMBERS[w] if w >= 0 else "cold" for w in out.winner.tolist()]
        return episodes.update(
            batch, out.prob, out.lower, out.upper, names, self.config.model_version
        )

    def health(self) -> dict[str, FloatArray]:
        """Per-series samples learned, rejected (NaN/inf, out of order) and gaps seen."""
        book = self._arrays["book"]
        return {name: book[i].copy() for i, name in enumerate(BOOK_FIELDS)}

    def calibrated(self) -> npt.NDArray[np.bool_]:
        """Per member and series: whether the member has scored ``min_seen`` samples there."""
        return np.asarray(self._arrays["seen"] >= self.config.min_seen)

    def score(self, batch: MetricBatch) -> FloatArray:
        """Anomaly probability per sample against the state before the batch (pure)."""
        return self.detect(batch, learn=False).prob

    def learn(self, batch: MetricBatch) -> None:
        """Learn the batch in order (the only mutator)."""
        self.detect(batch, learn=True)

    def score_learn(self, batch: MetricBatch) -> FloatArray:
        """Score each sample against everything before it, then learn it."""
        return self.detect(batch, learn=True).prob

    def state_bytes(self) -> int:
        """Memory held by all state arrays."""
        return sum(self._arrays[k].nbytes for k in BINS) + sum(
            a.nbytes for a in self._slabs.values()
        )

    def to_state(self) -> ModelState:
        """The bookkeeping, members' arrays under ``<member>/<array>``, calibration records."""
        return ModelState(
            "nocwise.detect.metrics.ensemble",
            self.version,
            self.config.model_dump(mode="json"),
            {k: v.copy() for k, v in self._arrays.items()},
        )

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """Rebuild from :meth:`to_state`; v1-v5 snapshots are migrated, others refused."""
        if state.schema == "nocwise.detect.metrics.ensemble" and state.version == 1:
            state = _upgrade_v1(state)
        if state.schema == "nocwise.detect.metrics.ensemble" and state.version == 2:
            state = _upgrade_v2(state)
        if state.schema == "nocwise.detect.metrics.ensemble" and state.version == 3:
            state = _upgrade_v3(state)
        if state.schema == "nocwise.detect.metrics.ensemble" and state.version == 4:
            state = _upgrade_v4(state)
        if state.schema == "nocwise.detect.metrics.ensemble" and state.version == 5:
            state = _upgrade_v5(state)
        state.expect("nocwise.detect.metrics.ensemble", cls.version)
        det = cls(EnsembleConfig.model_validate(state.params))
        if state.arrays.keys() != det._layout.keys():
            missing = sorted(det._layout.keys() ^ state.arrays.keys())
            raise InvalidRecordError(f"ensemble state arrays differ from the layout: {missing}")
        n = int(state.arrays["book"].shape[-1])
        det._grow(n)
        for name, arr in state.arrays.items():
            if det._arrays[name].shape != arr.shape:
                raise InvalidRecordError(f"state array {name!r} has an unexpected shape")
            det._arrays[name][...] = arr
        return det


#: ``sys.getrefcount`` of a kept block of outputs that no output refers to any more
_FREE_REFS = 2


def _rows(out: FloatArray) -> EnsembleOutput:
    """The outputs as the rows of a (4, n) float64 block; the winner's row read as int64."""
    return EnsembleOutput(out[0], out[1].view(np.int64), out[2], out[3])


def _fields(o: EnsembleOutput) -> tuple[FloatArray, npt.NDArray[np.int64], FloatArray, FloatArray]:
    return o.prob, o.winner, o.lower, o.upper


def _upgrade_v1(state: ModelState) -> ModelState:
    """v1 -> v2: the members' identical bookkeeping becomes one, seasonal bins float32."""
    arrays = {k: v for k, v in state.arrays.items() if not k.endswith("/book")}
    try:
        arrays["book"] = state.arrays["spike/book"]
    except KeyError as exc:
        raise InvalidRecordError(f"ensemble state misses {exc}") from exc
    seasonal = upgrade_bins(ModelState(state.schema, 1, state.params, arrays), "seasonal/")
    return ModelState(state.schema, 2, state.params, seasonal.arrays)


def _upgrade_v2(state: ModelState) -> ModelState:
    """v2 -> v3: calibration records rounded to float32, counts of scored samples to uint32."""
    arrays = dict(state.arrays)
    try:
        arrays["record"] = np.asarray(arrays["record"], dtype=np.float32)
        seen = np.minimum(arrays["seen"], np.iinfo(np.uint32).max)
        arrays["seen"] = np.asarray(seen, dtype=np.uint32)
    except KeyError as exc:
        raise InvalidRecordError(f"ensemble state misses {exc}") from exc
    return ModelState(state.schema, 3, state.params, arrays)


def _upgrade_v3(state: ModelState) -> ModelState:
    """v3 -> v4: the level shift's last value and quantum, unknown (its floor off for now)."""
    if "book" not in state.arrays:
        raise InvalidRecordError("ensemble state misses 'book'")
    upgraded = upgrade_quantum(state, "level_shift/")
    return ModelState(state.schema, 4, state.params, upgraded.arrays)


def _upgrade_v4(state: ModelState) -> ModelState:
    """v4 -> v5: the novelty's clipping baseline, empty (its smoothed means unclipped for now)."""
    if "book" not in state.arrays:
        raise InvalidRecordError("ensemble state misses 'book'")
    upgraded = upgrade_base(state, "novelty/")
    return ModelState(state.schema, 5, state.params, upgraded.arrays)


def _upgrade_v5(state: ModelState) -> ModelState:
    """v5 -> v6: the highest and lowest value seen, unknown (no repeated extreme for now)."""
    return upgrade_extremes(state, 6, "novelty/")
