"""HTTP receivers: one FastAPI router with an endpoint per push protocol.

Every endpoint follows the same steps: admission (bounded in-flight requests, else 503 with
Retry-After), a bounded body read (413 past the limit), a pure parse, a durable write through the
:class:`Sink` (whose :class:`Overloaded` becomes 503 + Retry-After), then the answer. 2xx means
stored. A body that cannot be read at all is a 400 problem+json with the reason; items rejected
inside a readable batch are listed in a 200 answer (partial acceptance) and never block the rest.
Retries are safe: alarms upsert by id, and an ``Idempotency-Key`` header (or, for remote_write,
the body's hash) makes a repeated batch a no-op.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi import APIRouter, Request, Response
from fastapi.params import Depends
from fastapi.responses import JSONResponse

from nocwise.clock import Clock
from nocwise.ingest import (
    alertmanager,
    changes,
    inventory,
    otlp,
    remote_write,
    tickets,
    tmf642,
    ves,
)
from nocwise.ingest.base import TOO_LARGE, ParseResult, Rejection
from nocwise.ingest.health import HealthBoard, SourceHealth
from nocwise.ingest.series_index import SeriesIndex
from nocwise.ingest.sink import Overloaded, Sink
from nocwise.model import Alarm, Entity, MetricBatch, Relation, Series

PROBLEM = "application/problem+json"
MAX_LISTED_REJECTIONS = 100


@dataclass(frozen=True, slots=True)
class Limits:
    """Back-pressure settings: bodies are bounded, and so is the work in flight."""

    max_body_bytes: int = 16 * 2**20
    max_inflight: int = 64
    retry_after_s: int = 1


class _Refused(Exception):
    def __init__(
        self, status: int, title: str, detail: str, retry_after: int | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.retry_after = status, title, detail, retry_after


class Gate:
    """Counts requests in flight; past the limit, new ones are refused instead of queued."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inflight = 0

    def enter(self) -> bool:
        if self.inflight >= self.limit:
            return False
        self.inflight += 1
        return True

    def leave(self) -> None:
        self.inflight -= 1


Handler = Callable[[bytes, Request], Awaitable[Response]]


def make_router(
    sink: Sink,
    health: HealthBoard,
    clock: Clock,
    *,
    dependencies: Sequence[Depends] | None = None,
    limits: Limits | None = None,
    kinds: Collection[str] | None = None,
    series_index: SeriesIndex | None = None,
) -> APIRouter:
    """The ingest endpoints; ``kinds`` limits them to the configured sources (default: all).

    Kinds: remote_write, alertmanager, tmf642, ves, otlp (traces, logs and metrics), changes,
    tickets, topology.
    """
    lim = limits or Limits()
    gate = Gate(lim.max_inflight)
    router = APIRouter(dependencies=list(dependencies or []), tags=["ingest"])
    handlers = _handlers(sink, health, clock, series_index or SeriesIndex())
    router.add_api_route(
        "/api/v1/ingest/sources",
        lambda: health.snapshot(clock.now()),
        methods=["GET"],
        name="ingest_sources",
        summary="Health of every ingest source: last received, rates, rejects by reason",
    )
    for kind, (path, source, handler) in handlers.items():
        if kinds is not None and kind.split("_")[0] not in kinds and kind not in kinds:
            continue
        router.add_api_route(
            path,
            _endpoint(handler, health.source(source), gate, lim),
            methods=["POST"],
            name=f"ingest_{kind}",
            summary=f"Ingest {kind}",
            response_model=None,
            include_in_schema=True,
        )
    return router


def _endpoint(
    handler: Handler, h: SourceHealth, gate: Gate, lim: Limits
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if not gate.enter():
            h.overloaded += 1
            return _problem(503, "Overloaded", "too many requests in flight", lim.retry_after_s)
        try:
            body = await _read_body(request, lim.max_body_bytes)
            return await handler(body, request)
        except _Refused as exc:
            return _problem(exc.status, exc.title, exc.detail, exc.retry_after)
        except Overloaded as exc:
            h.overloaded += 1
            return _problem(503, "Overloaded", str(exc), max(1, round(exc.retry_after_s)))
        finally:
            gate.leave()

    return endpoint


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _Refused(413, "Payload Too Large", f"body of {declared} bytes exceeds {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _Refused(413, "Payload Too Large", f"body exceeds {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = d.decompress(body, limit + 1)
        except zlib.error as exc:
            raise _Refused(400, "Bad Request", f"bad_encoding: not gzip: {exc}") from exc
        if len(body) > limit or d.unconsumed_tail:
            raise _Refused(413, "Payload Too Large", f"decompressed body exceeds {limit} bytes")
    return body


def _problem(
    status: int, title: str, detail: str, retry_after: int | None = None, **extra: Any
) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    content = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(content, status_code=status, headers=headers, media_type=PROBLEM)


def listed(rejections: Sequence[Rejection]) -> list[dict[str, Any]]:
    return [
        {"index": r.index, "reason": r.reason, "detail": r.detail}
        for r in rejections[:MAX_LISTED_REJECTIONS]
    ]


def batch_key(request: Request) -> str | None:
    """The client's idempotency key for the whole batch, if it sent one."""
    return request.headers.get("idempotency-key") or request.headers.get("x-batch-id") or None


def fatal_response(h: SourceHealth, result: ParseResult[Any], now: Any) -> Response:
    h.record(0, result.rejections, now)
    first = result.rejections[0]
    status = 413 if first.reason == TOO_LARGE else 400
    return _problem(
        status,
        "Bad Request",
        f"{first.reason}: {first.detail}",
        None,
        rejected=listed(result.rejections),
    )


def _alarm_handler(
    parse: Callable[[bytes, str | None], ParseResult[Alarm]],
    sink: Sink,
    h: SourceHealth,
    clock: Clock,
) -> Handler:
    async def handle(body: bytes, request: Request) -> Response:
        result = parse(body, request.headers.get("content-type"))
        if result.fatal:
            return fatal_response(h, result, clock.now())
        stored = await sink.alarms(result.records, batch_key(request)) if result.records else 0
        h.record(result.accepted, result.rejections, clock.now())
        return JSONResponse(
            {"accepted": result.accepted, "stored": stored, "rejected": listed(result.rejections)}
        )

    return handle


def _remote_write_handler(sink: Sink, h: SourceHealth, clock: Clock, index: SeriesIndex) -> Handler:
    mapper = remote_write.RemoteWriteMapper(index)
    unsaved: list[Series] = []  # series defined in the index whose definition is not yet stored

    async def handle(body: bytes, request: Request) -> Response:
        decoded = remote_write.parse(body, request.headers.get("content-type"))
        if decoded.rejections and decoded.rejections[0].index is None:
            h.record(0, decoded.rejections, clock.now())
            r = decoded.rejections[0]
            return _problem(
                413 if r.reason == TOO_LARGE else 400, "Bad Request", f"{r.reason}: {r.detail}"
            )
        batch, new, rejections = mapper.to_batch(decoded)
        unsaved.extend(new)
        pending = list(unsaved)
        key = batch_key(request) or hashlib.sha256(body).hexdigest()
        await sink.metrics(pending, batch, key)
        del unsaved[: len(pending)]
        h.record(len(batch), rejections, clock.now())
        if rejections:  # the good samples are stored; a 400 tells the sender not to retry
            return _problem(
                400,
                "Bad Request",
                f"{len(rejections)} series rejected",
                None,
                rejected=listed(rejections),
            )
        return Response(status_code=204)

    return handle


def _records_handler(
    parse: Callable[[bytes, Request], ParseResult[Any]],
    store: Callable[[list[Any], str | None], Awaitable[int]],
    h: SourceHealth,
    clock: Clock,
) -> Handler:
    async def handle(body: bytes, request: Request) -> Response:
        result = parse(body, request)
        if result.fatal:
            return fatal_response(h, result, clock.now())
        stored = await store(result.records, batch_key(request)) if result.records else 0
        h.record(result.accepted, result.rejections, clock.now())
        return JSONResponse(
            {"accepted": result.accepted, "stored": stored, "rejected": listed(result.rejections)}
        )

    return handle


def _otlp_handler(
    kind: str, sink: Sink, h: SourceHealth, clock: Clock, index: SeriesIndex
) -> Handler:
    """OTLP answers in its own encoding, with partial success instead of a rejection list."""
    unsaved: list[Series] = []

    async def handle(body: bytes, request: Request) -> Response:
        ctype = request.headers.get("content-type")
        key = batch_key(request) or hashlib.sha256(body).hexdigest()
        result: ParseResult[Any]
        if kind == "traces":
            result = otlp.parse_traces(body, ctype)
        elif kind == "logs":
            result = otlp.parse_logs(body, ctype, now=clock.now())
        else:
            result = otlp.parse_metrics(body, ctype)
        if result.fatal:
            return fatal_response(h, result, clock.now())
        records: list[Any] = result.records
        if records:
            if kind == "traces":
                await sink.spans(records, key)
            elif kind == "logs":
                await sink.logs(records, key)
            else:
                batch = _points_batch(records, index, unsaved)
                pending = list(unsaved)
                await sink.metrics(pending, batch, key)
                del unsaved[: len(pending)]
        h.record(result.accepted, result.rejections, clock.now())
        message = "; ".join(f"{r.reason}: {r.detail}" for r in result.rejections[:5])
        content, media = otlp.response(kind, result.rejected, message, ctype)
        return Response(content, status_code=200, media_type=media)

    return handle


def _points_batch(
    points: Sequence[otlp.Point], index: SeriesIndex, unsaved: list[Series]
) -> MetricBatch:
    ids = []
    for p in points:
        sid, new = index.resolve(p.labels)
        if new:
            unsaved.append(index.series(sid))
        ids.append(sid)
    batch = MetricBatch.of(ids, [p.ts_ms for p in points], [p.value for p in points])
    order = _time_order(batch)
    return (
        batch
        if order is None
        else MetricBatch(batch.series[order], batch.ts_ms[order], batch.values[order])
    )


def _time_order(batch: MetricBatch) -> Any:
    order = np.lexsort((batch.ts_ms, batch.series))
    return None if (np.diff(order) > 0).all() else order


def _split_topology(sink: Sink) -> Callable[[list[Any], str | None], Awaitable[int]]:
    async def store(items: list[Any], key: str | None) -> int:
        ents = [x for x in items if isinstance(x, Entity)]
        rels = [x for x in items if isinstance(x, Relation)]
        return await sink.topology(ents, rels, key)

    return store


def _handlers(
    sink: Sink, health: HealthBoard, clock: Clock, index: SeriesIndex
) -> dict[str, tuple[str, str, Handler]]:
    def src(name: str) -> SourceHealth:
        return health.source(name)

    return {
        "remote_write": (
            "/api/v1/write",
            "remote_write",
            _remote_write_handler(sink, src("remote_write"), clock, index),
        ),
        "alertmanager": (
            "/api/v1/ingest/alertmanager",
            "alertmanager",
            _alarm_handler(alertmanager.parse, sink, src("alertmanager"), clock),
        ),
        "tmf642": (
            "/api/v1/ingest/tmf642/alarm",
            "tmf642",
            _alarm_handler(tmf642.parse, sink, src("tmf642"), clock),
        ),
        "ves": ("/api/v1/ingest/ves", "ves", _alarm_handler(ves.parse, sink, src("ves"), clock)),
        "otlp_traces": (
            "/api/v1/ingest/otlp/v1/traces",
            "otlp",
            _otlp_handler("traces", sink, src("otlp"), clock, index),
        ),
        "otlp_logs": (
            "/api/v1/ingest/otlp/v1/logs",
            "otlp",
            _otlp_handler("logs", sink, src("otlp"), clock, index),
        ),
        "otlp_metrics": (
            "/api/v1/ingest/otlp/v1/metrics",
            "otlp",
            _otlp_handler("metrics", sink, src("otlp"), clock, index),
        ),
        "changes": (
            "/api/v1/ingest/changes",
            "changes",
            _records_handler(
                lambda b, r: changes.parse(
                    b,
                    r.headers.get("content-type"),
                    now=clock.now(),
                    event=r.headers.get("x-github-event") or r.headers.get("x-gitlab-event"),
                ),
                sink.changes,
                src("changes"),
                clock,
            ),
        ),
        "tickets": (
            "/api/v1/ingest/tickets",
            "tickets",
            _records_handler(
                lambda b, r: tickets.parse(b, r.headers.get("content-type")),
                sink.tickets,
                src("tickets"),
                clock,
            ),
        ),
        "topology": (
            "/api/v1/ingest/topology",
            "topology",
            _records_handler(
                lambda b, r: inventory.parse(b, r.headers.get("content-type")),
                _split_topology(sink),
                src("topology"),
                clock,
            ),
        ),
    }
