"""Fixtures for correlation tests: a fixed start time, a ManualClock and a small access network."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nocwise.clock import ManualClock
from nocwise.correlate.synthetic import access_network
from nocwise.topology.graph import TopologyGraph

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def t0() -> datetime:
    return T0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture(scope="session")
def topo() -> TopologyGraph:
    return TopologyGraph(*access_network(30))
