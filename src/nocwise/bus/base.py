"""The Bus protocol. Stages never call each other: they publish and subscribe to topics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

TOPICS: tuple[str, ...] = (
    "metrics",
    "logs",
    "spans",
    "alarms",
    "changes",
    "tickets",
    "topology",
    "anomalies",
    "incidents",
    "actions",
)


class BusFullError(RuntimeError):
    """A bounded queue is full: ingest answers 429/503 with Retry-After."""

    def __init__(self, topic: str, retry_after_s: float = 1.0) -> None:
        self.topic = topic
        self.retry_after_s = retry_after_s
        super().__init__(f"topic {topic!r} is full; retry after {retry_after_s:g}s")


class Bus(Protocol):
    """Publish/subscribe of Python objects (in-process) or encoded records (NATS)."""

    async def publish(self, topic: str, item: object) -> None:
        """Deliver to every subscriber; waits while a bounded queue is full."""
        ...

    def try_publish(self, topic: str, item: object) -> None:
        """Deliver without waiting, or raise BusFullError."""
        ...

    def subscribe(self, topic: str, group: str) -> AsyncIterator[object]:
        """Items of ``topic``; subscribers of one ``group`` share the stream."""
        ...

    def depth(self, topic: str) -> int:
        """Items waiting in the fullest queue of ``topic``."""
        ...

    async def close(self) -> None:
        """Stop delivering; subscribers end."""
        ...
