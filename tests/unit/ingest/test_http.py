from __future__ import annotations

import gzip
import json

import cramjam

from nocwise.ingest.health import HealthBoard
from nocwise.ingest.remote_write_pb import WriteRequest
from nocwise.ingest.sqlite_sink import SqliteSink

from .conftest import Client


def am_body(n: int, status: str = "firing") -> bytes:
    alerts = [
        {
            "status": status,
            "labels": {"alertname": "HighCPU", "instance": f"h{i}", "severity": "major"},
            "annotations": {"summary": "cpu"},
            "startsAt": "2026-01-05T10:00:00Z",
            "endsAt": "2026-01-05T10:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
            "fingerprint": f"fp{i}",
        }
        for i in range(n)
    ]
    return json.dumps({"version": "4", "status": status, "alerts": alerts}).encode()


def test_alertmanager_webhook_stores_then_resolves(client: Client, sink: SqliteSink) -> None:
    r = client.post("/api/v1/ingest/alertmanager", content=am_body(3))
    assert r.status_code == 200
    assert r.json() == {"accepted": 3, "stored": 3, "rejected": []}
    assert client.post("/api/v1/ingest/alertmanager", content=am_body(3)).json()["stored"] == 0
    r = client.post("/api/v1/ingest/alertmanager", content=am_body(3, "resolved"))
    assert r.json()["stored"] == 3
    docs = sink.alarm_docs()
    assert len(docs) == 3
    assert {d["perceived_severity"] for d in docs} == {"CLEARED"}


def test_resolve_is_not_undone_by_a_late_firing_retry(client: Client, sink: SqliteSink) -> None:
    client.post("/api/v1/ingest/alertmanager", content=am_body(1, "resolved"))
    client.post("/api/v1/ingest/alertmanager", content=am_body(1))
    assert sink.alarm_docs()[0]["cleared_time"] is not None


def test_bad_json_is_a_400_problem_and_counted(client: Client, board: HealthBoard) -> None:
    r = client.post("/api/v1/ingest/tmf642/alarm", content=b"{oops")
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"].startswith("bad_json")
    assert board.source("tmf642").rejected["bad_json"] == 1


def test_idempotency_key_makes_a_batch_a_noop(client: Client) -> None:
    doc = {
        "id": "1",
        "alarmType": "communicationsAlarm",
        "perceivedSeverity": "minor",
        "alarmedObject": {"id": "x"},
        "alarmRaisedTime": "2026-01-05T10:00:00Z",
    }
    h = {"Idempotency-Key": "k1"}
    assert client.post("/api/v1/ingest/tmf642/alarm", json=doc, headers=h).json()["stored"] == 1
    doc["alarmRaisedTime"] = "2026-01-05T11:00:00Z"
    assert client.post("/api/v1/ingest/tmf642/alarm", json=doc, headers=h).json()["stored"] == 0


def test_gzip_body_and_size_limit(client: Client) -> None:
    r = client.post(
        "/api/v1/ingest/alertmanager",
        content=gzip.compress(am_body(2)),
        headers={"Content-Encoding": "gzip"},
    )
    assert r.json()["accepted"] == 2
    r = client.post("/api/v1/ingest/alertmanager", content=b" " * (2 << 20))
    assert r.status_code == 413


def _rw(series: list[dict[str, str]], ts: int) -> bytes:
    w = WriteRequest()
    for i, labels in enumerate(series):
        t = w.timeseries.add()
        for k, v in sorted(labels.items()):
            lb = t.labels.add()
            lb.name, lb.value = k, v
        s = t.samples.add()
        s.value, s.timestamp = float(i), ts
    return bytes(cramjam.snappy.compress_raw(w.SerializeToString()))


def test_remote_write_stores_samples_and_series_once(client: Client, sink: SqliteSink) -> None:
    body = _rw([{"__name__": "up", "job": "a"}, {"__name__": "up", "job": "b"}], 1000)
    headers = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"}
    assert client.post("/api/v1/write", content=body, headers=headers).status_code == 204
    assert client.post("/api/v1/write", content=body, headers=headers).status_code == 204  # retry
    body2 = _rw([{"__name__": "up", "job": "b"}, {"job": "nameless"}], 2000)
    r = client.post("/api/v1/write", content=body2, headers=headers)
    assert r.status_code == 400
    assert r.json()["rejected"][0]["reason"] == "missing_field"
    batch = sink.metric_batch()
    assert batch.series.tolist() == [0, 1, 1]
    assert batch.ts_ms.tolist() == [1000, 1000, 2000]
    assert sink.series_labels() == [{"__name__": "up", "job": "a"}, {"__name__": "up", "job": "b"}]


def test_remote_write_garbage_is_400(client: Client) -> None:
    assert client.post("/api/v1/write", content=b"\x10abc").status_code == 400


class _FullSink(SqliteSink):
    async def alarms(self, alarms: object, batch_id: str | None = None) -> int:  # type: ignore[override]
        from nocwise.ingest.sink import Overloaded

        raise Overloaded(2.0)


def test_a_full_sink_answers_503_with_retry_after(tmp_path: object, board: HealthBoard) -> None:
    from datetime import UTC, datetime
    from pathlib import Path

    from fastapi import FastAPI

    from nocwise.clock import ManualClock
    from nocwise.ingest.http import make_router

    full = _FullSink(Path(str(tmp_path)) / "x.db")
    app = FastAPI()
    app.include_router(make_router(full, board, ManualClock(datetime(2026, 1, 1, tzinfo=UTC))))
    c = Client(app)
    r = c.post("/api/v1/ingest/alertmanager", content=am_body(1))
    c.close()
    full.close()
    assert r.status_code == 503
    assert r.headers["retry-after"] == "2"
    assert board.source("alertmanager").overloaded == 1


def test_health_is_exported_to_prometheus(client: Client, board: HealthBoard) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    client.post("/api/v1/ingest/alertmanager", content=am_body(2))
    client.post("/api/v1/ingest/alertmanager", content=b"[1]")
    reg = CollectorRegistry()
    board.register(reg)
    text = generate_latest(reg).decode()
    assert 'nocwise_ingest_received_total{source="alertmanager"} 2.0' in text
    assert 'nocwise_ingest_rejected_total{reason="bad_shape",source="alertmanager"} 1.0' in text


def test_alarm_json_is_the_generic_document() -> None:
    from datetime import UTC, datetime

    from nocwise.ingest.codec import alarm_json, to_doc
    from nocwise.model import Alarm, EventType, Severity, Trend

    t = datetime(2026, 1, 1, tzinfo=UTC)
    a = Alarm(
        "a", "mo", EventType.EQUIPMENT, "pc", Severity.MAJOR, t, trend_indication=Trend.MORE_SEVERE,
        threshold_info={"x": "1"}, labels={"k": "v"}, correlated_notifications=("b",),
    ).comment("u", "hi", t).ack("u", t)  # fmt: skip
    assert json.loads(alarm_json(a)) == to_doc(a)


def test_too_many_requests_in_flight_are_refused_not_queued(
    sink: SqliteSink, board: HealthBoard
) -> None:
    from datetime import UTC, datetime

    from fastapi import FastAPI

    from nocwise.clock import ManualClock
    from nocwise.ingest.http import Limits, make_router

    app = FastAPI()
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    app.include_router(
        make_router(sink, board, clock, limits=Limits(max_inflight=0, retry_after_s=3))
    )
    c = Client(app)
    r = c.post("/api/v1/ingest/alertmanager", content=am_body(1))
    c.close()
    assert r.status_code == 503
    assert r.headers["retry-after"] == "3"


def test_tickets_csv_topology_yaml_and_source_health(client: Client, sink: SqliteSink) -> None:
    csv = b"number,short_description,state,opened_at\nINC1,Cell down,New,2026-01-05 10:00:00\n"
    r = client.post("/api/v1/ingest/tickets", content=csv, headers={"Content-Type": "text/csv"})
    assert r.json()["stored"] == 1
    yml = b"entities: [{id: s1, kind: site}, {id: g1, kind: gnodeb}]\nrelations: [{src: s1, dst: g1, kind: contains}]\n"
    r = client.post(
        "/api/v1/ingest/topology", content=yml, headers={"Content-Type": "application/yaml"}
    )
    assert r.json() == {"accepted": 3, "stored": 3, "rejected": []}
    assert sink.count("tickets") == 1
    assert sink.count("relations") == 1
    health = {h["source"]: h for h in client.get("/api/v1/ingest/sources").json()}
    assert health["tickets"]["received"] == 1
    assert health["topology"]["last_received"] is not None


def test_a_raise_after_the_clear_is_a_new_occurrence(client: Client, sink: SqliteSink) -> None:
    client.post("/api/v1/ingest/alertmanager", content=am_body(1))
    client.post("/api/v1/ingest/alertmanager", content=am_body(1, "resolved"))  # ends 10:30
    again = json.loads(am_body(1))
    again["alerts"][0]["startsAt"] = "2026-01-05T11:00:00Z"
    client.post("/api/v1/ingest/alertmanager", content=json.dumps(again).encode())
    (doc,) = sink.alarm_docs()
    assert doc["cleared_time"] is None
    assert doc["raised_time"].startswith("2026-01-05T11:00")
