"""History loading: replay CSV, JSONL or Parquet files of any source through its parser.

A file holds records of one ``kind``; they go through that protocol's own parser in chunks, so a
replayed record is mapped exactly as if it had arrived live:
- ``alertmanager`` (one alert object, or a whole webhook, per row), ``tmf642``, ``ves`` (one
  event per row), ``changes``, ``tickets``, ``topology`` (TMF639/638 items): rows are JSON
  objects; CSV and Parquet columns with dotted names (``alarmedObject.id``) nest;
- ``syslog``: one message per line of a text file (or a ``message`` column);
- ``metrics``: rows with ``timestamp`` (epoch ms, or ISO 8601), ``value``, ``__name__`` (or
  ``metric``); every other column is a label.
Each chunk is written with a batch id made of the file's identity (path, size, mtime) and the
chunk's number, so replaying the same file twice stores nothing twice. Progress is reported in
rows on any :class:`~nocwise.bench.report.Progress` (a Rich bar in the CLI).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import orjson

from nocwise.ingest import alertmanager, changes, inventory, syslog, tickets, tmf642, ves
from nocwise.ingest.base import (
    BAD_JSON,
    BAD_VALUE,
    MISSING_FIELD,
    Invalid,
    ParseResult,
    Rejection,
    parse_time,
)
from nocwise.ingest.series_index import SeriesIndex
from nocwise.ingest.sink import Sink
from nocwise.model import Entity, MetricBatch, Relation

KINDS = ("alertmanager", "tmf642", "ves", "changes", "tickets", "topology", "syslog", "metrics")


class RowProgress(Protocol):
    def start(self, label: str, total: int | None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


@dataclass(slots=True)
class ReplayReport:
    """What a replay did: rows read, records accepted and stored, rejections by reason."""

    rows: int = 0
    accepted: int = 0
    stored: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    examples: list[Rejection] = field(default_factory=list)


def rows_of(path: Path, chunk: int, *, text: bool = False) -> Iterator[list[Any]]:
    """Rows of a .csv or .parquet file, else JSON lines (raw lines if ``text``), ``chunk`` at a time."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk):
            yield [_nest(r) for r in batch.to_pylist()]
        return
    with path.open("rb") as fh:
        if suffix == ".csv":
            reader = csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8-sig", newline=""))
            buf: list[Any] = []
            for row in reader:
                buf.append(_nest(row))
                if len(buf) >= chunk:
                    yield buf
                    buf = []
            if buf:
                yield buf
            return
        json_lines = not text
        buf = []
        for line in fh:
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            if json_lines:
                try:
                    buf.append(orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    buf.append(Rejection(BAD_JSON, str(exc)[:200]))
            else:
                buf.append(line)
            if len(buf) >= chunk:
                yield buf
                buf = []
        if buf:
            yield buf


def _nest(row: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` -> ``{"a": {"b": 1}}``; empty CSV cells are absent."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or value == "":
            continue
        parts = str(key).split(".")
        node = out
        for p in parts[:-1]:
            nxt = node.setdefault(p, {})
            if not isinstance(nxt, dict):
                break
            node = nxt
        else:
            node[parts[-1]] = value
    return out


def _json_body(kind: str, rows: list[Any]) -> bytes:
    if kind == "alertmanager":
        alerts: list[Any] = []
        for r in rows:
            alerts.extend(
                r["alerts"] if isinstance(r, dict) and isinstance(r.get("alerts"), list) else [r]
            )
        return orjson.dumps({"alerts": alerts})
    if kind == "ves":
        return orjson.dumps(
            {"eventList": [r.get("event", r) if isinstance(r, dict) else r for r in rows]}
        )
    return orjson.dumps(rows)


def _metric_rows(
    rows: list[Any], index: SeriesIndex
) -> tuple[MetricBatch, list[Any], list[Rejection]]:
    ids, ts, vals, new = [], [], [], []
    bad: list[Rejection] = []
    for i, r in enumerate(rows):
        try:
            if not isinstance(r, dict):
                raise Invalid(BAD_VALUE, "a metrics row must be an object")
            labels = {
                str(k): str(v) for k, v in r.items() if k not in ("timestamp", "value", "metric")
            }
            if "metric" in r:
                labels.setdefault("__name__", str(r["metric"]))
            if not labels.get("__name__"):
                raise Invalid(MISSING_FIELD, "a metrics row needs __name__ or metric")
            raw_ts = r.get("timestamp")
            if raw_ts is None:
                raise Invalid(MISSING_FIELD, "timestamp is required")
            try:
                ms = (
                    int(float(raw_ts))
                    if not isinstance(raw_ts, datetime)
                    else int(raw_ts.timestamp() * 1000)
                )
            except (TypeError, ValueError):
                ms = int(parse_time(raw_ts, "timestamp").timestamp() * 1000)
            try:
                value = float(r.get("value"))  # type: ignore[arg-type]
            except (TypeError, ValueError) as exc:
                raise Invalid(BAD_VALUE, "value must be a number") from exc
        except Invalid as exc:
            bad.append(Rejection(exc.reason, exc.detail, i))
            continue
        sid, is_new = index.resolve(labels)
        if is_new:
            new.append(index.series(sid))
        ids.append(sid)
        ts.append(ms)
        vals.append(value)
    batch = MetricBatch.of(ids, ts, vals)
    if len(batch) > 1:
        order = np.lexsort((batch.ts_ms, batch.series))
        batch = MetricBatch(batch.series[order], batch.ts_ms[order], batch.values[order])
    return batch, new, bad


async def replay(
    path: Path,
    kind: str,
    sink: Sink,
    *,
    now: datetime,
    chunk: int = 5000,
    index: SeriesIndex | None = None,
    progress: RowProgress | None = None,
) -> ReplayReport:
    """Load ``path`` as records of ``kind`` into ``sink``; see the module docstring."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    stat = path.stat()
    file_key = hashlib.sha256(
        f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()
    ).hexdigest()[:24]
    report = ReplayReport()
    if progress is not None:
        progress.start(f"replay {path.name} ({kind})", None)
    index = index or SeriesIndex()
    for n, rows in enumerate(rows_of(path, chunk, text=kind == "syslog")):
        key = f"file:{file_key}:{n}"
        early = [r for r in rows if isinstance(r, Rejection)]
        rows = [r for r in rows if not isinstance(r, Rejection)]
        rejections: list[Rejection] = list(early)
        accepted, stored = await _one_chunk(kind, rows, sink, key, now, index, rejections)
        report.rows += len(rows) + len(early)
        report.accepted += accepted
        report.stored += stored
        for r in rejections:
            report.rejected[r.reason] += 1
            if len(report.examples) < 20:
                report.examples.append(r)
        if progress is not None:
            progress.advance(len(rows) + len(early))
    return report


_PARSERS: dict[str, Callable[..., ParseResult[Any]]] = {
    "alertmanager": alertmanager.parse, "tmf642": tmf642.parse, "ves": ves.parse,
    "tickets": tickets.parse, "topology": inventory.parse,
}  # fmt: skip


async def _one_chunk(
    kind: str,
    rows: list[Any],
    sink: Sink,
    key: str,
    now: datetime,
    index: SeriesIndex,
    rejections: list[Rejection],
) -> tuple[int, int]:
    if not rows:
        return 0, 0
    if kind == "metrics":
        batch, new, bad = _metric_rows(rows, index)
        rejections.extend(bad)
        return len(batch), await sink.metrics(new, batch, key)
    if kind == "syslog":
        lines = [
            r
            if isinstance(r, bytes)
            else str(r.get("message", "") if isinstance(r, dict) else r).encode()
            for r in rows
        ]
        logs = syslog.parse(b"\n".join(lines), now=now)
        alarms = syslog.alarms_of(logs.records)
        rejections.extend(logs.rejections + alarms.rejections)
        stored = await sink.logs(logs.records, key)
        if alarms.records:
            await sink.alarms(alarms.records, key)
        return logs.accepted, stored
    body = _json_body(kind, rows)
    result: ParseResult[Any] = (
        changes.parse(body, now=now)
        if kind == "changes"
        else _PARSERS[kind](body, "application/json")
    )
    rejections.extend(result.rejections)
    records: list[Any] = result.records
    if not records:
        return 0, 0
    if kind in ("alertmanager", "tmf642", "ves"):
        stored = await sink.alarms(records, key)
    elif kind == "changes":
        stored = await sink.changes(records, key)
    elif kind == "tickets":
        stored = await sink.tickets(records, key)
    else:
        ents = [x for x in records if isinstance(x, Entity)]
        rels = [x for x in records if isinstance(x, Relation)]
        stored = await sink.topology(ents, rels, key)
    return result.accepted, stored
