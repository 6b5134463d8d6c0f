"""What grouping learns: alarm-type causality from history, adjusted by operators' corrections.

``learn_causality`` fits the topological Hawkes model (``causality/``) on past alarms, with the
devices that alarmed as its nodes and "within ``reach`` hops in the live topology" as its
adjacency. ``FeedbackCausality`` then applies what operators taught by hand: a merge says the
alarm types it brought together belong together, a split says the types it pulled apart do
not. Grouping reads the result through the one-method ``CausalStrength`` protocol.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from nocwise.correlate.causality import AlarmCausalConfig, AlarmCausalModel, AlarmEvents
from nocwise.correlate.incidents import Feedback
from nocwise.model import Alarm, ModelState
from nocwise.topology.graph import TopologyGraph

MAX_DEVICES = 3000  # the learner's device adjacency is dense: beyond this, the busiest devices


def learn_causality(
    history: Sequence[Alarm],
    graph: TopologyGraph,
    type_field: str = "probable_cause",
    config: AlarmCausalConfig | None = None,
    reach: int = 2,
) -> AlarmCausalModel:
    """Fit the alarm-type causal graph on ``history`` (raises only; clears carry no cause).

    Alarm types are the values of ``type_field`` (what grouping compares); time is in seconds.
    """
    raises = [a for a in history if a.cleared_time is None]
    busiest = Counter(a.managed_object for a in raises).most_common(MAX_DEVICES)
    devices = {entity: i for i, (entity, _) in enumerate(busiest)}
    raises = [a for a in raises if a.managed_object in devices]
    names = sorted({str(getattr(a, type_field)) for a in raises})
    type_index = {t: i for i, t in enumerate(names)}
    t0 = min((a.event_time for a in raises), default=None)
    ts = np.array([(a.event_time - t0).total_seconds() for a in raises]) if t0 else np.zeros(0)
    events = AlarmEvents(
        ts.astype(np.float64),
        np.array([type_index[str(getattr(a, type_field))] for a in raises], dtype=np.int64),
        np.array([devices[a.managed_object] for a in raises], dtype=np.int64),
    )
    adjacency = device_adjacency(graph, list(devices), reach)
    return AlarmCausalModel(config).fit(events, adjacency, len(names), names)


def device_adjacency(
    graph: TopologyGraph, devices: Sequence[str], reach: int
) -> np.ndarray[tuple[int, int], np.dtype[np.bool_]]:
    """devices[i] ~ devices[j] when one depends on the other within ``reach`` hops."""
    index = {d: i for i, d in enumerate(devices)}
    adj = np.zeros((len(devices), len(devices)), dtype=bool)
    for d, i in index.items():
        near = [e for e, _ in graph.dependency_path(d, reach)]
        near += [e for e, _ in graph.dependents(d, reach)]
        for e in near:
            j = index.get(e)
            if j is not None and j != i:
                adj[i, j] = adj[j, i] = True
    return adj


def feedback_pairs(
    feedback: Iterable[Feedback],
    members_of: Mapping[str, Sequence[str]],
    type_of: Mapping[str, str],
) -> dict[tuple[str, str], int]:
    """Net votes per unordered pair of alarm types: +1 per merge that joined them, -1 per split
    that parted them. ``members_of`` gives each incident's member alarm ids as they are now.

    >>> from datetime import UTC, datetime
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> fb = [Feedback(now, "ana", "merge", ("INC-a", "INC-b"), ("b1",))]
    >>> feedback_pairs(fb, {"INC-a": ["a1", "b1"]}, {"a1": "powerProblem", "b1": "linkDown"})
    {('linkDown', 'powerProblem'): 1}
    """
    votes: Counter[tuple[str, str]] = Counter()
    for f in feedback:
        if f.action not in ("merge", "split") or not f.incident_ids:
            continue
        vote = 1 if f.action == "merge" else -1
        moved = set(f.alarm_ids)
        # a merge's moved alarms now sit beside the target's; a split's left the source's
        stayed = [a for a in members_of.get(f.incident_ids[0], ()) if a not in moved]
        moved_types = {type_of[a] for a in moved if a in type_of}
        stayed_types = {type_of[a] for a in stayed if a in type_of}
        for x in moved_types:
            for y in stayed_types:
                if x != y:
                    votes[(x, y) if x <= y else (y, x)] += vote
    return {k: v for k, v in sorted(votes.items()) if v != 0}


SCHEMA = "nocwise.correlate.grouping_causality"
VERSION = 1


class FeedbackCausality:
    """A causality model with operators' votes applied: each net vote moves the strength of a
    type pair by ``step`` (either direction, clipped to [0, 1]).

    >>> model = FeedbackCausality(None, {("a", "b"): -1, ("c", "d"): 2})
    >>> model.strength("a", "b"), model.strength("d", "c"), model.strength("a", "c")
    (0.0, 1.0, 0.0)
    """

    def __init__(
        self, base: AlarmCausalModel | None, votes: Mapping[tuple[str, str], int], step: float = 0.5
    ) -> None:
        self.base = base
        self.votes = dict(votes)
        self.step = step

    def strength(self, cause_type: str, effect_type: str) -> float:
        learned = self.base.strength(cause_type, effect_type) if self.base is not None else 0.0
        key = (cause_type, effect_type) if cause_type <= effect_type else (effect_type, cause_type)
        vote = self.votes.get(key, 0)
        if vote == 0:
            return learned
        return min(1.0, max(0.0, learned + self.step * vote))

    def to_state(self) -> ModelState:
        """Snapshot: the votes and step as JSON, the learned model's arrays prefixed ``base.``."""
        params: dict[str, Any] = {
            "votes": [[a, b, v] for (a, b), v in sorted(self.votes.items())],
            "step": self.step,
            "base": None,
        }
        arrays = {}
        if self.base is not None:
            base = self.base.to_state()
            params["base"] = {"schema": base.schema, "version": base.version, "params": base.params}
            arrays = {f"base.{k}": v for k, v in base.arrays.items()}
        return ModelState(SCHEMA, VERSION, params, arrays)

    @classmethod
    def from_state(cls, state: ModelState) -> FeedbackCausality:
        """Rebuild from :meth:`to_state`."""
        state.expect(SCHEMA, VERSION)
        p = state.params
        base = None
        if p["base"] is not None:
            arrays = {k[5:]: v for k, v in state.arrays.items() if k.startswith("base.")}
            b = p["base"]
            base = AlarmCausalModel.from_state(
                ModelState(b["schema"], int(b["version"]), b["params"], arrays)
            )
        votes = {(str(a), str(b)): int(v) for a, b, v in p["votes"]}
        return cls(base, votes, float(p["step"]))
