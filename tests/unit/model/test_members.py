"""``Members`` is an incident snapshot's member list shared with later snapshots: it must read,
compare, hash, copy and pickle like the tuple of the same members."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime, timedelta

import pytest

from nocwise.model import Incident, IncidentState, Member, Members
from nocwise.model.codec import incident_from_dict, incident_to_dict

T0 = datetime(2026, 4, 1, tzinfo=UTC)


def _m(k: int) -> Member:
    return Member(f"a{k}", "same-entity", T0 + timedelta(seconds=k), f"d{k}", 1.0 / (k + 1))


def _shared() -> tuple[list[Member], Members, tuple[Member, ...]]:
    """A view of the first 4 of a list that has grown to 6 since, and the tuple it stands for."""
    items = [_m(k) for k in range(6)]
    return items, Members.prefix(items, 4), tuple(items[:4])


def test_reads_like_the_tuple_of_its_prefix() -> None:
    _, view, t = _shared()
    assert len(view) == 4
    assert bool(view)
    assert not Members()
    assert list(view) == list(t)
    assert list(reversed(view)) == list(reversed(t))
    for i in range(-4, 4):
        assert view[i] is t[i]
    for bad in (4, -5):
        with pytest.raises(IndexError):
            view[bad]
    for s in (slice(None), slice(1, 3), slice(None, None, -1), slice(2, 99), slice(-2, None)):
        assert view[s] == t[s]
        assert type(view[s]) is tuple
    assert t[3] in view
    assert _m(4) not in view
    assert _m(5) not in view
    assert view.index(t[2]) == 2
    assert view.count(t[1]) == 1
    assert repr(view) == repr(t)


def test_equal_and_hashed_as_the_tuple() -> None:
    items, view, t = _shared()
    assert view == t
    assert t == view
    assert (view != t) is False
    assert view == Members(t)
    assert view == Members.prefix(items, 4)
    assert view != Members.prefix(items, 5)
    assert view != t[:3]
    assert view != (*t, items[4])
    assert view != list(t)  # like a tuple: never equal to a list
    assert hash(view) == hash(t)
    assert Members() == ()
    assert hash(Members()) == hash(())


def test_the_list_growing_does_not_change_the_view() -> None:
    items, view, t = _shared()
    items.append(_m(9))
    assert view == t
    assert list(view) == list(t)
    assert len(view) == 4


def test_copies_and_pickles_hold_only_the_prefix() -> None:
    items, view, t = _shared()
    for other in (copy.copy(view), copy.deepcopy(view), pickle.loads(pickle.dumps(view))):
        assert type(other) is Members
        assert other == t
    items.append(_m(9))
    assert pickle.loads(pickle.dumps(view)) == t


def test_incidents_with_a_view_or_a_tuple_are_equal_and_encode_alike() -> None:
    _items, view, t = _shared()
    a = Incident("INC-1", IncidentState.OPEN, T0, T0, "t", view)
    b = Incident("INC-1", IncidentState.OPEN, T0, T0, "t", t)
    assert a == b
    assert hash(a) == hash(b)
    assert incident_to_dict(a) == incident_to_dict(b)
    assert incident_from_dict(incident_to_dict(a)) == a
    assert pickle.loads(pickle.dumps(a)) == b
