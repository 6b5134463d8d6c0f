"""HDFS suite: splitting, metrics, and a run on the real DeepLog-format sessions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nocwise.bench.hdfs import metrics, read_sessions, run, split_normal, take
from nocwise.bench.options import BenchOptions
from nocwise.bench.report import NullProgress
from nocwise.detect.logs.events import LogEvents
from nocwise.detect.logs.sequence import SequenceDetector


def sessions(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    flat = np.array([x for r in rows for x in r], dtype=np.int64)
    return flat, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def test_read_sessions_handles_trailing_spaces_and_no_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "s"
    path.write_text("5 5 22 \n11 9 ")
    flat, offsets = read_sessions(path)
    assert flat.tolist() == [5, 5, 22, 11, 9]
    assert offsets.tolist() == [0, 3, 5]


def test_take_returns_the_chosen_sessions_in_order() -> None:
    flat, offsets = take(sessions([[1], [2, 3], [4, 5, 6]]), np.array([2, 0]))
    assert flat.tolist() == [4, 5, 6, 1]
    assert offsets.tolist() == [0, 3, 4]


def test_split_is_seeded_and_disjoint() -> None:
    data = sessions([[i, i] for i in range(10)])
    (a, _), (b, _) = split_normal(data, seed=3)
    (c, _), _ = split_normal(data, seed=3)
    assert a.tolist() == c.tolist()
    assert set(a.tolist()).isdisjoint(b.tolist())
    assert len(a) + len(b) == 20


def test_metrics_count_sessions() -> None:
    m = metrics(np.array([True, False, False, False]), np.array([True, True, False]))
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    assert m["fpr"] == pytest.approx(0.25)
    assert m["f1_deeplog_ratio"] < m["f1"]


def test_sequence_model_on_a_slice_of_hdfs(shared_data: Path) -> None:
    normal = read_sessions(shared_data / "hdfs" / "hdfs_train")
    abnormal = read_sessions(shared_data / "hdfs" / "hdfs_test_abnormal")
    train, test = split_normal(take(normal, np.arange(1000)), seed=0)
    det = SequenceDetector()
    det.fit_sessions(*train)
    flagged_normal = det.score_sessions(*test).is_anomaly.mean()
    flagged_abnormal = det.score_sessions(*take(abnormal, np.arange(2000))).is_anomaly.mean()
    assert flagged_normal < 0.05
    assert flagged_abnormal > 0.9


def test_streaming_interleaved_sessions_flags_the_same_sessions(shared_data: Path) -> None:
    normal = read_sessions(shared_data / "hdfs" / "hdfs_train")
    abnormal = read_sessions(shared_data / "hdfs" / "hdfs_test_abnormal")
    train, test = split_normal(take(normal, np.arange(1000)), seed=1)
    det = SequenceDetector()
    det.fit_sessions(*train)
    flat = np.concatenate([test[0], take(abnormal, np.arange(700))[0]])
    lengths = np.concatenate([np.diff(test[1]), np.diff(take(abnormal, np.arange(700))[1])])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    expected = det.score_sessions(flat, offsets).is_anomaly

    # every session is one entity, all open at once, lines interleaved round-robin by position
    session = np.repeat(np.arange(lengths.size), lengths)
    position = np.arange(flat.size) - offsets[session]
    order = np.lexsort((session, position))
    events = LogEvents.of(np.arange(flat.size), session[order], flat[order], np.full(flat.size, 6))
    names = [f"blk_{i}" for i in range(lengths.size)]
    flagged: set[str] = set()
    for lo in range(0, len(events), 997):
        part = slice(lo, lo + 997)
        batch = LogEvents(
            events.ts_ms[part], events.entity[part], events.template[part],
            events.severity[part], entity_names=names,
        )  # fmt: skip
        flagged |= {a.entity_id for a in det.process(batch, learn=False)}
    ends = det.end_sessions(np.arange(lengths.size), int(flat.size), learn=False)
    flagged |= {a.entity_id for a in ends}
    assert flagged == {names[i] for i in np.flatnonzero(expected)}
    assert 0 < len(flagged) < lengths.size


def test_suite_reports_the_issue_metrics_and_meets_the_target(
    shared_data: Path, tmp_path: Path
) -> None:
    options = BenchOptions(data=shared_data / "hdfs", seed=0, scores_out=tmp_path)
    report = run(options, NullProgress())
    for name in (
        "precision",
        "recall",
        "f1",
        "train_sessions",
        "test_normal",
        "test_abnormal",
        "seconds",
    ):
        assert name in report.summary
    assert report.summary["train_sessions"] + report.summary["test_normal"] == 4855
    assert report.summary["test_abnormal"] == 16838
    assert report.summary["f1"] >= 0.95
    assert set(report.peers) == {"deeplog_ngram", "pca"}
    assert [i["set"] for i in report.items] == ["test_normal", "test_abnormal"]
    scores = (tmp_path / "hdfs_scores.csv").read_text().splitlines()
    assert len(scores) == 1 + 2428 + 16838


def test_suite_needs_data() -> None:
    with pytest.raises(ValueError, match="--data"):
        run(BenchOptions(), NullProgress())
