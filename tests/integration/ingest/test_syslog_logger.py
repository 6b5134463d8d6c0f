"""util-linux logger sends RFC 5424 and RFC 3164 syslog over UDP and TCP."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime

import pytest

from nocwise.clock import SystemClock
from nocwise.ingest.health import HealthBoard
from nocwise.ingest.sqlite_sink import SqliteSink
from nocwise.ingest.syslog_server import SyslogOptions, SyslogServer

from .conftest import need

pytestmark = pytest.mark.integration


def test_logger_rfc5424_and_3164_over_udp_and_tcp(sink: SqliteSink) -> None:
    logger = need("logger")

    async def scenario() -> HealthBoard:
        board = HealthBoard()
        server = SyslogServer(sink, board, SystemClock(), SyslogOptions(udp_port=0, tcp_port=0))
        await server.start()
        udp, tcp = str(server.udp_port), str(server.tcp_port)
        base = [logger, "-n", "127.0.0.1", "-t", "nocwise-test", "-p", "local3.err"]
        sends = [
            [*base, "-d", "-P", udp, "--rfc5424", "--msgid", "LINKDOWN",
             "--sd-id", "origin@32473", "--sd-param", 'ip="192.0.2.1"', "udp 5424"],
            [*base, "-d", "-P", udp, "--rfc3164", "udp 3164"],
            [*base, "-T", "-P", tcp, "--rfc5424", "--octet-count", "tcp 5424 octet"],
            [*base, "-T", "-P", tcp, "--rfc3164", "tcp 3164 newline"],
        ]  # fmt: skip
        for cmd in sends:
            proc = await asyncio.create_subprocess_exec(*cmd, stderr=subprocess.PIPE)
            _, err = await asyncio.wait_for(proc.communicate(), 10)
            assert proc.returncode == 0, err.decode()
        for _ in range(300):
            if board.source("syslog").received >= len(sends):
                break
            await asyncio.sleep(0.02)
        await server.stop()
        return board

    board = asyncio.run(scenario())
    assert board.source("syslog").received == 4
    assert dict(board.source("syslog").rejected) == {}
    rows = {r["message"]: r for r in sink.log_rows()}
    assert set(rows) == {"udp 5424", "udp 3164", "tcp 5424 octet", "tcp 3164 newline"}
    for r in rows.values():
        assert r["app"] == "nocwise-test"
        assert r["severity"] == 3
        assert r["attributes"]["facility"] == "local3"
        assert abs(r["ts"] - datetime.now(UTC).timestamp()) < 120
    assert rows["udp 5424"]["attributes"]["origin@32473.ip"] == "192.0.2.1"
    assert rows["udp 5424"]["attributes"]["msgid"] == "LINKDOWN"
    assert rows["udp 3164"]["host"]
