"""Time for core code: injected, never read from the wall inside the core.

>>> from datetime import UTC, datetime, timedelta
>>> c = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
>>> c.advance(timedelta(seconds=90)); c.now().isoformat()
'2026-01-01T00:01:30+00:00'
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of timezone-aware UTC time."""

    def now(self) -> datetime:
        """The current time (UTC, aware)."""
        ...


class SystemClock:
    """The wall clock; used only where the process meets the world (runtime, CLI, API)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told: tests, replays and the twin run on it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move forward; time never goes backwards."""
        if delta < timedelta(0):
            raise ValueError("a clock cannot go backwards")
        self._now += delta

    def set(self, when: datetime) -> None:
        """Jump forward to ``when`` (no-op if it is in the past)."""
        if when.tzinfo is None:
            raise ValueError("ManualClock.set needs a timezone-aware time")
        self._now = max(self._now, when.astimezone(UTC))


def to_ms(when: datetime) -> int:
    """Milliseconds since the epoch."""
    return int(when.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    """An aware UTC datetime from epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC)
