from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import settings

from nocwise.clock import ManualClock
from nocwise.ingest.health import HealthBoard
from nocwise.ingest.http import Limits, make_router
from nocwise.ingest.sqlite_sink import SqliteSink

# A deeper fuzz run on demand: pytest tests/unit/ingest --hypothesis-profile=deep
settings.register_profile("deep", max_examples=2000, deadline=None)


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SqliteSink]:
    s = SqliteSink(tmp_path / "ingest.db", synchronous="NORMAL")
    yield s
    s.close()


@pytest.fixture
def board() -> HealthBoard:
    return HealthBoard()


class Client:
    """A synchronous face on httpx's ASGI transport: requests run on one private event loop."""

    def __init__(self, app: FastAPI) -> None:
        self._loop = asyncio.new_event_loop()
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        )

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.post(url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.get(url, **kwargs))

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


@pytest.fixture
def client(sink: SqliteSink, board: HealthBoard) -> Iterator[Client]:
    app = FastAPI()
    clock = ManualClock(datetime(2026, 1, 5, 12, tzinfo=UTC))
    app.include_router(make_router(sink, board, clock, limits=Limits(max_body_bytes=1 << 20)))
    c = Client(app)
    yield c
    c.close()
