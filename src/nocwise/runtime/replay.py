"""Play a digital-twin run into a runtime, step by step, on the twin's own clock.

After every step the pipeline is drained before time moves on, so a replay gives the same
incidents on any machine; ``speed`` (simulated seconds per real second) only paces it for a
person watching, and ``None`` runs as fast as the pipeline goes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta

from nocwise.clock import ManualClock
from nocwise.runtime.runtime import Runtime
from nocwise.sim import Twin


async def replay(
    twin: Twin,
    runtime: Runtime,
    clock: ManualClock,
    *,
    speed: float | None = None,
    max_seconds: float | None = None,
    on_step: Callable[[int], None] | None = None,
) -> int:
    """Feed every step (or until ``max_seconds`` of real time); returns the steps fed."""
    started = time.monotonic()
    before, runtime.timers_by_replay = runtime.timers_by_replay, True
    try:
        fed = await _feed(twin, runtime, clock, speed, max_seconds, on_step, started)
    finally:
        runtime.timers_by_replay = before
    return fed


async def _feed(
    twin: Twin,
    runtime: Runtime,
    clock: ManualClock,
    speed: float | None,
    max_seconds: float | None,
    on_step: Callable[[int], None] | None,
    started: float,
) -> int:
    t0 = None
    fed = 0
    for step in twin.run():
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            break
        if t0 is None:
            t0 = step.ts
        if speed is not None:
            due = started + (step.ts - t0).total_seconds() / speed
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        clock.set(step.ts)
        if step.changes:
            await runtime.ingest_changes(step.changes)
        if step.tickets:
            await runtime.ingest_tickets(step.tickets)
        if len(step.metrics):
            await runtime.ingest_metrics(twin.series, step.metrics)
        if step.logs:
            await runtime.ingest_logs(step.logs)
        if step.alarms:
            await runtime.ingest_alarms(step.alarms, source="twin")
        await runtime.idle(timeout_s=60)
        await runtime.fire_timers()
        await runtime.idle(timeout_s=60)
        fed += 1
        if on_step is not None:
            on_step(fed)
    return fed


async def settle(runtime: Runtime, clock: ManualClock, steps: int = 3) -> None:
    """Let grouping timers fire after the last step (group waits count on simulated time)."""
    for _ in range(steps):
        clock.advance(timedelta_of(runtime))
        await runtime.fire_timers()
        await runtime.idle(timeout_s=60)


def timedelta_of(runtime: Runtime) -> timedelta:
    """How far to move the clock per settle step: one grouping window."""
    return timedelta(seconds=runtime.settings.pipeline.correlation.group_window_s)
