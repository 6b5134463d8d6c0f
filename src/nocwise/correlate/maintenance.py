"""Maintenance windows (from change tickets or by hand) and the TMF642 planned-outage flag.

A window on an entity covers the entity and what depends on it (``depth`` hops down the
topology): work on a router takes its cells down too. It mutes alarms raised inside the window
while the window lasts; an alarm still active when the window ends is released, because a
fault that outlives the maintenance is a real one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from nocwise.correlate.muter import MuteReason, MuteVerdict
from nocwise.model import Alarm, Change, ChangeKind
from nocwise.topology.graph import TopologyGraph


class MaintenanceWindow(BaseModel):
    """Planned work on ``entity_ids`` during ``[start, end)``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    entity_ids: tuple[str, ...]
    start: datetime
    end: datetime
    created_by: str
    why: str = ""
    change_id: str | None = None


def window_from_change(change: Change, default_duration: timedelta) -> MaintenanceWindow | None:
    """The window a maintenance change ticket declares; None for other kinds of change."""
    if change.kind is not ChangeKind.MAINTENANCE:
        return None
    end = change.end if change.end is not None else change.ts + default_duration
    return MaintenanceWindow(
        id=f"mw-{change.id}",
        entity_ids=(change.entity_id,),
        start=change.ts,
        end=end,
        created_by=change.source,
        why=change.description or f"maintenance change {change.id}",
        change_id=change.id,
    )


class MaintenanceMuter:
    """Index: covered entity -> windows. One dict lookup per alarm."""

    def __init__(self, topology: TopologyGraph | None, depth: int) -> None:
        self._topology = topology
        self._depth = depth
        self._windows: dict[str, MaintenanceWindow] = {}
        self._by_entity: dict[str, list[str]] = {}
        self._covered: dict[str, list[str]] = {}
        self.version = 0

    def add(self, window: MaintenanceWindow) -> None:
        self._windows[window.id] = window
        covered: set[str] = set(window.entity_ids)
        if self._topology is not None:
            for e in window.entity_ids:
                covered.update(d for d, _ in self._topology.dependents(e, self._depth))
        self._covered[window.id] = sorted(covered)
        for e in self._covered[window.id]:
            self._by_entity.setdefault(e, []).append(window.id)
        self.version += 1

    def windows(self) -> list[MaintenanceWindow]:
        return list(self._windows.values())

    def observe(self, alarm: Alarm) -> None:
        return None

    def mutes(self, alarm: Alarm, now: datetime) -> MuteVerdict | None:
        ids = self._by_entity.get(alarm.managed_object)
        if not ids:
            return None
        t = alarm.event_time
        hits = [
            w
            for w in (self._windows.get(i) for i in ids)
            if w and w.start <= t < w.end and now < w.end
        ]
        if not hits:
            return None
        first = min(hits, key=lambda w: (w.start, w.id))
        return MuteVerdict(
            MuteReason.MAINTENANCE_WINDOW,
            tuple(w.id for w in hits),
            first.created_by,
            first.why,
            max(w.end for w in hits),
        )

    def prune(self, now: datetime) -> None:
        """Forget windows that have ended."""
        ended = [k for k, w in self._windows.items() if w.end <= now]
        for wid in ended:
            del self._windows[wid]
            for e in self._covered.pop(wid, []):
                ids = self._by_entity.get(e, [])
                if wid in ids:
                    ids.remove(wid)
                if not ids:
                    self._by_entity.pop(e, None)


class PlannedOutageMuter:
    """TMF642 ``plannedOutageIndication``: the source itself says the outage is planned."""

    version = 0

    def observe(self, alarm: Alarm) -> None:
        return None

    def mutes(self, alarm: Alarm, now: datetime) -> MuteVerdict | None:
        if not alarm.planned_outage_indicator:
            return None
        return MuteVerdict(
            MuteReason.PLANNED_OUTAGE,
            (alarm.alarm_id,),
            alarm.source,
            "planned outage indicated by the source",
            None,
        )
