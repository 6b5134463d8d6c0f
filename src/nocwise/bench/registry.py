"""Suite name -> the module that runs it. Each module exposes
``run(options: BenchOptions, progress: Progress) -> BenchReport``.

Modules are imported lazily so that `nocwise --help` stays fast and a suite's heavy peers
(drain3, river) are loaded only when that suite runs.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import cast

from nocwise.bench.options import BenchOptions
from nocwise.bench.report import BenchReport, Progress

SuiteRunner = Callable[[BenchOptions, Progress], BenchReport]

SUITES: dict[str, str] = {
    "nab": "nocwise.bench.nab",
    "smd": "nocwise.bench.smd",
    "loghub": "nocwise.bench.loghub",
    "hdfs": "nocwise.bench.hdfs",
    "alarms": "nocwise.bench.alarms",
    "twin": "nocwise.bench.twin",
    "twin_logs": "nocwise.bench.twin_logs",
    "throughput": "nocwise.bench.throughput",
    "demo": "nocwise.bench.demo",
    "forecast": "nocwise.bench.forecast",
}


class UnknownSuiteError(LookupError):
    """The suite name is not registered."""


def available() -> list[str]:
    """Registered suites whose module exists in this build."""
    names = []
    for name, module in SUITES.items():
        if importlib.util.find_spec(module) is not None:
            names.append(name)
    return names


def load(name: str) -> SuiteRunner:
    """The runner of a suite, or UnknownSuiteError naming the suites that exist."""
    module = SUITES.get(name)
    if module is None or importlib.util.find_spec(module) is None:
        raise UnknownSuiteError(f"unknown suite {name!r}; available: {', '.join(available())}")
    return cast(SuiteRunner, importlib.import_module(module).run)
