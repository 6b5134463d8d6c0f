"""Core and IT faults: deployments, network functions, DNS, databases, certificates, disks."""

from __future__ import annotations

import numpy as np

from nocwise.model import ChangeKind, EventType, Severity
from nocwise.sim.catalogue import REMEDIATION
from nocwise.sim.engine import Engine, Owner, at_offset
from nocwise.sim.fault_base import (
    CARE_TEXTS,
    CARE_TITLES,
    COMM,
    EQUIP,
    PROC,
    QOS,
    FaultModel,
    app_error_tick,
    bump_version,
    customer_tickets,
    finish_default,
    service_degradation,
    spec_of,
)


def _deploy_start(sim: Engine, f: Owner) -> None:
    topo, at, rng = sim.topo, f.start_ms, f.rng
    ent = topo.entities[f.root]
    before = ent.attributes.get("version", "1.0.0")
    after = bump_version(before)
    f.data["versions"] = (before, after)
    sim.change(f, at, f.root, ChangeKind.DEPLOYMENT, before=before, after=after, source="argocd",
               description=f"Rolling update of {ent.name} to {after}")  # fmt: skip
    onset = at_offset(at, rng, 60, 180)
    f.data["onset"] = onset
    service_degradation(sim, f, onset, f.root, float(rng.uniform(8, 30)), 1.6, "HighErrorRate")
    pod = topo.index.get(f"pod-{ent.name}-1")
    if pod is not None:
        sim.alarm(f, at_offset(onset, rng, 30, 90), spec_of(
            sim, pod, "k8s", PROC, "softwareError", "CrashLoopBackOff", Severity.MINOR,
            f"Back-off restarting failed container {ent.name} (image tag {after})"))  # fmt: skip
    if ent.name in {"api-gateway", "auth", "crm", "order-management", "product-catalog"}:
        custs = [
            c
            for c in topo.of_kind("customer")
            if topo.entities[c].attributes.get("segment") == "enterprise"
        ]
        for c in custs[:: max(1, len(custs) // 3)][:3]:
            sim.ticket(f, at_offset(onset, rng, 600, 1800), CARE_TITLES["portal"],
                       CARE_TEXTS["portal"][int(rng.integers(3))].format(cust=topo.entities[c].name, area=""),
                       [c], severity="Minor", priority=3)  # fmt: skip


def _deploy_finish(sim: Engine, f: Owner, at: int) -> None:
    before, after = f.data["versions"]
    sim.change(f, at, f.root, ChangeKind.DEPLOYMENT, before=after, after=before, source="argocd",
               description=f"Rollback of {sim.topo.entities[f.root].name} to {before}")  # fmt: skip
    finish_default(sim, f, at + 30_000)


# UPF memory leak ----------------------------------------------------------------------------


def _smfs_of(sim: Engine, upf: int) -> list[int]:
    return [d for d in sim.topo.dependents.get(upf, []) if sim.topo.entities[d].kind == "smf"]


def _leak_start(sim: Engine, f: Owner) -> None:
    at, rng = f.start_ms, f.rng
    u = f.root
    f.impacted.add(u)
    to_full = float(rng.uniform(40, 150)) * 60.0  # seconds from 45% to 100%
    slope = 55.0 / to_full
    f.data["slope"] = slope
    f.data["onset"] = at
    _leak_cycle(sim, f, at, float(rng.uniform(62, 76)))  # it has been leaking before anyone looked


def _leak_cycle(sim: Engine, f: Owner, t0: int, start: float = 45.0) -> None:
    """Memory climbs, alarms at 80/90%, the UPF crashes at 100% and starts over from 45%."""
    rng, u, slope = f.rng, f.root, float(f.data["slope"])
    mem = sim.series_of([u], "memory_utilisation")
    e = sim.effect(f, mem, "set", start, t0_ms=t0, slope=slope, cap=100.0)
    t80 = t0 + int(max(0.0, 80 - start) / slope * 1000) + int(rng.uniform(30, 120) * 1000)
    t90 = t0 + int(max(0.0, 90 - start) / slope * 1000)
    crash = t0 + int((100 - start) / slope * 1000) + int(rng.uniform(30, 300) * 1000)
    key = sim.alarm(f, t80, spec_of(sim, u, "ems-core", PROC, "thresholdCrossed", "Memory utilisation above 80%",
                                    Severity.MINOR, "UPF user-plane process memory above 80%"), key=f"{f.id}/mem/{t0}")  # fmt: skip
    sim.change_severity(f, max(t90, t80 + 60_000), key, Severity.MAJOR)

    def oom(t: int) -> None:
        e.end_ms = t
        sim.alarm(f, t, spec_of(sim, u, "ems-core", PROC, "outOfMemory", "UPF process restarted (OOM)",
                                Severity.CRITICAL, "upf-dp killed by OOM killer; PDU sessions dropped", True),
                  key=f"{f.id}/oom/{t}")  # fmt: skip
        sim.effect(f, sim.series_of([u], "throughput"), "mult", 0.3, t0_ms=t).end_ms = t + 240_000
        for smf in _smfs_of(sim, u):
            f.impacted.add(smf)
            k2 = sim.alarm(f, at_offset(t, rng, 10, 60), spec_of(
                sim, smf, "ems-core", QOS, "thresholdCrossed", "PDU session establishment failures",
                Severity.MAJOR, f"N4 association to {sim.topo.entities[u].name} lost; PDU session success below 90%", True),
                key=f"{f.id}/pdu/{smf}/{t}")  # fmt: skip
            sim.effect(
                f, sim.series_of([smf], "pdu_session_success"), "add", -25.0, t0_ms=t
            ).end_ms = t + 300_000
            sim.clear(f, t + 300_000 + int(rng.uniform(0, 60_000)), k2)
        sim.clear(f, t + int(rng.uniform(120, 300) * 1000), key)
        _leak_cycle(sim, f, t + 60_000)

    sim.call(f, crash, oom)


# AMF overload -------------------------------------------------------------------------------


def _amf_start(sim: Engine, f: Owner) -> None:
    topo, at, rng = sim.topo, f.start_ms, f.rng
    a = f.root
    f.impacted.add(a)
    sim.effect(
        f, sim.series_of([a], "cpu_utilisation"), "set", float(rng.uniform(92, 99)), t0_ms=at
    )
    sim.effect(
        f, sim.series_of([a], "registration_rate"), "mult", float(rng.uniform(2, 4)), t0_ms=at
    )
    sim.effect(
        f,
        sim.series_of([a], "registration_success"),
        "add",
        -float(rng.uniform(10, 35)),
        t0_ms=at + 60_000,
    )
    sim.alarm(f, at_offset(at, rng, 30, 90), spec_of(sim, a, "ems-core", QOS, "congestion", "AMF overload",
                                                  Severity.MAJOR, "N2 overload start sent to gNBs (reject non-emergency)", True))  # fmt: skip
    sim.alarm(f, at_offset(at, rng, 120, 240), spec_of(
        sim, a, "ems-core", QOS, "thresholdCrossed", "Registration success rate below 95%", Severity.MAJOR,
        "Initial registration success rate below 95% over 5 min", True))  # fmt: skip
    gnbs = topo.pop_of_amf.get(a, [])
    for g in rng.permutation(np.asarray(gnbs, dtype=np.int64))[:8]:
        f.impacted.add(int(g))
        sim.alarm(f, at_offset(at, rng, 40, 150), spec_of(
            sim, int(g), "ems-ran", COMM, "congestion", "NG overload start received", Severity.WARNING,
            f"AMF {topo.entities[a].name} requested overload control"))  # fmt: skip
    sites = [
        sim.site_of[topo.site_csr[s]]
        for s in range(len(topo.site))
        if topo.site_ran[s] in set(gnbs[:40])
    ]
    customer_tickets(sim, f, at, sites[:3], "no_service")


# DNS DDoS -----------------------------------------------------------------------------------


def _ddos_start(sim: Engine, f: Owner) -> None:
    at, rng = f.start_ms, f.rng
    d = f.root
    f.impacted.add(d)
    sim.effect(
        f, sim.series_of([d], "dns_query_rate"), "mult", float(rng.uniform(12, 30)), t0_ms=at
    )
    sim.effect(
        f, sim.series_of([d], "servfail_ratio"), "add", float(rng.uniform(8, 25)), t0_ms=at + 60_000
    )
    sim.alarm(f, at_offset(at, rng, 60, 120), spec_of(sim, d, "ems-it", QOS, "thresholdCrossed", "DNS query rate above 5x baseline",
                                                   Severity.MAJOR, "Query flood from many sources (ANY/random subdomains)", True))  # fmt: skip
    f.data["onset"] = at
    service_degradation(sim, f, at + 60_000, d, 4.0, 6.0, "DNSResolutionSlow", depth=1)
    customer_tickets(sim, f, at, [0, 1, 2][: len(sim.topo.site)], "dns")


# database slow queries ----------------------------------------------------------------------


def _db_start(sim: Engine, f: Owner) -> None:
    at, rng = f.start_ms, f.rng
    db = f.root
    f.data["onset"] = at
    sim.effect(f, sim.series_of([db], "connections"), "mult", 2.5, t0_ms=at)
    service_degradation(sim, f, at, db, 2.0, float(rng.uniform(10, 30)), "SlowQueries", depth=3)


# certificate expiry -------------------------------------------------------------------------


def _cert_start(sim: Engine, f: Owner) -> None:
    at, rng = f.start_ms, f.rng
    e = f.root
    f.data["onset"] = at
    name = sim.topo.entities[e].name
    sim.alarm(f, at_offset(at, rng, 5, 60), spec_of(sim, e, "cert-monitor", EventType.SECURITY_VIOLATION, "certificateExpired",
                                                 "Server certificate expired", Severity.MAJOR,
                                                 f"TLS certificate CN={name} expired (notAfter reached)", True))  # fmt: skip
    sim.effect(f, sim.series_of([e], "request_rate"), "mult", 0.15, t0_ms=at)
    service_degradation(sim, f, at, e, 0.0, 1.0, "TLSHandshakeFailures", depth=2)
    f.data["family"] = "certificate"


# disk full ----------------------------------------------------------------------------------


def _disk_start(sim: Engine, f: Owner) -> None:
    topo, at, rng = sim.topo, f.start_ms, f.rng
    e = f.root
    f.impacted.add(e)
    disk = sim.series_of([e], "disk_utilisation")
    fill_s = float(rng.uniform(15, 50)) * 60
    base = max(float(sim.tel.level[disk[0]]) if disk else 50.0, float(rng.uniform(72, 80)))
    slope = (100 - base) / fill_s
    sim.effect(f, disk, "set", base, t0_ms=at, slope=slope, cap=100.0)
    t85 = at + int((85 - base) / slope * 1000)
    full = at + int(fill_s * 1000)
    key = sim.alarm(f, t85, spec_of(sim, e, "ems-it", EQUIP, "storageCapacityProblem", "Filesystem usage above 85%",
                                    Severity.MINOR, "/var usage above 85%"))  # fmt: skip
    sim.change_severity(f, at + int((95 - base) / slope * 1000), key, Severity.MAJOR)

    def full_now(t: int) -> None:
        sim.change_severity(f, t, key, Severity.CRITICAL)
        f.data["onset"] = t
        if topo.entities[e].kind == "database":
            service_degradation(sim, f, t, e, 20.0, 5.0, "DatabaseWriteErrors", depth=2)
            return
        hit: set[int] = set()
        for x in topo.hosted.get(e, []):
            ent = topo.entities[x]
            if ent.kind == "pod":
                sim.alarm(f, at_offset(t, rng, 20, 90), spec_of(sim, x, "k8s", PROC, "storageCapacityProblem", "Pod evicted",
                                                             Severity.MINOR, "The node was low on resource: ephemeral-storage"))  # fmt: skip
                svc = topo.index.get(f"svc-{ent.attributes.get('service', '')}")
                if svc is not None:
                    hit.add(svc)
            elif ent.kind in {"amf", "smf", "upf", "nrf", "udm", "ausf", "dns", "database"}:
                hit.add(x)
        for svc in sorted(hit)[:3]:
            service_degradation(
                sim, f, at_offset(t, rng, 30, 120), svc, 6.0, 1.5, "HighErrorRate", depth=1
            )

    sim.call(f, full, full_now)


MODELS = (
    FaultModel("bad_deployment", REMEDIATION["bad_deployment"], ("microservice",), _deploy_start, _deploy_finish,
               app_error_tick("deployment"), description="A new version (Change) raises errors; callers follow"),
    FaultModel("upf_memory_leak", REMEDIATION["upf_memory_leak"], ("upf",), _leak_start,
               description="Memory climbs for hours, the UPF crashes (OOM), sessions drop, and it climbs again"),
    FaultModel("amf_overload", REMEDIATION["amf_overload"], ("amf",), _amf_start,
               description="Signalling storm: CPU pegged, registrations fail, gNBs told to back off"),
    FaultModel("dns_ddos", REMEDIATION["dns_ddos"], ("dns",), _ddos_start, None, app_error_tick("dns"),
               description="Query flood: rate and latency up, resolution slow for every service"),
    FaultModel("db_slow_queries", REMEDIATION["db_slow_queries"], ("database",), _db_start, None,
               app_error_tick("database"), description="Slow queries: latency cascades up the call graph"),
    FaultModel("certificate_expiry", REMEDIATION["certificate_expiry"], ("microservice", "nrf"), _cert_start, None,
               app_error_tick("certificate"), description="Expired certificate: callers fail TLS handshakes"),
    FaultModel("disk_full", REMEDIATION["disk_full"], ("k8s_node", "database"), _disk_start, None,
               app_error_tick("disk"), description="Disk fills, then writes fail or pods are evicted"),
)  # fmt: skip
