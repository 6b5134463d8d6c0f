"""Forecast suite: scoring of predictions against capacity faults, and a quick end-to-end run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from nocwise.bench.forecast import Prediction, run, score
from nocwise.bench.forecast_cost import measure
from nocwise.bench.options import BenchOptions
from nocwise.bench.report import NullProgress
from nocwise.model import MetricBatch, Series
from nocwise.runtime.detection import PredictiveBreach

T0 = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass
class Fault:
    fault_id: str
    fault_type: str
    root_entity_id: str
    start: datetime
    end: datetime | None
    series_ids: frozenset[int]


def stage_with(series: list[Series]) -> PredictiveBreach:
    stage = PredictiveBreach()
    stage.process(
        MetricBatch.of([s.id for s in series], [0] * len(series), [1.0] * len(series)),
        {s.id: s for s in series},
    )
    return stage


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def test_lead_time_recall_and_false_predictions() -> None:
    disk = Series(0, "disk_utilisation", {}, "node-1", "percent")
    other = Series(1, "disk_utilisation", {}, "node-2", "percent")
    stage = stage_with([disk, other])
    start = T0 + timedelta(hours=30)
    fault = Fault("f1", "disk_full", "node-1", start, start + timedelta(hours=1), frozenset({0}))
    breach = start + timedelta(minutes=20)
    above = {0: np.array([ms(breach), ms(breach) + 60_000])}
    preds = [
        Prediction(0, "node-1", start + timedelta(minutes=5), 900.0, 86400.0),  # lead 15 min
        Prediction(1, "node-2", start, 3600.0, 86400.0),  # no fault on node-2: false
    ]
    summary, items = score([fault], preds, stage, above, days=2.0, ready_ms=ms(start))
    assert summary["forecast_recall_disk_full"] == 1.0
    assert summary["faults_after_warmup_disk_full"] == 1.0
    assert summary["forecast_recall_after_warmup_disk_full"] == 1.0
    assert summary["lead_time_median_s_disk_full"] == 900.0
    assert summary["false_predictions"] == 1.0
    assert summary["false_predictions_per_day"] == 0.5
    assert items[0]["breached"] is True


def test_prediction_after_the_breach_does_not_count() -> None:
    disk = Series(0, "disk_utilisation", {}, "node-1", "percent")
    stage = stage_with([disk])
    start = T0 + timedelta(hours=30)
    fault = Fault("f1", "disk_full", "node-1", start, None, frozenset({0}))
    above = {0: np.array([ms(start + timedelta(minutes=10))])}
    preds = [Prediction(0, "node-1", start + timedelta(minutes=30), 60.0, 86400.0)]
    summary, _ = score([fault], preds, stage, above, days=1.0)
    assert summary["forecast_recall_disk_full"] == 0.0
    assert summary["false_predictions"] == 0.0  # during the fault: not false, only late


def test_quick_run_reports_the_issue_metrics() -> None:
    report = run(BenchOptions(quick=True), NullProgress())
    assert report.suite == "forecast"
    for key in (
        "forecast_recall_capacity_congestion",
        "lead_time_median_s_disk_full",
        "false_predictions_per_day",
    ):
        assert key in report.summary
    assert report.summary["capacity_series"] > 0


def test_forecast_cost_measures_ticks_batches_and_state() -> None:
    cost = measure(300, hours=0.25)
    assert cost.series == 300
    assert cost.batch_s > 0.0
    assert cost.tick_s > 0.0
    assert 0 < cost.state_bytes < 300 * 8_000  # a few KB per series, not two days of samples
