"""In-process bus on bounded asyncio queues: one queue per (topic, group)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from nocwise.bus.base import TOPICS, BusFullError

_CLOSED = object()


class MemoryBus:
    """The embedded default. Bounded: a full queue blocks ``publish`` and fails ``try_publish``.

    Items published before a group subscribes are not replayed (the durable copy is the store).
    """

    def __init__(self, max_queue: int = 10_000) -> None:
        self._max = max_queue
        self._queues: dict[str, dict[str, asyncio.Queue[object]]] = {t: {} for t in TOPICS}
        self._closed = False

    def _topic(self, topic: str) -> dict[str, asyncio.Queue[object]]:
        try:
            return self._queues[topic]
        except KeyError:
            raise ValueError(f"unknown topic {topic!r}; topics are {', '.join(TOPICS)}") from None

    async def publish(self, topic: str, item: object) -> None:
        for queue in list(self._topic(topic).values()):
            await queue.put(item)

    def try_publish(self, topic: str, item: object) -> None:
        queues = list(self._topic(topic).values())
        if any(q.full() for q in queues):
            raise BusFullError(topic)
        for queue in queues:
            queue.put_nowait(item)

    def queue_for(self, topic: str, group: str) -> asyncio.Queue[object]:
        """Create (or get) the queue of a subscriber group, so nothing published after is missed."""
        queues = self._topic(topic)
        if group not in queues:
            queues[group] = asyncio.Queue(self._max)
        return queues[group]

    async def subscribe(self, topic: str, group: str) -> AsyncIterator[object]:
        queue = self.queue_for(topic, group)
        while True:
            item = await queue.get()
            if item is _CLOSED:
                return
            yield item

    def depth(self, topic: str) -> int:
        return max((q.qsize() for q in self._topic(topic).values()), default=0)

    def idle(self) -> bool:
        """True when every queue is empty (the pipeline has caught up)."""
        return all(q.empty() for qs in self._queues.values() for q in qs.values())

    async def close(self) -> None:
        self._closed = True
        for queues in self._queues.values():
            for queue in queues.values():
                while queue.full():
                    queue.get_nowait()
                queue.put_nowait(_CLOSED)
