from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime

from nocwise.clock import ManualClock
from nocwise.ingest.health import HealthBoard
from nocwise.ingest.sqlite_sink import SqliteSink
from nocwise.ingest.syslog_server import SyslogOptions, SyslogServer


def test_udp_and_tcp_messages_arrive_as_logs_and_alarms(sink: SqliteSink) -> None:
    async def scenario() -> None:
        board = HealthBoard()
        server = SyslogServer(
            sink,
            board,
            ManualClock(datetime(2026, 1, 5, tzinfo=UTC)),
            SyslogOptions(udp_port=0, tcp_port=0),
        )
        await server.start()
        assert server.udp_port is not None
        assert server.tcp_port is not None
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.sendto(b"<34>Jan  5 00:00:01 csr-1 bgpd[5]: peer down", ("127.0.0.1", server.udp_port))
        udp.close()
        _, w = await asyncio.open_connection("127.0.0.1", server.tcp_port)
        alarm = b'<11>1 2026-01-05T00:00:02Z mx-1 alarmd - - [alarm resource="ge-0/0/1" probableCause="linkDown" perceivedSeverity="major"] down'
        w.write(str(len(alarm)).encode() + b" " + alarm + b"<13>newline framed\n<999>bad pri\n")
        await w.drain()
        w.close()
        for _ in range(200):
            await asyncio.sleep(0.01)
            if board.source("syslog").received >= 3:
                break
        await server.stop()
        h = board.source("syslog")
        assert h.received == 3
        assert dict(h.rejected) == {"bad_value": 1}

    asyncio.run(scenario())
    rows = sink.log_rows()
    assert {r["host"] for r in rows} == {"csr-1", "mx-1", "127.0.0.1"}
    assert sink.count("alarms") == 1
    assert sink.alarm_docs()[0]["managed_object"] == "mx-1/ge-0/0/1"
