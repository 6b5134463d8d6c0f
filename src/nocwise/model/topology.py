"""Entities and the relations between them: the graph that impact and root cause walk."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Domain(StrEnum):
    """The network domain an entity belongs to."""

    RAN = "ran"
    TRANSPORT = "transport"
    CORE = "core"
    IT = "it"
    POWER = "power"
    SERVICE = "service"


class RelationKind(StrEnum):
    """Typed edges. Direction: ``src`` -> ``dst`` reads as the kind's verb (site *contains* gnodeb)."""

    CONTAINS = "contains"
    HOSTED_ON = "hosted_on"
    CONNECTS = "connects"
    DEPENDS_ON = "depends_on"
    POWERS = "powers"
    REALISES = "realises"
    PROTECTS = "protects"


ENTITY_KINDS: frozenset[str] = frozenset(
    {
        "cell",
        "gnodeb",
        "enodeb",
        "csr",
        "agg_router",
        "core_router",
        "link",
        "amf",
        "smf",
        "upf",
        "nrf",
        "udm",
        "ausf",
        "dns",
        "k8s_node",
        "pod",
        "microservice",
        "database",
        "site",
        "power",
        "customer",
        "cfs",
        "rfs",
    }
)


@dataclass(frozen=True, slots=True)
class Entity:
    """A managed thing: a cell, a router, a link, a network function, a pod, a customer..."""

    id: str
    kind: str
    domain: Domain
    name: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Relation:
    """A typed, directed edge between two entity ids."""

    src: str
    dst: str
    kind: RelationKind
