"""10,000 alarms are posted with retries while the server is SIGKILLed and restarted; afterwards
exactly 10,000 distinct alarms are stored: none lost (2xx only after commit), none duplicated
(upsert by alarm id)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from nocwise.ingest.sqlite_sink import SqliteSink

from .conftest import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N_ALARMS = 10_000
BATCH = 25
CONCURRENCY = 8
KILL_EVERY = 80  # acknowledged batches between two kills


def _batch(b: int) -> list[dict[str, object]]:
    return [
        {
            "id": f"crash-{i}",
            "sourceSystemId": "crash-test",
            "alarmType": "equipmentAlarm",
            "perceivedSeverity": "major",
            "probableCause": "powerProblem",
            "alarmedObject": {"id": f"ne-{i % 500}"},
            "alarmRaisedTime": "2026-01-05T10:00:00Z",
        }
        for i in range(b * BATCH, (b + 1) * BATCH)
    ]


class Server:
    def __init__(self, db: Path, port: int, log: Path) -> None:
        self.db, self.port, self.log = db, port, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "nocwise.ingest.server",
                    "--db",
                    str(self.db),
                    "--port",
                    str(self.port),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        async with httpx.AsyncClient() as c:
            for _ in range(600):
                try:
                    if (
                        await c.get(f"http://127.0.0.1:{self.port}/api/v1/ingest/sources")
                    ).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if self.proc.poll() is not None:
                    raise AssertionError(self.log.read_text()[-3000:])
                await asyncio.sleep(0.05)
        raise AssertionError("server did not start")

    async def kill_and_restart(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.kills += 1
        await self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


async def _post_all(server: Server) -> int:
    url = f"http://127.0.0.1:{server.port}/api/v1/ingest/tmf642/alarm"
    queue: asyncio.Queue[int] = asyncio.Queue()
    for b in range(N_ALARMS // BATCH):
        queue.put_nowait(b)
    acked = 0
    retries = 0
    restarting = asyncio.Lock()

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal acked, retries
        while True:
            try:
                b = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            body = _batch(b)
            while True:
                async with restarting:
                    pass
                try:
                    r = await client.post(url, json=body, timeout=10)
                    if r.status_code == 200:
                        break
                    assert r.status_code in (429, 503), r.text
                except httpx.TransportError:
                    pass
                retries += 1
                await asyncio.sleep(0.05)
            acked += 1
            if acked % KILL_EVERY == 0 and not restarting.locked():
                async with restarting:
                    await server.kill_and_restart()

    async with httpx.AsyncClient() as client:
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
    return retries


def test_sigkill_during_ingest_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    server = Server(tmp_path / "crash.db", free_port(), tmp_path / "server.log")

    async def run() -> int:
        await server.start()
        try:
            return await _post_all(server)
        finally:
            server.stop()

    retries = asyncio.run(run())
    assert server.kills >= 4
    assert retries > 0
    sink = SqliteSink(tmp_path / "crash.db")
    try:
        ids = [r[0] for r in sink.read("SELECT alarm_id FROM alarms")]
    finally:
        sink.close()
    assert len(ids) == N_ALARMS
    assert set(ids) == {f"tmf642:crash-test:crash-{i}" for i in range(N_ALARMS)}
