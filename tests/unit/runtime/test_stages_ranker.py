"""The runtime's root-cause ranker knows the inventory's names, at start and after a sync."""

from __future__ import annotations

from pathlib import Path

from nocwise.config import Settings
from nocwise.model import Domain, Entity, Relation, RelationKind
from nocwise.runtime.stages import build_stages

ENTITIES = [
    Entity("rtr-1", "agg_router", Domain.TRANSPORT, name="AGG-ROME-1"),
    Entity("rtr-2", "agg_router", Domain.TRANSPORT, name="AGG-ROME-2"),
    Entity("lnk-1", "link", Domain.TRANSPORT),
]
RELATIONS = [Relation("lnk-1", "rtr-1", RelationKind.CONNECTS)]


def test_ranker_resolves_entity_names_at_start_and_after_a_topology_sync(tmp_path: Path) -> None:
    stages = build_stages(Settings(data_dir=tmp_path), ENTITIES, RELATIONS)
    assert stages.ranker.names == {"AGG-ROME-1": "rtr-1", "AGG-ROME-2": "rtr-2"}
    stages.set_topology(ENTITIES[:1], [])
    assert stages.ranker.names == {"AGG-ROME-1": "rtr-1"}
    assert stages.ranker.graph is stages.graph
