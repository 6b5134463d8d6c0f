"""Network faults: fibre, power, optics, routing, configuration and capacity."""

from __future__ import annotations

from nocwise.model import ChangeKind, Severity
from nocwise.sim.catalogue import REMEDIATION
from nocwise.sim.engine import Engine, Owner, at_offset
from nocwise.sim.fault_base import (
    COMM,
    ENV,
    EQUIP,
    PROC,
    QOS,
    FaultModel,
    customer_tickets,
    finish_default,
    isolation_alarms,
    link_down_alarms,
    link_up_logs,
    spec_of,
)
from nocwise.sim.syslog import ifname

# fibre cut ----------------------------------------------------------------------------------


def _fibre_start(sim: Engine, f: Owner) -> None:
    topo, at = sim.topo, f.start_ms
    row = sim.link_row[f.root]
    duct = topo.link_duct[row]
    cut = (
        [k for k, d in enumerate(topo.link_duct) if d == duct]
        if duct.startswith("duct-up")
        else [row]
    )
    f.data["cut"] = cut
    for k in cut:
        le = topo.link_entity[k]
        f.roots.add(le)
        f.impacted.add(le)
        sim.alarm(f, at_offset(at, f.rng, 0.2, 3), spec_of(
            sim, le, "ems-optical", COMM, "lossOfSignal", "LOS on OTS span",
            Severity.CRITICAL, f"Loss of signal on {topo.entities[le].name} (duct {duct})", True,
            {"duct": duct}))  # fmt: skip
        sim.effect(f, sim.series_of([le], "if_utilisation", "if_errors"), "set", 0.0, t0_ms=at)
        sim.effect(f, sim.series_of([le], "optical_rx_power"), "set", -40.0, t0_ms=at)
        sim.effect(f, sim.series_of([le], "latency"), "absent", t0_ms=at)
    newly = sim.set_transport(f, at, cut)
    for k in cut:
        link_down_alarms(sim, f, at, k, (topo.link_a[k], topo.link_b[k]))
        if topo.link_role[k] == "ring" and not newly:  # rerouted around the ring
            ring = topo.entities[topo.link_entity[k]].attributes.get("ring", "")
            sib = [topo.link_entity[j] for j, r in enumerate(topo.link_role)
                   if r == "ring" and j != k and topo.entities[topo.link_entity[j]].attributes.get("ring") == ring]  # fmt: skip
            sim.effect(f, sim.series_of(sib, "if_utilisation"), "mult", 1.6, t0_ms=at)
    isolation_alarms(sim, f, at, newly)
    sites = [sim.site_of[r] for r in newly if r in sim.site_of]
    if sites:
        customer_tickets(sim, f, at, sites, "no_service")


def _fibre_finish(sim: Engine, f: Owner, at: int) -> None:
    finish_default(sim, f, at)
    for k in f.data.get("cut", []):
        link_up_logs(sim, f, at, k)


# site power failure -------------------------------------------------------------------------


def _power_start(sim: Engine, f: Owner) -> None:
    topo, at, rng = sim.topo, f.start_ms, f.rng
    s = topo.site_power.index(f.root)
    f.data["site"] = s
    minutes = topo.site_battery_min[s]
    f.impacted.add(topo.site[s])
    mains = sim.alarm(f, at_offset(at, rng, 1, 10), spec_of(
        sim, f.root, "ems-power", ENV, "powerProblem", "Mains failure",
        Severity.MAJOR, f"AC mains lost at {topo.entities[topo.site[s]].name}; running on battery "
        f"(autonomy ~{minutes:.0f} min)" if minutes else "AC mains lost; no battery backup"))  # fmt: skip
    f.data["mains"] = mains
    sim.effect(f, sim.series_of([f.root], "mains_available"), "set", 0.0, t0_ms=at)
    volts = sim.series_of([f.root], "battery_voltage")
    if minutes > 0:
        sim.effect(
            f, volts, "set", 53.2, t0_ms=at, slope=-(53.2 - 46.5) / (minutes * 60.0), cap=42.0
        )
        batt = sim.alarm(f, at_offset(at, rng, 30, 90), spec_of(
            sim, f.root, "ems-power", EQUIP, "batteryDischarging", "Battery discharging",
            Severity.MINOR, "Battery string discharging, load on DC plant"))  # fmt: skip
        sim.change_severity(f, at + int(0.75 * minutes * 60_000), batt, Severity.MAJOR)
        depleted = at + int(minutes * 60_000)
    else:
        sim.effect(f, volts, "set", 0.0, t0_ms=at)
        depleted = at_offset(at, rng, 2, 10)

    def site_down(t: int) -> None:
        f.data["down_at"] = t
        sim.change_severity(f, t, mains, Severity.CRITICAL)
        if minutes > 0:
            sim.alarm(f, at_offset(t, rng, 0, 5), spec_of(
                sim, f.root, "ems-power", EQUIP, "batteryFailure", "Battery low voltage disconnect",
                Severity.CRITICAL, "LVD operated: battery exhausted, DC load disconnected", True))  # fmt: skip
        csr = topo.site_csr[s]
        newly = sim.set_transport(f, t, down_routers=[csr])
        isolation_alarms(
            sim,
            f,
            t,
            [r for r in newly if r == csr] + [r for r in newly if r != csr],
            powered_off=True,
        )
        for k in topo.site_access_links[s]:
            le = topo.link_entity[k]
            f.impacted.add(le)
            other = topo.link_b[k] if topo.link_a[k] == csr else topo.link_a[k]
            link_down_alarms(sim, f, t, k, (other,))
        customer_tickets(sim, f, t, [s], "no_service")

    sim.call(f, depleted, site_down)


def _power_finish(sim: Engine, f: Owner, at: int) -> None:
    rng = f.rng
    s = f.data["site"]
    was_down = "down_at" in f.data
    boot = at_offset(at, rng, 180, 480) if was_down else at
    for key in sorted(f.active_keys):
        site_alarm = was_down and not key.startswith(f"{f.id}/{f.root}/")
        t = at_offset(boot if site_alarm else at, rng, 5, 40)
        sim.clear(f, t, key, final=True)
    for e in f.effects:
        e.end_ms = at if e.series.size and e.series[0] in sim.series_of([f.root]) else boot
    if was_down:

        def back(t: int) -> None:
            sim.release_transport(f)
            for k in sim.topo.site_access_links[s]:
                link_up_logs(sim, f, t, k)

        sim.call(f, boot, back, final=True)


# optical degradation ------------------------------------------------------------------------


def _optical_start(sim: Engine, f: Owner) -> None:
    topo, at, rng = sim.topo, f.start_ms, f.rng
    row = sim.link_row[f.root]
    f.data["row"] = row
    le = f.root
    f.impacted.add(le)
    ramp_s = float(rng.uniform(900, 2400))
    sid = sim.series_of([le], "optical_rx_power")
    base = float(sim.tel.level[sid[0]]) if sid else -7.0
    floor = float(rng.uniform(-21, -17))
    sim.effect(f, sid, "set", base, t0_ms=at, slope=(floor - base) / ramp_s, cap=floor)
    sim.effect(
        f, sim.series_of([le], "if_errors"), "add", 0.0, t0_ms=at, slope=400 / ramp_s, cap=600.0
    )
    f.data["flap_from"] = at + int(ramp_s * 600)
    for r in (topo.link_a[row], topo.link_b[row]):
        vendor = topo.entities[r].attributes.get("vendor", "cisco-iosxr")
        info = {"interface": ifname(vendor, sim.port(row, r)), "link": topo.entities[le].id}
        low = sim.alarm(f, at + int(ramp_s * 0.35 * 1000) + int(rng.uniform(0, 60_000)), spec_of(
            sim, r, "ems-transport", COMM, "degradedSignal", "Rx optical power low", Severity.MINOR,
            f"Rx power on {info['interface']} below -14 dBm", False, info))  # fmt: skip
        sim.change_severity(f, at + int(ramp_s * 0.8 * 1000), low, Severity.MAJOR)
        sim.alarm(f, at + int(ramp_s * 0.5 * 1000) + int(rng.uniform(0, 90_000)), spec_of(
            sim, r, "ems-transport", COMM, "transmissionError", "CRC errors above threshold", Severity.MINOR,
            f"Input CRC errors on {info['interface']} exceed 1e-6 BER", False, info))  # fmt: skip
    single = [s for s, links in enumerate(topo.site_access_links) if links == [row]]
    for s in single:
        ran = topo.site_ran[s]
        f.impacted.add(ran)
        sim.alarm(f, at + int(ramp_s * 0.6 * 1000), spec_of(
            sim, ran, "ems-ran", QOS, "degradedSignal", "Transport packet loss on NG-U", Severity.MINOR,
            "GTP-U echo loss above 2% on backhaul", True))  # fmt: skip
        sim.effect(
            f,
            sim.series_of(topo.site_cells[s], "dl_throughput"),
            "mult",
            0.7,
            t0_ms=at + int(ramp_s * 500),
        )


def _optical_tick(sim: Engine, f: Owner, lo: int, hi: int) -> None:
    """Once the optics are marginal the link flaps every few minutes."""
    topo, rng = sim.topo, f.rng
    row = f.data["row"]
    nxt = int(f.data.get("next_flap", f.data["flap_from"]))
    while nxt <= hi:
        if nxt > lo:
            for r in (topo.link_a[row], topo.link_b[row]):
                port = sim.port(row, r)
                vendor = topo.entities[r].attributes.get("vendor", "cisco-iosxr")
                info = {"interface": ifname(vendor, port), "link": topo.entities[f.root].id}
                t = at_offset(nxt, rng, 0, 2)
                key = sim.alarm(f, t, spec_of(sim, r, "ems-transport", COMM, "linkDown", f"Interface {info['interface']} down",
                                              Severity.MAJOR, "Link down (flap)", True, info), key=f"{f.id}/flap/{r}/{nxt}")  # fmt: skip
                up = at_offset(t, rng, 4, 30)
                sim.clear(f, up, key)
                sim.router_log(f, t, r, "link_down", port=port)
                sim.snmp_trap(f, t, r, False, port)
                sim.router_log(f, up, r, "link_up", port=port)
                sim.snmp_trap(f, up, r, True, port)
                sim.router_log(
                    f,
                    at_offset(t, rng, 10, 50),
                    r,
                    "crc",
                    port=port,
                    value=int(rng.integers(200, 9000)),
                )
        nxt += int(rng.uniform(120, 420) * 1000)
    f.data["next_flap"] = nxt


# router CPU overload ------------------------------------------------------------------------


def _router_links(
    sim: Engine, r: int, roles: tuple[str, ...] = ("ring", "uplink", "core")
) -> list[int]:
    topo = sim.topo
    return [
        k
        for k in range(len(topo.link_entity))
        if (topo.link_a[k] == r or topo.link_b[k] == r) and topo.link_role[k] in roles
    ]


def _cpu_start(sim: Engine, f: Owner) -> None:
    topo, at, rng = sim.topo, f.start_ms, f.rng
    r = f.root
    f.impacted.add(r)
    sim.effect(
        f,
        sim.series_of([r], "cpu_utilisation"),
        "set",
        60.0,
        t0_ms=at,
        slope=40 / 300.0,
        cap=float(rng.uniform(96, 100)),
    )
    hi = sim.alarm(f, at_offset(at, rng, 150, 300), spec_of(
        sim, r, "ems-transport", PROC, "processorProblem", "CPU utilisation above 90%", Severity.MAJOR,
        "Route processor CPU above 90% for 2 polling intervals"))  # fmt: skip
    sim.change_severity(f, at_offset(at, rng, 600, 900), hi, Severity.CRITICAL)
    links = _router_links(sim, r)
    f.data["links"] = links
    for k in links:
        sim.effect(
            f,
            sim.series_of([topo.link_entity[k]], "latency"),
            "mult",
            float(rng.uniform(2, 5)),
            t0_ms=at + 300_000,
        )
    f.data["flap_from"] = at + int(rng.uniform(420, 900) * 1000)


def _cpu_tick(sim: Engine, f: Owner, lo: int, hi: int) -> None:
    """CPU-hog logs, and neighbours losing routing adjacencies once keepalives are missed."""
    topo, rng = sim.topo, f.rng
    r = f.root
    if rng.random() < 0.6:
        sim.router_log(f, int(rng.integers(lo, hi)) + 1, r, "cpu_high", cpu=int(rng.integers(93, 100)),
                       value=("bgp", "isis", "snmpd", "ipv4_rib")[int(rng.integers(4))])  # fmt: skip
    if hi < f.data["flap_from"] or rng.random() > 0.2 or not f.data["links"]:
        return
    k = f.data["links"][int(rng.integers(len(f.data["links"])))]
    peer = topo.link_b[k] if topo.link_a[k] == r else topo.link_a[k]
    t = int(rng.integers(lo, hi)) + 1
    port = sim.port(k, peer)
    info = {"interface": ifname(topo.entities[peer].attributes.get("vendor", "cisco-iosxr"), port)}
    key = sim.alarm(f, t, spec_of(sim, peer, "ems-transport", COMM, "communicationsProtocolError", "IS-IS adjacency down",
                                  Severity.MINOR, f"Hold time expired for neighbour {topo.entities[r].name}", False, info),
                    key=f"{f.id}/adj/{peer}/{t}")  # fmt: skip
    sim.clear(f, at_offset(t, rng, 20, 90), key)
    sim.router_log(f, t, peer, "isis_down", port=port, peer=topo.entities[r].name)


# routing adjacency loss ---------------------------------------------------------------------


def _adj_start(sim: Engine, f: Owner) -> None:
    topo, at, rng = sim.topo, f.start_ms, f.rng
    r = f.root
    links = _router_links(sim, r)
    k = links[int(rng.integers(len(links)))]
    f.data["row"] = k
    peer = topo.link_b[k] if topo.link_a[k] == r else topo.link_a[k]
    f.impacted.update((r, peer, topo.link_entity[k]))
    newly = sim.set_transport(f, at, [k])
    for a, b in ((r, peer), (peer, r)):
        if sim.isolated[a]:
            continue
        port = sim.port(k, a)
        info = {
            "interface": ifname(topo.entities[a].attributes.get("vendor", "cisco-iosxr"), port),
            "peer": topo.entities[b].name,
        }
        proto = "BGP" if topo.link_role[k] != "ring" else "IS-IS"
        sim.alarm(f, at_offset(at, rng, 0.5, 5), spec_of(
            sim, a, "ems-transport", COMM, "communicationsProtocolError", f"{proto} peer down",
            Severity.MAJOR, f"{proto} session to {topo.entities[b].name} went down: hold timer expired", False, info))  # fmt: skip
        sim.router_log(f, at_offset(at, rng, 0.5, 5), a, "bgp_down" if proto == "BGP" else "isis_down",
                       port=port, peer=topo.entities[b].name)  # fmt: skip
    others = [j for j in _router_links(sim, r) if j != k]
    for j in others:
        sim.effect(f, sim.series_of([topo.link_entity[j]], "if_utilisation"), "mult", 1.5, t0_ms=at)
    sim.effect(f, sim.series_of([topo.link_entity[k]], "if_utilisation"), "set", 0.5, t0_ms=at)
    isolation_alarms(sim, f, at, newly)


def _adj_finish(sim: Engine, f: Owner, at: int) -> None:
    finish_default(sim, f, at)
    topo, k = sim.topo, f.data["row"]
    for a, b in ((topo.link_a[k], topo.link_b[k]), (topo.link_b[k], topo.link_a[k])):
        up = "bgp_up" if topo.link_role[k] != "ring" else "isis_up"
        sim.router_log(
            f,
            at_offset(at, f.rng, 1, 20),
            a,
            up,
            final=True,
            port=sim.port(k, a),
            peer=topo.entities[b].name,
        )


# misconfiguration push ----------------------------------------------------------------------


def _served_sites(sim: Engine, r: int) -> list[int]:
    topo = sim.topo
    if r in sim.site_of:
        return [sim.site_of[r]]
    return [s for s, links in enumerate(topo.site_access_links) if topo.link_b[links[0]] == r]


def _misconfig_start(sim: Engine, f: Owner) -> None:
    topo, at, rng = sim.topo, f.start_ms, f.rng
    r = f.root
    commit = int(rng.integers(10**6, 10**7))
    f.data["commit"] = commit
    what = (
        "ACL on NG-U VRF",
        "QoS policy on uplink",
        "MTU on core-facing interface",
        "route-map for mobile VRF",
    )[int(rng.integers(4))]
    sim.change(f, at, r, ChangeKind.CONFIGURATION, before=f"commit-{commit - 1}", after=f"commit-{commit}",
               source="nso", description=f"Push {what} to {topo.entities[r].name}")  # fmt: skip
    sim.router_log(f, at, r, "commit", user="automation", seq=commit)
    sites = _served_sites(sim, r)
    f.data["sites"] = sites
    onset = at_offset(at, rng, 5, 40)
    f.impacted.add(r)
    sim.effect(f, sim.series_of([topo.link_entity[k] for s in sites for k in topo.site_access_links[s]], "if_utilisation"),
               "mult", 0.08, t0_ms=onset)  # fmt: skip
    for s in sites:
        ran = topo.site_ran[s]
        f.impacted.add(ran)
        sim.effect(f, sim.series_of(topo.site_cells[s], "dl_throughput"), "mult", 0.05, t0_ms=onset)
        sim.effect(
            f, sim.series_of(topo.site_cells[s], "rrc_setup_success"), "add", -12.0, t0_ms=onset
        )
        if rng.random() < 0.85:
            sim.alarm(f, at_offset(onset, rng, 60, 180), spec_of(
                sim, ran, "ems-ran", COMM, "communicationsProtocolError", "GTP-U path failure", Severity.MAJOR,
                "NG-U path to UPF not responding to echo requests", True))  # fmt: skip
    if sites:
        customer_tickets(sim, f, onset, sites[:6], "slow")


def _misconfig_finish(sim: Engine, f: Owner, at: int) -> None:
    commit = f.data["commit"]
    sim.change(f, at, f.root, ChangeKind.CONFIGURATION, before=f"commit-{commit}", after=f"commit-{commit - 1}",
               source="nso", description=f"Rollback of commit {commit} on {sim.topo.entities[f.root].name}")  # fmt: skip
    finish_default(sim, f, at + 20_000)


# capacity congestion ------------------------------------------------------------------------


def _congestion_start(sim: Engine, f: Owner) -> None:
    topo, at, rng = sim.topo, f.start_ms, f.rng
    e = f.root
    span = (f.end_ms - at) if f.end_ms is not None else 6 * 3_600_000
    growth = float(rng.uniform(0.6, 1.0))
    slope = growth / (span / 1000)
    f.impacted.add(e)
    if topo.entities[e].kind == "cell":
        sim.effect(
            f,
            sim.series_of([e], "prb_utilisation"),
            "mult",
            1.0,
            t0_ms=at,
            slope=slope,
            cap=1.0 + growth,
        )
        sim.effect(
            f,
            sim.series_of([e], "rrc_setup_success"),
            "add",
            0.0,
            t0_ms=at,
            slope=-3 * slope,
            cap=-3 * growth,
        )
        src, problem, text = (
            "ems-ran",
            "PRB utilisation above 90%",
            "Downlink PRB utilisation above 90% in busy hour",
        )
    else:
        sim.effect(
            f,
            sim.series_of([e], "if_utilisation"),
            "mult",
            1.0,
            t0_ms=at,
            slope=slope,
            cap=1.0 + growth,
        )
        sim.effect(
            f,
            sim.series_of([e], "latency"),
            "mult",
            1.0,
            t0_ms=at,
            slope=2 * slope,
            cap=1.0 + 2 * growth,
        )
        src, problem, text = (
            "ems-transport",
            "Interface utilisation above 85%",
            "Output utilisation above 85%, tail drops",
        )
    key = sim.alarm(
        f,
        at + int(span * 0.45),
        spec_of(sim, e, src, QOS, "congestion", problem, Severity.MINOR, text),
    )
    sim.change_severity(f, at + int(span * 0.8), key, Severity.MAJOR)


MODELS = (
    FaultModel("fibre_cut", REMEDIATION["fibre_cut"], ("link",), _fibre_start, _fibre_finish,
               default_where={"role": ("access", "ring")},
               description="LOS and link down on both ends; what lies behind is isolated unless protected"),
    FaultModel("site_power_failure", REMEDIATION["site_power_failure"], ("power",), _power_start, _power_finish,
               default_where={"region": ()}, description="Mains failure: battery discharges, then the site goes down"),
    FaultModel("optical_degradation", REMEDIATION["optical_degradation"], ("link",), _optical_start, None, _optical_tick,
               default_where={"role": ("access", "ring", "uplink")},
               description="Rx power falls, CRC errors rise, then the link flaps"),
    FaultModel("router_cpu_overload", REMEDIATION["router_cpu_overload"], ("agg_router", "core_router"), _cpu_start,
               None, _cpu_tick, description="CPU pegged; neighbours lose adjacencies; latency through it rises"),
    FaultModel("adjacency_loss", REMEDIATION["adjacency_loss"], ("agg_router", "core_router"), _adj_start, _adj_finish,
               description="A BGP/IS-IS session drops with the link up: traffic reroutes (or is isolated if unprotected)"),
    FaultModel("misconfiguration", REMEDIATION["misconfiguration"], ("agg_router", "csr"), _misconfig_start,
               _misconfig_finish, description="A config push (Change) drops traffic of the sites behind the router"),
    FaultModel("capacity_congestion", REMEDIATION["capacity_congestion"], ("cell", "link"), _congestion_start,
               default_where={"role": ("ring", "uplink"), "sector": ("1", "2", "3")},
               description="Utilisation grows slowly until it saturates: forecastable"),
)  # fmt: skip
