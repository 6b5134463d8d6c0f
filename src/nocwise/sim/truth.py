"""The ground-truth ledger: what really happened, for scoring only (never shown to the pipeline)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AnomalyWindow:
    """When a fault changed one series, and how (``absent``, ``mult``, ``add`` or ``set``)."""

    series_id: int
    start: datetime
    end: datetime | None
    effect: str


@dataclass(frozen=True, slots=True)
class FaultTruth:
    """One injected fault and everything it caused.

    ``root_entity_id`` is the one entity a perfect root-cause ranking puts first;
    ``root_entity_ids`` adds entities that fail together with it (the fibres in the same duct).
    """

    fault_id: str
    fault_type: str
    root_entity_id: str
    start: datetime
    end: datetime | None
    alarm_ids: frozenset[str]
    remediation: str
    root_entity_ids: frozenset[str] = frozenset()
    impacted_entity_ids: frozenset[str] = frozenset()
    series_ids: frozenset[int] = frozenset()
    ticket_ids: frozenset[str] = frozenset()
    change_ids: frozenset[str] = frozenset()
    n_logs: int = 0
    remediated: bool = False
    anomalies: tuple[AnomalyWindow, ...] = ()


@dataclass(frozen=True, slots=True)
class HarmlessAnomaly:
    """A metric excursion with no fault behind it (a detector may flag it; nobody should page)."""

    series_id: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """All faults so far, plus the alarms that belong to no fault."""

    faults: list[FaultTruth]
    noise_alarm_ids: frozenset[str]
    maintenance_alarm_ids: frozenset[str] = frozenset()
    harmless_anomalies: list[HarmlessAnomaly] = field(default_factory=list)

    def incident_of(self) -> Mapping[str, str]:
        """alarm_id -> fault_id for every alarm a fault caused."""
        return {a: f.fault_id for f in self.faults for a in f.alarm_ids}

    def by_id(self) -> Mapping[str, FaultTruth]:
        """fault_id -> fault."""
        return {f.fault_id: f for f in self.faults}

    def mapped(self, alarm_id: Callable[[str], str]) -> GroundTruth:
        """The same truth with alarm ids renamed (e.g. to the ids they get after the wire)."""
        faults = [replace(f, alarm_ids=frozenset(map(alarm_id, f.alarm_ids))) for f in self.faults]
        return replace(
            self,
            faults=faults,
            noise_alarm_ids=frozenset(map(alarm_id, self.noise_alarm_ids)),
            maintenance_alarm_ids=frozenset(map(alarm_id, self.maintenance_alarm_ids)),
        )
