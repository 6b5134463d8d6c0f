"""``Member`` and ``Incident`` are built through writable twins of their slots; they must stay
ordinary frozen dataclasses: each field where it belongs, defaults, no writes, copies,
pickles and ``replace``."""

from __future__ import annotations

import copy
import pickle
from dataclasses import FrozenInstanceError, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nocwise.model import (
    Evidence,
    Hypothesis,
    Impact,
    Incident,
    IncidentState,
    Member,
    TimelineEntry,
)

T0 = datetime(2026, 4, 1, tzinfo=UTC)
T1 = T0 + timedelta(minutes=3)


def _incident() -> Incident:
    m = Member("a1", "same-entity", T0, "d", 0.25)
    return Incident(
        "INC-1",
        IncidentState.ACKNOWLEDGED,
        T0,
        T1,
        "linkDown on csr-1",
        (m,),
        (Hypothesis("csr-1", "link", 0.9, (Evidence("k", "s"),)),),
        Impact(("svc",), ("cust",), True, 0.5),
        2,
        (TimelineEntry(T0, "opened", "x"),),
        "csr-1",
    )


def _values(x: Any) -> list[Any]:
    return [getattr(x, f.name) for f in fields(x)]


def test_member_fields_in_place_and_defaults() -> None:
    m = Member("a1", "why", T0, "detail", 0.5)
    assert type(m) is Member
    assert _values(m) == ["a1", "why", T0, "detail", 0.5]
    assert _values(Member("a2", "why", T1)) == ["a2", "why", T1, "", 1.0]
    assert Member(alarm_id="a1", reason="why", added=T0, score=0.5, detail="detail") == m


def test_incident_fields_in_place_and_defaults() -> None:
    i = _incident()
    assert type(i) is Incident
    assert [f.name for f in fields(i)][:5] == ["id", "state", "opened", "updated", "title"]
    assert _values(i)[:5] == ["INC-1", IncidentState.ACKNOWLEDGED, T0, T1, "linkDown on csr-1"]
    assert i.members[0].alarm_id == "a1"
    assert i.hypotheses[0].entity_id == "csr-1"
    assert i.impact == Impact(("svc",), ("cust",), True, 0.5)
    assert (i.priority, i.timeline[0].kind, i.root_entity_id) == (2, "opened", "csr-1")
    bare = Incident("INC-2", IncidentState.OPEN, T0, T0, "t")
    assert _values(bare)[5:] == [(), (), Impact(), 3, (), None]


def test_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        _incident().priority = 1  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        Member("a1", "why", T0).score = 0.0  # type: ignore[misc]


@pytest.mark.parametrize("make", [_incident, lambda: Member("a1", "why", T0, "d", 0.5)])
def test_copies_and_pickles_keep_every_field(make: Any) -> None:
    x = make()
    for other in (copy.copy(x), copy.deepcopy(x), pickle.loads(pickle.dumps(x))):
        assert type(other) is type(x)
        assert _values(other) == _values(x)


def test_replace() -> None:
    i = replace(_incident(), priority=1, title="other")
    assert (i.priority, i.title, i.id, i.root_entity_id) == (1, "other", "INC-1", "csr-1")
    assert replace(Member("a1", "why", T0), score=0.1).score == 0.1
