"""The one shape every `nocwise bench --json` report takes.

A report is one object: ``suite``, ``started``, ``machine``, ``config``, ``summary`` (a flat map
metric -> number), ``peers`` (peer name -> a summary of the same shape) and ``items`` (one row
per file, system, entity or fault). Suites build a :class:`BenchReport`; the CLI writes it.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol


@dataclass(slots=True)
class BenchReport:
    """A benchmark run: what was measured, on what, and the numbers."""

    suite: str
    started: datetime
    config: dict[str, Any]
    summary: dict[str, float] = field(default_factory=dict)
    peers: dict[str, dict[str, float]] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=lambda: machine_info())

    def to_json(self) -> dict[str, Any]:
        """The report as the JSON object of the `--json` contract."""
        return {
            "suite": self.suite,
            "started": self.started.isoformat(),
            "machine": self.machine,
            "config": self.config,
            "summary": {k: _number(v) for k, v in self.summary.items()},
            "peers": {p: {k: _number(v) for k, v in s.items()} for p, s in self.peers.items()},
            "items": self.items,
        }

    def write(self, path: Path) -> None:
        """Write the report atomically (a reader never sees half a file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2, default=str) + "\n")
        os.replace(tmp, path)


def _number(value: float) -> float:
    """JSON has no NaN: a metric that could not be computed is reported as null-like NaN -> None."""
    f = float(value)
    return f if f == f else float("nan")


def machine_info() -> dict[str, Any]:
    """Facts about the machine a figure was measured on."""
    mem_gib: float | None = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem_gib = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return {
        "hostname": platform.node(),
        "cpus": os.cpu_count(),
        "memory_gib": mem_gib,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def now_utc() -> datetime:
    """Benchmarks are an edge: they may read the wall clock to stamp a report."""
    return datetime.now(UTC)


class Progress(Protocol):
    """Where a long-running suite reports progress (a Rich bar in the CLI, nothing in tests)."""

    def start(self, label: str, total: int | None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class NullProgress:
    """Progress that goes nowhere."""

    def start(self, label: str, total: int | None) -> None:
        del label, total

    def advance(self, n: int = 1) -> None:
        del n
