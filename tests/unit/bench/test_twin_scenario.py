"""`nocwise bench twin --scenario`: which scenario runs, and a short storm scored end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nocwise import cli
from nocwise.bench import twin
from nocwise.bench.options import BenchOptions
from nocwise.bench.report import BenchReport, NullProgress, now_utc

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
