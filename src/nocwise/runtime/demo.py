"""`nocwise demo`: the whole product on a seeded digital-twin scenario, in one process.

The twin's clock drives the pipeline (a ManualClock moved to each step's event time), so the
same seed gives the same incidents whatever the machine's speed; ``speed`` only paces how fast
simulated time passes for a person watching the console.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import uvicorn

from nocwise.api.app import create_app
from nocwise.clock import ManualClock
from nocwise.config import Settings
from nocwise.config.schema import AuthConfig, ServerConfig
from nocwise.runtime.replay import replay, settle
from nocwise.runtime.runtime import Runtime
from nocwise.sim import Twin, load_scenario
from nocwise.store.state.repositories import IncidentRepository, TokenRepository

Say = Callable[[str], None]


def run_demo(
    *,
    host: str,
    port: int,
    scenario: str,
    seed: int,
    speed: float,
    headless: bool,
    seconds: float,
    data_dir: Path,
    say: Say,
) -> dict[str, Any]:
    """Run the demo; returns the headless summary (also computed when a person stops it)."""
    return asyncio.run(
        _demo(host, port, scenario, seed, speed, headless, seconds, data_dir / "demo", say)
    )


async def _demo(
    host: str,
    port: int,
    scenario_name: str,
    seed: int,
    speed: float,
    headless: bool,
    seconds: float,
    data_dir: Path,
    say: Say,
) -> dict[str, Any]:
    if data_dir.exists():
        shutil.rmtree(data_dir)
    scenario = replace(load_scenario(scenario_name), seed=seed)
    twin = Twin(scenario)
    clock = ManualClock(scenario.start)
    settings = Settings(
        data_dir=data_dir,
        server=ServerConfig(host=host, port=port),
        auth=AuthConfig(),
    )
    runtime = Runtime(settings, clock)
    with runtime.db.session() as s:
        _, token = TokenRepository(s).create("admin", "demo", clock.now())
    app = create_app(settings, clock, runtime, console=not headless)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
            raise RuntimeError(f"the server could not start on {host}:{port}")
        await asyncio.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
    base = f"http://{host}:{bound}"
    say(f"nocwise demo: scenario {scenario_name!r}, seed {seed}, {len(twin.entities)} entities")
    say(f"  console: {base}/console/login?token={token}")
    say(f"  API:     {base}/docs   (Authorization: Bearer {token})")
    await runtime.ingest_topology(twin.entities, twin.relations)
    await runtime.ingest_tickets(twin.ticket_history(n=2000))
    try:
        await replay(twin, runtime, clock, speed=speed, max_seconds=seconds if headless else None)
        await settle(runtime, clock)
        if not headless:
            say("the scenario has finished; the console stays up until Ctrl-C")
            with contextlib.suppress(asyncio.CancelledError):
                await serving
    finally:
        summary = summarise(twin, runtime, clock)
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving
    return summary


def summarise(twin: Twin, runtime: Runtime, clock: ManualClock) -> dict[str, Any]:
    """Score what the pipeline made of the faults the twin injected so far."""
    now = clock.now()
    with runtime.db.session() as s:
        incidents, _ = IncidentRepository(s).list(limit=10_000)
    owner: dict[str, str] = {}
    for inc in incidents:
        for m in inc.members:
            owner[m.alarm_id] = inc.id
    by_id = {i.id: i for i in incidents}
    faults = []
    correct = 0
    for fault in twin.truth.faults:
        if fault.start > now:
            continue
        votes: dict[str, int] = {}
        for alarm_id in fault.alarm_ids:
            if alarm_id in owner:
                votes[owner[alarm_id]] = votes.get(owner[alarm_id], 0) + 1
        incident_id = max(votes, key=lambda k: (votes[k], k)) if votes else None
        top = None
        if incident_id is not None and by_id[incident_id].hypotheses:
            top = by_id[incident_id].hypotheses[0].entity_id
        ok = top == fault.root_entity_id
        correct += ok
        faults.append(
            {
                "fault_id": fault.fault_id,
                "fault_type": fault.fault_type,
                "root_entity_id": fault.root_entity_id,
                "start": fault.start.isoformat(),
                "alarms": len(fault.alarm_ids),
                "incident_id": incident_id,
                "top_hypothesis": top,
                "root_cause_top1": ok,
            }
        )
    return {
        "scenario": twin.scenario.name,
        "seed": twin.scenario.seed,
        "simulated_until": now.isoformat(),
        "alarms": len(owner) if not incidents else _alarm_count(runtime),
        "incidents": [
            {
                "id": i.id,
                "title": i.title,
                "members": len(i.members),
                "priority": i.priority,
                "root_cause": i.hypotheses[0].entity_id if i.hypotheses else None,
                "customers": len(i.impact.customers),
            }
            for i in incidents
        ],
        "faults_injected": faults,
        "root_cause_top1_correct": correct,
        "funnel": runtime.funnel(),
        "pipeline_error": runtime.last_error,
    }


def _alarm_count(runtime: Runtime) -> int:
    from nocwise.store.state.repositories import AlarmRepository

    with runtime.db.session() as s:
        return AlarmRepository(s).count()
