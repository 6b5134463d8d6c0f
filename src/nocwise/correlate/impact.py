"""Impact and priority: who is hurt, how badly, and so which incident comes first.

Services and customers come from the topology (CFS -> RFS -> resource, customers depend on
CFSs) for every entity in the incident, accumulated as members join. The ranking score is

    score = severity_weight[max active severity]
            * (1 + ln(1 + customers) + 0.5 * ln(1 + services))
            * (sla_factor if a customer or CFS has an SLA tier in ``sla_tiers`` else 1)
            * (1 - noise_discount * least noise score among active members)

and the priority buckets it: 1 (score >= 4), 2 (>= 2), 3 (>= 1), 4 (>= 0.3), else 5. A resolved
incident has no active severity and drops to the bottom. The noise term makes an incident of
chatty alarms rank below one with the same reach made of alarms that used to matter.

Weak at: customers are counted, not weighed by revenue or by how many of their services are
down; redundancy (protection paths) is not taken into account, so impact is the worst case.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from nocwise.correlate.incidents import IncidentDraft
from nocwise.model import Impact
from nocwise.topology.graph import TopologyGraph

_SEVERITY_WEIGHT = {5: 1.0, 4: 0.7, 3: 0.4, 2: 0.2, 1: 0.1, 0: 0.0}
_BUCKETS = ((4.0, 1), (2.0, 2), (1.0, 3), (0.3, 4))


class ImpactConfig(BaseModel):
    """SLA tiers and how much noise demotes."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["impact"] = "impact"
    sla_attribute: str = "sla"
    sla_tiers: frozenset[str] = frozenset({"gold", "platinum"})
    sla_factor: Annotated[float, Field(ge=1.0)] = 1.5
    noise_discount: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5


class ImpactRanker:
    """Scores incidents from their accumulated services, customers, severity and noise."""

    def __init__(
        self, config: ImpactConfig | None = None, topology: TopologyGraph | None = None
    ) -> None:
        self.config = config or ImpactConfig()
        self._topology = topology or TopologyGraph([], [])
        self._sla: dict[str, bool] = {}

    def _has_sla(self, entity_id: str) -> bool:
        hit = self._sla.get(entity_id)
        if hit is None:
            e = self._topology.entity(entity_id)
            tier = "" if e is None else e.attributes.get(self.config.sla_attribute, "")
            hit = self._sla[entity_id] = tier.lower() in self.config.sla_tiers
        return hit

    def assess(self, draft: IncidentDraft, least_noise: float) -> tuple[Impact, int]:
        """(impact, priority 1..5) of the incident as it stands; the last answer is kept on
        the draft and reused while its inputs are unchanged (``forget`` drops it)."""
        c = self.config
        severity = draft.max_severity
        n_cust, n_serv = len(draft.customers), len(draft.services)
        key = (n_cust, n_serv, severity, least_noise)
        hit = draft.assessed
        if hit is not None and hit[0] == key:  # sets only grow, so equal sizes mean equal sets
            return hit[1], hit[2]
        sla = any(self._has_sla(x) for x in draft.customers) or any(
            self._has_sla(x) for x in draft.services
        )
        score = _SEVERITY_WEIGHT.get(severity, 0.0) * (
            1.0 + math.log1p(n_cust) + 0.5 * math.log1p(n_serv)
        )
        if sla:
            score *= c.sla_factor
        score *= 1.0 - c.noise_discount * min(max(least_noise, 0.0), 1.0)
        priority = next((p for bound, p in _BUCKETS if score >= bound), 5)
        impact = Impact(
            services=tuple(sorted(draft.services)),
            customers=tuple(sorted(draft.customers)),
            sla_at_risk=sla and severity > 0,
            score=round(score, 6),
        )
        draft.assessed = (key, impact, priority)
        return impact, priority

    @staticmethod
    def forget(draft: IncidentDraft | None) -> None:
        """Drop the kept assessment (the incident's sets were rebuilt: equal sizes no longer
        mean equal sets)."""
        if draft is not None:
            draft.assessed = None
