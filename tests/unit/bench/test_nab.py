"""The NAB suite: streaming scores per row, peers, result files and the report shape."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nocwise.bench.nab import (
    category_scores,
    load_corpus,
    nocwise_scores,
    run,
    windowed_gaussian_scores,
)
from nocwise.bench.nab_scorer import PROFILES, ProfileResult, read_columns
from nocwise.bench.options import BenchOptions
from nocwise.bench.report import NullProgress
from nocwise.detect.metrics.ensemble import EnsembleConfig


def tiny_nab(root: Path) -> Path:
    """A two-file corpus in NAB's layout: one file with a level shift, one without."""
    rng = np.random.default_rng(0)
    ts = np.arange(np.datetime64("2020-01-01T00:00"), np.datetime64("2020-01-04T11:20"), 5)
    windows: dict[str, list[list[str]]] = {}
    for name, shift in (("shift.csv", True), ("calm.csv", False)):
        values = 10 + rng.normal(0, 1, ts.size)
        if shift:
            values[700:] += 15
        path = root / "data" / "synthetic" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{str(t).replace('T', ' ')}:00,{v:.4f}" for t, v in zip(ts, values, strict=True)]
        path.write_text("timestamp,value\n" + "\n".join(lines) + "\n")
        fmt = "{}:00.000000"
        windows[f"synthetic/{name}"] = (
            [
                [
                    fmt.format(str(ts[650]).replace("T", " ")),
                    fmt.format(str(ts[750]).replace("T", " ")),
                ]
            ]
            if shift
            else []
        )
    (root / "labels").mkdir()
    (root / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    return root


def test_every_row_gets_one_score_in_unit_interval(tmp_path: Path) -> None:
    corpus = load_corpus(tiny_nab(tmp_path))
    scores = nocwise_scores(corpus, EnsembleConfig(), gate_decay=0.995)
    for name, (_, values) in corpus.items():
        assert scores[name].shape == values.shape
        assert np.all((scores[name] >= 0.0) & (scores[name] <= 1.0))


def test_streaming_scores_do_not_depend_on_the_future(tmp_path: Path) -> None:
    corpus = load_corpus(tiny_nab(tmp_path))
    full = nocwise_scores(corpus, EnsembleConfig(), gate_decay=0.995)
    cut = {n: (ts[:500], v[:500]) for n, (ts, v) in corpus.items()}
    head = nocwise_scores(cut, EnsembleConfig(), gate_decay=0.995)
    for name in corpus:
        assert np.array_equal(full[name][:500], head[name])


def test_windowed_gaussian_flags_the_shift(tmp_path: Path) -> None:
    corpus = load_corpus(tiny_nab(tmp_path))
    scores = windowed_gaussian_scores(corpus)["synthetic/shift.csv"]
    assert scores[700] > 0.999
    assert np.median(scores[100:600]) < 0.9


def test_run_reports_scores_for_nocwise_and_peers_and_writes_result_files(
    tmp_path: Path,
) -> None:
    root = tiny_nab(tmp_path / "nab")
    out = tmp_path / "scores"
    report = run(BenchOptions(data=root, scores_out=out), NullProgress())
    for summary in (report.summary, *report.peers.values()):
        assert {"nab_standard", "nab_low_fp", "nab_low_fn", "samples_per_s"} <= summary.keys()
        # one category with a window: its score is the corpus score (the calm file adds
        # its false positives to both)
        assert summary["nab_standard_synthetic"] == pytest.approx(summary["nab_standard"])
    assert set(report.peers) == {"windowed_gaussian", "river_hst"}
    assert len(report.items) == 2
    header, *_ = (out / "nocwise" / "synthetic" / "nocwise_shift.csv").read_text().splitlines()
    assert header == "timestamp,value,anomaly_score,label"
    (labels,) = read_columns(out / "nocwise" / "synthetic" / "nocwise_shift.csv", ["label"])
    assert labels.count("1") == 101
    assert report.summary["nab_standard"] > 50.0


def test_quick_run_keeps_one_file_per_category(tmp_path: Path) -> None:
    root = tiny_nab(tmp_path / "nab")
    report = run(BenchOptions(data=root, quick=True, peers=False), NullProgress())
    assert [item["file"] for item in report.items] == ["synthetic/calm.csv"]
    assert report.peers == {}


def test_category_scores_normalise_each_category_over_its_own_windows() -> None:
    per_file = {"a/x.csv": 0.8, "a/y.csv": -1.0, "b/z.csv": -0.22}
    windows = {"a/x.csv": [("s", "e")], "a/y.csv": [("s", "e")], "b/z.csv": []}
    results = {
        p.name: ProfileResult(p.name, 0.5, sum(per_file.values()), 0.0, per_file) for p in PROFILES
    }
    # category a: raw -0.2 over 2 windows, between null -2 and perfect 2; b has no window
    assert category_scores(results, windows) == {"nab_standard_a": pytest.approx(45.0)}


def test_kernels_are_compiled_before_the_timed_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """samples/s measures the detector, not numba's first compilation: one short call on a
    slice of the first file comes before the timed, full run."""
    import nocwise.bench.nab as nab

    calls: list[int] = []
    real = nab.nocwise_scores

    def counting(corpus, config, gate_decay):  # type: ignore[no-untyped-def]
        calls.append(sum(len(v) for _, v in corpus.values()))
        return real(corpus, config, gate_decay)

    monkeypatch.setattr(nab, "nocwise_scores", counting)
    root = tiny_nab(tmp_path)
    run(BenchOptions(data=root, peers=False), NullProgress())
    total = sum(len(v) for _, v in load_corpus(root).values())
    assert calls == [500, total]
