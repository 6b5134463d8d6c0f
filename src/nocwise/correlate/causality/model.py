"""Learned alarm-type causality: which alarm types trigger which, learned from alarm history.

A topological Hawkes process (Cai et al., "THP: Topological Hawkes Processes for Learning Causal
Structure on Event Sequences", IEEE TNNLS 2022, arXiv:2105.10884): an alarm of type u raised on a
device raises the intensity of type v on the same device and on its topology neighbours up to
``max_hop`` links away, decaying exponentially with time.

Where it departs from THP, and why:

* each device has its own baseline rate per type, and only devices that ever raise v are at
  risk of v: a noisy board is not evidence of causality;
* the search adds the best edge over all pairs at each step and refits only the effect type
  that changed (:mod:`nocwise.correlate.causality.search`), so it converges in seconds;
* indirect causes, which the multivariate likelihood explains away, are added back along the
  learned order when the pair's alarms are dependent on their own
  (:func:`~nocwise.correlate.causality.search.ancestral_completion`).

Weak at: orientation when cause and effect are raised in the same second (ties carry no order,
so such pairs are oriented only by weaker lagged evidence, and a wrong direction in the learned
DAG is copied to the indirect edges below it); one decay time for every pair; where only direct
causes are wanted, the indirect edges are extra (set ``ancestral=False``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Self

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt

from nocwise.correlate.causality.children import child_data
from nocwise.correlate.causality.events import AlarmEvents
from nocwise.correlate.causality.excitation import ring_lists
from nocwise.correlate.causality.search import ancestral_completion, greedy_dag, pairwise
from nocwise.model.state import ModelState

SCHEMA = "nocwise.correlate.causality.topological_hawkes"
VERSION = 1


class AlarmCausalConfig(BaseModel):
    """Settings of the topological Hawkes learner.

    ``decay_s`` is the kernel's time constant in the events' time unit (THP's default
    ``delta = 0.1`` is 10); ``penalty`` is the per-parameter information criterion;
    ``ancestral`` also reports indirect causes (see :func:`ancestral_completion`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["topological_hawkes"] = "topological_hawkes"
    decay_s: PositiveFloat = 10.0
    max_hop: int = Field(default=1, ge=0, le=4)
    penalty: Literal["bic", "aic"] = "bic"
    ancestral: bool = True
    max_em_iter: PositiveInt = 300
    em_tol: PositiveFloat = 1e-9


class AlarmCausalModel:
    """Alarm type -> alarm type causal graph with a strength per edge, for incident grouping."""

    def __init__(self, config: AlarmCausalConfig | None = None) -> None:
        self.config = config or AlarmCausalConfig()
        self.adjacency = np.zeros((0, 0), dtype=bool)
        self.share = np.zeros((0, 0))
        self.gain = np.zeros((0, 0))
        self.type_names: list[str] = []

    @property
    def n_types(self) -> int:
        return int(self.adjacency.shape[0])

    def fit(
        self,
        events: AlarmEvents,
        topology: npt.NDArray[np.bool_] | None = None,
        n_types: int | None = None,
        type_names: Sequence[str] | None = None,
    ) -> Self:
        """Learn the graph from one window of history; ``topology`` is the device adjacency.

        ``type_names[i]`` names alarm type i (e.g. its probable cause) so that grouping can ask
        for strengths by name.
        """
        cfg = self.config
        k = max(n_types or 0, len(type_names or ()), int(events.alarm_type.max(initial=-1)) + 1)
        self.type_names = list(type_names or [])
        n_dev = int(events.device.max(initial=-1)) + 1
        if topology is not None:
            n_dev = max(n_dev, topology.shape[0])
        if len(events) == 0:
            self._set(np.zeros((k, k), dtype=bool), np.zeros((k, k)), np.zeros((k, k)))
            return self
        hops = cfg.max_hop if topology is not None else 0
        rings = ring_lists(topology, n_dev, hops)
        per_edge = len(rings) * (np.log(len(events)) / 2 if cfg.penalty == "bic" else 1.0)
        ordered = child_data(events, k, n_dev, rings, cfg.decay_s, include_ties=False)
        found = greedy_dag(ordered, per_edge, cfg.max_em_iter, cfg.em_tol)
        share = np.zeros((k, k))
        for v, fit in enumerate(found.fits):
            share[found.parents[v], v] = fit.share
        gain = found.gain.copy()
        adjacency = found.adjacency
        if cfg.ancestral:
            tied = child_data(events, k, n_dev, rings, cfg.decay_s, include_ties=True)
            pair_gain, pair_share = pairwise(tied, cfg.max_em_iter, cfg.em_tol)
            adjacency = ancestral_completion(found.adjacency, pair_gain, per_edge)
            indirect = adjacency & ~found.adjacency
            share[indirect] = pair_share[indirect]
            gain[indirect] = np.maximum(pair_gain, pair_gain.T)[indirect]
        np.fill_diagonal(share, 0.0)
        share = np.clip(share, 0.0, 1.0)  # EM shares can overshoot 1 by a rounding error
        self._set(adjacency, share * adjacency, gain * adjacency)
        return self

    def _set(
        self,
        adjacency: npt.NDArray[np.bool_],
        share: npt.NDArray[np.float64],
        gain: npt.NDArray[np.float64],
    ) -> None:
        self.adjacency, self.share, self.gain = adjacency, share, gain

    def strength(self, cause_type: int | str, effect_type: int | str) -> float:
        """Share of effect alarms the model attributes to cause alarms, in [0, 1] (0: no edge).

        Types are indices or, when fitted with ``type_names``, names; unknown types give 0.
        """
        cause, effect = self._index(cause_type), self._index(effect_type)
        if cause < 0 or effect < 0:
            return 0.0
        return float(self.share[cause, effect])

    def _index(self, alarm_type: int | str) -> int:
        if isinstance(alarm_type, str):
            return self.type_names.index(alarm_type) if alarm_type in self.type_names else -1
        return alarm_type if 0 <= alarm_type < self.n_types else -1

    def edges(self) -> list[tuple[int, int, float]]:
        """Learned edges (cause, effect, strength), strongest first."""
        causes, effects = np.nonzero(self.adjacency)
        out = [
            (int(c), int(e), self.strength(int(c), int(e)))
            for c, e in zip(causes, effects, strict=True)
        ]
        return sorted(out, key=lambda t: (-t[2], t[0], t[1]))

    def to_state(self) -> ModelState:
        """Snapshot: config as JSON, graph, strengths and likelihood gains as arrays."""
        return ModelState(
            SCHEMA,
            VERSION,
            {"config": self.config.model_dump(), "type_names": self.type_names},
            {"adjacency": self.adjacency, "share": self.share, "gain": self.gain},
        )

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """Rebuild a model written by :meth:`to_state`."""
        state.expect(SCHEMA, VERSION)
        model = cls(AlarmCausalConfig.model_validate(state.params["config"]))
        model.type_names = [str(n) for n in state.params.get("type_names", [])]
        model._set(
            state.arrays["adjacency"].astype(bool),
            state.arrays["share"].astype(np.float64),
            state.arrays["gain"].astype(np.float64),
        )
        return model
