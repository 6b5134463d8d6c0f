"""The list-latency probe stores the chain's state and times the real list endpoints."""

from __future__ import annotations

from nocwise.bench.list_latency import measure_lists
from nocwise.correlate.throughput import open_state


def test_list_latency_reports_percentiles_over_the_stored_state() -> None:
    alarms, incidents = open_state(400, seed=2)
    assert len(alarms) == 400
    assert incidents
    out = measure_lists(alarms, incidents, n_requests=40, seed=2)
    assert out["stored_alarms"] == 400
    assert out["stored_incidents"] == len(incidents)
    for kind in ("alarms", "incidents"):
        assert 0 < out[f"{kind}_p50_ms"] <= out[f"{kind}_p99_ms"] <= out[f"{kind}_max_ms"]
    assert out["checkpoint_s"] > 0
