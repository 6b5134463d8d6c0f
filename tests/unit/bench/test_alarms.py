"""The alarms suite on a slice of a PCIC data set: report shape, peer, per-data-set items."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nocwise.bench.alarms import run, score_edges, time_shifted
from nocwise.bench.options import BenchOptions
from nocwise.bench.report import NullProgress
from nocwise.correlate.causality.loader import load_dataset

MICROWAVE = "alarms/pcic2021_telecom_alarms/24V_439N_Microwave"
WIRELESS = "alarms/pcic2021_telecom_alarms/18V_55N_Wireless"


def slice_of(source: Path, target: Path, rows: int) -> Path:
    """Copy the first ``rows`` alarms plus the DAG and topology into ``target``."""
    target.mkdir(parents=True)
    lines = (source / "Alarm.csv").read_text().splitlines()[: rows + 1]
    (target / "Alarm.csv").write_text("\n".join(lines) + "\n")
    for name in ("DAG.csv", "Topology.csv"):
        if (source / name).is_file():
            (target / name).write_text((source / name).read_text())
    return target


def test_score_edges_ignores_self_loops() -> None:
    truth = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    found = np.array([[1, 1, 1], [0, 0, 0], [0, 0, 0]], dtype=bool)
    scores = score_edges(found, truth)
    assert scores["precision"] == 0.5
    assert scores["recall"] == 0.5
    assert scores["edges_found"] == 2


@pytest.mark.slow
def test_runs_each_data_set_in_a_folder(shared_data: Path, tmp_path: Path) -> None:
    slice_of(shared_data / MICROWAVE, tmp_path / "24V_slice", 4000)
    slice_of(shared_data / WIRELESS, tmp_path / "18V_slice", 4000)
    report = run(BenchOptions(data=tmp_path), NullProgress())
    assert [item["dataset"] for item in report.items] == ["18V_slice", "24V_slice"]
    for name in ("18V_slice", "24V_slice"):
        for metric in ("f1", "precision", "recall", "seconds"):
            assert report.summary[f"{metric}_{name}"] >= 0.0
            assert f"{metric}_{name}" in report.peers["cooccurrence_lift"]
    assert report.summary["f1_mean"] > 0.1
    row = report.items[1]
    assert row["edges_true"] == 137
    assert {"precision", "recall", "f1", "seconds", "edges_found"} <= row.keys()
    assert row["null_edges"] < row["edges_found"]


def test_time_shifted_null_keeps_each_type_and_device(shared_data: Path, tmp_path: Path) -> None:
    ds = load_dataset(slice_of(shared_data / WIRELESS, tmp_path / "s", 800))
    null = time_shifted(ds, seed=3)
    assert np.all(np.diff(null.events.ts) >= 0)
    assert sorted(zip(null.events.alarm_type, null.events.device, strict=True)) == sorted(
        zip(ds.events.alarm_type, ds.events.device, strict=True)
    )
    assert not np.array_equal(null.events.alarm_type, ds.events.alarm_type)


def test_a_single_data_set_folder_is_one_item(shared_data: Path, tmp_path: Path) -> None:
    folder = slice_of(shared_data / WIRELESS, tmp_path / "one", 1500)
    report = run(BenchOptions(data=folder, peers=False), NullProgress())
    assert [item["dataset"] for item in report.items] == ["one"]
    assert report.summary["f1_mean"] == report.summary["f1_one"]
    assert report.peers == {}


def test_a_missing_data_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        run(BenchOptions(data=tmp_path), NullProgress())
