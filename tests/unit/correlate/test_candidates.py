"""Candidate search: the index's shortcuts answer as the plain index does.

A member on an entity its incident is already indexed on (whole path) costs no walk of that
path again. These tests drive an index through seeded random changes (members on new entities, depths shrinking, incidents leaving the index
or rebuilt in it, events moving the window, members clearing) and check every answer against the scan, order
included (it decides which incidents survive the ``max_candidates`` cut), and check the cut
itself: newest first, incidents gone quiet skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from nocwise.correlate.candidates import CandidateIndex
from nocwise.correlate.incidents import IncidentDraft
from nocwise.correlate.synthetic import access_network
from nocwise.topology.graph import TopologyGraph

WINDOW = timedelta(minutes=10)
FOLLOW = timedelta(hours=1)


def _index(topo: TopologyGraph, drafts: dict[str, IncidentDraft], cap: int) -> CandidateIndex:
    return CandidateIndex(topo, drafts, None, 3, cap, WINDOW, FOLLOW, 0.2, True, 2, 4)


class _Plain(CandidateIndex):
    """The same index without its shortcut: every member walks its entity's whole path."""

    def index_entity(self, d: IncidentDraft, entity: str, max_hops: int | None = None) -> None:
        self._done.clear()
        super().index_entity(d, entity, max_hops)


def _ask(
    index: CandidateIndex, entity: str, at: datetime
) -> tuple[list[tuple[str, int | None]], set[str]]:
    close: set[str] = set()
    found = index.candidates(entity, at, "t", "x", close)
    return list(found.items()), close


@pytest.mark.parametrize(("seed", "cap"), [(0, 32), (1, 3), (2, 2)])
def test_indexing_each_entity_once_answers_as_walking_every_member_does(
    t0: datetime, seed: int, cap: int
) -> None:
    rng = np.random.default_rng(seed)
    topo = TopologyGraph(*access_network(12, sites_per_agg=3))
    kinds = ("cell0", "cell1", "gnb", "csr", "link", "power")
    entities = [f"s{s}/{x}" for s in range(12) for x in kinds] + ["agg0", "agg1", "core"]
    worlds: list[tuple[CandidateIndex, dict[str, IncidentDraft]]] = []
    for kind in (CandidateIndex, _Plain):
        drafts: dict[str, IncidentDraft] = {}
        worlds.append((kind(topo, drafts, None, 3, cap, WINDOW, FOLLOW, 0.2, True, 2, 4), drafts))
    at = t0
    checked = 0
    for step in range(1500):
        at += timedelta(seconds=int(rng.integers(1, 30)))
        u = rng.random()
        live = sorted(i for i, d in worlds[0][1].items() if d.indexed)
        if u < 0.08 or not live:
            for _, drafts in worlds:
                drafts[f"i{step}"] = IncidentDraft(f"i{step}", at, at, at, at)
            live.append(f"i{step}")
        inc = live[int(rng.integers(len(live)))]
        entity = entities[int(rng.integers(len(entities)))]
        about = entity if rng.random() < 0.8 else entities[int(rng.integers(len(entities)))]
        answers = []
        for index, drafts in worlds:
            d = drafts[inc]
            if u < 0.45:  # a member joins: the window moves, the index may grow
                d.last_event = max(d.last_event, at)
                d.set_severity(f"a{step}", 3)
                index.index_member(d, entity, about)
            elif u < 0.5 and d.severity_of:  # a member clears
                d.pop_severity(next(iter(d.severity_of)))
            elif u < 0.53:  # the incident leaves the index
                index.deindex(d)
            elif u < 0.56:  # rebuilt from its members' entities (as after a split)
                index.deindex(d)
                d.index_keys.clear()
                d.indexed = True
                index.index_member(d, entity, entity)
            else:
                answers.append(_ask(index, entity, at))
        if answers:
            assert answers[0] == answers[1]
            checked += 1
    assert checked > 500


def test_a_bucket_over_the_cap_is_scanned_newest_first(t0: datetime, topo: TopologyGraph) -> None:
    drafts: dict[str, IncidentDraft] = {}
    index = _index(topo, drafts, 2)
    for k in range(4):
        at = t0 + timedelta(seconds=k)
        d = drafts[f"i{k}"] = IncidentDraft(f"i{k}", at, at, at, at)
        index.index_member(d, "s1/cell0", "s1/cell0")
    found, _ = _ask(index, "s1/cell0", t0 + timedelta(seconds=5))
    assert [inc for inc, _ in found] == ["i3", "i2"]
    drafts["i3"].last_event = drafts["i2"].last_event = t0 - FOLLOW  # gone quiet long ago
    found, _ = _ask(index, "s1/cell0", t0 + timedelta(seconds=5))
    assert [inc for inc, _ in found] == ["i1", "i0"]
