"""OTLP/HTTP (traces, logs, metrics; binary protobuf and JSON) -> spans, log records, samples.

Messages come from ``opentelemetry-proto``. OTLP/JSON writes trace and span ids as hex (not the
base64 of proto3 JSON) and allows enum integers; ids are converted before the JSON is read.
The resource's ``service.name`` is the span's service and the log's app, ``host.name`` (or a
k8s pod/node name) the log's host and entity. OTel severity numbers map onto RFC 5424 levels.
Metrics: gauge and sum points become samples; histograms and summaries become ``_count`` and
``_sum`` series (bucket detail is not kept).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from google.protobuf import json_format  # type: ignore[import-untyped]
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from nocwise.ingest.base import (
    BAD_ENCODING,
    BAD_JSON,
    BAD_VALUE,
    MISSING_FIELD,
    Invalid,
    ParseResult,
    Rejection,
)
from nocwise.model import LogRecord, Span, SpanStatus

SOURCE = "otlp"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_HEX_KEYS = frozenset(
    {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}
)


@dataclass(frozen=True, slots=True)
class Point:
    """One metric sample with its full label set (``__name__`` included)."""

    labels: Mapping[str, str]
    ts_ms: int
    value: float


def is_json(content_type: str | None) -> bool:
    return bool(content_type) and "json" in (content_type or "").lower()


def _read(body: bytes, content_type: str | None, cls: Any) -> Any:
    try:
        if is_json(content_type):
            doc = json.loads(body)
            _hex_to_b64(doc)
            return json_format.ParseDict(doc, cls(), ignore_unknown_fields=True)
        return cls.FromString(body)
    except (ValueError, TypeError, AttributeError, RecursionError, json_format.ParseError) as exc:
        reason = BAD_JSON if is_json(content_type) else BAD_ENCODING
        raise Invalid(reason, f"not a valid {cls.DESCRIPTOR.name}: {str(exc)[:200]}") from exc
    except DecodeError as exc:
        raise Invalid(BAD_ENCODING, f"not a valid {cls.DESCRIPTOR.name}: {exc}") from exc


def _hex_to_b64(node: Any) -> None:
    """OTLP/JSON hex ids -> the base64 that proto3 JSON parsing expects, in place."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            for k, v in n.items():
                if k in _HEX_KEYS and isinstance(v, str):
                    try:
                        n[k] = base64.b64encode(bytes.fromhex(v)).decode()
                    except ValueError as exc:
                        raise Invalid(BAD_VALUE, f"{k} is not hex") from exc
                elif isinstance(v, dict | list):
                    stack.append(v)
        elif isinstance(n, list):
            stack.extend(x for x in n if isinstance(x, dict | list))


def _value(v: Any) -> str:
    """An AnyValue as text."""
    kind = v.WhichOneof("value")
    if kind is None:
        return ""
    if kind == "string_value":
        return str(v.string_value)
    if kind == "bytes_value":
        return bytes(v.bytes_value).hex()
    if kind == "array_value":
        return json.dumps([_value(x) for x in v.array_value.values])
    if kind == "kvlist_value":
        return json.dumps({kv.key: _value(kv.value) for kv in v.kvlist_value.values})
    if kind == "bool_value":
        return "true" if v.bool_value else "false"
    return str(getattr(v, kind))


def _attrs(kvs: Iterable[Any], prefix: str = "") -> dict[str, str]:
    return {prefix + kv.key: _value(kv.value) for kv in kvs}


def _ts(nanos: int) -> datetime:
    return datetime.fromtimestamp(nanos / 1e9, UTC)


def _guard(
    result: ParseResult[Any], items: Iterable[Any], fn: Callable[[Any], Any], start: int
) -> int:
    i = start
    for item in items:
        try:
            result.records.append(fn(item))
        except Invalid as exc:
            result.rejections.append(Rejection(exc.reason, exc.detail, i))
        except (ValueError, OverflowError, OSError) as exc:
            result.rejections.append(Rejection(BAD_VALUE, str(exc)[:200], i))
        i += 1
    return i


def parse_traces(body: bytes, content_type: str | None = None) -> ParseResult[Span]:
    """An ExportTraceServiceRequest -> spans; each span is accepted or rejected alone."""
    try:
        req = _read(body, content_type, trace_service_pb2.ExportTraceServiceRequest)
    except Invalid as exc:
        return ParseResult.reject_all(exc.reason, exc.detail)
    result = ParseResult[Span]()
    i = 0
    for rs in req.resource_spans:
        res = _attrs(rs.resource.attributes)
        service = res.get("service.name", "unknown_service")
        for ss in rs.scope_spans:
            i = _guard(result, ss.spans, partial(_span, service=service, res=res), i)
    return result


_STATUS = {0: SpanStatus.UNSET, 1: SpanStatus.OK, 2: SpanStatus.ERROR}
_RESOURCE_KEEP = (
    "host.name",
    "k8s.pod.name",
    "k8s.node.name",
    "k8s.namespace.name",
    "service.namespace",
)


def _span(s: Any, service: str, res: Mapping[str, str]) -> Span:
    trace_id, span_id = bytes(s.trace_id).hex(), bytes(s.span_id).hex()
    if len(trace_id) != 32 or len(span_id) != 16:
        raise Invalid(MISSING_FIELD, "a span needs a 16-byte traceId and an 8-byte spanId")
    if s.end_time_unix_nano < s.start_time_unix_nano:
        raise Invalid(BAD_VALUE, "span ends before it starts")
    attrs = _attrs(s.attributes)
    attrs.update({f"resource.{k}": res[k] for k in _RESOURCE_KEEP if k in res})
    if s.kind:
        attrs["span.kind"] = str(s.kind)
    if s.status.message:
        attrs["status.message"] = s.status.message
    parent = bytes(s.parent_span_id).hex() or None
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        service=service,
        operation=s.name,
        start=_ts(s.start_time_unix_nano),
        end=_ts(s.end_time_unix_nano),
        parent_id=parent,
        status=_STATUS.get(s.status.code, SpanStatus.UNSET),
        attributes=attrs,
    )


def severity_5424(number: int, text: str) -> int:
    """OTel severity number (1-24) or text -> RFC 5424 level (0 emergency ... 7 debug)."""
    if number >= 21:
        return 2
    if number >= 17:
        return 3
    if number >= 13:
        return 4
    if number >= 9:
        return 6
    if number >= 1:
        return 7
    t = text.lower()
    for words, level in (
        (("fatal", "crit", "emerg", "alert"), 2),
        (("err",), 3),
        (("warn",), 4),
        (("notice",), 5),
        (("debug", "trace"), 7),
    ):
        if t.startswith(words):
            return level
    return 6


def parse_logs(
    body: bytes, content_type: str | None = None, *, now: datetime
) -> ParseResult[LogRecord]:
    """An ExportLogsServiceRequest -> log records; ``now`` stands in for a missing time."""
    try:
        req = _read(body, content_type, logs_service_pb2.ExportLogsServiceRequest)
    except Invalid as exc:
        return ParseResult.reject_all(exc.reason, exc.detail)
    result = ParseResult[LogRecord]()
    i = 0
    for rl in req.resource_logs:
        res = _attrs(rl.resource.attributes)
        for sl in rl.scope_logs:
            i = _guard(result, sl.log_records, partial(_log, res=res, now=now), i)
    return result


def _log(r: Any, res: Mapping[str, str], now: datetime) -> LogRecord:
    nanos = r.time_unix_nano or r.observed_time_unix_nano
    host = res.get("host.name") or res.get("k8s.pod.name") or res.get("k8s.node.name") or ""
    service = res.get("service.name", "")
    attrs = _attrs(r.attributes)
    if r.severity_text:
        attrs["severity_text"] = r.severity_text
    trace_id = bytes(r.trace_id).hex() or None
    span_id = bytes(r.span_id).hex() or None
    return LogRecord(
        ts=_ts(nanos) if nanos else now,
        message=_value(r.body),
        severity=severity_5424(r.severity_number, r.severity_text),
        entity_id=host or service or None,
        source=SOURCE,
        host=host,
        app=service,
        attributes=attrs,
        trace_id=trace_id,
        span_id=span_id,
    )


def parse_metrics(body: bytes, content_type: str | None = None) -> ParseResult[Point]:
    """An ExportMetricsServiceRequest -> points (one per sample)."""
    try:
        req = _read(body, content_type, metrics_service_pb2.ExportMetricsServiceRequest)
    except Invalid as exc:
        return ParseResult.reject_all(exc.reason, exc.detail)
    result = ParseResult[Point]()
    for rm in req.resource_metrics:
        res = _attrs(rm.resource.attributes)
        base = {"job": res["service.name"]} if "service.name" in res else {}
        if "service.instance.id" in res:
            base["instance"] = res["service.instance.id"]
        elif "host.name" in res:
            base["instance"] = res["host.name"]
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                result.records.extend(Point(*p) for p in _points(m, base))
    return result


def _points(m: Any, base: Mapping[str, str]) -> Iterable[tuple[dict[str, str], int, float]]:
    name = m.name.replace(".", "_").replace("-", "_")
    kind = m.WhichOneof("data")
    if kind in ("gauge", "sum"):
        for p in getattr(m, kind).data_points:
            v = p.as_double if p.WhichOneof("value") == "as_double" else float(p.as_int)
            yield (
                {**base, **_attrs(p.attributes), "__name__": name},
                p.time_unix_nano // 1_000_000,
                v,
            )
    elif kind in ("histogram", "exponential_histogram", "summary"):
        for p in getattr(m, kind).data_points:
            labels = {**base, **_attrs(p.attributes)}
            ts = p.time_unix_nano // 1_000_000
            yield {**labels, "__name__": f"{name}_count"}, ts, float(p.count)
            yield {**labels, "__name__": f"{name}_sum"}, ts, float(p.sum)


def response(kind: str, rejected: int, message: str, content_type: str | None) -> tuple[bytes, str]:
    """The Export*ServiceResponse, partial success included, in the request's encoding."""
    cls: Any = {
        "traces": trace_service_pb2.ExportTraceServiceResponse,
        "logs": logs_service_pb2.ExportLogsServiceResponse,
        "metrics": metrics_service_pb2.ExportMetricsServiceResponse,
    }[kind]
    resp = cls()
    if rejected:
        field = {
            "traces": "rejected_spans",
            "logs": "rejected_log_records",
            "metrics": "rejected_data_points",
        }[kind]
        setattr(resp.partial_success, field, rejected)
        resp.partial_success.error_message = message
    if is_json(content_type):
        return json_format.MessageToJson(resp).encode(), JSON
    return resp.SerializeToString(), PROTOBUF
