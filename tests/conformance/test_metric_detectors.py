"""Conformance suite for every registered metric detector (ids ``<kind>:<check>``).

Generic checks in the spirit of scikit-learn's ``check_estimator`` and river's ``checks``:
purity of ``score``, read-only input, exact state round-trip, idempotence, order and subset
invariance, NaN/gap handling, empty batches, streaming = batch learning, and a quality floor
(ROC-AUC above 0.5 on a synthetic spike set).
"""

from __future__ import annotations

import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import nocwise.detect.metrics as metrics_pkg
from nocwise.detect.metrics.registry import DETECTORS
from nocwise.model.errors import InvalidRecordError
from nocwise.model.metrics import MetricBatch
from nocwise.model.state import ModelState

STEP_MS = 15 * 60_000
N_SERIES = 6
N_STEPS = 700


def make_stream(seed: int = 0, n_series: int = N_SERIES, n_steps: int = N_STEPS) -> MetricBatch:
    """Daily-seasonal series with noise, interleaved step by step (time order per series)."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n_steps)
    series = np.tile(np.arange(n_series), n_steps)
    ts = np.repeat(steps * STEP_MS, n_series) + 1_600_000_000_000
    level = rng.uniform(10, 100, n_series)
    season = np.sin(2 * np.pi * np.repeat(steps, n_series) / 96)
    values = level[series] * (1 + 0.2 * season) + rng.normal(0, 1, series.size)
    return MetricBatch.of(series, ts, values)


def with_spikes(seed: int = 1) -> tuple[MetricBatch, np.ndarray]:
    base = make_stream(seed)
    rng = np.random.default_rng(seed)
    labels = np.zeros(len(base), dtype=bool)
    late = np.flatnonzero(np.arange(len(base)) > len(base) // 2)
    idx = rng.choice(late, size=20, replace=False)
    labels[idx] = True
    values = base.values.copy()
    values[idx] += 25.0
    return MetricBatch(base.series, base.ts_ms, values), labels


def frozen(batch: MetricBatch) -> MetricBatch:
    arrays = [batch.series.copy(), batch.ts_ms.copy(), batch.values.copy()]
    for a in arrays:
        a.flags.writeable = False
    return MetricBatch(*arrays)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True))


def states_equal(a: ModelState, b: ModelState) -> bool:
    return (
        a.schema == b.schema
        and a.params == b.params
        and a.arrays.keys() == b.arrays.keys()
        and all(same(a.arrays[k], b.arrays[k]) for k in a.arrays)
    )


def halves(batch: MetricBatch) -> tuple[MetricBatch, MetricBatch]:
    mask = np.arange(len(batch)) < len(batch) // 2
    return batch.select(mask), batch.select(~mask)


# -- checks ----------------------------------------------------------------------------------


def check_score_does_not_mutate_state(cls: type[Any]) -> None:
    det = cls()
    first, second = halves(make_stream())
    det.learn(first)
    before = det.to_state()
    det.score(second)
    assert states_equal(before, det.to_state())


def check_readonly_input(cls: type[Any]) -> None:
    batch = frozen(make_stream())
    out = cls().score_learn(batch)
    assert out.shape == (len(batch),)
    assert same(out, cls().score_learn(make_stream()))


def check_scores_in_unit_interval(cls: type[Any]) -> None:
    out = cls().score_learn(make_stream())
    ok = out[~np.isnan(out)]
    assert ok.size > len(out) // 2
    assert np.all((ok >= 0.0) & (ok <= 1.0))


def check_state_round_trip(cls: type[Any]) -> None:
    first, second = halves(make_stream())
    det = cls()
    det.learn(first)
    restored = cls.from_state(ModelState.from_bytes(det.to_state().to_bytes()))
    assert states_equal(det.to_state(), restored.to_state())
    assert same(det.score_learn(second), restored.score_learn(second))


def check_unknown_state_version_raises(cls: type[Any]) -> None:
    s = cls().to_state()
    with pytest.raises(InvalidRecordError):
        cls.from_state(ModelState(s.schema, s.version + 99, s.params, s.arrays))


def check_seeding_idempotent(cls: type[Any]) -> None:
    assert same(cls().score_learn(make_stream(3)), cls().score_learn(make_stream(3)))


def check_learn_in_halves_equals_learn_at_once(cls: type[Any]) -> None:
    batch = make_stream()
    one, two = cls(), cls()
    one.learn(batch)
    for half in halves(batch):
        two.learn(half)
    assert states_equal(one.to_state(), two.to_state())


def check_series_order_invariance(cls: type[Any]) -> None:
    batch = make_stream()
    ref = cls().score_learn(batch)
    # series-major instead of step-major: same per-series order, different interleaving
    order = np.lexsort((np.arange(len(batch)), batch.series))
    permuted = MetricBatch(batch.series[order], batch.ts_ms[order], batch.values[order])
    assert same(cls().score_learn(permuted), ref[order])
    # score (pure) permutes with any permutation
    det = cls()
    det.learn(halves(batch)[0])
    tail = halves(batch)[1]
    shuffle = np.random.default_rng(0).permutation(len(tail))
    shuffled = MetricBatch(tail.series[shuffle], tail.ts_ms[shuffle], tail.values[shuffle])
    assert same(det.score(shuffled), det.score(tail)[shuffle])


def check_series_subset_invariance(cls: type[Any]) -> None:
    batch = make_stream()
    mask = batch.series == 2
    alone = cls().score_learn(batch.select(mask))
    together = cls().score_learn(batch)[mask]
    assert same(alone, together)


def check_unseen_series_grow_state(cls: type[Any]) -> None:
    det = cls()
    det.learn(make_stream(n_series=2))
    batch = make_stream(n_series=5)
    out = det.score_learn(batch)
    assert out.shape == (len(batch),)
    assert det.to_state().arrays


def check_nan_and_gaps_are_rejected_not_guessed(cls: type[Any]) -> None:
    batch = make_stream()
    bad = np.zeros(len(batch), dtype=bool)
    bad[len(batch) // 3 :: 37] = True
    values = batch.values.copy()
    values[bad] = np.where(np.arange(bad.sum()) % 2 == 0, np.nan, np.inf)
    out = cls().score_learn(MetricBatch(batch.series, batch.ts_ms, values))
    assert np.all(np.isnan(out[bad]))
    # the bad samples are skipped as if absent: the rest equals a stream without them
    assert same(out[~bad], cls().score_learn(batch.select(~bad)))


def check_empty_batch(cls: type[Any]) -> None:
    det = cls()
    assert det.score(MetricBatch.empty()).shape == (0,)
    det.learn(MetricBatch.empty())
    assert det.score_learn(MetricBatch.empty()).shape == (0,)


def check_auc_on_spikes(cls: type[Any]) -> None:
    batch, labels = with_spikes()
    out = cls().score_learn(batch)
    ok = ~np.isnan(out)
    assert roc_auc_score(labels[ok], out[ok]) > 0.5


def check_docstring_says_where_it_is_weak(cls: type[Any]) -> None:
    doc = inspect.getmodule(cls).__doc__ or ""  # type: ignore[union-attr]
    assert "Weak at:" in doc


CHECKS: list[Callable[[type[Any]], None]] = [
    check_score_does_not_mutate_state,
    check_readonly_input,
    check_scores_in_unit_interval,
    check_state_round_trip,
    check_unknown_state_version_raises,
    check_seeding_idempotent,
    check_learn_in_halves_equals_learn_at_once,
    check_series_order_invariance,
    check_series_subset_invariance,
    check_unseen_series_grow_state,
    check_nan_and_gaps_are_rejected_not_guessed,
    check_empty_batch,
    check_auc_on_spikes,
    check_docstring_says_where_it_is_weak,
]

#: kind -> {check name: reason}; every entry is a known, explained shortfall.
XFAIL: dict[str, dict[str, str]] = {
    "trend": {
        "auc_on_spikes": "a drift detector: a one-sample spike barely moves the Holt slope, "
        "while the daily ramps of the synthetic set do"
    },
}


def _cases() -> list[Any]:
    cases = []
    for kind, cls in DETECTORS.items():
        for check in CHECKS:
            name = check.__name__.removeprefix("check_")
            reason = XFAIL.get(kind, {}).get(name)
            marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
            cases.append(pytest.param(cls, check, id=f"{kind}:{name}", marks=marks))
    return cases


@pytest.mark.parametrize(("cls", "check"), _cases())
def test_conformance(cls: type[Any], check: Callable[[type[Any]], None]) -> None:
    check(cls)


def test_every_univariate_detector_is_registered() -> None:
    registered = set(DETECTORS.values())
    for info in pkgutil.iter_modules(metrics_pkg.__path__):
        if info.name == "multivariate":
            continue  # a different family (multivariate frames), with its own contract
        module = __import__(f"nocwise.detect.metrics.{info.name}", fromlist=["*"])
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if obj.__module__ != module.__name__ or inspect.isabstract(obj):
                continue
            if isinstance(getattr(obj, "kind", None), str) and hasattr(obj, "score_learn"):
                assert obj in registered, f"{obj.__name__} is not in the registry"
