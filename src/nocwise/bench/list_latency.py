"""Latency of the open-alarm and incident lists with many alarms in the state store.

The store is filled with what the correlation chain holds after ``n_open`` alarms were raised
(``correlate/throughput.py``'s seeded workload): every alarm with its incident, every incident.
Then the real API (the FastAPI app on the default SQLite store, called in-process) answers a
seeded mix of list requests as an operator's console sends them: first pages and pages further
down, filtered by state, severity, managed object, source, incident and time. Latency is per
request, wall clock, including JSON rendering; p50/p99/max per endpoint. Also timed: one save of
the correlator's checkpoint with that many alarms open, which the runtime does on its event loop
every ``checkpoint_interval_s``, so a list request that arrives then waits for it.
"""

from __future__ import annotations

import gc
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from nocwise.clock import ManualClock
from nocwise.collector import tune_collector_for_service
from nocwise.model import Alarm, Incident
from nocwise.store.state.repositories import AlarmRepository, IncidentRepository, TokenRepository

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _store(runtime: Any, alarms: Sequence[Alarm], incidents: Sequence[Incident]) -> None:
    with runtime.db.session() as s:
        AlarmRepository(s).upsert_many(alarms)
    for i in range(0, len(incidents), 500):
        with runtime.db.session() as s:
            repo = IncidentRepository(s)
            for inc in incidents[i : i + 500]:
                repo.upsert(inc)


def _requests(
    alarms: Sequence[Alarm], incidents: Sequence[Incident], n: int, seed: int
) -> list[tuple[str, str]]:
    """(endpoint, URL) pairs: the lists an operator's console asks for, seeded."""
    rng = np.random.default_rng(seed)
    objs = sorted({a.managed_object for a in alarms})
    sources = sorted({a.source for a in alarms})
    inc_ids = [i.id for i in incidents]
    times = sorted(a.event_time for a in alarms)
    out: list[tuple[str, str]] = []
    for k in range(n):
        u = k % 10
        page = int(rng.integers(0, 50))
        if u == 0:
            out.append(("alarms", "/api/v1/alarms?active=true&limit=100"))
        elif u == 1:
            out.append(("alarms", f"/api/v1/alarms?active=true&limit=100&offset={page * 100}"))
        elif u == 2:
            sev = ("CRITICAL", "MAJOR", "MINOR", "WARNING")[int(rng.integers(4))]
            out.append(("alarms", f"/api/v1/alarms?active=true&severity={sev}&limit=50"))
        elif u == 3:
            mo = objs[int(rng.integers(len(objs)))]
            out.append(("alarms", f"/api/v1/alarms?managed_object={mo}&limit=50"))
        elif u == 4 and inc_ids:
            iid = inc_ids[int(rng.integers(len(inc_ids)))]
            out.append(("alarms", f"/api/v1/alarms?incident_id={iid}&limit=100"))
        elif u == 5:
            since = times[int(rng.integers(len(times)))].isoformat().replace("+00:00", "Z")
            src = sources[int(rng.integers(len(sources)))]
            out.append(("alarms", f"/api/v1/alarms?active=true&source={src}&since={since}"))
        elif u in (6, 7):
            out.append(("incidents", f"/api/v1/incidents?limit=50&offset={page * 50}"))
        elif u == 8:
            out.append(("incidents", "/api/v1/incidents?state=open&limit=50"))
        else:
            out.append(("incidents", "/api/v1/incidents?limit=50"))
    return out


def measure_lists(
    alarms: Sequence[Alarm],
    incidents: Sequence[Incident],
    n_requests: int = 400,
    seed: int = 0,
    data_dir: Path | None = None,
) -> dict[str, float | int]:
    """p50/p99/max latency (ms) of the alarm and incident lists over the stored state, with
    the collector tuned as the service tunes it."""
    thresholds = gc.get_threshold()
    tune_collector_for_service()  # as `nocwise serve` runs: a default collector re-walks the
    try:  # whole heap of 100,000 alarms every few requests
        return _measure_lists(alarms, incidents, n_requests, seed, data_dir)
    finally:
        gc.set_threshold(*thresholds)


def _measure_lists(
    alarms: Sequence[Alarm],
    incidents: Sequence[Incident],
    n_requests: int,
    seed: int,
    data_dir: Path | None,
) -> dict[str, float | int]:
    from fastapi.testclient import TestClient

    from nocwise.api.app import create_app
    from nocwise.config import Settings
    from nocwise.runtime.runtime import Runtime

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=data_dir or Path(tmp) / "nw")
        clock = ManualClock(T0)
        runtime = Runtime(settings, clock)
        with runtime.db.session() as s:
            token = TokenRepository(s).create("viewer", "bench", T0)[1]
        started = time.perf_counter()
        _store(runtime, alarms, incidents)
        load_s = time.perf_counter() - started
        headers = {"Authorization": f"Bearer {token}"}
        reqs = _requests(alarms, incidents, n_requests, seed)
        lat: dict[str, list[float]] = {"alarms": [], "incidents": []}
        with TestClient(create_app(settings, clock, runtime)) as client:
            for _, url in reqs[:20]:  # warm the connection pool and the page cache
                client.get(url, headers=headers)
            for kind, url in reqs:
                t = time.perf_counter()
                r = client.get(url, headers=headers)
                lat[kind].append((time.perf_counter() - t) * 1000.0)
                if r.status_code != 200:
                    raise RuntimeError(f"{url}: HTTP {r.status_code} {r.text[:200]}")
            started = time.perf_counter()
            runtime.save_checkpoint()
            checkpoint_s = time.perf_counter() - started
    out: dict[str, float | int] = {
        "checkpoint_s": checkpoint_s,
        "stored_alarms": len(alarms),
        "stored_incidents": len(incidents),
        "load_s": load_s,
        "requests": len(reqs),
    }
    for kind, xs in lat.items():
        arr = np.asarray(xs)
        out[f"{kind}_p50_ms"] = float(np.percentile(arr, 50))
        out[f"{kind}_p99_ms"] = float(np.percentile(arr, 99))
        out[f"{kind}_max_ms"] = float(arr.max())
    return out
