"""Where grouping finds candidate incidents: indexes by topology, region, template and type.

- topology: every incident is indexed under its members' entities and everything they depend on
  (``max_hops`` up, one bucket per depth); an alarm looks up its own entity and dependency path,
  so a shared upstream entity within ``max_hops`` total hops makes a candidate, with that count
  (not a hub with more than ``hub_fanout`` dependents, when that is set);
- region: incidents with a member in the same site or aggregation ring;
- template: incidents holding an alarm with the same masked text;
- type: incidents holding an alarm type the causality model links to the alarm's type.

Buckets are read newest first and at most ``max_candidates`` deep, so a hub (a core router
every incident hangs under) costs a bounded amount per alarm, and no lookup scans the open
alarms. Incidents past the grouping window are skipped until ``deindex`` removes them, except
in the topology index, where an incident with active alarms stays a candidate up to ``follow``.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from datetime import datetime, timedelta

from nocwise.correlate.causal import CachedCausality
from nocwise.correlate.incidents import IncidentDraft
from nocwise.topology.graph import TopologyGraph

# (anchor, hops, index levels to read, sharing it makes neighbours, is a hub), nearest first
Plan = tuple[tuple[str, int, int, bool, bool], ...]
# the plan unrolled for the candidate scan: (anchor, ((level, hops, closely linked), ...))
Scan = tuple[tuple[str, tuple[tuple[int, int, bool], ...]], ...]
Path = tuple[tuple[str, int], ...]
# incident id -> its draft, in insertion order (the newest last)
Bucket = dict[str, IncidentDraft]


class CandidateIndex:
    """The four indexes, kept in step with the incident drafts grouping owns.

    Buckets map incident ids to their drafts (not to None), so the scan reads an incident's
    last event without a second lookup per entry; a draft leaves every bucket in ``deindex``
    before grouping forgets it.
    """

    def __init__(
        self,
        topology: TopologyGraph,
        drafts: dict[str, IncidentDraft],
        causal: CachedCausality | None,
        max_hops: int,
        max_candidates: int,
        window: timedelta,
        follow: timedelta,
        min_causality: float,
        use_templates: bool,
        close_fanout: int = 2,
        hub_fanout: int | None = None,
    ) -> None:
        self._topology = topology
        self._drafts = drafts
        self._causal = causal
        self._max_hops = max_hops
        self._cap = max_candidates
        self._window = window
        self._follow = follow
        self._min_causality = min_causality
        self._use_templates = use_templates
        self._anchor: dict[str, list[Bucket | None]] = {}  # entity -> per depth (None: empty)
        self._by_template: dict[str, Bucket] = {}
        self._by_region: dict[str, Bucket] = {}
        self._by_type: dict[str, Bucket] = {}
        self._related: dict[str, tuple[int, list[str]]] = {}
        self._types_version = 0  # bumped when a type enters or leaves the type index
        self._close_fanout = close_fanout
        self._hub_fanout = hub_fanout if hub_fanout is not None else 1 << 30
        self._small: dict[str, bool] = {}
        self._hub: dict[str, bool] = {}
        # entity -> (plan, scan, region): what an alarm on it reads, static between topology
        # changes. One record per entity rather than three tables: at 10^5 open alarms each
        # look-up in a table of ~10^5 entities is a cache miss, and an alarm asks all three
        self._facts: dict[str, tuple[Plan, Scan, str]] = {}
        # the few distinct per-anchor read lists, shared by every entity's scan
        self._reads: dict[tuple[int, int, bool], tuple[tuple[int, int, bool], ...]] = {}
        # incident -> entities indexed on their whole path while it was indexed (nothing to do
        # when another member arrives there)
        self._done: dict[str, set[str]] = {}
        # when a list: every new depth (incident, anchor, depth) and region entry (incident,
        # region, -1) in the order made, for the batch core to replay
        self.log: list[tuple[str, str, int]] | None = None

    def _entity(self, entity: str) -> tuple[Plan, Scan, str]:
        """The entity's plan, scan and region, computed on first use."""
        hit = self._facts.get(entity)
        if hit is None:
            plan = self._plan(entity)
            hit = self._facts[entity] = (plan, self._scan(plan), self._topology.region(entity))
        return hit

    def region(self, entity: str) -> str:
        """The entity's region (the topology's, memoised here: asked on every join)."""
        return self._entity(entity)[2]

    def in_region(self, incident: str, region: str) -> bool:
        """Whether the incident has a member in ``region``."""
        return incident in self._by_region.get(region, ())

    def index_template(self, d: IncidentDraft, template: str) -> None:
        if d.indexed:
            self._by_template.setdefault(template, {})[d.id] = d

    def index_all(self, d: IncidentDraft, about: Mapping[str, str] | None = None) -> None:
        """Index every entity, template and type of the incident (after loading a snapshot);
        ``about``: member alarm -> the link it is about, when that is not its entity."""
        self.index_members(d, d.entity_of, about or {})
        if d.indexed:
            for t in d.templates:
                self._by_template.setdefault(t, {})[d.id] = d
            for typ in d.types:
                self.index_type(typ, d)

    def _live(self, bucket: Bucket, horizon: datetime) -> list[str]:
        """Up to ``max_candidates`` incidents of an index bucket, newest first, still in window.

        Incidents past the window but not yet de-indexed (that happens in ``tick``) are skipped
        without counting, so the answer does not depend on how often ``tick`` runs.
        """
        out: list[str] = []
        cap = self._cap
        for inc, d in reversed(bucket.items()):
            if d.last_event >= horizon:
                out.append(inc)
                if len(out) >= cap:
                    break
        return out

    def is_hub(self, x: str) -> bool:
        """Whether ``x`` has more than ``hub_fanout`` direct dependents."""
        hit = self._hub.get(x)
        if hit is None:
            hit = self._hub[x] = self._topology.fanout(x) > self._hub_fanout
        return hit

    def _is_close(self, x: str) -> bool:
        """Whether sharing ``x`` makes two entities neighbours: ``x`` has at most ``close_fanout``
        dependents (a point-to-point link between two routers), so it is not a hub."""
        hit = self._small.get(x)
        if hit is None:
            hit = self._small[x] = self._topology.fanout(x) <= self._close_fanout
        return hit

    def plan(self, entity: str) -> Plan:
        """Where to look from an entity: the entity and what it depends on (``max_hops``), each
        as (anchor, hops from the entity, index levels to read, sharing it makes neighbours,
        is a hub). Static between topology changes, so computed once per entity; under a hub
        only the anchor's own level is read (siblings under a hub are not related). Grouping's
        search for an active problem upstream walks the same path."""
        return self._entity(entity)[0]

    def _plan(self, entity: str) -> Plan:
        max_hops = self._max_hops
        path = ((entity, 0), *self._topology.dependency_path(entity, max_hops))
        return tuple(
            (x, d, 1 if d > 0 and hub else max_hops - d + 1, self._is_close(x), hub)
            for x, d in path
            for hub in (self.is_hub(x),)
        )

    def _scan(self, plan: Plan) -> Scan:
        """The plan unrolled into the index levels the candidate scan reads, each with its hop
        count and whether sharing it links closely (the anchor is the entity itself, the
        member is on the anchor, or the anchor is a point-to-point link): computed once per
        entity, so the scan does no arithmetic per level."""
        reads = self._reads
        scan = []
        for x, d, top, small, _ in plan:
            key = (d, top, d == 0 or small)
            shared = reads.get(key)
            if shared is None:
                shared = reads[key] = tuple(
                    (m, d + m, d == 0 or m == 0 or small) for m in range(top)
                )
            scan.append((x, shared))
        return tuple(scan)

    def _path(self, entity: str, hops: int) -> Path | Plan:
        """The entity (at 0) and what it depends on within ``hops``, nearest first (the plan's
        path when ``hops`` is ``max_hops``; only its first two fields are read)."""
        if hops == self._max_hops:
            return self.plan(entity)
        if not hops:
            return ((entity, 0),)
        return ((entity, 0), *self._topology.dependency_path(entity, hops))

    def candidates(
        self,
        entity: str,
        at: datetime,
        template: str,
        typ: str,
        close: set[str] | None = None,
    ) -> dict[str, int | None]:
        """Incident id -> hops (None: no path within ``max_hops``) from the three indexes.

        Each index bucket is read newest first and at most ``max_candidates`` deep, so a hub
        (a core router every incident hangs under) costs a bounded amount per alarm. ``close``,
        when given, receives the incidents linked to the entity closely: along the dependency
        chain either way, or as a sibling under a point-to-point link (``close_fanout``).
        """
        horizon = at - self._window
        far = at - self._follow
        cands: dict[str, int | None] = {}
        _, scan, region_of = self._entity(entity)
        self._scan_into(scan, horizon, far, cands, close)
        region = self._by_region.get(region_of)
        if region:
            for inc in self._live(region, horizon):
                cands.setdefault(inc, None)
        if self._use_templates:
            same = self._by_template.get(template)
            if same:
                for inc in self._live(same, horizon):
                    cands.setdefault(inc, None)
        if self._causal is not None:
            for t in self._related_types(typ):
                for inc in self._live(self._by_type.get(t, {}), horizon):
                    cands.setdefault(inc, None)
        if len(cands) > self._cap:
            beyond = self._max_hops + 1
            cands = dict(
                heapq.nsmallest(
                    self._cap, cands.items(), key=lambda kv: beyond if kv[1] is None else kv[1]
                )
            )
        return cands

    def _scan_into(
        self,
        scan: Scan,
        horizon: datetime,
        far: datetime,
        cands: dict[str, int | None],
        close: set[str] | None,
    ) -> None:
        """Read the topology index level by level, newest first and at most ``max_candidates``
        live incidents per bucket (the hot loop: ``_live`` inlined). An empty level is None, so
        skipping it touches no bucket."""
        anchor, cap = self._anchor, self._cap
        for x, reads in scan:
            levels = anchor.get(x)
            if levels is None:
                continue
            for level, h, near in reads:
                bucket = levels[level]
                if bucket is None:
                    continue
                n = 0
                for inc, dr in reversed(bucket.items()):
                    last = dr.last_event
                    if last < horizon and (last < far or not dr.severity_of):
                        continue
                    prev = cands.get(inc)
                    if prev is None or h < prev:
                        cands[inc] = h
                    if near and close is not None:
                        close.add(inc)
                    n += 1
                    if n >= cap:
                        break

    def index_type(self, typ: str, d: IncidentDraft) -> None:
        bucket = self._by_type.get(typ)
        if bucket is None:
            bucket = self._by_type[typ] = {}
            self._types_version += 1
        bucket[d.id] = d

    def _related_types(self, typ: str) -> list[str]:
        """Types in open incidents that ``typ`` is causally linked with (cached per type set)."""
        assert self._causal is not None
        n = self._types_version
        hit = self._related.get(typ)
        if hit is None or hit[0] != n:
            floor = self._min_causality
            rel = [t for t in self._by_type if self._causal.either_way(typ, t) >= floor]
            hit = self._related[typ] = (n, rel)
        return hit[1]

    def index_members(
        self, d: IncidentDraft, entity_of: Mapping[str, str], about: Mapping[str, str]
    ) -> None:
        """Index the entities of the given members (alarm -> entity), each as ``index_member``."""
        for pair in dict.fromkeys((e, about.get(aid, e)) for aid, e in entity_of.items()):
            self.index_member(d, *pair)

    def index_member(self, d: IncidentDraft, entity: str, about: str) -> None:
        """Index a member on its entity and what that depends on; a member about something
        else (a router's alarm about one of its links) on that thing's path and on the
        reporter itself only, not on every link the reporter depends on."""
        if about == entity:
            self.index_entity(d, entity)
        else:
            self.index_entity(d, entity, 0)
            self.index_entity(d, about)

    def index_entity(self, d: IncidentDraft, entity: str, max_hops: int | None = None) -> None:
        indexed = d.indexed
        if max_hops is None and indexed:
            done = self._done.get(d.id)
            if done is None:
                done = self._done[d.id] = set()
            elif entity in done:
                return  # already on its whole path: depths only shrink until ``deindex``
            done.add(entity)
        keys, log = d.index_keys, self.log
        for step in self._path(entity, self._max_hops if max_hops is None else max_hops):
            x, depth = step[0], step[1]
            old = keys.get(x)
            if old is None or depth < old:
                keys[x] = depth
                if log is not None:
                    log.append((d.id, x, depth))
                if indexed:
                    levels = self._anchor.get(x)
                    if levels is None:
                        levels = self._anchor[x] = [None] * (self._max_hops + 1)
                    if old is not None:
                        _leave(levels, old, d.id)
                    bucket = levels[depth]
                    if bucket is None:
                        levels[depth] = {d.id: d}
                    else:
                        bucket[d.id] = d
        if indexed:
            region = self.region(entity)
            bucket = self._by_region.get(region)
            if bucket is None:
                bucket = self._by_region[region] = {}
            if log is not None and d.id not in bucket:
                log.append((d.id, region, -1))
            bucket[d.id] = d

    def deindex(self, d: IncidentDraft) -> None:
        d.indexed = False
        self._done.pop(d.id, None)
        for x, depth in d.index_keys.items():
            levels = self._anchor.get(x)
            if levels is not None:
                _leave(levels, depth, d.id)
                if not any(levels):
                    del self._anchor[x]
        for t in d.templates:
            hits2 = self._by_template.get(t)
            if hits2 is not None:
                hits2.pop(d.id, None)
                if not hits2:
                    del self._by_template[t]
        for typ in d.types:
            hits4 = self._by_type.get(typ)
            if hits4 is not None:
                hits4.pop(d.id, None)
                if not hits4:
                    del self._by_type[typ]
                    self._types_version += 1
        regions = {self.region(e) for e in d.entity_of.values()}
        regions.update(self.region(x) for x, depth in d.index_keys.items() if not depth)
        for region in regions:
            hits3 = self._by_region.get(region)
            if hits3 is not None:
                hits3.pop(d.id, None)
                if not hits3:
                    del self._by_region[region]


def _leave(levels: list[Bucket | None], depth: int, incident: str) -> None:
    """Take the incident out of one level; a level left empty becomes None (a new bucket
    later starts as empty as this one was, so the order of what it holds is the same)."""
    bucket = levels[depth]
    if bucket is not None:
        bucket.pop(incident, None)
        if not bucket:
            levels[depth] = None
