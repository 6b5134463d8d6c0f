"""The ensemble: calibrated probability, evidence band, winner, cold start."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Literal

import numpy as np
import pytest

from nocwise.detect.metrics import fused
from nocwise.detect.metrics.anomaly import MetricAnomaly
from nocwise.detect.metrics.arrays import BOOK_FIELDS
from nocwise.detect.metrics.ensemble import (
    MEMBERS,
    EnsembleConfig,
    EnsembleDetector,
    EnsembleOutput,
)
from nocwise.detect.metrics.episodes import EpisodeTracker
from nocwise.detect.metrics.novelty import NoveltyConfig
from nocwise.detect.metrics.spike import SpikeConfig
from nocwise.model.errors import InvalidRecordError
from nocwise.model.metrics import MetricBatch
from nocwise.model.state import ModelState

STEP_MS = 5 * 60_000


def noisy(n: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100 + 10 * np.sin(2 * np.pi * np.arange(n) / 288) + rng.normal(0, 1, n)


def test_cold_series_are_nan_not_guessed() -> None:
    det = EnsembleDetector()
    out = det.detect(MetricBatch.of([0] * 10, np.arange(10) * STEP_MS, np.ones(10)), learn=True)
    assert np.all(np.isnan(out.prob))
    assert np.all(out.winner == -1)


def test_a_spike_scores_above_everything_before_it_and_is_explained() -> None:
    values = noisy()
    values[2500] += 60
    batch = MetricBatch.of(np.zeros(3000), np.arange(3000) * STEP_MS, values)
    out = EnsembleDetector().detect(batch, learn=True)
    assert out.prob[2500] > np.nanmax(out.prob[1000:2500])
    assert out.prob[2500] > 0.9
    assert MEMBERS[out.winner[2500]] in {"spike", "novelty", "seasonal"}
    assert out.upper[2500] < values[2500]
    normal = slice(2000, 2400)
    inside = (values[normal] >= out.lower[normal]) & (values[normal] <= out.upper[normal])
    assert inside.mean() > 0.95


def test_episode_tracker_turns_the_spike_into_one_anomaly_with_evidence() -> None:
    values = noisy()
    values[2500:2505] += 60
    batch = MetricBatch.of(np.zeros(3000), np.arange(3000) * STEP_MS, values)
    det = EnsembleDetector()
    out = det.detect(batch, learn=True)
    events = EpisodeTracker().update(
        batch.select(np.arange(3000) >= 2000),
        out.prob[2000:],
        out.lower[2000:],
        out.upper[2000:],
        [MEMBERS[w] if w >= 0 else "" for w in out.winner[2000:]],
        det.config.model_version,
    )
    spikes = [a for a in events.opened if 2500 * STEP_MS <= a.ts_ms < 2505 * STEP_MS]
    assert len(spikes) == 1
    anomaly = spikes[0]
    assert isinstance(anomaly, MetricAnomaly)
    assert anomaly.direction == "above"
    assert anomaly.model_version == "1"


def test_weights_of_zero_silence_a_member() -> None:
    cfg = EnsembleConfig(weights=(0.0, 0.0, 0.0, 0.0, 1.0))
    values = noisy()
    batch = MetricBatch.of(np.zeros(3000), np.arange(3000) * STEP_MS, values)
    out = EnsembleDetector(cfg).detect(batch, learn=True)
    won = out.winner[out.winner >= 0]
    assert set(np.unique(won).tolist()) <= {0, 1, 2, 3, 4}
    assert np.all(out.prob[out.winner == 4] >= 0.0)


def test_state_bytes_grow_with_series() -> None:
    det = EnsembleDetector()
    det.learn(MetricBatch.of([0], [0], [1.0]))
    small = det.state_bytes()
    det.learn(MetricBatch.of([99], [0], [1.0]))
    assert det.state_bytes() > small


def test_observe_raises_one_alarm_per_episode_and_reports_health() -> None:
    values = noisy()
    values[2500:2510] += 60
    values[100] = np.nan
    det, episodes = EnsembleDetector(), EpisodeTracker()
    opened = []
    for start in range(0, 3000, 100):
        sl = slice(start, start + 100)
        batch = MetricBatch.of(np.zeros(100), np.arange(3000)[sl] * STEP_MS, values[sl])
        opened += det.observe(batch, episodes).opened
    assert any(2500 * STEP_MS <= a.ts_ms < 2510 * STEP_MS for a in opened)
    assert sum(2500 * STEP_MS <= a.ts_ms < 2600 * STEP_MS for a in opened) == 1
    assert det.health()["rejected"][0] == 1
    assert det.health()["count"][0] == 2999


def test_age_confidence_tempers_a_young_series_and_fades_with_age() -> None:
    """The same spike costs less belief early in a series than late; off means no tempering."""

    def spike_prob(at: int, age_half: float) -> float:
        values = noisy()
        values[at] += 60
        batch = MetricBatch.of(np.zeros(3000), np.arange(3000) * STEP_MS, values)
        det = EnsembleDetector(EnsembleConfig(age_half=age_half))
        return float(det.detect(batch, learn=True).prob[at])

    early, late = 150, 2500
    assert spike_prob(early, 100.0) < spike_prob(early, 0.0)
    early_cut = spike_prob(early, 0.0) - spike_prob(early, 100.0)
    late_cut = spike_prob(late, 0.0) - spike_prob(late, 100.0)
    assert 0.0 <= late_cut < early_cut
    assert spike_prob(late, 100.0) > 0.9


def v1_snapshot(det: EnsembleDetector) -> ModelState:
    """The layout before version 2: a bookkeeping per member, float64 seasonal bins."""
    state = v3_snapshot(det)
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in state.arrays.items() if k != "book"}
    for name in MEMBERS:
        arrays[f"{name}/book"] = state.arrays["book"].copy()
    return ModelState(state.schema, 1, state.params, arrays)


def v2_snapshot(det: EnsembleDetector) -> ModelState:
    """The layout before version 3: float64 calibration records and counts."""
    state = v3_snapshot(det)
    arrays = dict(state.arrays)
    arrays["record"] = np.asarray(arrays["record"], dtype=np.float64)
    arrays["seen"] = np.asarray(arrays["seen"], dtype=np.float64)
    return ModelState(state.schema, 2, state.params, arrays)


def v3_snapshot(det: EnsembleDetector) -> ModelState:
    """The layout before version 4: no last value or quantum for the level shift."""
    state = v4_snapshot(det)
    drop = {"level_shift/last", "level_shift/step"}
    arrays = {k: v for k, v in state.arrays.items() if k not in drop}
    return ModelState(state.schema, 3, state.params, arrays)


def v4_snapshot(det: EnsembleDetector) -> ModelState:
    """The layout before version 5: no clipping baseline for the novelty's fastest mean."""
    state = v5_snapshot(det)
    arrays = {k: v for k, v in state.arrays.items() if k != "novelty/base"}
    return ModelState(state.schema, 4, state.params, arrays)


def v5_snapshot(det: EnsembleDetector) -> ModelState:
    """The layout before version 6: no highest and lowest value seen."""
    state = det.to_state()
    arrays = {k: v for k, v in state.arrays.items() if k != "novelty/ext"}
    return ModelState(state.schema, 5, state.params, arrays)


@pytest.mark.parametrize(
    "snapshot", [v1_snapshot, v2_snapshot, v3_snapshot, v4_snapshot, v5_snapshot]
)
def test_an_older_snapshot_is_migrated_and_scores_the_same(
    snapshot: Callable[[EnsembleDetector], ModelState],
) -> None:
    values = noisy()
    batch = MetricBatch.of(np.zeros(3000), np.arange(3000) * STEP_MS, values)
    head, tail = batch.select(np.arange(3000) < 2000), batch.select(np.arange(3000) >= 2000)
    det = EnsembleDetector()
    det.learn(head)
    old = EnsembleDetector.from_state(ModelState.from_bytes(snapshot(det).to_bytes()))
    assert old.to_state().version == 6
    migrated = old.to_state().arrays
    fresh = {"novelty/ext"}
    if snapshot != v5_snapshot:
        fresh |= {"novelty/base"}
    if snapshot not in (v4_snapshot, v5_snapshot):
        fresh |= {"level_shift/last", "level_shift/step"}
    for name, arr in det.to_state().arrays.items():
        assert migrated[name].dtype == arr.dtype, name
        if name not in fresh:
            assert np.array_equal(migrated[name], arr), name
    # the quantum is unknown after the migration (floor off) and relearned from the next
    # steps; on continuous values it is a tiny share of the scale either way
    if snapshot not in (v4_snapshot, v5_snapshot):
        assert np.isnan(migrated["level_shift/last"]).all()
        assert not migrated["level_shift/step"].any()
    # the novelty's baseline starts empty: its fastest mean is unclipped until it is warm
    if snapshot != v5_snapshot:
        assert not migrated["novelty/base"].any()
    # the extremes are unknown: no value is a repeated extreme until they are relearned
    assert np.isnan(migrated["novelty/ext"]).all()
    tail_old, tail_new = old.score_learn(tail), det.score_learn(tail)
    np.testing.assert_allclose(tail_old[100:], tail_new[100:], rtol=1e-6)


def test_an_unknown_version_is_refused() -> None:
    state = EnsembleDetector().to_state()
    with pytest.raises(InvalidRecordError):
        EnsembleDetector.from_state(ModelState(state.schema, 7, state.params, state.arrays))


def test_a_snapshot_with_missing_arrays_is_refused() -> None:
    state = EnsembleDetector().to_state()
    arrays = {k: v for k, v in state.arrays.items() if k != "seasonal/cnt"}
    with pytest.raises(InvalidRecordError):
        EnsembleDetector.from_state(ModelState(state.schema, state.version, state.params, arrays))


def test_state_stays_under_the_per_series_budget() -> None:
    det = EnsembleDetector()
    det.learn(MetricBatch.of(np.arange(1000), np.zeros(1000), np.ones(1000)))
    assert det.state_bytes() / 1000 <= 2400  # 4 GB holds 10^6 series with room to spare


def test_calibrated_tells_which_members_have_scored_enough() -> None:
    det = EnsembleDetector(EnsembleConfig(min_seen=10))
    batch = MetricBatch.of(np.zeros(40), np.arange(40) * STEP_MS, noisy()[:40])
    det.learn(batch.select(np.arange(40) < 30))
    assert not det.calibrated().any()  # 24 warm-up samples, then 6 scored
    det.learn(batch.select(np.arange(40) >= 30))
    assert det.calibrated()[[0, 1, 3, 4], 0].all()  # seasonal needs two days
    assert not det.calibrated()[2, 0]


def interleaved(n_series: int = 50, n_steps: int = 400, seed: int = 0) -> MetricBatch:
    """Each series' samples in time order, the series in id order at every step."""
    rng = np.random.default_rng(seed)
    series = np.tile(np.arange(n_series), n_steps)
    ts = np.repeat(np.arange(n_steps), n_series) * STEP_MS
    values = 100 + np.sin(ts / 3e6 + series) + rng.normal(0, 1, ts.size)
    values[rng.choice(values.size, 10, replace=False)] += 20
    return MetricBatch(series, ts, values)


def test_a_batch_in_any_series_order_scores_as_in_id_order() -> None:
    """Out-of-order ids are visited in id order (each series' samples still in time order)
    and the outputs come back in the batch's order, identical to the sorted batch's."""
    batch = interleaved()
    by_id = np.argsort(batch.series, kind="stable")  # id order, time order within a series
    rank = np.random.default_rng(2).permutation(50)[batch.series]  # a random rank per series
    order = np.lexsort((batch.ts_ms, rank))  # series in that order, each in time order
    a, b = (EnsembleDetector(EnsembleConfig(min_seen=20)) for _ in range(2))
    out_a = a.detect(batch.select(by_id), learn=True)
    out_b = b.detect(batch.select(order), learn=True)
    back = np.empty_like(order)
    back[order] = np.arange(order.size)
    pos = back[by_id]  # where each id-ordered sample sits in the shuffled batch
    assert np.isfinite(out_a.prob).any()
    for got, want in ((out_b.prob, out_a.prob), (out_b.lower, out_a.lower)):
        assert np.array_equal(got[pos], want, equal_nan=True)
    assert np.array_equal(out_b.winner[pos], out_a.winner)
    for name, arr in a.to_state().arrays.items():
        assert np.array_equal(b.to_state().arrays[name], arr), name


def test_batches_repeating_one_order_of_ids_then_another_score_as_in_id_order() -> None:
    """The visit plan kept from the last batch serves only a batch with the same ids in the
    same order: a scrape repeating its order, then a new order, then ids in order."""
    n_series, n_steps = 40, 400
    batch = interleaved(n_series=n_series, n_steps=n_steps)
    rng = np.random.default_rng(3)
    perms = [rng.permutation(n_series), rng.permutation(n_series), np.arange(n_series)]
    a, b = (EnsembleDetector(EnsembleConfig(min_seen=20)) for _ in range(2))
    for step in range(n_steps):
        part = batch.select(np.arange(len(batch)) // n_series == step)
        perm = perms[0] if step < 150 else perms[1] if step < 300 else perms[2]
        by_id = np.argsort(part.series, kind="stable")
        shuffled = part.select(by_id[perm])
        out_a = a.detect(part.select(by_id), learn=True)
        out_b = b.detect(shuffled, learn=True)
        back = np.argsort(perm)  # where each id sits in the shuffled batch
        assert np.array_equal(out_b.prob[back], out_a.prob, equal_nan=True)
        assert np.array_equal(out_b.winner[back], out_a.winner)
        assert np.array_equal(out_b.upper[back], out_a.upper, equal_nan=True)
    assert np.isfinite(out_a.prob).all()
    for name, arr in a.to_state().arrays.items():
        assert np.array_equal(b.to_state().arrays[name], arr), name


def test_growing_keeps_every_series_state_and_snapshots_round_trip() -> None:
    batch = interleaved(n_series=20, n_steps=300)
    det = EnsembleDetector(EnsembleConfig(min_seen=20))
    det.learn(batch)
    before = det.to_state()
    det.learn(MetricBatch.of([999], [300 * STEP_MS], [1.0]))  # grows to 1000 series
    after = det.to_state()
    for name, arr in before.arrays.items():
        assert after.arrays[name].flags.c_contiguous, name
        assert np.array_equal(after.arrays[name][..., :20], arr[..., :20]), name
        fresh = EnsembleDetector().to_state().arrays[name]
        assert fresh.shape[:-1] == arr.shape[:-1], name
    again = EnsembleDetector.from_state(ModelState.from_bytes(after.to_bytes()))
    tail = interleaved(n_series=20, n_steps=30, seed=3)
    tail = MetricBatch(tail.series, tail.ts_ms + 400 * STEP_MS, tail.values)
    assert np.array_equal(again.score_learn(tail), det.score_learn(tail), equal_nan=True)


@pytest.mark.parametrize("layout", ["rows", "records"])
def test_the_record_holds_each_fixed_field_at_the_row_the_pass_reads(
    layout: Literal["rows", "records"],
) -> None:
    """The pass reads the fixed-size fields at constant rows of the record (``fused``)."""
    det = EnsembleDetector(
        EnsembleConfig(
            spike=SpikeConfig(alphas=(0.3, 0.1, 0.01)),
            novelty=NoveltyConfig(),
            layout=layout,
        )
    )
    det.learn(interleaved(n_series=3, n_steps=40))
    record = det._slabs["state"].T  # the slab is (field, series); this is (series, field)
    fixed = {
        "level_shift/short": (fused.LS_SHORT, 0),
        "level_shift/loc": (fused.LS_LOC, 0),
        "level_shift/dev": (fused.LS_DEV, 0),
        "seasonal/first": (fused.SE_FIRST, 0),
        "trend/holt": (fused.TR_LEVEL, 0),
        "trend/loc": (fused.TR_LOC, 0),
        "trend/dev": (fused.TR_DEV, 0),
    }
    for name, (row, j) in fixed.items():
        assert np.array_equal(record[:, row], det._arrays[name][j]), name
    assert np.array_equal(record[:, fused.TR_SLOPE], det._arrays["trend/holt"][1])
    assert np.array_equal(record[:, : len(BOOK_FIELDS)].T, det._arrays["book"])
    assert np.count_nonzero(det._arrays["trend/holt"][1])  # the test reads real values


@pytest.mark.parametrize("shuffled", [False, True])
def test_outputs_a_caller_holds_are_never_written_again(shuffled: bool) -> None:
    """The outputs' memory is reused only once no output of its batch is referred to: held
    outputs keep their values through later batches, dropped ones give their block back."""
    n_series, n_steps = 30, 200
    batch = interleaved(n_series=n_series, n_steps=n_steps)
    perm = np.random.default_rng(4).permutation(n_series) if shuffled else np.arange(n_series)
    steps = [
        batch.select(np.flatnonzero(np.arange(len(batch)) // n_series == k)[perm])
        for k in range(n_steps)
    ]
    det, ref = (EnsembleDetector(EnsembleConfig(min_seen=20)) for _ in range(2))
    held = []
    for k, part in enumerate(steps):
        out = det.detect(part, learn=True)
        want = ref.detect(part, learn=True)
        if k % 7 == 0:  # a caller keeps some outputs, one row or all four
            held.append((out.lower if k % 2 else out, copy_output(want)))
        del out
    for got, want in held:
        if isinstance(got, np.ndarray):
            assert np.array_equal(got, want.lower, equal_nan=True)
        else:
            for name in ("prob", "winner", "lower", "upper"):
                assert np.array_equal(getattr(got, name), getattr(want, name), equal_nan=True)
    # a batch whose outputs were dropped lends its memory to the next one of its size
    block = weakref.ref(det.score_learn(steps[-1]).base)
    assert det.score_learn(steps[-1]).base is block()
    kept = det.detect(steps[-1], learn=True)
    assert not np.shares_memory(det.detect(steps[-1], learn=True).prob, kept.prob)


def copy_output(out: EnsembleOutput) -> EnsembleOutput:
    return EnsembleOutput(out.prob.copy(), out.winner.copy(), out.lower.copy(), out.upper.copy())
