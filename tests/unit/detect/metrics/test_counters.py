"""Counters become rates; resets are reported, never guessed as wraps."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from nocwise.detect.metrics.counters import CounterRate
from nocwise.model.metrics import MetricBatch
from nocwise.model.state import ModelState


def test_rate_is_increase_per_second() -> None:
    out = CounterRate().update(MetricBatch.of([0, 0, 0], [0, 10_000, 20_000], [0.0, 50.0, 150.0]))
    assert np.isnan(out.rate_per_s[0])
    assert out.rate_per_s[1:].tolist() == [5.0, 10.0]


def test_a_drop_is_a_reported_reset_with_unknown_rate() -> None:
    conv = CounterRate()
    out = conv.update(MetricBatch.of([0] * 4, [0, 1000, 2000, 3000], [100.0, 200.0, 5.0, 15.0]))
    assert out.is_reset.tolist() == [False, False, True, False]
    assert np.isnan(out.rate_per_s[2])
    assert out.rate_per_s[3] == 10.0
    assert conv.resets()[0] == 1


def test_a_gap_gives_the_average_rate_over_the_gap() -> None:
    out = CounterRate().update(MetricBatch.of([0, 0], [0, 60_000], [0.0, 600.0]))
    assert out.rate_per_s[1] == 10.0


def test_state_round_trip_continues() -> None:
    conv = CounterRate()
    conv.update(MetricBatch.of([0, 1], [0, 0], [10.0, 20.0]))
    again = CounterRate.from_state(ModelState.from_bytes(conv.to_state().to_bytes()))
    out = again.update(MetricBatch.of([0, 1], [1000, 1000], [11.0, 10.0]))
    assert out.rate_per_s[0] == 1.0
    assert out.is_reset.tolist() == [False, True]


@given(st.lists(st.floats(0, 1e12, allow_nan=False), min_size=2, max_size=50))
def test_rates_are_never_negative_and_resets_match_drops(values: list[float]) -> None:
    n = len(values)
    out = CounterRate().update(MetricBatch.of([0] * n, np.arange(n) * 1000, values))
    ok = ~np.isnan(out.rate_per_s)
    assert np.all(out.rate_per_s[ok] >= 0)
    drops = np.diff(values) < 0
    assert out.is_reset[1:].tolist() == drops.tolist()
