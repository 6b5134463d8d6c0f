"""The Numenta Anomaly Benchmark scorer, reimplemented to give NAB's own numbers.

NAB (Lavin & Ahmad 2015; Ahmad et al. 2017, doi:10.1016/j.neucom.2017.04.070) scores a
streaming detector that writes one anomaly score per row. A row is a detection when its score
is at or above a threshold. Each labelled window counts once: its earliest detection earns
``tpWeight`` times a scaled sigmoid of the position in the window (early is worth more),
an undetected window costs ``fnWeight``; every detection outside a window costs ``fpWeight``
times a sigmoid of its distance past the preceding window (a full point when far away or
before any window). The first 15 % of each file (at most 750 rows) is a probationary period
and is not scored. The threshold is chosen per cost profile to maximise the corpus total, and
the total is normalised so that the null detector scores 0 and a perfect one 100.

This module is independent of any detector: it reads NAB data, labels and result files.
It reproduces ``final_results.json`` (ARTime, Numenta HTM) to floating-point precision.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from numba import njit

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PROBATION_PERCENT = 0.15


@dataclass(frozen=True, slots=True)
class CostProfile:
    """One of NAB's application profiles (config/profiles.json)."""

    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


PROFILES: tuple[CostProfile, ...] = (
    CostProfile("standard", 1.0, 0.11, 1.0),
    CostProfile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    CostProfile("reward_low_FN_rate", 1.0, 0.11, 2.0),
)


@dataclass(frozen=True, slots=True)
class FileSweep:
    """The scored rows of one file (after probation): score, unweighted sweep value, window.

    ``window`` is the index of the window the row lies in, or -1; ``n_windows`` counts the
    file's windows.
    """

    name: str
    score: FloatArray
    unweighted: FloatArray
    window: IntArray
    n_windows: int


@dataclass(frozen=True, slots=True)
class ProfileResult:
    """The corpus result for one profile: threshold, raw total, normalised score, per file."""

    profile: str
    threshold: float
    raw: float
    normalized: float
    per_file: dict[str, float]


def probation_length(n_rows: int, percent: float = PROBATION_PERCENT) -> int:
    """NAB's probationary period: 15 % of the rows, capped at 15 % of 5000."""
    return int(min(math.floor(percent * n_rows), percent * 5000))


def scaled_sigmoid(position: FloatArray) -> FloatArray:
    """NAB's sweep value: 2·sigmoid(-5x) - 1, and -1 beyond three window widths."""
    with np.errstate(over="ignore"):
        val = 2.0 / (1.0 + np.exp(5.0 * position)) - 1.0
    return np.where(position > 3.0, -1.0, val)


def window_index(ts: npt.NDArray[np.datetime64], windows: list[tuple[str, str]]) -> IntArray:
    """Row -> index of the labelled window it lies in, or -1 (window ends are inclusive)."""
    out = np.full(ts.shape[0], -1, dtype=np.int64)
    for k, (start, end) in enumerate(windows):
        a = int(np.searchsorted(ts, np.datetime64(start), side="left"))
        b = int(np.searchsorted(ts, np.datetime64(end), side="right"))
        out[a:b] = k
    return out


def sweep_file(
    name: str, ts: npt.NDArray[np.datetime64], score: FloatArray, windows: list[tuple[str, str]]
) -> FileSweep:
    """Per-row sweep values as NAB's ``Sweeper.calcSweepScore`` computes them."""
    n = ts.shape[0]
    idx = np.arange(n, dtype=np.float64)
    win = window_index(ts, windows)
    unweighted = np.full(n, -1.0)
    prev_right = np.full(n, np.nan)
    prev_width = np.full(n, np.nan)
    for k in range(len(windows)):
        rows = np.flatnonzero(win == k)
        if rows.size == 0:
            continue
        left, right = rows[0], rows[-1]
        width = float(right - left + 1)
        unweighted[rows] = scaled_sigmoid(-(right - idx[rows] + 1.0) / width)
        prev_right[right + 1 :] = right
        prev_width[right + 1 :] = width
    outside = (win < 0) & ~np.isnan(prev_right)
    with np.errstate(divide="ignore", invalid="ignore"):
        past = np.abs(prev_right - idx) / (prev_width - 1.0)
    unweighted[outside] = scaled_sigmoid(past[outside])
    p = probation_length(n)
    return FileSweep(
        name,
        np.asarray(score[p:], dtype=np.float64),
        unweighted[p:],
        win[p:],
        len(windows),
    )


def _weighted(sweep: FileSweep, profile: CostProfile) -> FloatArray:
    max_tp = float(scaled_sigmoid(np.array([-1.0]))[0])
    inside = sweep.window >= 0
    return np.where(
        inside,
        sweep.unweighted * profile.tp_weight / max_tp,
        sweep.unweighted * profile.fp_weight,
    )


@njit(cache=True)
def _totals_by_threshold(
    sorted_score: FloatArray, weighted: FloatArray, window: IntArray, n_windows: int, fn: float
) -> tuple[FloatArray, FloatArray]:
    """Corpus total after admitting rows in descending score order, one entry per tie group."""
    best = np.full(n_windows, -fn)
    total = -fn * n_windows
    n = sorted_score.shape[0]
    thresholds = np.empty(n + 1)
    totals = np.empty(n + 1)
    thresholds[0] = 1.1
    totals[0] = total
    m = 1
    for i in range(n):
        w = window[i]
        if w < 0:
            total += weighted[i]
        elif weighted[i] > best[w]:
            total += weighted[i] - best[w]
            best[w] = weighted[i]
        if i == n - 1 or sorted_score[i + 1] != sorted_score[i]:
            thresholds[m] = sorted_score[i]
            totals[m] = total
            m += 1
    return thresholds[:m], totals[:m]


def _corpus_arrays(sweeps: list[FileSweep]) -> tuple[FloatArray, FloatArray, IntArray, int]:
    scores, unweighted, windows = [], [], []
    offset = 0
    for s in sweeps:
        scores.append(s.score)
        unweighted.append(s.unweighted)
        windows.append(np.where(s.window >= 0, s.window + offset, -1))
        offset += s.n_windows
    return np.concatenate(scores), np.concatenate(unweighted), np.concatenate(windows), offset


def file_score(sweep: FileSweep, profile: CostProfile, threshold: float) -> float:
    """The raw score of one file at a threshold (detection = score ≥ threshold)."""
    weighted = _weighted(sweep, profile)
    hit = sweep.score >= threshold
    total = float(weighted[hit & (sweep.window < 0)].sum())
    for k in range(sweep.n_windows):
        in_k = hit & (sweep.window == k)
        total += float(weighted[in_k].max()) if in_k.any() else -profile.fn_weight
    return total


def optimise_threshold(sweeps: list[FileSweep], profile: CostProfile) -> float:
    """The threshold that maximises the corpus total, searched over every distinct score.

    This is NAB's current ``optimizer.optimizeThreshold`` (an exhaustive sweep); ties go to
    the highest threshold.
    """
    score, unweighted, window, n_windows = _corpus_arrays(sweeps)
    max_tp = float(scaled_sigmoid(np.array([-1.0]))[0])
    weighted = np.where(
        window >= 0, unweighted * profile.tp_weight / max_tp, unweighted * profile.fp_weight
    )
    order = np.argsort(-score, kind="stable")
    thresholds, totals = _totals_by_threshold(
        score[order], weighted[order], window[order], n_windows, profile.fn_weight
    )
    return float(thresholds[int(np.argmax(totals))])


def score_corpus(
    sweeps: list[FileSweep], profile: CostProfile, threshold: float | None = None
) -> ProfileResult:
    """Score every file at ``threshold`` (optimised on the corpus when None) and normalise.

    NAB's ``run.py --score`` reads the threshold from ``config/thresholds.json``; some of those
    (Numenta HTM's) came from an older local optimiser, so pass them to reproduce its table.
    """
    if threshold is None:
        threshold = optimise_threshold(sweeps, profile)
    n_windows = sum(s.n_windows for s in sweeps)
    per_file = {s.name: file_score(s, profile, threshold) for s in sweeps}
    raw = float(sum(per_file.values()))
    null = -profile.fn_weight * n_windows
    perfect = profile.tp_weight * n_windows
    normalized = 100.0 * (raw - null) / (perfect - null) if perfect != null else 0.0
    return ProfileResult(profile.name, threshold, raw, normalized, per_file)


def score_all(
    sweeps: list[FileSweep], thresholds: Mapping[str, float] | None = None
) -> dict[str, ProfileResult]:
    """Results for the three NAB profiles, at given thresholds or optimised ones."""
    th = thresholds or {}
    return {p.name: score_corpus(sweeps, p, th.get(p.name)) for p in PROFILES}


# -- reading NAB's files ---------------------------------------------------------------------


def load_windows(data_root: Path) -> dict[str, list[tuple[str, str]]]:
    """``labels/combined_windows.json``: relative data path -> list of (start, end)."""
    raw = json.loads((data_root / "labels" / "combined_windows.json").read_text())
    return {k: [(str(a), str(b)) for a, b in v] for k, v in raw.items()}


def read_series(path: Path) -> tuple[npt.NDArray[np.datetime64], FloatArray]:
    """A NAB data file (``timestamp,value``) as timestamps and float values."""
    ts, values = read_columns(path, ("timestamp", "value"))
    return np.array(ts, dtype="datetime64[s]"), np.array(values, dtype=np.float64)


def read_columns(path: Path, names: Iterable[str]) -> tuple[list[str], ...]:
    """The named columns of a CSV file, as text."""
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        cols = [header.index(n) for n in names]
        rows = [r for r in reader if r]
    return tuple([r[c] for r in rows] for c in cols)


def load_thresholds(data_root: Path, detector: str) -> dict[str, float]:
    """NAB's stored thresholds of a detector (``config/thresholds.json``), per profile."""
    raw = json.loads((data_root / "config" / "thresholds.json").read_text())
    return {profile: float(v["threshold"]) for profile, v in raw[detector].items()}


def data_files(data_root: Path) -> list[str]:
    """Relative paths ``category/file.csv`` of the corpus, sorted."""
    base = data_root / "data"
    return sorted(str(p.relative_to(base)) for p in base.glob("*/*.csv"))


def sweep_results(
    data_root: Path, results_dir: Path, detector: str, windows: Mapping[str, list[tuple[str, str]]]
) -> list[FileSweep]:
    """Sweeps of a detector's NAB result files ``<category>/<detector>_<file>.csv``."""
    out = []
    for rel in data_files(data_root):
        category, fname = rel.split("/")
        path = results_dir / category / f"{detector}_{fname}"
        ts_text, score_text = read_columns(path, ("timestamp", "anomaly_score"))
        ts = np.array(ts_text, dtype="datetime64[s]")
        out.append(sweep_file(rel, ts, np.array(score_text, dtype=np.float64), windows[rel]))
    return out


def write_result_file(
    path: Path,
    ts: npt.NDArray[np.datetime64],
    values: FloatArray,
    score: FloatArray,
    windows: list[tuple[str, str]],
) -> None:
    """A NAB result file: ``timestamp,value,anomaly_score,label`` (label = inside a window)."""
    label = (window_index(ts, windows) >= 0).astype(np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "value", "anomaly_score", "label"])
        for t, v, s, lab in zip(ts, values, score, label, strict=True):
            w.writerow([str(t).replace("T", " "), repr(float(v)), f"{float(s):.6f}", int(lab)])
