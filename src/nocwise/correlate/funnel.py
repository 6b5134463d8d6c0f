"""The funnel: how many events became alarms, how many alarms reached grouping, how many incidents.

    alarms_per_event    = alarms / events          (lifecycle and resync fold repeats)
    grouped_per_alarm   = grouped / alarms         (dedup, flapping and muting hold the rest)
    alarms_per_incident = grouped / incidents
    reduction           = 1 - incidents / events   (the share of events nobody had to read)

``events`` counts every notification received; ``alarms`` the distinct alarms raised;
``grouped`` the alarms that reached grouping; ``incidents`` the incidents opened. The stage
counters say where the rest went (decisions by ``stage.reason``).
"""

from __future__ import annotations

from collections import Counter
from operator import attrgetter

from nocwise.correlate.base import Decision

FORMULA = (
    "alarms_per_event = alarms / events; grouped_per_alarm = grouped / alarms; "
    "alarms_per_incident = grouped / incidents; reduction = 1 - incidents / events"
)


_STAGE_REASON = attrgetter("stage", "reason")  # (stage, reason) of a decision, read in C


class Funnel:
    """Counters, updated by the correlator as records flow."""

    def __init__(self) -> None:
        self.events = 0
        self.alarms = 0
        self.grouped = 0
        self.incidents = 0
        self.decisions: Counter[str] = Counter()  # "stage.reason" -> count
        self._pending: Counter[tuple[str, str]] = Counter()

    def count_decisions(self, decisions: list[Decision]) -> None:
        self._pending.update(map(_STAGE_REASON, decisions))

    def _settle(self) -> None:
        for (stage, reason), n in self._pending.items():
            self.decisions[f"{stage}.{reason}"] += n
        self._pending.clear()

    def as_dict(self) -> dict[str, float | int | str]:
        self._settle()

        def ratio(a: int, b: int) -> float:
            return a / b if b else 0.0

        out: dict[str, float | int | str] = {
            "events": self.events,
            "alarms": self.alarms,
            "grouped": self.grouped,
            "incidents": self.incidents,
            "alarms_per_event": ratio(self.alarms, self.events),
            "grouped_per_alarm": ratio(self.grouped, self.alarms),
            "alarms_per_incident": ratio(self.grouped, self.incidents),
            "reduction": 1.0 - ratio(self.incidents, self.events) if self.events else 0.0,
            "formula": FORMULA,
        }
        for key in sorted(self.decisions):
            out[f"decisions.{key}"] = self.decisions[key]
        return out
