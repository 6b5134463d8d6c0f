"""net-snmp's snmptrap sends v2c and v3 traps and INFORMs to the receiver."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime

import pytest

from nocwise.clock import ManualClock
from nocwise.ingest.health import HealthBoard
from nocwise.ingest.snmp_server import SnmpOptions, SnmpServer, UsmUser
from nocwise.ingest.sqlite_sink import SqliteSink

from .conftest import need

pytestmark = pytest.mark.integration
ENGINE = "0x8000000001020304"
# Numeric OIDs: Debian ships no IF-MIB text for net-snmp, and the receiver needs none.
LINK_DOWN, LINK_UP, COLD_START = (
    ".1.3.6.1.6.3.1.1.5.3",
    ".1.3.6.1.6.3.1.1.5.4",
    ".1.3.6.1.6.3.1.1.5.1",
)
LINK = [
    ".1.3.6.1.2.1.2.2.1.1.3", "i", "3",  # ifIndex.3
    ".1.3.6.1.2.1.2.2.1.2.3", "s", "ge-0/0/3",  # ifDescr.3
    ".1.3.6.1.2.1.2.2.1.7.3", "i", "1",  # ifAdminStatus.3
]  # fmt: skip


async def _run(sink: SqliteSink, commands: list[list[str]], expect: int) -> HealthBoard:
    board = HealthBoard()
    users = [
        UsmUser("ops", "sha", "authpass123", "aes", "privpass123", engine_id=ENGINE[2:]),
        UsmUser("ops", "sha", "authpass123", "aes", "privpass123"),
    ]
    server = SnmpServer(
        sink, board, ManualClock(datetime(2026, 1, 5, tzinfo=UTC)),
        SnmpOptions(port=0, communities=["public"], users=users),
    )  # fmt: skip
    await server.start()
    for cmd in commands:
        cmd = [c.replace("PORT", str(server.port)) for c in cmd]
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        _out, err = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0, err.decode()
    for _ in range(100 if expect else 10):
        await server.drain()
        if expect and board.source("snmp").received >= expect:
            break
        await asyncio.sleep(0.05)
    await server.stop()
    return board


def test_v2c_link_down_v3_link_up_and_informs(sink: SqliteSink) -> None:
    trap = need("snmptrap")
    v3 = [
        "-v3",
        "-u",
        "ops",
        "-l",
        "authPriv",
        "-a",
        "SHA",
        "-A",
        "authpass123",
        "-x",
        "AES",
        "-X",
        "privpass123",
    ]
    commands = [
        [trap, "-v2c", "-c", "public", "127.0.0.1:PORT", "", LINK_DOWN, *LINK],
        [trap, *v3, "-e", ENGINE, "127.0.0.1:PORT", "", LINK_UP, *LINK],
        # An INFORM is answered only once stored; snmptrap -Ci fails unless it gets the answer.
        [trap, "-Ci", *v3, "127.0.0.1:PORT", "", COLD_START],
        [trap, "-Ci", "-v2c", "-c", "public", "127.0.0.1:PORT", "", COLD_START],
        # SNMPv1: enterprise, agent address, generic trap 2 (linkDown), specific 0, uptime.
        [
            trap,
            "-v1",
            "-c",
            "public",
            "127.0.0.1:PORT",
            ".1.3.6.1.4.1.8072",
            "192.0.2.7",
            "2",
            "0",
            "",
            *LINK,
        ],
    ]
    board = asyncio.run(_run(sink, commands, 5))
    assert board.source("snmp").received == 5
    v2, v1 = sorted(sink.alarm_docs(), key=lambda d: d["managed_object"])
    assert v2["managed_object"] == "127.0.0.1/ge-0/0/3"
    assert v2["perceived_severity"] == "CLEARED"
    assert v1["managed_object"] == "192.0.2.7/ge-0/0/3"  # the v1 agent-addr, per RFC 3584
    assert v1["perceived_severity"] == "MAJOR"
    logs = sink.log_rows()
    assert [r["message"].split()[0] for r in logs] == [
        "linkDown",
        "linkUp",
        "coldStart",
        "coldStart",
        "linkDown",
    ]
    assert logs[1]["attributes"]["security"] == "v3:ops"
    assert logs[0]["attributes"]["IF-MIB::ifDescr.3"] == "ge-0/0/3"


def test_wrong_community_is_not_stored(sink: SqliteSink) -> None:
    trap = need("snmptrap")
    commands = [[trap, "-v2c", "-c", "wrong", "127.0.0.1:PORT", "", LINK_DOWN, *LINK]]
    board = asyncio.run(_run(sink, commands, 0))
    assert board.source("snmp").received == 0
    assert sink.count("logs") == 0
