"""A real Alertmanager groups the twin's alarms; its incidents are scored like nocwise's."""

from __future__ import annotations

import math
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nocwise.bench.alertmanager_peer import (
    DEFAULT_BINARY,
    AlertmanagerMissingError,
    _incidents,
    _Replay,
    alertmanager_version,
    auto_speed,
    run_alertmanager_peer,
)
from nocwise.model import Alarm, Entity, EventType, Relation, Severity
from nocwise.model.topology import Domain, RelationKind
from nocwise.sim import Twin, load_scenario
from nocwise.sim.truth import GroundTruth
from nocwise.topology.graph import TopologyGraph

pytestmark = pytest.mark.integration

T0 = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)


def _binary() -> str:
    path = shutil.which("prometheus-alertmanager") or (
        DEFAULT_BINARY if Path(DEFAULT_BINARY).exists() else None
    )
    if path is None:
        pytest.skip("prometheus-alertmanager is not installed (scripts/install-test-deps.sh)")
    return path


def _alarm(alarm_id: str, mo: str, cause: str, at: int, cleared: int | None = None) -> Alarm:
    return Alarm(
        alarm_id,
        mo,
        EventType.COMMUNICATIONS,
        cause,
        Severity.MAJOR,
        T0 + timedelta(seconds=at),
        cleared_time=None if cleared is None else T0 + timedelta(seconds=cleared),
    )


def test_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    truth = GroundTruth([], frozenset())
    with pytest.raises(AlertmanagerMissingError, match="prometheus-alertmanager"):
        run_alertmanager_peer([], [], truth, timedelta(hours=1), binary=str(tmp_path / "nope"))


def test_version_is_dotted() -> None:
    version = alertmanager_version(_binary())
    assert version.count(".") >= 2, version
    assert version[0].isdigit(), version


def test_same_labels_while_active_are_one_alert_and_region_comes_from_topology() -> None:
    entities = [
        Entity("site-1", "site", Domain.POWER),
        Entity("cell-1", "cell", Domain.RAN),
    ]
    graph = TopologyGraph(entities, [Relation("site-1", "cell-1", RelationKind.CONTAINS)])
    alarms = [
        _alarm("a", "cell-1", "linkDown", 0),
        _alarm("b", "cell-1", "linkDown", 10),  # same labels, still active: deduplicated
        _alarm("a", "cell-1", "linkDown", 0, cleared=20),
        _alarm("b", "cell-1", "linkDown", 10, cleared=30),
        _alarm("c", "cell-1", "linkDown", 40),  # after both cleared: a new alert
    ]
    replay = _Replay.build(alarms, graph)
    assert replay.alias == {"a": "a", "b": "a", "c": "c"}
    assert [(p[1], p[2]) for p in replay.posts] == [(True, "a"), (False, "a"), (True, "c")]
    assert replay.posts[0][3]["region"] == "site-1"
    assert replay.posts[1][0] == T0 + timedelta(seconds=30)  # resolved when the last one clears
    assert {i: n for i, (n, _) in replay.ready.items()} == {"a": 1, "b": 1, "c": 3}


def test_an_incident_runs_from_first_firing_to_resolved_per_group_key() -> None:
    ka, kb, kc = ((("alertname", x),) for x in "abc")

    def note(group: str, status: str, *keys: tuple[tuple[str, str], ...]) -> dict[str, object]:
        alerts = [{"labels": dict(k)} for k in keys]
        return {"groupKey": group, "status": status, "alerts": alerts}

    received = [
        (T0, 1, note("g1", "firing", ka)),
        (T0 + timedelta(minutes=5), 2, note("g1", "firing", ka, kb)),
        (T0 + timedelta(minutes=6), 3, note("g2", "firing", kc)),
        (T0 + timedelta(minutes=10), 3, note("g1", "resolved", ka, kb)),
        (T0 + timedelta(minutes=20), 5, note("g1", "firing", ka)),
    ]
    ready = {
        "a1": (1, ka),
        "a2": (2, ka),  # re-raised before the alert left the group: the same alert
        "b": (2, kb),
        "c": (3, kc),
        "a3": (5, ka),  # raised after the group resolved: a new incident
        "never": (4, (("alertname", "x"),)),
    }
    incs = _incidents(received, ready)
    assert [(set(i.alarm_ids), i.opened) for i in incs] == [
        ({"a1", "a2", "b"}, T0),
        ({"c"}, T0 + timedelta(minutes=6)),
        ({"a3"}, T0 + timedelta(minutes=20)),
    ]


def test_auto_speed_slows_down_for_a_storm() -> None:
    calm = [T0 + timedelta(minutes=i) for i in range(60)]
    storm = calm + [T0 + timedelta(minutes=10, seconds=i / 100) for i in range(3000)]
    assert auto_speed(calm, timedelta(minutes=5)) == 1000.0
    assert auto_speed(storm, timedelta(minutes=5)) == 10.0
    assert auto_speed([], timedelta(minutes=5)) == 1000.0


@pytest.mark.slow
def test_demo_twin_through_a_real_alertmanager() -> None:
    binary = _binary()
    scenario = load_scenario("demo")
    twin = Twin(scenario)
    alarms = [a for step in twin.run() for a in step.alarms]
    before = set(_alertmanager_processes())
    out = run_alertmanager_peer(
        alarms,
        twin.entities,
        twin.truth,
        scenario.duration,
        binary=binary,
        relations=twin.relations,
    )
    assert out["alarms"] == len({a.alarm_id for a in alarms})
    assert 1 <= out["incidents"] <= out["alarms_notified"] <= out["alarms"]
    assert out["compression"] == pytest.approx(1 - out["incidents"] / out["alarms"])
    assert -1.0 <= out["ari"] <= 1.0
    assert not math.isnan(out["ari"])
    assert out["false_incidents_per_day"] >= 0
    assert out["notifications"] >= out["incidents"]
    assert out["speed"] == 1000.0  # the demo is calm enough for the fastest replay
    assert out["alerts_per_s"] > 0
    assert out["peak_rss_mib"] > 1
    # every fault of the demo raises alarms that outlive group_wait, so each one is paged
    assert all(out[f"detection_rate.{f.fault_type}"] == 1.0 for f in twin.truth.faults)
    left = set(_alertmanager_processes()) - before
    assert not left, "the Alertmanager process was left running"


def _alertmanager_processes() -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"nocwise-am-peer-" in cmdline:
                pids.append(int(proc.name))
    return pids
