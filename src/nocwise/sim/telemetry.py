"""KPIs for every entity, one vectorised pass per step: seasonality, growth, noise, fault effects.

A series' value is ``level + gain * load(t)`` plus Gaussian noise, where ``load`` is a per-entity
diurnal curve (RAN and transport peak in the evening, IT around midday), a weekend factor and a
slow growth. Faults act through :class:`Effect` (multiply, add, set, or drop samples).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nocwise.model import MetricBatch, Series
from nocwise.sim.topology import Topology

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# kind -> (metric, unit, level, gain, noise_sd, lo, hi)
SPECS: dict[str, tuple[tuple[str, str, float, float, float, float, float], ...]] = {
    "cell": (
        ("prb_utilisation", "percent", 5.0, 75.0, 3.0, 0.0, 100.0),
        ("rrc_setup_success", "percent", 99.7, -0.8, 0.12, 0.0, 100.0),
        ("dl_throughput", "Mbit/s", 20.0, 360.0, 12.0, 0.0, 2000.0),
    ),
    "csr": (
        ("cpu_utilisation", "percent", 12.0, 22.0, 2.5, 0.0, 100.0),
        ("memory_utilisation", "percent", 42.0, 4.0, 0.8, 0.0, 100.0),
    ),
    "agg_router": (
        ("cpu_utilisation", "percent", 18.0, 30.0, 2.5, 0.0, 100.0),
        ("memory_utilisation", "percent", 48.0, 5.0, 0.8, 0.0, 100.0),
    ),
    "core_router": (
        ("cpu_utilisation", "percent", 22.0, 30.0, 2.5, 0.0, 100.0),
        ("memory_utilisation", "percent", 55.0, 5.0, 0.8, 0.0, 100.0),
    ),
    "link": (
        ("if_utilisation", "percent", 4.0, 55.0, 2.5, 0.0, 100.0),
        ("if_errors", "count/min", 0.0, 0.5, 0.4, 0.0, 1e9),
        ("optical_rx_power", "dBm", -7.5, 0.0, 0.08, -40.0, 2.0),
        ("latency", "ms", 1.2, 1.5, 0.15, 0.0, 1e6),
    ),
    "amf": (
        ("registration_success", "percent", 99.6, -0.5, 0.1, 0.0, 100.0),
        ("registration_rate", "1/s", 40.0, 360.0, 12.0, 0.0, 1e9),
        ("cpu_utilisation", "percent", 18.0, 40.0, 2.5, 0.0, 100.0),
    ),
    "smf": (
        ("pdu_session_success", "percent", 99.7, -0.4, 0.1, 0.0, 100.0),
        ("cpu_utilisation", "percent", 15.0, 35.0, 2.5, 0.0, 100.0),
    ),
    "upf": (
        ("throughput", "Gbit/s", 4.0, 36.0, 0.8, 0.0, 1e6),
        ("memory_utilisation", "percent", 38.0, 6.0, 0.6, 0.0, 100.0),
        ("cpu_utilisation", "percent", 20.0, 45.0, 2.5, 0.0, 100.0),
    ),
    "nrf": (
        ("cpu_utilisation", "percent", 10.0, 15.0, 1.5, 0.0, 100.0),
        ("latency", "ms", 3.0, 2.0, 0.3, 0.0, 1e6),
    ),
    "udm": (
        ("cpu_utilisation", "percent", 12.0, 20.0, 1.5, 0.0, 100.0),
        ("latency", "ms", 4.0, 3.0, 0.3, 0.0, 1e6),
    ),
    "ausf": (
        ("cpu_utilisation", "percent", 10.0, 18.0, 1.5, 0.0, 100.0),
        ("latency", "ms", 4.0, 3.0, 0.3, 0.0, 1e6),
    ),
    "dns": (
        ("dns_query_rate", "1/s", 1500.0, 7000.0, 150.0, 0.0, 1e9),
        ("latency", "ms", 2.0, 2.5, 0.3, 0.0, 1e6),
        ("servfail_ratio", "percent", 0.2, 0.2, 0.05, 0.0, 100.0),
    ),
    "microservice": (
        ("request_rate", "1/s", 30.0, 400.0, 10.0, 0.0, 1e9),
        ("error_ratio", "percent", 0.15, 0.25, 0.08, 0.0, 100.0),
        ("latency_p99", "ms", 70.0, 110.0, 8.0, 0.0, 1e6),
    ),
    "database": (
        ("query_latency", "ms", 4.0, 9.0, 0.8, 0.0, 1e6),
        ("connections", "count", 40.0, 140.0, 6.0, 0.0, 1e6),
        ("disk_utilisation", "percent", 55.0, 0.0, 0.05, 0.0, 100.0),
    ),
    "k8s_node": (
        ("cpu_utilisation", "percent", 20.0, 40.0, 2.5, 0.0, 100.0),
        ("memory_utilisation", "percent", 50.0, 18.0, 1.0, 0.0, 100.0),
        ("disk_utilisation", "percent", 45.0, 0.0, 0.05, 0.0, 100.0),
    ),
    "power": (
        ("battery_voltage", "V", 53.6, 0.0, 0.04, 0.0, 60.0),
        ("mains_available", "bool", 1.0, 0.0, 0.0, 0.0, 1.0),
    ),
    "site": (("temperature", "Cel", 24.0, 9.0, 0.4, -40.0, 90.0),),
}
_PEAK_HOUR = {"cell": 20.5, "link": 20.5, "csr": 20.5, "agg_router": 20.5, "core_router": 20.5,
              "amf": 19.0, "smf": 19.0, "upf": 20.5, "dns": 20.0, "site": 15.0}  # fmt: skip
_IT_PEAK = 11.0
_WEEKEND = {"cell": 1.05, "microservice": 0.6, "database": 0.6}


@dataclass(slots=True)
class Effect:
    """A fault's effect on some series from ``t0_ms`` until ``end_ms`` (None: until removed).

    ``op`` is ``mult``, ``add``, ``set`` or ``absent`` (no samples, as when an element is down).
    The applied value is ``value + slope * seconds_since_t0``, bounded by ``cap``.
    """

    series: IntArray
    op: str
    value: float = 0.0
    t0_ms: int = 0
    slope: float = 0.0
    cap: float | None = None
    end_ms: int | None = None

    def at(self, t_ms: int) -> float:
        """The effect's value at time ``t_ms``."""
        v = self.value + self.slope * (t_ms - self.t0_ms) / 1000.0
        if self.cap is not None:
            v = min(v, self.cap) if self.slope >= 0 else max(v, self.cap)
        return v


class Telemetry:
    """All series of a topology and their vectorised generator."""

    def __init__(self, topo: Topology, seed: int, start_ms: int, growth_per_day: float) -> None:
        rng = np.random.default_rng([seed, 2])
        series: list[Series] = []
        ent: list[int] = []
        cols: list[tuple[float, float, float, float, float, float]] = []
        self.index: dict[tuple[int, str], int] = {}
        self.by_entity: dict[int, list[int]] = {}
        for i, e in enumerate(topo.entities):
            for metric, unit, level, gain, sd, lo, hi in SPECS.get(e.kind, ()):
                sid = len(series)
                series.append(Series(sid, metric, {"kind": e.kind}, e.id, unit))
                ent.append(i)
                peak = _PEAK_HOUR.get(e.kind, _IT_PEAK)
                cols.append((level, gain, sd, lo, hi, peak))
                self.index[(i, metric)] = sid
                self.by_entity.setdefault(i, []).append(sid)
        self.series = series
        n = len(series)
        arr = np.asarray(cols, dtype=np.float64).reshape(n, 6)
        self.entity = np.asarray(ent, dtype=np.int64)
        self.level = arr[:, 0] * (1.0 + 0.08 * rng.standard_normal(n))
        exact = (arr[:, 0] > 90.0) | np.asarray(
            [s.labels["kind"] == "power" for s in series], dtype=bool
        )
        self.level = np.where(exact, arr[:, 0], self.level)  # success ratios and DC plant stay put
        opt = np.asarray([s.metric == "optical_rx_power" for s in series])
        self.level[opt] = rng.uniform(-11.0, -5.0, int(opt.sum()))
        disk = np.asarray([s.metric == "disk_utilisation" for s in series])
        self.level[disk] = rng.uniform(30.0, 65.0, int(disk.sum()))
        self.gain = arr[:, 1] * rng.uniform(0.6, 1.3, n)
        self.sd = arr[:, 2]
        self.lo = arr[:, 3]
        self.hi = arr[:, 4]
        self.phase = (arr[:, 5] + rng.normal(0.0, 0.7, n)) / 24.0
        self.weekend = np.asarray([_WEEKEND.get(s.labels["kind"], 0.92) for s in series])
        self.growth = np.full(n, growth_per_day) * rng.uniform(0.5, 1.5, n)
        self.start_ms = start_ms
        self.rng = np.random.default_rng([seed, 3])
        self.all_ids = np.arange(n, dtype=np.int64)

    def of(self, entity: int, metric: str) -> int | None:
        """The series id of ``metric`` on ``entity``, if it has one."""
        return self.index.get((entity, metric))

    def load(self, t_ms: int) -> FloatArray:
        """Per-series load in [0, ~1.3]: diurnal shape, weekend factor, growth."""
        day = t_ms / 86_400_000.0
        tod = day % 1.0
        dow = int((day + 3) % 7)  # 1970-01-01 was a Thursday; 0 = Monday
        shape = 0.5 - 0.5 * np.cos(2.0 * np.pi * (tod - self.phase + 0.5))
        shape = 0.25 + 0.75 * shape * shape
        wk = self.weekend if dow >= 5 else 1.0
        days = (t_ms - self.start_ms) / 86_400_000.0
        return np.asarray(shape * wk * (1.0 + self.growth * days), dtype=np.float64)

    def sample(self, t_ms: int, effects: list[Effect]) -> MetricBatch:
        """Every series' value at ``t_ms``, with the active effects applied."""
        v = (
            self.level
            + self.gain * self.load(t_ms)
            + self.sd * self.rng.standard_normal(self.level.shape[0])
        )
        keep: npt.NDArray[np.bool_] | None = None
        for e in effects:
            if e.t0_ms > t_ms or (e.end_ms is not None and e.end_ms <= t_ms):
                continue
            if e.op == "absent":
                if keep is None:
                    keep = np.ones(v.shape[0], dtype=bool)
                keep[e.series] = False
                continue
            x = e.at(t_ms)
            if e.op == "mult":
                v[e.series] *= x
            elif e.op == "add":
                v[e.series] += x
            else:
                v[e.series] = x + 0.02 * self.sd[e.series] * self.rng.standard_normal(
                    e.series.shape[0]
                )
        np.clip(v, self.lo, self.hi, out=v)
        ids = self.all_ids
        if keep is not None:
            ids, v = ids[keep], v[keep]
        return MetricBatch(ids, np.full(ids.shape[0], t_ms, dtype=np.int64), v)
