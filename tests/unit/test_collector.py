"""The service's collector settings are applied and are the ones the throughput bench uses."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from nocwise.collector import SERVICE_GC_THRESHOLDS, collector_paused, tune_collector_for_service


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


def test_a_paused_collector_nests_and_resumes_as_it_was() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause leaves the outer one in force
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # not turned on by a pause that found it off
    finally:
        gc.enable()
