"""HDFS block sessions (DeepLog format): precision, recall and F1 of the sequence detector.

Data: ``DIR/hdfs_train`` (4,855 normal block sessions) and ``DIR/hdfs_test_abnormal`` (16,838
anomalous ones), one session per line as template ids (Du et al., CCS 2017; logs from Xu et al.,
SOSP 2009, via Loghub). DeepLog's normal test file is not available, so a seeded half of
``hdfs_train`` (``--seed``) is held out as the normal test set; every model learns from the other
half only and chooses its thresholds from that half alone. The abnormal sessions are all tested.

A session counts as flagged when the model alarms anywhere in it (positive = anomalous).

- ``nocwise``: :class:`~nocwise.detect.logs.sequence.SequenceDetector` with its default config.
- ``deeplog_ngram``: DeepLog's decision rule over counts instead of an LSTM: the next template
  must be among the top ``g = 9`` seen after the last ``h = 10`` templates (backing off to the
  longest context seen in training); sessions are padded at both ends as nocwise's are.
- ``pca``: Xu et al.'s PCA over session count vectors (zero-mean, components up to 95 % of the
  variance, squared prediction error against the Q-statistic at alpha = 0.001).

Because the abnormal sessions outnumber the held-out normal ones seven to one, precision here
is far kinder than in DeepLog's setting (553,366 normal test sessions); ``f1_deeplog_ratio``
re-weights the false positives to that ratio to show what the same false-alarm rate would cost.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nocwise.bench.options import BenchOptions
from nocwise.bench.report import BenchReport, Progress, now_utc
from nocwise.detect.logs.ngram import NgramTable
from nocwise.detect.logs.sequence import SequenceConfig, SequenceDetector, session_transitions

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Sessions = tuple[IntArray, IntArray]  # (flat template ids, offsets)

#: Normal test sessions in DeepLog's HDFS split, for the re-weighted F1.
DEEPLOG_TEST_NORMAL = 553_366
DEEPLOG_H, DEEPLOG_G = 10, 9
PCA_VARIANCE, PCA_C_ALPHA = 0.95, 3.2905  # c_alpha is the normal quantile for alpha = 0.001


def read_sessions(path: Path) -> Sessions:
    """One session per line, ids separated by spaces (trailing space and no final newline)."""
    rows = [np.array(line.split(), dtype=np.int64) for line in path.read_text().splitlines()]
    rows = [r for r in rows if r.size]
    lengths = np.array([r.size for r in rows], dtype=np.int64)
    flat = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    return flat, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def take(sessions: Sessions, index: IntArray) -> Sessions:
    """The sessions at ``index``, in that order."""
    flat, offsets = sessions
    lengths = np.diff(offsets)[index]
    starts = offsets[:-1][index]
    pos = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    flat_out = flat[pos + np.arange(lengths.sum())]
    return flat_out, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def split_normal(sessions: Sessions, seed: int) -> tuple[Sessions, Sessions]:
    """A seeded half of the sessions to train on and the other half to test."""
    n = sessions[1].shape[0] - 1
    perm = np.random.default_rng(seed).permutation(n)
    return take(sessions, np.sort(perm[: n // 2])), take(sessions, np.sort(perm[n // 2 :]))


def metrics(flag_normal: BoolArray, flag_abnormal: BoolArray) -> dict[str, float]:
    """Precision, recall, F1, false-positive rate and F1 at DeepLog's normal/abnormal ratio."""
    fp, tp = float(flag_normal.sum()), float(flag_abnormal.sum())
    fn = flag_abnormal.size - tp
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / flag_abnormal.size if flag_abnormal.size else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    fpr = fp / flag_normal.size if flag_normal.size else float("nan")
    fp_scaled = fpr * DEEPLOG_TEST_NORMAL
    f1_ratio = 2 * tp / (2 * tp + fp_scaled + fn) if tp else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "fpr": fpr,
        "f1_deeplog_ratio": f1_ratio,
        "false_positives": fp,
        "false_negatives": fn,
    }


def deeplog_ngram(train: Sessions, tests: list[Sessions]) -> list[BoolArray]:
    """DeepLog's top-g rule on an n-gram table: flag a session with any next template outside it."""
    table = NgramTable.empty(DEEPLOG_H + 1)
    context, target, _ = session_transitions(*train, DEEPLOG_H + 1)
    table = table.learn(context, target)
    out = []
    for flat, offsets in tests:
        context, target, session = session_transitions(flat, offsets, DEEPLOG_H + 1)
        bad = table.rank(context, target) >= DEEPLOG_G
        flags = np.zeros(offsets.shape[0] - 1, dtype=bool)
        np.logical_or.at(flags, session, bad)
        out.append(flags)
    return out


def _count_matrix(sessions: Sessions, vocab: IntArray) -> npt.NDArray[np.float64]:
    flat, offsets = sessions
    col = np.searchsorted(vocab, flat)
    col_c = np.minimum(col, vocab.shape[0] - 1)
    col = np.where(vocab[col_c] == flat, col, vocab.shape[0])  # unseen ids share one column
    row = np.repeat(np.arange(offsets.shape[0] - 1), np.diff(offsets))
    out = np.zeros((offsets.shape[0] - 1, vocab.shape[0] + 1))
    np.add.at(out, (row, col), 1.0)
    return out


def pca_spe(train: Sessions, tests: list[Sessions]) -> list[BoolArray]:
    """Xu et al.'s PCA detector: residual energy outside the normal subspace vs the Q-statistic."""
    vocab = np.unique(train[0])
    x = _count_matrix(train, vocab)
    mean = x.mean(axis=0)
    _, sing, vt = np.linalg.svd(x - mean, full_matrices=False)
    var = sing**2 / max(x.shape[0] - 1, 1)
    k = int(np.searchsorted(np.cumsum(var) / var.sum(), PCA_VARIANCE) + 1)
    residual_projection = np.eye(x.shape[1]) - vt[:k].T @ vt[:k]
    lam = var[k:]
    phi = [float((lam**i).sum()) for i in (1, 2, 3)]
    h0 = 1.0 - 2.0 * phi[0] * phi[2] / (3.0 * phi[1] ** 2)
    q = phi[0] * (
        PCA_C_ALPHA * np.sqrt(2 * phi[1] * h0**2) / phi[0]
        + 1.0
        + phi[1] * h0 * (h0 - 1.0) / phi[0] ** 2
    ) ** (1.0 / h0)
    out = []
    for test in tests:
        r = (_count_matrix(test, vocab) - mean) @ residual_projection
        out.append((r**2).sum(axis=1) > q)
    return out


def run(options: BenchOptions, progress: Progress) -> BenchReport:
    """Train on a seeded half of the normal sessions, test on the other half and all abnormal."""
    if options.data is None:
        raise ValueError(
            "the hdfs suite needs --data DIR holding hdfs_train and hdfs_test_abnormal"
        )
    started = now_utc()
    normal = read_sessions(options.data / "hdfs_train")
    abnormal = read_sessions(options.data / "hdfs_test_abnormal")
    train, test_normal = split_normal(normal, options.seed)
    config = SequenceConfig()
    progress.start("hdfs", 3 if options.peers else 1)

    t0 = time.perf_counter()
    detector = SequenceDetector(config)
    surprise_threshold, distance_threshold = detector.fit_sessions(*train)
    scores_normal = detector.score_sessions(*test_normal)
    scores_abnormal = detector.score_sessions(*abnormal)
    seconds = time.perf_counter() - t0
    progress.advance()

    sizes = {
        "train_sessions": float(train[1].shape[0] - 1),
        "test_normal": float(test_normal[1].shape[0] - 1),
        "test_abnormal": float(abnormal[1].shape[0] - 1),
    }
    summary = metrics(scores_normal.is_anomaly, scores_abnormal.is_anomaly)
    summary |= sizes | {"seconds": seconds}
    summary |= {"surprise_threshold": surprise_threshold, "distance_threshold": distance_threshold}

    peers: dict[str, dict[str, float]] = {}
    if options.peers:
        for name, model in (("deeplog_ngram", deeplog_ngram), ("pca", pca_spe)):
            t0 = time.perf_counter()
            flag_normal, flag_abnormal = model(train, [test_normal, abnormal])
            elapsed = time.perf_counter() - t0
            peers[name] = metrics(flag_normal, flag_abnormal) | sizes | {"seconds": elapsed}
            progress.advance()

    items: list[dict[str, Any]] = [
        {
            "set": name,
            "sessions": int(s.is_anomaly.size),
            "flagged": int(s.is_anomaly.sum()),
            "by_sequence": int((s.surprise > surprise_threshold).sum()),
            "by_counts": int((s.distance > distance_threshold).sum()),
            "with_unseen_templates": int((s.unseen > 0).sum()),
        }
        for name, s in (("test_normal", scores_normal), ("test_abnormal", scores_abnormal))
    ]
    if options.scores_out is not None:
        _write_scores(options.scores_out / "hdfs_scores.csv", scores_normal, scores_abnormal)
    return BenchReport(
        suite="hdfs",
        started=started,
        config={
            "data": str(options.data),
            "seed": options.seed,
            "split": "seeded 50 % of hdfs_train for training, the rest as the normal test set",
            "detector": config.model_dump(mode="json"),
            "deeplog_ngram": {"h": DEEPLOG_H, "g": DEEPLOG_G},
            "pca": {"variance": PCA_VARIANCE, "c_alpha": PCA_C_ALPHA},
            "deeplog_test_normal": DEEPLOG_TEST_NORMAL,
        },
        summary=summary,
        peers=peers,
        items=items,
    )


def _write_scores(path: Path, *sets: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["set", "session", "label", "surprise", "position", "distance", "unseen", "flagged"]
        )
        for name, label, s in zip(("test_normal", "test_abnormal"), (0, 1), sets, strict=True):
            for i in range(s.is_anomaly.size):
                w.writerow(
                    [
                        name,
                        i,
                        label,
                        s.surprise[i],
                        s.position[i],
                        s.distance[i],
                        s.unseen[i],
                        int(s.is_anomaly[i]),
                    ]
                )
