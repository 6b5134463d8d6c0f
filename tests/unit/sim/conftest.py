"""Helpers to run small twins with chosen faults."""

from __future__ import annotations

from datetime import timedelta

from nocwise.model import Alarm
from nocwise.sim import FaultSpec, NoiseSpec, Scenario, Twin


def quiet(*faults: FaultSpec, minutes: int = 60, seed: int = 1) -> Scenario:
    """A small scenario without background noise."""
    return Scenario(
        "t",
        seed=seed,
        duration=timedelta(minutes=minutes),
        faults=faults,
        noise=NoiseSpec(level=0.0),
    )


def run_all(twin: Twin) -> list[Alarm]:
    """Run to the end; all alarm notifications in order."""
    return [a for step in twin.run() for a in step.alarms]


def fault(type_: str, target: str, at_min: float = 1, dur_min: float | None = 30) -> FaultSpec:
    """A fault spec at ``at_min`` minutes for ``dur_min`` minutes."""
    return FaultSpec(
        type_, timedelta(minutes=at_min), timedelta(minutes=dur_min) if dur_min else None, target
    )
