"""Topology-aware suppression: alarms downstream of a failed parent are symptoms, not causes.

Alertmanager's inhibition with "equal labels" replaced by "the source lies on the target's
dependency path" (``inhibit/inhibit.go``). An active alarm of at least ``min_severity`` on an
entity makes it a *suppressor*; an alarm on anything that depends on it (``max_depth`` hops
up the dependency path, never down) is marked "suppressed by X" with the depth as evidence.
Symptoms stay visible and still pass, so grouping can put them under their cause; only their
weight in ranking drops. Order does not matter: a parent alarm that arrives after its children
marks the children already open. When the parent clears, its symptoms are re-examined.
A clear is never suppressed. The stage also implements the ``Muter`` protocol, so an operator
who wants symptoms held rather than marked can put it behind a ``MuteStage``.

Weak at: redundancy (a dual-homed node is marked when either uplink fails) and lateral
failures that do not follow dependency edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from nocwise.correlate.base import EMPTY, Decision, StageOutput
from nocwise.correlate.muter import MuteReason, MuteVerdict
from nocwise.model import Alarm, Evidence, ModelState, Severity
from nocwise.topology.graph import TopologyGraph

STATE_SCHEMA = "nocwise.correlate.suppress"
# marks whose evidence is kept for reuse; an entry goes when its alarm stops suppressing, so
# this cap is a backstop only (it is cleared when full)
_EVIDENCE_MAX = 1 << 17
_Mark = tuple[str, str, int]  # (suppressing alarm, its entity, depth)
_PATHS_MAX = 1 << 18  # entities whose dependency path is kept here; cleared when full


class SuppressReason(StrEnum):
    """Why an alarm is (or no longer is) a symptom."""

    UPSTREAM_FAULT = "upstream_fault"
    UPSTREAM_CLEARED = "upstream_cleared"


_UPSTREAM_FAULT = SuppressReason.UPSTREAM_FAULT
_KIND = "suppress"


class SuppressConfig(BaseModel):
    """Which alarms suppress, and how far down the dependency path."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["suppress"] = "suppress"
    max_depth: Annotated[int, Field(ge=1, le=16)] = 3
    min_severity: Severity = Severity.MAJOR
    suppressor_kinds: frozenset[str] | None = None  # None: any entity kind


class SuppressStage:
    """Indexes: entity -> active alarm ids; entity -> active suppressor ids; alarm -> its mark."""

    kind: ClassVar[str] = _KIND

    def __init__(
        self, config: SuppressConfig | None = None, topology: TopologyGraph | None = None
    ) -> None:
        self.config = config or SuppressConfig()
        self._topology = topology or TopologyGraph([], [])
        self._entity_of: dict[str, str] = {}  # active alarm -> entity
        self._by_entity: dict[str, set[str]] = {}  # entity -> active alarm ids
        self._suppressors: dict[str, set[str]] = {}  # entity -> active suppressor alarm ids
        self._marks: dict[str, _Mark] = {}  # alarm -> (by alarm, by entity, depth)
        least = self.config.min_severity.rank
        self._high = frozenset(s for s in Severity if s.rank >= least)  # severities that suppress
        self._version = 0
        self._paths: dict[str, tuple[tuple[str, int], ...]] = {}  # entity -> dependency path
        # mark -> (one shared copy of the mark, its evidence): the symptoms of one fault share
        # one record, and one mark tuple, not one per symptom the collector has to count. Kept
        # while the marking alarm suppresses (``_step_down`` drops its entries): a fixed-size
        # cache cleared when full missed ever more often with more faults open (at 10^5 open
        # alarms the live marks outnumbered 4,096, and every miss built the evidence again)
        self._evidence: dict[_Mark, tuple[_Mark, tuple[Evidence, ...]]] = {}

    def suppressed_by(self, alarm_id: str) -> _Mark | None:
        """(suppressing alarm, its entity, depth) for a current symptom."""
        return self._marks.get(alarm_id)

    # -- the Muter protocol: topology suppression seen as inhibition -------------------------

    @property
    def version(self) -> int:
        """Changes whenever the set of suppressing entities changes."""
        return self._version

    def observe(self, alarm: Alarm) -> None:
        """Keep the indexes current without emitting decisions."""
        self.process([alarm], alarm.event_time)

    def mutes(self, alarm: Alarm, now: datetime) -> MuteVerdict | None:
        """The upstream fault that would mute this alarm, for a ``MuteStage`` that hard-mutes."""
        if alarm.cleared_time is not None:
            return None
        mark = self._marks.get(alarm.alarm_id) or self._find(alarm.managed_object, alarm.alarm_id)
        if mark is None:
            return None
        by, entity, depth = mark
        return MuteVerdict(
            MuteReason.UPSTREAM_FAULT, (by,), "topology", f"{depth} hop(s) below {entity}", None
        )

    def _shared(self, mark: _Mark) -> tuple[_Mark, tuple[Evidence, ...]]:
        """The shared copy of ``mark`` and its evidence."""
        hit = self._evidence.get(mark)
        if hit is None:
            if len(self._evidence) >= _EVIDENCE_MAX:
                self._evidence.clear()
            by, entity, depth = mark
            ev = Evidence(
                "suppress",
                f"suppressed by {by} on {entity}, {depth} hop(s) upstream",
                {"source_alarm_id": by, "source_entity": entity, "depth": depth},
            )
            hit = self._evidence[mark] = (mark, (ev,))
        return hit

    def _mark(self, aid: str, mark: _Mark) -> Decision:
        """Mark ``aid`` as a symptom; the decision saying so."""
        shared, ev = self._shared(mark)
        self._marks[aid] = shared
        return Decision(_KIND, _UPSTREAM_FAULT, ev, aid)

    def _path(self, entity: str) -> tuple[tuple[str, int], ...]:
        """The entity's dependency path to ``max_depth``, kept here: asked on every raise."""
        path = self._paths.get(entity)
        if path is None:
            if len(self._paths) >= _PATHS_MAX:
                self._paths.clear()
            path = self._paths[entity] = self._topology.dependency_path(
                entity, self.config.max_depth
            )
        return path

    def _find(self, entity: str, aid: str) -> _Mark | None:
        suppressors = self._suppressors
        path = self._paths.get(entity)
        for anc, depth in self._path(entity) if path is None else path:
            ids = suppressors.get(anc)
            if ids:
                if aid not in ids:
                    return min(ids), anc, depth
                if len(ids) > 1:
                    return min(i for i in ids if i != aid), anc, depth
        return None

    def process(self, alarms: Sequence[Alarm], now: datetime) -> StageOutput:
        """One pass; the common steps (index a raise, look for its suppressor, un-index a
        clear) are written out here, the rarer ones (a new suppressing entity, a last
        suppressor gone) are methods."""
        decisions: list[Decision] = []
        entity_of, by_entity, marks = self._entity_of, self._by_entity, self._marks
        suppressors, evidence, high_enough = self._suppressors, self._evidence, self._high
        for a in alarms:
            aid = a.alarm_id
            if a.cleared_time is not None:
                entity = entity_of.pop(aid, None)
                if entity is None:
                    continue
                ids = by_entity.get(entity)
                if ids is not None:
                    ids.discard(aid)
                    if not ids:
                        del by_entity[entity]
                marks.pop(aid, None)
                sup = suppressors.get(a.managed_object)
                if sup is not None and aid in sup:
                    self._step_down(a, decisions)
                continue
            high = a.perceived_severity in high_enough
            if aid not in entity_of:
                entity = entity_of[aid] = a.managed_object
                here = by_entity.get(entity)
                if here is None:
                    by_entity[entity] = {aid}
                else:
                    here.add(aid)
                mark = self._find(entity, aid)
                if mark is not None:
                    hit = evidence.get(mark)
                    if hit is None:
                        decisions.append(self._mark(aid, mark))
                    else:
                        marks[aid] = hit[0]
                        decisions.append(Decision(_KIND, _UPSTREAM_FAULT, hit[1], aid))
                if high:
                    self._suppress_below(a, decisions)
            elif high:
                self._suppress_below(a, decisions)
            elif aid in suppressors.get(a.managed_object, ()):
                self._step_down(a, decisions)  # severity fell below the suppressing level
        return StageOutput(list(alarms), decisions)

    def _suppress_below(self, a: Alarm, decisions: list[Decision]) -> None:
        """An active alarm at or above ``min_severity``: it suppresses, and the first one on
        its entity marks the open alarms below it."""
        aid, entity = a.alarm_id, a.managed_object
        kinds = self.config.suppressor_kinds
        if kinds is not None and self._topology.kind(entity) not in kinds:
            return
        sup = self._suppressors.get(entity)
        if sup is None:
            self._suppressors[entity] = {aid}
        elif aid in sup:
            return
        else:
            first = not sup
            sup.add(aid)
            if not first:
                return
        self._version += 1
        by_entity, marks = self._by_entity, self._marks
        for dep, depth in self._topology.dependents(entity, self.config.max_depth):
            kids = by_entity.get(dep)
            if not kids:
                continue
            for child in sorted(kids):
                if child not in marks:
                    decisions.append(self._mark(child, (aid, entity, depth)))

    def _step_down(self, a: Alarm, decisions: list[Decision]) -> None:
        """The alarm no longer suppresses: re-examine the symptoms it was marking."""
        aid, entity = a.alarm_id, a.managed_object
        sup = self._suppressors.get(entity)
        if sup is None or aid not in sup:
            return
        sup.discard(aid)
        evidence = self._evidence
        for depth in range(1, self.config.max_depth + 1):
            evidence.pop((aid, entity, depth), None)  # no new marks by it from now on
        if sup:
            return
        del self._suppressors[entity]
        self._version += 1
        by_entity, marks = self._by_entity, self._marks
        lifted: tuple[Evidence, ...] | None = None  # one record for every symptom it frees
        for dep, _ in self._topology.dependents(entity, self.config.max_depth):
            kids = by_entity.get(dep)
            if not kids:
                continue
            for child in sorted(kids):
                mark = marks.get(child)
                if mark is None or mark[1] != entity:
                    continue
                new = self._find(dep, child)
                if new is None:
                    del marks[child]
                    if lifted is None:
                        lifted = (
                            Evidence(
                                "suppress",
                                f"{entity} no longer failing",
                                {"source_alarm_id": aid, "source_entity": entity},
                            ),
                        )
                    decisions.append(
                        Decision(self.kind, SuppressReason.UPSTREAM_CLEARED, lifted, child)
                    )
                else:
                    decisions.append(self._mark(child, new))

    def tick(self, now: datetime) -> StageOutput:
        return EMPTY

    def to_state(self) -> ModelState:
        return ModelState(
            STATE_SCHEMA,
            1,
            {
                "config": self.config.model_dump(mode="json"),
                "entity_of": dict(self._entity_of),
                "suppressors": {k: sorted(v) for k, v in self._suppressors.items()},
                "marks": {k: list(v) for k, v in self._marks.items()},
            },
        )

    @classmethod
    def from_state(cls, state: ModelState, topology: TopologyGraph | None = None) -> Self:
        state.expect(STATE_SCHEMA, 1)
        p = state.params
        stage = cls(SuppressConfig.model_validate(p["config"]), topology)
        stage._entity_of = dict(p["entity_of"])
        for aid, e in stage._entity_of.items():
            stage._by_entity.setdefault(e, set()).add(aid)
        stage._suppressors = {k: set(v) for k, v in p["suppressors"].items()}
        stage._marks = {k: (v[0], v[1], int(v[2])) for k, v in p["marks"].items()}
        return stage
