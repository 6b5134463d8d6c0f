"""The twin, sent over the wire to a real nocwise app (SQLite store), lands as the same alarms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from nocwise.api.app import create_app
from nocwise.clock import ManualClock
from nocwise.config import Settings
from nocwise.runtime.runtime import Runtime
from nocwise.sim import Twin, load_scenario
from nocwise.sim.emit import Emitter, wire_alarm_id, wire_id_of
from nocwise.store.state.repositories import TokenRepository


def test_demo_over_the_wire_reaches_the_alarm_list(tmp_path: Path) -> None:
    sc = load_scenario("demo").with_overrides(duration=timedelta(minutes=12))
    clock = ManualClock(sc.start)
    settings = Settings(data_dir=tmp_path / "nw")
    runtime = Runtime(settings, clock)
    with runtime.db.session() as s:
        token = TokenRepository(s).create("operator", "twin", datetime(2026, 1, 1, tzinfo=UTC))[1]
    app = create_app(settings, clock, runtime)
    twin = Twin(sc)
    sent: list[str] = []
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        em = Emitter("http://testserver", client=client)
        for step in twin.run():
            clock.set(step.ts)
            em.step(twin.series, step)
            sent += [wire_alarm_id(a) for a in step.alarms]
        listed = client.get("/api/v1/alarms", params={"limit": 1000}).json()["items"]
    refused = {k: v for k, v in em.sent.refused.items() if k != "topology"}
    assert refused == {}
    assert em.sent.alarms > 0
    assert {a["alarm_id"] for a in listed} <= set(sent)
    truth = twin.truth.mapped(wire_id_of)
    fault_ids = set().union(*(f.alarm_ids for f in truth.faults))
    assert {a["alarm_id"] for a in listed} & fault_ids
