"""Every fault type: alarms with ground truth, a full clear, and the right fix ends it early."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nocwise.sim import FAULT_TYPES, FaultSpec, Twin
from nocwise.sim.catalogue import REMEDIATION

from .conftest import quiet


def test_fourteen_fault_types_with_remediations() -> None:
    assert len(FAULT_TYPES) >= 14
    assert {m.name: m.remediation for m in FAULT_TYPES.values()} == REMEDIATION


@pytest.mark.parametrize("ftype", sorted(FAULT_TYPES))
def test_fault_type_alarms_and_clears(ftype: str) -> None:
    sc = quiet(FaultSpec(ftype, timedelta(minutes=5), timedelta(hours=2)), minutes=180, seed=3)
    twin = Twin(sc)
    alarms = [a for s in twin.run() for a in s.alarms]
    f = twin.truth.faults[0]
    assert f.fault_type == ftype
    assert f.alarm_ids
    assert all(a.event_time >= f.start for a in alarms)
    raised = {a.alarm_id for a in alarms if not a.is_cleared}
    assert {a.alarm_id for a in alarms if a.is_cleared} == raised == set(f.alarm_ids)


@pytest.mark.parametrize("ftype", sorted(FAULT_TYPES))
def test_right_action_ends_each_fault(ftype: str) -> None:
    twin = Twin(quiet(FaultSpec(ftype, timedelta(minutes=2), None), minutes=40, seed=5))
    it = twin.run()
    for _ in range(10):
        next(it)
    root = twin.truth.faults[0].root_entity_id
    assert twin.apply_action(root, FAULT_TYPES[ftype].remediation)
    for _ in it:
        pass
    f = twin.truth.faults[0]
    assert f.remediated
    assert f.end is not None
    assert f.end - f.start < timedelta(minutes=10)
