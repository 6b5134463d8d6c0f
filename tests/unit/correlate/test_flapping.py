"""Flapping: too many raises/clears in a window become one flapping state; clears still pass."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from nocwise.correlate.base import Verdict
from nocwise.correlate.flapping import FlappingConfig, FlappingReason, FlappingStage
from nocwise.correlate.synthetic import clear_alarm, raise_alarm
from nocwise.model import Alarm

M = timedelta(minutes=1)


def toggles(n_cycles: int, start: datetime, every: timedelta = M) -> list[Alarm]:
    """Raise/clear cycles of one problem, each raise with a new alarm id."""
    out: list[Alarm] = []
    for i in range(n_cycles):
        a = raise_alarm(f"f{i}", "s1/link", "lossOfSignal", start + 2 * i * every)
        out += [a, clear_alarm(a, start + (2 * i + 1) * every)]
    return out


@pytest.mark.parametrize(
    ("cycles", "flapping"),
    [pytest.param(2, False, id="at-limit"), pytest.param(3, True, id="over-limit")],
)
def test_flapping_starts_past_the_transition_limit(
    t0: datetime, cycles: int, flapping: bool
) -> None:
    stage = FlappingStage(FlappingConfig(max_transitions=4, window=timedelta(minutes=10)))
    events = toggles(cycles, t0)
    out = stage.process(events, t0)
    assert any(d.reason is FlappingReason.FLAPPING_STARTED for d in out.decisions) is flapping
    assert all(e in out.passed for e in events if e.is_cleared)


def test_raises_while_flapping_are_held_as_one_state(t0: datetime) -> None:
    stage = FlappingStage(FlappingConfig(max_transitions=4))
    events = toggles(6, t0)
    out = stage.process(events, t0)
    held = [d for d in out.decisions if d.verdict is Verdict.HOLD]
    assert len(held) == 4  # the raise making the 5th transition, and every later one
    assert held[-1].evidence[0].data["transitions"] == 11
    assert len(out.passed) == 2 + 6  # two raises before flapping, every clear


def test_slow_toggling_is_not_flapping(t0: datetime) -> None:
    stage = FlappingStage(FlappingConfig(max_transitions=4, window=timedelta(minutes=10)))
    out = stage.process(toggles(6, t0, every=timedelta(minutes=5)), t0)
    assert out.decisions == []


def test_quiet_period_ends_flapping_and_releases_the_active_alarm(t0: datetime) -> None:
    stage = FlappingStage(FlappingConfig(max_transitions=4, quiet=timedelta(minutes=15)))
    events = toggles(4, t0)
    last = raise_alarm("f-last", "s1/link", "lossOfSignal", t0 + 9 * M)
    out = stage.process([*events, last], t0)
    assert out.decisions[-1].verdict is Verdict.HOLD
    assert stage.tick(t0 + 20 * M).passed == []  # 11 min after the last transition
    released = stage.tick(t0 + 24 * M)
    assert released.passed == [last]
    assert released.decisions[0].reason is FlappingReason.FLAPPING_ENDED
    assert not stage.is_flapping(last.fingerprint)


def test_state_round_trip_continues_identically(t0: datetime) -> None:
    stage = FlappingStage(FlappingConfig(max_transitions=4))
    events = toggles(5, t0)
    stage.process(events[:7], t0)
    copy = FlappingStage.from_state(stage.to_state())
    assert copy.process(events[7:], t0) == stage.process(events[7:], t0)
    assert copy.tick(t0 + timedelta(hours=1)) == stage.tick(t0 + timedelta(hours=1))


def test_watched_keys_are_bounded_and_overflow_is_counted(t0: datetime) -> None:
    stage = FlappingStage(FlappingConfig(max_keys=1))
    a, b = raise_alarm("a", "s1/link", "x", t0), raise_alarm("b", "s2/link", "x", t0)
    out = stage.process([a, b, clear_alarm(b, t0 + M)], t0)
    assert len(out.passed) == 3
    assert stage.overflow == 2
