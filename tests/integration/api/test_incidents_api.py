"""Alarms in through the API become an incident with members, hypotheses and impact."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from nocwise.model import Domain, Entity, Relation, RelationKind

Api = Any  # the fixture object of conftest.py

K = RelationKind


def _topology(api: Api) -> None:
    entities = [
        Entity("site-1", "site", Domain.POWER),
        Entity("pwr-1", "power", Domain.POWER),
        Entity("csr-1", "csr", Domain.TRANSPORT),
        Entity("gnb-1", "gnodeb", Domain.RAN),
        Entity("cell-1", "cell", Domain.RAN),
        Entity("cell-2", "cell", Domain.RAN),
        Entity("rfs-1", "rfs", Domain.SERVICE),
        Entity("cfs-1", "cfs", Domain.SERVICE),
        Entity("cust-1", "customer", Domain.SERVICE),
    ]
    relations = [
        Relation("site-1", "pwr-1", K.CONTAINS),
        Relation("pwr-1", "csr-1", K.POWERS),
        Relation("pwr-1", "gnb-1", K.POWERS),
        Relation("gnb-1", "csr-1", K.DEPENDS_ON),
        Relation("gnb-1", "cell-1", K.CONTAINS),
        Relation("gnb-1", "cell-2", K.CONTAINS),
        Relation("rfs-1", "gnb-1", K.REALISES),
        Relation("cfs-1", "rfs-1", K.REALISES),
        Relation("cust-1", "cfs-1", K.DEPENDS_ON),
    ]
    asyncio.run(api.runtime.ingest_topology(entities, relations))


def _alarm(i: int, mo: str, cause: str, second: int) -> dict[str, Any]:
    return {
        "alarm_id": f"p{i}",
        "managed_object": mo,
        "event_type": "equipmentAlarm" if mo == "pwr-1" else "communicationsAlarm",
        "probable_cause": cause,
        "perceived_severity": "CRITICAL",
        "event_time": f"2026-03-01T12:00:{second:02d}Z",
    }


def _wait(api: Api) -> None:
    async def settle() -> None:
        await api.runtime.idle(timeout_s=20)
        for _ in range(3):
            api.clock.advance(timedelta(minutes=5))
            await api.runtime.save_incidents(api.runtime.stages.tick(api.clock.now()))
            await api.runtime.idle(timeout_s=20)

    asyncio.run(settle())


def test_a_power_failure_becomes_one_incident_with_the_power_plant_first(api: Api) -> None:
    _topology(api)
    alarms = [
        _alarm(1, "pwr-1", "powerProblem", 0),
        _alarm(2, "gnb-1", "communicationsSubsystemFailure", 20),
        _alarm(3, "cell-1", "underlyingResourceUnavailable", 25),
        _alarm(4, "cell-2", "underlyingResourceUnavailable", 26),
        _alarm(5, "csr-1", "communicationsSubsystemFailure", 30),
    ]
    r = api.client.post("/api/v1/alarms", json=alarms, headers=api.headers("operator"))
    assert r.status_code == 200
    _wait(api)
    page = api.client.get("/api/v1/incidents", headers=api.headers("viewer")).json()
    assert page["total"] == 1
    summary = page["items"][0]
    assert summary["members"] == 5
    detail = api.client.get(
        f"/api/v1/incidents/{summary['id']}", headers=api.headers("viewer")
    ).json()
    assert {m["alarm_id"] for m in detail["members"]} == {f"p{i}" for i in range(1, 6)}
    assert all(m["reason"] for m in detail["members"])
    assert all(m["alarm"] is not None for m in detail["members"])
    top = detail["hypotheses"][0]
    assert top["entity_id"] == "pwr-1"
    assert top["evidence"]
    assert "cust-1" in detail["impact"]["customers"]
    assert isinstance(detail["recommendations"], list)


def test_unknown_incident_is_404(api: Api) -> None:
    r = api.client.get("/api/v1/incidents/INC-nope", headers=api.headers("viewer"))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


def test_topology_lists_entities_and_relations(api: Api) -> None:
    _topology(api)
    body = api.client.get("/api/v1/topology?kind=cell", headers=api.headers("viewer")).json()
    assert [e["id"] for e in body["entities"]] == ["cell-1", "cell-2"]
    assert body["total_entities"] == 9
    assert {"src": "gnb-1", "dst": "cell-1", "kind": "contains"} in body["relations"]
