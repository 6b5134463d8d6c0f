"""Columnar log events for the log anomaly detectors: one row per line, no per-line objects.

The template miner turns a line into a template id; the pipeline turns its source into a dense
entity index. What the detectors need from a line is then four integers, which keeps them fast and
independent of how lines were parsed.

>>> ev = LogEvents.of([1000, 2000], [0, 0], [7, 8], [6, 3])
>>> len(ev), ev.n_entities_hint
(2, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nocwise.model.errors import InvalidRecordError
from nocwise.model.logs import LogRecord

IntArray = npt.NDArray[np.int64]

#: RFC 5424 severities at or below this value (emergency .. error) count as errors.
ERROR_SEVERITY = 3


@dataclass(frozen=True, slots=True)
class LogEvents:
    """Log lines as parallel arrays: line *i* came from ``entity[i]`` at ``ts_ms[i]``.

    ``template`` is the miner's template id and ``severity`` the RFC 5424 level (0 emergency ..
    7 debug). ``entity_names[e]`` names entity index *e* and ``messages[i]`` is line *i*'s text;
    both are optional and only feed the evidence of an anomaly. ``reporter[i]`` is -1 for a line
    the entity logged itself and the logging entity's index for a line that only names
    ``entity[i]`` (see :meth:`with_reports`); None means every line is the entity's own. Arrays
    are not copied.
    """

    ts_ms: IntArray
    entity: IntArray
    template: IntArray
    severity: IntArray
    entity_names: Sequence[str] | None = None
    messages: Sequence[str] | None = None
    reporter: IntArray | None = None

    def __post_init__(self) -> None:
        n = self.ts_ms.shape[0]
        for name in ("ts_ms", "entity", "template", "severity"):
            arr = getattr(self, name)
            if arr.shape != (n,) or arr.dtype != np.int64:
                raise InvalidRecordError(f"LogEvents.{name} must be int64 of shape ({n},)")
        if n and (self.entity.min() < 0 or self.template.min() < 0):
            raise InvalidRecordError("LogEvents entity and template ids must be >= 0")
        if self.messages is not None and len(self.messages) != n:
            raise InvalidRecordError("LogEvents.messages must have one entry per event")
        if self.reporter is not None and (
            self.reporter.shape != (n,) or self.reporter.dtype != np.int64
        ):
            raise InvalidRecordError(f"LogEvents.reporter must be int64 of shape ({n},)")

    @classmethod
    def of(
        cls,
        ts_ms: object,
        entity: object,
        template: object,
        severity: object,
        entity_names: Sequence[str] | None = None,
        messages: Sequence[str] | None = None,
    ) -> LogEvents:
        """Build from any array-likes, converting dtypes."""
        return cls(
            np.asarray(ts_ms, dtype=np.int64).reshape(-1),
            np.asarray(entity, dtype=np.int64).reshape(-1),
            np.asarray(template, dtype=np.int64).reshape(-1),
            np.asarray(severity, dtype=np.int64).reshape(-1),
            entity_names,
            messages,
        )

    @classmethod
    def empty(cls) -> LogEvents:
        """No events."""
        return cls.of([], [], [], [])

    def __len__(self) -> int:
        return int(self.ts_ms.shape[0])

    @property
    def n_entities_hint(self) -> int:
        """One more than the largest entity index: the state size a detector needs."""
        return int(self.entity.max()) + 1 if len(self) else 0

    def name_of(self, entity: int) -> str:
        """The entity's name for evidence, or its index when no names were given."""
        names = self.entity_names
        return names[entity] if names is not None and entity < len(names) else str(entity)

    def with_reports(self, rows: IntArray, about: IntArray) -> LogEvents:
        """These events and, right after line ``rows[k]``, a copy of it as a line of entity
        ``about[k]`` reported by the line's own entity (its text prefixed with that entity's
        name, so every detector's examples say who logged it)."""
        if not rows.size:
            return self
        n = len(self)
        order = np.argsort(np.concatenate([np.arange(n), rows]), kind="stable")
        own = self.reporter if self.reporter is not None else np.full(n, -1, np.int64)
        messages = None
        if self.messages is not None:
            texts = [*self.messages]
            texts += [
                f"{self.name_of(int(e))}: {texts[int(i)]}"
                for i, e in zip(rows, self.entity[rows], strict=True)
            ]
            messages = [texts[i] for i in order.tolist()]
        return LogEvents(
            np.concatenate([self.ts_ms, self.ts_ms[rows]])[order],
            np.concatenate([self.entity, about.astype(np.int64)])[order],
            np.concatenate([self.template, self.template[rows]])[order],
            np.concatenate([self.severity, self.severity[rows]])[order],
            self.entity_names,
            messages,
            np.concatenate([own, self.entity[rows]])[order],
        )

    def reporters(self, rows: IntArray) -> list[str]:
        """The entities that logged lines ``rows`` about another entity, by name, in order."""
        if self.reporter is None:
            return []
        who = self.reporter[rows]
        return [self.name_of(int(e)) for e in dict.fromkeys(who[who >= 0].tolist())]

    def examples(self, rows: IntArray, limit: int = 3) -> list[str]:
        """Up to ``limit`` example lines for evidence (empty when no messages were given)."""
        if self.messages is None:
            return []
        return [self.messages[int(i)] for i in rows[:limit]]


class EntityIndex:
    """Dense entity indices for log sources, so detector state can live in arrays.

    A line belongs to the most specific entity it names: the canonical ``entity_id`` if set, else
    the OpenTelemetry resource (``service.name`` on ``host.name``), else the host, else the app,
    else the trace. Indices are stable for the life of the index and never reused.
    """

    def __init__(self, names: Sequence[str] = ()) -> None:
        self.names: list[str] = list(names)
        self._index = {n: i for i, n in enumerate(self.names)}

    @staticmethod
    def key_of(record: LogRecord) -> str:
        """The entity a log line is about."""
        if record.entity_id:
            return record.entity_id
        attrs = record.attributes
        service = attrs.get("service.name")
        host = attrs.get("host.name") or record.host
        if service:
            return f"{host}/{service}" if host else service
        if host:
            return host
        if record.app:
            return record.app
        if record.trace_id:
            return f"trace:{record.trace_id}"
        return record.source or "unknown"

    def index_of(self, name: str) -> int:
        """The dense index of ``name``, assigning the next one on first sight."""
        i = self._index.get(name)
        if i is None:
            i = len(self.names)
            self._index[name] = i
            self.names.append(name)
        return i

    def events(self, records: Sequence[LogRecord]) -> LogEvents:
        """Columnar events for mined records (each must carry its ``template_id``)."""
        if any(r.template_id is None for r in records):
            raise InvalidRecordError("every record needs a template_id before anomaly detection")
        return LogEvents.of(
            [int(r.ts.timestamp() * 1000) for r in records],
            [self.index_of(self.key_of(r)) for r in records],
            [r.template_id for r in records],
            [r.severity for r in records],
            entity_names=self.names,
            messages=[r.message for r in records],
        )
