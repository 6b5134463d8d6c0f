"""The throughput microbenchmark reports what a later suite reads."""

from __future__ import annotations

from nocwise.detect.metrics.throughput import measure_throughput


def test_measure_throughput_reports_rate_and_state_size() -> None:
    out = measure_throughput(n_series=1000, steps=5, warmup_steps=30)
    assert out["samples_per_s"] > 0
    assert out["samples_per_s_wall"] > 0
    assert out["state_bytes"] > 0
    assert out["state_bytes_per_series"] == out["state_bytes"] / 1000
    assert out["page_faults_per_sample"] >= 0.0


def test_default_warmup_reaches_the_steady_state_of_every_member() -> None:
    out = measure_throughput(n_series=50, steps=2)
    assert out["calibrated"] == 1.0


def test_shuffled_batches_reach_the_same_steady_state() -> None:
    out = measure_throughput(n_series=50, steps=2, shuffled=True)
    assert out["calibrated"] == 1.0
    assert out["samples_per_s"] > 0
