"""The topology graph: dependency direction, bounded walks, hops, regions and impact."""

from __future__ import annotations

import pytest

from nocwise.correlate.synthetic import access_network
from nocwise.model import Domain, Entity, Relation, RelationKind
from nocwise.topology.graph import Direction, TopologyGraph

K = RelationKind


@pytest.fixture(scope="module")
def net() -> TopologyGraph:
    return TopologyGraph(*access_network(20))


def test_contains_and_powers_point_to_what_an_entity_depends_on(net: TopologyGraph) -> None:
    assert set(net.parents("s1/gnb")) == {"s1", "s1/power", "s1/csr"}
    assert net.parents("s1/gnb", K.POWERS) == ("s1/power",)
    assert "s1/gnb" in net.children("s1/power")


def test_dependency_path_is_nearest_first_and_bounded(net: TopologyGraph) -> None:
    path = net.dependency_path("s1/cell0", 2)
    assert path[0] == ("s1/gnb", 1)
    assert {e for e, d in path if d == 2} == {"s1", "s1/power", "s1/csr"}
    assert all(d <= 2 for _, d in path)
    assert ("core", 5) in net.dependency_path("s1/cell0", 6)


def test_dependents_run_the_other_way(net: TopologyGraph) -> None:
    deps = dict(net.dependents("s1/csr", 2))
    assert deps["s1/gnb"] == 1
    assert deps["s1/cell2"] == 2
    assert "s1/link" not in deps  # the csr depends on the link, not the reverse


@pytest.mark.parametrize(
    ("a", "b", "limit", "expected"),
    [
        pytest.param("s1/cell0", "s1/cell0", 3, 0, id="same"),
        pytest.param("s1/cell0", "s1/gnb", 3, 1, id="adjacent"),
        pytest.param("s1/cell0", "s1/cell1", 3, 2, id="siblings"),
        pytest.param("s1/cell0", "s2/cell0", 3, None, id="beyond-limit"),
        pytest.param("s1/cell0", "s2/cell0", 10, 8, id="across-aggregation"),
        pytest.param("s1/cell0", "nowhere", 3, None, id="unknown"),
    ],
)
def test_hops_are_shortest_undirected_and_bounded(
    net: TopologyGraph, a: str, b: str, limit: int, expected: int | None
) -> None:
    assert net.hops(a, b, limit) == expected


def test_service_edges_do_not_shorten_hops(net: TopologyGraph) -> None:
    # s1 and s2 share a CFS, but service edges are not network paths
    assert net.hops("s1/gnb", "s2/gnb", 4) is None


def test_region_is_the_nearest_site_or_aggregation(net: TopologyGraph) -> None:
    assert net.region("s4/cell1") == "s4"
    assert net.region("s4/link") == "agg0"
    assert net.region("unknown-thing") == "unknown-thing"


def test_impact_walks_cfs_rfs_resource_and_customers(net: TopologyGraph) -> None:
    services, customers = net.impacted("s12/csr")
    assert "s12/rfs" in services
    assert "cfs1" in services
    assert customers == ("cust1",)
    assert net.impacted("s12/cell0") == (("cfs1", "s12/rfs"), ("cust1",))
    assert net.impacted("nowhere") == ((), ())


def test_dependency_direction_is_configurable() -> None:
    es = [Entity("a", "csr", Domain.TRANSPORT), Entity("l", "link", Domain.TRANSPORT)]
    forward = TopologyGraph(es, [Relation("a", "l", K.CONNECTS)])
    backward = TopologyGraph(
        es, [Relation("a", "l", K.CONNECTS)], dependency={K.CONNECTS: Direction.BACKWARD}
    )
    assert forward.parents("a") == ("l",)
    assert backward.parents("l") == ("a",)


def test_edges_to_unknown_ids_still_count() -> None:
    g = TopologyGraph([], [Relation("x", "y", K.HOSTED_ON)])
    assert g.parents("x") == ("y",)
    assert g.kind("y") == "unknown"
    assert len(g) == 2
    assert "x" in g


def test_fanout_counts_distinct_direct_dependents(net: TopologyGraph) -> None:
    # duplicate edges, a self-loop and an edge to an unknown id must not change the count
    es = [Entity(x, "router", Domain.TRANSPORT) for x in ("a", "b", "c")]
    rels = [
        Relation("b", "a", K.DEPENDS_ON),
        Relation("b", "a", K.CONNECTS),
        Relation("c", "a", K.DEPENDS_ON),
        Relation("a", "a", K.DEPENDS_ON),
        Relation("ghost", "a", K.DEPENDS_ON),
    ]
    small = TopologyGraph(es, rels)
    for g in (net, small):
        for e in [*g._ids, "not-there"]:
            assert g.fanout(e) == len(g.dependents(e, 1)), e
    assert small.fanout("a") == 3


def test_cached_impact_is_the_computed_one(net: TopologyGraph) -> None:
    for e in net._ids:
        net.impacted(e)
    assert net.impacted("s1/csr")[0]
    assert all(net.impacted(e) == net._impacted(e) for e in net._ids)
