"""Integration fixtures: a durable sink in a temporary directory and a helper to need a binary."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

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
