"""`nocwise bench twin --scenario`: which scenario runs, and a short storm scored end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nocwise import cli
from nocwise.bench import twin
from nocwise.bench.options import BenchOptions
from nocwise.bench.report import BenchReport, NullProgress, now_utc
from nocwise.correlate.synthetic import raise_alarm
from nocwise.model import Incident, IncidentState, Member

STORM = """
name: tiny_storm
seed: 3
size: small
start: "2026-01-06T09:00:00+00:00"
duration: 20m
step: 60s
faults:
  - {type: fibre_cut, at: 2m, duration: 15m, where: {role: uplink, shared_duct: "true"}}
noise: {level: 1.0}
"""


def test_scenario_defaults_to_mixed_and_demo_when_quick() -> None:
    assert twin.scenario_name(BenchOptions()) == "mixed"
    assert twin.scenario_name(BenchOptions(quick=True)) == "demo"
    assert twin.scenario_name(BenchOptions(quick=True, scenario="storm")) == "storm"


def test_a_storm_scenario_file_is_run_and_scored(tmp_path: Path) -> None:
    path = tmp_path / "tiny_storm.yaml"
    path.write_text(STORM)
    report = twin.run(BenchOptions(scenario=str(path), peers=False), NullProgress())
    assert report.config["scenario"] == "tiny_storm"
    s = report.summary
    assert s["faults"] == 1.0
    assert s["incidents"] < s["alarms"] / 10  # the storm is a handful of incidents
    (fault,) = report.items
    assert fault["detected"]
    assert s["ari"] > 0.5  # one incident holds most of it (every alarm alone scores 0)
    assert s["ari_duplicates_credited"] >= s["ari"] - 0.05
    assert s["false_incidents_per_day"] >= 0.0


def test_the_cli_passes_the_scenario_through(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[BenchOptions] = []

    def fake(options: BenchOptions, progress: object) -> BenchReport:
        seen.append(options)
        return BenchReport(suite="twin", started=now_utc(), config={})

    monkeypatch.setattr("nocwise.bench.registry.load", lambda name: fake)
    result = CliRunner().invoke(cli.app, ["bench", "twin", "--scenario", "storm", "--no-peers"])
    assert result.exit_code == 0, result.output
    assert seen[0].scenario == "storm"
    assert not seen[0].peers


def test_foreseen_is_the_earliest_prediction_raised_before_the_incident_opened() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    early = raise_alarm("p1", "disk-1", "thresholdCrossed", t0, source="nocwise-forecast")
    later = raise_alarm("p2", "disk-1", "thresholdCrossed", t0 + timedelta(minutes=20))
    after = raise_alarm("p3", "disk-1", "thresholdCrossed", t0 + timedelta(hours=2))
    opened = t0 + timedelta(hours=1)

    def incident(iid: str, *ids: str, reason: str = "advisory_member") -> Incident:
        members = tuple(Member(a, reason, opened) for a in ids)
        return Incident(iid, IncidentState.OPEN, opened, opened, "x", members=members)

    riders = {a.alarm_id: a for a in (early, later, after)}
    got = twin.foreseen(
        [
            incident("i1", "p1", "p2", "p3"),
            incident("i2", "p3"),  # raised after the incident opened: foresaw nothing
            incident("i3", "p1", reason="topology"),  # not a prediction riding on it
        ],
        riders,
    )
    assert got == {"i1": 3600.0}
