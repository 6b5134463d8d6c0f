"""What every fault model shares: the model record, alarm helpers, isolation, tickets.

A model schedules what element managers, routers and applications would emit, with realistic
delays, on only the entities that are really impacted given redundancy (a cut on a closed ring
reroutes; a cut on an open chain or a single-homed access link isolates what lies behind it).
Each model names the remediation that ends it (:attr:`FaultModel.remediation`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from nocwise.model import EventType, Severity
from nocwise.sim.engine import AlarmSpec, Engine, Owner, at_offset
from nocwise.sim.syslog import app_line, ifname
from nocwise.sim.topology import Topology

Start = Callable[[Engine, Owner], None]
Finish = Callable[[Engine, Owner, int], None]
Tick = Callable[[Engine, Owner, int, int], None]

COMM = EventType.COMMUNICATIONS
QOS = EventType.QUALITY_OF_SERVICE
PROC = EventType.PROCESSING_ERROR
EQUIP = EventType.EQUIPMENT
ENV = EventType.ENVIRONMENTAL


@dataclass(frozen=True, slots=True)
class FaultModel:
    """One fault type: eligible roots, how it starts, ticks, ends, and how it is fixed."""

    name: str
    remediation: str
    kinds: tuple[str, ...]
    start: Start
    finish: Finish | None = None
    tick: Tick | None = None
    default_where: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Filters unless the scenario sets the key: allowed values where the attribute exists, or
    ``()`` for "the attribute must exist"."""
    description: str = ""

    def pick(
        self, topo: Topology, rng: np.random.Generator, where: Mapping[str, str], avoid: set[int]
    ) -> int:
        """A seeded choice of root entity among those that match ``where``."""
        cands = []
        for i in topo.of_kind(*self.kinds):
            e = topo.entities[i]
            attrs = {**e.attributes, "kind": e.kind, "id": e.id}
            if any(attrs.get(k) != v for k, v in where.items()):
                continue
            if any(
                k not in where and not _allowed(attrs, k, vs)
                for k, vs in self.default_where.items()
            ):
                continue
            cands.append(i)
        free = [i for i in cands if i not in avoid]
        cands = free or cands
        if not cands:
            raise ValueError(f"no entity fits fault {self.name} with {dict(where)}")
        return int(cands[int(rng.integers(len(cands)))])


def _allowed(attrs: Mapping[str, str], key: str, values: tuple[str, ...]) -> bool:
    if not values:
        return key in attrs
    return key not in attrs or attrs[key] in values


# shared pieces ------------------------------------------------------------------------------


def spec_of(sim: Engine, e: int, source: str, et: EventType, cause: str, problem: str, sev: Severity,
          text: str = "", sa: bool = False, info: Mapping[str, str] | None = None) -> AlarmSpec:  # fmt: skip
    return AlarmSpec(e, source, et, cause, problem, sev, text, sa, info or {})


def isolation_alarms(
    sim: Engine, f: Owner, at: int, routers: list[int], *, powered_off: bool = False
) -> None:
    """Alarms and missing KPIs for routers cut off from the core (and the RAN behind a CSR)."""
    topo, rng = sim.topo, f.rng
    for r in routers:
        ent = topo.entities[r]
        f.impacted.add(r)
        why = "power loss" if powered_off else "loss of connectivity"
        sim.alarm(f, at_offset(at, rng, 30, 90), spec_of(
            sim, r, "ems-transport", COMM, "communicationsSubsystemFailure", "NE unreachable",
            Severity.MAJOR if ent.kind == "csr" else Severity.CRITICAL,
            f"Heartbeat to {ent.name} lost ({why}); management session down", True))  # fmt: skip
        sim.effect(f, sim.series_of([r]), "absent", t0_ms=at)
        s = sim.site_of.get(r)
        if s is None:
            continue
        ran, cells = topo.site_ran[s], topo.site_cells[s]
        f.impacted.update((ran, *cells, topo.site[s]))
        ng = "NG" if topo.entities[ran].kind == "gnodeb" else "S1"
        if powered_off:
            problem, text = (
                "NE disconnected",
                f"{topo.entities[ran].name} not responding to OMC heartbeat",
            )
        else:
            problem, text = f"{ng} link failure", f"SCTP association to all {ng}-C peers lost"
        sim.alarm(f, at_offset(at, rng, 8, 45), spec_of(
            sim, ran, "ems-ran", COMM, "connectionEstablishmentError" if not powered_off else "communicationsSubsystemFailure",
            problem, Severity.CRITICAL, text, True))  # fmt: skip
        for c in cells:
            sim.alarm(f, at_offset(at, rng, 20, 75), spec_of(
                sim, c, "ems-ran", QOS, "underlyingResourceUnavailable", "Cell out of service",
                Severity.MAJOR, f"Cell {topo.entities[c].name} unavailable: {why}", True))  # fmt: skip
        sim.effect(f, sim.series_of(cells), "absent", t0_ms=at)
        sim.effect(
            f,
            sim.series_of([topo.link_entity[k] for k in topo.site_access_links[s]]),
            "absent",
            t0_ms=at,
        )


def link_down_alarms(sim: Engine, f: Owner, at: int, row: int, ends: tuple[int, ...]) -> None:
    """What the routers at the ends of a failed link say (those still reachable)."""
    topo, rng = sim.topo, f.rng
    for r in ends:
        if sim.isolated[r]:
            continue
        peer = topo.link_b[row] if r == topo.link_a[row] else topo.link_a[row]
        port = sim.port(row, r)
        vendor = topo.entities[r].attributes.get("vendor", "cisco-iosxr")
        info = {"interface": ifname(vendor, port), "link": topo.entities[topo.link_entity[row]].id}
        t1 = at_offset(at, rng, 0.5, 4)
        sim.alarm(f, t1, key=f"{f.id}/{r}/linkDown/{row}", spec=spec_of(sim, r, "ems-transport", COMM, "linkDown", f"Interface {info['interface']} down",
                               Severity.MAJOR, f"Link to {topo.entities[peer].name} down", True, info))  # fmt: skip
        if topo.entities[peer].kind != "csr" or not sim.isolated[peer]:
            sim.alarm(f, at_offset(t1, rng, 1, 6), spec_of(
                sim, r, "ems-transport", COMM, "communicationsProtocolError", "IS-IS adjacency down",
                Severity.MINOR, f"IS-IS L2 adjacency to {topo.entities[peer].name} lost", False, info),
                key=f"{f.id}/{r}/adj/{row}")  # fmt: skip
        sim.router_log(f, t1, r, "link_down", port=port)
        sim.snmp_trap(f, t1, r, False, port)
        sim.router_log(
            f, at_offset(t1, rng, 0.2, 3), r, "isis_down", port=port, peer=topo.entities[peer].name
        )


def link_up_logs(sim: Engine, f: Owner, at: int, row: int) -> None:
    """Routers log the link coming back."""
    topo, rng = sim.topo, f.rng
    for r in (topo.link_a[row], topo.link_b[row]):
        port = sim.port(row, r)
        t1 = at_offset(at, rng, 0.5, 5)
        sim.router_log(f, t1, r, "link_up", port=port, final=True)
        sim.snmp_trap(f, t1, r, True, port, final=True)


def customer_tickets(sim: Engine, f: Owner, at: int, sites: list[int], problem: str) -> None:
    """Customers on impacted sites call customer care, 10 to 45 minutes later."""
    topo, rng = sim.topo, f.rng
    seen: set[int] = set()
    n = 0
    for s in sites:
        for c in topo.site_customers[s]:
            if c in seen or n >= 12:
                continue
            seen.add(c)
            seg = topo.entities[c].attributes.get("segment", "consumer")
            if rng.random() > (0.8 if seg == "consumer" else 0.35):
                continue
            n += 1
            area = topo.entities[topo.site[s]].name
            text = CARE_TEXTS[problem][int(rng.integers(len(CARE_TEXTS[problem])))].format(
                area=area, cust=topo.entities[c].name
            )
            sim.ticket(f, at_offset(at, rng, 600, 2700), CARE_TITLES[problem], text, [c, topo.site[s]],
                       severity="Major" if seg == "enterprise" else "Minor",
                       priority=2 if seg == "enterprise" else 3)  # fmt: skip


CARE_TITLES = {"no_service": "No mobile service", "portal": "Self-care portal errors",
               "slow": "Slow mobile data", "dns": "Websites not loading"}  # fmt: skip
CARE_TEXTS = {
    "no_service": (
        "Customer reports no signal and no data near {area} since about half an hour.",
        "{cust}: several staff at {area} have no service, calls fail immediately.",
        "cust says phone shows SOS only around {area}, restarted phone already",
        "Multiple complaints from {area}: no 4G/5G coverage, emergency calls only.",
    ),
    "portal": (
        "{cust} cannot complete orders in the self-care portal, gets 'something went wrong'.",
        "Customer unable to log in to My Account, error 500 after entering password.",
        "portal very slow / errors when checking bill - customer angry",
    ),
    "slow": (
        "Customer near {area} reports very slow data, pages time out.",
        "{cust}: video calls freezing at {area} during business hours.",
    ),
    "dns": (
        "Customer says apps don't load but signal is full bars.",
        "Many callers: internet not working, but voice calls ok.",
    ),
}


def finish_default(sim: Engine, f: Owner, at: int) -> None:
    """Clear the fault's alarms, end its effects and give back any transport it held."""
    sim.clear_all(f, at)
    for e in f.effects:
        if e.end_ms is None or e.end_ms > at:
            e.end_ms = at
    sim.release_transport(f)


def bump_version(version: str) -> str:
    parts = (version or "1.0.0").split(".")
    parts[-2] = str(int(parts[-2]) + 1) if len(parts) > 1 else parts[-2]
    parts[-1] = "0"
    return ".".join(parts)


def _callers(sim: Engine, root: int, depth: int) -> list[tuple[int, int]]:
    """Entities that depend on ``root``, with their hop count (breadth first)."""
    out: list[tuple[int, int]] = []
    frontier, seen = [root], {root}
    for hop in range(1, depth + 1):
        nxt = []
        for e in frontier:
            for d in sim.topo.dependents.get(e, []):
                if d not in seen:
                    seen.add(d)
                    nxt.append(d)
                    out.append((d, hop))
        frontier = nxt
    return out


def service_degradation(sim: Engine, f: Owner, onset: int, root: int, err: float, lat: float,
                        root_problem: str, depth: int = 2) -> None:  # fmt: skip
    """Errors and latency on a service, then on its callers hop by hop (the latency cascade)."""
    topo, rng = sim.topo, f.rng
    sim.effect(f, sim.series_of([root], "error_ratio"), "add", err, t0_ms=onset)
    sim.effect(
        f,
        sim.series_of([root], "latency_p99", "latency", "query_latency"),
        "mult",
        lat,
        t0_ms=onset,
    )
    sim.alarm(f, at_offset(onset, rng, 60, 150), spec_of(
        sim, root, "prometheus", QOS, "thresholdCrossed", root_problem, Severity.MAJOR,
        f"{root_problem} on {topo.entities[root].name} for 2m", True))  # fmt: skip
    f.impacted.add(root)
    f.data.setdefault("noisy", []).append(root)
    for e, hop in _callers(sim, root, depth):
        kind = topo.entities[e].kind
        if kind not in {"microservice", "smf", "amf"}:
            continue
        t = onset + int(sum(rng.uniform(40, 120) for _ in range(hop)) * 1000)
        sim.effect(f, sim.series_of([e], "error_ratio"), "add", err / (2.5 * hop), t0_ms=t)
        sim.effect(
            f, sim.series_of([e], "latency_p99", "latency"), "mult", 1 + (lat - 1) / hop, t0_ms=t
        )
        sim.alarm(f, at_offset(t, rng, 60, 120), spec_of(
            sim, e, "prometheus", QOS, "thresholdCrossed",
            "HighLatency" if hop > 1 else "UpstreamErrorRate",
            Severity.MINOR if hop == 1 else Severity.WARNING,
            f"calls to {topo.entities[root].name} failing/slow", hop == 1))  # fmt: skip
        f.impacted.add(e)
        f.data["noisy"].append(e)


def app_error_tick(family: str) -> Tick:
    """Each step, the degraded services log errors of one family."""

    def tick(sim: Engine, f: Owner, lo: int, hi: int) -> None:
        onset = int(f.data.get("onset", f.start_ms))
        if hi <= onset:
            return
        rng = f.rng
        version = f.data.get("versions", ("", ""))[1]
        for i, e in enumerate(f.data.get("noisy", [])):
            fam = family if i == 0 else "upstream"
            for _ in range(int(rng.poisson(6 if i == 0 else 2))):
                t = int(rng.integers(max(lo, onset), hi)) + 1
                root = sim.topo.entities[f.root].name
                msg, sev = app_line(fam, sim.topo.entities[e].name, int(rng.integers(1 << 30)),
                                    res=root if fam == "upstream" else sim.topo.entities[e].name.replace("-", "_"),
                                    version=version, db=root)  # fmt: skip
                sim.log(f, t, e, msg, app=sim.topo.entities[e].name, severity=sev, source="app")

    return tick
