"""A restart continues correlation: incidents, operator corrections and later clears carry on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nocwise.clock import ManualClock
from nocwise.config import Settings
from nocwise.correlate.synthetic import clear_alarm, raise_alarm
from nocwise.model import Alarm, Domain, Entity, Relation, RelationKind, Severity
from nocwise.runtime.runtime import Runtime
from nocwise.store.state.repositories import AlarmRepository

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
ENTITIES = [
    Entity("csr-1", "csr", Domain.TRANSPORT),
    Entity("gnb-1", "gnodeb", Domain.RAN),
    Entity("cell-1", "cell", Domain.RAN),
    Entity("cell-2", "cell", Domain.RAN),
]
RELATIONS = [
    Relation("gnb-1", "csr-1", RelationKind.DEPENDS_ON),
    Relation("gnb-1", "cell-1", RelationKind.CONTAINS),
    Relation("gnb-1", "cell-2", RelationKind.CONTAINS),
]


def _alarms() -> list[Alarm]:
    return [
        raise_alarm("r1", "csr-1", "lossOfSignal", T0, Severity.CRITICAL),
        raise_alarm("r2", "cell-1", "cellDown", T0 + timedelta(seconds=20), Severity.MAJOR),
        raise_alarm("r3", "cell-2", "cellDown", T0 + timedelta(seconds=25), Severity.MAJOR),
    ]


async def _settle(rt: Runtime, clock: ManualClock) -> None:
    await rt.idle(timeout_s=20)
    for _ in range(2):
        clock.advance(timedelta(minutes=1))
        await rt.save_incidents(rt.stages.tick(clock.now()))
        await rt.idle(timeout_s=20)


async def _first_life(data: Path, clock: ManualClock) -> str:
    rt = Runtime(Settings(data_dir=data), clock)
    await rt.start()
    await rt.ingest_topology(ENTITIES, RELATIONS)
    await rt.ingest_alarms(_alarms(), source="test")
    await _settle(rt, clock)
    incidents = rt.stages.correlator.incidents()
    assert len(incidents) == 1
    iid = incidents[0].id
    await rt.split_incident(iid, ["r3"], "ana", "operator")
    await rt.stop()
    return iid


def test_a_restart_restores_incidents_and_operator_corrections(tmp_path: Path) -> None:
    clock = ManualClock(T0)

    async def scenario() -> None:
        iid = await _first_life(tmp_path, clock)
        assert (tmp_path / "checkpoints" / "correlator.zip").exists()
        rt = Runtime(Settings(data_dir=tmp_path), clock)
        await rt.start()
        live = rt.stages.correlator.incident(iid)
        assert live is not None
        assert {m.alarm_id for m in live.members} == {"r1", "r2"}
        assert [f.action for f in rt.stages.correlator.feedback()] == ["split"]
        # a clear after the restart reaches the alarm raised before it
        with rt.db.session() as s:
            r2 = AlarmRepository(s).get("r2")
        assert r2 is not None
        await rt.ingest_alarms([clear_alarm(r2, clock.now())], source="test")
        await _settle(rt, clock)
        assert "r2" not in {v.alarm.alarm_id for v in rt.stages.correlator.open_alarms()}
        await rt.stop()

    asyncio.run(scenario())


def test_without_a_checkpoint_correlation_is_rebuilt_from_stored_active_alarms(
    tmp_path: Path,
) -> None:
    clock = ManualClock(T0)

    async def scenario() -> None:
        await _first_life(tmp_path, clock)
        (tmp_path / "checkpoints" / "correlator.zip").unlink()
        rt = Runtime(Settings(data_dir=tmp_path), clock)
        await rt.start()
        held = {v.alarm.alarm_id for v in rt.stages.correlator.open_alarms()}
        assert held == {"r1", "r2", "r3"}
        await _settle(rt, clock)
        assert rt.stages.correlator.incidents(), "the active alarms form incidents again"
        await rt.stop()

    asyncio.run(scenario())


def test_a_corrupt_checkpoint_is_ignored_and_alarms_cleared_meanwhile_are_caught_up(
    tmp_path: Path,
) -> None:
    clock = ManualClock(T0)

    async def scenario() -> None:
        await _first_life(tmp_path, clock)
        checkpoint = (tmp_path / "checkpoints" / "correlator.zip").read_bytes()
        # r1 is cleared in the store while correlation is not running (after the checkpoint)
        rt = Runtime(Settings(data_dir=tmp_path), clock)
        with rt.db.session() as s:
            r1 = AlarmRepository(s).get("r1")
        assert r1 is not None
        rt.store_alarms([clear_alarm(r1, clock.now())], None, "test")
        rt.telemetry.close()
        rt.db.dispose()
        (tmp_path / "checkpoints" / "correlator.zip").write_bytes(checkpoint)
        rt = Runtime(Settings(data_dir=tmp_path), clock)
        await rt.start()
        held = {v.alarm.alarm_id for v in rt.stages.correlator.open_alarms()}
        assert held == {"r2", "r3"}
        await rt.stop()
        (tmp_path / "checkpoints" / "correlator.zip").write_bytes(b"not a zip")
        rt = Runtime(Settings(data_dir=tmp_path), clock)
        await rt.start()
        assert {v.alarm.alarm_id for v in rt.stages.correlator.open_alarms()} == {"r2", "r3"}
        await rt.stop()

    asyncio.run(scenario())


def test_a_topology_sync_with_alarms_open_keeps_them_and_uses_the_new_graph(
    tmp_path: Path,
) -> None:
    clock = ManualClock(T0)

    async def scenario() -> None:
        rt = Runtime(Settings(data_dir=tmp_path), clock)
        await rt.start()
        await rt.ingest_topology(ENTITIES, RELATIONS)
        await rt.ingest_alarms(_alarms()[:2], source="test")
        await _settle(rt, clock)
        before = rt.stages.correlator.incidents()
        assert len(before) == 1
        # inventory sync: a new cell appears behind the same gNodeB
        await rt.ingest_topology(
            [*ENTITIES, Entity("cell-9", "cell", Domain.RAN)],
            [*RELATIONS, Relation("gnb-1", "cell-9", RelationKind.CONTAINS)],
        )
        held = {v.alarm.alarm_id for v in rt.stages.correlator.open_alarms()}
        assert held == {"r1", "r2"}
        late = raise_alarm("r9", "cell-9", "cellDown", clock.now(), Severity.MAJOR)
        await rt.ingest_alarms([late], source="test")
        await _settle(rt, clock)
        view = rt.stages.correlator.alarm("r9")
        assert view is not None
        assert view.incident_id == before[0].id, "the new cell is grouped through the new graph"
        await rt.stop()

    asyncio.run(scenario())


def test_learned_grouping_causality_survives_a_restart(tmp_path: Path) -> None:
    clock = ManualClock(T0)

    async def scenario() -> None:
        rt = Runtime(Settings(data_dir=tmp_path), clock)
        await rt.start()
        await rt.ingest_topology(ENTITIES, RELATIONS)
        history = [
            raise_alarm(f"h{k}{e}", ent, cause, T0 - timedelta(hours=k) + timedelta(seconds=s))
            for k in range(1, 60)
            for e, (ent, cause, s) in enumerate(
                [("csr-1", "lossOfSignal", 0), ("gnb-1", "nodeDown", 5)]
            )
        ]
        await rt.ingest_alarms(history, source="test")
        await rt.idle(timeout_s=20)
        summary = await rt.retrain_grouping(days=7)
        assert summary["alarms"] == len(history)
        learned = rt.stages.causality
        assert learned is not None
        assert learned.strength("lossOfSignal", "nodeDown") > 0.5
        await rt.stop()
        again = Runtime(Settings(data_dir=tmp_path), clock)
        restored = again.stages.causality
        assert restored is not None
        assert restored.strength("lossOfSignal", "nodeDown") == pytest.approx(
            learned.strength("lossOfSignal", "nodeDown")
        )
        again.telemetry.close()
        again.db.dispose()

    asyncio.run(scenario())


def test_the_ticker_checkpoints_periodically_off_the_event_loop(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    settings = Settings.model_validate(
        {"data_dir": tmp_path, "pipeline": {"correlation": {"checkpoint_interval_s": 1}}}
    )

    async def scenario() -> None:
        rt = Runtime(settings, clock)
        await rt.start()
        await rt.ingest_topology(ENTITIES, RELATIONS)
        await rt.ingest_alarms(_alarms(), source="test")
        await _settle(rt, clock)
        path = tmp_path / "checkpoints" / "correlator.zip"
        loop_free = 0
        for _ in range(60):  # the loop keeps turning while the ticker's save runs
            await asyncio.sleep(0.05)
            loop_free += 1
            if path.exists():
                break
        assert path.exists(), "no periodic checkpoint within 3 s"
        assert loop_free >= 10
        # correlation continues after the save, and a restart sees the three alarms
        await rt.stop()
        again = Runtime(settings, clock)
        held = {v.alarm.alarm_id for v in again.stages.correlator.open_alarms()}
        assert held == {"r1", "r2", "r3"}
        again.telemetry.close()
        again.db.dispose()

    asyncio.run(scenario())


def test_timers_wait_for_queued_alarms_before_firing(tmp_path: Path) -> None:
    """A backlog in a storm must not publish fragments its queued alarms would have joined."""
    clock = ManualClock(T0)

    async def scenario() -> None:
        rt = Runtime(Settings(data_dir=tmp_path), clock)
        await rt.start()
        await rt.ingest_topology(ENTITIES, RELATIONS)
        assert rt.timer_time() == T0  # nothing processed, nothing queued: the clock
        await rt.ingest_alarms(_alarms()[:1], source="test")
        await rt.idle(timeout_s=20)
        clock.advance(timedelta(minutes=10))
        assert rt.timer_time() == clock.now()  # caught up: the clock
        await rt.ingest_alarms(_alarms()[1:], source="test")
        assert rt.bus.depth("alarms") > 0
        assert rt.timer_time() == T0, "queued alarms: no later than the newest processed one"
        await rt.idle(timeout_s=20)
        assert rt.timer_time() == clock.now()
        await rt.stop()

    asyncio.run(scenario())
