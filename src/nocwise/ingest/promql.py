"""PromQL pull connector: history from a Prometheus-compatible server via ``query_range``.

:func:`parse_matrix` is the pure part (a ``query_range`` JSON answer -> per-series arrays);
:class:`PromqlConnector` walks a time range in chunks that stay under Prometheus' 11,000 points
per series, maps label sets to series ids and writes each chunk with a batch id made of the
query and the chunk's range, so a re-run of the same backfill stores nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import numpy as np

from nocwise.ingest.base import (
    BAD_JSON,
    BAD_SHAPE,
    BAD_VALUE,
    UNSUPPORTED,
    Invalid,
    ParseResult,
    Rejection,
)
from nocwise.ingest.health import HealthBoard, SourceHealth
from nocwise.ingest.remote_write import F64, I64
from nocwise.ingest.series_index import SeriesIndex
from nocwise.ingest.sink import Sink
from nocwise.model import MetricBatch, Series

MAX_POINTS = 11_000


@dataclass(frozen=True, slots=True)
class SeriesSamples:
    """One series' samples from a range query."""

    labels: Mapping[str, str]
    ts_ms: I64
    values: F64


def parse_matrix(body: bytes) -> ParseResult[SeriesSamples]:
    """A ``/api/v1/query_range`` answer -> series; an error answer is one fatal rejection."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return ParseResult.reject_all(BAD_JSON, f"not JSON: {str(exc)[:200]}")
    if not isinstance(doc, dict) or doc.get("status") != "success":
        error = doc.get("error", "") if isinstance(doc, dict) else ""
        return ParseResult.reject_all(BAD_SHAPE, f"query failed: {str(error)[:200]}")
    data = doc.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        kind = data.get("resultType") if isinstance(data, dict) else None
        return ParseResult.reject_all(UNSUPPORTED, f"expected a matrix, got {kind!r}")
    result = ParseResult[SeriesSamples]()
    items = data.get("result")
    for i, item in enumerate(items if isinstance(items, list) else []):
        try:
            result.records.append(_series(item))
        except Invalid as exc:
            result.rejections.append(Rejection(exc.reason, exc.detail, i))
    return result


def _series(item: object) -> SeriesSamples:
    if not isinstance(item, dict) or not isinstance(item.get("metric"), dict):
        raise Invalid(BAD_SHAPE, "a result needs metric and values")
    labels = {str(k): str(v) for k, v in item["metric"].items()}
    values = item.get("values")
    if not isinstance(values, list):
        raise Invalid(BAD_SHAPE, "values must be an array")
    try:
        ts = np.array([float(p[0]) for p in values], dtype=np.float64)
        vals = np.array([float(p[1]) for p in values], dtype=np.float64)
    except (TypeError, ValueError, IndexError, KeyError) as exc:
        raise Invalid(BAD_VALUE, f"bad sample: {str(exc)[:100]}") from exc
    if not (np.isfinite(ts) & (np.abs(ts) < 1e12)).all():
        raise Invalid(BAD_VALUE, "timestamp out of range")
    return SeriesSamples(labels, np.round(ts * 1000).astype(np.int64), vals)


def to_batch(
    series: Sequence[SeriesSamples], index: SeriesIndex, metric: str = ""
) -> tuple[MetricBatch, list[Series]]:
    """Series -> one batch with ids from ``index`` (``metric`` names nameless results)."""
    new: list[Series] = []
    ids = []
    for s in series:
        labels = dict(s.labels)
        if "__name__" not in labels and metric:
            labels["__name__"] = metric
        sid, is_new = index.resolve(labels)
        if is_new:
            new.append(index.series(sid))
        ids.append(sid)
    if not series:
        return MetricBatch.empty(), new
    counts = np.array([len(s.ts_ms) for s in series])
    batch = MetricBatch(
        np.repeat(np.array(ids, dtype=np.int64), counts),
        np.concatenate([s.ts_ms for s in series]),
        np.concatenate([s.values for s in series]),
    )
    return batch, new


class PromqlConnector:
    """Backfills the results of PromQL queries into the sink."""

    def __init__(
        self,
        url: str,
        sink: Sink,
        health: HealthBoard,
        index: SeriesIndex,
        *,
        client: httpx.AsyncClient | None = None,
        name: str = "promql",
    ) -> None:
        self.url = url.rstrip("/")
        self._sink = sink
        self._health: SourceHealth = health.source(name)
        self._index = index
        self._client = client or httpx.AsyncClient(timeout=60)

    async def query_range(
        self, query: str, start: datetime, end: datetime, step_s: float
    ) -> ParseResult[SeriesSamples]:
        params: dict[str, str | float] = {
            "query": query, "start": start.timestamp(), "end": end.timestamp(), "step": step_s,
        }  # fmt: skip
        try:
            r = await self._client.get(f"{self.url}/api/v1/query_range", params=params)
        except httpx.HTTPError as exc:
            return ParseResult.reject_all(UNSUPPORTED, f"request failed: {exc}")
        return parse_matrix(r.content)

    async def backfill(
        self,
        query: str,
        start: datetime,
        end: datetime,
        step_s: float,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Store ``query`` over [start, end] in chunks; returns the samples stored."""
        chunk = timedelta(seconds=step_s * (MAX_POINTS - 1))
        stored = 0
        t = start
        while t <= end:
            stop = min(end, t + chunk)
            result = await self.query_range(query, t, stop, step_s)
            batch, new = to_batch(result.records, self._index, _metric_name(query) or query.strip())
            key = f"promql:{query}:{t.timestamp()}:{stop.timestamp()}:{step_s}"
            if len(batch) or new:
                stored += await self._sink.metrics(new, batch, key)
            self._health.record(len(batch), result.rejections, stop)
            if progress is not None:
                progress(1)
            t = stop + timedelta(seconds=step_s)
        return stored

    async def aclose(self) -> None:
        await self._client.aclose()


def _metric_name(query: str) -> str:
    """A bare selector's metric name names results that lost ``__name__`` (e.g. ``rate(...)``)."""
    head = query.strip().split("{", 1)[0].split("(")[-1].strip()
    return head if head.replace("_", "").replace(":", "").isalnum() else ""
