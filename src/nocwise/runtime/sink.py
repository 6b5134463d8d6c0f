"""The runtime as the durable end of ingestion: every protocol receiver hands records here."""

from __future__ import annotations

from collections.abc import Sequence

from nocwise.bus import BusFullError
from nocwise.ingest.sink import Overloaded
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
from nocwise.runtime.runtime import Runtime


class RuntimeSink:
    """Stores through the runtime's stores, then publishes to the pipeline (see ingest.sink)."""

    def __init__(self, runtime: Runtime, source: str = "ingest") -> None:
        self.runtime = runtime
        self.source = source

    def _check(self, topic: str) -> None:
        try:
            self.runtime.check_capacity(topic)
        except BusFullError as exc:
            raise Overloaded(exc.retry_after_s, str(exc)) from exc

    async def alarms(self, alarms: Sequence[Alarm], batch_id: str | None = None) -> int:
        self._check("alarms")
        fresh = await self.runtime.ingest_alarms(alarms, batch_id, source=self.source)
        return len(alarms) if fresh else 0

    async def metrics(
        self, series: Sequence[Series], batch: MetricBatch, batch_id: str | None = None
    ) -> int:
        del batch_id
        self._check("metrics")
        await self.runtime.ingest_metrics(series, batch)
        return len(batch)

    async def logs(self, logs: Sequence[LogRecord], batch_id: str | None = None) -> int:
        del batch_id
        self._check("logs")
        await self.runtime.ingest_logs(logs)
        return len(logs)

    async def spans(self, spans: Sequence[Span], batch_id: str | None = None) -> int:
        del batch_id
        self.runtime.metrics.received.labels(self.source, "span").inc(len(spans))
        return len(spans)

    async def changes(self, changes: Sequence[Change], batch_id: str | None = None) -> int:
        del batch_id
        await self.runtime.ingest_changes(changes)
        return len(changes)

    async def tickets(self, tickets: Sequence[Ticket], batch_id: str | None = None) -> int:
        del batch_id
        await self.runtime.ingest_tickets(tickets)
        return len(tickets)

    async def topology(
        self, entities: Sequence[Entity], relations: Sequence[Relation], batch_id: str | None = None
    ) -> int:
        del batch_id
        await self.runtime.ingest_topology(entities, relations)
        return len(entities) + len(relations)
