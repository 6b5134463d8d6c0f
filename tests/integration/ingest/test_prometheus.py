"""A real Prometheus remote-writes to nocwise, and the PromQL connector reads its history back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nocwise.ingest.health import HealthBoard
from nocwise.ingest.promql import PromqlConnector
from nocwise.ingest.series_index import SeriesIndex
from nocwise.ingest.sqlite_sink import SqliteSink

from .conftest import Served, free_port, need, running, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _config(prom_port: int, target: str) -> str:
    return f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ["127.0.0.1:{prom_port}"]
remote_write:
  - url: "{target}/api/v1/write"
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
"""


def test_remote_write_then_promql_backfill(served: Served, tmp_path: Path) -> None:
    prometheus = need("prometheus")
    port = free_port()
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(_config(port, served.url))
    cmd = [
        prometheus,
        f"--config.file={cfg}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with running(cmd, f"http://127.0.0.1:{port}/-/ready", tmp_path / "prometheus.log"):

        def has_up() -> bool:
            return any(s.get("__name__") == "up" for s in served.sink.series_labels())

        wait_for(has_up, 60, "Prometheus to remote-write the 'up' series")
        labels = served.sink.series_labels()
        up = next(i for i, s in enumerate(labels) if s.get("__name__") == "up")
        assert labels[up]["job"] == "self"
        batch = served.sink.metric_batch()
        assert (batch.values[batch.series == up] == 1.0).all()
        assert served.board.source("remote_write").received > 0
        assert dict(served.board.source("remote_write").rejected) == {}

        # History through the PromQL connector into a second store.
        history = SqliteSink(tmp_path / "history.db")

        async def backfill() -> int:
            end = datetime.now(UTC)
            conn = PromqlConnector(
                f"http://127.0.0.1:{port}", history, HealthBoard(), SeriesIndex()
            )
            try:
                return await conn.backfill("up", end - timedelta(minutes=2), end, 1.0)
            finally:
                await conn.aclose()

        stored = asyncio.run(backfill())
        history.close()
        assert stored > 0
        (series,) = history.series_labels()
        assert series["__name__"] == "up"
        assert series["instance"] == f"127.0.0.1:{port}"
        assert (history.metric_batch().values == 1.0).all()
