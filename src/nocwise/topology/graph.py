"""An indexed entity graph that suppression, grouping and impact walk.

Edges are stored once as CSR arrays per direction (built with numpy), and each question is a
bounded breadth-first walk over them, cached per entity: an alarm storm asks the same few
questions about the same entities over and over.

Dependency direction ("X depends on Y": when Y is down, X is a symptom) is per relation kind:
``hosted_on``, ``depends_on``, ``connects`` and ``realises`` point from the dependent to what it
depends on (``src`` depends on ``dst``); ``contains`` and ``powers`` point the other way (the
site that contains a gNodeB, the rectifier that powers it, are what it depends on); ``protects``
carries no dependency. The mapping is a constructor argument, so a source whose ``connects``
edges run the other way can say so.

Impact follows TMF638/639: a CFS *realises* RFSs, an RFS *realises* resources, customers
*depend_on* CFSs. An entity hurts every RFS realised by it or by anything that depends on it.

Weak at: redundancy. ``protects`` edges and dual-homing are not modelled, so a node with two
uplinks is reported as depending on both, and impact is the worst case (any path down).

>>> from nocwise.model import Domain, Entity, Relation, RelationKind as K
>>> es = [Entity("site", "site", Domain.POWER), Entity("gnb", "gnodeb", Domain.RAN),
...       Entity("cell", "cell", Domain.RAN)]
>>> g = TopologyGraph(es, [Relation("site", "gnb", K.CONTAINS), Relation("cell", "gnb", K.HOSTED_ON)])
>>> g.dependency_path("cell", 3), g.hops("cell", "site", 4), g.region("cell")
((('gnb', 1), ('site', 2)), 2, 'site')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from nocwise.model import Domain, Entity, Relation, RelationKind


class Direction(StrEnum):
    """Which end of an edge depends on the other."""

    FORWARD = "forward"  # src depends on dst
    BACKWARD = "backward"  # dst depends on src
    NONE = "none"


DEFAULT_DEPENDENCY: Mapping[RelationKind, Direction] = {
    RelationKind.HOSTED_ON: Direction.FORWARD,
    RelationKind.DEPENDS_ON: Direction.FORWARD,
    RelationKind.CONNECTS: Direction.FORWARD,
    RelationKind.REALISES: Direction.FORWARD,
    RelationKind.CONTAINS: Direction.BACKWARD,
    RelationKind.POWERS: Direction.BACKWARD,
    RelationKind.PROTECTS: Direction.NONE,
}

SERVICE_KINDS: frozenset[str] = frozenset({"customer", "cfs", "rfs"})
DEFAULT_REGION_KINDS: tuple[str, ...] = ("site", "agg_router")

_Csr = tuple[list[int], list[int]]


def _csr(src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64], n: int) -> _Csr:
    """Adjacency of ``src -> dst`` as (indptr, indices) lists, neighbours sorted by id."""
    order = np.lexsort((dst, src))
    counts = np.bincount(src, minlength=n)
    indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return indptr.tolist(), dst[order].tolist()


class TopologyGraph:
    """Entities and typed relations, indexed for bounded walks. Immutable once built."""

    def __init__(
        self,
        entities: Iterable[Entity],
        relations: Iterable[Relation],
        dependency: Mapping[RelationKind, Direction] = DEFAULT_DEPENDENCY,
        region_kinds: Sequence[str] = DEFAULT_REGION_KINDS,
    ) -> None:
        self._entities: dict[str, Entity] = {}
        for e in entities:
            self._entities[e.id] = e
        rels = list(relations)
        for r in rels:  # an edge to an unknown id still counts: give it a bare index
            for end in (r.src, r.dst):
                if end not in self._entities:
                    self._entities[end] = Entity(end, "unknown", Domain.IT)
        self._ids: list[str] = list(self._entities)
        self._index: dict[str, int] = {eid: i for i, eid in enumerate(self._ids)}
        self._kinds: list[str] = [self._entities[i].kind for i in self._ids]
        self._region_kinds = frozenset(region_kinds)
        n = len(self._ids)
        src = np.fromiter((self._index[r.src] for r in rels), np.int64, len(rels))
        dst = np.fromiter((self._index[r.dst] for r in rels), np.int64, len(rels))
        kind = [r.kind for r in rels]
        self._out: dict[RelationKind, _Csr] = {}
        self._in: dict[RelationKind, _Csr] = {}
        for k in RelationKind:
            m = np.fromiter((x is k for x in kind), bool, len(rels))
            self._out[k] = _csr(src[m], dst[m], n)
            self._in[k] = _csr(dst[m], src[m], n)
        fwd = np.fromiter(
            (dependency.get(x, Direction.NONE) is Direction.FORWARD for x in kind), bool, len(rels)
        )
        bwd = np.fromiter(
            (dependency.get(x, Direction.NONE) is Direction.BACKWARD for x in kind), bool, len(rels)
        )
        dep_src = np.concatenate((src[fwd], dst[bwd]))  # dependent
        dep_dst = np.concatenate((dst[fwd], src[bwd]))  # what it depends on
        self._dependency = dict(dependency)
        self._up = _csr(dep_src, dep_dst, n)
        self._down = _csr(dep_dst, dep_src, n)
        # direct dependents per entity (distinct, itself excluded): len(dependents(e, 1))
        # without the walk, for the hub tests grouping makes on every entity it meets
        pair = np.unique(dep_dst * n + dep_src) if len(rels) else np.zeros(0, np.int64)
        pair = pair[pair // n != pair % n] if n else pair
        self._fanout: list[int] = np.bincount(pair // n, minlength=n).tolist() if n else []
        service = np.fromiter((k in SERVICE_KINDS for k in self._kinds), bool, n)
        resource_edge = ~(service[src] | service[dst]) if len(rels) else np.zeros(0, bool)
        und_a = np.concatenate((src[resource_edge], dst[resource_edge]))
        und_b = np.concatenate((dst[resource_edge], src[resource_edge]))
        self._undirected = _csr(und_a, und_b, n)
        self._up_cache: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {}
        self._region_cache: dict[str, str] = {}
        self._path_cache: dict[tuple[str, int], tuple[tuple[str, int], ...]] = {}
        self._dependents_cache: dict[tuple[str, int], tuple[tuple[str, int], ...]] = {}
        self._upstream_cache: dict[tuple[str, int], dict[str, int]] = {}
        self._impacted_cache: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self._rfs_of = self._index_rfs()

    # -- lookup ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._index

    def entity(self, entity_id: str) -> Entity | None:
        """The entity, or None when the id is not in the inventory."""
        return self._entities.get(entity_id)

    def kind(self, entity_id: str) -> str:
        """The entity's kind, ``"unknown"`` for ids outside the inventory."""
        e = self._entities.get(entity_id)
        return e.kind if e is not None else "unknown"

    def neighbours(
        self, entity_id: str, kind: RelationKind, outgoing: bool = True
    ) -> tuple[str, ...]:
        """Raw edge ends: ``dst`` of ``entity -kind-> dst`` (or ``src`` when ``outgoing=False``)."""
        i = self._index.get(entity_id)
        if i is None:
            return ()
        indptr, idx = (self._out if outgoing else self._in)[kind]
        return tuple(self._ids[j] for j in idx[indptr[i] : indptr[i + 1]])

    def parents(self, entity_id: str, kind: RelationKind | None = None) -> tuple[str, ...]:
        """What the entity directly depends on (through ``kind`` only, when given)."""
        if kind is None:
            return self._step(entity_id, self._up)
        direction = self._dependency.get(kind, Direction.NONE)
        if direction is Direction.NONE:
            return ()
        return self.neighbours(entity_id, kind, outgoing=direction is Direction.FORWARD)

    def children(self, entity_id: str, kind: RelationKind | None = None) -> tuple[str, ...]:
        """What directly depends on the entity (through ``kind`` only, when given)."""
        if kind is None:
            return self._step(entity_id, self._down)
        direction = self._dependency.get(kind, Direction.NONE)
        if direction is Direction.NONE:
            return ()
        return self.neighbours(entity_id, kind, outgoing=direction is Direction.BACKWARD)

    def _step(self, entity_id: str, csr: _Csr) -> tuple[str, ...]:
        i = self._index.get(entity_id)
        if i is None:
            return ()
        indptr, idx = csr
        return tuple(self._ids[j] for j in idx[indptr[i] : indptr[i + 1]])

    # -- walks ----------------------------------------------------------------------------

    def dependency_path(self, entity_id: str, max_depth: int) -> tuple[tuple[str, int], ...]:
        """Everything the entity depends on within ``max_depth`` hops, nearest first."""
        key = (entity_id, max_depth)
        hit = self._path_cache.get(key)
        if hit is not None:
            return hit
        i = self._index.get(entity_id)
        path: tuple[tuple[str, int], ...] = ()
        if i is not None:
            ids = self._ids
            path = tuple((ids[j], d) for j, d in self._walk(i, max_depth, self._up, self._up_cache))
        self._path_cache[key] = path
        return path

    def upstream(self, entity_id: str, max_depth: int) -> Mapping[str, int]:
        """What the entity depends on, as a mapping to the depth: for "is X upstream of Y?"."""
        key = (entity_id, max_depth)
        hit = self._upstream_cache.get(key)
        if hit is None:
            hit = self._upstream_cache[key] = dict(self.dependency_path(entity_id, max_depth))
        return hit

    def dependents(self, entity_id: str, max_depth: int) -> tuple[tuple[str, int], ...]:
        """Everything that depends on the entity within ``max_depth`` hops, nearest first."""
        key = (entity_id, max_depth)
        hit = self._dependents_cache.get(key)
        if hit is not None:
            return hit
        i = self._index.get(entity_id)
        out: tuple[tuple[str, int], ...] = ()
        if i is not None:
            ids = self._ids
            out = tuple((ids[j], d) for j, d in self._walk(i, max_depth, self._down, {}))
        self._dependents_cache[key] = out
        return out

    def fanout(self, entity_id: str) -> int:
        """How many entities depend on it directly: ``len(dependents(entity_id, 1))``."""
        i = self._index.get(entity_id)
        return 0 if i is None else self._fanout[i]

    def _walk(
        self,
        start: int,
        max_depth: int,
        csr: _Csr,
        cache: dict[tuple[int, int], tuple[tuple[int, int], ...]],
    ) -> tuple[tuple[int, int], ...]:
        key = (start, max_depth)
        hit = cache.get(key)
        if hit is not None:
            return hit
        indptr, idx = csr
        seen = {start}
        frontier = [start]
        out: list[tuple[int, int]] = []
        for depth in range(1, max_depth + 1):
            nxt: list[int] = []
            for i in frontier:
                for j in idx[indptr[i] : indptr[i + 1]]:
                    if j not in seen:
                        seen.add(j)
                        nxt.append(j)
                        out.append((j, depth))
            if not nxt:
                break
            frontier = nxt
        result = tuple(out)
        cache[key] = result
        return result

    def hops(self, a: str, b: str, max_hops: int) -> int | None:
        """Shortest undirected hop count over resource edges, or None beyond ``max_hops``.

        Service-layer edges (customers, CFS, RFS) are left out: two cells that realise the same
        service are not neighbours in the network.
        """
        ia, ib = self._index.get(a), self._index.get(b)
        if ia is None or ib is None:
            return 0 if a == b else None
        if ia == ib:
            return 0
        indptr, idx = self._undirected
        # bidirectional BFS: expand the smaller frontier
        dist_a, dist_b = {ia: 0}, {ib: 0}
        front_a, front_b = [ia], [ib]
        for _ in range(max_hops):
            if len(front_a) > len(front_b):
                front_a, front_b, dist_a, dist_b = front_b, front_a, dist_b, dist_a
            nxt: list[int] = []
            for i in front_a:
                d = dist_a[i] + 1
                for j in idx[indptr[i] : indptr[i + 1]]:
                    if j in dist_b:
                        total = d + dist_b[j]
                        return total if total <= max_hops else None
                    if j not in dist_a:
                        dist_a[j] = d
                        nxt.append(j)
            if not nxt:
                return None
            front_a = nxt
        return None

    def region(self, entity_id: str) -> str:
        """The nearest upstream entity of a region kind (site, aggregation ring), else itself."""
        hit = self._region_cache.get(entity_id)
        if hit is not None:
            return hit
        region = entity_id
        if self.kind(entity_id) not in self._region_kinds:
            for anc, _ in self.dependency_path(entity_id, 8):
                if self.kind(anc) in self._region_kinds:
                    region = anc
                    break
        self._region_cache[entity_id] = region
        return region

    # -- impact ---------------------------------------------------------------------------

    def _index_rfs(self) -> dict[int, frozenset[int]]:
        """entity -> the RFSs it hurts: each RFS's resources and everything they depend on."""
        indptr, idx = self._out[RelationKind.REALISES]
        acc: dict[int, set[int]] = {}
        for r, kind in enumerate(self._kinds):
            if kind != "rfs":
                continue
            for res in idx[indptr[r] : indptr[r + 1]]:
                acc.setdefault(res, set()).add(r)
                for anc, _ in self._walk(res, 64, self._up, {}):
                    if self._kinds[anc] not in SERVICE_KINDS:
                        acc.setdefault(anc, set()).add(r)
        return {k: frozenset(v) for k, v in acc.items()}

    def impacted(self, entity_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(services, customers) hurt when the entity is down: RFSs and CFSs, then customers
        (cached: grouping asks for every entity an incident gains)."""
        hit = self._impacted_cache.get(entity_id)
        if hit is None:
            hit = self._impacted_cache[entity_id] = self._impacted(entity_id)
        return hit

    def _impacted(self, entity_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        i = self._index.get(entity_id)
        if i is None:
            return (), ()
        rfs = self._rfs_of.get(i, frozenset())
        if not rfs:
            return (), ()
        r_ptr, r_idx = self._in[RelationKind.REALISES]
        d_ptr, d_idx = self._in[RelationKind.DEPENDS_ON]
        cfs = {c for r in rfs for c in r_idx[r_ptr[r] : r_ptr[r + 1]] if self._kinds[c] == "cfs"}
        customers = {
            u for c in cfs for u in d_idx[d_ptr[c] : d_ptr[c + 1]] if self._kinds[u] == "customer"
        }
        services = sorted(self._ids[c] for c in cfs) + sorted(self._ids[r] for r in rfs)
        return tuple(services), tuple(sorted(self._ids[u] for u in customers))
