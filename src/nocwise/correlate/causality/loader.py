"""Read the PCIC 2021 telecom alarm layout: ``Alarm.csv``, ``DAG.csv``, optional ``Topology.csv``.

``DAG.csv`` rows are causes and columns effects (``DAG[i, j] = 1`` means type i causes type j).
``Topology.csv`` is a symmetric device adjacency; when it is absent every device stands alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from nocwise.correlate.causality.events import AlarmEvents
from nocwise.model.errors import InvalidRecordError

ALARM_COLUMNS = ("alarm_id", "device_id", "start_timestamp", "end_timestamp")


@dataclass(frozen=True, slots=True)
class AlarmDataset:
    """One PCIC data set: events, the expert DAG (K x K, rows = causes) and the topology."""

    name: str
    events: AlarmEvents
    dag: npt.NDArray[np.int64]
    topology: npt.NDArray[np.bool_] | None
    n_types: int
    n_devices: int


def is_dataset_dir(path: Path) -> bool:
    """A folder holding both ``Alarm.csv`` and ``DAG.csv``."""
    return (path / "Alarm.csv").is_file() and (path / "DAG.csv").is_file()


def find_datasets(root: Path) -> list[Path]:
    """``root`` itself when it is a data set, else every data-set folder below it (sorted)."""
    if is_dataset_dir(root):
        return [root]
    return sorted(p.parent for p in root.rglob("Alarm.csv") if is_dataset_dir(p.parent))


def parse_alarm_csv(text: str) -> AlarmEvents:
    """Parse ``Alarm.csv`` text; the header must name the four PCIC columns."""
    lines = text.strip().splitlines()
    if not lines:
        raise InvalidRecordError("Alarm.csv is empty")
    header = tuple(c.strip() for c in lines[0].split(","))
    if header[:4] != ALARM_COLUMNS:
        raise InvalidRecordError(f"Alarm.csv header must start with {ALARM_COLUMNS}, got {header}")
    if len(lines) == 1:
        empty = np.zeros(0, dtype=np.int64)
        return AlarmEvents(np.zeros(0), empty, empty.copy())
    try:
        rows = np.array([ln.split(",")[:3] for ln in lines[1:]], dtype=np.int64)
    except (ValueError, OverflowError) as exc:
        raise InvalidRecordError(f"Alarm.csv has a non-integer or short row: {exc}") from exc
    if rows.ndim != 2 or rows.shape[1] != 3:
        raise InvalidRecordError("Alarm.csv rows must have at least three columns")
    return AlarmEvents(rows[:, 2].astype(np.float64), rows[:, 0].copy(), rows[:, 1].copy())


def parse_matrix_csv(text: str) -> npt.NDArray[np.int64]:
    """Parse a square 0/1 matrix written without header or index."""
    try:
        rows = [[int(v) for v in ln.split(",")] for ln in text.strip().splitlines()]
        mat = np.array(rows, dtype=np.int64)
    except (ValueError, OverflowError) as exc:
        raise InvalidRecordError(f"matrix csv is not a rectangle of small integers: {exc}") from exc
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1]:
        raise InvalidRecordError(f"matrix csv must be square, got shape {mat.shape}")
    return mat


def load_dataset(path: Path) -> AlarmDataset:
    """Load one PCIC data-set folder."""
    events = parse_alarm_csv((path / "Alarm.csv").read_text())
    dag = parse_matrix_csv((path / "DAG.csv").read_text())
    topo_file = path / "Topology.csv"
    topology = parse_matrix_csv(topo_file.read_text()) != 0 if topo_file.is_file() else None
    n_types = max(dag.shape[0], int(events.alarm_type.max(initial=-1)) + 1)
    n_devices = int(events.device.max(initial=-1)) + 1
    if topology is not None:
        n_devices = max(n_devices, topology.shape[0])
    return AlarmDataset(path.name, events, dag, topology, n_types, n_devices)
