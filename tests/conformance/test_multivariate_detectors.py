"""Conformance suite for multivariate per-entity detectors (ids ``<kind>:<check>``).

The family's contract: ``fit(train)`` learns from a rows x KPIs window and returns the detector;
``score(rows)`` continues the stream without changing state; ``update(rows)`` scores and then
learns, so chunked updates equal one update; ``to_state``/``from_state`` round-trip exactly,
mid-stream included. Generic checks in the spirit of scikit-learn's ``check_estimator`` and
river's ``checks``, plus a quality floor (ROC-AUC above 0.5 on a synthetic break).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from nocwise.detect.metrics.multivariate import MultivariateDetector
from nocwise.model.errors import InvalidRecordError
from nocwise.model.state import ModelState

#: kind -> class, with settings small enough for the checks to exercise every stream path.
MULTIVARIATE: dict[str, tuple[type[Any], dict[str, Any]]] = {
    MultivariateDetector.kind: (MultivariateDetector, {"adapt_block": 32, "adapt_blocks": 8}),
}


def entity(n: int, seed: int) -> np.ndarray:
    """Five KPIs: two driven by a daily load, one by an AR(1) process, two independent."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    load = np.sin(2 * np.pi * t / 288) + 0.3 * rng.normal(size=n)
    ar = np.zeros(n)
    noise = rng.normal(size=n)
    for i in range(1, n):
        ar[i] = 0.9 * ar[i - 1] + 0.3 * noise[i]
    x = np.column_stack([load, 0.6 * load, ar, rng.normal(size=n), rng.normal(size=n)])
    return x + 0.1 * rng.normal(size=x.shape)


def with_break(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    x = entity(1000, seed)
    labels = np.zeros(len(x), dtype=bool)
    labels[500:560] = True
    x[500:560, 1] -= 1.5  # KPI 1 stops following the load
    return x, labels


def fitted(cls: type[Any], params: dict[str, Any]) -> Any:
    return cls(**params).fit(entity(2000, 0))


def states_equal(a: ModelState, b: ModelState) -> bool:
    return (
        a.schema == b.schema
        and a.version == b.version
        and a.params == b.params
        and a.arrays.keys() == b.arrays.keys()
        and all(np.array_equal(a.arrays[k], b.arrays[k]) for k in a.arrays)
    )


# -- checks ----------------------------------------------------------------------------------


def check_fit_returns_self(cls: type[Any], params: dict[str, Any]) -> None:
    det = cls(**params)
    assert det.fit(entity(500, 0)) is det


def check_fit_idempotent(cls: type[Any], params: dict[str, Any]) -> None:
    det = cls(**params)
    det.fit(entity(800, 2))
    first = det.to_state()
    det.fit(entity(800, 2))
    assert states_equal(first, det.to_state())


def check_score_does_not_mutate_state(cls: type[Any], params: dict[str, Any]) -> None:
    det = fitted(cls, params)
    before = det.to_state()
    det.score(with_break()[0])
    assert states_equal(before, det.to_state())


def check_readonly_input(cls: type[Any], params: dict[str, Any]) -> None:
    train, rows = entity(800, 3), with_break()[0]
    for a in (train, rows):
        a.flags.writeable = False
    det = cls(**params).fit(train)
    out = det.update(rows)
    assert out.scores.shape == (len(rows),)
    assert np.array_equal(out.scores, cls(**params).fit(train.copy()).update(rows.copy()).scores)


def check_state_round_trip_mid_stream(cls: type[Any], params: dict[str, Any]) -> None:
    x, _ = with_break()
    det = fitted(cls, params)
    det.update(x[:333])
    restored = cls.from_state(ModelState.from_bytes(det.to_state().to_bytes()))
    assert states_equal(det.to_state(), restored.to_state())
    assert np.array_equal(det.update(x[333:]).scores, restored.update(x[333:]).scores)


def check_unknown_state_version_raises(cls: type[Any], params: dict[str, Any]) -> None:
    s = fitted(cls, params).to_state()
    with pytest.raises(InvalidRecordError):
        cls.from_state(ModelState(s.schema, s.version + 99, s.params, s.arrays))


def check_seeding_idempotent(cls: type[Any], params: dict[str, Any]) -> None:
    x, _ = with_break()
    a = cls(**params, seed=5).fit(entity(1500, 4)).update(x)
    b = cls(**params, seed=5).fit(entity(1500, 4)).update(x)
    assert np.array_equal(a.scores, b.scores)
    assert np.array_equal(a.contributions, b.contributions)


def check_update_in_chunks_equals_update_at_once(cls: type[Any], params: dict[str, Any]) -> None:
    x, _ = with_break()
    one, two = fitted(cls, params), fitted(cls, params)
    whole = one.update(x)
    bounds = [0, 1, 31, 32, 100, 100, 357, len(x)]
    parts = [two.update(x[a:b]) for a, b in pairwise(bounds)]
    assert np.allclose(np.concatenate([p.scores for p in parts]), whole.scores)
    assert np.allclose(np.vstack([p.contributions for p in parts]), whole.contributions)
    s1, s2 = one.to_state().arrays, two.to_state().arrays
    assert s1.keys() == s2.keys()
    assert all(np.allclose(s1[k], s2[k]) for k in s1)


def check_score_equals_update(cls: type[Any], params: dict[str, Any]) -> None:
    x, _ = with_break()
    det = fitted(cls, params)
    assert np.array_equal(det.score(x).scores, det.update(x).scores)


def check_nan_and_inf_are_refused(cls: type[Any], params: dict[str, Any]) -> None:
    det = fitted(cls, params)
    before = det.to_state()
    for bad in (np.nan, np.inf):
        rows = entity(20, 5)
        rows[3, 2] = bad
        with pytest.raises(ValueError, match="NaN"):
            det.update(rows)
    assert states_equal(before, det.to_state())


def check_empty_rows(cls: type[Any], params: dict[str, Any]) -> None:
    det = fitted(cls, params)
    before = det.to_state()
    out = det.update(np.zeros((0, 5)))
    assert out.scores.shape == (0,)
    assert out.contributions.shape == (0, 5)
    assert states_equal(before, det.to_state())


def check_contributions_are_evidence(cls: type[Any], params: dict[str, Any]) -> None:
    out = fitted(cls, params).score(with_break()[0])
    assert out.contributions.shape == (1000, 5)
    assert (out.contributions >= 0.0).all()
    assert np.isfinite(out.scores).all()


def check_auc_on_a_break(cls: type[Any], params: dict[str, Any]) -> None:
    x, labels = with_break()
    assert roc_auc_score(labels, fitted(cls, params).update(x).scores) > 0.5


def check_docstring_says_where_it_is_weak(cls: type[Any], params: dict[str, Any]) -> None:
    doc = inspect.getmodule(cls).__doc__ or ""  # type: ignore[union-attr]
    assert "Weak at:" in doc


CHECKS: list[Callable[[type[Any], dict[str, Any]], None]] = [
    check_fit_returns_self,
    check_fit_idempotent,
    check_score_does_not_mutate_state,
    check_readonly_input,
    check_state_round_trip_mid_stream,
    check_unknown_state_version_raises,
    check_seeding_idempotent,
    check_update_in_chunks_equals_update_at_once,
    check_score_equals_update,
    check_nan_and_inf_are_refused,
    check_empty_rows,
    check_contributions_are_evidence,
    check_auc_on_a_break,
    check_docstring_says_where_it_is_weak,
]


def _cases() -> list[Any]:
    return [
        pytest.param(cls, params, check, id=f"{kind}:{check.__name__.removeprefix('check_')}")
        for kind, (cls, params) in MULTIVARIATE.items()
        for check in CHECKS
    ]


@pytest.mark.parametrize(("cls", "params", "check"), _cases())
def test_conformance(
    cls: type[Any], params: dict[str, Any], check: Callable[[type[Any], dict[str, Any]], None]
) -> None:
    check(cls, params)
