"""Ticket history: thousands of past resolved tickets (TMF621 shape) written the way NOC
engineers write them, so a recommender can learn which fix ends which fault.

Variety: several phrasings per fault type, four engineer styles (formal, terse, abbreviated,
sloppy with typos), vague closures, and label noise (a wrong or missing closure code, the way
real closure codes are picked in a hurry). The true labels are returned separately.

>>> from nocwise.sim.topology import build_topology
>>> tickets, labels = generate_history(build_topology(14, 0), 50, seed=1)
>>> len(tickets), len(labels), tickets[0].status.value in {"resolved", "closed"}
(50, 50, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from nocwise.model import Ticket, TicketStatus
from nocwise.sim.catalogue import CLOSURE_CODE, REMEDIATION, ROOT_KINDS
from nocwise.sim.topology import Topology


@dataclass(frozen=True, slots=True)
class TicketLabel:
    """What really happened behind a past ticket (for evaluation, never for training input)."""

    ticket_id: str
    fault_type: str
    remediation: str
    closure_code_correct: bool


_TITLE: dict[str, tuple[str, ...]] = {
    "fibre_cut": ("LOS on {e}", "Fibre break {e}", "Link down - suspected fibre cut {e}", "Multiple sites down behind {e}"),
    "site_power_failure": ("Mains failure {site}", "Site {site} on battery", "Site down - power", "{site} power outage"),
    "optical_degradation": ("CRC errors on {e}", "Link {e} flapping", "Low Rx power {e}", "Optical degradation {e}"),
    "router_cpu_overload": ("High CPU on {e}", "{e} CPU 100%", "Router {e} sluggish, CPU hog"),
    "adjacency_loss": ("BGP down on {e}", "IS-IS adjacency lost {e}", "Routing adjacency flap {e}"),
    "upf_memory_leak": ("UPF memory high {e}", "{e} OOM restart", "PDU sessions dropping {e}"),
    "amf_overload": ("AMF overload {e}", "Registration failures on {e}", "Attach failures, AMF {e} congested"),
    "dns_ddos": ("DNS query flood {e}", "DNS latency high {e}", "Possible DDoS on resolver {e}"),
    "bad_deployment": ("5xx errors after release {e}", "{e} errors since deploy", "Error rate spike {e} after upgrade"),
    "db_slow_queries": ("DB slow queries {e}", "{e} latency high", "Portal slow - database {e}"),
    "certificate_expiry": ("TLS handshake failures {e}", "Cert expired on {e}", "{e} SSL errors"),
    "disk_full": ("Disk full {e}", "No space left on {e}", "{e} filesystem 100%"),
    "misconfiguration": ("Traffic drop after change on {e}", "{e} config issue", "Sites lost traffic behind {e}"),
    "capacity_congestion": ("Congestion on {e}", "{e} utilisation >90%", "Slow data in busy hour {e}"),
}  # fmt: skip

_DESC: dict[str, tuple[str, ...]] = {
    "fibre_cut": (
        "Transport EMS reports loss of signal on {e}. Link down on both ends, {n} sites unreachable behind it.",
        "NOC sees LOS + linkDown on {e}; cells out of service in the area. Civil works reported nearby.",
        "Multiple NE unreachable alarms, all behind {e}. OTDR shows break at approx {km} km.",
    ),
    "site_power_failure": (
        "Mains failure alarm on {site}, batteries discharging. Site went down after battery exhausted.",
        "{site} lost AC power, running on batteries, then LVD operated and all cells went off air.",
        "Power alarm at {site}; utility confirms outage in the area.",
    ),
    "optical_degradation": (
        "Rx power on {e} dropping ({dbm} dBm), CRC errors increasing, link flapping every few minutes.",
        "Interface errors and flaps on {e}. Optical levels marginal.",
    ),
    "router_cpu_overload": (
        "CPU on {e} at 95-100% for >20 min, routing protocol flaps on neighbours.",
        "{e} slow to respond, CPU hog process seen in logs, BGP keepalives missed.",
    ),
    "adjacency_loss": (
        "BGP/IS-IS adjacency down between {e} and its peer, traffic rerouted, latency up.",
        "Routing adjacency lost on {e}; hold timer expired messages in syslog.",
    ),
    "upf_memory_leak": (
        "UPF {e} memory climbing steadily for hours, now >90%. PDU session setup failures on SMF.",
        "{e} restarted with OOM, user plane sessions dropped.",
    ),
    "amf_overload": (
        "Registration success on {e} fell to {pct}%. Overload start sent to gNBs.",
        "AMF {e} CPU high, many attach failures reported.",
    ),
    "dns_ddos": (
        "Query rate on {e} 20x normal, latency and SERVFAIL up. Source IPs spread widely.",
        "Customers cannot browse; resolver {e} overloaded by query flood.",
    ),
    "bad_deployment": (
        "Error rate on {e} jumped after the release to {ver}. Callers show upstream errors.",
        "{e} returning HTTP 500 since deployment {ver}; CrashLoopBackOff on one pod.",
    ),
    "db_slow_queries": (
        "Query latency on {e} 10x normal, connection pool exhausted on callers, portal slow.",
        "Long running query on {e} blocking others; services timing out.",
    ),
    "certificate_expiry": (
        "TLS handshake failures to {e}: certificate expired at midnight.",
        "Clients of {e} failing with CertificateExpiredException.",
    ),
    "disk_full": (
        "Disk on {e} at 100%, writes failing, pods evicted.",
        "No space left on device on {e}; log volume grew fast.",
    ),
    "misconfiguration": (
        "Traffic through {e} dropped right after config push {chg}. Sites behind it lost data.",
        "After change {chg} on {e}, throughput near zero on downstream sites; no hardware alarms.",
    ),
    "capacity_congestion": (
        "Utilisation on {e} above 90% every busy hour, growing for weeks; customers complain of slow data.",
        "{e} congested at peak, PRB/interface utilisation saturated.",
    ),
}

_FIX: dict[str, tuple[str, ...]] = {
    "dispatch_fibre_repair": ("Field team dispatched, fibre spliced at {km} km, link restored.", "Fibre repaired by contractor, all sites back.", "splicing done, LOS cleared"),
    "dispatch_power_technician": ("Power technician dispatched with generator; mains restored later by utility.", "Tech on site, breaker reset, site back on mains.", "generator brought to site, site up"),
    "replace_optic": ("Replaced SFP on {e}, Rx levels normal, errors stopped.", "Optic cleaned and replaced, link stable.", "swapped the optics, ok now"),
    "restart_process": ("Restarted the runaway process on {e}, CPU back to normal.", "process restart on {e} fixed CPU", "killed and restarted the hogging process"),
    "reset_routing_adjacency": ("Cleared BGP session / reset IS-IS adjacency on {e}, came back up.", "clear bgp neighbor done, session established", "adjacency reset, routes back"),
    "restart_nf": ("Restarted the UPF instance {e}, memory back to baseline; vendor case opened for the leak.", "NF restart on {e}, sessions recovered", "rebooted the NF pod"),
    "scale_out_nf": ("Scaled out AMF {e} by 2 instances, registrations recovered.", "added capacity to {e} (HPA max raised)", "scale-out done"),
    "enable_ddos_mitigation": ("Enabled DDoS scrubbing / rate limiting in front of {e}.", "RRL + scrubbing activated, query rate normal", "mitigation on, attack absorbed"),
    "rollback_deployment": ("Rolled back {e} to previous version {ver}, errors gone.", "rollback via argocd, fixed", "reverted the release"),
    "kill_slow_queries": ("Killed the long running query on {e} and added missing index.", "terminated blocking session on {e}", "DBA killed slow queries, latency ok"),
    "renew_certificate": ("Renewed and deployed the certificate on {e}.", "new cert installed on {e}, handshakes ok", "cert renewed"),
    "clean_up_disk": ("Cleaned up old logs on {e}, 40% free now; log rotation fixed.", "freed disk space on {e}", "purged logs"),
    "rollback_configuration": ("Rolled back config change {chg} on {e}, traffic restored.", "rollback of commit {chg} fixed it", "reverted config"),
    "add_capacity": ("Capacity upgrade planned and executed on {e} (extra carrier / 100G).", "added capacity, utilisation now 55%", "upgrade done"),
}  # fmt: skip

_OPENERS = (
    "",
    "",
    "",
    "[NOC] ",
    "URGENT: ",
    "P1 - ",
    "Fwd from L1: ",
    "Auto-ticket: ",
    "Reported by field ops. ",
)
_CLOSERS = ("", "", "", " Escalated to L2.", " Customer impact confirmed.", " pls check asap", " Monitoring.",
            " Vendor TAC case opened.", " See linked alarms.", " Same as last week?")  # fmt: skip
_VAGUE = (
    "Issue resolved, monitoring.",
    "No fault found, alarms cleared by themselves.",
    "closed - duplicate of parent ticket",
    "Resolved",
)
_ABBR = (("link", "lnk"), ("down", "dwn"), ("router", "rtr"), ("configuration", "cfg"), ("power", "pwr"),
         ("customers", "custs"), ("restarted", "rstd"), ("with", "w/"), ("because", "b/c"), ("errors", "errs"))  # fmt: skip
_ENGINEERS = (("a.kumar", "formal"), ("jdoe", "terse"), ("m.rossi", "abbrev"), ("nightshift2", "sloppy"),
              ("s.okafor", "formal"), ("tlee", "terse"))  # fmt: skip


def _style(text: str, style: str, rng: np.random.Generator) -> str:
    if style == "terse":
        return text.split(". ")[0].rstrip(".").lower()
    if style == "abbrev":
        for a, b in _ABBR:
            text = text.replace(a, b)
        return text
    if style == "sloppy":
        chars = list(text.lower())
        for _ in range(max(1, len(chars) // 40)):
            i = int(rng.integers(1, max(2, len(chars) - 1)))
            op = int(rng.integers(3))
            if op == 0 and i + 1 < len(chars):
                chars[i], chars[i + 1] = chars[i + 1], chars[i]
            elif op == 1:
                del chars[i]
            else:
                chars.insert(i, chars[i])
        return "".join(chars)
    return text


def generate_history(
    topo: Topology,
    n: int,
    seed: int,
    before: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    *,
    wrong_code_rate: float = 0.08,
    missing_code_rate: float = 0.05,
    vague_rate: float = 0.06,
) -> tuple[list[Ticket], list[TicketLabel]]:
    """``n`` resolved tickets from the year before ``before``, and their true labels."""
    rng = np.random.default_rng([seed, 9])
    types = list(REMEDIATION)
    weights = np.asarray([3, 2, 2, 1, 1, 1, 1, 0.6, 2, 1, 0.6, 1, 1, 1.2])
    weights = weights / weights.sum()
    codes = list(CLOSURE_CODE.values())
    tickets: list[Ticket] = []
    labels: list[TicketLabel] = []
    sites = [
        topo.entities[s].name
        for s in topo.site
        if topo.entities[s].attributes.get("type") != "datacentre"
    ]
    for i in range(n):
        ft = types[int(rng.choice(len(types), p=weights))]
        fix = REMEDIATION[ft]
        pool = topo.of_kind(*ROOT_KINDS[ft])
        root = pool[int(rng.integers(len(pool)))]
        ent = topo.entities[root]
        who, style = _ENGINEERS[int(rng.integers(len(_ENGINEERS)))]
        fmt = {"e": ent.name, "site": sites[int(rng.integers(len(sites)))] if sites else "site",
               "n": int(rng.integers(1, 40)), "km": f"{rng.uniform(0.5, 30):.1f}",
               "dbm": f"{rng.uniform(-19, -14):.1f}", "pct": int(rng.integers(60, 92)),
               "ver": f"2.{rng.integers(1, 9)}.{rng.integers(0, 9)}", "chg": f"CHG{int(rng.integers(10**6, 10**7))}"}  # fmt: skip
        title = _TITLE[ft][int(rng.integers(len(_TITLE[ft])))].format(**fmt)
        body = _DESC[ft][int(rng.integers(len(_DESC[ft])))].format(**fmt)
        opener = _OPENERS[int(rng.integers(len(_OPENERS)))]
        closer = _CLOSERS[int(rng.integers(len(_CLOSERS)))]
        desc = _style(f"{opener}{body}{closer}", style, rng)
        vague = rng.random() < vague_rate
        text = (
            _VAGUE[int(rng.integers(len(_VAGUE)))]
            if vague
            else _FIX[fix][int(rng.integers(len(_FIX[fix])))].format(**fmt)
        )
        text = _style(text, style, rng)
        r = rng.random()
        correct = True
        if r < wrong_code_rate:
            code = codes[int(rng.integers(len(codes)))]
            correct = code == CLOSURE_CODE[fix]
            resolution = f"{text}\nClosure code: {code}"
        elif r < wrong_code_rate + missing_code_rate:
            correct = False
            resolution = text
        else:
            resolution = f"{text}\nClosure code: {CLOSURE_CODE[fix]}"
        created = before - timedelta(days=float(rng.uniform(1, 365)))
        hours = float(rng.lognormal(1.0, 0.8))
        t = Ticket(
            id=f"INC{1_000_000 + i:07d}",
            name=title,
            description=desc,
            severity=("Critical", "Major", "Minor")[int(rng.integers(3))],
            status=TicketStatus.CLOSED if rng.random() < 0.7 else TicketStatus.RESOLVED,
            created=created,
            external_id=f"SNOW-{int(rng.integers(10**7, 10**8))}",
            priority=int(rng.integers(1, 5)),
            ticket_type="incident",
            related_entities=(ent.id,),
            related_alarms=tuple(
                f"hist-{ent.domain.value}-{int(rng.integers(10**8)):08d}"
                for _ in range(int(rng.integers(1, 4)))
            ),
            notes=(
                f"{who}: {_style('investigating, checked alarms and recent changes', style, rng)}",
            ),
            resolution=resolution,
            resolved=created + timedelta(hours=hours),
        )
        tickets.append(t)
        labels.append(TicketLabel(t.id, ft, fix, correct))
    return tickets, labels
