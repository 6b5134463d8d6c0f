"""The discrete-event core: a time-ordered heap of raises, clears, logs and callbacks per owner.

Fault models and noise processes schedule events through the helpers here; the twin pops them
step by step. An owner's events scheduled for its active phase are dropped once it has ended
(a repaired fibre raises nothing more); events scheduled by its end (the clears) still run.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from nocwise.clock import from_ms
from nocwise.model import (
    Alarm,
    Change,
    ChangeKind,
    EventType,
    LogRecord,
    Severity,
    Span,
    Ticket,
    TicketStatus,
)
from nocwise.sim.syslog import ifname as syslog_ifname
from nocwise.sim.syslog import router_line
from nocwise.sim.telemetry import Effect, IntArray, Telemetry
from nocwise.sim.topology import Topology


@dataclass(slots=True)
class Owner:
    """Who caused some events: a fault, a noise process or a maintenance window."""

    id: str
    kind: str  # "fault" | "noise" | "maintenance"
    rng: np.random.Generator
    fault_type: str = ""
    root: int = -1
    start_ms: int = 0
    end_ms: int | None = None  # planned end
    ended_ms: int | None = None
    remediated: bool = False
    alarm_ids: set[str] = field(default_factory=set)
    active_keys: set[str] = field(default_factory=set)
    series: set[int] = field(default_factory=set)
    tickets: set[str] = field(default_factory=set)
    changes: set[str] = field(default_factory=set)
    impacted: set[int] = field(default_factory=set)
    roots: set[int] = field(default_factory=set)
    effects: list[Effect] = field(default_factory=list)
    n_logs: int = 0
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlarmSpec:
    """What an element manager would say about one problem on one entity."""

    entity: int
    source: str
    event_type: EventType
    probable_cause: str
    specific_problem: str
    severity: Severity
    text: str = ""
    service_affecting: bool = False
    info: Mapping[str, str] = field(default_factory=dict)
    repair: str = ""
    planned: bool = False


@dataclass(slots=True)
class Outbox:
    """What one step emits."""

    alarms: list[Alarm] = field(default_factory=list)
    logs: list[LogRecord] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)


class Engine:
    """Event heap, active alarms, effects and transport state shared by all fault models."""

    def __init__(
        self, topo: Topology, tel: Telemetry, clock_skew_s: float = 0.0, seed: int = 0
    ) -> None:
        self.topo = topo
        self.tel = tel
        self._heap: list[tuple[int, int, bool, str, str, Any]] = []
        self._seq = 0
        self.owners: dict[str, Owner] = {}
        self.active: dict[str, Alarm] = {}
        self.alarm_owner: dict[str, str] = {}
        self.down_links: dict[int, set[str]] = {}
        self.down_routers: dict[int, set[str]] = {}
        self.isolated = topo.isolated(set())
        self.out = Outbox()
        self.now_ms = 0
        self._n_alarm = 0
        self._n_change = 0
        self._n_ticket = 0
        self._n_log = 0
        self.clock_skew_s = clock_skew_s
        self._seed = seed
        self._skew: dict[str, int] = {}
        self.site_of = {r: s for s, r in enumerate(topo.site_csr)}
        self.link_row = {e: k for k, e in enumerate(topo.link_entity)}

    # scheduling -------------------------------------------------------------------------

    def push(
        self, at_ms: int, owner: Owner, kind: str, payload: Any, *, final: bool = False
    ) -> None:
        """Schedule an event; ``final`` events run even after the owner ended."""
        self._seq += 1
        heapq.heappush(self._heap, (at_ms, self._seq, final, owner.id, kind, payload))

    def pop_until(self, t_ms: int, handle: Callable[[int, Owner, str, Any], None]) -> None:
        """Run every event at or before ``t_ms`` in time order (events may schedule more)."""
        while self._heap and self._heap[0][0] <= t_ms:
            at, _, final, oid, kind, payload = heapq.heappop(self._heap)
            owner = self.owners[oid]
            if not final and owner.ended_ms is not None and at >= owner.ended_ms:
                continue
            self.now_ms = max(self.now_ms, at)
            handle(at, owner, kind, payload)

    # alarms ------------------------------------------------------------------------------

    def alarm(self, owner: Owner, at_ms: int, spec: AlarmSpec, key: str | None = None) -> str:
        """Schedule a raise; returns the key used to change or clear it."""
        key = key or f"{owner.id}/{spec.entity}/{spec.probable_cause}/{spec.specific_problem}"
        self.push(at_ms, owner, "raise", (key, spec))
        return key

    def change_severity(self, owner: Owner, at_ms: int, key: str, severity: Severity) -> None:
        """Schedule a severity change of an alarm that will be active by then."""
        self.push(at_ms, owner, "change", (key, severity))

    def clear(self, owner: Owner, at_ms: int, key: str, *, final: bool = False) -> None:
        """Schedule a clear."""
        self.push(at_ms, owner, "clear", key, final=final)

    def stamp(self, at_ms: int, source: str) -> datetime:
        """The time a source writes on an event at ``at_ms``: its clock may be off by a few seconds.

        Each element manager has a fixed offset in ``±clock_skew_s`` (seeded by its name), so the
        order of event times across sources is not always the causal order.
        """
        if self.clock_skew_s <= 0:
            return from_ms(at_ms)
        off = self._skew.get(source)
        if off is None:
            u = zlib.crc32(f"{self._seed}/{source}".encode()) / 0xFFFFFFFF
            off = self._skew[source] = int((2 * u - 1) * self.clock_skew_s * 1000)
        return from_ms(at_ms + off)

    def do_raise(self, at_ms: int, owner: Owner, key: str, spec: AlarmSpec) -> None:
        """Emit a raise now (called by the twin's event loop)."""
        if key in self.active:
            return
        self._n_alarm += 1
        ent = self.topo.entities[spec.entity]
        alarm = Alarm(
            alarm_id=f"{spec.source}-{self._n_alarm:08d}",
            managed_object=ent.id,
            event_type=spec.event_type,
            probable_cause=spec.probable_cause,
            perceived_severity=spec.severity,
            event_time=self.stamp(at_ms, spec.source),
            specific_problem=spec.specific_problem,
            additional_text=spec.text,
            additional_info={"neName": ent.name, "neType": ent.kind, **spec.info},
            proposed_repair_actions=spec.repair,
            service_affecting=spec.service_affecting,
            planned_outage_indicator=spec.planned,
            source=spec.source,
        )
        self.active[key] = alarm
        self.alarm_owner[key] = owner.id
        owner.alarm_ids.add(alarm.alarm_id)
        owner.active_keys.add(key)
        self.out.alarms.append(alarm)

    def do_change(self, at_ms: int, key: str, severity: Severity) -> None:
        """Emit a severity change now."""
        a = self.active.get(key)
        if a is None or a.perceived_severity is severity:
            return
        a = a.change_severity(severity, self.stamp(at_ms, a.source))
        self.active[key] = a
        self.out.alarms.append(a)

    def do_clear(self, at_ms: int, key: str) -> None:
        """Emit a clear now (same alarm id as the raise)."""
        a = self.active.pop(key, None)
        if a is None:
            return
        oid = self.alarm_owner.pop(key)
        self.owners[oid].active_keys.discard(key)
        self.out.alarms.append(a.clear(self.stamp(at_ms, a.source)))

    def clear_all(self, owner: Owner, at_ms: int, lo_s: float = 5.0, hi_s: float = 60.0) -> None:
        """Clear every active alarm of an owner, each after a random delay."""
        for key in sorted(owner.active_keys):
            self.clear(owner, at_ms + int(owner.rng.uniform(lo_s, hi_s) * 1000), key, final=True)

    # effects, logs, changes, tickets --------------------------------------------------------

    def effect(
        self,
        owner: Owner,
        series: IntArray | list[int],
        op: str,
        value: float = 0.0,
        *,
        t0_ms: int,
        slope: float = 0.0,
        cap: float | None = None,
    ) -> Effect:
        """Start an effect on some series (ends with the owner unless ended sooner)."""
        ids = np.asarray(series, dtype=np.int64)
        e = Effect(ids, op, value, t0_ms, slope, cap)
        owner.effects.append(e)
        owner.series.update(int(s) for s in ids)
        return e

    def series_of(self, entities: list[int] | set[int], *metrics: str) -> list[int]:
        """Series ids of some metrics (all if none given) on some entities."""
        out: list[int] = []
        for e in entities:
            if metrics:
                out.extend(s for m in metrics if (s := self.tel.of(e, m)) is not None)
            else:
                out.extend(self.tel.by_entity.get(e, ()))
        return out

    def log(
        self,
        owner: Owner,
        at_ms: int,
        entity: int,
        message: str,
        *,
        app: str,
        severity: int,
        source: str = "syslog",
        attributes: Mapping[str, str] | None = None,
        trace_id: str | None = None,
        final: bool = False,
    ) -> None:
        """Schedule a log line."""
        ent = self.topo.entities[entity]
        rec = LogRecord(from_ms(at_ms), message, severity, ent.id, source, ent.name, app,
                        attributes or {}, trace_id)  # fmt: skip
        owner.n_logs += 1
        self.push(at_ms, owner, "log", rec, final=final)

    def router_log(
        self, owner: Owner, at_ms: int, router: int, event: str, final: bool = False, **kw: object
    ) -> None:
        """Schedule a vendor-formatted syslog line on a router."""
        ent = self.topo.entities[router]
        self._n_log += 1
        kw.setdefault("seq", self._n_log)
        msg, app, sev = router_line(ent.attributes.get("vendor", "cisco-iosxr"), ent.name,
                                    from_ms(at_ms), event,  **kw)  # fmt: skip
        self.log(owner, at_ms, router, msg, app=app, severity=sev, final=final,
                 attributes={"vendor": ent.attributes.get("vendor", "")})  # fmt: skip

    def snmp_trap(
        self, owner: Owner, at_ms: int, router: int, up: bool, port: int, final: bool = False
    ) -> None:
        """Schedule an SNMP linkDown/linkUp trap (as a log record with the trap's varbinds)."""
        ent = self.topo.entities[router]
        oid = "1.3.6.1.6.3.1.1.5.4" if up else "1.3.6.1.6.3.1.1.5.3"
        ifname = syslog_ifname(ent.attributes.get("vendor", "cisco-iosxr"), port)
        attrs = {"snmpTrapOID": oid, "ifIndex": str(500 + port), "ifName": ifname,
                 "ifAdminStatus": "1", "ifOperStatus": "1" if up else "2"}  # fmt: skip
        msg = f"{'linkUp' if up else 'linkDown'} ifIndex={500 + port} ifName={ifname}"
        self.log(owner, at_ms, router, msg, app="snmptrap", severity=5 if up else 4, source="snmp",
                 attributes=attrs, final=final)  # fmt: skip

    def change(
        self,
        owner: Owner,
        at_ms: int,
        entity: int,
        kind: ChangeKind,
        *,
        before: str = "",
        after: str = "",
        description: str = "",
        source: str = "cicd",
        end_ms: int | None = None,
    ) -> Change:
        """Schedule a change record."""
        self._n_change += 1
        ch = Change(f"CHG{self._n_change:07d}", from_ms(at_ms), self.topo.entities[entity].id, kind,
                    before, after, description, source, from_ms(end_ms) if end_ms else None)  # fmt: skip
        owner.changes.add(ch.id)
        self.push(at_ms, owner, "change_rec", ch, final=True)
        return ch

    def ticket(
        self,
        owner: Owner,
        at_ms: int,
        name: str,
        description: str,
        entities: list[int],
        *,
        severity: str = "Major",
        priority: int = 2,
        ticket_type: str = "customerComplaint",
    ) -> None:
        """Schedule a customer-care ticket (TMF621 shape)."""
        self._n_ticket += 1
        tid = f"CC-{self._n_ticket:07d}"
        t = Ticket(tid, name, description, severity, TicketStatus.ACKNOWLEDGED, from_ms(at_ms),
                   external_id=f"CRM-{900000 + self._n_ticket}", priority=priority,
                   ticket_type=ticket_type,
                   related_entities=tuple(self.topo.entities[e].id for e in entities))  # fmt: skip
        owner.tickets.add(tid)
        self.push(at_ms, owner, "ticket", t)

    def call(
        self, owner: Owner, at_ms: int, fn: Callable[[int], None], *, final: bool = False
    ) -> None:
        """Schedule a callback with the event time (skipped if the owner ended first)."""
        self.push(at_ms, owner, "call", fn, final=final)

    # transport ----------------------------------------------------------------------------

    def set_transport(
        self,
        owner: Owner,
        at_ms: int,
        cut_links: Sequence[int] = (),
        down_routers: Sequence[int] = (),
    ) -> list[int]:
        """Take links/routers down for an owner; returns routers newly cut off from the core."""
        for k in cut_links:
            self.down_links.setdefault(k, set()).add(owner.id)
        for r in down_routers:
            self.down_routers.setdefault(r, set()).add(owner.id)
        iso = self.topo.isolated(set(self.down_links), set(self.down_routers))
        newly = [int(r) for r in np.flatnonzero(iso & ~self.isolated)]
        self.isolated = iso
        owner.data.setdefault("isolated", []).extend(newly)
        return newly

    def release_transport(self, owner: Owner) -> list[int]:
        """Give back an owner's links/routers; returns routers reachable again."""
        for d in (self.down_links, self.down_routers):
            for k in [k for k, who in d.items() if owner.id in who]:
                d[k].discard(owner.id)
                if not d[k]:
                    del d[k]
        iso = self.topo.isolated(set(self.down_links), set(self.down_routers))
        back = [int(r) for r in np.flatnonzero(self.isolated & ~iso)]
        self.isolated = iso
        return back

    def port(self, link_row: int, router: int) -> int:
        """The port number of a link on one of its routers (unique per router)."""
        return self.topo.ports.get((link_row, router), 1)


def at_offset(t_ms: int, rng: np.random.Generator, lo_s: float, hi_s: float) -> int:
    """``t_ms`` plus a random delay in seconds."""
    return t_ms + int(rng.uniform(lo_s, hi_s) * 1000)
