"""Scenarios: what the twin simulates (size, time span, faults, noise, drift), read from YAML.

Packaged scenarios live in ``nocwise/sim/scenarios/*.yaml`` and load by name; any other path loads
as a file. Durations are written ``90s``, ``10m``, ``2h``, ``3d`` or ``HH:MM:SS``.

>>> parse_duration("1h30m"), parse_duration("00:05:00")
(datetime.timedelta(seconds=5400), datetime.timedelta(seconds=300))
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

SIZES: Mapping[str, int] = {"small": 14, "medium": 1000, "large": 10200}
"""Cell sites per named size: small ≈ 200 entities, medium ≈ 10,000, large ≥ 100,000."""

_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_CLOCK = re.compile(r"\d+(?::\d+){1,2}(?:\.\d+)?")
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


class ScenarioError(ValueError):
    """A scenario file is invalid; the message names the offending path."""


def parse_duration(text: str | int | float) -> timedelta:
    """``90s``, ``10m``, ``1h30m``, ``2d``, ``01:30:00`` or a number of seconds."""
    if isinstance(text, int | float):
        return timedelta(seconds=float(text))
    s = text.strip()
    if ":" in s:
        if not _CLOCK.fullmatch(s):
            raise ScenarioError(f"duration must look like HH:MM:SS, got {text!r}")
        parts = [float(p) for p in s.split(":")]
        secs = 0.0
        for p in parts:
            secs = secs * 60 + p
        return timedelta(seconds=secs)
    pos, total = 0, 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise ScenarioError(f"duration must look like 90s, 10m, 2h, 3d or HH:MM:SS, got {text!r}")
    return timedelta(seconds=total)


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One injected fault: its type, onset (offset from the start) and optional target."""

    type: str
    at: timedelta
    duration: timedelta | None = None
    target: str | None = None
    where: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RandomFaults:
    """Many faults drawn at seeded random times and targets: ``count`` over the whole run."""

    count: int
    types: tuple[str, ...] = ()
    min_duration: timedelta = timedelta(minutes=20)
    max_duration: timedelta = timedelta(hours=3)
    after: timedelta = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class NoiseSpec:
    """Background noise per simulated day at ``level`` 1.0 (counts scale with level and size)."""

    level: float = 1.0
    chatty: int = 6
    flapping: int = 2
    maintenance: int = 1
    harmless_anomalies: int = 4
    syslog_per_router_hour: float = 0.5
    app_logs_per_service_minute: float = 2.0
    traces_per_step: int = 4


@dataclass(frozen=True, slots=True)
class DriftSpec:
    """Slow changes: traffic growth per day, and new sites brought into service mid-run."""

    traffic_growth_per_day: float = 0.002
    new_sites_at: timedelta | None = None
    new_sites_fraction: float = 0.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything that decides a run; the same scenario and seed give the same output."""

    name: str
    seed: int = 0
    size: str = "small"
    sites: int | None = None
    start: datetime = datetime(2026, 1, 5, tzinfo=UTC)
    duration: timedelta = timedelta(hours=1)
    step: timedelta = timedelta(seconds=60)
    faults: tuple[FaultSpec, ...] = ()
    random_faults: RandomFaults | None = None
    noise: NoiseSpec = field(default_factory=NoiseSpec)
    drift: DriftSpec = field(default_factory=DriftSpec)
    description: str = ""

    @property
    def n_sites(self) -> int:
        """Cell sites to build: ``sites`` if given, else the named size."""
        return self.sites if self.sites is not None else SIZES[self.size]

    def with_overrides(self, **changes: Any) -> Scenario:
        """A copy with some fields replaced (CLI overrides)."""
        return replace(self, **changes)


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A packaged scenario by name (``demo``, ``storm``, ``mixed``...) or a YAML file by path."""
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"} or path.exists():
        text = path.read_text()
        default_name = path.stem
    else:
        res = resources.files("nocwise.sim.scenarios") / f"{name_or_path}.yaml"
        if not res.is_file():
            raise ScenarioError(f"no packaged scenario {name_or_path!r}; known: {scenario_names()}")
        text = res.read_text()
        default_name = str(name_or_path)
    raw = yaml.safe_load(text)
    if not isinstance(raw, dict):
        raise ScenarioError(f"{name_or_path}: a scenario must be a mapping")
    return scenario_from_dict(raw, default_name)


def scenario_names() -> list[str]:
    """Names of the packaged scenarios."""
    root = resources.files("nocwise.sim.scenarios")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".yaml"))


def _get(raw: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = raw[key]
    if not isinstance(value, kind):
        raise ScenarioError(f"{where}.{key}: expected {kind}, got {value!r}")
    return value


def _dur(raw: Mapping[str, Any], key: str, where: str) -> timedelta:
    try:
        return parse_duration(raw[key])
    except ScenarioError as exc:
        raise ScenarioError(f"{where}.{key}: {exc}") from None


_FIELDS = {
    "name", "seed", "size", "sites", "start", "duration", "step", "faults", "random_faults",
    "noise", "drift", "description",
}  # fmt: skip


def scenario_from_dict(raw: Mapping[str, Any], default_name: str = "scenario") -> Scenario:
    """Validate a parsed YAML mapping; errors give the path, what was expected and the value."""
    from nocwise.sim.faults import FAULT_TYPES  # late: faults import topology, not scenarios

    unknown = set(raw) - _FIELDS
    if unknown:
        raise ScenarioError(f"scenario: unknown keys {sorted(unknown)}")
    kw: dict[str, Any] = {"name": str(raw.get("name", default_name))}
    if "seed" in raw:
        kw["seed"] = _get(raw, "seed", int, "scenario")
    if "size" in raw:
        size = _get(raw, "size", str, "scenario")
        if size not in SIZES:
            raise ScenarioError(f"scenario.size: expected one of {sorted(SIZES)}, got {size!r}")
        kw["size"] = size
    if "sites" in raw:
        kw["sites"] = _get(raw, "sites", int, "scenario")
        if kw["sites"] < 1:
            raise ScenarioError(f"scenario.sites: expected >= 1, got {kw['sites']}")
    if "start" in raw:
        start = raw["start"]
        if isinstance(start, str):
            start = datetime.fromisoformat(start)
        if not isinstance(start, datetime):
            raise ScenarioError(f"scenario.start: expected an ISO timestamp, got {start!r}")
        kw["start"] = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    for key in ("duration", "step"):
        if key in raw:
            kw[key] = _dur(raw, key, "scenario")
            if kw[key] <= timedelta(0):
                raise ScenarioError(f"scenario.{key}: must be positive, got {raw[key]!r}")
    if "description" in raw:
        kw["description"] = str(raw["description"])
    faults = []
    for i, f in enumerate(raw.get("faults") or []):
        where = f"scenario.faults[{i}]"
        if not isinstance(f, dict) or "type" not in f or "at" not in f:
            raise ScenarioError(f"{where}: expected a mapping with 'type' and 'at', got {f!r}")
        if f["type"] not in FAULT_TYPES:
            raise ScenarioError(
                f"{where}.type: expected one of {sorted(FAULT_TYPES)}, got {f['type']!r}"
            )
        faults.append(
            FaultSpec(
                type=f["type"],
                at=_dur(f, "at", where),
                duration=_dur(f, "duration", where) if f.get("duration") is not None else None,
                target=str(f["target"]) if f.get("target") else None,
                where={str(k): str(v) for k, v in (f.get("where") or {}).items()},
            )
        )
    kw["faults"] = tuple(faults)
    if raw.get("random_faults"):
        rf = raw["random_faults"]
        where = "scenario.random_faults"
        types = tuple(rf.get("types") or sorted(FAULT_TYPES))
        bad = [t for t in types if t not in FAULT_TYPES]
        if bad:
            raise ScenarioError(f"{where}.types: unknown fault types {bad}")
        kw["random_faults"] = RandomFaults(
            count=_get(rf, "count", int, where),
            types=types,
            min_duration=_dur(rf, "min_duration", where)
            if "min_duration" in rf
            else timedelta(minutes=20),
            max_duration=_dur(rf, "max_duration", where)
            if "max_duration" in rf
            else timedelta(hours=3),
            after=_dur(rf, "after", where) if "after" in rf else timedelta(minutes=10),
        )
    if raw.get("noise") is not None:
        n = raw["noise"]
        if not isinstance(n, dict):
            raise ScenarioError(f"scenario.noise: expected a mapping, got {n!r}")
        allowed = set(NoiseSpec.__dataclass_fields__)
        if set(n) - allowed:
            raise ScenarioError(f"scenario.noise: unknown keys {sorted(set(n) - allowed)}")
        kw["noise"] = NoiseSpec(**n)
    if raw.get("drift") is not None:
        d = dict(raw["drift"])
        if "new_sites_at" in d:
            d["new_sites_at"] = _dur(d, "new_sites_at", "scenario.drift")
        allowed = set(DriftSpec.__dataclass_fields__)
        if set(d) - allowed:
            raise ScenarioError(f"scenario.drift: unknown keys {sorted(set(d) - allowed)}")
        kw["drift"] = DriftSpec(**d)
    return Scenario(**kw)
