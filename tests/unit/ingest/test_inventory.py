from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from nocwise.ingest import inventory
from nocwise.ingest.base import REASONS
from nocwise.model import Domain, Entity, Relation, RelationKind

from .strategies import json_values

YAML = b"""
entities:
  - {id: site-7, kind: site, domain: ran}
  - {id: gnb-7, kind: gnodeb, name: gNB 7}
  - {id: bad}
relations:
  - {src: site-7, dst: gnb-7, kind: contains}
  - {src: a, dst: b, kind: loves}
"""


def test_yaml_inventory() -> None:
    r = inventory.parse(YAML, "application/yaml")
    ents = [x for x in r.records if isinstance(x, Entity)]
    rels = [x for x in r.records if isinstance(x, Relation)]
    assert [e.id for e in ents] == ["site-7", "gnb-7"]
    assert ents[1].domain is Domain.RAN
    assert rels == [Relation("site-7", "gnb-7", RelationKind.CONTAINS)]
    assert sorted(x.reason for x in r.rejections) == ["bad_value", "missing_field"]


def test_tmf639_and_tmf638() -> None:
    docs = [
        {
            "id": "upf-2",
            "name": "UPF 2",
            "@type": "PhysicalResource",
            "resourceCharacteristic": [{"name": "kind", "value": "upf"}],
            "resourceRelationship": [
                {"relationshipType": "isContainedIn", "resource": {"id": "dc-1"}}
            ],
        },
        {
            "id": "svc-internet",
            "name": "Mobile internet",
            "serviceType": "cfs",
            "supportingResource": [{"id": "upf-2"}],
            "serviceRelationship": [
                {"relationshipType": "dependsOn", "service": {"id": "svc-dns"}}
            ],
        },
    ]
    r = inventory.parse(json.dumps(docs).encode())
    assert r.rejections == []
    upf, contained, svc, *rels = r.records
    assert isinstance(upf, Entity)
    assert (upf.kind, upf.domain) == ("upf", Domain.CORE)
    assert contained == Relation("dc-1", "upf-2", RelationKind.CONTAINS)
    assert isinstance(svc, Entity)
    assert svc.domain is Domain.SERVICE
    assert set(rels) == {
        Relation("svc-internet", "svc-dns", RelationKind.DEPENDS_ON),
        Relation("svc-internet", "upf-2", RelationKind.REALISES),
    }


@given(st.binary(max_size=300))
def test_fuzz_bytes(body: bytes) -> None:
    assert all(x.reason in REASONS and x.detail for x in inventory.parse(body).rejections)


@given(
    st.lists(json_values, max_size=4),
    st.lists(json_values, max_size=4),
    st.lists(json_values, max_size=4),
)
def test_fuzz_shapes(ents: list[object], rels: list[object], tmf: list[object]) -> None:
    for doc in ({"entities": ents, "relations": rels}, tmf):
        r = inventory.parse(json.dumps(doc).encode())
        assert all(x.reason in REASONS and x.detail for x in r.rejections)
