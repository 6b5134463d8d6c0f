"""Write a twin run to files: metrics as Parquet, records as JSON lines, truth as JSON.

Layout of ``DIR``: ``entities.jsonl``, ``relations.jsonl``, ``series.jsonl``,
``metrics.parquet`` (series, ts_ms, value), ``alarms.jsonl``, ``logs.jsonl``, ``spans.jsonl``,
``changes.jsonl``, ``tickets.jsonl``, ``truth.json`` and, if asked, ``ticket_history.jsonl``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from nocwise.ingest.codec import to_doc
from nocwise.model import MetricBatch
from nocwise.sim.truth import GroundTruth
from nocwise.sim.twin import Twin

_SCHEMA = pa.schema([("series", pa.int32()), ("ts_ms", pa.int64()), ("value", pa.float64())])
_ROWS_PER_GROUP = 2_000_000


@dataclass(slots=True)
class RunCounts:
    """How much a run wrote."""

    steps: int = 0
    samples: int = 0
    alarms: int = 0
    logs: int = 0
    spans: int = 0
    changes: int = 0
    tickets: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def _jsonl(fh: IO[str], records: list[Any]) -> None:
    for r in records:
        fh.write(json.dumps(to_doc(r), separators=(",", ":")))
        fh.write("\n")


def truth_doc(truth: GroundTruth) -> dict[str, Any]:
    """The ground truth as a JSON document."""
    return {
        "faults": [
            {
                **to_doc(f),
                "alarm_ids": sorted(f.alarm_ids),
                "root_entity_ids": sorted(f.root_entity_ids),
                "impacted_entity_ids": sorted(f.impacted_entity_ids),
                "series_ids": sorted(f.series_ids),
                "ticket_ids": sorted(f.ticket_ids),
                "change_ids": sorted(f.change_ids),
            }
            for f in truth.faults
        ],
        "noise_alarm_ids": sorted(truth.noise_alarm_ids),
        "maintenance_alarm_ids": sorted(truth.maintenance_alarm_ids),
        "harmless_anomalies": [to_doc(h) for h in truth.harmless_anomalies],
    }


def write_run(
    twin: Twin,
    out: Path,
    *,
    history: int = 0,
    on_step: Callable[[int], None] | None = None,
) -> RunCounts:
    """Run the twin to the end, writing everything under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    counts = RunCounts()
    for name, recs in (
        ("entities", twin.entities),
        ("relations", twin.relations),
        ("series", twin.series),
    ):
        with (out / f"{name}.jsonl").open("w") as fh:
            _jsonl(fh, list(recs))
    names = ("alarms", "logs", "spans", "changes", "tickets")
    files = {n: (out / f"{n}.jsonl").open("w") for n in names}
    writer = pq.ParquetWriter(out / "metrics.parquet", _SCHEMA, compression="zstd")
    pending: list[MetricBatch] = []
    rows = 0
    try:
        for step in twin.run():
            counts.steps += 1
            pending.append(step.metrics)
            rows += len(step.metrics)
            if rows >= _ROWS_PER_GROUP:
                _flush(writer, pending)
                pending, rows = [], 0
            counts.samples += len(step.metrics)
            for n in names:
                recs = getattr(step, n)
                if recs:
                    _jsonl(files[n], recs)
                    setattr(counts, n, getattr(counts, n) + len(recs))
            if on_step is not None:
                on_step(counts.steps)
        _flush(writer, pending)
    finally:
        writer.close()
        for fh in files.values():
            fh.close()
    (out / "truth.json").write_text(json.dumps(truth_doc(twin.truth), indent=1))
    if history:
        with (out / "ticket_history.jsonl").open("w") as fh:
            _jsonl(fh, twin.ticket_history(history))
        counts.extra["ticket_history"] = history
    return counts


def _flush(writer: pq.ParquetWriter, batches: list[MetricBatch]) -> None:
    if not batches:
        return
    b = MetricBatch.concat(batches)
    table = pa.Table.from_arrays(
        [pa.array(b.series.astype(np.int32)), pa.array(b.ts_ms), pa.array(b.values)], schema=_SCHEMA
    )
    writer.write_table(table)
