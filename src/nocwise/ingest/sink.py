"""Where receivers hand records: a port whose methods return only once the records are durable.

Invariants every implementation keeps:
- **Durable before return.** A method returns after the records are committed (SQLite WAL commit,
  PostgreSQL commit, JetStream ack); only then does a receiver answer 2xx.
- **Idempotent.** Alarms upsert by ``alarm_id``; a ``batch_id`` seen before makes the call a no-op
  that returns 0. A client retrying after a crash therefore creates no duplicates.
- **Bounded.** When the sink cannot take more it raises :class:`Overloaded` at once with a
  retry delay instead of queueing without limit; receivers turn that into 429/503 + Retry-After.
Each method returns how many records were newly stored (0 for a replayed batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from nocwise.model import (
    Alarm,
    Change,
    Entity,
    LogRecord,
    MetricBatch,
    Relation,
    Series,
    Span,
    Ticket,
)


class Overloaded(Exception):
    """The sink is full; the caller should retry after ``retry_after_s`` seconds."""

    def __init__(self, retry_after_s: float, detail: str = "ingest queue is full") -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class Sink(Protocol):
    """The durable end of ingestion (see the module docstring for the invariants)."""

    async def alarms(self, alarms: Sequence[Alarm], batch_id: str | None = None) -> int: ...

    async def metrics(
        self, series: Sequence[Series], batch: MetricBatch, batch_id: str | None = None
    ) -> int:
        """``series`` are the series first seen in this batch (their definitions)."""
        ...

    async def logs(self, logs: Sequence[LogRecord], batch_id: str | None = None) -> int: ...

    async def spans(self, spans: Sequence[Span], batch_id: str | None = None) -> int: ...

    async def changes(self, changes: Sequence[Change], batch_id: str | None = None) -> int: ...

    async def tickets(self, tickets: Sequence[Ticket], batch_id: str | None = None) -> int: ...

    async def topology(
        self,
        entities: Sequence[Entity],
        relations: Sequence[Relation],
        batch_id: str | None = None,
    ) -> int: ...
