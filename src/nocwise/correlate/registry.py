"""Stage kind -> class, and how to build each one with its default config for a topology.

Registering a stage here is what puts it under the shared conformance suite.
"""

from __future__ import annotations

from collections.abc import Callable

from nocwise.correlate.base import Stage
from nocwise.correlate.dedup import DedupStage
from nocwise.correlate.flapping import FlappingStage
from nocwise.correlate.group import GroupStage
from nocwise.correlate.lifecycle import LifecycleStage
from nocwise.correlate.mute import MuteStage
from nocwise.correlate.noise import NoiseStage
from nocwise.correlate.suppress import SuppressStage
from nocwise.model import ModelState
from nocwise.topology.graph import TopologyGraph

STAGES: dict[str, type] = {
    LifecycleStage.kind: LifecycleStage,
    DedupStage.kind: DedupStage,
    FlappingStage.kind: FlappingStage,
    MuteStage.kind: MuteStage,
    SuppressStage.kind: SuppressStage,
    NoiseStage.kind: NoiseStage,
    GroupStage.kind: GroupStage,
}

_BUILDERS: dict[str, Callable[[TopologyGraph], Stage]] = {
    LifecycleStage.kind: lambda topo: LifecycleStage(),
    DedupStage.kind: lambda topo: DedupStage(),
    FlappingStage.kind: lambda topo: FlappingStage(),
    MuteStage.kind: lambda topo: MuteStage(None, topo),
    SuppressStage.kind: lambda topo: SuppressStage(None, topo),
    NoiseStage.kind: lambda topo: NoiseStage(),
    GroupStage.kind: lambda topo: GroupStage(None, topo),
}


def build_stage(kind: str, topology: TopologyGraph) -> Stage:
    """A stage of ``kind`` with its default config."""
    try:
        return _BUILDERS[kind](topology)
    except KeyError:
        raise KeyError(
            f"unknown correlation stage {kind!r}; known: {', '.join(sorted(STAGES))}"
        ) from None


def restore_stage(kind: str, stage: Stage, topology: TopologyGraph) -> Stage:
    """Rebuild a stage from its own snapshot (stages that need the topology get it back)."""
    state = stage.to_state()
    if isinstance(stage, MuteStage):
        return MuteStage.from_state(state, topology)
    if isinstance(stage, SuppressStage):
        return SuppressStage.from_state(state, topology)
    if isinstance(stage, GroupStage):
        return GroupStage.from_state(state, topology)
    restore: Callable[[ModelState], Stage] = getattr(STAGES[kind], "from_state")  # noqa: B009
    return restore(state)
