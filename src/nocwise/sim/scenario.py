"""Scenarios: what the twin simulates (size, time span, faults, noise, drift), read from YAML.

Packaged scenarios live in ``nocwise/sim/scenarios/*.yaml`` and load by name; any other path loads
as a file. Durations are written ``90s``, ``10m``, ``2h``, ``3d`` or ``HH:MM:SS``.

>>> parse_duration("1h30m"), parse_duration("00:05:00")
(datetime.timedelta(seconds=5400), datetime.timedelta(seconds=300))
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
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
    try:
        return _parse_duration(text)
    except (OverflowError, ValueError) as exc:
        if isinstance(exc, ScenarioError):
            raise
        raise ScenarioError(f"duration out of range: {text!r}") from None


def _parse_duration(text: str | int | float) -> timedelta:
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ScenarioError(f"duration must be text or a number of seconds, got {text!r}")
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
    clock_skew_s: float = 0.0
    """Each element manager's clock is off by up to this many seconds (fixed per source)."""


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
    if path.suffix in {".yaml", ".yml"} or path.is_file():  # a folder named "storm" is no scenario
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
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ScenarioError(
            f"{where}.{key}: expected {getattr(kind, '__name__', kind)}, got {value!r}"
        )
    return value


def _dur(raw: Mapping[str, Any], key: str, where: str) -> timedelta:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ScenarioError(f"{where}.{key}: expected a duration such as 10m, got {value!r}")
    try:
        d = parse_duration(value)
    except (ScenarioError, ValueError, OverflowError) as exc:
        raise ScenarioError(f"{where}.{key}: {exc}") from None
    if d < timedelta(0):
        raise ScenarioError(f"{where}.{key}: must not be negative, got {value!r}")
    return d


def _mapping(raw: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = raw[key]
    if not isinstance(value, dict):
        raise ScenarioError(f"{where}.{key}: expected a mapping, got {value!r}")
    return value


def _numbers(
    raw: Mapping[str, Any], where: str, allowed: set[str], durations: Collection[str] = ()
) -> dict[str, Any]:
    unknown = set(raw) - allowed
    if unknown:
        raise ScenarioError(f"{where}: unknown keys {sorted(map(str, unknown))}")
    out: dict[str, Any] = {}
    for k in raw:
        if k in durations:
            out[k] = _dur(raw, k, where)
        else:
            out[k] = _get(raw, k, (int, float), where)
            if out[k] < 0:
                raise ScenarioError(f"{where}.{k}: must not be negative, got {out[k]!r}")
    return out


_FIELDS = {
    "name", "seed", "size", "sites", "start", "duration", "step", "faults", "random_faults",
    "noise", "drift", "description",
}  # fmt: skip


def scenario_from_dict(raw: Mapping[str, Any], default_name: str = "scenario") -> Scenario:
    """Validate a parsed YAML mapping; errors give the path, what was expected and the value."""
    from nocwise.sim.faults import FAULT_TYPES  # late: the fault models import this module's users

    unknown = set(raw) - _FIELDS
    if unknown:
        raise ScenarioError(f"scenario: unknown keys {sorted(map(str, unknown))}")
    kw: dict[str, Any] = {"name": str(raw.get("name", default_name))}
    if "seed" in raw:
        kw["seed"] = _get(raw, "seed", int, "scenario")
    if "size" in raw:
        size = raw["size"]
        if not isinstance(size, str) or size not in SIZES:
            raise ScenarioError(f"scenario.size: expected one of {sorted(SIZES)}, got {size!r}")
        kw["size"] = size
    if "sites" in raw:
        kw["sites"] = _get(raw, "sites", int, "scenario")
        if kw["sites"] < 1:
            raise ScenarioError(f"scenario.sites: expected >= 1, got {kw['sites']}")
    if "start" in raw:
        start = raw["start"]
        try:
            start = datetime.fromisoformat(start) if isinstance(start, str) else start
        except ValueError:
            start = None
        if not isinstance(start, datetime):
            raise ScenarioError(f"scenario.start: expected an ISO timestamp, got {raw['start']!r}")
        kw["start"] = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    for key in ("duration", "step"):
        if key in raw:
            kw[key] = _dur(raw, key, "scenario")
            if kw[key] <= timedelta(0):
                raise ScenarioError(f"scenario.{key}: must be positive, got {raw[key]!r}")
    if "description" in raw:
        kw["description"] = str(raw["description"])
    items = raw.get("faults") or []
    if not isinstance(items, list):
        raise ScenarioError(f"scenario.faults: expected a list, got {items!r}")
    faults = []
    for i, f in enumerate(items):
        where = f"scenario.faults[{i}]"
        if not isinstance(f, dict) or "type" not in f or "at" not in f:
            raise ScenarioError(f"{where}: expected a mapping with 'type' and 'at', got {f!r}")
        if not isinstance(f["type"], str) or f["type"] not in FAULT_TYPES:
            raise ScenarioError(
                f"{where}.type: expected one of {sorted(FAULT_TYPES)}, got {f['type']!r}"
            )
        filt = f.get("where") or {}
        if not isinstance(filt, dict):
            raise ScenarioError(f"{where}.where: expected a mapping, got {filt!r}")
        faults.append(
            FaultSpec(
                type=f["type"],
                at=_dur(f, "at", where),
                duration=_dur(f, "duration", where) if f.get("duration") is not None else None,
                target=str(f["target"]) if f.get("target") else None,
                where={str(k): str(v) for k, v in filt.items()},
            )
        )
    kw["faults"] = tuple(faults)
    if raw.get("random_faults"):
        where = "scenario.random_faults"
        rf = _mapping(raw, "random_faults", "scenario")
        types = rf.get("types") or sorted(FAULT_TYPES)
        if not isinstance(types, list) or any(
            not isinstance(t, str) or t not in FAULT_TYPES for t in types
        ):
            raise ScenarioError(f"{where}.types: expected a list of fault types, got {types!r}")
        if "count" not in rf:
            raise ScenarioError(f"{where}.count: required")
        num = _numbers({k: v for k, v in rf.items() if k != "types"}, where,
                       {"count", "min_duration", "max_duration", "after"}, {"min_duration", "max_duration", "after"})  # fmt: skip
        kw["random_faults"] = RandomFaults(
            count=_get(rf, "count", int, where), types=tuple(types),
            **{k: v for k, v in num.items() if k != "count"},
        )  # fmt: skip
    if raw.get("noise") is not None:
        n = _mapping(raw, "noise", "scenario")
        kw["noise"] = NoiseSpec(
            **_numbers(n, "scenario.noise", set(NoiseSpec.__dataclass_fields__))
        )
    if raw.get("drift") is not None:
        d = _mapping(raw, "drift", "scenario")
        kw["drift"] = DriftSpec(
            **_numbers(d, "scenario.drift", set(DriftSpec.__dataclass_fields__), {"new_sites_at"})
        )
    return Scenario(**kw)
