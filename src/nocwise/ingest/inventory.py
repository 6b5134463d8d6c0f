"""Topology and inventory -> entities and relations: TMF639 resources, TMF638 services, and a
YAML (or JSON) inventory in nocwise's own shape.

YAML inventory: ``{entities: [{id, kind, domain, name, attributes, labels}], relations:
[{src, dst, kind}]}``. TMF: a resource's kind is its ``kind``/``entityKind`` characteristic, else
its ``resourceSpecification.name`` or ``@type``; the domain is the ``domain`` characteristic,
else the kind's usual domain. ``resourceRelationship`` / ``serviceRelationship`` types map onto
relation kinds (unknown types are ``depends_on``), and a service's ``supportingResource`` /
``supportingService`` become ``realises`` edges (service -> what realises it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from nocwise.ingest.base import (
    BAD_JSON,
    BAD_SHAPE,
    BAD_VALUE,
    MISSING_FIELD,
    Invalid,
    ParseResult,
    Rejection,
    as_list,
    obj,
    str_map,
    text,
)
from nocwise.model import Domain, Entity, Relation, RelationKind

TopologyItem = Entity | Relation

_DOMAIN_OF_KIND: dict[str, Domain] = {
    **dict.fromkeys(("cell", "gnodeb", "enodeb", "site"), Domain.RAN),
    **dict.fromkeys(("csr", "agg_router", "core_router", "link", "router", "switch"), Domain.TRANSPORT),
    **dict.fromkeys(("amf", "smf", "upf", "nrf", "udm", "ausf", "pcf", "mme", "sgw", "pgw"), Domain.CORE),
    **dict.fromkeys(("k8s_node", "pod", "microservice", "database", "dns", "server", "vm"), Domain.IT),
    "power": Domain.POWER,
    **dict.fromkeys(("customer", "cfs", "rfs", "service"), Domain.SERVICE),
}  # fmt: skip
_RELATION_WORDS: dict[str, RelationKind] = {k.value.replace("_", ""): k for k in RelationKind} | {
    "haspart": RelationKind.CONTAINS, "parent": RelationKind.CONTAINS,
    "iscontainedin": RelationKind.CONTAINS, "partof": RelationKind.CONTAINS, "child": RelationKind.CONTAINS,
    "runson": RelationKind.HOSTED_ON, "ishostedon": RelationKind.HOSTED_ON,
    "connectedto": RelationKind.CONNECTS, "linkedto": RelationKind.CONNECTS,
    "relieson": RelationKind.DEPENDS_ON, "uses": RelationKind.DEPENDS_ON,
    "poweredby": RelationKind.POWERS, "realizes": RelationKind.REALISES,
    "isrealisedby": RelationKind.REALISES, "backup": RelationKind.PROTECTS,
}  # fmt: skip
_REVERSED = frozenset({"iscontainedin", "partof", "child", "poweredby", "isrealisedby"})


def parse(body: bytes, content_type: str | None = None) -> ParseResult[TopologyItem]:
    """YAML or JSON (a YAML superset) -> entities and relations; each item stands alone."""
    del content_type
    try:
        doc = yaml.safe_load(body)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        return ParseResult.reject_all(BAD_JSON, f"not valid YAML/JSON: {str(exc)[:200]}")
    if isinstance(doc, dict) and ("entities" in doc or "relations" in doc):
        return _inventory(doc)
    if isinstance(doc, dict | list):
        return _tmf(as_list(doc))
    return ParseResult.reject_all(BAD_SHAPE, "expected an inventory object or TMF resources")


def _domain(word: str, kind: str) -> Domain:
    if word:
        try:
            return Domain(word.lower())
        except ValueError as exc:
            raise Invalid(BAD_VALUE, f"unknown domain {word[:40]!r}") from exc
    return _DOMAIN_OF_KIND.get(kind, Domain.IT)


def _relation_kind(word: str) -> tuple[RelationKind, bool]:
    key = word.replace("_", "").replace("-", "").replace(" ", "").lower()
    return _RELATION_WORDS.get(key, RelationKind.DEPENDS_ON), key in _REVERSED


def _inventory(doc: Mapping[str, Any]) -> ParseResult[TopologyItem]:
    result = ParseResult[TopologyItem]()
    entities = doc.get("entities") or []
    relations = doc.get("relations") or []
    if not isinstance(entities, list) or not isinstance(relations, list):
        return ParseResult.reject_all(BAD_SHAPE, "entities and relations must be lists")
    for i, e in enumerate(entities):
        try:
            e = obj(e, "entity")
            kind = text(e, "kind", required=True)
            result.records.append(
                Entity(
                    id=text(e, "id", required=True),
                    kind=kind,
                    domain=_domain(text(e, "domain"), kind),
                    name=text(e, "name"),
                    attributes=str_map(e.get("attributes"), "attributes"),
                    labels=str_map(e.get("labels"), "labels"),
                )
            )
        except Invalid as exc:
            result.rejections.append(Rejection(exc.reason, f"entity: {exc.detail}", i))
    for j, r in enumerate(relations):
        try:
            r = obj(r, "relation")
            word = text(r, "kind", required=True)
            try:
                kind = RelationKind(word)
            except ValueError as exc:
                raise Invalid(BAD_VALUE, f"unknown relation kind {word[:40]!r}") from exc
            src, dst = text(r, "src", required=True), text(r, "dst", required=True)
            result.records.append(Relation(src, dst, kind))
        except Invalid as exc:
            result.rejections.append(
                Rejection(exc.reason, f"relation: {exc.detail}", len(entities) + j)
            )
    return result


def _characteristics(doc: Mapping[str, Any], key: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in as_list(doc.get(key) or []):
        c = obj(c, key)
        name = text(c, "name")
        if name:
            value = c.get("value")
            out[name] = value if isinstance(value, str) else str_map({"v": value}, key)["v"]
    return out


def _tmf(items: list[Any]) -> ParseResult[TopologyItem]:
    result = ParseResult[TopologyItem]()
    for i, item in enumerate(items):
        try:
            doc = obj(item, "resource")
            result.records.extend(_tmf_item(doc))
        except Invalid as exc:
            result.rejections.append(Rejection(exc.reason, exc.detail, i))
    return result


def _tmf_item(doc: Mapping[str, Any]) -> list[TopologyItem]:
    eid = text(doc, "id", required=True)
    is_service = any(
        k in doc
        for k in (
            "serviceCharacteristic",
            "serviceRelationship",
            "supportingResource",
            "serviceType",
            "supportingService",
        )
    )
    chars = _characteristics(
        doc, "serviceCharacteristic" if is_service else "resourceCharacteristic"
    )
    spec = doc.get("serviceSpecification" if is_service else "resourceSpecification")
    spec_name = text(spec, "name") if isinstance(spec, dict) else ""
    kind = (
        chars.pop("kind", "") or chars.pop("entityKind", "") or spec_name or text(doc, "serviceType")
        or text(doc, "@type") or ("cfs" if is_service else "")
    ).lower()  # fmt: skip
    if not kind:
        raise Invalid(MISSING_FIELD, f"{eid}: no kind (characteristic, specification or @type)")
    domain = _domain(chars.pop("domain", ""), kind)
    if is_service and "domain" not in chars and kind not in _DOMAIN_OF_KIND:
        domain = Domain.SERVICE
    place = doc.get("place")
    if isinstance(place, dict) and (pid := text(place, "id")):
        chars["place"] = pid
    out: list[TopologyItem] = [Entity(eid, kind, domain, text(doc, "name"), chars)]
    rel_key = "serviceRelationship" if is_service else "resourceRelationship"
    for rel in as_list(doc.get(rel_key) or []):
        rel = obj(rel, rel_key)
        target = rel.get("service") if is_service else rel.get("resource")
        tid = text(target, "id") if isinstance(target, dict) else text(rel, "id")
        if not tid:
            raise Invalid(MISSING_FIELD, f"{eid}: a relationship without a target id")
        kind_r, reverse = _relation_kind(text(rel, "relationshipType", default="dependsOn"))
        out.append(Relation(tid, eid, kind_r) if reverse else Relation(eid, tid, kind_r))
    for key in ("supportingResource", "supportingService"):
        for ref in as_list(doc.get(key) or []):
            rid = text(obj(ref, key), "id")
            if rid:
                out.append(Relation(eid, rid, RelationKind.REALISES))
    return out
