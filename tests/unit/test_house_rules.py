"""Rules of the house that a reviewer would otherwise have to remember (DESIGN §6)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "nocwise"

# Where the process meets the world and may read the wall clock.
EDGES = ("clock.py", "cli.py", "bench/")
WALL_CLOCK = re.compile(r"datetime\.now\(|datetime\.utcnow\(|\btime\.time\(\)|date\.today\(\)")
PICKLE = re.compile(r"^\s*(import pickle|from pickle|import dill|import jsonpickle)", re.M)


def _sources() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_core_code_never_reads_the_wall_clock() -> None:
    offenders = [
        f"{p.relative_to(SRC)}:{n}"
        for p in _sources()
        if not str(p.relative_to(SRC)).startswith(EDGES)
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if WALL_CLOCK.search(line)
    ]
    assert offenders == [], "use an injected Clock: " + ", ".join(offenders)


def test_model_state_is_never_pickled() -> None:
    offenders = [str(p.relative_to(SRC)) for p in _sources() if PICKLE.search(p.read_text())]
    assert offenders == []


def test_every_module_says_why_it_exists() -> None:
    missing = [
        str(p.relative_to(SRC))
        for p in _sources()
        if p.stat().st_size > 0
        and "migrations" not in p.parts
        and not p.name.endswith("_pb2.py")
        and not p.read_text().lstrip().startswith(('"""', 'r"""', "#"))
    ]
    assert missing == []
