"""Root-cause rankers by kind."""

from __future__ import annotations

from nocwise.diagnose.topology_ranker import TopologyRanker

RANKERS: dict[str, type[TopologyRanker]] = {TopologyRanker.kind: TopologyRanker}
