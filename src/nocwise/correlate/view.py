"""What a caller sees of an alarm: its current state and every decision taken about it."""

from __future__ import annotations

from dataclasses import dataclass

from nocwise.correlate.base import Decision, Verdict
from nocwise.correlate.noise import noise_score
from nocwise.model import Alarm, Incident


@dataclass(frozen=True, slots=True)
class AlarmView:
    """An alarm with its decisions (oldest first) and the incident it belongs to."""

    alarm: Alarm
    decisions: tuple[Decision, ...] = ()
    incident_id: str | None = None

    def _last(self, stage: str) -> Decision | None:
        for d in reversed(self.decisions):
            if d.stage == stage:
                return d
        return None

    @property
    def is_held(self) -> bool:
        """Kept out of grouping right now (muted or flapping)."""
        for stage in ("mute", "flapping"):
            d = self._last(stage)
            if d is not None and d.verdict is Verdict.HOLD:
                return True
        return False

    @property
    def muted_by(self) -> tuple[str, ...]:
        """Ids of the silences, windows or alarms muting it, if it is muted."""
        d = self._last("mute")
        if d is None or d.verdict is not Verdict.HOLD:
            return ()
        by = d.evidence[0].data.get("by_ids") if d.evidence else None
        return tuple(str(by).split(",")) if by else ()

    @property
    def suppressed_by(self) -> str | None:
        """The alarm whose upstream fault makes this one a symptom."""
        d = self._last("suppress")
        if d is None or d.reason != "upstream_fault" or not d.evidence:
            return None
        v = d.evidence[0].data.get("source_alarm_id")
        return None if v is None else str(v)

    @property
    def noise_score(self) -> float | None:
        d = self._last("noise")
        return None if d is None else noise_score(d)

    @property
    def is_flapping(self) -> bool:
        d = self._last("flapping")
        return d is not None and d.reason != "flapping_ended"


@dataclass(frozen=True, slots=True)
class ProcessResult:
    """The alarms a call touched and the incidents it created or changed (published ones)."""

    alarms: list[AlarmView]
    incidents: list[Incident]
