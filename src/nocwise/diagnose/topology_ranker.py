"""Topology-and-time root-cause ranking.

A candidate is an alarming entity, anything an alarming entity depends on (a few hops up) or an
entity changed shortly before the first alarm. A candidate scores by how many alarming entities
it explains (it is them or they depend on it), whether it alarmed itself and how early, how
root-cause-like its probable causes are (X.733: power, loss of signal, equipment failure), and
whether a deployment or configuration change landed on it just before. Scores become
probabilities with a softmax.

Weak at: faults that leave the root silent and far away (more than ``max_hops`` up), and
incidents that mix two unrelated faults (the grouping stage should have split them). Reference:
the "explains the most symptoms, earliest" principle of topology-based RCA, e.g. Kobayashi et
al., "Mining causes of network events in log data with causal inference" (IM 2017).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
    temperature: float = 0.5
    top_k: int = 5


class TopologyRanker:
    """Ranks root causes over the dependency graph, timing and changes."""

    kind: ClassVar[str] = "topology"

    def __init__(self, graph: TopologyGraph, config: TopologyRankerConfig | None = None) -> None:
        self.graph = graph
        self.config = config or TopologyRankerConfig()

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
        own: dict[str, list[Alarm]] = {}
        for a in ordered:
            own.setdefault(a.managed_object, []).append(a)
        alarmed = sorted(own)
        upstream = {e: dict(self.graph.dependency_path(e, cfg.max_hops)) for e in alarmed}
        recent = [
            c
            for c in changes
            if first - cfg.change_lookback <= c.ts <= last and c.kind is not ChangeKind.MAINTENANCE
        ]
        changed: dict[str, Change] = {}
        for c in sorted(recent, key=lambda c: c.ts):
            changed[c.entity_id] = c
        candidates = set(alarmed) | set(changed)
        for ups in upstream.values():
            candidates |= set(ups)
        scored: list[tuple[float, str, list[Evidence], str]] = []
        for cand in sorted(candidates):
            explained = [e for e in alarmed if e == cand or cand in upstream[e]]
            if not explained and cand not in changed:
                continue
            coverage = len(explained) / len(alarmed)
            evidence = [
                Evidence(
                    "coverage",
                    f"explains {len(explained)} of {len(alarmed)} alarming entities",
                    {"explained": len(explained), "alarming": len(alarmed)},
                )
            ]
            score = cfg.w_coverage * coverage
            fault = "unknown"
            if cand in own:
                first_own = own[cand][0]
                earliness = 1.0 - (first_own.event_time - first).total_seconds() / span
                prior = max(ROOT_CAUSE_PRIOR.get(a.probable_cause, 0.3) for a in own[cand])
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
                score += cfg.w_change
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
                    probability=round(p, 4),
                    evidence=tuple(evidence),
                    explanation=_explain(cand, self.graph.kind(cand), evidence, score),
                )
            )
        return out


def _explain(entity_id: str, kind: str, evidence: Sequence[Evidence], score: float) -> str:
    parts = "; ".join(e.summary for e in evidence)
    return f"{kind} {entity_id} (score {score:.2f}): {parts}"


def window_of(alarms: Sequence[Alarm]) -> tuple[datetime, datetime]:
    """First and last event time of a set of alarms."""
    times = [a.event_time for a in alarms]
    return min(times), max(times)
