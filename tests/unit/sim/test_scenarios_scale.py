"""The packaged storm and mixed scenarios do what they promise."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from nocwise.sim import FAULT_TYPES, Twin, load_scenario


@pytest.mark.slow
def test_storm_on_the_large_topology() -> None:
    sc = load_scenario("storm").with_overrides(duration=timedelta(minutes=16))
    twin = Twin(sc)
    assert len(twin.entities) >= 100_000
    raised = [
        a for s in twin.run() for a in s.alarms if not a.is_cleared and a.changed_time is None
    ]
    f = twin.truth.faults[0]
    assert f.fault_type == "fibre_cut"
    assert len(f.root_entity_ids) > 2  # every fibre in the duct
    within = [
        a
        for a in raised
        if a.alarm_id in f.alarm_ids and a.event_time - f.start <= timedelta(minutes=3)
    ]
    assert len(within) >= 2000


@pytest.mark.slow
def test_mixed_has_over_a_hundred_faults_of_every_type() -> None:
    twin = Twin(load_scenario("mixed").with_overrides(duration=timedelta(days=3)))
    for _ in twin.run():
        pass
    truth = twin.truth
    kinds = Counter(f.fault_type for f in truth.faults)
    assert len(truth.faults) >= 100
    assert set(kinds) == set(FAULT_TYPES)
    assert sum(1 for f in truth.faults if f.alarm_ids) >= 0.9 * len(truth.faults)
    assert truth.noise_alarm_ids
    assert truth.maintenance_alarm_ids
    assert truth.harmless_anomalies
