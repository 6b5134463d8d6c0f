"""The correlation stage contract: alarms in, alarms out, and a decision for each one held back.

Every stage takes a batch of alarm notifications in event-time order and returns the ones that
go on (``passed``) plus typed ``Decision``s. Invariants every stage keeps (the conformance suite
checks them):

- a clear is never dropped or held: a cleared alarm in the input is always in ``passed``;
- each input alarm either passes or carries a non-``NOTE`` decision naming the reason;
- inputs are never mutated (alarms are frozen; stages keep their own indexes);
- timers fire only in ``tick(now)``, on the injected time, never on a wall clock;
- the same input on a fresh stage gives the same output.

A stage may also emit decisions about alarms that are not in the batch (a router alarm turns
the open alarms of its cells into symptoms): those carry the other alarm's id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol, Self

from nocwise.model import Alarm, Evidence, ModelState
from nocwise.model.writable import new_object, writable_twin


class Verdict(StrEnum):
    """What a decision did to the alarm."""

    NOTE = "note"  # passes on, with an explanation attached
    ABSORB = "absorb"  # folded into another alarm or into state; not passed on
    HOLD = "hold"  # kept in the alarm list but out of grouping (muted, flapping)


@dataclass(frozen=True, slots=True, init=False)
class Decision:
    """Why a stage treated an alarm as it did; ``reason`` is the stage's own StrEnum.

    Built one to two times per alarm, so ``__new__`` fills a writable twin and switches its
    class (``_DecisionSlots``) instead of the frozen ``__init__``'s ``object.__setattr__`` per
    field: about half the cost, same object."""

    stage: str
    reason: StrEnum
    evidence: tuple[Evidence, ...] = ()
    alarm_id: str = ""
    verdict: Verdict = Verdict.NOTE

    def __new__(
        cls,
        stage: str,
        reason: StrEnum,
        evidence: tuple[Evidence, ...] = (),
        alarm_id: str = "",
        verdict: Verdict = Verdict.NOTE,
    ) -> Self:
        new: Any = new_object(_DecisionSlots)
        new.stage, new.reason, new.evidence, new.alarm_id, new.verdict = (
            stage,
            reason,
            evidence,
            alarm_id,
            verdict,
        )
        new.__class__ = cls
        made: Self = new
        return made

    def __getnewargs__(self) -> tuple[str, StrEnum, tuple[Evidence, ...], str, Verdict]:
        """Copies and pickles rebuild through ``__new__``, which needs the fields."""
        return (self.stage, self.reason, self.evidence, self.alarm_id, self.verdict)

    @property
    def passes(self) -> bool:
        """A note lets the alarm go on; absorb and hold keep it back."""
        return self.verdict is Verdict.NOTE


_DecisionSlots = writable_twin(Decision)


@dataclass(frozen=True, slots=True)
class StageOutput:
    """What a stage let through, and why it treated the rest (and some others) as it did."""

    passed: list[Alarm] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)


class Stage(Protocol):
    """One step of the correlation chain (see the module docstring for the invariants)."""

    kind: ClassVar[str]

    def process(self, alarms: Sequence[Alarm], now: datetime) -> StageOutput:
        """Handle notifications in event-time order; ``now`` only for timers, never stored."""
        ...

    def tick(self, now: datetime) -> StageOutput:
        """Fire the timers due at ``now`` (flap quiet periods, window ends)."""
        ...

    def to_state(self) -> ModelState:
        """A versioned snapshot of plain values."""
        ...

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """Rebuild from :meth:`to_state`; continuing the stream gives identical output."""
        ...


EMPTY = StageOutput()
