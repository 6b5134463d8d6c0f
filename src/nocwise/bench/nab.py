"""NAB benchmark: the metric ensemble on all 58 NAB files, scored with NAB's own method.

Every file is one series of one streaming run: each row is scored against everything before
it and then learned, and the score written for the row is the ensemble probability passed
through the episode peak gate, refractory for a few samples after each pass (one
configuration for the whole corpus, no labels seen).
Rows where the ensemble is still cold get 0. NAB's scorer (:mod:`nab_scorer`) then applies
the probationary period, windows, the three cost profiles and the corpus-optimised threshold.
Peers in the same run: NAB's windowed Gaussian (reimplemented exactly) and river's
HalfSpaceTrees behind a running min-max scaler.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from nocwise.bench import nab_scorer as ns
from nocwise.bench.options import BenchOptions
from nocwise.bench.report import BenchReport, Progress, now_utc
from nocwise.detect.metrics.ensemble import EnsembleConfig, EnsembleDetector
from nocwise.detect.metrics.episodes import gate_state, peak_gate
from nocwise.model.metrics import MetricBatch

FloatArray = npt.NDArray[np.float64]
Corpus = dict[str, tuple[npt.NDArray[np.datetime64], FloatArray]]

#: Rows of each file per streaming batch; scores do not depend on it (score_learn is exact
#: streaming within a batch), only the Python overhead does.
CHUNK_ROWS = 256
#: Per-sample decay of the peak the gate compares against.
GATE_DECAY = 0.99
#: Samples after a pass during which the gate is refractory, and the relative margin by
#: which a new pass must beat the last one meanwhile.
GATE_HOLD = 10
GATE_MARGIN = 0.15

SUMMARY_NAMES = {
    "standard": "nab_standard",
    "reward_low_FP_rate": "nab_low_fp",
    "reward_low_FN_rate": "nab_low_fn",
}


def nab_root(data: Path) -> Path:
    """Accept the NAB folder itself or the shared data folder holding ``nab/``."""
    return data / "nab" if (data / "nab" / "labels").is_dir() else data


def load_corpus(root: Path) -> Corpus:
    """Every data file: relative path -> (timestamps, values)."""
    return {rel: ns.read_series(root / "data" / rel) for rel in ns.data_files(root)}


def nocwise_scores(
    corpus: Corpus,
    config: EnsembleConfig,
    gate_decay: float,
    gate_hold: int = GATE_HOLD,
    gate_margin: float = GATE_MARGIN,
) -> dict[str, FloatArray]:
    """Stream all files through one ensemble (one series per file) in row chunks."""
    names = list(corpus)
    det = EnsembleDetector(config)
    gate = gate_state(len(names))
    out = {n: np.zeros(len(corpus[n][1])) for n in names}
    longest = max(len(v) for _, v in corpus.values())
    for start in range(0, longest, CHUNK_ROWS):
        parts = []
        for sid, name in enumerate(names):
            ts, values = corpus[name]
            sl = slice(start, min(start + CHUNK_ROWS, len(values)))
            if sl.start >= sl.stop:
                continue
            ts_ms = ts[sl].astype("datetime64[ms]").astype(np.int64)
            parts.append(MetricBatch.of(np.full(ts_ms.size, sid), ts_ms, values[sl]))
        batch = MetricBatch.concat(parts)
        prob = det.score_learn(batch)
        gated = peak_gate(batch.series, prob, gate, gate_decay, gate_hold, gate_margin)
        gated = np.nan_to_num(gated, nan=0.0)
        offset = 0
        for p in parts:
            sid = int(p.series[0])
            out[names[sid]][start : start + len(p)] = gated[offset : offset + len(p)]
            offset += len(p)
    return out


@njit(cache=True)
def _windowed_gaussian(x: FloatArray, window: int, step: int) -> FloatArray:
    n = x.shape[0]
    out = np.zeros(n)
    for i in range(1, n):
        if i < window:
            lo, hi = 0, i
        else:
            m = (i - window) // step
            lo, hi = m * step, window + m * step
        w = x[lo:hi]
        mean = w.mean()
        std = w.std()
        if std == 0.0:
            std = 0.000001
        z = abs(x[i] - mean) / std
        out[i] = 1.0 - 0.5 * math.erfc(z / math.sqrt(2.0))
    return out


def windowed_gaussian_scores(corpus: Corpus) -> dict[str, FloatArray]:
    """NAB's ``windowedGaussian`` detector: tail probability under a 6400-row window."""
    return {n: _windowed_gaussian(v, 6400, 100) for n, (_, v) in corpus.items()}


def river_hst_scores(corpus: Corpus, seed: int) -> dict[str, FloatArray]:
    """river's HalfSpaceTrees (defaults) behind a running min-max scaler, one model per file."""
    from river import anomaly, compose, preprocessing

    out = {}
    for name, (_, values) in corpus.items():
        model = compose.Pipeline(preprocessing.MinMaxScaler(), anomaly.HalfSpaceTrees(seed=seed))
        scores = np.zeros(len(values))
        for i, v in enumerate(values):
            x = {"value": float(v)}
            scores[i] = model.score_one(x)
            model.learn_one(x)
        out[name] = scores
    return out


def score_detector(
    corpus: Corpus, windows: dict[str, list[tuple[str, str]]], scores: dict[str, FloatArray]
) -> dict[str, ns.ProfileResult]:
    """NAB results of one detector's per-row scores (thresholds optimised on the corpus)."""
    sweeps = [ns.sweep_file(n, corpus[n][0], scores[n], windows[n]) for n in corpus]
    return ns.score_all(sweeps)


def category_scores(
    results: dict[str, ns.ProfileResult], windows: dict[str, list[tuple[str, str]]]
) -> dict[str, float]:
    """Normalised standard score per category at the corpus threshold.

    NAB normalises the corpus total only; here each category's raw total is normalised
    the same way over its own windows. Categories without windows (whose false positives
    still count in the corpus score) are left out.
    """
    profile = ns.PROFILES[0]
    raw: dict[str, float] = {}
    n_windows: dict[str, int] = {}
    for rel, score in results[profile.name].per_file.items():
        category = rel.split("/")[0]
        raw[category] = raw.get(category, 0.0) + score
        n_windows[category] = n_windows.get(category, 0) + len(windows[rel])
    out = {}
    for category, total in sorted(raw.items()):
        n = n_windows[category]
        if n:
            null = -profile.fn_weight * n
            out[f"nab_standard_{category}"] = (
                100.0 * (total - null) / (profile.tp_weight * n - null)
            )
    return out


def summarise(
    results: dict[str, ns.ProfileResult],
    windows: dict[str, list[tuple[str, str]]],
    n_rows: int,
    seconds: float,
) -> dict[str, float]:
    """The flat summary: three normalised scores, their thresholds, the standard score per
    category and samples/s."""
    out = {SUMMARY_NAMES[p]: r.normalized for p, r in results.items()}
    out.update({f"{SUMMARY_NAMES[p]}_threshold": r.threshold for p, r in results.items()})
    out.update(category_scores(results, windows))
    out["samples_per_s"] = n_rows / seconds if seconds > 0 else math.inf
    return out


def write_scores(
    out_dir: Path,
    detector: str,
    corpus: Corpus,
    windows: dict[str, list[tuple[str, str]]],
    scores: dict[str, FloatArray],
) -> None:
    """NAB result files ``<out>/<detector>/<category>/<detector>_<file>.csv``."""
    for rel, (ts, values) in corpus.items():
        category, fname = rel.split("/")
        path = out_dir / detector / category / f"{detector}_{fname}"
        ns.write_result_file(path, ts, values, scores[rel], windows[rel])


def _timed(fn: Callable[[], dict[str, FloatArray]]) -> tuple[dict[str, FloatArray], float]:
    """Run and measure CPU seconds: every detector here is single-threaded, and CPU time
    stays comparable on a shared machine where wall time includes waiting for a core."""
    start = time.process_time()
    result = fn()
    return result, time.process_time() - start


def _compile(corpus: Corpus, config: EnsembleConfig) -> None:
    """Run the ensemble on a few hundred rows before timing: numba compiles its kernels on
    the first call (tens of seconds with a cold cache), which is not the detector's speed."""
    rel = next(iter(corpus), None)
    if rel is not None:
        ts, values = corpus[rel]
        nocwise_scores({rel: (ts[:500], values[:500])}, config, GATE_DECAY)


def run(options: BenchOptions, progress: Progress) -> BenchReport:
    """Run nocwise and the peers over the NAB corpus and score them all with NAB's method."""
    if options.data is None:
        raise ValueError("nab needs --data pointing at the NAB folder")
    started = now_utc()
    root = nab_root(options.data)
    corpus = load_corpus(root)
    if options.quick:  # smoke test: the first file of each category
        firsts = {rel.split("/")[0]: rel for rel in sorted(corpus, reverse=True)}
        corpus = {rel: corpus[rel] for rel in sorted(firsts.values())}
    windows = ns.load_windows(root)
    n_rows = sum(len(v) for _, v in corpus.values())
    config = EnsembleConfig()
    runs: list[tuple[str, Callable[[], dict[str, FloatArray]]]] = [
        ("nocwise", lambda: nocwise_scores(corpus, config, GATE_DECAY)),
    ]
    if options.peers:
        runs.append(("windowed_gaussian", lambda: windowed_gaussian_scores(corpus)))
        runs.append(("river_hst", lambda: river_hst_scores(corpus, options.seed)))
    _compile(corpus, config)
    progress.start("nab", len(runs))
    all_results: dict[str, dict[str, ns.ProfileResult]] = {}
    summaries: dict[str, dict[str, float]] = {}
    for name, fn in runs:
        scores, seconds = _timed(fn)
        all_results[name] = score_detector(corpus, windows, scores)
        summaries[name] = summarise(all_results[name], windows, n_rows, seconds)
        if options.scores_out is not None:
            write_scores(options.scores_out, name, corpus, windows, scores)
        progress.advance()
    items: list[dict[str, Any]] = []
    for rel, (_, values) in corpus.items():
        row: dict[str, Any] = {"file": rel, "rows": len(values), "windows": len(windows[rel])}
        for name, res in all_results.items():
            prefix = "" if name == "nocwise" else f"{name}_"
            for p, r in res.items():
                row[f"{prefix}{SUMMARY_NAMES[p]}_raw"] = r.per_file[rel]
        items.append(row)
    return BenchReport(
        suite="nab",
        started=started,
        config={
            "data": str(root),
            "detector": config.model_dump(mode="json"),
            "gate_decay": GATE_DECAY,
            "gate_hold": GATE_HOLD,
            "gate_margin": GATE_MARGIN,
            "chunk_rows": CHUNK_ROWS,
            "probation_percent": ns.PROBATION_PERCENT,
            "threshold": "optimised per profile on the corpus (NAB optimizer)",
            "seed": options.seed,
            "quick": options.quick,
            "files": len(corpus),
            "peers": sorted(summaries.keys() - {"nocwise"}),
        },
        summary=summaries["nocwise"],
        peers={k: v for k, v in summaries.items() if k != "nocwise"},
        items=items,
    )
