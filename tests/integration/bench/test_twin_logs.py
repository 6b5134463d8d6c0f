"""Log anomalies of a short twin run land on the entities the faults are about."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from nocwise.bench.options import BenchOptions
from nocwise.bench.report import NullProgress
from nocwise.bench.twin_logs import detect, neighbours, run, scope_of, with_topology
from nocwise.model import Alarm
from nocwise.runtime.detection import LogDetection
from nocwise.sim import Twin, load_scenario
from nocwise.sim.scenario import FaultSpec


def test_fibre_cuts_raise_log_anomalies_on_the_routers_at_the_link_ends() -> None:
    scenario = replace(load_scenario("mixed"), seed=0, duration=timedelta(hours=8))
    twin = Twin(scenario)
    alarms = detect((step.logs for step in twin.run()), LogDetection())
    near = neighbours(twin.relations)
    end = scenario.start + scenario.duration
    cuts = [
        f
        for f in twin.truth.faults
        if f.fault_type == "fibre_cut"
        and f.n_logs
        and f.start >= scenario.start + timedelta(hours=1)
    ]
    assert len(cuts) >= 3
    found = 0
    for f in cuts:
        scope = scope_of(f, near, end)
        ends = near[f.root_entity_id]  # the routers the link connects
        hits = [
            a
            for a in alarms
            if scope.start <= a.event_time <= scope.end and a.managed_object in ends
        ]
        found += bool(hits)
        if hits:  # at the cut, not later
            assert min(a.event_time for a in hits) - f.start < timedelta(minutes=1)
    assert found >= len(cuts) // 2


def test_the_suite_reports_rates_false_alarms_and_the_base_peer() -> None:
    report = run(BenchOptions(seed=0, quick=True), NullProgress())
    assert report.suite == "twin_logs"
    assert 0.0 <= report.summary["rate"] <= 1.0
    assert report.summary["false_log_alarms_per_day"] >= 0.0
    assert "rate.fibre_cut" in report.summary
    base = report.peers["base_detectors"]
    assert report.summary["rate"] >= base["rate"]
    assert report.summary["rate"] >= report.peers["no_mentions"]["rate"]
    assert {r["fault_type"] for r in report.items} >= {"fibre_cut", "misconfiguration"}


def test_a_site_power_failure_raises_a_log_anomaly_on_the_dead_router() -> None:
    """The dead router logs nothing until the power returns; both neighbours' adjacency-down
    lines name it."""
    power = FaultSpec("site_power_failure", timedelta(minutes=90), timedelta(hours=1), "pwr-0005")
    scenario = replace(
        load_scenario("mixed"), seed=0, duration=timedelta(hours=3), random_faults=None,
        faults=(power,),
    )  # fmt: skip
    twin = Twin(scenario)
    batches = [step.logs for step in twin.run()]
    (fault,) = twin.truth.faults
    assert fault.n_logs > 0
    scope = scope_of(fault, neighbours(twin.relations), scenario.start + scenario.duration)
    dead = {"csr-0005", "site-0005"} & scope.entities
    assert dead

    def while_down(detection: LogDetection) -> list[Alarm]:
        """Alarms on the dead site before its power returns."""
        alarms = detect(batches, detection)
        end = fault.end or scope.end
        return [a for a in alarms if a.managed_object in dead and fault.start <= a.event_time < end]

    hits = while_down(with_topology(LogDetection(), twin))
    reported = [a.additional_info.get("reported_by", "") for a in hits]
    near = neighbours(twin.relations)
    peers = {r for link in near["csr-0005"] for r in near.get(link, ())} - {"csr-0005"}
    assert any(sum(p in text for p in peers) >= 2 for text in reported), (hits, peers)
    assert while_down(LogDetection()) == []  # without the entity names: nothing
