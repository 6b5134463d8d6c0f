from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime

from nocwise.clock import ManualClock
from nocwise.config.schema import HttpSource, SnmpSource, SyslogSource
from nocwise.ingest.health import HealthBoard
from nocwise.ingest.listeners import snmp_options, start_listeners
from nocwise.ingest.sqlite_sink import SqliteSink


def test_configured_syslog_listener_receives(sink: SqliteSink) -> None:
    sources = [
        HttpSource(kind="alertmanager"),
        SyslogSource(kind="syslog", name="edge-syslog", udp_port=0, tcp_port=None),
        SyslogSource(kind="syslog", enabled=False),
    ]

    async def scenario() -> HealthBoard:
        board = HealthBoard()
        listeners = await start_listeners(
            sources, sink, board, ManualClock(datetime(2026, 1, 5, tzinfo=UTC))
        )
        (server,) = listeners.servers
        port = server.udp_port  # type: ignore[union-attr]
        assert port is not None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"<13>1 2026-01-05T00:00:00Z h a - - - hello", ("127.0.0.1", port))
        for _ in range(200):
            if board.source("edge-syslog").received:
                break
            await asyncio.sleep(0.01)
        await listeners.stop()
        return board

    board = asyncio.run(scenario())
    assert board.source("edge-syslog").received == 1
    assert sink.count("logs") == 1


def test_snmp_options_from_config() -> None:
    src = SnmpSource.model_validate(
        {
            "kind": "snmp",
            "port": 1162,
            "communities": ["c1"],
            "users": [{"name": "u", "auth_key": "a" * 8}],
        }
    )
    opts = snmp_options(src)
    assert opts.communities == ("c1",)
    assert opts.users[0].auth_key == "a" * 8
