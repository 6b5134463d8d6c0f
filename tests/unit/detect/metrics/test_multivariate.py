"""The multivariate per-entity detector: detection, evidence, state and determinism."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import roc_auc_score

from nocwise.detect.metrics.multivariate import (
    MultivariateDetector,
    MultivariateScores,
    trailing_mean,
)
from nocwise.model.errors import InvalidRecordError
from nocwise.model.state import ModelState

BROKEN = 3


def correlated(n: int, seed: int) -> np.ndarray:
    """Six KPIs driven by two latent loads plus noise, as CPU/memory/traffic move together."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    latent = np.column_stack(
        [np.sin(2 * np.pi * t / 288) + 0.3 * rng.normal(size=n), rng.normal(size=n)]
    )
    mixing = np.array([[1.0, 0.2], [0.8, -0.5], [0.5, 1.0], [1.0, 1.0], [-0.7, 0.4], [0.1, -1.0]]).T
    return latent @ mixing + 0.05 * rng.normal(size=(n, 6))


def with_break(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """KPI 3 decouples from the others for 100 rows while staying inside its usual range."""
    x = correlated(1200, seed)
    labels = np.zeros(len(x), dtype=bool)
    labels[600:700] = True
    rng = np.random.default_rng(seed + 100)
    x[600:700, BROKEN] = rng.permutation(x[:, BROKEN])[:100]
    return x, labels


@pytest.fixture(scope="module")
def fitted() -> MultivariateDetector:
    return MultivariateDetector().fit(correlated(5000, 0))


def test_correlated_kpi_break_is_detected(fitted: MultivariateDetector) -> None:
    x, labels = with_break()
    lo, hi = x[:, BROKEN].min(), x[:, BROKEN].max()
    assert lo <= x[600:700, BROKEN].min()
    assert x[600:700, BROKEN].max() <= hi
    out = fitted.score(x)
    assert roc_auc_score(labels, out.scores) > 0.95
    assert out.alarms[610:700].mean() > 0.8  # past the smoothing window
    assert out.alarms[~labels].mean() < 0.05


def test_ranking_names_the_broken_kpi(fitted: MultivariateDetector) -> None:
    x, _ = with_break()
    out = fitted.score(x)
    top = out.ranking()[610:700, 0]
    assert np.mean(top == BROKEN) > 0.9


def test_contributions_are_non_negative_and_shaped(fitted: MultivariateDetector) -> None:
    x, _ = with_break()
    out = fitted.score(x)
    assert out.contributions.shape == x.shape
    assert (out.contributions >= 0).all()
    assert out.scores.shape == (len(x),)


def test_training_alarm_rate_matches_the_quantile() -> None:
    x = correlated(4000, 3)
    det = MultivariateDetector(alarm_quantile=0.95, adapt_blocks=0).fit(x)
    assert det.score(x).alarms.mean() == pytest.approx(0.05, abs=0.01)


def test_state_round_trips_through_bytes(fitted: MultivariateDetector) -> None:
    x, _ = with_break()
    state = ModelState.from_bytes(fitted.to_state().to_bytes())
    again = MultivariateDetector.from_state(state)
    assert np.array_equal(again.score(x).scores, fitted.score(x).scores)
    assert np.array_equal(again.score(x).contributions, fitted.score(x).contributions)
    assert again.to_state().params == fitted.to_state().params


def test_unfitted_state_round_trips_and_refuses_to_score() -> None:
    det = MultivariateDetector(window=5, variance=0.8)
    again = MultivariateDetector.from_state(det.to_state())
    assert again.window == 5
    assert again.variance == 0.8
    with pytest.raises(RuntimeError, match="not fitted"):
        again.score(np.zeros((3, 2)))


def test_state_of_another_schema_is_refused(fitted: MultivariateDetector) -> None:
    state = fitted.to_state()
    with pytest.raises(InvalidRecordError):
        MultivariateDetector.from_state(ModelState("other", 1, state.params, state.arrays))
    partial = dict(state.arrays)
    partial.pop("precision")
    with pytest.raises(InvalidRecordError):
        MultivariateDetector.from_state(ModelState(state.schema, 2, state.params, partial))
    with pytest.raises(InvalidRecordError):  # layout 1 had no stream state
        MultivariateDetector.from_state(ModelState(state.schema, 1, state.params, state.arrays))


def test_same_seed_same_scores_when_training_is_subsampled() -> None:
    train = correlated(3000, 4)
    x, _ = with_break()
    a = MultivariateDetector(max_train_rows=500, seed=7).fit(train).score(x)
    b = MultivariateDetector(max_train_rows=500, seed=7).fit(train).score(x)
    assert np.array_equal(a.scores, b.scores)
    assert np.array_equal(a.contributions, b.contributions)


def test_fit_and_score_leave_inputs_unchanged(fitted: MultivariateDetector) -> None:
    train = correlated(1000, 5)
    train.flags.writeable = False
    MultivariateDetector().fit(train)
    x, _ = with_break()
    x.flags.writeable = False
    fitted.score(x)


def test_constant_kpi_in_training_does_not_blow_up() -> None:
    train = correlated(2000, 6)
    train[:, 0] = 0.5
    det = MultivariateDetector().fit(train)
    out = det.score(train[:100])
    assert np.isfinite(out.scores).all()
    assert np.isfinite(out.contributions).all()


def test_update_in_chunks_equals_update_at_once() -> None:
    train = correlated(3000, 8)
    x, _ = with_break()
    whole = MultivariateDetector(adapt_block=64, adapt_blocks=8).fit(train)
    chunked = MultivariateDetector.from_state(whole.to_state())
    ref = whole.update(x)
    parts = [chunked.update(x[a:b]) for a, b in ((0, 5), (5, 6), (6, 400), (400, 400), (400, 1200))]
    assert np.allclose(np.concatenate([p.scores for p in parts]), ref.scores)
    assert np.allclose(np.vstack([p.contributions for p in parts]), ref.contributions)
    one, two = whole.to_state().arrays, chunked.to_state().arrays
    assert all(np.allclose(one[k], two[k]) for k in one)


def test_score_is_pure_and_update_moves_the_stream(fitted: MultivariateDetector) -> None:
    x, _ = with_break()
    det = MultivariateDetector.from_state(fitted.to_state())
    before = det.to_state().arrays
    first = det.score(x)
    assert np.array_equal(det.score(x).scores, first.scores)
    assert all(np.array_equal(before[k], v) for k, v in det.to_state().arrays.items())
    assert np.array_equal(det.update(x).scores, first.scores)
    after = det.to_state().arrays
    assert not np.array_equal(before["pending"], after["pending"])


def loosely_coupled(n: int, seed: int) -> np.ndarray:
    """Three KPIs following one daily load, one independent KPI, all fairly noisy."""
    rng = np.random.default_rng(seed)
    load = np.sin(2 * np.pi * np.arange(n) / 288) + 0.5 * rng.normal(size=n)
    x = np.column_stack([load, 0.8 * load, -0.5 * load, rng.normal(size=n)])
    return x + 0.3 * rng.normal(size=(n, 4))


def test_a_new_level_is_learned_while_a_short_fault_is_not() -> None:
    """A KPI that settles on a new level alarms for about half the horizon (512 rows here),
    then no more; a shorter fault of the same size on another KPI is still detected."""
    train = loosely_coupled(4000, 0)
    det = MultivariateDetector(adapt_block=64, adapt_blocks=16).fit(train)
    x = loosely_coupled(3000, 1)
    x[:, 0] += 3.0 * x[:, 0].std()  # from row 0 on: a new normal
    out = det.update(x)
    assert out.alarms[:500].mean() > 0.95
    assert out.alarms[1000:].mean() < 0.05
    static = MultivariateDetector(adapt_blocks=0).fit(train)
    assert static.score(x).alarms[1000:].mean() > 0.95
    fault = loosely_coupled(300, 2)
    fault[:, 0] += 3.0 * fault[:, 0].std()
    fault[100:200, 1] += 3.0 * fault[:, 1].std()
    hit = det.update(fault)
    assert hit.alarms[110:200].mean() > 0.9
    assert hit.alarms[:100].mean() < 0.05


def test_a_kpi_back_at_its_training_level_is_judged_on_it_at_once() -> None:
    """After a long fault was learned as the new normal, its end must not alarm for another
    half horizon: one block after the KPI is back, its training level applies again."""
    train = loosely_coupled(4000, 3)
    det = MultivariateDetector(adapt_block=64, adapt_blocks=16).fit(train)
    x = loosely_coupled(2500, 4)
    x[:1500, 0] += 3.0 * x[:, 0].std()
    out = det.update(x)
    assert out.alarms[1000:1500].mean() < 0.05  # learned
    assert out.alarms[1500 + 2 * 64 :].mean() < 0.05  # back home


def test_a_persistent_score_rise_stops_alarming_after_half_the_horizon() -> None:
    """A KPI that stops following the load, at its usual level and spread, is invisible to the
    per-KPI adaptation; the score gate's block-median level takes the persistent score as the
    stream's normal once it has lasted half the horizon (512 rows here). Until then both alarm
    alike. (The floor from the scores that did not alarm is off here: it acts sooner.)"""
    train = loosely_coupled(4000, 5)
    x = loosely_coupled(3000, 6)
    rng = np.random.default_rng(7)
    x[:, 1] = x[:, 1].mean() + x[:, 1].std() * rng.normal(size=3000)
    median_only = MultivariateDetector(adapt_block=64, adapt_blocks=16, gate_quantile=0.0)
    gated = median_only.fit(train).update(x)
    plain = MultivariateDetector(adapt_block=64, adapt_blocks=16, gate_factor=0.0)
    ungated = plain.fit(train).update(x)
    assert np.array_equal(gated.alarms[:400], ungated.alarms[:400])
    assert gated.alarms[:400].mean() > 0.7
    assert ungated.alarms[700:].mean() > 0.7
    assert gated.alarms[700:].mean() < 0.05
    # the contributions are scaled with the score, so the ranking is unchanged
    assert np.array_equal(gated.ranking()[700:], ungated.ranking()[700:])


def test_a_noisier_stream_raises_the_threshold_and_a_fault_still_alarms() -> None:
    """Every KPI noisier from the first test row on: the scores that stay below the threshold
    rise too, and the gate's floor (3 times their 0.9 quantile) lifts the threshold within a few
    blocks, long before the per-KPI spreads adapt; a 4-sigma shift of one KPI still alarms."""
    train = loosely_coupled(4000, 20)
    x = loosely_coupled(3000, 21)
    x += 0.35 * np.random.default_rng(22).normal(size=x.shape)
    x[2000:2100, 1] += 4.0 * train[:, 1].std()
    floor = MultivariateDetector(adapt_block=64, adapt_blocks=16).fit(train)
    no_floor = MultivariateDetector(adapt_block=64, adapt_blocks=16, gate_quantile=0.0)
    with_floor, without = floor.update(x), no_floor.fit(train).update(x)
    assert without.alarms[:400].mean() > 0.3
    assert with_floor.alarms[:400].mean() < 0.1
    assert with_floor.alarms[:2000].mean() < 0.02
    assert with_floor.alarms[2010:2100].mean() > 0.9
    chunked = MultivariateDetector(adapt_block=64, adapt_blocks=16).fit(train)
    parts = [chunked.update(x[a:b]) for a, b in [(0, 50), (50, 64), (64, 1001), (1001, 3000)]]
    assert np.allclose(np.concatenate([p.scores for p in parts]), with_floor.scores)
    pools = [d.to_state().arrays["gate_pool"] for d in (chunked, floor)]
    assert pools[0].shape == pools[1].shape
    assert np.allclose(pools[0], pools[1])


#: What a layout-4 snapshot lacks: the level view (off in the detectors it is compared with).
NO_LEVEL = {"level_window": 1, "level_weight": 0.0}
LEVEL_KEYS = ("level_window", "level_weight", "level_low", "level_high", "level_scale")


def older(state: ModelState, version: int, *dropped: str) -> ModelState:
    """``state`` as an older layout wrote it: without the level view and the keys named."""
    gone = {*LEVEL_KEYS, "level_history", *dropped}
    params = {k: v for k, v in state.params.items() if k not in gone}
    arrays = {k: v for k, v in state.arrays.items() if k not in gone}
    return ModelState(state.schema, version, params, arrays)


def test_a_v4_state_is_migrated_with_the_level_view_off() -> None:
    """A snapshot from before the level view keeps scoring as it did, and a KPI held off its
    level then adds nothing through that view."""
    train = loosely_coupled(2000, 27)
    det = MultivariateDetector(adapt_block=64, adapt_blocks=16, **NO_LEVEL).fit(train)
    det.update(loosely_coupled(100, 28))
    old = MultivariateDetector.from_state(older(det.to_state(), 4))
    assert (old.level_window, old.level_weight, old.version) == (1, 0.0, 5)
    x = loosely_coupled(800, 29)
    x[300:500, 3] += 1.5 * train[:, 3].std()
    a, b = old.update(x), det.update(x)
    assert np.array_equal(a.scores, b.scores)
    assert np.array_equal(a.contributions, b.contributions)
    new, same = old.to_state(), det.to_state()
    assert new.params == same.params
    stream = [k for k in new.arrays if k not in LEVEL_KEYS]  # the envelope is unused at weight 0
    assert all(np.array_equal(new.arrays[k], same.arrays[k]) for k in stream)
    bare = older(MultivariateDetector().to_state(), 4)
    assert MultivariateDetector.from_state(bare).level_weight == 0.0
    broken = older(det.to_state(), 4, "mean")
    with pytest.raises(InvalidRecordError):
        MultivariateDetector.from_state(broken)


def test_a_v3_state_is_migrated_with_the_floor_off() -> None:
    """A snapshot from before the gate's floor keeps scoring as it did."""
    train = loosely_coupled(2000, 23)
    det = MultivariateDetector(adapt_block=64, adapt_blocks=16, gate_quantile=0.0, **NO_LEVEL)
    det.fit(train)
    det.update(loosely_coupled(100, 24))
    old = MultivariateDetector.from_state(older(det.to_state(), 3, "gate_quantile", "gate_pool"))
    assert old.gate_quantile == 0.0
    x = loosely_coupled(1500, 25)
    x += 0.35 * np.random.default_rng(26).normal(size=x.shape)
    a, b = old.update(x), det.update(x)
    assert np.array_equal(a.scores, b.scores)
    assert np.array_equal(a.contributions, b.contributions)
    bare = older(MultivariateDetector().to_state(), 3, "gate_quantile")
    assert MultivariateDetector.from_state(bare).version == 5


def test_a_v2_state_is_migrated_with_the_gate_off() -> None:
    """A snapshot from before the gate keeps scoring as it did."""
    train = loosely_coupled(2000, 8)
    det = MultivariateDetector(
        adapt_block=64, adapt_blocks=16, gate_factor=0.0, evidence_window=10, **NO_LEVEL
    )
    det.fit(train)
    det.update(loosely_coupled(100, 9))
    gate = ("gate_factor", "evidence_window", "gate_ring", "gate_pending", "gate_pool")
    old = MultivariateDetector.from_state(older(det.to_state(), 2, *gate))
    assert (old.gate_factor, old.evidence_window) == (0.0, 10)
    x = loosely_coupled(1500, 10)
    x[:, 1] += 2.0
    a, b = old.update(x), det.update(x)
    assert np.array_equal(a.scores, b.scores)
    assert np.array_equal(a.contributions, b.contributions)
    bare = older(MultivariateDetector(window=10).to_state(), 2, "gate_factor", "evidence_window")
    assert MultivariateDetector.from_state(bare).window == 10


def test_evidence_names_the_fault_over_its_course_not_a_late_spike() -> None:
    """A KPI off its level for 100 rows outranks a coupled KPI's one-row spike a few rows
    later, as the spike does under the score's own 10-row window (the level view, which also
    names the held KPI, is off to isolate the window)."""
    train = loosely_coupled(4000, 11)
    x = loosely_coupled(300, 12)
    x[100:200, 3] += 2.5 * train[:, 3].std()
    x[195, 0] += 3.0 * train[:, 0].std()
    steady = MultivariateDetector(**NO_LEVEL).fit(train).update(x).ranking()
    short = MultivariateDetector(evidence_window=10, **NO_LEVEL).fit(train).update(x).ranking()
    assert (steady[130:200, 0] == 3).all()
    assert (short[196:200, 0] == 0).all()


def test_temporal_view_sees_broken_dynamics() -> None:
    """Rows in a shuffled order keep every KPI and their correlations, only the dynamics break."""
    rng = np.random.default_rng(12)
    n = 4000
    latent = np.zeros(n)
    for t in range(1, n):
        latent[t] = 0.98 * latent[t - 1] + 0.2 * rng.normal()
    x = np.column_stack([latent, 0.5 * latent, -latent]) + 0.02 * rng.normal(size=(n, 3))
    test = x[3000:].copy()
    test[500:600] = test[500:600][rng.permutation(100)]
    labels = np.zeros(len(test), dtype=bool)
    labels[500:600] = True
    with_view = MultivariateDetector(temporal_weight=1.0).fit(x[:3000]).score(test).scores
    without = MultivariateDetector(temporal_weight=0.0).fit(x[:3000]).score(test).scores
    assert roc_auc_score(labels, with_view) > 0.9
    assert roc_auc_score(labels, with_view) > roc_auc_score(labels, without)


def test_short_training_windows_still_give_a_stream() -> None:
    train = correlated(60, 13)  # shorter than one adaptation block
    det = MultivariateDetector().fit(train)
    out = det.update(correlated(300, 14))
    assert np.isfinite(out.scores).all()
    assert det.to_state().arrays["ring_centre"].shape == (48, 6)


def test_empty_rows_give_empty_scores(fitted: MultivariateDetector) -> None:
    out = fitted.score(np.zeros((0, 6)))
    assert out.scores.shape == (0,)
    assert out.contributions.shape == (0, 6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"variance": 0.0},
        {"shrinkage": 1.5},
        {"window": 0},
        {"evidence_window": 0},
        {"scale_floor": 0.0},
        {"alarm_quantile": 1.0},
        {"upper_quantile": 0.2},
        {"temporal_weight": -1.0},
        {"ridge": -1.0},
        {"adapt_block": 0},
        {"adapt_blocks": -1},
        {"adapt_deadband": -1.0},
        {"gate_factor": -1.0},
        {"gate_quantile": 1.0},
    ],
)
def test_invalid_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        MultivariateDetector(**kwargs)  # type: ignore[arg-type]


def test_bad_input_is_refused(fitted: MultivariateDetector) -> None:
    with pytest.raises(ValueError, match="KPIs"):
        fitted.score(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="NaN"):
        fitted.score(np.full((5, 6), np.nan))
    with pytest.raises(ValueError, match="2-D"):
        fitted.score(np.zeros(6))
    with pytest.raises(ValueError, match="more training rows"):
        MultivariateDetector().fit(np.zeros((5, 6)))


def test_ranking_orders_by_contribution() -> None:
    out = MultivariateScores(np.array([1.0]), np.array([[0.1, 3.0, 0.5]]))
    assert out.ranking().tolist() == [[1, 2, 0]]


@settings(max_examples=50, deadline=None)
@given(
    x=arrays(np.float64, st.integers(0, 40), elements=st.floats(-1e6, 1e6)),
    window=st.integers(1, 12),
)
def test_trailing_mean_matches_the_definition(x: np.ndarray, window: int) -> None:
    expected = [x[max(0, i - window + 1) : i + 1].mean() for i in range(len(x))]
    assert np.allclose(trailing_mean(x, window), expected, rtol=1e-9, atol=1e-6)


def test_the_level_view_sees_a_level_held_longer_than_training_ever_held_it() -> None:
    """A KPI held 1.2 training stds off its level for 300 rows, inside its row-wise range
    and with its usual noise, scores higher with the level view, is named by the evidence,
    and the view adds nothing on clean rows (0 inside the training range of 30-row means)."""
    train = loosely_coupled(6000, 31)
    x = loosely_coupled(1200, 32)
    x[600:900, 3] += 1.2 * train[:, 3].std()
    det = MultivariateDetector(adapt_blocks=0).fit(train)
    level = det.update(x)
    plain = MultivariateDetector(adapt_blocks=0, **NO_LEVEL).fit(train).update(x)
    labels = np.zeros(len(x), dtype=bool)
    labels[600:900] = True
    assert roc_auc_score(labels, level.scores) > roc_auc_score(labels, plain.scores) + 0.05
    assert level.alarms[600:900].mean() > 2.0 * plain.alarms[600:900].mean()
    assert (level.ranking()[700:900, 0] == 3).mean() > 0.95
    assert np.median(level.scores[700:900] - plain.scores[700:900]) > 0.0
    envelope = det.to_state().arrays
    inside = (envelope["level_low"] < 0.0) & (envelope["level_high"] > 0.0)
    assert inside.all()
    assert np.allclose(level.scores[:500], plain.scores[:500], atol=0.05)
    assert det.to_state().arrays["level_history"].shape == (29, 4)


def test_level_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="level_window"):
        MultivariateDetector(level_window=0)
    with pytest.raises(ValueError, match="level_weight"):
        MultivariateDetector(level_weight=-0.1)


def test_a_training_window_shorter_than_the_level_window_streams_like_one_call() -> None:
    """With fewer training rows than ``level_window`` the view starts from all of them, and
    chunked updates still equal one call."""
    train = loosely_coupled(24, 33)
    x = loosely_coupled(100, 34)
    det = MultivariateDetector(level_window=30, adapt_blocks=0).fit(train)
    assert det.to_state().arrays["level_history"].shape == (24, 4)
    whole = MultivariateDetector(level_window=30, adapt_blocks=0).fit(train).update(x)
    parts = [det.update(x[a:b]).scores for a, b in [(0, 3), (3, 40), (40, 100)]]
    assert np.allclose(np.concatenate(parts), whole.scores)
    assert det.to_state().arrays["level_history"].shape == (29, 4)
