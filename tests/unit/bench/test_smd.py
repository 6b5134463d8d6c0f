"""The smd suite: layout reading, label conventions, metrics and a run on small entities."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nocwise.bench import smd
from nocwise.bench.options import BenchOptions
from nocwise.bench.report import NullProgress

METRICS = {"f1_own", "f1_best", "f1_pa", "auc_pr", "roc_auc", "hitrate_100", "hitrate_150"}


def write_entity(root: Path, name: str, seed: int, *, inclusive: bool, gz: bool) -> None:
    """A small entity in the SMD layout: 4 correlated KPIs, one break on KPIs 2 and 3."""
    rng = np.random.default_rng(seed)
    n = 1500
    load = np.sin(np.arange(2 * n) / 50) + 0.2 * rng.normal(size=2 * n)
    x = np.column_stack([load, 0.5 * load, -load, 0.3 * rng.normal(size=2 * n)])
    x += 0.05 * rng.normal(size=x.shape)
    train, test = x[:n], x[n:].copy()
    test[800:900, 1] = -test[800:900, 1]
    test[800:900, 2] += 1.5
    labels = np.zeros(n, dtype=int)
    labels[800:900] = 1
    for sub in ("train", "test", "test_label", "interpretation_label"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for sub, arr in (("train", train), ("test", test)):
        text = "\n".join(",".join(f"{v:.6f}" for v in row) for row in arr) + "\n"
        if gz:
            with gzip.open(root / sub / f"{name}.txt.gz", "wt") as fh:
                fh.write(text)
        else:
            (root / sub / f"{name}.txt").write_text(text)
    (root / "test_label" / f"{name}.txt").write_text("\n".join(map(str, labels)) + "\n")
    end = 899 if inclusive else 900
    (root / "interpretation_label" / f"{name}.txt").write_text(f"800-{end}:2,3\n")


@pytest.mark.parametrize("inclusive", [False, True])
def test_run_on_small_entities(tmp_path: Path, inclusive: bool) -> None:
    write_entity(tmp_path, "box-1", 0, inclusive=inclusive, gz=True)
    write_entity(tmp_path, "box-2", 1, inclusive=inclusive, gz=False)
    out = tmp_path / "scores"
    report = smd.run(BenchOptions(data=tmp_path, scores_out=out), NullProgress())
    assert report.suite == "smd"
    assert report.config["interpretation_end"] == ("inclusive" if inclusive else "exclusive")
    assert set(report.summary) == METRICS
    assert set(report.peers) == {"pca", "iforest"}
    assert METRICS - {"hitrate_100", "hitrate_150"} <= set(report.peers["iforest"])
    assert [row["entity"] for row in report.items] == ["box-1", "box-2"]
    assert report.summary["roc_auc"] > 0.9
    assert report.summary["hitrate_100"] > 0.5
    assert (out / "box-1.csv").read_text().startswith("score,label\n")
    assert report.to_json()["summary"]["f1_best"] == report.summary["f1_best"]


def test_run_on_one_real_entity(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "asd"
    if not (src / "test_label" / "omi-2.txt").is_file():
        pytest.skip("ASD data not present")
    for sub in ("train", "test", "test_label", "interpretation_label"):
        (tmp_path / sub).mkdir()
        shutil.copy(src / sub / "omi-2.txt", tmp_path / sub / "omi-2.txt")
    report = smd.run(BenchOptions(data=tmp_path), NullProgress())
    (row,) = report.items
    assert row["kpis"] == 19
    assert row["test_rows"] == 4320
    assert report.config["interpretation_end"] == "inclusive"
    assert report.summary["auc_pr"] > report.peers["iforest"]["auc_pr"]
    assert 0.0 <= report.summary["hitrate_100"] <= report.summary["hitrate_150"] <= 1.0


def test_missing_data_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--data"):
        smd.run(BenchOptions(), NullProgress())
    with pytest.raises(FileNotFoundError, match="test_label"):
        smd.run(BenchOptions(data=tmp_path), NullProgress())


@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**6),
            st.integers(0, 10**4),
            st.lists(st.integers(1, 99), min_size=1, max_size=6),
        ),
        max_size=8,
    )
)
def test_interpretation_lines_round_trip(lines: list[tuple[int, int, list[int]]]) -> None:
    text = "".join(f"{s}-{s + d}:{','.join(map(str, k))}\n" for s, d, k in lines)
    parsed = list(smd.parse_interpretation(text))
    assert parsed == [(s, s + d, tuple(k)) for s, d, k in lines]


@given(st.text(max_size=40))
def test_interpretation_parser_accepts_or_raises_value_error(text: str) -> None:
    try:
        rows = list(smd.parse_interpretation(text))
    except ValueError:
        return
    assert all(start <= end and kpis for start, end, kpis in rows)


@pytest.mark.parametrize("line", ["10-5:1", "a-b:1", "1-2", "1-2:", "1-2:x"])
def test_bad_interpretation_lines_raise(line: str) -> None:
    with pytest.raises(ValueError, match="line 1"):
        list(smd.parse_interpretation(line))


def test_to_segment_reads_both_conventions() -> None:
    assert smd.to_segment(5, 9, (1, 40), inclusive=False, n_kpis=38) == smd.Segment(5, 9, (0,))
    assert smd.to_segment(5, 9, (2, 1), inclusive=True, n_kpis=38) == smd.Segment(5, 10, (0, 1))


def test_metrics_on_a_known_case() -> None:
    labels = np.array([0, 0, 1, 1, 1, 0, 0, 0], dtype=np.int8)
    scores = np.array([0.1, 0.2, 0.9, 0.1, 0.1, 0.3, 0.0, 0.0])
    assert smd.best_f1(labels, scores) == pytest.approx(2 / 3)  # all three, three false
    assert smd.best_f1(labels, smd.point_adjust(labels, scores)) == pytest.approx(1.0)
    contrib = np.tile([0.0, 1.0, 2.0], (8, 1))
    seg = [smd.Segment(2, 5, (2,))]
    assert smd.hit_rate(contrib, labels, seg, 1.0) == 1.0
    assert smd.hit_rate(contrib, labels, [smd.Segment(2, 5, (0,))], 1.5) == 0.0
    assert np.isnan(smd.hit_rate(contrib, labels, [], 1.0))
    assert smd.f1_score(labels, scores > 0.5) == pytest.approx(0.5)
