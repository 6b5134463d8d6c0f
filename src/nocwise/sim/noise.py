"""Background that belongs to no fault: chatty and flapping alarms, planned maintenance, harmless
metric excursions, everyday syslog and application logs, and traces of normal requests.

Counts are per simulated day at noise level 1.0 and grow with the network (one unit per 200 sites).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nocwise.clock import from_ms
from nocwise.model import ChangeKind, EventType, LogRecord, Severity, Span, SpanStatus
from nocwise.sim.engine import AlarmSpec, Engine, Owner, at_offset
from nocwise.sim.scenario import Scenario
from nocwise.sim.syslog import BENIGN_ROUTER_EVENTS, app_line, ifname, router_line
from nocwise.sim.topology import DATABASES, MICROSERVICES

DAY_MS = 86_400_000

_CHATTY: dict[str, tuple[EventType, str, str, Severity, str]] = {
    "site": (EventType.ENVIRONMENTAL, "temperatureUnacceptable", "High shelter temperature", Severity.WARNING, "Shelter temperature above 35 C"),
    "cell": (EventType.QUALITY_OF_SERVICE, "thresholdCrossed", "RRC setup success rate low", Severity.MINOR, "RRC setup success below 98% in last 15 min"),
    "csr": (EventType.EQUIPMENT, "coolingSystemFailure", "Fan tray speed deviation", Severity.WARNING, "Fan 2 speed outside nominal range"),
    "agg_router": (EventType.EQUIPMENT, "powerProblem", "PSU input voltage out of range", Severity.WARNING, "PSU1 input voltage fluctuating"),
    "k8s_node": (EventType.PROCESSING_ERROR, "thresholdCrossed", "KubeNodeMemoryPressure", Severity.WARNING, "node memory pressure condition true"),
}  # fmt: skip


@dataclass(slots=True)
class Background:
    """Everyday logs and traces generated per step, and the noise owners' ledger."""

    engine: Engine
    scenario: Scenario
    rng: np.random.Generator
    harmless: list[tuple[int, int, int]] = field(default_factory=list)
    _n: int = 0

    def tick(self, lo: int, hi: int) -> None:
        """Benign syslog on routers and info logs from microservices in ``(lo, hi]``."""
        eng, rng, nz = self.engine, self.rng, self.scenario.noise
        topo = eng.topo
        hours = (hi - lo) / 3_600_000
        routers = topo.routers
        k = int(rng.poisson(nz.syslog_per_router_hour * nz.level * len(routers) * hours))
        if k:
            who = rng.integers(0, len(routers), k)
            ts = np.sort(rng.integers(lo + 1, hi + 1, k))
            ev = rng.integers(0, len(BENIGN_ROUTER_EVENTS), k)
            for r, t, e in zip(who, ts, ev, strict=True):
                ent = topo.entities[routers[int(r)]]
                self._n += 1
                msg, app, sev = router_line(ent.attributes.get("vendor", "cisco-iosxr"), ent.name, from_ms(int(t)),
                                            BENIGN_ROUTER_EVENTS[int(e)], seq=self._n, port=int(r) % 36 + 1,
                                            user=("noc", "netops", "jdoe", "automation")[int(t) % 4])  # fmt: skip
                eng.out.logs.append(LogRecord(from_ms(int(t)), msg, sev, ent.id, "syslog", ent.name, app,
                                              {"vendor": ent.attributes.get("vendor", "")}))  # fmt: skip
        services = topo.of_kind("microservice")
        k = int(rng.poisson(nz.app_logs_per_service_minute * nz.level * len(services) * hours * 60))
        if k:
            who = rng.integers(0, len(services), k)
            ts = rng.integers(lo + 1, hi + 1, k)
            for s, t in zip(who, ts, strict=True):
                ent = topo.entities[services[int(s)]]
                msg, sev = app_line("info", ent.name, int(t))
                eng.out.logs.append(
                    LogRecord(from_ms(int(t)), msg, sev, ent.id, "app", f"{ent.name}-pod", ent.name)
                )

    def traces(self, lo: int, hi: int, degraded: dict[str, str]) -> list[Span]:
        """A few sampled request traces through the BSS call graph; degraded services fail or lag."""
        rng = self.rng
        out: list[Span] = []
        for _ in range(int(self.scenario.noise.traces_per_step)):
            t0 = int(rng.integers(lo + 1, hi + 1))
            trace_id = f"{int(rng.integers(1 << 62)):016x}{int(rng.integers(1 << 62)):016x}"
            self._span(out, trace_id, None, "api-gateway", "GET /api/v1/account", t0, degraded, 0)
        return out

    def _span(self, out: list[Span], trace_id: str, parent: str | None, service: str, op: str, t0: int,
              degraded: dict[str, str], depth: int) -> tuple[int, bool]:  # fmt: skip
        rng = self.rng
        span_id = f"{int(rng.integers(1 << 62)):016x}"
        t = t0 + int(rng.integers(1, 4))
        failed = False
        callees = list(MICROSERVICES.get(service, ()))
        if callees and depth < 3:
            for c in rng.choice(callees, size=min(2, len(callees)), replace=False):
                end, err = self._span(
                    out, trace_id, span_id, str(c), f"{c}.handle", t, degraded, depth + 1
                )
                t, failed = end, failed or err
        for db, users in DATABASES.items():
            if service in users:
                dur = int(rng.gamma(2.0, 3.0)) + 1
                slow = degraded.get(db) is not None
                out.append(Span(trace_id, f"{int(rng.integers(1 << 62)):016x}", db, "SELECT", from_ms(t),
                                from_ms(t + dur * (20 if slow else 1)), span_id, SpanStatus.OK,
                                {"db.system": "postgresql"}))  # fmt: skip
                t += dur * (20 if slow else 1)
        own = int(rng.gamma(2.0, 8.0)) + 1
        if service in degraded:
            own *= 3
            failed = failed or rng.random() < 0.4
        end = t + own
        status = SpanStatus.ERROR if failed else SpanStatus.OK
        if failed and service in degraded:
            self._error_log(service, trace_id, span_id, end, op)
        attrs = {"http.status_code": "500" if failed else "200", "service.version": "current"}
        out.append(
            Span(trace_id, span_id, service, op, from_ms(t0), from_ms(end), parent, status, attrs)
        )
        return end, failed

    def _error_log(self, service: str, trace_id: str, span_id: str, at: int, op: str) -> None:
        """The failing service logs the error with the trace it belongs to."""
        eng = self.engine
        e = eng.topo.index.get(f"svc-{service}")
        if e is None:
            return
        msg = f"ERROR request failed op={op} status=500 trace_id={trace_id} span_id={span_id}"
        eng.out.logs.append(LogRecord(from_ms(at), msg, 3, eng.topo.entities[e].id, "app", f"{service}-pod",
                                      service, {}, trace_id, span_id))  # fmt: skip


def plan_noise(eng: Engine, sc: Scenario, start: int, end: int) -> Background:
    """Schedule the whole run's noise up front (seeded); returns the per-step generator."""
    rng = np.random.default_rng([sc.seed, 5])
    nz = sc.noise
    topo = eng.topo
    days = max((end - start) / DAY_MS, 1 / 24)
    scale = nz.level * max(1.0, sc.n_sites / 200)
    noise = Owner("noise", "noise", np.random.default_rng([sc.seed, 6]))
    eng.owners[noise.id] = noise
    bg = Background(eng, sc, np.random.default_rng([sc.seed, 7]))
    _new_sites(eng, sc, start, end)
    if nz.level <= 0:
        return bg

    # chatty: the same warning raised and cleared again and again on a few entities
    kinds = list(_CHATTY)
    for i in range(round(nz.chatty * scale)):
        kind = kinds[i % len(kinds)]
        pool = topo.of_kind(kind)
        if kind == "site":
            pool = [p for p in pool if topo.entities[p].attributes.get("type") != "datacentre"]
        if not pool:
            continue
        e = pool[int(rng.integers(len(pool)))]
        et, cause, problem, sev, text = _CHATTY[kind]
        period = rng.uniform(6, 25) * 60_000
        t = start + int(rng.uniform(0, period))
        n = 0
        while t < end:
            key = eng.alarm(noise, t, AlarmSpec(e, f"ems-{topo.entities[e].domain.value}", et, cause, problem, sev, text),
                            key=f"chatty/{i}/{n}")  # fmt: skip
            eng.clear(noise, t + int(rng.uniform(1, 6) * 60_000), key)
            t += int(rng.exponential(period)) + 60_000
            n += 1

    # flapping ports: episodes of link down/up every 1-3 minutes
    links = [k for k, r in enumerate(topo.link_role) if r == "access"]
    for i in range(int(rng.poisson(nz.flapping * scale * days)) + (1 if nz.flapping else 0)):
        k = links[int(rng.integers(len(links)))]
        r = topo.link_b[k]
        vendor = topo.entities[r].attributes.get("vendor", "cisco-iosxr")
        port = eng.port(k, r)
        info = {"interface": ifname(vendor, port), "link": topo.entities[topo.link_entity[k]].id}
        t = start + int(rng.uniform(0, max(1, end - start - 1_800_000)))
        stop = t + int(rng.uniform(20, 60) * 60_000)
        n = 0
        while t < stop and t < end:
            key = eng.alarm(noise, t, AlarmSpec(r, "ems-transport", EventType.COMMUNICATIONS, "linkDown",
                                                f"Interface {info['interface']} down", Severity.MAJOR,
                                                "Link flapping", False, info), key=f"flap/{i}/{n}")  # fmt: skip
            up = t + int(rng.uniform(5, 40) * 1000)
            eng.clear(noise, up, key)
            eng.router_log(noise, t, r, "link_down", port=port)
            eng.router_log(noise, up, r, "link_up", port=port)
            t = up + int(rng.uniform(60, 180) * 1000)
            n += 1

    # planned maintenance: a maintenance change, then a reboot with planned-outage alarms
    csrs = topo.site_csr
    for i in range(
        int(rng.poisson(nz.maintenance * scale * days)) + (1 if days >= 1 and nz.maintenance else 0)
    ):
        day0 = start + int(rng.integers(0, max(1, int(days)))) * DAY_MS
        t = day0 - day0 % DAY_MS + int(rng.uniform(1, 4) * 3_600_000)
        if t < start:
            t += DAY_MS
        if t >= end:
            continue
        mo = Owner(f"M{i + 1:04d}", "maintenance", np.random.default_rng([sc.seed, 200, i]))
        eng.owners[mo.id] = mo
        s = int(rng.integers(len(csrs)))
        r = csrs[s]
        win = int(rng.uniform(45, 120) * 60_000)
        eng.change(mo, t, r, ChangeKind.MAINTENANCE, before="7.5.2", after="7.9.1", source="itsm",
                   description=f"Planned software upgrade of {topo.entities[r].name}", end_ms=t + win)  # fmt: skip
        boot = at_offset(t, mo.rng, 300, 900)
        up = boot + int(mo.rng.uniform(6, 15) * 60_000)
        for e, src, et, cause, problem, sev in (
            (r, "ems-transport", EventType.COMMUNICATIONS, "communicationsSubsystemFailure", "NE unreachable", Severity.MAJOR),
            (topo.site_ran[s], "ems-ran", EventType.COMMUNICATIONS, "connectionEstablishmentError", "NG link failure", Severity.CRITICAL),
            *((c, "ems-ran", EventType.QUALITY_OF_SERVICE, "underlyingResourceUnavailable", "Cell out of service", Severity.MAJOR)
              for c in topo.site_cells[s]),
        ):  # fmt: skip
            key = eng.alarm(mo, at_offset(boot, mo.rng, 5, 60), AlarmSpec(
                e, src, et, cause, problem, sev, "Planned work in progress", True, planned=True))  # fmt: skip
            eng.clear(mo, at_offset(up, mo.rng, 5, 90), key)
        ids = eng.series_of([r, *topo.site_cells[s]])
        eff = eng.effect(mo, ids, "absent", t0_ms=boot)
        eff.end_ms = up

    # harmless anomalies: short metric excursions with no fault behind them
    metrics = (
        "prb_utilisation",
        "latency_p99",
        "cpu_utilisation",
        "dns_query_rate",
        "if_utilisation",
    )
    sids = [s.id for s in eng.tel.series if s.metric in metrics]
    for _ in range(int(rng.poisson(nz.harmless_anomalies * scale * days))):
        sid = sids[int(rng.integers(len(sids)))]
        t = start + int(rng.uniform(0, end - start))
        eff = eng.effect(noise, [sid], "mult", float(rng.uniform(1.4, 2.2)), t0_ms=t)
        eff.end_ms = t + int(rng.uniform(5, 20) * 60_000)
        bg.harmless.append((sid, t, eff.end_ms))
    noise.series.clear()
    return bg


def _new_sites(eng: Engine, sc: Scenario, start: int, end: int) -> None:
    """Drift: some sites come into service mid-run (no KPIs before, a commissioning change)."""
    d = sc.drift
    if d.new_sites_at is None or d.new_sites_fraction <= 0:
        return
    topo = eng.topo
    at = start + int(d.new_sites_at.total_seconds() * 1000)
    rng = np.random.default_rng([sc.seed, 8])
    n = max(1, round(d.new_sites_fraction * len(topo.site)))
    owner = Owner("drift", "noise", rng)
    eng.owners[owner.id] = owner
    for s in sorted(
        int(x) for x in rng.choice(len(topo.site), size=min(n, len(topo.site)), replace=False)
    ):
        links = [topo.link_entity[k] for k in topo.site_access_links[s]]
        ents = [topo.site_csr[s], topo.site_power[s], topo.site[s], *topo.site_cells[s], *links]
        eff = eng.effect(owner, eng.series_of(ents), "absent", t0_ms=start)
        eff.end_ms = at
        if at < end:
            eng.change(owner, at, topo.site_ran[s], ChangeKind.CONFIGURATION, after="in-service", source="itsm",
                       description=f"{topo.entities[topo.site[s]].name} commissioned and brought into service")  # fmt: skip
    owner.series.clear()
