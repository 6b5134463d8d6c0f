"""Per-source health: what arrived, when, how fast, and what was rejected for which reason.

Counts are kept in plain objects (the API and console read :meth:`HealthBoard.snapshot`) and
exported to Prometheus through a collector, so several apps in one process (tests) never clash
on a global registry.

>>> from datetime import UTC, datetime
>>> board = HealthBoard()
>>> h = board.source("alertmanager")
>>> h.record(3, [Rejection("bad_time", "startsAt", 1)], datetime(2026, 1, 1, tzinfo=UTC))
>>> h.received, dict(h.rejected)
(3, {'bad_time': 1})
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from nocwise.ingest.base import Rejection

log = logging.getLogger("nocwise.ingest")

RATE_WINDOW_S = 60


@dataclass(slots=True)
class SourceHealth:
    """Counters of one source."""

    name: str
    received: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    last_received: datetime | None = None
    last_rejection: Rejection | None = None
    overloaded: int = 0
    _window: deque[tuple[int, int, int]] = field(default_factory=deque)  # (second, ok, bad)

    def record(self, accepted: int, rejections: Sequence[Rejection], now: datetime) -> None:
        """Count one delivery; every rejection is counted by reason and logged with its detail."""
        self.received += accepted
        if accepted:
            self.last_received = now
        for r in rejections:
            self.rejected[r.reason] += 1
            self.last_rejection = r
        if rejections:
            first = rejections[0]
            log.warning(
                "%s: rejected %d item(s); first: %s (%s) at index %s",
                self.name, len(rejections), first.reason, first.detail, first.index,
            )  # fmt: skip
        sec = int(now.timestamp())
        if self._window and self._window[-1][0] == sec:
            _, ok, bad = self._window[-1]
            self._window[-1] = (sec, ok + accepted, bad + len(rejections))
        else:
            self._window.append((sec, accepted, len(rejections)))
        while self._window and self._window[0][0] <= sec - RATE_WINDOW_S:
            self._window.popleft()

    def rates(self, now: datetime) -> tuple[float, float]:
        """Accepted and rejected items per second over the last minute."""
        cut = int(now.timestamp()) - RATE_WINDOW_S
        ok = sum(o for s, o, _ in self._window if s > cut)
        bad = sum(b for s, _, b in self._window if s > cut)
        return ok / RATE_WINDOW_S, bad / RATE_WINDOW_S

    def snapshot(self, now: datetime) -> dict[str, Any]:
        """Plain data for the API and console."""
        ok_rate, bad_rate = self.rates(now)
        last = self.last_rejection
        return {
            "source": self.name,
            "received": self.received,
            "rejected": dict(self.rejected),
            "overloaded": self.overloaded,
            "last_received": self.last_received.isoformat() if self.last_received else None,
            "rate_per_s": ok_rate,
            "reject_rate_per_s": bad_rate,
            "last_rejection": None
            if last is None
            else {"reason": last.reason, "detail": last.detail, "index": last.index},
        }


class HealthBoard:
    """All sources' health, by source name."""

    def __init__(self) -> None:
        self._sources: dict[str, SourceHealth] = {}

    def source(self, name: str) -> SourceHealth:
        """The health of a source, created on first use."""
        h = self._sources.get(name)
        if h is None:
            h = self._sources[name] = SourceHealth(name)
        return h

    def __iter__(self) -> Iterator[SourceHealth]:
        return iter(list(self._sources.values()))

    def snapshot(self, now: datetime) -> list[dict[str, Any]]:
        return [h.snapshot(now) for h in self]

    def register(self, registry: CollectorRegistry) -> None:
        """Export the counters on ``registry`` (the app's ``/metrics``)."""
        registry.register(_Collector(self))


class _Collector(Collector):
    def __init__(self, board: HealthBoard) -> None:
        self._board = board

    def collect(self) -> Iterator[Metric]:
        received = CounterMetricFamily(
            "nocwise_ingest_received", "Records accepted per source", labels=["source"]
        )
        rejected = CounterMetricFamily(
            "nocwise_ingest_rejected",
            "Items rejected per source and reason",
            labels=["source", "reason"],
        )
        overloaded = CounterMetricFamily(
            "nocwise_ingest_overloaded", "Deliveries refused with 429/503", labels=["source"]
        )
        last = GaugeMetricFamily(
            "nocwise_ingest_last_received_seconds",
            "Unix time of the last record",
            labels=["source"],
        )
        for h in self._board:
            received.add_metric([h.name], h.received)
            overloaded.add_metric([h.name], h.overloaded)
            for reason, n in h.rejected.items():
                rejected.add_metric([h.name, reason], n)
            if h.last_received is not None:
                last.add_metric([h.name], h.last_received.timestamp())
        yield from (received, rejected, overloaded, last)
