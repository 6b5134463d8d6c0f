"""Deduplication: one alarm per problem, however many times or ids a source reports it.

Two active alarms with the same key (by default the fingerprint: source, managed object, event
type, probable cause, specific problem; configurable per source) are one problem. The first is
the primary and goes on; later ones are absorbed into it with a counted reason. When the primary
clears while a duplicate is still active, the oldest duplicate takes over and goes on, so the
problem never disappears while a source still reports it. Clears always pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from nocwise.correlate.base import EMPTY, Decision, StageOutput, Verdict
from nocwise.correlate.codec import alarm_from_dict, alarm_to_dict
from nocwise.correlate.keys import KeysBySource
from nocwise.model import Alarm, Evidence, ModelState

STATE_SCHEMA = "nocwise.correlate.dedup"


class DedupReason(StrEnum):
    """Why an alarm was folded into another."""

    DUPLICATE_FINGERPRINT = "duplicate_fingerprint"
    DUPLICATE_CLEARED = "duplicate_cleared"
    PROMOTED = "promoted_after_primary_cleared"


class DedupConfig(BaseModel):
    """The dedup key: alarm fields (``labels.x`` and ``additional_info.x`` allowed) per source."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["dedup"] = "dedup"
    key: tuple[str, ...] = ("fingerprint",)
    key_by_source: dict[str, tuple[str, ...]] = {}
    max_keys: Annotated[int, Field(ge=1)] = 2_000_000  # beyond this, new problems pass untracked


class DedupStage:
    """Index: key -> primary alarm id, primary -> its duplicates, duplicate -> primary."""

    kind: ClassVar[str] = "dedup"

    def __init__(self, config: DedupConfig | None = None) -> None:
        self.config = config or DedupConfig()
        self._key = KeysBySource(self.config.key, dict(self.config.key_by_source)).function
        self._primary: dict[str, str] = {}  # key -> primary alarm id
        self._key_of: dict[str, str] = {}  # primary alarm id -> key
        self._dups: dict[str, list[str]] = {}  # primary -> active duplicates, oldest first
        self._dup_of: dict[str, str] = {}  # duplicate -> primary
        self._latest: dict[str, Alarm] = {}  # duplicate id -> its latest state (for promotion)
        self.overflow = 0  # alarms passed untracked because ``max_keys`` was reached

    def process(self, alarms: Sequence[Alarm], now: datetime) -> StageOutput:
        passed: list[Alarm] = []
        decisions: list[Decision] = []
        primary, key_of, dup_of = self._primary, self._key_of, self._dup_of
        key_fn, max_keys, dups = self._key, self.config.max_keys, self._dups
        for a in alarms:
            aid = a.alarm_id
            if aid in key_of:
                passed.append(a)
                if a.cleared_time is None:
                    continue
                if dups.get(aid):
                    self._retire_primary(aid, passed, decisions)
                else:  # no duplicate to take over: the problem is gone
                    dups.pop(aid, None)
                    del primary[key_of.pop(aid)]
            elif aid in dup_of:
                prim = dup_of[aid]
                if a.cleared_time is not None:
                    del dup_of[aid]
                    self._latest.pop(aid, None)
                    self._dups[prim].remove(aid)
                    decisions.append(
                        self._decide(DedupReason.DUPLICATE_CLEARED, aid, prim, Verdict.NOTE)
                    )
                    passed.append(a)
                else:
                    self._latest[aid] = a
                    decisions.append(
                        self._decide(DedupReason.DUPLICATE_FINGERPRINT, aid, prim, Verdict.ABSORB)
                    )
            elif a.cleared_time is not None:
                passed.append(a)
            else:
                key = key_fn(a)
                prim_id = primary.get(key)
                if prim_id is None and len(primary) >= max_keys:
                    self.overflow += 1  # storm beyond the bound: pass it on, unindexed
                    passed.append(a)
                elif prim_id is None:
                    primary[key] = aid
                    key_of[aid] = key
                    passed.append(a)
                else:
                    dup_of[aid] = prim_id
                    self._latest[aid] = a
                    self._dups.setdefault(prim_id, []).append(aid)
                    decisions.append(
                        self._decide(
                            DedupReason.DUPLICATE_FINGERPRINT, aid, prim_id, Verdict.ABSORB
                        )
                    )
        return StageOutput(passed, decisions)

    def _decide(self, reason: DedupReason, aid: str, prim: str, verdict: Verdict) -> Decision:
        n = len(self._dups.get(prim, ()))
        ev = Evidence(
            "dedup", f"same problem as {prim}", {"primary_alarm_id": prim, "duplicates": n}
        )
        return Decision(self.kind, reason, (ev,), aid, verdict)

    def _retire_primary(self, aid: str, passed: list[Alarm], decisions: list[Decision]) -> None:
        key = self._key_of.pop(aid)
        dups = self._dups.pop(aid, None)
        if not dups:
            del self._primary[key]
            return
        heir, rest = dups[0], dups[1:]
        del self._dup_of[heir]
        self._primary[key] = heir
        self._key_of[heir] = key
        if rest:
            self._dups[heir] = rest
            for d in rest:
                self._dup_of[d] = heir
        passed.append(self._latest.pop(heir))
        ev = Evidence("dedup", f"takes over from cleared {aid}", {"previous_primary_alarm_id": aid})
        decisions.append(Decision(self.kind, DedupReason.PROMOTED, (ev,), heir))

    def tick(self, now: datetime) -> StageOutput:
        return EMPTY

    def open_keys(self) -> int:
        """Distinct problems currently tracked (bounded by the active alarms)."""
        return len(self._primary)

    def to_state(self) -> ModelState:
        return ModelState(
            STATE_SCHEMA,
            1,
            {
                "config": self.config.model_dump(mode="json"),
                "primary": dict(self._primary),
                "dups": {k: list(v) for k, v in self._dups.items()},
                "latest": [alarm_to_dict(a) for a in self._latest.values()],
            },
        )

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        state.expect(STATE_SCHEMA, 1)
        stage = cls(DedupConfig.model_validate(state.params["config"]))
        stage._primary = dict(state.params["primary"])
        stage._key_of = {v: k for k, v in stage._primary.items()}
        stage._dups = {k: list(v) for k, v in state.params["dups"].items()}
        stage._dup_of = {d: p for p, ds in stage._dups.items() for d in ds}
        stage._latest = {a.alarm_id: a for a in map(alarm_from_dict, state.params["latest"])}
        return stage
