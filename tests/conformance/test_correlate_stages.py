"""Shared checks over every registered correlation stage (ids ``kind:check``).

A stage is under these checks as soon as it is in ``nocwise.correlate.registry.STAGES``; the
completeness test fails on a stage class that is not registered.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import pytest

import nocwise.correlate
from nocwise.correlate.base import Stage, StageOutput, Verdict
from nocwise.correlate.registry import STAGES, build_stage, restore_stage
from nocwise.correlate.synthetic import access_network, clear_alarm, raise_alarm
from nocwise.model import Alarm, Severity
from nocwise.topology.graph import TopologyGraph

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
S = timedelta(seconds=1)
TOPO = TopologyGraph(*access_network(12))


def scenario() -> list[Alarm]:
    """Raises, a duplicate, a flapping link, a planned outage, parent and children, clears."""
    out: list[Alarm] = []
    parent = raise_alarm("p", "s1/gnb", "gnbDown", T0, Severity.CRITICAL)
    kids = [raise_alarm(f"k{i}", f"s1/cell{i}", "cellDown", T0 + S) for i in range(3)]
    out += [kids[0], parent, kids[1], kids[2]]
    out.append(raise_alarm("dup", "s1/gnb", "gnbDown", T0 + 2 * S, Severity.CRITICAL))
    for i in range(6):
        f = raise_alarm(f"f{i}", "s2/link", "lossOfSignal", T0 + (10 + 2 * i) * S)
        out += [f, clear_alarm(f, T0 + (11 + 2 * i) * S)]
    out.append(raise_alarm("po", "s3/csr", "linkDown", T0 + 30 * S, planned=True))
    out.append(raise_alarm("x", "s4/csr", "fanFailure", T0 + 31 * S, Severity.MINOR))
    out += [clear_alarm(kids[1], T0 + 40 * S), clear_alarm(parent, T0 + 41 * S)]
    out.append(clear_alarm(raise_alarm("ghost", "s5/csr", "linkDown", T0), T0 + 42 * S))
    return out


def run(stage: Stage, alarms: list[Alarm]) -> list[StageOutput]:
    mid = len(alarms) // 2
    return [
        stage.process(alarms[:mid], T0 + 20 * S),
        stage.tick(T0 + 25 * S),
        stage.process(alarms[mid:], T0 + 60 * S),
        stage.tick(T0 + timedelta(hours=2)),
    ]


def check_input_unchanged(kind: str) -> None:
    alarms = scenario()
    before = copy.deepcopy(alarms)
    run(build_stage(kind, TOPO), alarms)
    assert alarms == before


def check_clear_always_passes(kind: str) -> None:
    stage = build_stage(kind, TOPO)
    for out, batch in zip(run(stage, scenario())[::2], _halves(scenario()), strict=True):
        for a in batch:
            if a.is_cleared:
                assert a.alarm_id in {p.alarm_id for p in out.passed if p.is_cleared}, a.alarm_id


def check_deterministic(kind: str) -> None:
    assert run(build_stage(kind, TOPO), scenario()) == run(build_stage(kind, TOPO), scenario())


def check_every_held_alarm_has_a_reason(kind: str) -> None:
    stage = build_stage(kind, TOPO)
    for out, batch in zip(run(stage, scenario())[::2], _halves(scenario()), strict=True):
        passed = {id(a) for a in out.passed} | {a.alarm_id for a in out.passed}
        for a in batch:
            if id(a) in passed or a.alarm_id in passed:
                continue
            mine = [
                d
                for d in out.decisions
                if d.alarm_id == a.alarm_id and d.verdict is not Verdict.NOTE
            ]
            assert mine, f"{a.alarm_id} neither passed nor explained"
    for out in run(build_stage(kind, TOPO), scenario()):
        for d in out.decisions:
            assert isinstance(d.reason, StrEnum)
            assert d.stage == kind
            assert d.alarm_id
            assert d.evidence, f"{d.reason} without evidence"


def check_empty_input_gives_empty_output(kind: str) -> None:
    stage = build_stage(kind, TOPO)
    assert stage.process([], T0) == StageOutput()
    assert stage.tick(T0) == StageOutput()


def check_state_round_trip_mid_stream(kind: str) -> None:
    alarms = scenario()
    mid = len(alarms) // 2
    live = build_stage(kind, TOPO)
    live.process(alarms[:mid], T0 + 20 * S)
    restored = restore_stage(kind, live, TOPO)
    assert restored.to_state().schema == live.to_state().schema
    later = T0 + 60 * S
    assert restored.process(alarms[mid:], later).passed == live.process(alarms[mid:], later).passed
    assert (
        restored.tick(T0 + timedelta(hours=2)).passed == live.tick(T0 + timedelta(hours=2)).passed
    )


def _halves(alarms: list[Alarm]) -> list[list[Alarm]]:
    mid = len(alarms) // 2
    return [alarms[:mid], alarms[mid:]]


CHECKS: list[Callable[[str], None]] = [
    check_input_unchanged,
    check_clear_always_passes,
    check_deterministic,
    check_every_held_alarm_has_a_reason,
    check_empty_input_gives_empty_output,
    check_state_round_trip_mid_stream,
]


@pytest.mark.parametrize(
    ("kind", "check"),
    [pytest.param(k, c, id=f"{k}:{c.__name__}") for k in sorted(STAGES) for c in CHECKS],
)
def test_stage(kind: str, check: Callable[[str], None]) -> None:
    check(kind)


def test_every_stage_class_is_registered() -> None:
    found: set[str] = set()
    for info in pkgutil.iter_modules(nocwise.correlate.__path__, "nocwise.correlate."):
        if info.ispkg:
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            if all(hasattr(cls, m) for m in ("process", "tick", "to_state", "from_state", "kind")):
                found.add(cls.kind)
    assert found == set(STAGES)
