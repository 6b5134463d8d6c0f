"""Predicted-breach alarms: linear growth raises one alarm with a sensible ETA, a flat seasonal
series raises none, and the alarm clears when the forecast stops breaching."""

from __future__ import annotations

import numpy as np

from nocwise.model import EventType, MetricBatch, Series, Severity
from nocwise.model.state import ModelState
from nocwise.runtime.detection import MetricDetection, PredictiveBreach

MIN_MS = 60_000
DAY_MIN = 1440


def run(stage: PredictiveBreach, values: np.ndarray, series: dict[int, Series], start_min: int = 0):
    alarms = []
    for i, v in enumerate(values):
        ts = (start_min + i) * MIN_MS
        alarms += stage.process(MetricBatch.of([0], [ts], [v]), series)
    return alarms


def disk() -> dict[int, Series]:
    return {0: Series(0, "disk_utilisation", {}, "node-1", "percent")}


def link() -> dict[int, Series]:
    return {0: Series(0, "if_utilisation", {}, "link-1", "percent")}


def test_linear_growth_raises_one_alarm_with_its_eta() -> None:
    rng = np.random.default_rng(1)
    minutes = np.arange(int(1.5 * DAY_MIN) + 1100)
    # 40 % for a day and a half, then +0.05 %/min: from 40 it reaches 90 after 1000 min.
    values = (
        40 + 0.05 * np.clip(minutes - 1.5 * DAY_MIN, 0, None) + rng.normal(0, 0.3, minutes.size)
    )
    alarms = run(PredictiveBreach(), values, disk())
    assert len({a.alarm_id for a in alarms}) == 1  # one episode: raised, maybe escalated
    a = alarms[0]
    assert (a.event_type, a.probable_cause, a.specific_problem) == (
        EventType.QUALITY_OF_SERVICE,
        "thresholdCrossed",
        "predicted breach",
    )
    fired_min = a.event_time.timestamp() / 60
    breach_min = 1.5 * DAY_MIN + 1000
    eta_min = float(a.additional_info["eta_s"]) / 60
    assert fired_min < breach_min - 120  # hours of warning
    # The ETA errs early, not late: the start of the growth, older than the trend windows, is
    # partly learnt as season (a known weakness of the per-bin season), which brings the
    # forecast crossing forward.
    assert breach_min - 0.8 * (breach_min - fired_min) <= fired_min + eta_min <= breach_min + 15
    assert a.additional_info["threshold"] == "90"
    assert a.additional_info["model_version"]
    assert a.additional_info["predicted_time"].startswith("1970-01-0")


def test_flat_seasonal_series_raises_nothing() -> None:
    rng = np.random.default_rng(2)
    minutes = np.arange(4 * DAY_MIN)
    values = 40 + 35 * np.sin(2 * np.pi * minutes / DAY_MIN) ** 2 + rng.normal(0, 2.5, minutes.size)
    assert run(PredictiveBreach(), values, link()) == []


def test_severity_follows_the_eta() -> None:
    minutes = np.arange(2 * DAY_MIN)
    fast = 40 + 0.2 * np.clip(minutes - 1.8 * DAY_MIN, 0, None)  # 90 within 250 minutes
    alarms = run(PredictiveBreach(), fast, disk())
    assert alarms[-1].perceived_severity == Severity.MAJOR  # raised, or escalated as it nears
    assert {a.alarm_id for a in alarms} == {alarms[0].alarm_id}
    slow = 40 + 0.01 * minutes  # 0.6 %/h from the start: 90 after 5000 minutes
    alarms = run(PredictiveBreach(), slow, link())
    assert alarms[0].perceived_severity == Severity.MINOR


def test_alarm_clears_when_growth_stops() -> None:
    minutes = np.arange(2 * DAY_MIN + 240)
    ramp = 0.2 * np.clip(minutes - 1.5 * DAY_MIN, 0, 180)  # grows for 3 h, then flat at 76
    noise = np.random.default_rng(3).normal(0, 0.3, minutes.size)
    alarms = run(PredictiveBreach(), 40 + ramp + noise, disk())
    assert len({a.alarm_id for a in alarms}) == 1
    assert [a.perceived_severity for a in alarms].count(Severity.CLEARED) == 1
    assert alarms[-1].perceived_severity == Severity.CLEARED


def test_series_without_capacity_are_ignored() -> None:
    series = {0: Series(0, "latency", {}, "link-1", "ms")}
    values = np.arange(2 * DAY_MIN, dtype=float)
    stage = PredictiveBreach()
    assert run(stage, values, series) == []
    assert stage.forecaster.rows == 0


def test_metric_detection_still_returns_alarms_list() -> None:
    stage = MetricDetection(predict=True)
    batch = MetricBatch.of([0, 1], [0, 0], [1.0, 50.0])
    series = {
        0: Series(0, "latency", {}, "a", "ms"),
        1: Series(1, "disk_utilisation", {}, "b", "percent"),
    }
    assert stage.process(batch, series) == []
    assert stage.predictive is not None
    assert stage.predictive.forecaster.rows == 1


def test_predicted_breaches_are_off_unless_asked_for() -> None:
    stage = MetricDetection()
    batch = MetricBatch.of([1], [0], [50.0])
    assert stage.process(batch, {1: Series(1, "disk_utilisation", {}, "b", "percent")}) == []
    assert stage.predictive is None


def busy_hour(days: int, peak: float, growth_per_day: float = 0.0, seed: int = 4) -> np.ndarray:
    """A link's daily profile: 20 % at night, ``peak`` in the evening busy hour, its peak
    scaled by ``growth_per_day`` every day, plus noise."""
    minutes = np.arange(days * DAY_MIN)
    shape = np.sin(np.pi * (minutes % DAY_MIN) / DAY_MIN) ** 4
    scale = 1.0 + growth_per_day * minutes / DAY_MIN
    noise = np.random.default_rng(seed).normal(0, 1.0, minutes.size)
    return 20 + (peak - 20) * shape * scale + noise


def test_busy_hour_that_crosses_every_day_predicts_nothing() -> None:
    # The busy hour passes 90 % every day: a recurring breach, not a prediction of one.
    assert run(PredictiveBreach(), busy_hour(4, 94.0), link()) == []


def test_busy_hour_near_the_threshold_without_growth_predicts_nothing() -> None:
    assert run(PredictiveBreach(), busy_hour(4, 86.0), link()) == []


def test_disk_filling_linearly_predicts_with_its_eta() -> None:
    minutes = np.arange(2 * DAY_MIN)
    start = 1.6 * DAY_MIN
    noise = np.random.default_rng(5).normal(0, 0.2, minutes.size)
    # steady at 50 %, then fills at 0.2 %/min: 90 % after 200 minutes
    fill = np.where(minutes >= start, 50 + 0.2 * (minutes - start), 50.0)
    alarms = run(PredictiveBreach(), np.minimum(fill, 100) + noise, disk())
    assert alarms
    a = alarms[0]
    fired_min = a.event_time.timestamp() / 60
    breach_min = start + 200
    assert fired_min < breach_min - 45
    eta_min = float(a.additional_info["eta_s"]) / 60
    assert abs(fired_min + eta_min - breach_min) <= 10  # two forecast grid steps


def test_a_passing_bump_does_not_raise_a_far_off_breach() -> None:
    # Growth for 40 minutes that would reach 90 % in about 2.5 h, then stops: a prediction
    # that far ahead must hold for a while before it is raised.
    minutes = np.arange(2 * DAY_MIN)
    start = 1.5 * DAY_MIN
    bump = 0.12 * np.clip(minutes - start, 0, 40)
    noise = np.random.default_rng(6).normal(0, 0.2, minutes.size)
    assert run(PredictiveBreach(), 60 + bump + noise, link()) == []


def test_state_round_trip_continues_identically() -> None:
    minutes = np.arange(2 * DAY_MIN)
    values = 40 + 0.2 * np.clip(minutes - 1.7 * DAY_MIN, 0, None)
    values += np.random.default_rng(7).normal(0, 0.3, minutes.size)
    cut = int(1.82 * DAY_MIN)  # mid-episode: an alarm is open
    whole = PredictiveBreach()
    expected = run(whole, values, disk())
    first = PredictiveBreach()
    before = run(first, values[:cut], disk())
    assert before
    assert first.rows["open_ms"][0] >= 0  # mid-episode
    state = ModelState.from_bytes(first.to_state().to_bytes())
    resumed = PredictiveBreach.from_state(state, disk())
    after = run(resumed, values[cut:], disk(), start_min=cut)
    assert before + after == expected
    assert resumed.to_state().params == whole.to_state().params


def daily_peaks(days: int, peak0: float, growth_per_day: float, seed: int) -> np.ndarray:
    """15-min samples of a link whose busy-hour peak grows by ``growth_per_day`` points a day."""
    t = np.arange(days * 96) / 96.0
    shape = np.sin(np.pi * (t % 1.0)) ** 4
    noise = np.random.default_rng(seed).normal(0, 1.0, t.size)
    return 20 + (peak0 + growth_per_day * t - 20) * shape + noise


def run_every(stage: PredictiveBreach, values: np.ndarray, step_min: int) -> list:
    alarms = []
    for i, v in enumerate(values):
        alarms += stage.process(MetricBatch.of([0], [i * step_min * MIN_MS], [v]), link())
    return alarms


def test_growing_daily_peak_raises_a_peak_breach_with_its_eta_in_days() -> None:
    # The peak grows 1 point a day from 62: it passes 90 on day 28; after 16 days it is ~78.
    values = daily_peaks(16, 62.0, 1.0, seed=11)
    alarms = run_every(PredictiveBreach(), values, 15)
    peak = [a for a in alarms if a.specific_problem == "predicted daily peak breach"]
    assert peak
    assert all(a.perceived_severity == Severity.MINOR for a in peak)
    a = peak[0]
    assert a.probable_cause == "resourceAtOrNearingCapacity"
    raised_day = a.event_time.timestamp() / 86400
    crossing_day = 28.0 + 0.5  # the busy hour is at noon
    eta_days = float(a.additional_info["eta_days"])
    assert abs(raised_day + eta_days - crossing_day) <= 2.0
    assert abs(float(a.additional_info["peak_slope_per_day"]) - 1.0) <= 0.25
    assert not [x for x in alarms if x.specific_problem == "predicted breach"]


def test_steady_daily_peak_raises_no_peak_breach() -> None:
    values = daily_peaks(16, 82.0, 0.0, seed=12)
    assert run_every(PredictiveBreach(), values, 15) == []


def test_state_round_trip_keeps_an_open_peak_breach() -> None:
    values = daily_peaks(16, 62.0, 1.0, seed=11)
    cut = 15 * 96 + 40  # raised at the start of day 15
    whole = PredictiveBreach()
    expected = run_every(whole, values, 15)
    first = PredictiveBreach()
    before = run_every(first, values[:cut], 15)
    assert first.rows["peak_open_ms"][0] >= 0
    resumed = PredictiveBreach.from_state(
        ModelState.from_bytes(first.to_state().to_bytes()), link()
    )
    after = [
        a
        for i, v in enumerate(values[cut:], start=cut)
        for a in resumed.process(MetricBatch.of([0], [i * 15 * MIN_MS], [v]), link())
    ]
    assert before + after == expected
