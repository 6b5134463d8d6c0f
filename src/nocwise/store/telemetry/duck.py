"""DuckDB telemetry store: batches go in as Arrow tables, never row by row."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from nocwise.model import LogRecord, MetricBatch, Series

_SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
  id BIGINT PRIMARY KEY, metric VARCHAR, labels VARCHAR, entity_id VARCHAR, unit VARCHAR);
CREATE TABLE IF NOT EXISTS samples (series_id BIGINT, ts_ms BIGINT, value DOUBLE);
CREATE TABLE IF NOT EXISTS logs (
  ts_ms BIGINT, entity_id VARCHAR, source VARCHAR, severity INTEGER, host VARCHAR,
  app VARCHAR, message VARCHAR, template_id BIGINT, trace_id VARCHAR);
"""


class TelemetryStore:
    """One DuckDB file (or ``:memory:``); safe to call from several threads."""

    def __init__(self, path: Path | str) -> None:
        if isinstance(path, Path):
            path.parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(str(path))
        self._lock = threading.Lock()
        with self._lock:
            self._con.execute(_SCHEMA)

    def add_series(self, series: Sequence[Series]) -> None:
        """Register series definitions (idempotent by id)."""
        if not series:
            return
        table = pa.table(
            {
                "id": pa.array([s.id for s in series], pa.int64()),
                "metric": [s.metric for s in series],
                "labels": [json.dumps(dict(s.labels), sort_keys=True) for s in series],
                "entity_id": [s.entity_id for s in series],
                "unit": [s.unit for s in series],
            }
        )
        with self._lock:
            self._con.register("new_series", table)
            self._con.execute(
                "INSERT OR REPLACE INTO series SELECT id, metric, labels, entity_id, unit "
                "FROM new_series"
            )
            self._con.unregister("new_series")

    def append(self, batch: MetricBatch) -> int:
        """Append a batch of samples; returns how many were written."""
        if not len(batch):
            return 0
        table = pa.table({"series_id": batch.series, "ts_ms": batch.ts_ms, "value": batch.values})
        with self._lock:
            self._con.register("new_samples", table)
            self._con.execute("INSERT INTO samples SELECT * FROM new_samples")
            self._con.unregister("new_samples")
        return len(batch)

    def append_logs(self, records: Sequence[LogRecord]) -> int:
        """Append log records."""
        if not records:
            return 0
        table = pa.table(
            {
                "ts_ms": pa.array([int(r.ts.timestamp() * 1000) for r in records], pa.int64()),
                "entity_id": [r.entity_id for r in records],
                "source": [r.source for r in records],
                "severity": pa.array([r.severity for r in records], pa.int32()),
                "host": [r.host for r in records],
                "app": [r.app for r in records],
                "message": [r.message for r in records],
                "template_id": pa.array([r.template_id for r in records], pa.int64()),
                "trace_id": [r.trace_id for r in records],
            }
        )
        with self._lock:
            self._con.register("new_logs", table)
            self._con.execute("INSERT INTO logs SELECT * FROM new_logs")
            self._con.unregister("new_logs")
        return len(records)

    def series_window(self, series_id: int, since_ms: int, until_ms: int) -> MetricBatch:
        """Samples of one series in [since, until), time-ordered."""
        with self._lock:
            rows = self._con.execute(
                "SELECT series_id, ts_ms, value FROM samples WHERE series_id = ? AND ts_ms >= ? "
                "AND ts_ms < ? ORDER BY ts_ms",
                [series_id, since_ms, until_ms],
            ).fetchnumpy()
        return MetricBatch.of(rows["series_id"], rows["ts_ms"], rows["value"])

    def entity_series(self, entity_id: str) -> list[tuple[int, str]]:
        """(series id, metric) of an entity's series."""
        with self._lock:
            rows = self._con.execute(
                "SELECT id, metric FROM series WHERE entity_id = ? ORDER BY id", [entity_id]
            ).fetchall()
        return [(int(i), str(m)) for i, m in rows]

    def series_label_sets(self) -> list[dict[str, str]]:
        """Every series' labels (with ``__name__``) in id order, to restore a series index."""
        with self._lock:
            rows = self._con.execute("SELECT id, metric, labels FROM series ORDER BY id").fetchall()
        out = []
        for expected, (sid, metric, labels) in enumerate(rows):
            if int(sid) != expected:  # ids not dense: a foreign id space; start a new index
                return []
            out.append({**json.loads(labels), **({"__name__": metric} if metric else {})})
        return out

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        with self._lock:
            out = {}
            for t in ("series", "samples", "logs"):
                rows = self._con.execute(f"SELECT count(*) FROM {t}").fetchall()
                out[t] = int(rows[0][0]) if rows else 0
        return out

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._con.close()
