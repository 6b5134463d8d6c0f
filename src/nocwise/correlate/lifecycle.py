"""The alarm list: raised -> changed* -> cleared, acknowledgement beside it, resync after a gap.

3GPP TS 28.111 / TMF642 fault supervision: a notification is merged into the alarm it names (by
``alarm_id``). Clearing is terminal: a later non-clear notification for a cleared alarm is
refused with a reason, but acknowledgements and comments still apply. An alarm leaves the list
once it is both cleared and acknowledged; cleared alarms nobody acknowledges are evicted after
``retain_cleared`` (or, oldest first, beyond ``max_cleared``) so the list stays bounded. After a
gap, :meth:`LifecycleStage.resync` takes a source's full active list and synthesises the
clears, raises and changes that were missed. What passes on is the merged, current state.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from nocwise.correlate.base import Decision, StageOutput, Verdict
from nocwise.correlate.codec import alarm_from_dict, alarm_to_dict, must_ts, ts
from nocwise.model import AckState, Alarm, Evidence, ModelState, Trend

STATE_SCHEMA = "nocwise.correlate.lifecycle"


class LifecycleReason(StrEnum):
    """Why a notification did not simply raise or change an alarm."""

    NO_CHANGE = "no_change"
    CLEARED_IS_TERMINAL = "cleared_is_terminal"
    STALE = "stale_notification"
    CLEAR_OF_UNKNOWN = "clear_of_unknown_alarm"
    REPEATED_CLEAR = "repeated_clear"
    RESYNC_CLEARED = "resync_cleared"
    RESYNC_RAISED = "resync_raised"
    REMOVED = "removed_cleared_and_acknowledged"
    EVICTED = "evicted_cleared_unacknowledged"


class LifecycleConfig(BaseModel):
    """How long, and how many, cleared unacknowledged alarms stay in the list (oldest go first)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["lifecycle"] = "lifecycle"
    retain_cleared: timedelta = timedelta(minutes=15)
    max_cleared: Annotated[int, Field(ge=0)] = 100_000


def _ev(summary: str, **data: str | int | float | bool | None) -> tuple[Evidence, ...]:
    return (Evidence("lifecycle", summary, data),)


class LifecycleStage:
    """The alarm list as a dict by ``alarm_id``, plus an index of active alarms by source."""

    kind: ClassVar[str] = "lifecycle"

    def __init__(self, config: LifecycleConfig | None = None) -> None:
        self.config = config or LifecycleConfig()
        self._alarms: dict[str, Alarm] = {}
        self._active_by_source: dict[str, set[str]] = {}
        # (clear time, alarm id), oldest first, as two queues: neither a datetime nor a string
        # is tracked by the cyclic collector, a pair per clear would be
        self._cleared_at: deque[datetime] = deque()
        self._cleared_id: deque[str] = deque()
        self._done: dict[str, None] = {}  # cleared and acknowledged: removed on the next tick
        self.raised = 0  # distinct alarms raised (the funnel's "alarms")

    # -- queries --------------------------------------------------------------------------

    def get(self, alarm_id: str) -> Alarm | None:
        """The current state of an alarm still in the list."""
        return self._alarms.get(alarm_id)

    def active(self) -> list[Alarm]:
        """Alarms not yet cleared."""
        return [a for a in self._alarms.values() if a.cleared_time is None]

    def __len__(self) -> int:
        return len(self._alarms)

    # -- the state machine ----------------------------------------------------------------

    def process(self, alarms: Sequence[Alarm], now: datetime) -> StageOutput:
        passed: list[Alarm] = []
        decisions: list[Decision] = []
        store, by_source = self._alarms, self._active_by_source
        for n in alarms:
            cur = store.get(n.alarm_id)
            if cur is None and n.cleared_time is None:  # a new alarm: most notifications
                self.raised += 1
                store[n.alarm_id] = n
                ids = by_source.get(n.source)
                if ids is None:
                    by_source[n.source] = {n.alarm_id}
                else:
                    ids.add(n.alarm_id)
                passed.append(n)
            elif (  # the clear of an active alarm, nothing to annotate: most of the rest
                cur is not None
                and n.cleared_time is not None
                and cur.cleared_time is None
                and n.ack_state is cur.ack_state
                and not n.comments
            ):
                new = cur.clear(n.cleared_time)
                self._store(new)
                passed.append(new)
            else:
                self._merge(n, passed, decisions)
        return StageOutput(passed, decisions)

    def _merge(self, n: Alarm, passed: list[Alarm], decisions: list[Decision]) -> None:
        aid = n.alarm_id
        cur = self._alarms.get(aid)
        if cur is None:
            if n.cleared_time is not None:
                decisions.append(
                    Decision(
                        self.kind,
                        LifecycleReason.CLEAR_OF_UNKNOWN,
                        _ev("clear for an alarm never raised here"),
                        aid,
                    )
                )
                self._store(n)
                passed.append(n)
                return
            self.raised += 1
            self._store(n)
            passed.append(n)
            return
        if cur.cleared_time is not None:
            new = self._annotate(cur, n)
            if n.cleared_time is not None:
                decisions.append(
                    Decision(
                        self.kind,
                        LifecycleReason.REPEATED_CLEAR,
                        _ev("alarm was already cleared", cleared=ts(cur.cleared_time)),
                        aid,
                    )
                )
                self._store(new)
                passed.append(new)
                return
            if new is cur:
                decisions.append(
                    Decision(
                        self.kind,
                        LifecycleReason.CLEARED_IS_TERMINAL,
                        _ev("a cleared alarm cannot change", cleared=ts(cur.cleared_time)),
                        aid,
                        Verdict.ABSORB,
                    )
                )
                return
            self._store(new)
            passed.append(new)
            return
        if n.cleared_time is not None:
            new = self._annotate(cur, n).clear(n.cleared_time)
            self._store(new)
            passed.append(new)
            return
        last = cur.changed_time or cur.raised_time or cur.event_time
        if n.event_time < last:
            decisions.append(
                Decision(
                    self.kind,
                    LifecycleReason.STALE,
                    _ev("older than the last change", last=ts(last)),
                    aid,
                    Verdict.ABSORB,
                )
            )
            return
        new = self._annotate(cur, n)
        if n.perceived_severity is not cur.perceived_severity:
            old, rank = cur.perceived_severity.rank, n.perceived_severity.rank
            trend = (
                Trend.MORE_SEVERE
                if rank > old
                else Trend.LESS_SEVERE
                if rank < old
                else Trend.NO_CHANGE
            )
            new = new.replaced(
                perceived_severity=n.perceived_severity,
                changed_time=n.event_time,
                trend_indication=trend,
                additional_text=n.additional_text or new.additional_text,
            )
        if new is cur:
            decisions.append(
                Decision(
                    self.kind,
                    LifecycleReason.NO_CHANGE,
                    _ev("repeat of the current state"),
                    aid,
                    Verdict.ABSORB,
                )
            )
            return
        self._store(new)
        passed.append(new)

    @staticmethod
    def _annotate(cur: Alarm, n: Alarm) -> Alarm:
        """Acknowledgement and comments apply whether or not the alarm is cleared."""
        new = cur
        if n.ack_state is not cur.ack_state:
            if n.ack_state is AckState.ACKNOWLEDGED:
                new = new.ack(n.ack_user_id or "unknown", n.ack_time or n.event_time)
            elif n.ack_time is not None and (cur.ack_time is None or n.ack_time >= cur.ack_time):
                new = new.unack(n.ack_time)  # an explicit withdrawal; silence withdraws nothing
        if n.comments and n.comments != cur.comments:
            known = set(cur.comments)
            fresh = tuple(c for c in n.comments if c not in known)
            if fresh:
                new = new.replaced(comments=(*new.comments, *fresh))
        return new

    def _store(self, a: Alarm) -> None:
        aid = a.alarm_id
        old = self._alarms.get(aid)
        self._alarms[aid] = a
        if a.cleared_time is None:
            ids = self._active_by_source.get(a.source)
            if ids is None:
                self._active_by_source[a.source] = {aid}
            else:
                ids.add(aid)
            return
        if a.ack_state is AckState.ACKNOWLEDGED:
            self._done[aid] = None
        else:
            self._done.pop(aid, None)
        if old is None or old.cleared_time is None:
            ids = self._active_by_source.get(a.source)
            if ids is not None:
                ids.discard(aid)
            self._cleared_at.append(a.cleared_time)
            self._cleared_id.append(aid)

    # -- resync ---------------------------------------------------------------------------

    def resync(self, source: str, current: Sequence[Alarm], now: datetime) -> StageOutput:
        """Align with a source's full list of active alarms after a gap.

        Alarms we hold as active that the source no longer lists were cleared while we were not
        listening: they are cleared at ``now``. Listed alarms are merged as notifications.
        """
        passed: list[Alarm] = []
        decisions: list[Decision] = []
        listed = {a.alarm_id for a in current}
        for aid in sorted(self._active_by_source.get(source, set()) - listed):
            cleared = self._alarms[aid].clear(now)
            self._store(cleared)
            passed.append(cleared)
            decisions.append(
                Decision(
                    self.kind,
                    LifecycleReason.RESYNC_CLEARED,
                    _ev("absent from the source's list at resync", source=source),
                    aid,
                )
            )
        for a in current:
            if a.alarm_id not in self._alarms:
                decisions.append(
                    Decision(
                        self.kind,
                        LifecycleReason.RESYNC_RAISED,
                        _ev("first seen at resync", source=source),
                        a.alarm_id,
                    )
                )
            self._merge(a, passed, decisions)
        return StageOutput(passed, decisions)

    # -- timers ---------------------------------------------------------------------------

    def tick(self, now: datetime) -> StageOutput:
        """Drop alarms that are cleared and acknowledged, or cleared longer than the retention."""
        decisions: list[Decision] = []
        for aid in self._done:
            a = self._alarms.pop(aid)
            ev = _ev("cleared and acknowledged", cleared=ts(a.cleared_time))
            decisions.append(Decision(self.kind, LifecycleReason.REMOVED, ev, aid, Verdict.ABSORB))
        self._done.clear()
        horizon = now - self.config.retain_cleared
        cap = self.config.max_cleared
        cleared_at, cleared_id = self._cleared_at, self._cleared_id
        while cleared_at and (cleared_at[0] <= horizon or len(cleared_at) > cap):
            at, aid = cleared_at.popleft(), cleared_id.popleft()
            left = self._alarms.get(aid)
            if left is None or left.cleared_time != at:
                continue
            del self._alarms[aid]
            ev = _ev("cleared and never acknowledged", cleared=ts(at))
            decisions.append(Decision(self.kind, LifecycleReason.EVICTED, ev, aid, Verdict.ABSORB))
        return StageOutput([], decisions)

    # -- state ----------------------------------------------------------------------------

    def to_state(self) -> ModelState:
        return ModelState(
            STATE_SCHEMA,
            1,
            {
                "config": self.config.model_dump(mode="json"),
                "alarms": [alarm_to_dict(a) for a in self._alarms.values()],
                "cleared": [
                    [ts(t), aid] for t, aid in zip(self._cleared_at, self._cleared_id, strict=True)
                ],
                "done": list(self._done),
                "raised": self.raised,
            },
        )

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        state.expect(STATE_SCHEMA, 1)
        stage = cls(LifecycleConfig.model_validate(state.params["config"]))
        for d in state.params["alarms"]:
            a = alarm_from_dict(d)
            stage._alarms[a.alarm_id] = a
            if a.cleared_time is None:
                stage._active_by_source.setdefault(a.source, set()).add(a.alarm_id)
        stage._cleared_at = deque(must_ts(t) for t, _ in state.params["cleared"])
        stage._cleared_id = deque(aid for _, aid in state.params["cleared"])
        stage._done = dict.fromkeys(state.params["done"])
        stage.raised = int(state.params["raised"])
        return stage
