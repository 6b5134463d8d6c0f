"""An app on a temporary SQLite store with one token per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nocwise.api.app import create_app
from nocwise.clock import ManualClock
from nocwise.config import Settings
from nocwise.runtime.runtime import Runtime
from nocwise.store.state.repositories import TokenRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Api:
    client: TestClient
    runtime: Runtime
    clock: ManualClock
    tokens: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    clock = ManualClock(T0)
    settings = Settings(data_dir=tmp_path / "nw")
    runtime = Runtime(settings, clock)
    tokens = {}
    with runtime.db.session() as s:
        repo = TokenRepository(s)
        for role in ("viewer", "operator", "admin"):
            tokens[role] = repo.create(role, f"test-{role}", T0)[1]
    app = create_app(settings, clock, runtime)
    with TestClient(app) as client:
        yield Api(client, runtime, clock, tokens)
