"""New template seen: the first line of a template the system has never logged before.

A new template after a long quiet history is one of the cheapest and most telling signals an
operator gets (a new error path, a new software version, a misconfiguration). It fires once per
template, then the template is known. The score is the surprise of seeing any new template at all,
``-ln P(new)``, with ``P(new)`` the Good-Turing estimate: templates seen once over lines seen
(Good, "The population frequencies of species and the estimation of population parameters",
Biometrika 40, 1953). A new template in a young, still-growing catalogue scores low; in a mature
one it scores high.

Weak at: a template miner that splits one message into many templates (each fires); a message
that is new only in its parameters (the same template, see the frequency and sequence detectors).

>>> det = NoveltyDetector()
>>> [a.template_ids for a in det.process(LogEvents.of([1, 2, 3], [0, 0, 1], [4, 4, 9], [6, 6, 3]))]
[(4,), (9,)]
>>> det.process(LogEvents.of([5], [1], [9], [3]))
[]
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, Literal, Self

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from nocwise.detect.logs.anomalies import LogAnomaly, LogAnomalyKind
from nocwise.detect.logs.events import LogEvents
from nocwise.model.state import ModelState

IntArray = npt.NDArray[np.int64]

SCHEMA = "nocwise.detect.logs.novelty"
VERSION = 1


class NoveltyConfig(BaseModel):
    """Settings of the new-template detector."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["new_template"] = "new_template"
    warmup: timedelta = Field(
        timedelta(0), description="templates first seen this soon after the first line are learned"
    )


class NoveltyDetector:
    """Remembers every template id seen and reports each new one once."""

    kind: ClassVar[str] = "new_template"

    def __init__(self, config: NoveltyConfig | None = None) -> None:
        self.config = config or NoveltyConfig()
        self.seen = np.zeros(0, dtype=np.int64)  # sorted template ids
        self.count = np.zeros(0, dtype=np.int64)  # lines per seen template
        self.first_ts_ms: int | None = None

    def is_known(self, template: IntArray) -> npt.NDArray[np.bool_]:
        """Whether each template id has been seen."""
        idx = np.minimum(np.searchsorted(self.seen, template), max(self.seen.size - 1, 0))
        return self.seen[idx] == template if self.seen.size else np.zeros(template.shape, bool)

    def process(self, events: LogEvents, *, learn: bool = True) -> list[LogAnomaly]:
        """One anomaly per template first seen in ``events`` (at its first line)."""
        if not len(events):
            return []
        if self.first_ts_ms is None:
            self.first_ts_ms = int(events.ts_ms.min())
        warm_until = self.first_ts_ms + self.config.warmup // timedelta(milliseconds=1)
        new_rows = np.flatnonzero(~self.is_known(events.template))
        new_ids, first = np.unique(events.template[new_rows], return_index=True)
        by_time = np.argsort(first, kind="stable")  # report in the order they appeared
        new_ids, first_rows = new_ids[by_time], new_rows[first[by_time]]
        singletons = int((self.count == 1).sum())
        total = int(self.count.sum())
        surprise = float(-np.log((singletons + 1) / (total + 1)))
        out = []
        for template, row in zip(new_ids, first_rows, strict=True):
            if events.ts_ms[row] < warm_until:
                continue
            rows = new_rows[events.template[new_rows] == template]
            entities = np.unique(events.entity[rows])
            out.append(
                LogAnomaly(
                    LogAnomalyKind.NEW_TEMPLATE,
                    events.name_of(int(events.entity[row])),
                    int(events.ts_ms[row]),
                    surprise,
                    (int(template),),
                    {
                        "template": int(template),
                        "count": int(rows.size),
                        "entities": [events.name_of(int(e)) for e in entities[:5]],
                        "known_templates": int(self.seen.size),
                        "lines_seen": total,
                        "examples": events.examples(rows),
                    },
                )
            )
        if learn:
            ids, inv = np.unique(np.concatenate([self.seen, events.template]), return_inverse=True)
            weights = np.concatenate([self.count, np.ones(len(events), np.int64)])
            self.seen = ids.astype(np.int64)
            self.count = np.bincount(inv, weights=weights, minlength=ids.size).astype(np.int64)
        return out

    def tick(self, now_ms: int, *, learn: bool = True) -> list[LogAnomaly]:
        """Nothing becomes due with time alone."""
        del now_ms, learn
        return []

    def to_state(self) -> ModelState:
        """Seen templates and their line counts."""
        return ModelState(
            SCHEMA,
            VERSION,
            {"config": self.config.model_dump(mode="json"), "first_ts_ms": self.first_ts_ms},
            {"seen": self.seen, "count": self.count},
        )

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """Rebuild from :meth:`to_state`."""
        state.expect(SCHEMA, VERSION)
        det = cls(NoveltyConfig.model_validate(state.params["config"]))
        det.seen = state.arrays["seen"].astype(np.int64)
        det.count = state.arrays["count"].astype(np.int64)
        first = state.params["first_ts_ms"]
        det.first_ts_ms = None if first is None else int(first)
        return det
