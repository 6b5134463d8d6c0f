"""The service's collector settings are applied and are the ones the throughput bench uses."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from nocwise.collector import SERVICE_GC_THRESHOLDS, tune_collector_for_service


@pytest.fixture
def restore_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restore_thresholds")
def test_the_service_raises_the_collector_thresholds() -> None:
    tune_collector_for_service()
    assert gc.get_threshold() == SERVICE_GC_THRESHOLDS
    assert SERVICE_GC_THRESHOLDS[0] > 700  # Python's default first threshold
