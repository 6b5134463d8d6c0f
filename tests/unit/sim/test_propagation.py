"""Propagation rules: only entities really impacted (given redundancy) alarm."""

from __future__ import annotations

from nocwise.model import Severity
from nocwise.sim import Twin

from .conftest import fault, quiet, run_all


def _raised_on(alarms: list, prefix: str) -> set[str]:
    return {
        a.managed_object for a in alarms if a.managed_object.startswith(prefix) and not a.is_cleared
    }


def test_cut_on_protected_ring_takes_no_site_down() -> None:
    alarms = run_all(Twin(quiet(fault("fibre_cut", "lnk-ring-r001-2"))))
    assert _raised_on(alarms, "lnk-ring-r001-2")
    assert _raised_on(alarms, "agg-r001-")  # both ends report link down
    assert not _raised_on(alarms, "gnb-")
    assert not _raised_on(alarms, "cell-")
    assert not _raised_on(alarms, "csr-")


def test_cut_on_open_chain_isolates_what_lies_behind() -> None:
    twin = Twin(quiet(fault("fibre_cut", "lnk-ring-r002-2")))
    alarms = run_all(twin)
    down_aggs = _raised_on(alarms, "agg-r002-")
    assert {"agg-r002-3", "agg-r002-4"} <= down_aggs
    assert _raised_on(alarms, "cell-")
    topo = twin.topology
    behind = {topo.index["agg-r002-3"], topo.index["agg-r002-4"]}
    for s, links in enumerate(topo.site_access_links):
        homes = {topo.link_b[k] for k in links}
        sid = topo.entities[topo.site_ran[s]].id
        assert (sid in _raised_on(alarms, sid)) == homes.issubset(behind)


def test_cut_of_single_homed_access_takes_its_site_down() -> None:
    alarms = run_all(Twin(quiet(fault("fibre_cut", "lnk-acc-0001-a"))))
    assert {"cell-0001-1", "cell-0001-2", "cell-0001-3"} <= _raised_on(alarms, "cell-")
    assert _raised_on(alarms, "gnb-") == {"gnb-0001"}


def test_cut_of_dual_homed_access_is_protected() -> None:
    twin = Twin(quiet(fault("fibre_cut", "lnk-acc-0003-a")))
    assert (
        twin.topology.entities[twin.topology.index["site-0003"]].attributes["dual_homed"] == "true"
    )
    alarms = run_all(twin)
    assert not _raised_on(alarms, "cell-")
    assert not _raised_on(alarms, "gnb-")
    assert _raised_on(alarms, "csr-0003")  # the CSR still reports its link down


def test_symptoms_follow_the_onset_within_seconds_to_two_minutes() -> None:
    twin = Twin(quiet(fault("fibre_cut", "lnk-acc-0001-a")))
    alarms = [a for a in run_all(twin) if not a.is_cleared]
    onset = twin.truth.faults[0].start
    root = next(a for a in alarms if a.managed_object == "lnk-acc-0001-a")
    assert (root.event_time - onset).total_seconds() <= 3
    delays = sorted((a.event_time - onset).total_seconds() for a in alarms)
    assert delays[0] >= 0
    assert delays[-1] <= 120
    assert delays[-1] > 20  # the RAN side reports later than the optical layer


def test_power_failure_battery_then_site_down() -> None:
    twin = Twin(quiet(fault("site_power_failure", "pwr-0002", dur_min=None), minutes=300))
    minutes = float(
        twin.topology.entities[twin.topology.index["pwr-0002"]].attributes["battery_minutes"]
    )
    alarms = [a for a in run_all(twin) if not a.is_cleared]
    mains = next(a for a in alarms if a.probable_cause == "powerProblem")
    cells = [a for a in alarms if a.managed_object.startswith("cell-0002")]
    assert len(cells) == 3
    first_cell = min(a.event_time for a in cells)
    assert (first_cell - mains.event_time).total_seconds() >= minutes * 60 - 15
    if minutes:
        assert any(a.probable_cause == "batteryDischarging" for a in alarms)
    assert any(
        a.perceived_severity is Severity.CRITICAL and a.alarm_id == mains.alarm_id for a in alarms
    )


def test_short_power_failure_is_bridged_by_the_battery() -> None:
    twin = Twin(quiet(fault("site_power_failure", "pwr-0002", dur_min=10)))
    assert (
        float(twin.topology.entities[twin.topology.index["pwr-0002"]].attributes["battery_minutes"])
        > 10
    )
    alarms = run_all(twin)
    assert not _raised_on(alarms, "cell-")
    assert _raised_on(alarms, "pwr-0002")


def test_bad_deployment_emits_a_change_then_errors_upstream() -> None:
    twin = Twin(quiet(fault("bad_deployment", "svc-product-catalog")))
    changes, alarms = [], []
    for step in twin.run():
        changes += step.changes
        alarms += step.alarms
    assert changes[0].entity_id == "svc-product-catalog"
    assert changes[0].version_after != changes[0].version_before
    assert changes[-1].version_after == changes[0].version_before  # the rollback
    objs = _raised_on(alarms, "svc-")
    assert "svc-product-catalog" in objs
    assert {"svc-crm", "svc-order-management"} & objs
    assert min(a.event_time for a in alarms) > changes[0].ts
