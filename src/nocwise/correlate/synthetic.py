"""A small, seeded mobile access network and alarm builders, for timelines and throughput runs.

Per site: a site (contains the CSR and the gNodeB), a rectifier that powers the CSR and the
gNodeB, a CSR reaching its aggregation router over a link, a gNodeB depending on the CSR and
three cells hosted on the gNodeB. Ten sites share an aggregation router; every aggregation
router reaches one core router. Each site's RFS realises its gNodeB and cells; each aggregation ring has
a CFS realising its sites' RFSs and one customer depending on it (every other one with a gold SLA).
"""

from __future__ import annotations

from datetime import datetime

from nocwise.model import Alarm, Domain, Entity, EventType, Relation, RelationKind, Severity

K = RelationKind


def access_network(n_sites: int, sites_per_agg: int = 10) -> tuple[list[Entity], list[Relation]]:
    """Entities and relations of ``n_sites`` sites (ids like ``s3/cell2``, ``agg0``, ``core``)."""
    ents = [Entity("core", "core_router", Domain.TRANSPORT)]
    rels: list[Relation] = []
    n_agg = max(1, -(-n_sites // sites_per_agg))
    for g in range(n_agg):
        agg = f"agg{g}"
        ents += [
            Entity(agg, "agg_router", Domain.TRANSPORT),
            Entity(f"cfs{g}", "cfs", Domain.SERVICE),
            Entity(
                f"cust{g}",
                "customer",
                Domain.SERVICE,
                attributes={"sla": "gold" if g % 2 == 0 else "bronze"},
            ),
        ]
        rels += [Relation(agg, "core", K.CONNECTS), Relation(f"cust{g}", f"cfs{g}", K.DEPENDS_ON)]
    for s in range(n_sites):
        p, agg = f"s{s}", f"agg{s // sites_per_agg}"
        ents += [
            Entity(p, "site", Domain.POWER),
            Entity(f"{p}/power", "power", Domain.POWER),
            Entity(f"{p}/csr", "csr", Domain.TRANSPORT),
            Entity(f"{p}/link", "link", Domain.TRANSPORT),
            Entity(f"{p}/gnb", "gnodeb", Domain.RAN),
            Entity(f"{p}/rfs", "rfs", Domain.SERVICE),
        ]
        rels += [
            Relation(p, f"{p}/csr", K.CONTAINS),
            Relation(p, f"{p}/gnb", K.CONTAINS),
            Relation(f"{p}/power", f"{p}/csr", K.POWERS),
            Relation(f"{p}/power", f"{p}/gnb", K.POWERS),
            Relation(f"{p}/csr", f"{p}/link", K.CONNECTS),
            Relation(f"{p}/link", agg, K.CONNECTS),
            Relation(f"{p}/gnb", f"{p}/csr", K.DEPENDS_ON),
            Relation(f"{p}/rfs", f"{p}/gnb", K.REALISES),
            Relation(f"cfs{s // sites_per_agg}", f"{p}/rfs", K.REALISES),
        ]
        for c in range(3):
            ents.append(Entity(f"{p}/cell{c}", "cell", Domain.RAN))
            rels.append(Relation(f"{p}/cell{c}", f"{p}/gnb", K.HOSTED_ON))
            rels.append(Relation(f"{p}/rfs", f"{p}/cell{c}", K.REALISES))
    return ents, rels


def raise_alarm(
    alarm_id: str,
    entity: str,
    cause: str,
    at: datetime,
    severity: Severity = Severity.MAJOR,
    source: str = "ems",
    text: str = "",
    event_type: EventType = EventType.COMMUNICATIONS,
    planned: bool = False,
) -> Alarm:
    """A raised notification."""
    return Alarm(
        alarm_id,
        entity,
        event_type,
        cause,
        severity,
        at,
        additional_text=text or f"{cause} on {entity}",
        source=source,
        planned_outage_indicator=planned,
    )


def clear_alarm(alarm: Alarm, at: datetime) -> Alarm:
    """The cleared notification for ``alarm`` (same id, as a source sends it)."""
    return Alarm(
        alarm.alarm_id,
        alarm.managed_object,
        alarm.event_type,
        alarm.probable_cause,
        Severity.CLEARED,
        at,
        specific_problem=alarm.specific_problem,
        additional_text=alarm.additional_text,
        source=alarm.source,
        labels=alarm.labels,
    )
