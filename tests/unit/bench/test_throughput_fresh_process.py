"""The correlation part measures its memory in a fresh interpreter, not beside earlier parts."""

from __future__ import annotations

import resource

from nocwise.bench.throughput import _in_fresh_process
from nocwise.correlate.throughput import measure


def test_the_correlation_measurement_runs_in_a_fresh_interpreter() -> None:
    ballast = bytearray(300 * 2**20)  # this process now holds 300 MB more than a fresh one
    ballast[:: 2**12] = b"x" * len(ballast[:: 2**12])  # touch every page
    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = _in_fresh_process(measure, 100, 200, 0)
    assert row["cpu_alarms_per_s"] > 0
    assert row["rss_mb"] < own_mb - 200
    del ballast
