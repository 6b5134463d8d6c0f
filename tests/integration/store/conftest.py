"""A migrated SQLite state store per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nocwise.store.state.db import Database, make_engine
from nocwise.store.state.migrate import upgrade


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    engine = make_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine)
    yield Database(engine)
    engine.dispose()
