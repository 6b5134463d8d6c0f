"""Alarm-type causal discovery on the PCIC 2021 telecom alarm data sets.

Scores the learned alarm-type graph against each data set's expert DAG (``DAG.csv``, rows are
causes): directed-edge precision, recall and F1 with self-loops ignored, plus fit time. ``--data``
is one data-set folder or a folder of several; each is one item. Peer: ``cooccurrence_lift``.

Each item also reports ``null_edges``: the edges the same model finds after every alarm type's
timeline is shifted circularly by its own random offset. That keeps each type's bursts and
devices but breaks any alignment between types, so every edge found there is a false one: a
check, on any data set, that the penalty is not too weak.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nocwise.bench.options import BenchOptions
from nocwise.bench.report import BenchReport, Progress, now_utc
from nocwise.correlate.causality.events import AlarmEvents
from nocwise.correlate.causality.lift import cooccurrence_lift
from nocwise.correlate.causality.loader import AlarmDataset, find_datasets, load_dataset
from nocwise.correlate.causality.model import AlarmCausalConfig, AlarmCausalModel

QUICK_EVENTS = 5000
LIFT_SETTINGS = {"window_s": 600.0, "min_lift": 2.0, "min_count": 10}


def score_edges(found: npt.NDArray[np.bool_], truth: npt.NDArray[np.int64]) -> dict[str, float]:
    """Directed-edge precision, recall and F1 (self-loops ignored; empty sets score 0)."""
    k = truth.shape[0]
    pred = found[:k, :k].astype(bool) & ~np.eye(k, dtype=bool)
    true = truth.astype(bool) & ~np.eye(k, dtype=bool)
    tp = float((pred & true).sum())
    precision = tp / pred.sum() if pred.any() else 0.0
    recall = tp / true.sum() if true.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "edges_true": float(true.sum()),
        "edges_found": float(pred.sum()),
    }


def _run_model(ds: AlarmDataset, config: AlarmCausalConfig) -> dict[str, float]:
    start = time.perf_counter()
    model = AlarmCausalModel(config).fit(*_inputs(ds))
    seconds = time.perf_counter() - start
    return {**score_edges(model.adjacency, ds.dag), "seconds": seconds}


def time_shifted(ds: AlarmDataset, seed: int) -> AlarmDataset:
    """The null data set: each alarm type's timestamps rotated by its own offset in the span."""
    ev = ds.events
    if len(ev) == 0:
        return ds
    rng = np.random.default_rng(seed)
    t0 = float(ev.ts.min())
    span = float(ev.ts.max()) - t0 + 1.0
    offset = rng.uniform(0.0, span, ds.n_types)
    ts = t0 + np.mod(ev.ts - t0 + offset[ev.alarm_type], span)
    order = np.argsort(ts, kind="stable")
    events = AlarmEvents(ts[order], ev.alarm_type[order], ev.device[order])
    return AlarmDataset(ds.name, events, ds.dag, ds.topology, ds.n_types, ds.n_devices)


def _run_lift(ds: AlarmDataset) -> dict[str, float]:
    start = time.perf_counter()
    adj = cooccurrence_lift(ds.events, ds.topology, ds.n_types, **LIFT_SETTINGS)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    return {**score_edges(adj, ds.dag), "seconds": seconds}


def _summary(rows: list[tuple[str, dict[str, float]]]) -> dict[str, float]:
    out: dict[str, float] = {
        "f1_mean": float(np.mean([r["f1"] for _, r in rows])) if rows else float("nan")
    }
    for name, r in rows:
        for metric in ("f1", "precision", "recall", "seconds"):
            out[f"{metric}_{name}"] = r[metric]
    return out


def run(options: BenchOptions, progress: Progress) -> BenchReport:
    """Fit on every data set under ``options.data`` and score against its expert DAG."""
    started = now_utc()
    if options.data is None:
        raise ValueError("the alarms suite needs --data (a PCIC data-set folder or their parent)")
    folders = find_datasets(Path(options.data))
    if not folders:
        raise FileNotFoundError(f"no folder with Alarm.csv and DAG.csv under {options.data}")
    config = AlarmCausalConfig()
    ours: list[tuple[str, dict[str, float]]] = []
    lift: list[tuple[str, dict[str, float]]] = []
    items: list[dict[str, Any]] = []
    progress.start("alarms", len(folders))
    for folder in folders:
        ds = load_dataset(folder)
        if options.quick:
            ds = _head(ds, QUICK_EVENTS)
        result = _run_model(ds, config)
        ours.append((ds.name, result))
        null = AlarmCausalModel(config).fit(*_inputs(time_shifted(ds, options.seed)))
        row: dict[str, Any] = {
            "dataset": ds.name,
            "events": len(ds.events),
            **result,
            "null_edges": len(null.edges()),
        }
        if options.peers:
            peer = _run_lift(ds)
            lift.append((ds.name, peer))
            row.update({f"cooccurrence_lift_{k}": v for k, v in peer.items()})
        items.append(row)
        progress.advance()
    return BenchReport(
        suite="alarms",
        started=started,
        config={
            "data": str(options.data),
            "datasets": [f.name for f in folders],
            "quick_events": QUICK_EVENTS if options.quick else None,
            "model": config.model_dump(),
            "cooccurrence_lift": LIFT_SETTINGS if options.peers else None,
            "scoring": "directed edges vs DAG.csv (rows = causes), self-loops ignored",
            "null": "per-type circular time shift, seeded by --seed",
            "seed": options.seed,
        },
        summary=_summary(ours),
        peers={"cooccurrence_lift": _summary(lift)} if options.peers else {},
        items=items,
    )


def _inputs(
    ds: AlarmDataset,
) -> tuple[AlarmEvents, npt.NDArray[np.bool_] | None, int]:
    return ds.events, ds.topology, ds.n_types


def _head(ds: AlarmDataset, n: int) -> AlarmDataset:
    return AlarmDataset(ds.name, ds.events.head(n), ds.dag, ds.topology, ds.n_types, ds.n_devices)
