"""Operators merge and split incidents through the API; each correction is audited and kept."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from nocwise.model import Domain, Entity, Relation, RelationKind

Api = Any  # the fixture object of conftest.py


def _topology(api: Api) -> None:
    entities = [
        Entity("csr-1", "csr", Domain.TRANSPORT),
        Entity("csr-2", "csr", Domain.TRANSPORT),
        Entity("gnb-1", "gnodeb", Domain.RAN),
        Entity("gnb-2", "gnodeb", Domain.RAN),
        Entity("cell-1", "cell", Domain.RAN),
        Entity("cell-2", "cell", Domain.RAN),
    ]
    relations = [
        Relation("gnb-1", "csr-1", RelationKind.DEPENDS_ON),
        Relation("gnb-2", "csr-2", RelationKind.DEPENDS_ON),
        Relation("gnb-1", "cell-1", RelationKind.CONTAINS),
        Relation("gnb-2", "cell-2", RelationKind.CONTAINS),
    ]
    asyncio.run(api.runtime.ingest_topology(entities, relations))


def _alarm(i: int, mo: str, minute: int) -> dict[str, Any]:
    return {
        "alarm_id": f"g{i}",
        "managed_object": mo,
        "event_type": "communicationsAlarm",
        "probable_cause": "lossOfSignal" if mo.startswith("csr") else "cellDown",
        "perceived_severity": "MAJOR",
        "event_time": f"2026-03-01T12:{minute:02d}:00Z",
    }


def _settle(api: Api) -> None:
    async def run() -> None:
        await api.runtime.idle(timeout_s=20)
        for _ in range(3):
            api.clock.advance(timedelta(minutes=5))
            await api.runtime.save_incidents(api.runtime.stages.tick(api.clock.now()))
            await api.runtime.idle(timeout_s=20)

    asyncio.run(run())


def _two_incidents(api: Api) -> dict[str, set[str]]:
    """Two unrelated outages (different routers, an hour apart in topology terms)."""
    _topology(api)
    alarms = [_alarm(1, "csr-1", 0), _alarm(2, "cell-1", 0), _alarm(3, "csr-2", 1)]
    alarms.append(_alarm(4, "cell-2", 1))
    r = api.client.post("/api/v1/alarms", json=alarms, headers=api.headers("operator"))
    assert r.status_code == 200
    _settle(api)
    page = api.client.get("/api/v1/incidents", headers=api.headers("viewer")).json()
    out = {}
    for item in page["items"]:
        detail = api.client.get(f"/api/v1/incidents/{item['id']}", headers=api.headers("viewer"))
        out[item["id"]] = {m["alarm_id"] for m in detail.json()["members"]}
    return out


def test_merge_moves_every_member_and_is_audited_and_kept(api: Api) -> None:
    incidents = _two_incidents(api)
    assert len(incidents) == 2, incidents
    into, other = sorted(incidents)
    r = api.client.post(
        f"/api/v1/incidents/{into}/merge",
        json={"from_incident_id": other, "comment": "same duct"},
        headers=api.headers("operator"),
    )
    assert r.status_code == 200, r.text
    assert set(r.json()["changed"]) == {into, other}
    detail = api.client.get(f"/api/v1/incidents/{into}", headers=api.headers("viewer")).json()
    assert {m["alarm_id"] for m in detail["members"]} == incidents[into] | incidents[other]
    moved = [m for m in detail["members"] if m["alarm_id"] in incidents[other]]
    assert all(m["reason"] == "operator_merge" for m in moved)
    closed = api.client.get(f"/api/v1/incidents/{other}", headers=api.headers("viewer")).json()
    assert closed["state"] == "closed"
    feedback = api.client.get("/api/v1/incidents/feedback", headers=api.headers("viewer")).json()
    assert [(f["action"], f["actor"]) for f in feedback] == [("merge", "test-operator")]
    assert set(feedback[0]["alarm_ids"]) == incidents[other]
    audit = api.client.get("/api/v1/audit", headers=api.headers("admin")).json()
    assert any(e["action"] == "incident.merge" for e in audit["entries"])


def test_split_moves_alarms_to_a_new_incident(api: Api) -> None:
    incidents = _two_incidents(api)
    iid = next(i for i, members in incidents.items() if "g2" in members)
    assert incidents[iid] == {"g1", "g2"}
    r = api.client.post(
        f"/api/v1/incidents/{iid}/split",
        json={"alarm_ids": ["g2"]},
        headers=api.headers("operator"),
    )
    assert r.status_code == 200, r.text
    new_id = r.json()["new_incident_id"]
    assert new_id
    assert new_id != iid
    new = api.client.get(f"/api/v1/incidents/{new_id}", headers=api.headers("viewer")).json()
    assert [m["alarm_id"] for m in new["members"]] == ["g2"]
    assert new["members"][0]["reason"] == "operator_split"
    old = api.client.get(f"/api/v1/incidents/{iid}", headers=api.headers("viewer")).json()
    assert [m["alarm_id"] for m in old["members"]] == ["g1"]


def test_refused_corrections_say_why(api: Api) -> None:
    incidents = _two_incidents(api)
    iid = next(iter(incidents))
    op = api.headers("operator")
    cases = [
        (f"/api/v1/incidents/{iid}/merge", {"from_incident_id": iid}, 409),
        (f"/api/v1/incidents/{iid}/merge", {"from_incident_id": "INC-nope"}, 404),
        ("/api/v1/incidents/INC-nope/split", {"alarm_ids": ["g1"]}, 404),
        (f"/api/v1/incidents/{iid}/split", {"alarm_ids": ["not-a-member"]}, 409),
        (f"/api/v1/incidents/{iid}/split", {"alarm_ids": sorted(incidents[iid])}, 409),
        (f"/api/v1/incidents/{iid}/split", {"alarm_ids": []}, 422),
    ]
    for path, body, status in cases:
        r = api.client.post(path, json=body, headers=op)
        assert r.status_code == status, (path, body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    viewer = api.client.post(
        f"/api/v1/incidents/{iid}/split", json={"alarm_ids": ["g1"]}, headers=api.headers("viewer")
    )
    assert viewer.status_code == 403


def test_the_chain_and_its_dedup_keys_are_shown(tmp_path: Any) -> None:
    from fastapi.testclient import TestClient

    from nocwise.api.app import create_app
    from nocwise.clock import ManualClock
    from nocwise.config import Settings
    from nocwise.runtime.runtime import Runtime
    from nocwise.store.state.repositories import TokenRepository

    from .conftest import T0

    options = {"dedup": {"key_by_source": {"ems": ["managed_object", "probable_cause"]}}}
    settings = Settings.model_validate(
        {"data_dir": tmp_path, "pipeline": {"correlation": {"options": options}}}
    )
    runtime = Runtime(settings, ManualClock(T0))
    with runtime.db.session() as s:
        token = TokenRepository(s).create("viewer", "t", T0)[1]
    with TestClient(create_app(settings, ManualClock(T0), runtime)) as client:
        r = client.get("/api/v1/correlation", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    body = r.json()
    assert body["stages"] == [
        "lifecycle", "dedup", "flapping", "mute", "suppress", "noise", "group", "impact",
    ]  # fmt: skip
    assert body["config"]["dedup"]["key_by_source"] == {"ems": ["managed_object", "probable_cause"]}
    assert body["config"]["group"]["window"] == "PT10M"


def test_retraining_learns_from_history_and_from_a_merge(api: Api) -> None:
    incidents = _two_incidents(api)
    into, other = sorted(incidents)
    op, admin = api.headers("operator"), api.headers("admin")
    r = api.client.post(
        f"/api/v1/incidents/{into}/merge", json={"from_incident_id": other}, headers=op
    )
    assert r.status_code == 200
    assert api.client.post("/api/v1/correlation/retrain", headers=op).status_code == 403
    r = api.client.post("/api/v1/correlation/retrain?days=7", headers=admin)
    assert r.status_code == 200, r.text
    summary = r.json()
    assert summary["alarms"] == 4
    assert summary["alarm_types"] == 2
    assert summary["feedback_pairs"] == 1  # the merge joined cellDown and lossOfSignal alarms
    causality = api.runtime.stages.causality
    assert causality is not None
    assert causality.votes[("cellDown", "lossOfSignal")] > 0
    audit = api.client.get("/api/v1/audit", headers=admin).json()
    assert any(e["action"] == "correlation.retrain" for e in audit["entries"])
