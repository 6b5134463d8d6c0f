"""Throughput of the whole chain with many alarms already open: alarms per second and memory.

``measure`` builds a seeded access network (one site per 20 open alarms), raises ``n_open``
distinct alarms (the warm-up), lets a minute of event time pass (a ``tick``: the warm-up's
incidents are past ``group_wait`` and published, so every size is timed in the same regime),
then times ``n_alarms`` further notifications (45 % new raises, 45 % clears of open alarms,
10 % severity changes, 1 ms apart in event time) fed in batches with a ``tick`` after each
batch. Inputs are built before the clock starts: the figure is the
chain's cost, not the cost of constructing ``Alarm`` records; for the same reason the prebuilt
inputs are frozen out of the cyclic collector's scans (``gc.freeze``, as `nocwise serve` does
with its start-up objects), or every full collection would also walk up to 2 x 10^5 future
notifications a server never holds. The collector runs with the thresholds `nocwise serve` sets
(``collector.SERVICE_GC_THRESHOLDS``); everything the chain allocates is collected as usual (the chain leaves
no reference cycles behind, so the thresholds only change how often live objects are re-walked,
not what memory is freed). The chain is fed with ``Correlator.feed``, what the runtime calls:
changed incidents, no per-alarm views. Memory is the process's resident
set at the end (``VmRSS``) and its peak (``ru_maxrss``), which include the interpreter and the
prebuilt inputs; ``chain_rss_mb`` is the growth after the inputs were built, what the chain
itself holds. Wall-clock and CPU rates are both reported: on a shared machine the CPU rate is the
chain's own cost.
"""

from __future__ import annotations

import gc
import resource
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from nocwise.collector import SERVICE_GC_THRESHOLDS
from nocwise.correlate.config import CorrelateConfig
from nocwise.correlate.pipeline import build_correlator
from nocwise.correlate.synthetic import access_network, clear_alarm, raise_alarm
from nocwise.model import Alarm, Incident, Severity
from nocwise.topology.graph import TopologyGraph

CAUSES = (
    "cellDown", "lossOfSignal", "highTemperature", "fanFailure", "linkDown",
    "synchronizationLoss", "powerSupplyFailure", "highBitErrorRate", "configurationError",
    "softwareError",
)  # fmt: skip
SEVERITIES = (Severity.CRITICAL, Severity.MAJOR, Severity.MINOR, Severity.WARNING)
SETTLE = timedelta(minutes=1)  # event time between the warm-up and the timed stream


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def _workload(
    n_open: int, n_alarms: int, seed: int
) -> tuple[TopologyGraph, list[Alarm], list[Alarm]]:
    rng = np.random.default_rng(seed)
    n_sites = max(10, n_open // 20)
    ents, rels = access_network(n_sites)
    topo = TopologyGraph(ents, rels)
    pool = [e.id for e in ents if e.kind in ("cell", "gnodeb", "csr", "link")]
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(milliseconds=1)
    counter = 0

    def new(at: datetime) -> Alarm:
        nonlocal counter
        counter += 1
        entity = pool[int(rng.integers(len(pool)))]
        cause = CAUSES[int(rng.integers(len(CAUSES)))]
        sev = SEVERITIES[int(rng.integers(len(SEVERITIES)))]
        a = raise_alarm(
            f"a{counter}", entity, cause, at, sev, text=f"{cause} on {entity} unit {counter % 97}"
        )
        return replace(a, specific_problem=str(counter), fingerprint="")  # distinct problems

    warm = [new(t0 + i * step) for i in range(n_open)]
    open_ids = list(warm)
    stream: list[Alarm] = []
    t = t0 + n_open * step + SETTLE
    for _ in range(n_alarms):
        t += step
        u = rng.random()
        if u < 0.45 or not open_ids:
            a = new(t)
            open_ids.append(a)
            stream.append(a)
            continue
        k = int(rng.integers(len(open_ids)))
        victim = open_ids[k]
        if u < 0.9:
            open_ids[k] = open_ids[-1]
            open_ids.pop()
            stream.append(clear_alarm(victim, t))
        else:
            sev = SEVERITIES[int(rng.integers(len(SEVERITIES)))]
            changed = replace(victim, perceived_severity=sev, event_time=t)
            open_ids[k] = changed
            stream.append(changed)
    return topo, warm, stream


def measure(n_open: int, n_alarms: int, seed: int = 0, batch: int = 1000) -> dict[str, float | int]:
    """Alarms/s through the whole chain with ``n_open`` alarms open, and resident memory."""
    topo, warm, stream = _workload(n_open, n_alarms, seed)
    baseline_mb = _rss_mb()  # interpreter, topology and the prebuilt inputs
    gc.collect()
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(*SERVICE_GC_THRESHOLDS)
    try:
        return _measure(topo, warm, stream, n_open, n_alarms, seed, batch, baseline_mb)
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _measure(
    topo: TopologyGraph,
    warm: list[Alarm],
    stream: list[Alarm],
    n_open: int,
    n_alarms: int,
    seed: int,
    batch: int,
    baseline_mb: float,
) -> dict[str, float | int]:
    corr = build_correlator(CorrelateConfig(), topo)
    started = time.perf_counter()
    for i in range(0, len(warm), batch):
        chunk = warm[i : i + batch]
        corr.feed(chunk, chunk[-1].event_time)
        corr.tick(chunk[-1].event_time)
    warm_s = time.perf_counter() - started
    corr.tick(warm[-1].event_time + SETTLE)
    open_before = len(corr.open_alarms())
    started, cpu_started = time.perf_counter(), time.process_time()
    for i in range(0, len(stream), batch):
        chunk = stream[i : i + batch]
        corr.feed(chunk, chunk[-1].event_time)
        corr.tick(chunk[-1].event_time)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    funnel = corr.funnel()
    return {
        "n_open": n_open,
        "n_alarms": n_alarms,
        "seed": seed,
        "batch": batch,
        "open_alarms_before": open_before,
        "open_alarms_after": len(corr.open_alarms()),
        "alarms_per_s": n_alarms / elapsed if elapsed > 0 else float("inf"),
        "seconds": elapsed,
        "cpu_alarms_per_s": n_alarms / cpu if cpu > 0 else float("inf"),
        "cpu_seconds": cpu,
        "warmup_alarms_per_s": n_open / warm_s if warm_s > 0 else float("inf"),
        "incidents": int(funnel["incidents"]),
        "rss_mb": _rss_mb(),
        "inputs_rss_mb": baseline_mb,
        "chain_rss_mb": _rss_mb() - baseline_mb,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def open_state(n_open: int, seed: int = 0, batch: int = 1000) -> tuple[list[Alarm], list[Incident]]:
    """What the chain holds when ``measure`` starts timing (the warm-up, settled): open alarms
    and incidents."""
    topo, warm, _ = _workload(n_open, 0, seed)
    corr = build_correlator(CorrelateConfig(), topo)
    for i in range(0, len(warm), batch):
        chunk = warm[i : i + batch]
        corr.feed(chunk, chunk[-1].event_time)
        corr.tick(chunk[-1].event_time)
    corr.tick(warm[-1].event_time + SETTLE)
    return [v.alarm for v in corr.open_alarms()], corr.incidents()
