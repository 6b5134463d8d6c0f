"""Loghub bench: metrics, the speed stream, and a quick run on the shared data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nocwise.bench.loghub import (
    grouping_accuracy,
    normalise_template,
    parsing_accuracy,
    run,
    speed_stream,
)
from nocwise.bench.options import BenchOptions
from nocwise.bench.report import NullProgress


def test_grouping_accuracy_needs_exact_groups() -> None:
    assert grouping_accuracy([0, 0, 1, 1], ["a", "a", "b", "b"]) == 1.0
    assert grouping_accuracy([0, 0, 0, 1], ["a", "a", "b", "b"]) == 0.0
    assert grouping_accuracy([5, 5, 7, 9], ["a", "a", "b", "b"]) == 0.5
    assert np.isnan(grouping_accuracy([], []))


def test_parsing_accuracy_normalises_placeholders() -> None:
    assert normalise_template("x <NUM><:IP:> <*>  y") == "x <*> <*> y"
    assert normalise_template("HPC <ok> state") == "HPC <ok> state"
    assert parsing_accuracy(["a <IP>", "b"], ["a <*>", "c"]) == 0.5


def test_speed_stream_is_seeded_and_only_changes_digits() -> None:
    lines = ["port 22 up", "état 7 ok", "no digits"]
    a = speed_stream(lines, 10, seed=1)
    assert len(a) == 12
    assert a == speed_stream(lines, 10, seed=1)
    assert a != speed_stream(lines, 10, seed=2)
    for got, src in zip(a, lines * 4, strict=True):
        assert len(got) == len(src)
        assert all(g == s or (g.isdigit() and s.isdigit()) for g, s in zip(got, src, strict=True))
    assert speed_stream([], 10, seed=0) == []


def test_run_needs_data() -> None:
    with pytest.raises(ValueError, match="--data"):
        run(BenchOptions(), NullProgress())


def test_quick_run_on_shared_data(shared_data: Path) -> None:
    report = run(
        BenchOptions(data=shared_data / "loghub2k", quick=True, corrected=True), NullProgress()
    )
    assert set(report.summary) == {"ga_mean", "ga_min", "pa_mean", "lines_per_s_median"}
    assert set(report.peers) == {"drain3", "drain3_masked"}
    assert len(report.items) == 3
    row = report.items[0]
    for key in ("ga", "pa", "lines_per_s", "drain3_ga", "drain3_masked_lines_per_s"):
        assert key in row
    assert 0.0 <= report.summary["ga_min"] <= report.summary["ga_mean"] <= 1.0
