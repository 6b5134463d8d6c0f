"""Operator silences: matchers plus a time range, with who created them and why."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from nocwise.correlate.matchers import Matcher, match_all
from nocwise.correlate.muter import MuteReason, MuteVerdict
from nocwise.model import Alarm


class Silence(BaseModel):
    """Mute matching alarms raised in ``[start, end)`` until ``end``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    matchers: tuple[Matcher, ...]
    start: datetime
    end: datetime
    created_by: str
    comment: str = ""


class SilenceMuter:
    """Linear in the number of silences, which operators keep small; skipped when there are none."""

    def __init__(self) -> None:
        self._silences: dict[str, Silence] = {}
        self.version = 0

    def add(self, silence: Silence) -> None:
        self._silences[silence.id] = silence
        self.version += 1

    def expire(self, silence_id: str) -> None:
        """Withdraw a silence; what it held is re-evaluated on the next tick."""
        if self._silences.pop(silence_id, None) is not None:
            self.version += 1

    def silences(self) -> list[Silence]:
        return list(self._silences.values())

    def observe(self, alarm: Alarm) -> None:
        return None

    def mutes(self, alarm: Alarm, now: datetime) -> MuteVerdict | None:
        if not self._silences:
            return None
        for s in self._silences.values():
            if s.start <= alarm.event_time < s.end and now < s.end and match_all(s.matchers, alarm):
                return MuteVerdict(MuteReason.SILENCED, (s.id,), s.created_by, s.comment, s.end)
        return None

    def prune(self, now: datetime) -> None:
        """Forget silences that have ended."""
        for sid in [k for k, s in self._silences.items() if s.end <= now]:
            del self._silences[sid]
