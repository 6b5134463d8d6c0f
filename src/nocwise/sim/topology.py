"""The twin's network: RAN sites on access rings, aggregation and core, 5G core, IT and services.

Shape (per region of up to 24 aggregation rings):

- a cell site holds a power system (mains + battery), a cell-site router (CSR) and a gNodeB or
  eNodeB with three cells; the CSR is dual-homed (two access links to two aggregation routers,
  the second ``protects`` the first) or single-homed;
- aggregation routers form a closed ring (protected) or an open chain (unprotected); hub routers
  uplink to the two core routers of a PoP; a region's uplinks share one duct when the region is
  marked ``shared_duct`` (a known single point of failure: cut it and the whole region drops);
- the 5G core (AMF, SMF, UPF, NRF, UDM, AUSF), DNS, Kubernetes nodes, pods, BSS/OSS
  microservices and databases sit in a data centre;
- services follow TMF638/639: customer ``depends_on`` CFS, CFS ``realises`` RFS, RFS
  ``realises`` resources, so impact is a walk up from any resource.

Everything is seeded; ids are stable for a given size and seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from nocwise.model import Domain, Entity, Relation, RelationKind

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SITES_PER_RING = 24
AGG_PER_RING = 4
RINGS_PER_REGION = 24
REGIONS_PER_POP = 4
VENDORS = ("cisco-iosxr", "juniper-junos", "nokia-sros")

MICROSERVICES: dict[str, tuple[str, ...]] = {
    # service -> services it calls; databases and DNS are added below
    "api-gateway": ("auth", "crm", "order-management", "billing"),
    "auth": (),
    "crm": ("product-catalog",),
    "order-management": ("product-catalog", "inventory", "notification"),
    "product-catalog": (),
    "inventory": (),
    "billing": ("charging",),
    "charging": (),
    "notification": (),
    "assurance-portal": ("inventory", "auth"),
}
DATABASES: dict[str, tuple[str, ...]] = {
    "customer-db": ("crm", "auth"),
    "order-db": ("order-management", "product-catalog"),
    "billing-db": ("billing", "charging"),
    "inventory-db": ("inventory", "assurance-portal"),
}


@dataclass(slots=True)
class Topology:
    """Entities, relations, and the index arrays the fault and telemetry models need."""

    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    # per site (row j): entity indices
    site: list[int] = field(default_factory=list)
    site_power: list[int] = field(default_factory=list)
    site_csr: list[int] = field(default_factory=list)
    site_ran: list[int] = field(default_factory=list)
    site_cells: list[list[int]] = field(default_factory=list)
    site_access_links: list[list[int]] = field(default_factory=list)  # link rows
    site_battery_min: list[float] = field(default_factory=list)
    site_region: list[int] = field(default_factory=list)
    site_customers: list[list[int]] = field(default_factory=list)
    # links (row k): entity index, endpoint entity indices, role, duct
    link_entity: list[int] = field(default_factory=list)
    link_a: list[int] = field(default_factory=list)
    link_b: list[int] = field(default_factory=list)
    link_role: list[str] = field(default_factory=list)
    link_duct: list[str] = field(default_factory=list)
    routers: list[int] = field(default_factory=list)
    ports: dict[tuple[int, int], int] = field(default_factory=dict)  # (link row, router) -> port
    _next_port: dict[int, int] = field(default_factory=dict)
    core_routers: list[int] = field(default_factory=list)
    # IT and core: callers of each service (entity index -> entity indices that depend on it)
    dependents: dict[int, list[int]] = field(default_factory=dict)
    hosted: dict[int, list[int]] = field(default_factory=dict)  # node -> what runs on it
    pop_of_amf: dict[int, list[int]] = field(default_factory=dict)  # amf -> gnbs it serves
    kinds: dict[str, list[int]] = field(default_factory=dict)

    def add(
        self,
        id_: str,
        kind: str,
        domain: Domain,
        name: str = "",
        attributes: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
    ) -> int:
        """Append an entity; its row is its index in every array."""
        i = len(self.entities)
        attrs = dict(attributes or {})
        if kind in ("csr", "agg_router", "core_router"):
            attrs["mgmt_ip"] = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        self.entities.append(Entity(id_, kind, domain, name or id_, attrs, labels or {}))
        self.index[id_] = i
        self.kinds.setdefault(kind, []).append(i)
        return i

    def rel(self, src: int, dst: int, kind: RelationKind) -> None:
        """Append a relation between two entity rows."""
        self.relations.append(Relation(self.entities[src].id, self.entities[dst].id, kind))
        if kind is RelationKind.DEPENDS_ON:
            self.dependents.setdefault(dst, []).append(src)
        elif kind is RelationKind.HOSTED_ON:
            self.hosted.setdefault(dst, []).append(src)

    def link(self, a: int, b: int, id_: str, role: str, duct: str, attrs: dict[str, str]) -> int:
        """Append a link entity between routers ``a`` and ``b``; returns its link row."""
        e = self.add(
            id_, "link", Domain.TRANSPORT, attributes={"role": role, "duct": duct, **attrs}
        )
        self.rel(e, a, RelationKind.CONNECTS)
        self.rel(e, b, RelationKind.CONNECTS)
        self.link_entity.append(e)
        self.link_a.append(a)
        self.link_b.append(b)
        self.link_role.append(role)
        self.link_duct.append(duct)
        row = len(self.link_entity) - 1
        for r in (a, b):
            self._next_port[r] = self._next_port.get(r, 0) + 1
            self.ports[(row, r)] = self._next_port[r]
        return row

    def of_kind(self, *kinds: str) -> list[int]:
        """Entity rows of the given kinds."""
        return [i for k in kinds for i in self.kinds.get(k, [])]

    @property
    def n(self) -> int:
        """Number of entities."""
        return len(self.entities)

    def isolated(self, down_links: set[int], down_routers: set[int] | None = None) -> BoolArray:
        """Which routers are cut off from the core, given links and routers down.

        One connected-components pass over the aggregation/core graph (CSRs carry no transit),
        then a CSR is reachable through any working access link to a reachable router.
        """
        n = self.n
        up = np.ones(len(self.link_entity), dtype=bool)
        if down_links:
            up[list(down_links)] = False
        a_all = np.asarray(self.link_a, dtype=np.int64)
        b_all = np.asarray(self.link_b, dtype=np.int64)
        dr = np.zeros(n, dtype=bool)
        if down_routers:
            dr[list(down_routers)] = True
        up &= ~(dr[a_all] | dr[b_all])
        access = np.asarray([r == "access" for r in self.link_role], dtype=bool)
        core = up & ~access
        a, b = a_all[core], b_all[core]
        g = coo_matrix((np.ones(a.shape[0]), (a, b)), shape=(n, n))
        _, labels = connected_components(g, directed=False)
        reach = np.zeros(n, dtype=bool)
        reach[np.isin(labels, np.unique(labels[np.asarray(self.core_routers)]))] = True
        reach &= ~dr
        acc = up & access
        csr_reach = np.zeros(n, dtype=bool)
        np.logical_or.at(csr_reach, a_all[acc], reach[b_all[acc]])
        routers = np.asarray(self.routers, dtype=np.int64)
        csrs = np.asarray(self.site_csr, dtype=np.int64)
        reach[csrs] = csr_reach[csrs] & ~dr[csrs]
        out = np.zeros(n, dtype=bool)
        out[routers] = ~reach[routers]
        return out


def build_topology(n_sites: int, seed: int) -> Topology:
    """Build a network with ``n_sites`` cell sites (≈ 10 entities per site, plus core and IT)."""
    rng = np.random.default_rng([seed, 1])
    t = Topology()
    w = max(4, len(str(n_sites)))
    n_rings = max(2, -(-n_sites // SITES_PER_RING))
    n_regions = -(-n_rings // RINGS_PER_REGION)
    n_pops = max(1, n_regions // REGIONS_PER_POP)

    # data centre and core transport
    dc = t.add("site-dc1", "site", Domain.POWER, "DC1", {"type": "datacentre"})
    dc_pwr = t.add("pwr-dc1", "power", Domain.POWER, "DC1 power", {"battery_minutes": "480"})
    t.rel(dc, dc_pwr, RelationKind.CONTAINS)
    cores: list[tuple[int, int]] = []
    for p in range(n_pops):
        pair = []
        for side in "ab":
            v = VENDORS[(p + (side == "b")) % 2]  # core: cisco / juniper
            r = t.add(f"core-p{p + 1}{side}", "core_router", Domain.TRANSPORT,
                      attributes={"vendor": v, "pop": str(p + 1)})  # fmt: skip
            t.routers.append(r)
            t.core_routers.append(r)
            pair.append(r)
        cores.append((pair[0], pair[1]))
        t.link(pair[0], pair[1], f"lnk-core-p{p + 1}", "core", f"duct-core-p{p + 1}", {})
    for p in range(n_pops):  # core ring between PoPs
        q = (p + 1) % n_pops
        if n_pops > 1 and (n_pops > 2 or p == 0):
            t.link(
                cores[p][0],
                cores[q][0],
                f"lnk-core-p{p + 1}-p{q + 1}a",
                "core",
                f"duct-core-{p}-{q}a",
                {},
            )
            t.link(
                cores[p][1],
                cores[q][1],
                f"lnk-core-p{p + 1}-p{q + 1}b",
                "core",
                f"duct-core-{p}-{q}b",
                {},
            )

    # 5G core, DNS, Kubernetes, microservices, databases (in DC1, attached to PoP 1)
    nodes = [t.add(f"k8s-node-{i + 1:02d}", "k8s_node", Domain.IT, attributes={"cluster": "dc1"})
             for i in range(4 + 2 * n_pops)]  # fmt: skip
    for nd in nodes:
        t.rel(dc, nd, RelationKind.CONTAINS)
        t.rel(dc_pwr, nd, RelationKind.POWERS)

    def place(e: int, k: int) -> None:
        t.rel(e, nodes[k % len(nodes)], RelationKind.HOSTED_ON)

    nf: dict[str, list[int]] = {}
    k = 0
    for p in range(n_pops):
        for kind in ("amf", "smf", "upf", "dns"):
            for j in range(2):
                dom = Domain.IT if kind == "dns" else Domain.CORE
                e = t.add(f"{kind}-p{p + 1}-{j + 1}", kind, dom, attributes={"pop": str(p + 1)})
                nf.setdefault(kind, []).append(e)
                place(e, k)
                k += 1
                if kind == "upf":
                    t.rel(e, cores[p][j], RelationKind.DEPENDS_ON)
    for kind in ("nrf", "udm", "ausf"):
        for j in range(2):
            e = t.add(f"{kind}-{j + 1}", kind, Domain.CORE)
            nf.setdefault(kind, []).append(e)
            place(e, k)
            k += 1
    for amf in nf["amf"]:
        for dep in (*nf["ausf"], *nf["udm"], *nf["nrf"]):
            t.rel(amf, dep, RelationKind.DEPENDS_ON)
    for i, smf in enumerate(nf["smf"]):
        p = i // 2
        for dep in (*nf["upf"][2 * p : 2 * p + 2], *nf["nrf"], *nf["udm"]):
            t.rel(smf, dep, RelationKind.DEPENDS_ON)
    for ausf in nf["ausf"]:
        for dep in nf["udm"]:
            t.rel(ausf, dep, RelationKind.DEPENDS_ON)

    ms: dict[str, int] = {}
    for name in MICROSERVICES:
        e = t.add(f"svc-{name}", "microservice", Domain.IT, name,
                  {"version": f"1.{rng.integers(2, 9)}.{rng.integers(0, 12)}", "namespace": "bss"})  # fmt: skip
        ms[name] = e
        for j in range(2 + (name == "api-gateway")):
            pod = t.add(f"pod-{name}-{j + 1}", "pod", Domain.IT, attributes={"service": name})
            t.rel(e, pod, RelationKind.CONTAINS)  # a pod runs its service's deployment spec
            place(pod, k)
            k += 1
    for name, callees in MICROSERVICES.items():
        for c in callees:
            t.rel(ms[name], ms[c], RelationKind.DEPENDS_ON)
        t.rel(ms[name], nf["dns"][0], RelationKind.DEPENDS_ON)
    for db, users in DATABASES.items():
        e = t.add(f"db-{db}", "database", Domain.IT, db, {"engine": "postgresql"})
        place(e, k)
        k += 1
        for u in users:
            t.rel(ms[u], e, RelationKind.DEPENDS_ON)
    for smf in nf["smf"]:
        t.rel(smf, ms["charging"], RelationKind.DEPENDS_ON)

    # aggregation rings and cell sites
    region_duct_shared = [r % 3 == 0 for r in range(n_regions)]
    ring_aggs: list[list[int]] = []
    for g in range(n_rings):
        region = g // RINGS_PER_REGION
        pop = region % n_pops
        closed = g % 4 != 1
        v = VENDORS[g % 3]
        aggs = [t.add(f"agg-r{g + 1:03d}-{j + 1}", "agg_router", Domain.TRANSPORT,
                      attributes={"vendor": v, "ring": f"r{g + 1:03d}", "region": str(region + 1),
                                  "ring_protected": str(closed).lower()})
                for j in range(AGG_PER_RING)]  # fmt: skip
        t.routers.extend(aggs)
        ring_aggs.append(aggs)
        rattr = {"ring": f"r{g + 1:03d}", "protected": str(closed).lower()}
        for j in range(AGG_PER_RING - (0 if closed else 1)):
            a, b = aggs[j], aggs[(j + 1) % AGG_PER_RING]
            t.link(
                a,
                b,
                f"lnk-ring-r{g + 1:03d}-{j + 1}",
                "ring",
                f"duct-ring-r{g + 1:03d}-{j + 1}",
                rattr,
            )
        shared = region_duct_shared[region]
        up_attr = {"region": str(region + 1), "shared_duct": str(shared).lower()}
        hubs = (aggs[0], aggs[1]) if closed else (aggs[0], aggs[0])
        for j, (hub, core) in enumerate(zip(hubs, cores[pop], strict=True)):
            duct = f"duct-up-reg{region + 1}" + ("" if shared else "ab"[j])
            t.link(hub, core, f"lnk-up-r{g + 1:03d}-{'ab'[j]}", "uplink", duct, up_attr)

    site_ring = np.arange(n_sites) % n_rings
    dual = rng.random(n_sites) < 0.6
    per_ring_count = np.zeros(n_rings, dtype=np.int64)
    batteries = rng.choice(
        [0.0, 30.0, 60.0, 120.0, 240.0], size=n_sites, p=[0.08, 0.3, 0.32, 0.2, 0.1]
    )
    gnb_by_pop: dict[int, list[int]] = {}
    for s in range(n_sites):
        g = int(site_ring[s])
        region = g // RINGS_PER_REGION
        pop = region % n_pops
        pos = int(per_ring_count[g])
        per_ring_count[g] += 1
        if pos == 0:
            dual[s] = False  # every ring has a single-homed and a dual-homed site
        elif pos == 1:
            dual[s] = True
        sid = f"{s + 1:0{w}d}"
        v = VENDORS[g % 3]
        attrs = {"region": str(region + 1), "ring": f"r{g + 1:03d}"}
        site = t.add(f"site-{sid}", "site", Domain.POWER, f"Site {sid}",
                     {**attrs, "battery_minutes": f"{batteries[s]:.0f}",
                      "dual_homed": str(bool(dual[s])).lower()})  # fmt: skip
        pwr = t.add(
            f"pwr-{sid}",
            "power",
            Domain.POWER,
            attributes={**attrs, "battery_minutes": f"{batteries[s]:.0f}"},
        )
        csr_vendor = VENDORS[(g + 2) % 3]  # access often comes from another vendor than aggregation
        csr = t.add(
            f"csr-{sid}", "csr", Domain.TRANSPORT, attributes={**attrs, "vendor": csr_vendor}
        )
        is5g = s % 5 != 4
        ran = t.add(f"{'gnb' if is5g else 'enb'}-{sid}", "gnodeb" if is5g else "enodeb", Domain.RAN,
                    attributes={**attrs, "vendor": ("ericsson", "nokia", "huawei")[g % 3]})  # fmt: skip
        t.routers.append(csr)
        for e in (pwr, csr, ran):
            t.rel(site, e, RelationKind.CONTAINS)
        t.rel(pwr, csr, RelationKind.POWERS)
        t.rel(pwr, ran, RelationKind.POWERS)
        t.rel(ran, csr, RelationKind.DEPENDS_ON)
        for amf in nf["amf"][2 * pop : 2 * pop + 2]:
            t.rel(ran, amf, RelationKind.DEPENDS_ON)
        gnb_by_pop.setdefault(pop, []).append(ran)
        cells = []
        for ci in range(3):
            cell = t.add(f"cell-{sid}-{ci + 1}", "cell", Domain.RAN,
                         attributes={**attrs, "sector": str(ci + 1), "band": ("n78", "n28", "b3")[ci] if is5g else "b3"})  # fmt: skip
            t.rel(ran, cell, RelationKind.CONTAINS)
            cells.append(cell)
        aggs = ring_aggs[g]
        home = aggs[pos % AGG_PER_RING]
        access = [t.link(csr, home, f"lnk-acc-{sid}-a", "access", f"duct-acc-{sid}-a", attrs)]
        if dual[s]:
            other = aggs[(pos + 1) % AGG_PER_RING]
            access.append(
                t.link(csr, other, f"lnk-acc-{sid}-b", "access", f"duct-acc-{sid}-b", attrs)
            )
            t.rel(t.link_entity[access[1]], t.link_entity[access[0]], RelationKind.PROTECTS)
        t.site.append(site)
        t.site_power.append(pwr)
        t.site_csr.append(csr)
        t.site_ran.append(ran)
        t.site_cells.append(cells)
        t.site_access_links.append(access)
        t.site_battery_min.append(float(batteries[s]))
        t.site_region.append(region)
        t.site_customers.append([])
    for pop, gnbs in gnb_by_pop.items():
        for amf in nf["amf"][2 * pop : 2 * pop + 2]:
            t.pop_of_amf[amf] = gnbs

    _build_services(t, nf, ms, n_regions, rng, w)
    return t


def _build_services(
    t: Topology,
    nf: dict[str, list[int]],
    ms: dict[str, int],
    n_regions: int,
    rng: np.random.Generator,
    w: int,
) -> None:
    """CFS -> RFS -> resource, and customers on CFS (TMF638/639 shape)."""
    n_sites = len(t.site)
    rfs_core = t.add("rfs-mobile-core", "rfs", Domain.SERVICE, "Mobile core")
    for kind in ("amf", "smf", "upf", "nrf", "udm", "ausf", "dns"):
        for e in nf[kind]:
            t.rel(rfs_core, e, RelationKind.REALISES)
    rfs_portal = t.add("rfs-self-care", "rfs", Domain.SERVICE, "Self-care portal")
    for name in ("api-gateway", "auth", "crm", "order-management", "product-catalog"):
        t.rel(rfs_portal, ms[name], RelationKind.REALISES)
    rfs_bill = t.add("rfs-billing", "rfs", Domain.SERVICE, "Billing and charging")
    for name in ("billing", "charging"):
        t.rel(rfs_bill, ms[name], RelationKind.REALISES)
    rfs_site = []
    for s in range(n_sites):
        sid = t.entities[t.site[s]].id.removeprefix("site-")
        r = t.add(f"rfs-ran-{sid}", "rfs", Domain.SERVICE, f"RAN access {sid}")
        t.rel(r, t.site_ran[s], RelationKind.REALISES)
        t.rel(r, t.site_csr[s], RelationKind.REALISES)
        rfs_site.append(r)
    for reg in range(n_regions):
        sites = [s for s in range(n_sites) if t.site_region[s] == reg]
        cfs = t.add(
            f"cfs-mbb-reg{reg + 1}", "cfs", Domain.SERVICE, f"Mobile broadband region {reg + 1}"
        )
        for s in sites:
            t.rel(cfs, rfs_site[s], RelationKind.REALISES)
        t.rel(cfs, rfs_core, RelationKind.REALISES)
        t.rel(cfs, rfs_bill, RelationKind.REALISES)
        cust = t.add(f"cust-consumer-reg{reg + 1}", "customer", Domain.SERVICE,
                     f"Consumers region {reg + 1}", {"segment": "consumer"})  # fmt: skip
        t.rel(cust, cfs, RelationKind.DEPENDS_ON)
        for s in sites:
            t.site_customers[s].append(cust)
    n_ent = max(4, n_sites // 4)
    cw = max(3, len(str(n_ent)))
    for c in range(n_ent):
        cust = t.add(f"cust-ent-{c + 1:0{cw}d}", "customer", Domain.SERVICE,
                     f"Enterprise {c + 1}", {"segment": "enterprise", "sla": ("gold", "silver", "bronze")[c % 3]})  # fmt: skip
        cfs = t.add(f"cfs-ent-{c + 1:0{cw}d}", "cfs", Domain.SERVICE, f"Enterprise mobile {c + 1}")
        t.rel(cust, cfs, RelationKind.DEPENDS_ON)
        t.rel(cfs, rfs_core, RelationKind.REALISES)
        for s in rng.choice(n_sites, size=min(n_sites, int(rng.integers(1, 5))), replace=False):
            t.rel(cfs, rfs_site[int(s)], RelationKind.REALISES)
            t.site_customers[int(s)].append(cust)
        if c % 4 == 0:
            portal = t.add(
                f"cfs-portal-{c + 1:0{cw}d}", "cfs", Domain.SERVICE, f"Self-care {c + 1}"
            )
            t.rel(portal, rfs_portal, RelationKind.REALISES)
            t.rel(cust, portal, RelationKind.DEPENDS_ON)
    del w
