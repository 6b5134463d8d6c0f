"""`nocwise bench twin`: the whole pipeline on a digital-twin scenario, scored against its truth.

The twin is replayed in process through the same runtime `nocwise serve` runs (ingest -> store
-> bus -> detect -> correlate -> diagnose -> remediate), on the twin's clock. Reported per fault
type: detection rate and delay, and how many detected faults' incidents hold a predicted breach
raised before the incident opened, with how early (``foreseen`` / ``lead_s``); overall: grouping ARI and compression, root-cause AC@1/AC@3,
recommendation hit@1/hit@3 (the fault's correct closure code among the top recommendations)
and false incidents per simulated day, and the ARI again with concurrent duplicates credited
(``credit_duplicates``: how Alertmanager's label sets are scored). The same alarms also go
through a real Alertmanager (the ``alertmanager`` peer). ``--scenario`` picks the scenario
(``mixed`` by default, ``demo`` with ``--quick``; ``storm``, ``storm_medium``, ``storm_power``
are alarm storms) by name or YAML path.

Before the scored run, the correlator's noise model is fitted on an earlier history run of the
twin (another seed, same network, same length): its faults' alarms stand in for the alarms
operators put on tickets (actionable), the rest for what they ignored. Nothing of the scored
run's truth is seen before scoring.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from nocwise.bench.alertmanager_peer import AlertmanagerMissingError, run_alertmanager_peer
from nocwise.bench.options import BenchOptions
from nocwise.bench.report import BenchReport, Progress, now_utc
from nocwise.clock import ManualClock
from nocwise.config import Settings
from nocwise.correlate.group import GroupReason
from nocwise.model import Alarm, Incident, Recommendation, Ticket, TicketStatus
from nocwise.runtime.replay import replay, settle
from nocwise.runtime.runtime import Runtime
from nocwise.sim import Twin, load_scenario
from nocwise.sim.catalogue import CLOSURE_CODE
from nocwise.sim.scenario import scenario_names
from nocwise.sim.scoring import (
    PredictedIncident,
    credit_duplicates,
    incident_ari,
    match_faults,
    summary,
)
from nocwise.store.state.repositories import AlarmRepository, IncidentRepository

HISTORY_SEED_OFFSET = 1000  # the history run's seed: never the scored run's


def run(options: BenchOptions, progress: Progress) -> BenchReport:
    """Replay the scenario and score it."""
    name = scenario_name(options)
    scenario = replace(load_scenario(name), seed=options.seed)
    if options.size != "small":
        scenario = replace(scenario, size=options.size)
    started = now_utc()
    with tempfile.TemporaryDirectory(prefix="nocwise-bench-twin-") as tmp:
        result = asyncio.run(_run(scenario, Path(tmp), progress))
    peers: dict[str, dict[str, float]] = {}
    if options.peers:
        progress.start("peer: Alertmanager", None)
        peer = alertmanager_peer(scenario)
        if peer:
            peers["alertmanager"] = peer
    return BenchReport(
        suite="twin",
        started=started,
        config={
            **scenario_config(scenario, options.seed),
            "noise_history_seed": scenario.seed + HISTORY_SEED_OFFSET,
            "noise_history_h": scenario.duration.total_seconds() / 3600,
        },
        summary=result["summary"],
        peers=peers,
        items=result["items"],
    )


def scenario_config(scenario: Any, seed: int) -> dict[str, Any]:
    """What a twin suite's report says about the scenario it ran."""
    return {
        "scenario": scenario.name,
        "seed": seed,
        "size": scenario.size,
        "duration_h": scenario.duration.total_seconds() / 3600,
    }


def scenario_name(options: BenchOptions) -> str:
    """``--scenario`` when given, else ``demo`` for ``--quick`` and ``mixed`` otherwise."""
    if options.scenario:
        return options.scenario
    return "demo" if options.quick or "mixed" not in scenario_names() else "mixed"


async def _run(scenario: Any, tmp: Path, progress: Progress) -> dict[str, Any]:
    twin = Twin(scenario)
    clock = ManualClock(scenario.start)
    runtime = Runtime(Settings(data_dir=tmp), clock)
    await runtime.start()
    try:
        await runtime.ingest_topology(twin.entities, twin.relations)
        await runtime.ingest_tickets(twin.ticket_history(n=5000))
        history, tickets = _history(scenario)
        runtime.stages.learn_noise(history, tickets)
        steps = int(scenario.duration / scenario.step)
        progress.start(f"twin {scenario.name}", steps)
        t0 = time.perf_counter()
        await replay(twin, runtime, clock, on_step=lambda _: progress.advance())
        await settle(runtime, clock)
        seconds = time.perf_counter() - t0
        with runtime.db.session() as s:
            incidents, _ = IncidentRepository(s).list(limit=1_000_000)
            recs = {i.id: (IncidentRepository(s).get(i.id) or (i, []))[1] for i in incidents}
            n_alarms = AlarmRepository(s).count()
            riders = AlarmRepository(s).get_many(
                m.alarm_id
                for i in incidents
                for m in i.members
                if m.reason == GroupReason.ADVISORY_MEMBER
            )
    finally:
        await runtime.stop()
    predicted = [_predicted(i) for i in incidents]
    figures = dict(summary(predicted, twin.truth, n_alarms, scenario.duration))
    stream = [a for step in Twin(scenario).run() for a in step.alarms]  # the same alarms again
    figures["ari_duplicates_credited"] = incident_ari(
        credit_duplicates(predicted, stream), twin.truth
    )
    figures.update(_recommendation_hits(predicted, recs, twin))
    figures["faults"] = float(len(twin.truth.faults))
    figures["alarms"] = float(n_alarms)
    figures["incidents"] = float(len(incidents))
    figures["seconds"] = seconds
    items = _per_fault(predicted, recs, twin, foreseen(incidents, riders))
    figures.update(_per_type(items))
    return {"summary": figures, "items": items}


def _per_type(items: list[dict[str, Any]]) -> dict[str, float]:
    """Root-cause AC@1/AC@3 and recommendation hit@1/hit@3 for each fault type."""
    out: dict[str, float] = {}
    for ft in sorted({r["fault_type"] for r in items}):
        rows = [r for r in items if r["fault_type"] == ft and r["alarms"]]
        if not rows:
            continue
        n = len(rows)
        ranks = [r["root_rank"] for r in rows]
        out[f"ac@1.{ft}"] = sum(1 for k in ranks if k == 1) / n
        out[f"ac@3.{ft}"] = sum(1 for k in ranks if k is not None and k <= 3) / n
        out[f"rec_hit@1.{ft}"] = (
            sum(r["recommended"][:1] == [r["correct_action"]] for r in rows) / n
        )
        out[f"rec_hit@3.{ft}"] = sum(r["correct_action"] in r["recommended"][:3] for r in rows) / n
        leads = sorted(r["lead_s"] for r in rows if r.get("lead_s") is not None)
        detected = sum(1 for r in rows if r["detected"])
        out[f"foreseen.{ft}"] = len(leads) / detected if detected else 0.0
        if leads:
            out[f"lead_s.{ft}"] = leads[len(leads) // 2]
    return out


def alertmanager_peer(scenario: Any) -> dict[str, float]:
    """The same alarms through a real Alertmanager (`group_by: [region, alertname]`), scored
    the same way; empty when Alertmanager is not installed."""
    twin = Twin(scenario)
    alarms = [a for step in twin.run() for a in step.alarms]
    try:
        return run_alertmanager_peer(
            alarms, twin.entities, twin.truth, scenario.duration, relations=twin.relations
        )
    except AlertmanagerMissingError:
        return {}


def _history(scenario: Any) -> tuple[list[Alarm], list[Ticket]]:
    """An earlier run of the same network (another seed): its alarms, and a ticket per fault."""
    past = replace(
        scenario,
        seed=scenario.seed + HISTORY_SEED_OFFSET,
        start=scenario.start - scenario.duration,
    )
    twin = Twin(past)
    first: dict[str, Alarm] = {}
    for step in twin.run():
        for a in step.alarms:
            first.setdefault(a.alarm_id, a)  # the raise, as an alarm store keeps it
    tickets = [
        Ticket(
            id=f"hist-{f.fault_id}",
            name=f"incident on {f.root_entity_id}",
            description="",
            severity="major",
            status=TicketStatus.CLOSED,
            created=f.start,
            related_entities=(f.root_entity_id,),
            related_alarms=tuple(sorted(f.alarm_ids)),
        )
        for f in twin.truth.faults
        if f.alarm_ids
    ]
    return list(first.values()), tickets


def _predicted(i: Incident) -> PredictedIncident:
    return PredictedIncident(
        i.id,
        frozenset(m.alarm_id for m in i.members),
        i.opened,
        tuple(h.entity_id for h in i.hypotheses),
    )


def _recommendation_hits(
    predicted: list[PredictedIncident], recs: dict[str, list[Recommendation]], twin: Twin
) -> dict[str, float]:
    matched = match_faults(predicted, twin.truth)
    faults = [f for f in twin.truth.faults if f.alarm_ids]
    out: dict[str, float] = {}
    for k in (1, 3):
        hits = 0
        for f in faults:
            want = CLOSURE_CODE.get(f.remediation, f.remediation)
            actions = [
                r.action for inc in matched.get(f.fault_id, [])[:1] for r in recs[inc.id][:k]
            ]
            hits += want in actions
        out[f"rec_hit@{k}"] = hits / len(faults) if faults else 0.0
    return out


def foreseen(incidents: list[Incident], riders: dict[str, Alarm]) -> dict[str, float]:
    """Per incident, how many seconds before it opened its earliest predicted breach was raised.

    ``riders`` are the stored alarms of the incidents' ``advisory_member`` members (predictions
    riding on, or adopted by, the incident). A prediction raised after the incident opened
    foresaw nothing and is not counted."""
    out: dict[str, float] = {}
    for inc in incidents:
        leads = [
            (inc.opened - (a.raised_time or a.event_time)).total_seconds()
            for m in inc.members
            if m.reason == GroupReason.ADVISORY_MEMBER and (a := riders.get(m.alarm_id)) is not None
        ]
        ahead = [x for x in leads if x > 0]
        if ahead:
            out[inc.id] = max(ahead)
    return out


def _per_fault(
    predicted: list[PredictedIncident],
    recs: dict[str, list[Recommendation]],
    twin: Twin,
    lead_s: dict[str, float],
) -> list[dict[str, Any]]:
    matched = match_faults(predicted, twin.truth)
    rows = []
    for f in twin.truth.faults:
        incs = matched.get(f.fault_id, [])
        top = incs[0] if incs else None
        rows.append(
            {
                "fault_id": f.fault_id,
                "fault_type": f.fault_type,
                "root_entity_id": f.root_entity_id,
                "alarms": len(f.alarm_ids),
                "incidents": len(incs),
                "detected": bool(incs),
                "delay_s": (top.opened - f.start).total_seconds() if top else None,
                "lead_s": lead_s.get(top.id) if top else None,
                "root_rank": (list(top.root_candidates).index(f.root_entity_id) + 1)
                if top and f.root_entity_id in top.root_candidates
                else None,
                "recommended": [r.action for r in recs[top.id][:3]] if top else [],
                "correct_action": CLOSURE_CODE.get(f.remediation, f.remediation),
            }
        )
    return rows
