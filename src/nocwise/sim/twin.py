"""The digital twin: build a seeded network, run it step by step, keep the ground truth.

Weak at: clock skew between element managers, alarms buffered by isolated elements and flushed
on recovery, and interactions between faults on the same element (each fault runs its own
script); KPIs are a diurnal/weekly load model with Gaussian noise, not a traffic simulation.

>>> from datetime import timedelta
>>> tw = Twin(Scenario("doc", duration=timedelta(minutes=3)))
>>> steps = list(tw.run())
>>> len(steps), steps[1].ts - steps[0].ts, len(steps[0].metrics) == len(tw.series)
(4, datetime.timedelta(seconds=60), True)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from nocwise.clock import from_ms, to_ms
from nocwise.model import (
    Alarm,
    Change,
    Entity,
    LogRecord,
    MetricBatch,
    Relation,
    Series,
    Span,
    Ticket,
)
from nocwise.sim.engine import Engine, Outbox, Owner
from nocwise.sim.faults import FAULT_TYPES, finish_default
from nocwise.sim.noise import Background, plan_noise
from nocwise.sim.scenario import Scenario
from nocwise.sim.telemetry import Effect, Telemetry
from nocwise.sim.topology import Topology, build_topology
from nocwise.sim.truth import AnomalyWindow, FaultTruth, GroundTruth, HarmlessAnomaly


@dataclass(frozen=True, slots=True)
class Step:
    """What the network emitted in ``(ts - step, ts]``; metrics are sampled at ``ts``."""

    ts: datetime
    alarms: list[Alarm]
    metrics: MetricBatch
    logs: list[LogRecord]
    spans: list[Span]
    changes: list[Change]
    tickets: list[Ticket]


class Twin:
    """A seeded, faster-than-real-time CSP network with injected faults and a truth ledger."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        sc = scenario
        self.topology: Topology = build_topology(sc.n_sites, sc.seed)
        self.start_ms = to_ms(sc.start)
        self.step_ms = int(sc.step.total_seconds() * 1000)
        self.end_ms = self.start_ms + int(sc.duration.total_seconds() * 1000)
        self.telemetry = Telemetry(
            self.topology, sc.seed, self.start_ms, sc.drift.traffic_growth_per_day
        )
        self.engine = Engine(self.topology, self.telemetry, sc.noise.clock_skew_s, sc.seed)
        self.entities: list[Entity] = self.topology.entities
        self.relations: list[Relation] = self.topology.relations
        self.series: list[Series] = self.telemetry.series
        self._faults: list[Owner] = []
        self._plan_faults()
        self.background: Background = plan_noise(self.engine, sc, self.start_ms, self.end_ms)
        self._now_ms = self.start_ms
        self._ran = False

    # planning ------------------------------------------------------------------------------

    def _plan_faults(self) -> None:
        sc, topo = self.scenario, self.topology
        rng = np.random.default_rng([sc.seed, 4])
        specs: list[tuple[str, int, int | None, str | None, dict[str, str]]] = []
        for f in sc.faults:
            dur = int(f.duration.total_seconds() * 1000) if f.duration else None
            specs.append(
                (
                    f.type,
                    self.start_ms + int(f.at.total_seconds() * 1000),
                    dur,
                    f.target,
                    dict(f.where),
                )
            )
        if sc.random_faults is not None:
            rf = sc.random_faults
            types = list(rf.types)
            order = [types[i % len(types)] for i in range(rf.count)]
            rng.shuffle(order)
            lo = self.start_ms + int(rf.after.total_seconds() * 1000)
            hi = max(lo + 1, self.end_ms - int(rf.min_duration.total_seconds() * 1000))
            times = np.sort(rng.integers(lo, hi, rf.count))
            a, b = rf.min_duration.total_seconds(), rf.max_duration.total_seconds()
            durs = np.exp(rng.uniform(np.log(a), np.log(max(a, b)), rf.count)) * 1000
            specs.extend(
                (t, int(s), int(d), None, {}) for t, s, d in zip(order, times, durs, strict=True)
            )
        busy: dict[int, int] = {}
        for i, (ftype, start, dur, target, where) in enumerate(specs):
            model = FAULT_TYPES[ftype]
            frng = np.random.default_rng([sc.seed, 100, i])
            if target is not None:
                if target not in topo.index:
                    raise ValueError(f"scenario.faults[{i}].target: unknown entity {target!r}")
                root = topo.index[target]
            else:
                avoid = {e for e, until in busy.items() if until > start}
                root = model.pick(topo, frng, where, avoid)
            end = start + dur if dur is not None else None
            busy[root] = end if end is not None else self.end_ms + 1
            owner = Owner(f"F{i + 1:04d}", "fault", frng, ftype, root, start, end)
            owner.roots.add(root)
            self.engine.owners[owner.id] = owner
            self._faults.append(owner)
            self.engine.push(start, owner, "start", None, final=True)
            if end is not None:
                self.engine.push(end, owner, "end", None, final=True)

    # running -------------------------------------------------------------------------------

    def _handle(self, at: int, owner: Owner, kind: str, payload: Any) -> None:
        eng = self.engine
        if kind == "raise":
            eng.do_raise(at, owner, payload[0], payload[1])
        elif kind == "clear":
            eng.do_clear(at, payload)
        elif kind == "change":
            eng.do_change(at, payload[0], payload[1])
        elif kind == "log":
            eng.out.logs.append(payload)
        elif kind == "change_rec":
            eng.out.changes.append(payload)
        elif kind == "ticket":
            eng.out.tickets.append(payload)
        elif kind == "call":
            payload(at)
        elif kind == "start":
            owner.data["started"] = True
            FAULT_TYPES[owner.fault_type].start(eng, owner)
        elif kind == "end" and owner.ended_ms is None:
            owner.ended_ms = at
            eng.now_ms = at
            model = FAULT_TYPES[owner.fault_type]
            if owner.data.get("started"):
                if model.finish is not None:
                    model.finish(eng, owner, at)
                else:
                    finish_default(eng, owner, at)

    def _effects(self, t_ms: int) -> list[Effect]:
        out: list[Effect] = []
        for o in self.engine.owners.values():
            out.extend(e for e in o.effects if e.end_ms is None or e.end_ms > t_ms)
        return out

    def run(self) -> Iterator[Step]:
        """Steps from ``start`` to ``start + duration``, one per ``scenario.step`` (once per twin)."""
        if self._ran:
            raise RuntimeError("a twin runs once; build a new Twin for another run")
        self._ran = True
        eng = self.engine
        n = (self.end_ms - self.start_ms) // self.step_ms
        for k in range(n + 1):
            ts = self.start_ms + k * self.step_ms
            lo = ts - self.step_ms
            for f in self._faults:
                if f.data.get("started") and f.ended_ms is None:
                    tick = FAULT_TYPES[f.fault_type].tick
                    if tick is not None:
                        tick(eng, f, lo, ts)
            self.background.tick(lo, ts)
            eng.pop_until(ts, self._handle)
            eng.now_ms = ts
            metrics = self.telemetry.sample(ts, self._effects(ts))
            eng.out.spans.extend(self.background.traces(lo, ts, self._degraded()))
            out, eng.out = eng.out, Outbox()
            out.logs.sort(key=lambda r: r.ts)
            self._now_ms = ts
            yield Step(
                from_ms(ts), out.alarms, metrics, out.logs, out.spans, out.changes, out.tickets
            )

    def _degraded(self) -> dict[str, str]:
        """Services currently failing or slow, for the trace generator: name -> family."""
        out: dict[str, str] = {}
        for f in self._faults:
            if f.data.get("started") and f.ended_ms is None and "noisy" in f.data:
                for e in f.data["noisy"]:
                    out.setdefault(self.entities[e].name, f.fault_type)
        return out

    # control and truth -----------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """Sim time of the last step emitted."""
        return from_ms(self._now_ms)

    def apply_action(self, entity_id: str, action: str) -> bool:
        """A remediation on an entity: if it is the right one for a live fault there, end it."""
        e = self.topology.index.get(entity_id)
        if e is None:
            return False
        hit = False
        for f in self._faults:
            live = f.data.get("started") and f.ended_ms is None
            if (
                live
                and (f.root == e or e in f.roots)
                and FAULT_TYPES[f.fault_type].remediation == action
            ):
                f.remediated = True
                self.engine.push(self._now_ms, f, "end", None, final=True)
                hit = True
        return hit

    @property
    def truth(self) -> GroundTruth:
        """The ledger so far: faults started, their members, and the noise."""
        ents = self.entities
        faults = []
        for f in self._faults:
            if not f.data.get("started"):
                continue
            end = f.ended_ms if f.ended_ms is not None else f.end_ms
            faults.append(
                FaultTruth(
                    fault_id=f.id,
                    fault_type=f.fault_type,
                    root_entity_id=ents[f.root].id,
                    start=from_ms(f.start_ms),
                    end=from_ms(end) if end is not None else None,
                    alarm_ids=frozenset(f.alarm_ids),
                    remediation=FAULT_TYPES[f.fault_type].remediation,
                    root_entity_ids=frozenset(ents[r].id for r in f.roots),
                    impacted_entity_ids=frozenset(ents[r].id for r in f.impacted),
                    series_ids=frozenset(f.series),
                    ticket_ids=frozenset(f.tickets),
                    change_ids=frozenset(f.changes),
                    n_logs=f.n_logs,
                    remediated=f.remediated,
                    anomalies=tuple(
                        AnomalyWindow(
                            int(sid),
                            from_ms(e.t0_ms),
                            from_ms(e.end_ms) if e.end_ms is not None else None,
                            e.op,
                        )
                        for e in f.effects
                        for sid in e.series
                    ),
                )
            )
        noise: set[str] = set()
        maint: set[str] = set()
        for o in self.engine.owners.values():
            if o.kind != "fault":
                noise |= o.alarm_ids
            if o.kind == "maintenance":
                maint |= o.alarm_ids
        harmless = [
            HarmlessAnomaly(s, from_ms(a), from_ms(b)) for s, a, b in self.background.harmless
        ]
        return GroundTruth(faults, frozenset(noise), frozenset(maint), harmless)

    def ticket_history(self, n: int = 5000, seed: int | None = None) -> list[Ticket]:
        """Past resolved tickets on this network: the training corpus for remediation."""
        from nocwise.sim.tickets import generate_history

        return generate_history(self.topology, n, self.scenario.seed if seed is None else seed,
                                before=self.scenario.start)[0]  # fmt: skip


def steps_for(scenario: Scenario) -> int:
    """Number of steps a run yields."""
    return int(scenario.duration / scenario.step) + 1


__all__ = ["Step", "Twin", "steps_for"]
