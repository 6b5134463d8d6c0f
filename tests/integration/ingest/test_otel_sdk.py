"""The OpenTelemetry Python SDK exports traces and logs over OTLP/HTTP to nocwise."""

from __future__ import annotations

import time

import pytest
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

from .conftest import Served

pytestmark = pytest.mark.integration


def test_sdk_traces_and_logs_arrive(served: Served) -> None:
    resource = Resource.create({"service.name": "smf", "host.name": "core-node-2"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{served.url}/api/v1/ingest/otlp/v1/traces"))
    )
    tracer = tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("pdu-session-create") as parent:
        parent.set_attribute("supi", "imsi-001010000000001")
        with tracer.start_as_current_span("n4-establish") as child:
            child.set_status(Status(StatusCode.ERROR, "UPF timeout"))
            trace_id = format(child.get_span_context().trace_id, "032x")
    assert tracer_provider.force_flush(10_000)
    tracer_provider.shutdown()

    log_provider = LoggerProvider(resource=resource)
    log_provider.add_log_record_processor(
        BatchLogRecordProcessor(
            OTLPLogExporter(endpoint=f"{served.url}/api/v1/ingest/otlp/v1/logs")
        )
    )
    otel_logger = log_provider.get_logger("test")
    otel_logger.emit(
        LogRecord(
            timestamp=time.time_ns(),
            body="session setup failed for imsi-001010000000001",
            severity_number=SeverityNumber.ERROR,
            severity_text="ERROR",
        )
    )
    assert log_provider.force_flush(10_000)
    log_provider.shutdown()

    spans = {d["operation"]: d for d in served.sink.docs("spans")}
    assert set(spans) == {"pdu-session-create", "n4-establish"}
    assert spans["n4-establish"]["trace_id"] == trace_id
    assert spans["n4-establish"]["parent_id"] == spans["pdu-session-create"]["span_id"]
    assert spans["n4-establish"]["status"] == "error"
    assert spans["n4-establish"]["service"] == "smf"
    assert spans["pdu-session-create"]["attributes"]["supi"] == "imsi-001010000000001"
    (log,) = served.sink.log_rows()
    assert log["message"] == "session setup failed for imsi-001010000000001"
    assert log["severity"] == 3
    assert (log["host"], log["app"]) == ("core-node-2", "smf")
