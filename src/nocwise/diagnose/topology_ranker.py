"""Topology-and-time root-cause ranking.

A candidate is an alarming entity, anything an alarming entity depends on (a few hops up), an
entity an alarm names in its additional info (the link of an optical alarm, the peer of a BGP
alarm) or an entity changed shortly before the first alarm. A candidate scores by how many
alarming entities it explains (it is them, they depend on it and alarmed after it, or their
alarms name it), whether alarms are about it and how early, how root-cause-like their probable
causes are (X.733: power, loss of signal, equipment failure), and whether a deployment or
configuration change landed on it (a change before the first alarm counts as the earliest
sign). An alarm that names another entity is about that entity, not its reporter, unless the
two name each other (a session seen down from both ends). A candidate with no alarm of its own
is credited only for the share of its dependents that alarmed, so a quiet hub above a few
alarms does not outrank them while a silent link or router whose every dependent alarmed does.
Scores become probabilities with a softmax.

Weak at: faults that leave the root silent and far away (more than ``max_hops`` up), and
incidents that mix two unrelated faults (the grouping stage should have split them). Reference:
the "explains the most symptoms, earliest" principle of topology-based RCA, e.g. Kobayashi et
al., "Mining causes of network events in log data with causal inference" (IM 2017).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from nocwise.model import Alarm, Change, ChangeKind, Evidence, Hypothesis, Incident
from nocwise.topology.graph import TopologyGraph

# How much a probable cause on its own suggests "this is where it started" (X.733 / 3GPP names).
ROOT_CAUSE_PRIOR: dict[str, float] = {
    "powerProblem": 1.0,
    "mainsFailure": 1.0,
    "batteryDischarging": 0.9,
    "batteryFailure": 0.9,
    "lossOfSignal": 0.9,
    "fibreCut": 1.0,
    "equipmentMalfunction": 0.8,
    "softwareError": 0.6,
    "configurationOrCustomizationError": 0.8,
    "linkDown": 0.4,
    "thresholdCrossed": 0.2,
    "performanceDegraded": 0.2,
    "communicationsSubsystemFailure": 0.3,
}


@dataclass(frozen=True, slots=True)
class TopologyRankerConfig:
    """Weights of the score; defaults are set once for every network, not per data set."""

    max_hops: int = 4
    change_lookback: timedelta = timedelta(hours=2)
    w_coverage: float = 3.0
    w_own_alarm: float = 1.0
    w_earliness: float = 1.0
    w_change: float = 2.0
    w_prior: float = 0.8
    # a candidate with no alarm of its own counts its coverage times the share of its
    # dependents that alarmed, to this power: a silent hub with hundreds of quiet dependents
    # explains a few alarms badly, a silent link all of whose dependents alarmed explains well
    silent_exponent: float = 1.0
    # symptoms also spread against the modelled dependency (an overloaded router slows its links
    # and drops its peers' sessions): adjacent entities (one dependency step either way, and the
    # far end of a point-to-point link) whose alarms came after the candidate's own count so
    w_spread: float = 1.0
    # a cause comes first: an alarming candidate explains a dependent only if the dependent
    # alarmed again no earlier than this before the candidate's first alarm (breaks dependency
    # cycles); an unrelated alarm the dependent raised before the fault does not hide it
    causal_slack: timedelta = timedelta(seconds=60)
    # seconds apart that count as "earlier": alarms of one event a second apart are a tie
    min_span: timedelta = timedelta(seconds=300)
    temperature: float = 0.5
    top_k: int = 5


class TopologyRanker:
    """Ranks root causes over the dependency graph, timing and changes."""

    kind: ClassVar[str] = "topology"

    def __init__(
        self,
        graph: TopologyGraph,
        config: TopologyRankerConfig | None = None,
        names: Mapping[str, str] | None = None,
    ) -> None:
        self.graph = graph
        self.config = config or TopologyRankerConfig()
        self.names = dict(names or {})  # entity name -> id, for alarms that name a peer

    def named(self, alarm: Alarm) -> set[str]:
        """Entities an alarm's additional info names (a link id, a BGP peer's name) other than
        the alarm's own entity: what the alarm is about, as seen from its reporter."""
        out = set()
        for value in alarm.additional_info.values():
            target = value if value in self.graph else self.names.get(value)
            if target is not None and target != alarm.managed_object:
                out.add(target)
        return out

    def rank(
        self, incident: Incident, alarms: Sequence[Alarm], changes: Sequence[Change]
    ) -> list[Hypothesis]:
        cfg = self.config
        if not alarms:
            return []
        ordered = sorted(alarms, key=lambda a: (a.event_time, a.alarm_id))
        first = ordered[0].event_time
        last = ordered[-1].event_time
        span = max((last - first).total_seconds(), 1.0)
        own: dict[str, list[Alarm]] = {}  # alarms raised on each entity
        about: dict[str, list[Alarm]] = {}  # alarms about each entity: its own, or naming it
        named: dict[str, set[str]] = {}  # entity -> the alarming entities whose alarms name it
        targets = {a.alarm_id: self.named(a) for a in ordered}
        for a in ordered:
            own.setdefault(a.managed_object, []).append(a)
            for t in targets[a.alarm_id]:
                named.setdefault(t, set()).add(a.managed_object)
        for a in ordered:
            # an alarm counts for what it names, unless that names the reporter back: a session
            # seen down from both ends says nothing about which end broke
            to = {t for t in targets[a.alarm_id] if t not in named.get(a.managed_object, set())}
            for t in to or {a.managed_object}:
                about.setdefault(t, []).append(a)
        alarmed = sorted(own)
        upstream = {e: dict(self.graph.dependency_path(e, cfg.max_hops)) for e in alarmed}
        recent = [
            c
            for c in changes
            if first - cfg.change_lookback <= c.ts <= last and c.kind is not ChangeKind.MAINTENANCE
        ]
        changed: dict[str, Change] = {}  # per entity: the last change before the first alarm,
        for c in sorted(recent, key=lambda c: c.ts):  # else the first one after it
            if c.entity_id not in changed or c.ts <= first:
                changed[c.entity_id] = c
        candidates = set(alarmed) | set(changed) | set(named)
        for ups in upstream.values():
            candidates |= set(ups)
        scored: list[tuple[float, str, list[Evidence], str]] = []
        for cand in sorted(candidates):
            by = named.get(cand, set())
            onset = about[cand][0].event_time - cfg.causal_slack if cand in about else None
            explained = [
                e
                for e in alarmed
                if e == cand
                or e in by
                or (cand in upstream[e] and (onset is None or own[e][-1].event_time >= onset))
            ]
            if not explained and cand not in changed:
                continue
            spread: list[str] = []
            if onset is not None and cfg.w_spread > 0:
                near = self._near(cand)
                spread = [
                    e
                    for e in alarmed
                    if e in near and e not in explained and own[e][0].event_time >= onset
                ]
            coverage = len(explained) / len(alarmed)
            silent = cand not in about and cand not in changed
            if silent and cfg.silent_exponent > 0:
                coverage *= self._alarmed_share(cand, explained) ** cfg.silent_exponent
            evidence = [
                Evidence(
                    "coverage",
                    f"explains {len(explained)} of {len(alarmed)} alarming entities",
                    {"explained": len(explained), "alarming": len(alarmed)},
                )
            ]
            score = cfg.w_coverage * coverage + cfg.w_spread * len(spread) / len(alarmed)
            if spread:
                evidence.append(
                    Evidence(
                        "spread",
                        f"{len(spread)} adjacent entities alarmed after it",
                        {"entities": ",".join(spread[:5]), "count": len(spread)},
                    )
                )
            fault = "unknown"
            if by:  # scored through coverage and the alarms credited to it
                evidence.append(
                    Evidence(
                        "mentioned",
                        f"named by the alarms of {len(by)} other alarming entities",
                        {"by": ",".join(sorted(by)[:5]), "count": len(by)},
                    )
                )
            earliness = 0.0
            if cand in about:
                first_own = about[cand][0]
                earliness = 1.0 - (first_own.event_time - first).total_seconds() / span
                prior = max(ROOT_CAUSE_PRIOR.get(a.probable_cause, 0.3) for a in about[cand])
                score += cfg.w_own_alarm + cfg.w_earliness * earliness + cfg.w_prior * prior
                fault = first_own.probable_cause
                evidence.append(
                    Evidence(
                        "first_alarm",
                        f"{first_own.probable_cause} at {first_own.event_time.isoformat()}",
                        {
                            "alarm_id": first_own.alarm_id,
                            "earliness": round(earliness, 3),
                            "probable_cause": first_own.probable_cause,
                        },
                    )
                )
            if cand in changed:
                ch = changed[cand]
                lead = (ch.ts - first).total_seconds()
                change_earliness = 1.0 if lead <= 0 else max(0.0, 1.0 - lead / span)
                score += cfg.w_change + cfg.w_earliness * max(0.0, change_earliness - earliness)
                fault = f"{ch.kind.value}_change"
                evidence.append(
                    Evidence(
                        "change",
                        f"{ch.kind.value} {ch.version_before}->{ch.version_after} at "
                        f"{ch.ts.isoformat()}: {ch.description}",
                        {"change_id": ch.id, "kind": ch.kind.value},
                    )
                )
            scored.append((score, cand, evidence, fault))
        if not scored:
            return []
        scored.sort(key=lambda t: (-t[0], t[1]))
        top = scored[: cfg.top_k]
        best = top[0][0]
        weights = [math.exp((s - best) / cfg.temperature) for s, *_ in scored]
        total = sum(weights)
        out = []
        for (score, cand, evidence, fault), w in zip(top, weights, strict=False):
            p = w / total
            out.append(
                Hypothesis(
                    entity_id=cand,
                    fault_type=fault,
                    probability=math.floor(p * 1e4) / 1e4,  # rounded down: the sum stays <= 1
                    evidence=tuple(evidence),
                    explanation=_explain(cand, self.graph.kind(cand), evidence, score),
                )
            )
        return out

    def _near(self, cand: str) -> set[str]:
        """One dependency step either way from the candidate, and the far end of what it
        shares point to point (a link's other router); not the siblings under a shared hub,
        which a common upstream explains better."""
        g = self.graph
        out: set[str] = set()
        for p in g.parents(cand):
            out.add(p)
            ends = g.children(p)
            if len(ends) <= 2:
                out.update(ends)
        for c in g.children(cand):
            out.add(c)
            ends = g.parents(c)
            if len(ends) <= 2:
                out.update(ends)
        out.discard(cand)
        return out

    def _alarmed_share(self, cand: str, explained: Sequence[str]) -> float:
        """Share of a candidate's dependents (within ``max_hops``) that are alarming."""
        deps = self.graph.dependents(cand, self.config.max_hops)
        if not deps:
            return 1.0
        hit = sum(1 for e in explained if e != cand)
        return min(1.0, hit / len(deps))


def _explain(entity_id: str, kind: str, evidence: Sequence[Evidence], score: float) -> str:
    parts = "; ".join(e.summary for e in evidence)
    return f"{kind} {entity_id} (score {score:.2f}): {parts}"


def window_of(alarms: Sequence[Alarm]) -> tuple[datetime, datetime]:
    """First and last event time of a set of alarms."""
    times = [a.event_time for a in alarms]
    return min(times), max(times)
