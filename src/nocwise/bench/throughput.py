"""`nocwise bench throughput`: how fast and how lean each stage is, and how it grows with scale.

Four parts, one report:
- ingest: records/s end to end into the store per protocol (``bench/ingest_throughput.py``:
  a real `nocwise serve` process fed over HTTP and TCP);
- detect: the full metric ensemble's samples/s on one core and its state size, from 10^4 to
  10^6 series (``detect/metrics/throughput.py``), with river HalfSpaceTrees' samples/s as peer;
- correlate: alarms/s through the whole correlation chain and resident memory with 10^4 and
  10^5 open alarms (``correlate/throughput.py``), each in a fresh interpreter;
- api: p50/p99 latency of the open-alarm and incident lists (paginated, filtered) through the
  real API over the state store holding what the chain holds at 10^5 open alarms
  (``bench/list_latency.py``).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from nocwise.bench import ingest_throughput
from nocwise.bench.list_latency import measure_lists
from nocwise.bench.options import BenchOptions
from nocwise.bench.report import BenchReport, Progress, now_utc
from nocwise.correlate.throughput import measure as measure_correlation
from nocwise.correlate.throughput import open_state
from nocwise.detect.metrics.throughput import measure_throughput


def _river_hst_samples_per_s(n: int, seed: int) -> float:
    """river HalfSpaceTrees, one shared model, learn_one + score_one per sample (its API).

    CPU time of the process, like the ensemble's figure, so the two compare on a busy machine.
    """
    from river.anomaly import HalfSpaceTrees

    rng = np.random.default_rng(seed)
    values = rng.normal(size=n).tolist()
    model: Any = HalfSpaceTrees(seed=seed)
    t0 = time.process_time()
    for v in values:
        x = {"x": v}
        model.score_one(x)
        model.learn_one(x)
    return n / (time.process_time() - t0)


def _in_fresh_process(
    measure: Callable[[int, int, int], dict[str, float | int]], *args: int
) -> dict[str, float | int]:
    """Run one memory measurement in a new interpreter.

    This process still holds the heap of the earlier parts (10^6 detector series), which the
    allocator does not give back; measured here, the chain's resident memory would include it.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(measure, *args).result()


def run(options: BenchOptions, progress: Progress) -> BenchReport:
    """Run the four parts; ``--quick`` shrinks every size."""
    started = now_utc()
    summary: dict[str, float] = {}
    peers: dict[str, dict[str, float]] = {}
    items: list[dict[str, Any]] = []

    ingest = ingest_throughput.run(options, progress)
    summary.update({f"ingest.{k}": v for k, v in ingest.summary.items()})
    for name, peer in ingest.peers.items():
        peers[name] = dict(peer)
    items += [{"part": "ingest", **row} for row in ingest.items]

    sizes = (10_000, 100_000) if options.quick else (10_000, 100_000, 1_000_000)
    progress.start("detect: ensemble throughput", len(sizes))
    for n in sizes:
        steps = 200 if n <= 100_000 else 40  # 40 batches of 10^6 are 0.6 GB
        row = measure_throughput(n, steps, seed=options.seed)
        items.append({"part": "detect", "series": n, **row})
        progress.advance()
    by_n = {r["series"]: r for r in items if r.get("part") == "detect"}
    for n, r in by_n.items():
        for k, v in r.items():
            if k not in ("part", "series") and isinstance(v, int | float):
                summary[f"detect.{k}@{n}"] = float(v)
    # the series ids of each batch in one random order, as a scrape of many targets may be
    n_shuffled = sizes[1]
    row = measure_throughput(n_shuffled, 100, seed=options.seed, shuffled=True)
    items.append({"part": "detect", "series": n_shuffled, "variant": "shuffled", **row})
    summary[f"detect.samples_per_s_shuffled@{n_shuffled}"] = row["samples_per_s"]
    if options.peers:
        peers["river_hst"] = {
            "detect.samples_per_s": _river_hst_samples_per_s(20_000, options.seed)
        }

    opens = (10_000,) if options.quick else (10_000, 100_000)
    progress.start("correlate: chain throughput", len(opens))
    for n_open in opens:
        n_alarms = 100_000 if not options.quick else 20_000
        row = _in_fresh_process(measure_correlation, n_open, n_alarms, options.seed)
        items.append({"part": "correlate", "open_alarms": n_open, **row})
        for k, v in row.items():
            if isinstance(v, int | float):
                summary[f"correlate.{k}@{n_open}"] = float(v)
        progress.advance()

    n_listed = 10_000 if options.quick else 100_000
    progress.start("api: list latency", 1)
    alarms, incidents = open_state(n_listed, options.seed)
    row = measure_lists(alarms, incidents, 200 if options.quick else 600, options.seed)
    del alarms, incidents
    items.append({"part": "api", "open_alarms": n_listed, **row})
    summary.update({f"api.{k}@{n_listed}": float(v) for k, v in row.items()})
    progress.advance()

    return BenchReport(
        suite="throughput",
        started=started,
        config={
            "quick": options.quick,
            "seed": options.seed,
            "detect_sizes": list(sizes),
            "correlate_open_alarms": list(opens),
            "api_open_alarms": n_listed,
            "ingest": ingest.config,
        },
        summary=summary,
        peers=peers,
        items=items,
    )
