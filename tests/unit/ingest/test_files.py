from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nocwise.ingest.base import REASONS
from nocwise.ingest.files import replay
from nocwise.ingest.sqlite_sink import SqliteSink

NOW = datetime(2026, 1, 5, tzinfo=UTC)


class Counting:
    def __init__(self) -> None:
        self.total = 0

    def start(self, label: str, total: int | None) -> None:
        del label, total

    def advance(self, n: int = 1) -> None:
        self.total += n


def test_tmf642_csv_with_dotted_columns_replays_once(tmp_path: Path, sink: SqliteSink) -> None:
    path = tmp_path / "alarms.csv"
    path.write_text(
        "id,alarmType,perceivedSeverity,alarmedObject.id,alarmRaisedTime\n"
        "1,equipmentAlarm,major,ne-1,2026-01-05T10:00:00Z\n"
        "2,equipmentAlarm,minor,ne-2,2026-01-05T10:01:00Z\n"
        "3,equipmentAlarm,minor,,2026-01-05T10:01:00Z\n"
    )
    progress = Counting()
    report = asyncio.run(replay(path, "tmf642", sink, now=NOW, chunk=2, progress=progress))
    assert (report.rows, report.accepted, report.stored) == (3, 2, 2)
    assert dict(report.rejected) == {"missing_field": 1}
    assert progress.total == 3
    again = asyncio.run(replay(path, "tmf642", sink, now=NOW, chunk=2))
    assert again.stored == 0
    assert sink.count("alarms") == 2


def test_alertmanager_jsonl_and_syslog_text(tmp_path: Path, sink: SqliteSink) -> None:
    alerts = tmp_path / "am.jsonl"
    alert = {
        "labels": {"alertname": "Down", "instance": "a"},
        "startsAt": "2026-01-05T10:00:00Z",
        "fingerprint": "f1",
    }
    alerts.write_text(json.dumps(alert) + "\n{broken\n")
    report = asyncio.run(replay(alerts, "alertmanager", sink, now=NOW))
    assert report.accepted == 1
    assert dict(report.rejected) == {"bad_json": 1}
    logs = tmp_path / "router.log"
    logs.write_text("<13>Jan  5 10:00:00 r1 sshd: ok\n<14>1 2026-01-05T10:00:00Z r2 app - - - hi\n")
    assert asyncio.run(replay(logs, "syslog", sink, now=NOW)).stored == 2


def test_metrics_parquet(tmp_path: Path, sink: SqliteSink) -> None:
    path = tmp_path / "m.parquet"
    table = pa.table(
        {
            "timestamp": [2000, 1000, 1000],
            "value": [2.0, 1.0, 5.0],
            "__name__": ["cpu", "cpu", "mem"],
            "host": ["a", "a", "a"],
        }
    )
    pq.write_table(table, path)
    report = asyncio.run(replay(path, "metrics", sink, now=NOW))
    assert report.stored == 3
    batch = sink.metric_batch()
    assert batch.series.tolist() == [0, 0, 1]
    assert batch.ts_ms.tolist() == [1000, 2000, 1000]


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.binary(max_size=300),
    st.sampled_from(
        ["tmf642", "metrics", "syslog", "changes", "tickets", "topology", "ves", "alertmanager"]
    ),
    st.sampled_from([".csv", ".jsonl", ".log"]),
)
def test_fuzz_files_never_raise(
    tmp_path: Path, sink: SqliteSink, data: bytes, kind: str, suffix: str
) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        report = asyncio.run(replay(path, kind, sink, now=NOW))
    except UnicodeDecodeError:
        return  # a CSV that is not UTF-8 is refused by the CSV reader before any row
    assert all(r in REASONS for r in report.rejected)
