"""``Decision`` is built through a writable twin of its slots; it must stay an ordinary frozen
dataclass: every field where it belongs, defaults, no writes, copies, pickles and ``replace``."""

from __future__ import annotations

import copy
import pickle
from dataclasses import FrozenInstanceError, fields, replace
from enum import StrEnum

import pytest

from nocwise.correlate.base import Decision, Verdict
from nocwise.model import Evidence


class _Why(StrEnum):
    ONE = "one"
    TWO = "two"


EV = (Evidence("k", "summary", {"x": 1}),)


def test_each_field_lands_in_its_slot() -> None:
    d = Decision("group", _Why.ONE, EV, "a7", Verdict.HOLD)
    assert type(d) is Decision
    assert (d.stage, d.reason, d.evidence, d.alarm_id, d.verdict) == (
        "group",
        _Why.ONE,
        EV,
        "a7",
        Verdict.HOLD,
    )
    assert [f.name for f in fields(d)] == ["stage", "reason", "evidence", "alarm_id", "verdict"]


def test_keywords_and_defaults() -> None:
    d = Decision(stage="noise", reason=_Why.TWO, alarm_id="a1")
    assert (d.evidence, d.verdict, d.passes) == ((), Verdict.NOTE, True)
    assert d == Decision("noise", _Why.TWO, (), "a1")
    assert not Decision("mute", _Why.ONE, verdict=Verdict.ABSORB).passes
    with pytest.raises(TypeError):
        Decision("noise")  # type: ignore[call-arg]


def test_frozen() -> None:
    d = Decision("group", _Why.ONE)
    with pytest.raises(FrozenInstanceError):
        d.stage = "other"  # type: ignore[misc]


def test_copies_pickles_and_replace_keep_every_field() -> None:
    d = Decision("group", _Why.ONE, EV, "a7", Verdict.ABSORB)
    for other in (copy.copy(d), copy.deepcopy(d), pickle.loads(pickle.dumps(d))):
        assert other == d
        assert type(other) is Decision
    r = replace(d, alarm_id="a8")
    assert (r.alarm_id, r.stage, r.evidence, r.verdict) == ("a8", "group", EV, Verdict.ABSORB)
