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


def test_an_incident_runs_from_first_firing_to_resolved_per_group_key() -> None:
    def note(key: str, status: str, *ids: str) -> dict[str, object]:
        return {
            "groupKey": key,
            "status": status,
            "alerts": [{"annotations": {"alarm_id": i}} for i in ids],
        }

    received = [
        (T0, note("g1", "firing", "a")),
        (T0 + timedelta(minutes=5), note("g1", "firing", "a", "b")),
        (T0 + timedelta(minutes=6), note("g2", "firing", "c")),
        (T0 + timedelta(minutes=10), note("g1", "resolved", "a", "b")),
        (T0 + timedelta(minutes=20), note("g1", "firing", "d")),
    ]
    incs = _incidents(received, {"a": "a", "b": "b", "c": "c", "d": "d", "e": "a"})
    assert [(set(i.alarm_ids), i.opened) for i in incs] == [
        ({"a", "b", "e"}, T0),
        ({"c"}, T0 + timedelta(minutes=6)),
        ({"d"}, T0 + timedelta(minutes=20)),
    ]


@pytest.mark.slow
def test_demo_twin_through_a_real_alertmanager() -> None:
    binary = _binary()
    scenario = load_scenario("demo")
    twin = Twin(scenario)
    alarms = [a for step in twin.run() for a in step.alarms]
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
    assert out["alerts_per_s"] > 0
    assert out["peak_rss_mib"] > 1
    # every fault of the demo raises alarms that outlive group_wait, so each one is paged
    assert all(out[f"detection_rate.{f.fault_type}"] == 1.0 for f in twin.truth.faults)
    assert not _alertmanager_processes(), "the Alertmanager process was left running"


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
