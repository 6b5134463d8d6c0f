"""Correlation timers never fire while a checkpoint thread reads the correlator (regression:
a replay's timers mutated the state under the reader, "dictionary changed size during
iteration"). A thread reads it where the save cannot be forked into a child process."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

from nocwise.clock import ManualClock
from nocwise.config import Settings
from nocwise.runtime.runtime import Runtime

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_fire_timers_waits_for_a_checkpoint_being_written(tmp_path: Path) -> None:
    async def scenario() -> list[str]:
        clock = ManualClock(T0)
        rt = Runtime(Settings(data_dir=tmp_path), clock)
        rt.checkpoints.fork = False
        await rt.start()
        events: list[str] = []
        reading = threading.Event()
        release = threading.Event()

        def slow_save() -> None:
            reading.set()
            release.wait(timeout=10)
            events.append("checkpoint done")

        def tick(now: object) -> list[object]:
            events.append("timers fired")
            return []

        rt.save_checkpoint = slow_save  # type: ignore[method-assign]
        rt.stages.tick = tick  # type: ignore[method-assign,assignment]
        saving = asyncio.create_task(rt.checkpoint())
        await asyncio.to_thread(reading.wait, 10)
        firing = asyncio.create_task(rt.fire_timers())
        await asyncio.sleep(0.2)
        assert events == []  # the timers wait for the reader
        release.set()
        await asyncio.gather(saving, firing)
        rt.save_checkpoint = lambda: None  # type: ignore[method-assign]
        await rt.stop()
        return events

    assert asyncio.run(scenario()) == ["checkpoint done", "timers fired"]
