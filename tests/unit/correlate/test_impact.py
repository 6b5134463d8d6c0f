"""Impact and priority: customers and services through CFS -> RFS -> resource, SLA, noise."""

from __future__ import annotations

from datetime import datetime

from nocwise.correlate.impact import ImpactConfig, ImpactRanker
from nocwise.correlate.incidents import IncidentDraft
from nocwise.model import Severity
from nocwise.topology.graph import TopologyGraph


def draft(t0: datetime, topo: TopologyGraph, entity: str, severity: Severity) -> IncidentDraft:
    d = IncidentDraft(f"INC-{entity}-{severity}", t0, t0, t0, t0, root=entity)
    d.set_severity("a", severity.rank)
    services, customers = topo.impacted(entity)
    d.services.update(services)
    d.customers.update(customers)
    return d


def test_impact_lists_services_and_customers_and_flags_sla(
    t0: datetime, topo: TopologyGraph
) -> None:
    impact, _ = ImpactRanker(None, topo).assess(draft(t0, topo, "s1/csr", Severity.CRITICAL), 0.0)
    assert impact.customers == ("cust0",)  # gold
    assert impact.services == ("cfs0", "s1/rfs")
    assert impact.sla_at_risk


def test_more_customers_and_higher_severity_rank_higher(t0: datetime, topo: TopologyGraph) -> None:
    ranker = ImpactRanker(None, topo)
    gold, p_gold = ranker.assess(draft(t0, topo, "s1/csr", Severity.CRITICAL), 0.0)
    bronze, p_bronze = ranker.assess(draft(t0, topo, "s11/csr", Severity.CRITICAL), 0.0)
    minor, p_minor = ranker.assess(draft(t0, topo, "s1/csr", Severity.MINOR), 0.0)
    nobody, p_nobody = ranker.assess(draft(t0, topo, "unknown-box", Severity.CRITICAL), 0.0)
    assert gold.score > bronze.score > nobody.score
    assert gold.score > minor.score
    assert p_gold <= p_bronze <= p_nobody
    assert p_gold < p_minor


def test_noise_demotes_but_resolution_sinks(t0: datetime, topo: TopologyGraph) -> None:
    ranker = ImpactRanker(ImpactConfig(noise_discount=0.5), topo)
    clean, _ = ranker.assess(draft(t0, topo, "s1/csr", Severity.MAJOR), 0.0)
    noisy, _ = ranker.assess(draft(t0, topo, "s1/csr", Severity.MAJOR), 1.0)
    assert noisy.score == clean.score / 2
    resolved = draft(t0, topo, "s1/csr", Severity.MAJOR)
    resolved.clear_severity()
    gone, priority = ranker.assess(resolved, 0.0)
    assert gone.score == 0.0
    assert priority == 5
    assert not gone.sla_at_risk
