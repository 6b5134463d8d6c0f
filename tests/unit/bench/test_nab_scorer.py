"""The NAB scorer gives NAB's published scoreboard from the published result files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nocwise.bench.nab_scorer import (
    PROFILES,
    FileSweep,
    load_thresholds,
    load_windows,
    probation_length,
    read_columns,
    scaled_sigmoid,
    score_all,
    score_corpus,
    sweep_file,
    sweep_results,
    write_result_file,
)

PUBLISHED = {
    "ARTime": (74.85, 65.15, 80.36),
    "numenta": (70.10, 63.12, 74.32),
}


@pytest.mark.parametrize("detector", ["ARTime", "numenta"])
def test_reproduces_published_scores_from_result_files(shared_data: Path, detector: str) -> None:
    root = shared_data / "nab"
    sweeps = sweep_results(root, root / "results" / detector, detector, load_windows(root))
    results = score_all(sweeps, load_thresholds(root, detector))
    got = tuple(round(results[p.name].normalized, 2) for p in PROFILES)
    assert got == PUBLISHED[detector]


def test_optimised_threshold_is_never_worse_than_the_stored_one(shared_data: Path) -> None:
    root = shared_data / "nab"
    sweeps = sweep_results(root, root / "results" / "numenta", "numenta", load_windows(root))
    stored = load_thresholds(root, "numenta")
    for p in PROFILES:
        assert score_corpus(sweeps, p).raw >= score_corpus(sweeps, p, stored[p.name]).raw - 1e-9


def test_probation_is_fifteen_percent_capped_at_750_rows() -> None:
    assert probation_length(1000) == 150
    assert probation_length(22695) == 750


def test_scaled_sigmoid_rewards_early_detection_and_floors_far_false_positives() -> None:
    vals = scaled_sigmoid(np.array([-1.0, -0.5, 0.0, 3.5]))
    assert vals[0] > vals[1] > vals[2] == 0.0
    assert vals[3] == -1.0


def _toy(score: list[float]) -> FileSweep:
    ts = np.arange(np.datetime64("2020-01-01T00:00"), np.datetime64("2020-01-01T01:40"), 5)
    ts = ts.astype("datetime64[s]")[:20]
    return sweep_file("toy.csv", ts, np.array(score), [(str(ts[10]), str(ts[13]))])


def test_null_detector_scores_zero_and_perfect_early_detection_scores_near_100() -> None:
    null = _toy([0.5] * 20)
    early = _toy([0.0] * 10 + [1.0] + [0.0] * 9)
    for p in PROFILES:
        assert score_corpus([null], p, 0.6).normalized == pytest.approx(0.0)
        assert score_corpus([early], p).normalized == pytest.approx(100.0, abs=1.0)


def test_a_false_positive_far_from_any_window_costs_the_fp_weight() -> None:
    fp_only = _toy([0.0] * 5 + [1.0] + [0.0] * 14)
    standard = PROFILES[0]
    assert score_corpus([fp_only], standard, 1.0).raw == pytest.approx(-1.0 - standard.fp_weight)


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(
        st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False), min_size=1, max_size=40
    ),
    scores=st.data(),
)
def test_result_files_round_trip_through_the_reader(
    tmp_path_factory: pytest.TempPathFactory, values: list[float], scores: st.DataObject
) -> None:
    n = len(values)
    ts = np.datetime64("2021-03-01T00:00:00") + np.arange(n) * np.timedelta64(300, "s")
    score = np.array(scores.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    windows = [(str(ts[n // 2]).replace("T", " "), str(ts[-1]).replace("T", " "))]
    path = tmp_path_factory.mktemp("nab") / "cat" / "det_file.csv"
    write_result_file(path, ts.astype("datetime64[s]"), np.array(values), score, windows)
    ts_text, value_text, score_text, label_text = read_columns(
        path, ["timestamp", "value", "anomaly_score", "label"]
    )
    assert np.array_equal(np.array(ts_text, dtype="datetime64[s]"), ts)
    assert [float(v) for v in value_text] == values
    assert np.allclose(np.array(score_text, dtype=float), score, atol=5e-7)
    assert [int(x) for x in label_text] == [int(i >= n // 2) for i in range(n)]


@given(st.lists(st.floats(0, 1), min_size=20, max_size=200), st.integers(0, 19))
def test_sweep_keeps_post_probation_rows_and_window_membership(
    score: list[float], start: int
) -> None:
    n = len(score)
    ts = (np.datetime64("2021-03-01T00:00") + np.arange(n) * np.timedelta64(5, "m")).astype(
        "datetime64[s]"
    )
    end = min(n - 1, start + 5)
    sweep = sweep_file("f.csv", ts, np.array(score), [(str(ts[start]), str(ts[end]))])
    p = probation_length(n)
    assert sweep.score.size == n - p
    assert np.all(np.isin(sweep.window, [-1, 0]))
    assert int((sweep.window == 0).sum()) == max(0, end + 1 - max(start, p))
    assert np.all(sweep.unweighted[sweep.window == 0] > 0)
    assert np.all(sweep.unweighted[sweep.window < 0] <= 0)
