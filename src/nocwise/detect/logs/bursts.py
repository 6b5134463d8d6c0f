"""Error and severity bursts: an entity logging many more error lines per window than it usually does.

Lines at or above a severity (RFC 5424: 3 = error and worse by default) are counted per entity
and tumbling window and compared with the entity's own exponentially weighted baseline
(:mod:`nocwise.detect.logs.windows`), so a chatty component that always logs errors is not a
burst while a quiet one suddenly logging ten is. Windows where the entity logged only normal
lines count as zero errors, so the baseline knows what quiet looks like.

Weak at: entities too young to have ``min_windows`` of history (a new node that starts in
trouble); bursts shorter than a window in a chatty entity (diluted); severities that the source
sets wrongly (many applications log everything at one level).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any, ClassVar, Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from nocwise.detect.logs.anomalies import LogAnomaly, LogAnomalyKind
from nocwise.detect.logs.events import ERROR_SEVERITY, LogEvents
from nocwise.detect.logs.windows import ClosedWindow, WindowedCounts, WindowSamples
from nocwise.model.state import ModelState

SCHEMA = "nocwise.detect.logs.bursts"
VERSION = 1
SHIFT = 32  # evidence keys: entity << 32 | template


class BurstConfig(BaseModel):
    """Settings of the error burst detector."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["error_burst"] = "error_burst"
    window: timedelta = Field(timedelta(minutes=1), gt=timedelta(0))
    severity_at_most: int = Field(ERROR_SEVERITY, ge=0, le=7, description="RFC 5424 level")
    alpha: float = Field(0.1, gt=0.0, le=1.0)
    z_threshold: float = Field(4.0, gt=0.0)
    min_count: int = Field(10, ge=1, description="fewest error lines in a window to report")
    min_windows: int = Field(5, ge=1, description="windows of baseline before an entity can fire")
    learn_on_anomalies: bool = False


class BurstDetector:
    """Per-entity error line counts per window against their EWMA baselines."""

    kind: ClassVar[str] = "error_burst"

    def __init__(self, config: BurstConfig | None = None) -> None:
        self.config = config or BurstConfig()
        window_ms = self.config.window // timedelta(milliseconds=1)
        self.entity_names: Sequence[str] | None = None  # from the latest batch that had them
        self.counts = WindowedCounts(window_ms, self.config.alpha, 0)
        self.samples = WindowSamples(per_key=3)  # error lines by (entity << 32 | template)

    def process(self, events: LogEvents, *, learn: bool = True) -> list[LogAnomaly]:
        """Anomalies of the windows that ``events`` close (the newest window stays open)."""
        if events.entity_names is not None:
            self.entity_names = events.entity_names
        err = events.severity <= self.config.severity_at_most
        rows = np.flatnonzero(err)
        key = (events.entity[rows] << SHIFT) | events.template[rows]
        window = events.ts_ms[rows] // self.counts.window_ms
        self.samples.add(window, key, events.messages, rows)
        closed = self.counts.add(events.ts_ms[err], events.entity[err], events.ts_ms, events.entity)
        return self._judge(closed, events, learn)

    def tick(self, now_ms: int, *, learn: bool = True) -> list[LogAnomaly]:
        """Close the open window once ``now_ms`` has passed its end."""
        return self._judge(self.counts.close_until(now_ms), LogEvents.empty(), learn)

    def _judge(
        self, closed: Iterator[ClosedWindow], events: LogEvents, learn: bool
    ) -> list[LogAnomaly]:
        cfg, out = self.config, list[LogAnomaly]()
        for window in closed:
            fire = (
                (window.windows_seen >= cfg.min_windows)
                & (window.z >= cfg.z_threshold)
                & (window.observed >= cfg.min_count)
            )
            out.extend(self._anomaly(window, int(r), events) for r in np.flatnonzero(fire))
            if learn:
                keep = np.ones_like(fire) if cfg.learn_on_anomalies else ~fire
                self.counts.learn(window, keep)
            self.samples.drop_through(window.window)
        return out

    def _anomaly(self, window: ClosedWindow, r: int, events: LogEvents) -> LogAnomaly:
        w_ms = self.counts.window_ms
        start, end = window.window * w_ms, (window.window + 1) * w_ms
        entity = int(window.key[r])
        keys, counts = self.samples.sub_counts(window.window)
        mine = (keys >> SHIFT) == entity
        keys, counts = keys[mine], counts[mine]
        templates = keys & ((1 << SHIFT) - 1)
        top = np.argsort(-counts, kind="stable")[:5]
        examples = [line for i in top for line in self.samples.take(window.window, int(keys[i]))][
            :3
        ]
        evidence: dict[str, Any] = {
            "window_start_ms": start,
            "window_end_ms": end,
            "severity_at_most": self.config.severity_at_most,
            "expected": float(window.mean[r]),
            "observed": float(window.observed[r]),
            "z": float(window.z[r]),
            "top_templates": [
                {"template": int(templates[i]), "count": int(counts[i])} for i in top
            ],
            "examples": examples,
        }
        return LogAnomaly(
            LogAnomalyKind.ERROR_BURST,
            _name(self.entity_names, entity),
            end,
            float(window.z[r]),
            tuple(int(templates[i]) for i in top),
            evidence,
        )

    def to_state(self) -> ModelState:
        """Baselines and the open window's partial counts."""
        params: dict[str, Any] = {"config": self.config.model_dump(mode="json")}
        params |= self.counts.params()
        params["samples"] = self.samples.to_json()
        return ModelState(SCHEMA, VERSION, params, self.counts.arrays(""))

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """Rebuild from :meth:`to_state`."""
        state.expect(SCHEMA, VERSION)
        det = cls(BurstConfig.model_validate(state.params["config"]))
        c = det.counts
        det.counts = WindowedCounts.restore(c.window_ms, c.alpha, 0, state.params, state.arrays, "")
        det.samples = WindowSamples.from_json(3, state.params["samples"])
        return det


def _name(names: Sequence[str] | None, entity: int) -> str:
    return names[entity] if names is not None and entity < len(names) else str(entity)
