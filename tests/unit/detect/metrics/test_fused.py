"""The ensemble's single pass equals its members run one after another, then calibrated."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from nocwise.detect.metrics import fused
from nocwise.detect.metrics.calibrate import calibrate_kernel
from nocwise.detect.metrics.ensemble import MEMBERS, EnsembleConfig, EnsembleDetector
from nocwise.detect.metrics.fused import visit_plan
from nocwise.detect.metrics.level_shift import LevelShiftDetector
from nocwise.detect.metrics.novelty import NoveltyConfig, NoveltyDetector
from nocwise.detect.metrics.seasonal import SeasonalDetector
from nocwise.detect.metrics.spike import SpikeConfig, SpikeDetector
from nocwise.detect.metrics.trend import TrendDetector
from nocwise.model.metrics import MetricBatch
from nocwise.model.state import ModelState

STEP_MS = 5 * 60_000


def stream(n_steps: int = 5000, n_series: int = 4, seed: int = 0) -> MetricBatch:
    """Seasonal series of unlike scales with spikes, NaN, jitter and a long gap; series 0
    saturates at a ceiling, so its highest value repeats exactly."""
    rng = np.random.default_rng(seed)
    steps = np.repeat(np.arange(n_steps), n_series)
    series = np.tile(np.arange(n_series), n_steps)
    ts = steps * STEP_MS + 1_600_000_000_000 + rng.integers(0, 20_000, steps.size) * (series == 1)
    ts[(series == 2) & (steps > n_steps // 2)] += 8 * 3_600_000
    scale = np.array([1.0, 1e6, 1e-3, 1e9])[series % 4]
    values = scale * (10 + np.sin(2 * np.pi * steps / 288) + rng.normal(0, 0.3, steps.size))
    values[rng.choice(values.size, 30, replace=False)] *= 3
    values[rng.choice(values.size, 20, replace=False)] = np.nan
    values[series == 0] = np.minimum(values[series == 0], 10.8)
    return MetricBatch(series, ts, values)


class OneByOne:
    """The reference: every member's own kernel, then :func:`calibrate_kernel`."""

    def __init__(self, config: EnsembleConfig, wide: bool = False) -> None:
        self.c = config
        self.members: list[Any] = [
            SpikeDetector(config.spike),
            LevelShiftDetector(config.level_shift),
            SeasonalDetector(config.seasonal),
            TrendDetector(config.trend),
            NoveltyDetector(config.novelty),
        ]
        # the ensemble stores float32 records and uint32 counts; ``wide`` keeps float64
        self.record = np.zeros((len(MEMBERS), 0), dtype=np.float64 if wide else np.float32)
        self.seen = np.zeros((len(MEMBERS), 0), dtype=np.float64 if wide else np.uint32)

    def detect(self, batch: MetricBatch, learn: bool) -> tuple[np.ndarray, ...]:
        pad = batch.n_series_hint - self.record.shape[1]
        if pad > 0:
            self.record = np.pad(self.record, ((0, 0), (0, pad)))
            self.seen = np.pad(self.seen, ((0, 0), (0, pad)))
        raws = [m.raw_band(batch, learn=learn) for m in self.members]
        prob = np.full(len(batch), np.nan)
        winner = np.full(len(batch), -1, dtype=np.int64)
        c = self.c
        calibrate_kernel(
            batch.series,
            np.stack([r[0] for r in raws]),
            np.asarray(c.weights, dtype=np.float64),
            np.array([m == "novelty" for m in MEMBERS]),
            self.record,
            self.seen,
            c.record_decay,
            c.record_floor,
            float(c.min_seen),
            c.sharpness,
            c.age_half,
            prob,
            winner,
            learn,
        )
        spike, seasonal = raws[0][1], raws[2][1]
        cold = np.isnan(seasonal[0])
        loc = np.where(cold, spike[0], seasonal[0])
        sigma = np.where(cold, spike[1], seasonal[1])
        return prob, winner, loc - c.band_z * sigma, loc + c.band_z * sigma


CONFIGS = [
    EnsembleConfig(min_seen=50),
    # other record widths: the spike and novelty fields move within the record
    EnsembleConfig(
        min_seen=50,
        spike=SpikeConfig(alphas=(0.3, 0.05, 0.01)),
        novelty=NoveltyConfig(smoothing=(0.04,)),
    ),
    # the fastest mean clipped closely (often), or not at all
    EnsembleConfig(min_seen=50, novelty=NoveltyConfig(clip=2.0, base=0.05)),
    EnsembleConfig(min_seen=50, novelty=NoveltyConfig(clip=0.0)),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_single_pass_equals_members_one_by_one(config: EnsembleConfig) -> None:
    fused, ref = EnsembleDetector(config), OneByOne(config)
    batch = stream()
    for start in range(0, len(batch), 997):
        part = batch.select(
            (np.arange(len(batch)) >= start) & (np.arange(len(batch)) < start + 997)
        )
        for learn in (False, True):
            out = fused.detect(part, learn=learn)
            prob, winner, lower, upper = ref.detect(part, learn=learn)
            assert np.array_equal(out.winner, winner)
            np.testing.assert_allclose(out.prob, prob, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(out.lower, lower, rtol=1e-9)
            np.testing.assert_allclose(out.upper, upper, rtol=1e-9)
    assert np.isfinite(fused.detect(batch.select(batch.series == 0), learn=False).prob).any()
    health = fused.health()
    assert np.array_equal(health["count"], ref.members[0].health()["count"])


def test_float32_records_change_probabilities_by_rounding_only() -> None:
    """Against float64 records the single pass differs by far less than any threshold step."""
    config = EnsembleConfig(min_seen=50)
    fused, ref = EnsembleDetector(config), OneByOne(config, wide=True)
    batch = stream(n_steps=20_000, seed=1)
    out = fused.detect(batch, learn=True)
    prob, winner, _, _ = ref.detect(batch, learn=True)
    np.testing.assert_allclose(out.prob, prob, rtol=1e-5, atol=1e-9)
    assert np.mean(out.winner == winner) > 0.999


def test_visit_plan_order_is_empty_for_ids_in_order_else_a_stable_sort_near_enough_by_id() -> None:
    assert visit_plan(np.array([0, 0, 3, 7, 7], dtype=np.int64))[0].size == 0
    ids = np.random.default_rng(0).integers(0, 1000, 5000)
    order = visit_plan(ids)[0]
    assert np.array_equal(np.sort(order), np.arange(ids.size))
    assert np.all(np.diff(ids[order]) >= 0)  # one bucket per id: 1000 ids, 5000 samples
    for s in np.unique(ids):  # each id's samples keep their batch order
        assert np.all(np.diff(order[ids[order] == s]) > 0)
    sparse = visit_plan(np.array([10**6, 5, 10**6 - 1, 3], dtype=np.int64))[0]
    assert np.array_equal(sparse, [1, 3, 2, 0]) or np.array_equal(sparse, [1, 3, 0, 2])


def test_visit_plan_gives_each_sample_its_place_in_the_order() -> None:
    """``place`` inverts ``order``: the outputs are gathered back to batch order by it."""
    ids = np.random.default_rng(1).integers(0, 300, 2000)
    order, place = visit_plan(ids)
    assert np.array_equal(np.sort(order), np.arange(ids.size))
    assert np.array_equal(order[place], np.arange(ids.size))
    assert all(p.size == 0 for p in visit_plan(np.arange(5, dtype=np.int64)))


@pytest.mark.parametrize("config", CONFIGS)
def test_runs_of_consecutive_ids_give_the_scalar_pass_bit_for_bit(config: EnsembleConfig) -> None:
    """The steady path (runs of warm series in id order) changes no bit of outputs or state,
    with NaN, jitter and a gap in the stream that send some runs the scalar way.

    The steady detector gets one scrape per batch (ids ascending, every third one cut in
    two); the reference gets the whole stream series by series, where every run is one id
    long and every sample takes the scalar pass (series share no state).
    """
    n_series = 3 * fused.MIN_RUN
    batch = stream(n_steps=800, n_series=n_series, seed=2)
    steady, scalar = EnsembleDetector(config), EnsembleDetector(config)
    by_series = np.argsort(batch.series, kind="stable")
    series_major = MetricBatch(
        batch.series[by_series], batch.ts_ms[by_series], batch.values[by_series]
    )
    ref = scalar.detect(series_major, learn=True)
    c = config
    need = float(max(c.spike.warmup, c.level_shift.warmup, c.trend.warmup, c.novelty.warmup))
    bin_ms = steady.members[2]._bins()[0]  # type: ignore[attr-defined]
    took_steady = 0
    outs = []
    for step in range(len(batch) // n_series):
        cuts = (0, 20, n_series) if step % 3 == 0 else (0, n_series)
        for lo, hi in itertools.pairwise(cuts):
            part = batch.select(
                (batch.series >= lo)
                & (batch.series < hi)
                & (np.arange(len(batch)) // n_series == step)
            )
            if steady.n_series:
                st = steady._member_args()[0][0]
                start = part.ts_ms[0] // bin_ms * bin_ms
                args = (part.series, part.ts_ms, part.values, st, 0, start, bin_ms, need, 6.0)
                took_steady += fused.steady_run(*args) > 0
            outs.append(steady.detect(part, learn=True))
    order = np.empty(len(batch), dtype=np.int64)
    order[by_series] = np.arange(len(batch))  # stream position -> position in ``ref``
    for got, want in (
        (np.concatenate([o.prob for o in outs]), ref.prob[order]),
        (np.concatenate([o.winner for o in outs]), ref.winner[order]),
        (np.concatenate([o.lower for o in outs]), ref.lower[order]),
        (np.concatenate([o.upper for o in outs]), ref.upper[order]),
    ):
        assert np.array_equal(got, want, equal_nan=True)
    assert took_steady > 500  # most scrapes went the steady way
    a, b = steady.to_state().arrays, scalar.to_state().arrays
    for name in a:
        assert np.array_equal(a[name], b[name], equal_nan=True), name


@pytest.mark.parametrize("config", CONFIGS)
def test_a_record_per_series_gives_the_same_bits_by_the_scalar_path(
    config: EnsembleConfig,
) -> None:
    """``layout="records"`` (for batches of scattered ids) keeps a record per series and
    takes no steady path, with the same outputs and state as the default rows."""
    n_series = 2 * fused.MIN_RUN
    batch = stream(n_steps=700, n_series=n_series, seed=4)
    rows = EnsembleDetector(config)
    records = EnsembleDetector(config.model_copy(update={"layout": "records"}))
    for step in range(len(batch) // n_series):
        part = batch.select(np.arange(len(batch)) // n_series == step)
        a, b = rows.detect(part, learn=True), records.detect(part, learn=True)
        assert np.array_equal(a.winner, b.winner)
        for got, want in ((a.prob, b.prob), (a.lower, b.lower), (a.upper, b.upper)):
            assert np.array_equal(got, want, equal_nan=True)
    assert records._slabs["state"].T.flags.c_contiguous  # (series, field): one record each
    assert rows._slabs["state"].flags.c_contiguous  # (field, series): one row each
    sa, sb = rows.to_state().arrays, records.to_state().arrays
    for name in sa:
        assert np.array_equal(sa[name], sb[name], equal_nan=True), name


def test_a_migrated_snapshot_runs_the_same_bits_on_both_paths() -> None:
    """A v4 snapshot has no novelty baseline: its warm series take the steady path while the
    baseline relearns from nothing (unclipped, then clipped), as the scalar pass does."""
    n_series = 2 * fused.MIN_RUN
    batch = stream(n_steps=600, n_series=n_series, seed=5)
    step = np.arange(len(batch)) // n_series
    det = EnsembleDetector(EnsembleConfig(min_seen=50))
    det.learn(batch.select(step < 300))
    state = det.to_state()
    arrays = {k: v for k, v in state.arrays.items() if k not in ("novelty/base", "novelty/ext")}
    old = ModelState(state.schema, 4, state.params, arrays)
    rows = EnsembleDetector.from_state(old)
    params = {**state.params, "layout": "records"}
    records = EnsembleDetector.from_state(ModelState(old.schema, 4, params, arrays))
    assert not rows.to_state().arrays["novelty/base"].any()
    for k in range(300, 600):
        part = batch.select(step == k)
        a, b = rows.detect(part, learn=True), records.detect(part, learn=True)
        assert np.array_equal(a.winner, b.winner)
        for got, want in ((a.prob, b.prob), (a.lower, b.lower), (a.upper, b.upper)):
            assert np.array_equal(got, want, equal_nan=True)
    sa, sb = rows.to_state().arrays, records.to_state().arrays
    assert sa["novelty/base"][2].min() > NoveltyConfig().warmup  # the clip came into play
    for name in sa:
        assert np.array_equal(sa[name], sb[name], equal_nan=True), name


def test_the_steady_path_is_taken_only_for_the_members_it_is_compiled_for() -> None:
    """``steady_calibrate`` holds the novelty as the only self-calibrated member; with other
    flags every sample takes the scalar pass, which reads them (same bits as the records
    layout, which never goes the steady way)."""
    n_series = 2 * fused.MIN_RUN
    batch = stream(n_steps=500, n_series=n_series, seed=6)
    config = EnsembleConfig(min_seen=50)
    rows = EnsembleDetector(config)
    records = EnsembleDetector(config.model_copy(update={"layout": "records"}))
    for det in (rows, records):
        det._self_calibrated[:] = False  # the novelty's z divided by its record as well
    default = EnsembleDetector(config)
    differs = False
    for step in range(len(batch) // n_series):
        part = batch.select(np.arange(len(batch)) // n_series == step)
        a, b = rows.detect(part, learn=True), records.detect(part, learn=True)
        c = default.detect(part, learn=True)
        differs |= not np.array_equal(a.prob, c.prob, equal_nan=True)
        assert np.array_equal(a.winner, b.winner)
        assert np.array_equal(a.prob, b.prob, equal_nan=True)
    assert differs  # the flags mattered
