"""`nocwise bench twin_logs`: do the twin's log-visible faults raise log anomalies on the right
entity, and how many log alarms are raised for nothing?

The twin's syslog and application logs (every step's lines, in order) go through one
:class:`~nocwise.runtime.detection.LogDetection`, as the runtime feeds it. A fault that logged at
least one line counts as detected when a log alarm lands on its root entity, an entity it
impacted or a direct topology neighbour of the root (the routers at the two ends of a cut link
log it), between one minute before its start and ten minutes after its end. Faults starting in
the first hour (the detectors' warm-up) are not scored, and neither are alarms raised then.
An alarm that is near no fault at all (log-visible or not) is a false log alarm.

Reported per fault type: detection rate and median delay (first matching alarm minus start);
overall: detection rate, false log alarms per simulated day and log alarms in all. The log
detection knows the twin's entity names, so a line that names another entity counts on it too.
Peers on the same stream: ``no_mentions``, the same detectors without the entity names (lines
count only on the entity that logged them), and ``base_detectors``, that and only the
new-template, error-burst and frequency-shift detectors.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from nocwise.bench.options import BenchOptions
from nocwise.bench.report import BenchReport, Progress, now_utc
from nocwise.bench.twin import scenario_config
from nocwise.model import Alarm, LogRecord
from nocwise.model.topology import Relation
from nocwise.runtime.detection import LogDetection, base_log_detectors
from nocwise.sim import Twin, load_scenario
from nocwise.sim.truth import FaultTruth

WARMUP = timedelta(hours=1)
BEFORE = timedelta(minutes=1)
AFTER = timedelta(minutes=10)
DURATION = timedelta(hours=36)
QUICK_DURATION = timedelta(hours=8)


@dataclass(frozen=True, slots=True)
class Scope:
    """Where and when a fault's log alarms may land."""

    entities: frozenset[str]
    start: datetime
    end: datetime


def run(options: BenchOptions, progress: Progress) -> BenchReport:
    """Replay the scenario's logs through log detection and score the alarms."""
    name = options.scenario or "mixed"
    scenario = replace(load_scenario(name), seed=options.seed)
    duration = QUICK_DURATION if options.quick else DURATION
    scenario = replace(scenario, duration=duration)
    if options.size != "small":
        scenario = replace(scenario, size=options.size)
    started = now_utc()
    twin = Twin(scenario)
    steps = int(scenario.duration / scenario.step)
    progress.start(f"twin {scenario.name} logs", steps)
    batches = []
    for step in twin.run():
        batches.append(step.logs)
        progress.advance()
    t0 = time.process_time()
    alarms = detect(batches, with_topology(LogDetection(), twin))
    cpu = time.process_time() - t0
    faults, relations = twin.truth.faults, twin.relations
    scored_from = scenario.start + WARMUP
    scenario_end = scenario.start + scenario.duration
    items = per_fault(faults, relations, alarms, scored_from, scenario_end)
    summary = summarise(items, faults, relations, alarms, scored_from, scenario_end)
    summary["cpu_seconds"] = cpu
    summary["log_lines"] = float(sum(len(b) for b in batches))
    peers: dict[str, dict[str, float]] = {}
    if options.peers:
        for peer, detection in (
            ("base_detectors", LogDetection(base_log_detectors())),
            ("no_mentions", LogDetection()),
        ):
            progress.start(f"peer: {peer}", None)
            t0 = time.process_time()
            found = detect(batches, detection)
            cpu = time.process_time() - t0
            found_items = per_fault(faults, relations, found, scored_from, scenario_end)
            peers[peer] = summarise(
                found_items, faults, relations, found, scored_from, scenario_end
            ) | {"cpu_seconds": cpu}
    return BenchReport(
        suite="twin_logs",
        started=started,
        config={
            **scenario_config(scenario, options.seed),
            "warmup_h": WARMUP.total_seconds() / 3600,
            "window_before_s": BEFORE.total_seconds(),
            "window_after_s": AFTER.total_seconds(),
        },
        summary=summary,
        peers=peers,
        items=items,
    )


def with_topology(detection: LogDetection, twin: Twin) -> LogDetection:
    """``detection`` knowing the twin's entity names, as the runtime's is after inventory sync."""
    detection.set_entities(twin.entities)
    return detection


def detect(batches: Iterable[Sequence[LogRecord]], detection: LogDetection) -> list[Alarm]:
    """Every log alarm raised over the batches, in order."""
    return [a for batch in batches for a in detection.process(batch)]


def neighbours(relations: Iterable[Relation]) -> dict[str, set[str]]:
    """Entity -> the entities one relation away, either direction."""
    out: dict[str, set[str]] = {}
    for r in relations:
        out.setdefault(r.src, set()).add(r.dst)
        out.setdefault(r.dst, set()).add(r.src)
    return out


def scope_of(f: FaultTruth, near: dict[str, set[str]], scenario_end: datetime) -> Scope:
    """The entities and time span a fault's log alarms may land in."""
    entities = {f.root_entity_id, *f.root_entity_ids, *f.impacted_entity_ids}
    entities |= near.get(f.root_entity_id, set())
    end = f.end if f.end is not None else scenario_end
    return Scope(frozenset(entities), f.start - BEFORE, end + AFTER)


def first_match(scope: Scope, alarms: Sequence[Alarm]) -> Alarm | None:
    """The earliest alarm in the fault's scope, if any."""
    hits = [
        a
        for a in alarms
        if a.managed_object in scope.entities and scope.start <= a.event_time <= scope.end
    ]
    return min(hits, key=lambda a: a.event_time) if hits else None


def per_fault(
    faults: Sequence[FaultTruth],
    relations: Iterable[Relation],
    alarms: Sequence[Alarm],
    scored_from: datetime,
    scenario_end: datetime,
) -> list[dict[str, Any]]:
    """One row per scored fault: whether a log alarm found it, where and how late."""
    near = neighbours(relations)
    rows = []
    for f in faults:
        if f.start < scored_from:
            continue
        hit = first_match(scope_of(f, near, scenario_end), alarms)
        rows.append(
            {
                "fault_id": f.fault_id,
                "fault_type": f.fault_type,
                "root_entity_id": f.root_entity_id,
                "start": f.start.isoformat(),
                "log_lines": f.n_logs,
                "log_visible": f.n_logs > 0,
                "detected": hit is not None,
                "delay_s": (hit.event_time - f.start).total_seconds() if hit else None,
                "alarm_entity": hit.managed_object if hit else None,
                "alarm_problem": hit.specific_problem if hit else None,
            }
        )
    return rows


def false_alarms(
    faults: Sequence[FaultTruth],
    relations: Iterable[Relation],
    alarms: Sequence[Alarm],
    scored_from: datetime,
    scenario_end: datetime,
) -> list[Alarm]:
    """Log alarms after the warm-up that are near no fault (log-visible or not)."""
    near = neighbours(relations)
    scopes = [scope_of(f, near, scenario_end) for f in faults]
    covered: Callable[[Alarm], bool] = lambda a: any(  # noqa: E731
        a.managed_object in s.entities and s.start <= a.event_time <= s.end for s in scopes
    )
    return [a for a in alarms if a.event_time >= scored_from and not covered(a)]


def summarise(
    items: Sequence[dict[str, Any]],
    faults: Sequence[FaultTruth],
    relations: Iterable[Relation],
    alarms: Sequence[Alarm],
    scored_from: datetime,
    scenario_end: datetime,
) -> dict[str, float]:
    """Detection rate and median delay per fault type and overall, false alarms per day."""
    visible = [r for r in items if r["log_visible"]]
    out: dict[str, float] = {}
    for ft in sorted({r["fault_type"] for r in visible}):
        rows = [r for r in visible if r["fault_type"] == ft]
        out[f"rate.{ft}"] = sum(r["detected"] for r in rows) / len(rows)
        out[f"faults.{ft}"] = float(len(rows))
        out[f"delay_s.{ft}"] = _median([r["delay_s"] for r in rows if r["detected"]])
    days = (scenario_end - scored_from) / timedelta(days=1)
    false = false_alarms(faults, relations, alarms, scored_from, scenario_end)
    scored = [a for a in alarms if a.event_time >= scored_from]
    out["rate"] = sum(r["detected"] for r in visible) / len(visible) if visible else float("nan")
    out["delay_s"] = _median([r["delay_s"] for r in visible if r["detected"]])
    out["faults"] = float(len(visible))
    out["log_alarms"] = float(len(scored))
    out["false_log_alarms"] = float(len(false))
    out["false_log_alarms_per_day"] = len(false) / days if days > 0 else float("nan")
    return out


def _median(values: Sequence[float]) -> float:
    return float(np.median(values)) if values else float("nan")
