"""Capacity table: which metrics have a ceiling, at what level, with what horizon."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nocwise.detect.metrics.capacity import capacity_of


@pytest.mark.parametrize(
    ("metric", "unit", "threshold", "horizon"),
    [
        ("if_utilisation", "percent", 90.0, timedelta(days=3)),
        ("prb_utilisation", "percent", 90.0, timedelta(days=3)),
        ("disk_utilisation", "percent", 90.0, timedelta(hours=24)),
        ("disk_used_pct", "", 90.0, timedelta(hours=24)),
        ("memory_utilisation", "percent", 90.0, timedelta(hours=24)),
        ("cpu_utilisation", "percent", 90.0, timedelta(hours=6)),
        ("link_util", "ratio", 0.9, timedelta(days=3)),
        ("filesystem_used_ratio", "ratio", 0.9, timedelta(hours=24)),
    ],
)
def test_utilisation_metrics_have_a_ceiling(
    metric: str, unit: str, threshold: float, horizon: timedelta
) -> None:
    cap = capacity_of(metric, unit)
    assert cap is not None
    assert (cap.threshold, cap.horizon) == (threshold, horizon)


@pytest.mark.parametrize(
    ("metric", "unit"),
    [
        ("latency", "ms"),
        ("if_errors", "count/min"),
        ("optical_rx_power", "dBm"),
        ("rrc_setup_success", "percent"),
        ("if_utilisation", "bit/s"),
    ],
)
def test_other_metrics_have_none(metric: str, unit: str) -> None:
    assert capacity_of(metric, unit) is None
