"""What a log anomaly detector reports: one small, frozen record with its evidence.

The pipeline turns each :class:`LogAnomaly` into an Alarm; the evidence travels with it so that an
operator sees the template, example lines and expected vs observed counts without a query.

>>> a = LogAnomaly(LogAnomalyKind.NEW_TEMPLATE, "host-1", 1000, 1.0, (7,), {"count": 1})
>>> a.kind.value, a.entity_id, a.template_ids
('new_template', 'host-1', (7,))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Protocol, Self

from nocwise.detect.logs.events import LogEvents
from nocwise.model.state import ModelState


class LogAnomalyKind(StrEnum):
    """The closed set of log anomalies nocwise reports."""

    NEW_TEMPLATE = "new_template"
    FREQUENCY_SHIFT = "frequency_shift"
    ERROR_BURST = "error_burst"
    UNEXPECTED_SEQUENCE = "unexpected_sequence"
    RARE_TEMPLATE = "rare_template"


@dataclass(frozen=True, slots=True)
class LogAnomaly:
    """An anomaly in the logs of one entity.

    ``ts_ms`` is when it was seen (the line, or the end of the window), ``score`` how abnormal it
    is on the detector's own scale (higher is worse) and ``template_ids`` the templates involved.
    ``evidence`` holds plain JSON values only.
    """

    kind: LogAnomalyKind
    entity_id: str
    ts_ms: int
    score: float
    template_ids: tuple[int, ...]
    evidence: Mapping[str, Any]


class LogDetector(Protocol):
    """A log anomaly detector over :class:`LogEvents` batches.

    Batches arrive in time order per entity; all time comes from the events or from ``now_ms``,
    never from the wall clock. ``process`` is the streaming step: it reports anomalies and, when
    ``learn`` is true, updates the baseline from what it saw (anomalous parts excluded unless the
    config says otherwise). ``tick`` closes whatever is due by ``now_ms`` (windows, sessions).
    """

    kind: ClassVar[str]

    def process(self, events: LogEvents, *, learn: bool = True) -> list[LogAnomaly]:
        """Anomalies in ``events``; learns from them when ``learn`` is true."""
        ...

    def tick(self, now_ms: int, *, learn: bool = True) -> list[LogAnomaly]:
        """Anomalies that become due at ``now_ms`` without new events."""
        ...

    def to_state(self) -> ModelState:
        """A versioned snapshot of plain values and arrays."""
        ...

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """Rebuild the detector from :meth:`to_state`'s snapshot."""
        ...
