"""Flapping: a problem that raises and clears too often becomes one flapping state, not N alarms.

Transitions (a new raise, or a clear of an active alarm) are counted per key (the fingerprint
by default) over a sliding ``window``. Past ``max_transitions`` the key is *flapping*: its raises
are held with a counted reason instead of reaching grouping one by one; its clears still pass.
After ``quiet`` without transitions, ``tick`` ends the flapping state and, if the last alarm of
the key is still active, lets it go on once. This is Nagios' flap detection reduced to a count;
the window is event time, so a replay flaps exactly as the live stream did.

Weak at: problems that toggle just slower than ``window`` / ``max_transitions`` (never
flagged), and severity oscillation without clears (not counted as transitions).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from nocwise.correlate.base import Decision, StageOutput, Verdict
from nocwise.correlate.codec import alarm_from_dict, alarm_to_dict, must_ts, ts
from nocwise.correlate.keys import key_function
from nocwise.model import Alarm, Evidence, ModelState

STATE_SCHEMA = "nocwise.correlate.flapping"


class FlappingReason(StrEnum):
    """The flapping state machine's events."""

    FLAPPING_STARTED = "flapping_started"
    FLAPPING = "flapping"
    FLAPPING_ENDED = "flapping_ended"


class FlappingConfig(BaseModel):
    """More than ``max_transitions`` raises+clears within ``window`` is flapping."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["flapping"] = "flapping"
    key: tuple[str, ...] = ("fingerprint",)
    window: timedelta = timedelta(minutes=10)
    max_transitions: Annotated[int, Field(ge=2)] = 6
    quiet: timedelta = timedelta(minutes=15)
    max_keys: Annotated[int, Field(ge=1)] = 2_000_000  # beyond this, new keys are not counted


@dataclass(slots=True)
class _Flap:
    since: datetime
    last: datetime
    transitions: int
    held: Alarm | None  # the key's active alarm, held while flapping


class FlappingStage:
    """Per key: recent transition times (a short list); flapping keys; active alarm ids."""

    kind: ClassVar[str] = "flapping"

    def __init__(self, config: FlappingConfig | None = None) -> None:
        self.config = config or FlappingConfig()
        self._key = key_function(self.config.key)
        self._times: dict[str, list[float]] = {}  # key -> recent transition times, epoch s
        self._active: dict[str, str] = {}  # alarm id -> key
        self._flaps: dict[str, _Flap] = {}
        # (transition time, key), oldest first, as two queues: plain floats and strings are
        # not tracked by the cyclic collector, a pair per transition would be
        self._expiry_at: deque[float] = deque()
        self._expiry_key: deque[str] = deque()
        self._window_s = self.config.window.total_seconds()
        self.overflow = 0  # transitions not counted because ``max_keys`` was reached

    def is_flapping(self, key: str) -> bool:
        return key in self._flaps

    def process(self, alarms: Sequence[Alarm], now: datetime) -> StageOutput:
        passed: list[Alarm] = []
        decisions: list[Decision] = []
        active, times_of, flaps = self._active, self._times, self._flaps
        expiry_at, expiry_key = self._expiry_at, self._expiry_key
        limit, window_s, max_keys = (
            self.config.max_transitions,
            self._window_s,
            self.config.max_keys,
        )
        for a in alarms:
            aid = a.alarm_id
            cleared_at = a.cleared_time
            key = active.get(aid)
            if cleared_at is not None and key is not None:  # a clear of an active alarm
                del active[aid]
                at = cleared_at
            elif cleared_at is None and key is None:  # a new raise
                key = active[aid] = self._key(a)
                at = a.event_time
            else:  # not a transition: a change, or a clear of an alarm not seen active
                if key is None:
                    key = self._key(a)
                flap = flaps.get(key)
                if (
                    flap is not None
                    and cleared_at is None
                    and flap.held is not None
                    and flap.held.alarm_id == aid
                ):
                    flap.held = a
                    decisions.append(
                        self._decide(FlappingReason.FLAPPING, aid, key, flap, Verdict.HOLD)
                    )
                else:
                    passed.append(a)
                continue
            at_s = at.timestamp()
            times = times_of.get(key)
            if times is None:
                if len(times_of) >= max_keys:
                    self.overflow += 1  # storm beyond the bound: this key is not watched
                    passed.append(a)
                    continue
                times = times_of[key] = [at_s]
            else:
                times.append(at_s)
            expiry_at.append(at_s)
            expiry_key.append(key)
            flap = flaps.get(key)
            if flap is None and len(times) <= limit and times[0] >= at_s - window_s:
                passed.append(a)  # the common case, settled without ``_count``
                continue
            flap, started = self._count(key, at, at_s, times, flap)
            if flap is None:
                passed.append(a)
                continue
            reason = FlappingReason.FLAPPING_STARTED if started else FlappingReason.FLAPPING
            if cleared_at is not None:
                if flap.held is not None and flap.held.alarm_id == aid:
                    flap.held = None
                decisions.append(self._decide(reason, aid, key, flap, Verdict.NOTE))
                passed.append(a)
            else:
                flap.held = a
                decisions.append(self._decide(reason, aid, key, flap, Verdict.HOLD))
        return StageOutput(passed, decisions)

    def _count(
        self, key: str, at: datetime, at_s: float, times: list[float], flap: _Flap | None
    ) -> tuple[_Flap | None, bool]:
        """After ``at_s`` joined the key's ``times``: the key's flap, and whether it starts."""
        if flap is not None:
            flap.last = max(flap.last, at)
            flap.transitions += 1
            del times[: -self.config.max_transitions - 1]
            return flap, False
        horizon = at_s - self._window_s
        if times[0] < horizon:
            times[:] = [t for t in times if t >= horizon]
        del times[: -self.config.max_transitions - 1]
        if len(times) > self.config.max_transitions:
            flap = self._flaps[key] = _Flap(at, at, len(times), None)
            return flap, True
        return None, False

    def _decide(
        self, reason: FlappingReason, aid: str, key: str, flap: _Flap, verdict: Verdict
    ) -> Decision:
        ev = Evidence(
            "flapping",
            f"{flap.transitions} raises/clears since {flap.since.isoformat()}",
            {
                "key": key,
                "transitions": flap.transitions,
                "since": ts(flap.since),
                "window_s": self.config.window.total_seconds(),
            },
        )
        return Decision(self.kind, reason, (ev,), aid, verdict)

    def tick(self, now: datetime) -> StageOutput:
        """End flapping after ``quiet``; release the key's still-active alarm; forget old keys."""
        passed: list[Alarm] = []
        decisions: list[Decision] = []
        ended = [k for k, f in self._flaps.items() if f.last + self.config.quiet <= now]
        for key in sorted(ended):
            flap = self._flaps.pop(key)
            self._times.pop(key, None)
            aid = flap.held.alarm_id if flap.held is not None else ""
            ev = Evidence(
                "flapping",
                f"quiet since {flap.last.isoformat()}",
                {"key": key, "transitions": flap.transitions},
            )
            if flap.held is not None:
                passed.append(flap.held)
                decisions.append(Decision(self.kind, FlappingReason.FLAPPING_ENDED, (ev,), aid))
        horizon = now.timestamp() - self._window_s
        expiry_at, expiry_key = self._expiry_at, self._expiry_key
        while expiry_at and expiry_at[0] < horizon:
            at, key = expiry_at.popleft(), expiry_key.popleft()
            times = self._times.get(key)
            if times is not None and key not in self._flaps and (not times or times[-1] <= at):
                del self._times[key]
        return StageOutput(passed, decisions)

    def to_state(self) -> ModelState:
        flaps: dict[str, Any] = {
            k: [
                ts(f.since),
                ts(f.last),
                f.transitions,
                None if f.held is None else alarm_to_dict(f.held),
            ]
            for k, f in self._flaps.items()
        }
        return ModelState(
            STATE_SCHEMA,
            1,
            {
                "config": self.config.model_dump(mode="json"),
                "times": {k: list(v) for k, v in self._times.items()},
                "active": dict(self._active),
                "flaps": flaps,
                "expiry": [[t, k] for t, k in zip(self._expiry_at, self._expiry_key, strict=True)],
            },
        )

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        state.expect(STATE_SCHEMA, 1)
        p = state.params
        stage = cls(FlappingConfig.model_validate(p["config"]))
        stage._times = {k: [float(t) for t in v] for k, v in p["times"].items()}
        stage._active = dict(p["active"])
        stage._flaps = {
            k: _Flap(must_ts(s), must_ts(last), int(c), None if h is None else alarm_from_dict(h))
            for k, (s, last, c, h) in p["flaps"].items()
        }
        stage._expiry_at = deque(float(t) for t, _ in p["expiry"])
        stage._expiry_key = deque(k for _, k in p["expiry"])
        return stage
