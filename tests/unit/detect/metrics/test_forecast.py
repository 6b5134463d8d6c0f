"""Forecasting: trend plus season, and the predicted-breach ETA on synthetic growth."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from nocwise.detect.metrics.forecast import BreachForecaster, forecast, forecast_breach
from nocwise.model.errors import InvalidRecordError
from nocwise.model.state import ModelState

HOUR_MS = 3_600_000


def linear(days: int = 10, slope_per_h: float = 0.1, noise: float = 0.0, season: float = 0.0):
    rng = np.random.default_rng(0)
    hours = np.arange(days * 24)
    values = 50 + slope_per_h * hours + season * np.sin(2 * np.pi * hours / 24)
    return hours * HOUR_MS, values + rng.normal(0, noise, hours.size)


def test_eta_of_linear_growth_is_where_the_line_crosses() -> None:
    ts, values = linear()  # 50 + 0.1/h; last sample at h=239 -> 73.9; 90 is 161 h later
    eta = forecast_breach(ts, values, 90.0, horizon=timedelta(days=30))
    assert eta == pytest.approx(161 * 3600, abs=3600)


def test_eta_survives_noise_and_a_daily_season() -> None:
    ts, values = linear(noise=0.5, season=5.0)
    eta = forecast_breach(ts, values, 90.0, horizon=timedelta(days=30))
    assert eta is not None
    # the season can bring the first crossing forward by up to its amplitude / slope
    assert 100 * 3600 <= eta <= 175 * 3600


def test_no_breach_within_horizon_is_none() -> None:
    ts, values = linear()
    assert forecast_breach(ts, values, 90.0, horizon=timedelta(days=2)) is None


def test_falling_series_is_watched_downwards() -> None:
    ts, values = linear(slope_per_h=-0.1)
    eta = forecast_breach(ts, values, 20.0, horizon=timedelta(days=30))
    assert eta == pytest.approx(61 * 3600, abs=3600)  # 26.1 -> 20 at -0.1/h


def test_already_past_the_threshold_is_zero() -> None:
    ts, values = linear()
    assert forecast_breach(ts, values, 60.0) == 0.0


def test_explicit_direction_ignores_the_other_side() -> None:
    ts, values = linear()
    assert forecast_breach(ts, values, 20.0, direction="down") is None


def test_forecast_band_contains_the_mean_and_repeats_the_season() -> None:
    ts, values = linear(slope_per_h=0.0, season=5.0)
    fc = forecast(ts, values, 48)
    assert np.all(fc.lower <= fc.mean)
    assert np.all(fc.mean <= fc.upper)
    assert np.allclose(fc.mean[:24], fc.mean[24:], atol=1e-6)
    assert fc.mean.max() - fc.mean.min() == pytest.approx(10.0, rel=0.05)


def test_too_short_history_is_refused() -> None:
    with pytest.raises(InvalidRecordError):
        forecast([0, 1], [1.0, 2.0], 3)


def test_breach_forecaster_state_round_trip_gives_the_same_forecast() -> None:
    minutes = np.arange(2000)
    values = 40 + 0.02 * minutes + np.random.default_rng(8).normal(0, 0.3, minutes.size)
    f = BreachForecaster()
    f.add(np.zeros(minutes.size, dtype=np.int64), minutes * 60_000, values)
    g = BreachForecaster.from_state(ModelState.from_bytes(f.to_state().to_bytes()))
    assert g.config == f.config
    now, thr, horizon = int(minutes[-1]) * 60_000, np.array([90.0]), np.array([86400.0])
    np.testing.assert_array_equal(f.eta(now, thr, horizon)[0], g.eta(now, thr, horizon)[0])


def test_breach_forecaster_refuses_another_state_version() -> None:
    state = replace(BreachForecaster().to_state(), version=99)
    with pytest.raises(InvalidRecordError):
        BreachForecaster.from_state(state)
