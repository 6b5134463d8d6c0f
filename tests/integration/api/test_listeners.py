"""Configured socket sources start with the app and feed the same durable path."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from nocwise.api.app import create_app
from nocwise.clock import ManualClock
from nocwise.config.loader import load_settings_from_mapping
from nocwise.runtime.runtime import Runtime
from nocwise.store.state.repositories import TokenRepository


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_configured_syslog_source_stores_what_it_receives(tmp_path: Path) -> None:
    port = _free_udp_port()
    settings = load_settings_from_mapping(
        {
            "data_dir": str(tmp_path / "nw"),
            "sources": [{"kind": "syslog", "udp_port": port, "tcp_port": None}],
        }
    )
    clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
    runtime = Runtime(settings, clock)
    with runtime.db.session() as s:
        token = TokenRepository(s).create("viewer", "t", clock.now())[1]
    line = b"<187>1 2026-03-01T12:00:00Z csr-1 bgpd 42 ADJ - BGP neighbor 10.0.0.2 Down"
    with TestClient(create_app(settings, clock, runtime)) as client:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(line, ("127.0.0.1", port))
        deadline = time.monotonic() + 10
        while runtime.telemetry.counts()["logs"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runtime.telemetry.counts()["logs"] == 1
        health = client.get("/api/v1/sources", headers={"Authorization": f"Bearer {token}"})
        assert any(h["source"] == "syslog" and h["received"] == 1 for h in health.json())
