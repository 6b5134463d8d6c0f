"""Background noise, KPI effects of faults, and traces."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import numpy as np

from nocwise.model import ChangeKind, SpanStatus
from nocwise.sim import FaultSpec, NoiseSpec, Scenario, Twin

from .conftest import quiet


def _values(twin: Twin, metric: str, entity: str) -> list[float]:
    sid = next(s.id for s in twin.series if s.metric == metric and s.entity_id == entity)
    out = []
    for step in twin.run():
        m = step.metrics.series == sid
        out.append(float(step.metrics.values[m][0]) if m.any() else float("nan"))
    return out


def test_a_noisy_day_has_chatty_flapping_and_planned_alarms() -> None:
    twin = Twin(
        Scenario(
            "n",
            seed=2,
            duration=timedelta(days=1),
            step=timedelta(minutes=5),
            noise=NoiseSpec(level=1.0),
        )
    )
    steps = list(twin.run())
    alarms = [a for s in steps for a in s.alarms if not a.is_cleared]
    truth = twin.truth
    assert {a.alarm_id for a in alarms} == truth.noise_alarm_ids
    again = Counter(a.fingerprint for a in alarms)
    assert max(again.values()) >= 5  # the same problem on the same object, again and again
    planned = [a for a in alarms if a.alarm_id in truth.maintenance_alarm_ids]
    assert planned
    assert all(a.planned_outage_indicator for a in planned)
    maint = [c for s in steps for c in s.changes if c.kind is ChangeKind.MAINTENANCE]
    assert maint
    assert all(
        any(c.end is not None and c.ts <= p.event_time <= c.end for c in maint) for p in planned
    )
    assert truth.harmless_anomalies
    logs = [r for s in steps for r in s.logs]
    assert {r.attributes.get("vendor") for r in logs if r.source == "syslog"} >= {
        "cisco-iosxr",
        "juniper-junos",
        "nokia-sros",
    }


def test_dns_flood_multiplies_the_query_rate() -> None:
    twin = Twin(
        quiet(
            FaultSpec("dns_ddos", timedelta(minutes=20), timedelta(minutes=20), "dns-p1-1"),
            minutes=60,
        )
    )
    v = _values(twin, "dns_query_rate", "dns-p1-1")
    assert np.median(v[25:38]) > 8 * np.median(v[:18])


def test_upf_memory_climbs_then_crashes() -> None:
    twin = Twin(
        quiet(FaultSpec("upf_memory_leak", timedelta(minutes=5), None, "upf-p1-1"), minutes=240)
    )
    v = np.asarray(_values(twin, "memory_utilisation", "upf-p1-1"))
    peak = int(np.argmax(v))
    assert v[peak] > 95
    assert v[peak + 5] < 60  # restarted
    assert v[10] < v[30] < v[peak]


def test_battery_voltage_falls_during_a_power_failure() -> None:
    twin = Twin(
        quiet(
            FaultSpec(
                "site_power_failure", timedelta(minutes=5), timedelta(minutes=20), "pwr-0002"
            ),
            minutes=40,
        )
    )
    v = _values(twin, "battery_voltage", "pwr-0002")
    assert v[20] < v[3] - 0.5
    assert abs(v[35] - v[3]) < 0.5


def test_traces_show_errors_only_while_a_deployment_is_bad() -> None:
    sc = quiet(
        FaultSpec("bad_deployment", timedelta(minutes=10), timedelta(minutes=20), "svc-crm"),
        minutes=45,
    )
    twin = Twin(sc.with_overrides(noise=NoiseSpec(level=0.0, traces_per_step=20)))
    steps = list(twin.run())

    def errors(lo: int, hi: int) -> int:
        return sum(sp.status is SpanStatus.ERROR for s in steps[lo:hi] for sp in s.spans)

    assert errors(0, 10) == 0
    assert errors(15, 30) > 0
    assert {sp.parent_id is None for s in steps for sp in s.spans} == {True, False}
    failed = {
        sp.trace_id
        for s in steps
        for sp in s.spans
        if sp.status is SpanStatus.ERROR and sp.service == "crm"
    }
    logged = {r.trace_id for s in steps for r in s.logs if r.trace_id}
    assert failed
    assert failed <= logged  # the failing service logs the error with its trace id


def test_truth_lists_the_anomaly_windows_a_fault_caused() -> None:
    twin = Twin(
        quiet(
            FaultSpec(
                "site_power_failure", timedelta(minutes=5), timedelta(minutes=20), "pwr-0002"
            ),
            minutes=40,
        )
    )
    for _ in twin.run():
        pass
    f = twin.truth.faults[0]
    volts = next(
        s.id for s in twin.series if s.metric == "battery_voltage" and s.entity_id == "pwr-0002"
    )
    (w,) = [w for w in f.anomalies if w.series_id == volts]
    assert w.start == f.start
    assert w.end == f.end
    assert {w.series_id for w in f.anomalies} == set(f.series_ids)
