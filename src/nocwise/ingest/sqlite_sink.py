"""A durable :class:`~nocwise.ingest.sink.Sink` on one SQLite file (WAL), with group commit.

One writer thread owns the connection. Calls from the event loop enqueue a job on a bounded
queue (full -> :class:`Overloaded` at once, never unbounded memory); the writer takes every job
waiting, runs each in its own savepoint, commits once (``synchronous=FULL``: durable when the
call returns), then resolves the callers. Many concurrent requests thus share one fsync.

Idempotency: alarms upsert by ``alarm_id`` (a newer event or a clear changes the row; a replay
of the same alarm changes nothing; a clear is never undone by anything older than it, while a
raise after the clear, with the same id, is a new occurrence and replaces the cleared row: the
alarm history belongs to the state store, this sink keeps the latest occurrence); spans, changes, tickets, entities
and relations upsert by their ids; a ``batch_id`` is remembered per kind, and a batch seen before
is a no-op. Metric samples are stored per batch (columnar blobs), so their identity is the batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import cramjam
import numpy as np
import orjson

from nocwise.ingest.codec import alarm_json, dumps, mapping_as_dict
from nocwise.ingest.sink import Overloaded
from nocwise.model import (
    Alarm,
    Change,
    Entity,
    LogRecord,
    MetricBatch,
    Relation,
    Series,
    Span,
    Ticket,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (key TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alarms (
  alarm_id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, source TEXT NOT NULL,
  managed_object TEXT NOT NULL, severity TEXT NOT NULL, event_time REAL NOT NULL,
  cleared_time REAL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alarms_fp ON alarms (fingerprint);
CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, metric TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS metric_batches (
  seq INTEGER PRIMARY KEY, n INTEGER NOT NULL, series BLOB NOT NULL, ts BLOB NOT NULL,
  vals BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS log_batches (seq INTEGER PRIMARY KEY, n INTEGER NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS spans (
  trace_id TEXT NOT NULL, span_id TEXT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (trace_id, span_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entities (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS relations (
  src TEXT NOT NULL, dst TEXT NOT NULL, kind TEXT NOT NULL,
  PRIMARY KEY (src, dst, kind)) WITHOUT ROWID;
"""

_UPSERT_ALARM = """
INSERT INTO alarms (alarm_id, fingerprint, source, managed_object, severity, event_time,
                    cleared_time, doc)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (alarm_id) DO UPDATE SET
  fingerprint = excluded.fingerprint, severity = excluded.severity,
  event_time = excluded.event_time, cleared_time = excluded.cleared_time, doc = excluded.doc
WHERE (alarms.cleared_time IS NULL
       AND (excluded.event_time > alarms.event_time OR excluded.cleared_time IS NOT NULL))
   OR (alarms.cleared_time IS NOT NULL AND excluded.cleared_time IS NULL
       AND excluded.event_time > alarms.cleared_time)
"""

Work = Callable[[sqlite3.Connection], int]


@dataclass(slots=True)
class _Job:
    work: Work
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[int]


class SqliteSink:
    """The embedded durable sink (see the module docstring)."""

    def __init__(
        self,
        path: Path | str,
        *,
        max_pending: int = 1024,
        max_group: int = 256,
        retry_after_s: float = 1.0,
        synchronous: str = "FULL",
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=max_pending)
        self._max_group = max_group
        self._retry_after = retry_after_s
        self._sync = synchronous
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sqlite-sink", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    # -- the Sink protocol ---------------------------------------------------------------

    async def alarms(self, alarms: Sequence[Alarm], batch_id: str | None = None) -> int:
        rows = [
            (
                a.alarm_id, a.fingerprint, a.source, a.managed_object, a.perceived_severity.value,
                a.event_time.timestamp(),
                a.cleared_time.timestamp() if a.cleared_time else None, alarm_json(a),
            )
            for a in alarms
        ]  # fmt: skip

        def work(c: sqlite3.Connection) -> int:
            before = c.total_changes
            c.executemany(_UPSERT_ALARM, rows)
            return c.total_changes - before

        return await self._submit("alarms", batch_id, work)

    async def metrics(
        self, series: Sequence[Series], batch: MetricBatch, batch_id: str | None = None
    ) -> int:
        defs = [(s.id, s.metric, _series_json(s)) for s in series]
        blobs = (len(batch), batch.series.tobytes(), batch.ts_ms.tobytes(), batch.values.tobytes())

        def work(c: sqlite3.Connection) -> int:
            c.executemany("INSERT OR IGNORE INTO series (id, metric, doc) VALUES (?, ?, ?)", defs)
            if blobs[0]:
                c.execute(
                    "INSERT INTO metric_batches (n, series, ts, vals) VALUES (?, ?, ?, ?)", blobs
                )
            return blobs[0]

        return await self._submit("metrics", batch_id, work)

    async def logs(self, logs: Sequence[LogRecord], batch_id: str | None = None) -> int:
        """Logs are telemetry: one zstd-compressed JSON array per batch (log lines compress
        tens of times over, which keeps the WAL and its checkpoints small)."""
        body = orjson.dumps(list(logs), default=mapping_as_dict)
        row = (len(logs), bytes(cramjam.zstd.compress(body, level=1)))

        def work(c: sqlite3.Connection) -> int:
            if row[0]:
                c.execute("INSERT INTO log_batches (n, body) VALUES (?, ?)", row)
            return row[0]

        return await self._submit("logs", batch_id, work)

    async def spans(self, spans: Sequence[Span], batch_id: str | None = None) -> int:
        rows = [(s.trace_id, s.span_id, dumps(s)) for s in spans]
        return await self._submit(
            "spans", batch_id, _upsert("INSERT OR REPLACE INTO spans VALUES (?, ?, ?)", rows)
        )

    async def changes(self, changes: Sequence[Change], batch_id: str | None = None) -> int:
        rows = [(c.id, dumps(c)) for c in changes]
        return await self._submit(
            "changes", batch_id, _upsert("INSERT OR REPLACE INTO changes VALUES (?, ?)", rows)
        )

    async def tickets(self, tickets: Sequence[Ticket], batch_id: str | None = None) -> int:
        rows = [(t.id, dumps(t)) for t in tickets]
        return await self._submit(
            "tickets", batch_id, _upsert("INSERT OR REPLACE INTO tickets VALUES (?, ?)", rows)
        )

    async def topology(
        self,
        entities: Sequence[Entity],
        relations: Sequence[Relation],
        batch_id: str | None = None,
    ) -> int:
        ents = [(e.id, dumps(e)) for e in entities]
        rels = [(r.src, r.dst, r.kind.value) for r in relations]

        def work(c: sqlite3.Connection) -> int:
            c.executemany("INSERT OR REPLACE INTO entities VALUES (?, ?)", ents)
            c.executemany("INSERT OR IGNORE INTO relations VALUES (?, ?, ?)", rels)
            return len(ents) + len(rels)

        return await self._submit("topology", batch_id, work)

    # -- reading back (tests, replay, restart) --------------------------------------------

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query on a separate read connection (WAL readers never block the writer)."""
        with sqlite3.connect(self.path) as c:
            return c.execute(sql, params).fetchall()

    _TABLES = frozenset(
        {"alarms", "spans", "changes", "tickets", "entities", "relations", "series"}
    )

    def count(self, table: str) -> int:
        """Rows stored in ``table`` (``logs`` counts records inside the log batches)."""
        if table == "logs":
            return int(self.read("SELECT coalesce(sum(n), 0) FROM log_batches")[0][0])
        if table not in self._TABLES:
            raise ValueError(f"unknown table {table!r}")
        return int(self.read(f"SELECT count(*) FROM {table}")[0][0])

    def alarm_docs(self) -> list[dict[str, Any]]:
        return [orjson.loads(d) for (d,) in self.read("SELECT doc FROM alarms ORDER BY alarm_id")]

    def log_rows(self) -> list[dict[str, Any]]:
        """Stored log records as plain dicts (``ts`` as epoch seconds), in arrival order."""
        out = []
        for (body,) in self.read("SELECT body FROM log_batches ORDER BY seq"):
            for d in orjson.loads(bytes(cramjam.zstd.decompress(body))):
                d["ts"] = datetime.fromisoformat(d["ts"]).timestamp()
                out.append(d)
        return out

    def docs(self, table: str) -> list[dict[str, Any]]:
        if table not in {"spans", "changes", "tickets", "entities"}:
            raise ValueError(f"unknown table {table!r}")
        return [orjson.loads(d) for (d,) in self.read(f"SELECT doc FROM {table}")]

    def series_labels(self) -> list[dict[str, str]]:
        """Stored series definitions in id order (to restore a SeriesIndex after a restart)."""
        out = []
        for metric, doc in self.read("SELECT metric, doc FROM series ORDER BY id"):
            labels = dict(orjson.loads(doc)["labels"])
            if metric:
                labels["__name__"] = metric
            out.append(labels)
        return out

    def metric_batch(self) -> MetricBatch:
        """Every stored sample, in arrival order."""
        parts = [
            MetricBatch(
                np.frombuffer(s, dtype=np.int64),
                np.frombuffer(t, dtype=np.int64),
                np.frombuffer(v, dtype=np.float64),
            )
            for s, t, v in self.read("SELECT series, ts, vals FROM metric_batches ORDER BY seq")
        ]
        return MetricBatch.concat(parts)

    def close(self) -> None:
        """Finish queued work and stop the writer."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    # -- the writer ---------------------------------------------------------------------------

    async def _submit(self, kind: str, batch_id: str | None, work: Work) -> int:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        job_work = work if batch_id is None else _once(f"{kind}:{batch_id}", work)
        try:
            self._queue.put_nowait(_Job(job_work, loop, future))
        except queue.Full:
            raise Overloaded(self._retry_after) from None
        return await future

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._sync}")
            conn.executescript(_SCHEMA)
        except BaseException as exc:  # reported to the constructor
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        stop = False
        while not stop:
            first = self._queue.get()
            jobs: list[_Job] = []
            if first is None:
                break
            jobs.append(first)
            while len(jobs) < self._max_group:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                jobs.append(nxt)
            self._commit(conn, jobs)
        conn.close()

    def _commit(self, conn: sqlite3.Connection, jobs: list[_Job]) -> None:
        results: list[int | BaseException] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in jobs:
                conn.execute("SAVEPOINT job")
                try:
                    results.append(job.work(conn))
                    conn.execute("RELEASE job")
                except Exception as exc:  # one bad job must not fail the others
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    results.append(exc)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            results = [exc] * len(jobs)
        for job, result in zip(jobs, results, strict=True):
            # If the caller's loop is gone, the data is stored all the same.
            with contextlib.suppress(RuntimeError):
                job.loop.call_soon_threadsafe(_resolve, job.future, result)


def _series_json(s: Series) -> bytes:
    return orjson.dumps(s, default=mapping_as_dict)


def _resolve(future: asyncio.Future[int], result: int | BaseException) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


def _once(key: str, work: Work) -> Work:
    def guarded(c: sqlite3.Connection) -> int:
        if c.execute("INSERT OR IGNORE INTO batches (key) VALUES (?)", (key,)).rowcount == 0:
            return 0
        return work(c)

    return guarded


def _upsert(sql: str, rows: list[tuple[Any, ...]]) -> Work:
    def work(c: sqlite3.Connection) -> int:
        c.executemany(sql, rows)
        return len(rows)

    return work
