from __future__ import annotations

import json
from datetime import UTC, datetime

from google.protobuf import json_format
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from nocwise.ingest import otlp
from nocwise.ingest.base import REASONS
from nocwise.model import SpanStatus

from .conftest import Client

NOW = datetime(2026, 1, 5, tzinfo=UTC)
TRACE_JSON = {
    "resourceSpans": [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "amf"}}]},
            "scopeSpans": [
                {
                    "spans": [
                        {
                            "traceId": "5b8efff798038103d269b633813fc60c",
                            "spanId": "eee19b7ec3c1b174",
                            "parentSpanId": "eee19b7ec3c1b173",
                            "name": "N2 setup",
                            "kind": 2,
                            "startTimeUnixNano": "1767614400000000000",
                            "endTimeUnixNano": "1767614400250000000",
                            "attributes": [{"key": "peer", "value": {"stringValue": "gnb-1"}}],
                            "status": {"code": 2, "message": "timeout"},
                        },
                        {"traceId": "", "spanId": "", "name": "broken"},
                    ]
                }
            ],
        }
    ]
}


def test_traces_json_with_hex_ids() -> None:
    r = otlp.parse_traces(json.dumps(TRACE_JSON).encode(), "application/json")
    (s,) = r.records
    assert s.trace_id == "5b8efff798038103d269b633813fc60c"
    assert s.parent_id == "eee19b7ec3c1b173"
    assert s.service == "amf"
    assert s.status is SpanStatus.ERROR
    assert (s.end - s.start).total_seconds() == 0.25
    assert [x.reason for x in r.rejections] == ["missing_field"]


def test_logs_protobuf() -> None:
    req = logs_service_pb2.ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    kv = rl.resource.attributes.add()
    kv.key, kv.value.string_value = "host.name", "node-3"
    rec = rl.scope_logs.add().log_records.add()
    rec.time_unix_nano = 1767614400000000000
    rec.severity_number = 17
    rec.body.string_value = "disk full"
    rec.trace_id = bytes.fromhex("5b8efff798038103d269b633813fc60c")
    (log,) = otlp.parse_logs(req.SerializeToString(), "application/x-protobuf", now=NOW).records
    assert (log.host, log.severity, log.message) == ("node-3", 3, "disk full")
    assert log.trace_id == "5b8efff798038103d269b633813fc60c"


def test_metrics_gauge_and_histogram() -> None:
    req = metrics_service_pb2.ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    kv = rm.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "upf"
    sm = rm.scope_metrics.add()
    g = sm.metrics.add()
    g.name = "cpu.util"
    p = g.gauge.data_points.add()
    p.time_unix_nano, p.as_double = 1767614400000000000, 0.5
    h = sm.metrics.add()
    h.name = "latency"
    hp = h.histogram.data_points.add()
    hp.time_unix_nano, hp.count, hp.sum = 1767614400000000000, 4, 2.0
    pts = otlp.parse_metrics(req.SerializeToString()).records
    assert [(dict(x.labels)["__name__"], x.value) for x in pts] == [
        ("cpu_util", 0.5),
        ("latency_count", 4.0),
        ("latency_sum", 2.0),
    ]
    assert pts[0].labels["job"] == "upf"


def test_otlp_endpoints_store_and_report_partial_success(client: Client, sink: object) -> None:
    r = client.post(
        "/api/v1/ingest/otlp/v1/traces",
        content=json.dumps(TRACE_JSON).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 200
    assert r.json()["partialSuccess"]["rejectedSpans"] == "1"
    req = trace_service_pb2.ExportTraceServiceRequest()
    json_format.ParseDict({"resourceSpans": []}, req)
    r = client.post(
        "/api/v1/ingest/otlp/v1/traces",
        content=req.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/x-protobuf"
    assert client.post("/api/v1/ingest/otlp/v1/logs", content=b"\xff\xff").status_code == 400


@given(st.binary(max_size=300), st.sampled_from(["application/json", "application/x-protobuf"]))
def test_fuzz_never_raises(body: bytes, ctype: str) -> None:
    for r in (
        otlp.parse_traces(body, ctype),
        otlp.parse_logs(body, ctype, now=NOW),
        otlp.parse_metrics(body, ctype),
    ):
        assert all(x.reason in REASONS and x.detail for x in r.rejections)


@given(
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**64 - 1),
    st.binary(max_size=20),
    st.binary(max_size=10),
    st.integers(0, 30),
)
def test_fuzz_span_fields(start: int, end: int, trace_id: bytes, span_id: bytes, sev: int) -> None:
    req = trace_service_pb2.ExportTraceServiceRequest()
    s = req.resource_spans.add().scope_spans.add().spans.add()
    s.start_time_unix_nano, s.end_time_unix_nano, s.trace_id, s.span_id = (
        start,
        end,
        trace_id,
        span_id,
    )
    r = otlp.parse_traces(req.SerializeToString())
    assert r.accepted + r.rejected == 1
    lreq = logs_service_pb2.ExportLogsServiceRequest()
    rec = lreq.resource_logs.add().scope_logs.add().log_records.add()
    rec.time_unix_nano, rec.severity_number = start, sev
    lr = otlp.parse_logs(lreq.SerializeToString(), now=NOW)
    assert lr.accepted + lr.rejected == 1
