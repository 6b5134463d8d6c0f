"""The slow capacity forecast: the trend of daily peaks gives an ETA in days for growth and
nothing for noise; missing days and one odd day do not derail it."""

from __future__ import annotations

import numpy as np

from nocwise.detect.metrics.capacity import peak_trend
from nocwise.detect.metrics.forecast import BreachForecaster

DAY_MS = 86_400_000


def test_linear_growth_of_the_peaks_gives_its_eta_in_days() -> None:
    rng = np.random.default_rng(1)
    days = np.arange(21, dtype=np.int64)
    peaks = 60.0 + 1.0 * days + rng.normal(0, 1.0, days.size)  # 80 on day 20: 90 ten days on
    eta, slope, level = peak_trend(peaks[None, :], days, np.array([90.0]), last_day=20)
    assert abs(eta[0] - 10.0) <= 1.5
    assert abs(slope[0] - 1.0) <= 0.15
    assert abs(level[0] - 80.0) <= 1.5


def test_noise_without_growth_gives_no_eta() -> None:
    rng = np.random.default_rng(2)
    days = np.arange(28, dtype=np.int64)
    peaks = 80.0 + rng.normal(0, 3.0, (2000, days.size))
    eta, _, _ = peak_trend(peaks, days, np.full(2000, 90.0), last_day=27)
    assert np.isnan(eta).all()


def test_missing_days_and_one_outage_do_not_tilt_the_trend() -> None:
    rng = np.random.default_rng(3)
    days = np.arange(21, dtype=np.int64)
    peaks = 60.0 + 1.0 * days + rng.normal(0, 1.0, days.size)
    peaks[[3, 9, 15]] = np.nan  # no data those days
    peaks[18] = 5.0  # an outage day
    eta, slope, _ = peak_trend(peaks[None, :], days, np.array([90.0]), last_day=20)
    assert abs(slope[0] - 1.0) <= 0.2
    assert abs(eta[0] - 10.0) <= 2.0


def test_too_few_days_or_too_far_gives_no_eta() -> None:
    days = np.arange(21, dtype=np.int64)
    growth = 60.0 + 1.0 * days
    short = np.where(days >= 14, growth, np.nan)  # 7 days of peaks
    slow = 30.0 + 0.5 * days  # 90 in 100 days: beyond the horizon and the span
    eta, _, _ = peak_trend(np.stack([short, slow]), days, np.full(2, 90.0), last_day=20)
    assert np.isnan(eta).all()


def _feed(f: BreachForecaster, values: np.ndarray, step_min: int) -> None:
    """One add per day, as a runtime would over many batches."""
    per_day = 1440 // step_min
    for d in range(values.size // per_day):
        ts = (np.arange(per_day) + d * per_day) * step_min * 60_000
        f.add(
            np.zeros(per_day, dtype=np.int64), ts.astype(np.int64), values[d * per_day :][:per_day]
        )


def test_forecaster_keeps_daily_peaks_and_forecasts_their_breach() -> None:
    step = 5
    t = np.arange(20 * 1440 // step) * step / 1440.0  # days
    busy = np.sin(np.pi * (t % 1.0)) ** 4
    peak = 60.0 + 1.2 * t  # 84 on day 20: 90 five days on
    values = 20 + (peak - 20) * busy + np.random.default_rng(4).normal(0, 1.0, t.size)
    f = BreachForecaster()
    _feed(f, values, step)
    assert f.days_done == 18  # day 19 is complete once the first sample of day 20 arrives
    eta, slope, _ = f.peak_eta(np.array([90.0]))
    true_eta = (90.0 - (60.0 + 1.2 * 19.5)) / 1.2  # from the end of day 18 (the busy hour at noon)
    assert abs(slope[0] - 1.2) <= 0.15
    assert abs(eta[0] - (true_eta + 1.0)) <= 1.5
