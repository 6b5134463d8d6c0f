"""Muting: silences, maintenance windows, planned outages and inhibition behind one protocol.

Each muter answers ``mutes(alarm, now) -> MuteVerdict | None``: the reason, the ids of what
muted it (silence, window, inhibiting alarms), who is behind it and why, and when it ends by
itself. One ``MuteStage`` asks them in order and holds what any of them mutes: the alarm stays
in the alarm list, marked, but does not reach grouping. Held alarms are re-checked in ``tick``
when their mute ends or when a muter's ``version`` changed (a silence withdrawn, an inhibiting
alarm cleared), the fast path Alertmanager's ``silence.go`` uses. Clears always pass.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from nocwise.correlate.base import Decision, StageOutput, Verdict
from nocwise.correlate.codec import alarm_from_dict, alarm_to_dict
from nocwise.correlate.inhibit import InhibitMuter, InhibitRule
from nocwise.correlate.maintenance import (
    MaintenanceMuter,
    MaintenanceWindow,
    PlannedOutageMuter,
    window_from_change,
)
from nocwise.correlate.muter import Muter, MuteReason, MuteVerdict
from nocwise.correlate.silence import Silence, SilenceMuter
from nocwise.model import Alarm, Change, Evidence, ModelState
from nocwise.topology.graph import TopologyGraph

STATE_SCHEMA = "nocwise.correlate.mute"


class MuteConfig(BaseModel):
    """Muting policy: maintenance reach down the topology and inhibition rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["mute"] = "mute"
    maintenance_depth: Annotated[int, Field(ge=0, le=16)] = 2
    default_maintenance: timedelta = timedelta(hours=4)
    honour_planned_outage: bool = True
    inhibit_rules: tuple[InhibitRule, ...] = ()


class MuteStage:
    """Holds muted alarms by id; a heap of end times fires releases in ``tick``."""

    kind: ClassVar[str] = "mute"

    def __init__(
        self, config: MuteConfig | None = None, topology: TopologyGraph | None = None
    ) -> None:

        self.config = config or MuteConfig()
        self._topology = topology
        self.silences = SilenceMuter()
        self.maintenance = MaintenanceMuter(topology, self.config.maintenance_depth)
        self.inhibit = InhibitMuter(self.config.inhibit_rules)
        muters: list[Muter] = [self.maintenance, self.silences]
        if self.config.honour_planned_outage:
            muters.append(PlannedOutageMuter())
        if self.config.inhibit_rules:
            muters.append(self.inhibit)
        self._muters = muters
        self._held: dict[str, tuple[Alarm, MuteVerdict]] = {}
        self._ends: list[tuple[datetime, str]] = []
        self._seen_version = self._version()

    def _version(self) -> int:
        return sum(m.version for m in self._muters)

    def add_silence(self, silence: Silence) -> None:
        self.silences.add(silence)

    def add_window(self, window: MaintenanceWindow) -> None:
        self.maintenance.add(window)

    def add_change(self, change: Change) -> MaintenanceWindow | None:
        """A maintenance change ticket opens a window; other changes are not muters."""

        window = window_from_change(change, self.config.default_maintenance)
        if window is not None:
            self.maintenance.add(window)
        return window

    def held(self) -> int:
        return len(self._held)

    def verdict(self, alarm: Alarm, now: datetime) -> MuteVerdict | None:
        for m in self._muters:
            v = m.mutes(alarm, now)
            if v is not None:
                return v
        return None

    def process(self, alarms: Sequence[Alarm], now: datetime) -> StageOutput:
        passed: list[Alarm] = []
        decisions: list[Decision] = []
        observing = self.inhibit in self._muters  # the only muter that watches alarms pass
        for a in alarms:
            if observing:
                self.inhibit.observe(a)
            aid = a.alarm_id
            if a.cleared_time is not None:
                old = self._held.pop(aid, None)
                if old is not None:
                    decisions.append(
                        Decision(
                            self.kind, MuteReason.MUTED_ALARM_CLEARED, (old[1].evidence(),), aid
                        )
                    )
                passed.append(a)
                continue
            v = self.verdict(a, now)
            if v is not None:
                self._hold(a, v)
                decisions.append(Decision(self.kind, v.reason, (v.evidence(),), aid, Verdict.HOLD))
            else:
                old = self._held.pop(aid, None)
                if old is not None:
                    decisions.append(self._unmuted(aid, old[1]))
                passed.append(a)
        return StageOutput(passed, decisions)

    def _hold(self, a: Alarm, v: MuteVerdict) -> None:
        self._held[a.alarm_id] = (a, v)
        if v.until is not None:
            heapq.heappush(self._ends, (v.until, a.alarm_id))

    def _unmuted(self, aid: str, old: MuteVerdict) -> Decision:
        ev = Evidence(
            "mute",
            f"no longer muted (was {old.reason} by {', '.join(old.by_ids)})",
            {"was": str(old.reason)},
        )
        return Decision(self.kind, MuteReason.UNMUTED, (ev,), aid)

    def tick(self, now: datetime) -> StageOutput:
        """Release alarms whose mute ended or whose muter changed; forget ended windows."""
        due: set[str] = set()
        while self._ends and self._ends[0][0] <= now:
            due.add(heapq.heappop(self._ends)[1])
        version = self._version()
        if version != self._seen_version:
            due.update(self._held)
            self._seen_version = version
        passed: list[Alarm] = []
        decisions: list[Decision] = []
        for aid in sorted(due):
            held = self._held.get(aid)
            if held is None:
                continue
            a, old = held
            v = self.verdict(a, now)
            if v is None:
                del self._held[aid]
                passed.append(a)
                decisions.append(self._unmuted(aid, old))
            elif v != old:
                self._hold(a, v)
        self.silences.prune(now)
        self.maintenance.prune(now)
        return StageOutput(passed, decisions)

    def to_state(self) -> ModelState:
        return ModelState(
            STATE_SCHEMA,
            1,
            {
                "config": self.config.model_dump(mode="json"),
                "silences": [s.model_dump(mode="json") for s in self.silences.silences()],
                "windows": [w.model_dump(mode="json") for w in self.maintenance.windows()],
                "held": [alarm_to_dict(a) for a, _ in self._held.values()],
            },
        )

    @classmethod
    def from_state(cls, state: ModelState, topology: TopologyGraph | None = None) -> Self:
        """Silences, windows and held alarms; held alarms' verdicts are recomputed on first tick."""

        state.expect(STATE_SCHEMA, 1)
        p = state.params
        stage = cls(MuteConfig.model_validate(p["config"]), topology)
        for s in p["silences"]:
            stage.silences.add(Silence.model_validate(s))
        for w in p["windows"]:
            stage.maintenance.add(MaintenanceWindow.model_validate(w))
        for d in p["held"]:
            a = alarm_from_dict(d)
            stage._held[a.alarm_id] = (
                a,
                MuteVerdict(MuteReason.SILENCED, (), "", "restored", None),
            )
        stage._seen_version = -1
        return stage
