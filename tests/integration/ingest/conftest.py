"""Integration fixtures: a durable sink in a temporary directory and a helper to need a binary."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from nocwise.clock import SystemClock
from nocwise.ingest.health import HealthBoard
from nocwise.ingest.http import make_router
from nocwise.ingest.sqlite_sink import SqliteSink


def need(binary: str) -> str:
    """The path of ``binary``, or skip: `scripts/install-test-deps.sh` installs them in CI."""
    path = shutil.which(binary) or (
        f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None
    )
    if path is None:
        pytest.skip(f"{binary} is not installed (scripts/install-test-deps.sh installs it)")
    return path


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SqliteSink]:
    s = SqliteSink(tmp_path / "ingest.db")
    yield s
    s.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    url: str
    port: int
    sink: SqliteSink
    board: HealthBoard


@pytest.fixture
def served(sink: SqliteSink) -> Iterator[Served]:
    """The ingest router behind a real uvicorn server on a free port."""
    board = HealthBoard()
    app = FastAPI()
    app.include_router(make_router(sink, board, SystemClock()))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield Served(f"http://127.0.0.1:{port}", port, sink, board)
    server.should_exit = True
    thread.join(10)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@contextlib.contextmanager
def running(cmd: list[str], ready_url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run a service until the block ends; wait until ``ready_url`` answers 200."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:

        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"{cmd[0]} exited: {log.read_text()[-2000:]}")
            try:
                return httpx.get(ready_url, timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, 30, f"{cmd[0]} to be ready")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
