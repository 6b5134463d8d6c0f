"""Recommend remediation from how engineers closed similar past tickets.

Past resolved tickets are embedded with TF-IDF over word and character n-grams (robust to the
typos and abbreviations of real ticket text); an incident is described the same way (its
alarms' probable causes, problems and texts, the kinds of entities involved and its top
hypothesis) and the nearest tickets vote for their resolution action, weighted by similarity.
The vote is then weighed with what history says about the suspected root: how often tickets on
an entity of the same kind (router, link, database, ...) were closed with each action, averaged
over the top hypotheses by their probability. Text alone confuses faults whose symptoms read
alike (a cut fibre and a dead site both show "site down"); the kind of the thing that broke
tells them apart.

Weak at: actions never seen in history (it can only recommend what was done before) and
history whose resolution notes are empty. Reference: k-nearest-neighbour ticket resolution
recommendation as in Zhou et al., "Resolution recommendation for event tickets in service
management" (IM 2015).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from nocwise.model import (
    Alarm,
    Evidence,
    Incident,
    Recommendation,
    RecommendationSource,
    Ticket,
    TicketStatus,
)
from nocwise.topology.graph import TopologyGraph

_CLOSE_CODE = re.compile(
    r"(?:closure|close|resolution)[ _-]?code[ \t]*[:=][ \t]*([^\r\n]*\S)", re.IGNORECASE
)


def action_of(ticket: Ticket) -> str | None:
    r"""The action a ticket was closed with: its close code (ServiceNow ``close_code``, written
    "Closure code: X" in exports) in the resolution or a note; None when it has none, since free
    text alone names no reusable action.

    >>> from datetime import UTC, datetime
    >>> t = Ticket("1", "x", "y", "Major", TicketStatus.CLOSED, datetime(2026, 1, 1, tzinfo=UTC),
    ...            resolution="replaced SFP\nClosure code: HW_REPLACED")
    >>> action_of(t)
    'HW_REPLACED'
    """
    for text in (ticket.resolution, *ticket.notes):
        m = _CLOSE_CODE.search(text)
        if m:
            return m.group(1)
    return None


def ticket_text(ticket: Ticket) -> str:
    """What a ticket says about the problem (not how it was fixed)."""
    return f"{ticket.name} {ticket.description}"


def incident_text(incident: Incident, alarms: Sequence[Alarm], graph: TopologyGraph) -> str:
    """An incident described in the words a ticket would use: the alarms about its suspected
    root (raised on it or naming it), each distinct line once, else all of them. Symptoms
    downstream (sites down, sessions failing) read like the tickets of other faults."""
    parts = [incident.title]
    for h in incident.hypotheses[:1]:
        parts.append(f"{graph.kind(h.entity_id)} {h.fault_type}")
    root = incident.hypotheses[0].entity_id if incident.hypotheses else None
    about_root = [a for a in alarms if root in (a.managed_object, *a.additional_info.values())]
    lines = [
        f"{graph.kind(a.managed_object)} {a.probable_cause} {a.specific_problem} {a.additional_text}"
        for a in (about_root or alarms)[:50]
    ]
    return " ".join([*parts, *dict.fromkeys(lines)])


@dataclass(frozen=True, slots=True)
class RecommenderConfig:
    """Neighbourhood size and how many actions to propose."""

    k: int = 15
    top: int = 3
    min_similarity: float = 0.05
    kind_weight: float = 1.0  # exponent of the root-kind prior; 0 = text only
    kind_hypotheses: int = 3  # how many hypotheses' kinds inform the prior
    text_floor: float = 0.05  # share added to every action's text vote, so the prior can rank


class TicketRecommender:
    """k-NN over past tickets' text; votes for resolution actions."""

    kind = "tickets"

    def __init__(
        self,
        vectorizer: FeatureUnion | None,
        matrix: object,
        actions: list[str],
        ticket_ids: list[str],
        config: RecommenderConfig,
        entities: list[tuple[str, ...]] | None = None,
    ) -> None:
        self._vec = vectorizer
        self._matrix = matrix
        self._actions = actions
        self._ids = ticket_ids
        self.config = config
        self._entities = entities if entities is not None else [() for _ in actions]
        self._kind_graph: TopologyGraph | None = None
        self._kind_counts: dict[str, dict[str, float]] = {}

    @classmethod
    def fit(
        cls, tickets: Sequence[Ticket], config: RecommenderConfig | None = None
    ) -> TicketRecommender:
        """Learn from resolved or closed tickets that say how they were fixed."""
        cfg = config or RecommenderConfig()
        done = {TicketStatus.RESOLVED, TicketStatus.CLOSED}
        usable = [(t, action_of(t)) for t in tickets if t.status in done]
        pairs = [(t, a) for t, a in usable if a]
        if not pairs:
            return cls(None, None, [], [], cfg)
        vec = FeatureUnion(
            [
                ("words", TfidfVectorizer(sublinear_tf=True, min_df=1, ngram_range=(1, 2))),
                (
                    "chars",
                    TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(3, 4)),
                ),
            ]
        )
        matrix = vec.fit_transform([ticket_text(t) for t, _ in pairs])
        return cls(
            vec,
            matrix,
            [a for _, a in pairs if a],
            [t.id for t, _ in pairs],
            cfg,
            [tuple(t.related_entities) for t, _ in pairs],
        )

    @property
    def size(self) -> int:
        """Tickets learned from."""
        return len(self._actions)

    def kind_prior(self, kind: str, graph: TopologyGraph) -> dict[str, float]:
        """P(action | root kind) from history, Laplace-smoothed; uniform for an unseen kind."""
        if self._kind_graph is not graph:  # kinds are resolved against the current topology
            counts: dict[str, dict[str, float]] = {}
            for ents, action in zip(self._entities, self._actions, strict=True):
                for e in ents:
                    row = counts.setdefault(graph.kind(e), {})
                    row[action] = row.get(action, 0.0) + 1.0 / len(ents)
            self._kind_counts = counts
            self._kind_graph = graph
        actions = sorted(set(self._actions))
        row = self._kind_counts.get(kind, {})
        total = sum(row.values()) + len(actions)
        return {a: (row.get(a, 0.0) + 1.0) / total for a in actions}

    def _root_prior(self, incident: Incident, graph: TopologyGraph) -> dict[str, float]:
        """The kind prior averaged over the top hypotheses, weighted by their probability."""
        hyps = incident.hypotheses[: self.config.kind_hypotheses]
        mass = sum(h.probability for h in hyps)
        if not hyps or mass <= 0.0:
            return {}
        out: dict[str, float] = {}
        for h in hyps:
            for a, p in self.kind_prior(graph.kind(h.entity_id), graph).items():
                out[a] = out.get(a, 0.0) + p * h.probability / mass
        return out

    def recommend(
        self, incident: Incident, alarms: Sequence[Alarm], graph: TopologyGraph
    ) -> list[Recommendation]:
        """Up to ``top`` actions, best first, each with the similar tickets as evidence."""
        cfg = self.config
        if self._vec is None or not self._actions:
            return []
        query = self._vec.transform([incident_text(incident, alarms, graph)])
        sims = np.asarray((self._matrix @ query.T).todense()).ravel() / 2.0
        k = min(cfg.k, sims.shape[0])
        nearest = np.argsort(-sims, kind="stable")[:k]
        votes: dict[str, float] = {}
        support: dict[str, list[str]] = {}
        for i in nearest:
            if sims[i] < cfg.min_similarity:
                continue
            action = self._actions[i]
            votes[action] = votes.get(action, 0.0) + float(sims[i])
            support.setdefault(action, []).append(self._ids[i])
        prior = self._root_prior(incident, graph) if cfg.kind_weight > 0 else {}
        scores = _combine(votes, prior, cfg)
        total = sum(scores.values())
        if total <= 0.0:
            return []
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[: cfg.top]
        return [
            Recommendation(
                incident_id=incident.id,
                action=action,
                confidence=round(v / total, 4),
                source=RecommendationSource.TICKETS,
                evidence=_evidence(action, votes, support, prior),
            )
            for action, v in ranked
        ]


def _combine(
    votes: dict[str, float], prior: dict[str, float], cfg: RecommenderConfig
) -> dict[str, float]:
    """Text vote share (floored) times the root-kind prior to the power ``kind_weight``."""
    total = sum(votes.values())
    if not prior:
        return dict(votes)
    if total <= 0.0:
        return {}  # no similar ticket at all: the prior alone is no evidence for this incident
    out = {}
    for a, p in prior.items():
        share = votes.get(a, 0.0) / total
        out[a] = (share + cfg.text_floor) * p**cfg.kind_weight
    return out


def _evidence(
    action: str, votes: dict[str, float], support: dict[str, list[str]], prior: dict[str, float]
) -> tuple[Evidence, ...]:
    out = []
    if action in support:
        out.append(
            Evidence(
                "similar_tickets",
                f"{len(support[action])} similar past tickets were closed with {action}",
                {"tickets": ",".join(support[action][:5]), "weight": round(votes[action], 4)},
            )
        )
    if action in prior:
        out.append(
            Evidence(
                "root_kind",
                f"{prior[action]:.0%} of past tickets on entities like the suspected root "
                f"were closed with {action}",
                {"share": round(prior[action], 4)},
            )
        )
    return tuple(out)
