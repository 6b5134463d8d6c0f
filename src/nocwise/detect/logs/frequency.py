"""Template frequency shift per entity and window: a template logged far more or less than usual.

Each entity's count of each template per tumbling window is compared with its own exponentially
weighted baseline (:mod:`nocwise.detect.logs.windows`). A retry storm, a heartbeat that stops
while the rest of the entity keeps logging, or a once-rare warning turning chatty all show up as
one template leaving its band while the others stay in theirs. One anomaly is reported per entity
and window, listing every template that shifted, with expected and observed counts.

Weak at: entities that go silent altogether (nothing is active to compare; a heartbeat check
belongs to the metric side); slow drifts, which the baseline follows; daily seasonality (the
baseline has no notion of time of day, so a window size well under the cycle plus the min_change
floor keep it quiet at the price of late detection); templates too young to have a baseline
(``min_windows``; the novelty detector covers them).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any, ClassVar, Literal, Self

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from nocwise.detect.logs.anomalies import LogAnomaly, LogAnomalyKind
from nocwise.detect.logs.events import LogEvents
from nocwise.detect.logs.windows import ClosedWindow, WindowedCounts, WindowSamples
from nocwise.model.errors import InvalidRecordError
from nocwise.model.state import ModelState

IntArray = npt.NDArray[np.int64]

SCHEMA = "nocwise.detect.logs.frequency"
VERSION = 1
SHIFT = 32  # key = entity << 32 | template


class FrequencyConfig(BaseModel):
    """Settings of the frequency shift detector."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["frequency_shift"] = "frequency_shift"
    window: timedelta = Field(timedelta(minutes=5), gt=timedelta(0))
    alpha: float = Field(0.1, gt=0.0, le=1.0, description="EWMA weight of the newest window")
    z_threshold: float = Field(4.0, gt=0.0)
    min_change: float = Field(5.0, ge=0.0, description="smallest |observed - expected| reported")
    min_windows: int = Field(8, ge=1, description="windows of baseline before a key can fire")
    learn_on_anomalies: bool = False


class FrequencyShiftDetector:
    """Per (entity, template) window counts against their EWMA baselines."""

    kind: ClassVar[str] = "frequency_shift"

    def __init__(self, config: FrequencyConfig | None = None) -> None:
        self.config = config or FrequencyConfig()
        window_ms = self.config.window // timedelta(milliseconds=1)
        self.entity_names: Sequence[str] | None = None  # from the latest batch that had them
        self.counts = WindowedCounts(window_ms, self.config.alpha, SHIFT)
        self.samples = WindowSamples(per_key=2)

    def process(self, events: LogEvents, *, learn: bool = True) -> list[LogAnomaly]:
        """Anomalies of the windows that ``events`` close (the newest window stays open)."""
        if events.entity_names is not None:
            self.entity_names = events.entity_names
        if len(events) and int(events.template.max()) >= 1 << SHIFT:
            raise InvalidRecordError("template ids must be below 2**32")
        key = (events.entity << SHIFT) | events.template
        rows = np.arange(len(events))
        self.samples.add(events.ts_ms // self.counts.window_ms, key, events.messages, rows)
        closed = self.counts.add(events.ts_ms, key, events.ts_ms, events.entity)
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
                & (np.abs(window.z) >= cfg.z_threshold)
                & (np.abs(window.observed - window.mean) >= cfg.min_change)
            )
            out.extend(self._anomalies(window, fire, events))
            if learn:
                keep = np.ones_like(fire) if cfg.learn_on_anomalies else ~fire
                self.counts.learn(window, keep)
            self.samples.drop_through(window.window)
        return out

    def _anomalies(
        self, window: ClosedWindow, fire: npt.NDArray[np.bool_], events: LogEvents
    ) -> list[LogAnomaly]:
        w_ms = self.counts.window_ms
        start, end = window.window * w_ms, (window.window + 1) * w_ms
        out = []
        entity_of = window.key >> SHIFT
        for entity in np.unique(entity_of[fire]):
            rows = np.flatnonzero(fire & (entity_of == entity))
            rows = rows[np.argsort(-np.abs(window.z[rows]), kind="stable")]
            templates = window.key[rows] & ((1 << SHIFT) - 1)
            shifts = [
                {
                    "template": int(t),
                    "expected": float(window.mean[r]),
                    "observed": float(window.observed[r]),
                    "z": float(window.z[r]),
                    "direction": "up" if window.observed[r] > window.mean[r] else "down",
                }
                for t, r in zip(templates, rows, strict=True)
            ]
            out.append(
                LogAnomaly(
                    LogAnomalyKind.FREQUENCY_SHIFT,
                    _name(self.entity_names, int(entity)),
                    end,
                    float(np.abs(window.z[rows]).max()),
                    tuple(int(t) for t in templates),
                    {
                        "window_start_ms": start,
                        "window_end_ms": end,
                        "shifts": shifts,
                        "examples": [
                            line
                            for k in window.key[rows]
                            for line in self.samples.take(window.window, int(k))
                        ][:3],
                    },
                )
            )
        return out

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
        det = cls(FrequencyConfig.model_validate(state.params["config"]))
        c = det.counts
        det.counts = WindowedCounts.restore(
            c.window_ms, c.alpha, SHIFT, state.params, state.arrays, ""
        )
        det.samples = WindowSamples.from_json(2, state.params["samples"])
        return det


def _name(names: Sequence[str] | None, entity: int) -> str:
    return names[entity] if names is not None and entity < len(names) else str(entity)
