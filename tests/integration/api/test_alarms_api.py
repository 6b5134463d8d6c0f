"""/api/v1/alarms: auth, validation with clear messages, durability and idempotency."""

from __future__ import annotations

from typing import Any

Api = Any  # the fixture object of conftest.py


def alarm(i: int = 1, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "alarm_id": f"a{i}",
        "managed_object": f"router-{i}",
        "event_type": "communicationsAlarm",
        "probable_cause": "linkDown",
        "perceived_severity": "MAJOR",
        "event_time": "2026-03-01T12:00:00Z",
    }
    body.update(over)
    return body


def test_post_without_token_is_401(api: Api) -> None:
    r = api.client.post("/api/v1/alarms", json=alarm())
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"] == "Bearer"


def test_unknown_token_is_401(api: Api) -> None:
    r = api.client.get("/api/v1/alarms", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert "unknown" in r.json()["detail"]


def test_viewer_cannot_post_alarms(api: Api) -> None:
    r = api.client.post("/api/v1/alarms", json=alarm(), headers=api.headers("viewer"))
    assert r.status_code == 403
    assert "operator" in r.json()["detail"]


def test_operator_posts_and_viewer_reads_back(api: Api) -> None:
    r = api.client.post(
        "/api/v1/alarms", json=[alarm(1), alarm(2)], headers=api.headers("operator")
    )
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2
    page = api.client.get("/api/v1/alarms", headers=api.headers("viewer")).json()
    assert page["total"] == 2
    assert {a["alarm_id"] for a in page["items"]} == {"a1", "a2"}


def test_filters_select_alarms(api: Api) -> None:
    api.client.post(
        "/api/v1/alarms",
        json=[alarm(1), alarm(2, perceived_severity="CRITICAL")],
        headers=api.headers("operator"),
    )
    r = api.client.get("/api/v1/alarms?severity=CRITICAL", headers=api.headers("viewer"))
    assert [a["alarm_id"] for a in r.json()["items"]] == ["a2"]
    r = api.client.get("/api/v1/alarms?managed_object=router-1", headers=api.headers("viewer"))
    assert [a["alarm_id"] for a in r.json()["items"]] == ["a1"]


def test_malformed_json_is_400_with_reason(api: Api) -> None:
    r = api.client.post("/api/v1/alarms", content=b"{not json", headers=api.headers("operator"))
    assert r.status_code == 400
    assert "not valid JSON" in r.json()["detail"]


def test_wrong_types_are_422_naming_the_field(api: Api) -> None:
    r = api.client.post(
        "/api/v1/alarms", json=alarm(event_time="yesterday"), headers=api.headers("operator")
    )
    assert r.status_code == 422
    assert "event_time" in r.json()["detail"]


def test_unknown_severity_is_422_naming_the_field(api: Api) -> None:
    r = api.client.post(
        "/api/v1/alarms", json=alarm(perceived_severity="HUGE"), headers=api.headers("operator")
    )
    assert r.status_code == 422
    assert "perceived_severity" in r.json()["detail"]


def test_naive_timestamp_is_rejected(api: Api) -> None:
    r = api.client.post(
        "/api/v1/alarms",
        json=alarm(event_time="2026-03-01T12:00:00"),
        headers=api.headers("operator"),
    )
    assert r.status_code == 422


def test_oversize_body_is_413(api: Api) -> None:
    big = b"[" + b" " * (11 * 2**20) + b"]"
    r = api.client.post("/api/v1/alarms", content=big, headers=api.headers("operator"))
    assert r.status_code == 413


def test_valid_part_of_a_batch_is_kept(api: Api) -> None:
    r = api.client.post(
        "/api/v1/alarms",
        json=[alarm(1), alarm(2, perceived_severity="HUGE"), alarm(3)],
        headers=api.headers("operator"),
    )
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] == 2
    assert [x["index"] for x in body["rejected"]] == [1]
    assert api.client.get("/api/v1/alarms", headers=api.headers("viewer")).json()["total"] == 2


def test_retried_batch_stores_nothing_twice(api: Api) -> None:
    batch = {"batch_id": "b-1", "alarms": [alarm(1), alarm(2)]}
    first = api.client.post("/api/v1/alarms", json=batch, headers=api.headers("operator")).json()
    again = api.client.post("/api/v1/alarms", json=batch, headers=api.headers("operator")).json()
    assert first["duplicate_batch"] is False
    assert again["duplicate_batch"] is True
    assert api.client.get("/api/v1/alarms", headers=api.headers("viewer")).json()["total"] == 2


def test_every_write_is_audited_and_the_chain_verifies(api: Api) -> None:
    api.client.post("/api/v1/alarms", json=alarm(1), headers=api.headers("operator"))
    api.client.post("/api/v1/alarms/a1/ack", json={}, headers=api.headers("operator"))
    audit = api.client.get("/api/v1/audit", headers=api.headers("admin")).json()
    assert audit["intact"] is True
    assert [e["action"] for e in audit["entries"]] == ["alarms.create", "alarm.ack"]


def test_operator_cannot_read_audit(api: Api) -> None:
    assert api.client.get("/api/v1/audit", headers=api.headers("operator")).status_code == 403


def test_health_is_public_and_metrics_need_a_token(api: Api) -> None:
    assert api.client.get("/api/v1/health").json()["status"] == "ok"
    assert api.client.get("/metrics").status_code == 401
    api.client.post("/api/v1/alarms", json=alarm(1), headers=api.headers("operator"))
    text = api.client.get("/metrics", headers=api.headers("viewer")).text
    assert 'nocwise_ingest_records_total{kind="alarm",source="api"} 1.0' in text


def test_openapi_lists_the_endpoints(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    for p in (
        "/api/v1/alarms",
        "/api/v1/incidents",
        "/api/v1/incidents/{incident_id}",
        "/api/v1/topology",
        "/api/v1/health",
    ):
        assert p in paths
    assert api.client.get("/docs").status_code == 200
