"""Snapshots of a draft reuse and extend the last members list; they must always list the
members in the draft's own order, whatever changed between two snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from nocwise.correlate.incidents import IncidentDraft
from nocwise.model import Impact, Member

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _draft() -> IncidentDraft:
    return IncidentDraft("INC-1", T0, T0, T0, T0)


def _member(aid: str, k: int) -> Member:
    return Member(aid, "same-entity", T0 + timedelta(seconds=k), f"d{k}", 1.0 / (k + 1))


def test_freeze_before_any_member_is_empty() -> None:
    assert _draft().freeze(Impact(), 3).members == ()


def test_unchanged_members_share_the_last_tuple() -> None:
    d = _draft()
    d.set_member(_member("a1", 1))
    first = d.freeze(Impact(), 3).members
    assert d.freeze(Impact(), 2).members is first


def test_joins_extend_the_last_tuple_in_order() -> None:
    d = _draft()
    d.set_member(_member("a1", 1))
    d.freeze(Impact(), 3)
    d.set_member(_member("a2", 2))
    d.set_member(_member("a3", 3))
    assert d.freeze(Impact(), 3).members == tuple(d.members.values())
    assert [m.alarm_id for m in d.freeze(Impact(), 3).members] == ["a1", "a2", "a3"]


def test_replace_keeps_the_position_and_takes_the_new_member() -> None:
    d = _draft()
    for k in range(3):
        d.set_member(_member(f"a{k}", k))
    d.freeze(Impact(), 3)
    moved = _member("a1", 9)
    d.set_member(moved)
    d.set_member(_member("a3", 3))
    members = d.freeze(Impact(), 3).members
    assert [m.alarm_id for m in members] == ["a0", "a1", "a2", "a3"]
    assert members[1] is moved


@pytest.mark.parametrize(("seed", "join"), [(7, 0.5), (11, 0.6)])
def test_random_changes_always_snapshot_the_dict(seed: int, join: float) -> None:
    """Seeded mix of joins, replacements, removals, clears and snapshots. Snapshots share one
    list while members only join; each must still list the members it was taken with,
    whatever changed after it."""
    rng = np.random.default_rng(seed)
    d = _draft()
    taken: list[tuple[tuple[Member, ...], Sequence[Member]]] = []
    for k in range(2000):
        u = rng.random()
        aid = f"a{int(rng.integers(60))}"
        if u < join:
            d.set_member(_member(aid, k))
        elif u < 0.7 and aid in d.members:
            d.pop_member(aid)
        elif u < 0.72:
            d.clear_members()
        else:
            members = d.freeze(Impact(), 3).members
            assert members == tuple(d.members.values())
            taken.append((tuple(d.members.values()), members))
    assert d.freeze(Impact(), 3).members == tuple(d.members.values())
    assert len(taken) > 100
    for expected, members in taken:
        assert members == expected
        assert tuple(members) == expected


def test_joins_only_share_one_list() -> None:
    d = _draft()
    d.set_member(_member("a1", 1))
    first = d.freeze(Impact(), 3).members
    d.set_member(_member("a2", 2))
    second = d.freeze(Impact(), 3).members
    assert len(first) == 1
    assert len(second) == 2
    assert first._items is second._items  # type: ignore[attr-defined]
