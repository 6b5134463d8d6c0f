"""The muter protocol: one question (is this alarm muted, by whom, why, until when?)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from nocwise.model import Alarm, Evidence


class MuteReason(StrEnum):
    """Who muted an alarm, or why it came back."""

    SILENCED = "silenced"
    MAINTENANCE_WINDOW = "maintenance_window"
    PLANNED_OUTAGE = "planned_outage"
    INHIBITED = "inhibited"
    UPSTREAM_FAULT = "upstream_fault"
    UNMUTED = "unmuted"
    MUTED_ALARM_CLEARED = "muted_alarm_cleared"


@dataclass(frozen=True, slots=True)
class MuteVerdict:
    """Muted: by which ids, on whose authority, why, and until when (None: until re-checked)."""

    reason: MuteReason
    by_ids: tuple[str, ...]
    actor: str
    why: str
    until: datetime | None

    def evidence(self) -> Evidence:
        return Evidence(
            "mute",
            f"{self.reason} by {', '.join(self.by_ids)} ({self.actor}): {self.why}",
            {
                "by_ids": ",".join(self.by_ids),
                "actor": self.actor,
                "why": self.why,
                "until": None if self.until is None else self.until.isoformat(),
            },
        )


class Muter(Protocol):
    """Something that can mute an alarm. ``version`` changes when its answers may change."""

    @property
    def version(self) -> int: ...

    def observe(self, alarm: Alarm) -> None:
        """See every alarm passing (inhibition tracks its sources here)."""
        ...

    def mutes(self, alarm: Alarm, now: datetime) -> MuteVerdict | None:
        """Whether the alarm is muted at ``now``; pure."""
        ...
