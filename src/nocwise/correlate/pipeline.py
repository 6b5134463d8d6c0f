"""The correlation chain, built in one function that reads top to bottom.

    notifications -> lifecycle -> dedup -> flapping -> mute -> suppress -> noise -> group
                  -> impact ranking of the incidents that changed

Each stage hands what it let through to the next and stops the chain when nothing is left
(Alertmanager's ``MultiStage``). Stages never call each other; the correlator only wires them,
records their decisions per alarm, and turns changed incident drafts into ranked ``Incident``s.
Time comes in as ``now``; timers fire in ``tick(now)`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from nocwise.correlate.base import Decision, Stage, StageOutput
from nocwise.correlate.causal import CausalStrength
from nocwise.correlate.config import CorrelateConfig
from nocwise.correlate.dedup import DedupStage
from nocwise.correlate.flapping import FlappingStage
from nocwise.correlate.funnel import Funnel
from nocwise.correlate.group import GroupStage, Held
from nocwise.correlate.impact import ImpactRanker
from nocwise.correlate.incidents import Feedback, IncidentDraft
from nocwise.correlate.lifecycle import LifecycleReason, LifecycleStage
from nocwise.correlate.maintenance import MaintenanceWindow
from nocwise.correlate.mute import MuteStage
from nocwise.correlate.noise import NoiseModel, NoiseStage, noise_score
from nocwise.correlate.silence import Silence
from nocwise.correlate.suppress import SuppressStage
from nocwise.correlate.view import AlarmView, ProcessResult
from nocwise.model import AckState, Alarm, Change, Evidence, Incident
from nocwise.topology.graph import TopologyGraph

__all__ = ["CorrelateConfig", "Correlator", "ProcessResult", "build_correlator"]

_GONE = (LifecycleReason.REMOVED, LifecycleReason.EVICTED)


def build_correlator(
    config: CorrelateConfig,
    topology: TopologyGraph,
    causality: CausalStrength | None = None,
    noise_model: NoiseModel | None = None,
) -> Correlator:
    """The whole chain, in order."""
    lifecycle = LifecycleStage(config.lifecycle)
    dedup = DedupStage(config.dedup)
    flapping = FlappingStage(config.flapping)
    mute = MuteStage(config.mute, topology)
    suppress = SuppressStage(config.suppress, topology)
    noise = NoiseStage(config.noise, noise_model)
    group = GroupStage(config.group, topology, causality)
    ranker = ImpactRanker(config.impact, topology)
    stages: list[Stage] = [lifecycle, dedup, flapping, mute, suppress, noise, group]
    return Correlator(config, stages, lifecycle, mute, noise, group, ranker)


class Correlator:
    """Runs the stages and keeps what callers ask about: alarm views, ranked incidents, funnel."""

    def __init__(
        self,
        config: CorrelateConfig,
        stages: list[Stage],
        lifecycle: LifecycleStage,
        mute: MuteStage,
        noise: NoiseStage,
        group: GroupStage,
        ranker: ImpactRanker,
    ) -> None:
        self.config = config
        self._stages = stages
        self._lifecycle = lifecycle
        self._mute = mute
        self._noise_stage = noise
        self._group = group
        self._ranker = ranker
        self._decisions: dict[str, list[Decision]] = {}
        self._noise: dict[str, float] = {}
        self._inc_noise: dict[str, float] = {}  # incident -> least noise score of its members
        self._funnel = Funnel()
        self._now: datetime | None = None
        # both configs are frozen: read once, not on every alarm grouping places
        self._advisory = frozenset(group.config.advisory_sources)
        self._open_demoted = noise.config.demoted_open_incidents
        self._demote_above = noise.config.demote_above
        group.may_open = self._may_open

    def _may_open(self, alarm: Alarm) -> Held | None:
        """Why the alarm may not open an incident: a prediction, or demoted by the noise stage."""
        if alarm.source in self._advisory:
            return Held.ADVISORY
        if self._open_demoted or self._noise.get(alarm.alarm_id, 0.0) < self._demote_above:
            return None
        return Held.NOISE

    # -- the chain ------------------------------------------------------------------------

    def process(self, alarms: Sequence[Alarm], now: datetime) -> ProcessResult:
        """Run notifications (raised / changed / cleared, in event-time order) through the chain;
        the views of every alarm they touched and the published incidents they changed."""
        touched: dict[str, None] = dict.fromkeys(a.alarm_id for a in alarms)
        incidents = self._feed(alarms, now, touched)
        return ProcessResult(self._views(touched), incidents)

    def feed(self, alarms: Sequence[Alarm], now: datetime) -> list[Incident]:
        """``process`` without the alarm views, which cost as much as ranking the incidents:
        only the published incidents the notifications created or changed (what the runtime
        stores). Alarm views stay available through ``alarm`` and ``open_alarms``."""
        return self._feed(alarms, now, None)

    def _feed(
        self, alarms: Sequence[Alarm], now: datetime, touched: dict[str, None] | None
    ) -> list[Incident]:
        self._advance(now)
        self._funnel.events += len(alarms)
        self._run(0, list(alarms), now, touched)
        return self._flush()

    def resync(self, source: str, current: Sequence[Alarm], now: datetime) -> ProcessResult:
        """Align with a source's full active-alarm list after a gap (clears what it no longer lists)."""
        self._advance(now)
        self._funnel.events += len(current)
        out = self._lifecycle.resync(source, current, now)
        touched: dict[str, None] = dict.fromkeys(a.alarm_id for a in current)
        self._record(out, touched)
        self._run(1, out.passed, now, touched)
        return ProcessResult(self._views(touched), self._flush())

    def tick(self, now: datetime) -> list[Incident]:
        """Fire every stage's timers at ``now``; what a timer releases runs through the rest."""
        self._advance(now)
        touched = None  # nobody asks which alarms a tick touched
        for i, stage in enumerate(self._stages):
            out = stage.tick(now)
            self._record(out, touched)
            if out.passed:
                self._run(i + 1, out.passed, now, touched)
        for iid in self._group.take_dropped():
            self._inc_noise.pop(iid, None)  # its kept assessment went with its draft
        return self._flush()

    def _run(
        self, start: int, batch: list[Alarm], now: datetime, touched: dict[str, None] | None
    ) -> None:
        for stage in self._stages[start:]:
            if not batch:
                break
            out = stage.process(batch, now)
            self._record(out, touched)
            batch = out.passed

    def _record(self, out: StageOutput, touched: dict[str, None] | None) -> None:
        """Keep each decision on its alarm (``touched``: collect the alarms named, when the
        caller wants their views); note noise scores and each incident's least noisy member."""
        decisions = out.decisions
        if not decisions:
            return
        cap = self.config.max_decisions_per_alarm
        store, noise, inc_noise = self._decisions, self._noise, self._inc_noise
        self._funnel.count_decisions(decisions)
        scored: tuple[Evidence, ...] | None = None  # the noise stage shares evidence per type:
        score: float | None = None  # its score is read once per run of equal evidence
        for d in decisions:
            aid = d.alarm_id
            if not aid:
                continue
            if touched is not None:
                touched[aid] = None
            if d.reason in _GONE:
                store.pop(aid, None)
                noise.pop(aid, None)
                continue
            lst = store.get(aid)
            if lst is None:
                store[aid] = [d]
            else:
                lst.append(d)
                if len(lst) > cap:
                    del lst[0]
            stage = d.stage
            if stage == "noise":
                if d.evidence is not scored:
                    scored, score = d.evidence, noise_score(d)
                if score is not None:
                    noise[aid] = score
            elif stage == "group" and d.evidence and "incident_id" in d.evidence[0].data:
                inc = str(d.evidence[0].data["incident_id"])
                least = noise.get(aid, 0.0)
                if least < inc_noise.get(inc, 1.0):
                    inc_noise[inc] = least

    def _advance(self, now: datetime) -> None:
        if self._now is None or now > self._now:
            self._now = now

    def _flush(self) -> list[Incident]:
        out = [self._freeze(d) for d in self._group.take_changed()]
        return out

    def _freeze(self, d: IncidentDraft) -> Incident:
        least = self._inc_noise.get(d.id)
        if least is None:  # after a merge or split: recompute from the members
            least = self._inc_noise[d.id] = min(
                (self._noise.get(a, 0.0) for a in d.members), default=0.0
            )
        impact, priority = self._ranker.assess(d, least)
        return d.freeze(impact, priority)

    def _views(self, ids: dict[str, None]) -> list[AlarmView]:
        out = []
        for aid in ids:
            v = self.alarm(aid)
            if v is not None:
                out.append(v)
        return out

    # -- queries --------------------------------------------------------------------------

    def alarm(self, alarm_id: str) -> AlarmView | None:
        """The alarm's current state, its decisions and its incident; None once it left the list."""
        a = self._lifecycle.get(alarm_id)
        if a is None:
            return None
        return AlarmView(
            a, tuple(self._decisions.get(alarm_id, ())), self._group.incident_of(alarm_id)
        )

    def open_alarms(self) -> list[AlarmView]:
        """Every active alarm, held or not (``alarm`` for each, without looking it up again)."""
        decisions, incident_of = self._decisions, self._group.incident_of
        return [
            AlarmView(a, tuple(decisions.get(a.alarm_id, ())), incident_of(a.alarm_id))
            for a in self._lifecycle.active()
        ]

    def incident(self, incident_id: str) -> Incident | None:
        """The incident as it stands now (published or not), or None once it is forgotten."""
        d = self._group.draft(incident_id)
        return None if d is None else self._freeze(d)

    def incidents(self) -> list[Incident]:
        """Published incidents, most urgent first (priority, then impact score, then age)."""
        live = [self.incident(d.id) for d in self._group.drafts() if d.published]
        found = [i for i in live if i is not None]
        return sorted(found, key=lambda i: (i.priority, -i.impact.score, i.opened, i.id))

    def funnel(self) -> dict[str, float | int | str]:
        f = self._funnel
        f.alarms, f.grouped, f.incidents = (
            self._lifecycle.raised,
            self._group.placed,
            self._group.opened,
        )
        return f.as_dict()

    def feedback(self) -> list[Feedback]:
        """Operators' merges and splits, as data for retraining the grouping."""
        return self._group.feedback()

    # -- operator actions -----------------------------------------------------------------

    def _at(self) -> datetime:
        if self._now is None:
            raise ValueError("no time seen yet: process or tick first")
        return self._now

    def merge(self, a: str, b: str, actor: str) -> list[Incident]:
        """Merge incident ``b`` into ``a`` (``b`` is closed); recorded as feedback."""
        for i in (a, b):
            self._inc_noise.pop(i, None)
            self._ranker.forget(self._group.draft(i))
        return [self._freeze(d) for d in self._group.merge(a, b, actor, self._at())] + self._drain()

    def split(self, incident_id: str, alarm_ids: Sequence[str], actor: str) -> list[Incident]:
        """Move ``alarm_ids`` into a new incident; recorded as feedback."""
        self._inc_noise.pop(incident_id, None)
        self._ranker.forget(self._group.draft(incident_id))
        return [
            self._freeze(d) for d in self._group.split(incident_id, alarm_ids, actor, self._at())
        ] + self._drain()

    def _drain(self) -> list[Incident]:
        self._group.take_changed()
        return []

    def add_change(self, change: Change) -> MaintenanceWindow | None:
        """Register a change; a maintenance change opens a window that mutes its entities."""
        return self._mute.add_change(change)

    def add_silence(self, silence: Silence) -> None:
        self._mute.add_silence(silence)

    def expire_silence(self, silence_id: str) -> None:
        """Withdraw a silence; alarms it held are released on the next tick."""
        self._mute.silences.expire(silence_id)

    def add_window(self, window: MaintenanceWindow) -> None:
        self._mute.add_window(window)

    def acknowledge(self, alarm_id: str, user_id: str, at: datetime) -> ProcessResult:
        """An operator acknowledges an alarm (goes through the chain like any notification)."""
        a = self._lifecycle.get(alarm_id)
        if a is None:
            return ProcessResult([], [])
        last = max(at, a.event_time, a.changed_time or a.event_time)  # never stale
        acked = replace(
            a, ack_state=AckState.ACKNOWLEDGED, ack_user_id=user_id, ack_time=at, event_time=last
        )
        return self.process([acked], at)

    def use_noise_model(self, model: NoiseModel) -> None:
        """Score alarms from now on with ``model`` (fitted on history)."""
        self._noise_stage.use(model)

    def learn_noise(self, alarm: Alarm, actionable: bool) -> None:
        """Feedback for the noise model (an alarm turned out actionable or not)."""
        self._noise_stage.learn(alarm, actionable)
