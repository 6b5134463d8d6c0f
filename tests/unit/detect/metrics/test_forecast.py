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


def _mixed_load(rows: int, minutes: int, seed: int) -> np.ndarray:
    """Busy hours, ramps that start at random times, jumps and noise: values per minute."""
    rng = np.random.default_rng(seed)
    t = np.arange(minutes)[None, :]
    level = rng.uniform(10, 85, (rows, 1))
    busy = rng.uniform(0, 40, (rows, 1)) * np.sin(np.pi * (t % 1440) / 1440) ** 4
    start = rng.uniform(0, minutes, (rows, 1))
    rate = np.where(rng.random((rows, 1)) < 0.3, rng.uniform(0.01, 0.5, (rows, 1)), 0.0)
    jump = np.where(rng.random((rows, 1)) < 0.1, rng.uniform(5, 30, (rows, 1)), 0.0)
    ramp = np.clip(t - start, 0, None) * rate + np.where(t >= start, jump, 0.0)
    return level + busy + ramp + rng.normal(0, rng.uniform(0.1, 3, (rows, 1)), (rows, minutes))


def test_the_screen_skips_only_rows_whose_full_fit_predicts_nothing() -> None:
    rows, minutes = 400, 32 * 60
    values = _mixed_load(rows, minutes, seed=9)
    f = BreachForecaster()
    thr, horizon = np.full(rows, 90.0), np.full(rows, 3 * 86400.0)
    ids = np.repeat(np.arange(rows), 60)
    compared = 0
    for hour in range(minutes // 60):
        cols = slice(hour * 60, hour * 60 + 60)
        ts = np.tile(np.arange(cols.start, cols.stop) * 60_000, rows)
        order = np.argsort(ids, kind="stable")
        f.add(ids[order], ts[order], values[:, cols].ravel())
        now = (cols.stop - 1) * 60_000
        eta, _ = f.eta(now, thr, horizon)
        if hour < 28:
            continue
        full, _ = f._fit(np.arange(rows), now, thr, horizon)  # every row, no screen
        np.testing.assert_array_equal(eta, full)
        compared += int(np.isfinite(full).sum())
    assert compared > 0  # some rows were predicted, and the screen kept every one of them


def test_breach_forecaster_refuses_the_raw_buffer_state_of_version_1() -> None:
    state = replace(BreachForecaster().to_state(), version=1)
    with pytest.raises(InvalidRecordError):
        BreachForecaster.from_state(state)


def test_breach_forecaster_state_keeps_bins_season_and_peaks() -> None:
    f = BreachForecaster()
    minutes = np.arange(3 * 1440)
    values = 50 + 10 * np.sin(2 * np.pi * minutes / 1440)
    f.add(np.zeros(minutes.size, dtype=np.int64), minutes * 60_000, values)
    f.eta(int(minutes[-1]) * 60_000, np.array([90.0]), np.array([86400.0]))  # refits season
    g = BreachForecaster.from_state(ModelState.from_bytes(f.to_state().to_bytes()))
    assert g.days_done == f.days_done == 1
    for k, v in f.a.items():
        np.testing.assert_array_equal(g.a[k], v)
    np.testing.assert_array_equal(g.bin_of, f.bin_of)
    assert g.base_ms == f.base_ms


def test_breach_forecaster_refuses_arrays_of_the_wrong_shape() -> None:
    state = BreachForecaster().to_state()
    state.arrays["rv"] = np.zeros((0, 5), dtype=np.float32)
    with pytest.raises(InvalidRecordError):
        BreachForecaster.from_state(state)
