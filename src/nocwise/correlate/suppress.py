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
_Path = tuple[tuple[str, int], ...]  # (entity, depth), nearest first


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


class _Entity:
    """Everything the stage keeps about one entity, in one record: its active alarms (each
    with its mark, if a symptom), those of them that suppress, and what it depends on
    (``up``) and what depends on it (``down``) within ``max_depth``, as the records of those
    entities, filled on first use.

    A raise reads the suppressors of every entity on its dependency path: through the records
    that is one attribute read each, where separate tables keyed by entity id cost a look-up
    each in tables as large as the network (memory reads that miss the CPU caches at 10^5
    open alarms). Records of inventory entities are kept (the topology bounds them); a record
    of an id outside the inventory goes when its last alarm does."""

    __slots__ = ("alarms", "down", "down_path", "id", "known", "suppressors", "up", "up_path")

    def __init__(self, entity_id: str, known: bool) -> None:
        self.id = entity_id
        self.known = known
        self.alarms: dict[str, _Mark | None] | None = None  # active alarm -> its mark
        self.suppressors: set[str] | None = None  # active alarm ids that suppress; never empty
        self.up: tuple[_Entity, ...] | None = None
        self.up_path: _Path = ()
        self.down: tuple[_Entity, ...] | None = None
        self.down_path: _Path = ()


class SuppressStage:
    """Per-entity records (active alarms and their marks, suppressors, paths); alarm -> its
    entity's record."""

    kind: ClassVar[str] = _KIND

    def __init__(
        self, config: SuppressConfig | None = None, topology: TopologyGraph | None = None
    ) -> None:
        self.config = config or SuppressConfig()
        self._topology = topology or TopologyGraph([], [])
        self._entities: dict[str, _Entity] = {}
        self._entity_of: dict[str, _Entity] = {}  # active alarm -> its entity's record
        least = self.config.min_severity.rank
        self._high = frozenset(s for s in Severity if s.rank >= least)  # severities that suppress
        self._version = 0
        # mark -> (one shared copy of the mark, its evidence): the symptoms of one fault share
        # one record, and one mark tuple, not one per symptom the collector has to count. Kept
        # while the marking alarm suppresses (``_step_down`` drops its entries): a fixed-size
        # cache cleared when full missed ever more often with more faults open (at 10^5 open
        # alarms the live marks outnumbered 4,096, and every miss built the evidence again)
        self._evidence: dict[_Mark, tuple[_Mark, tuple[Evidence, ...]]] = {}

    def suppressed_by(self, alarm_id: str) -> _Mark | None:
        """(suppressing alarm, its entity, depth) for a current symptom."""
        rec = self._entity_of.get(alarm_id)
        return None if rec is None or rec.alarms is None else rec.alarms.get(alarm_id)

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
        mark = self.suppressed_by(alarm.alarm_id) or self._find(
            alarm.managed_object, alarm.alarm_id
        )
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

    def _mark(self, alarms: dict[str, _Mark | None], aid: str, mark: _Mark) -> Decision:
        """Mark ``aid`` (one of ``alarms``, its entity's) as a symptom; the decision saying so."""
        shared, ev = self._shared(mark)
        alarms[aid] = shared
        return Decision(_KIND, _UPSTREAM_FAULT, ev, aid)

    def _entity(self, entity: str) -> _Entity:
        """The entity's record, made on first use."""
        rec = self._entities.get(entity)
        if rec is None:
            rec = self._entities[entity] = _Entity(entity, entity in self._topology)
        return rec

    def _up(self, rec: _Entity) -> tuple[_Entity, ...]:
        """The records of what ``rec`` depends on, nearest first (kept on it)."""
        path = rec.up_path = self._topology.dependency_path(rec.id, self.config.max_depth)
        up = rec.up = tuple(self._entity(e) for e, _ in path)
        return up

    def _down(self, rec: _Entity) -> tuple[_Entity, ...]:
        """The records of what depends on ``rec``, nearest first (kept on it)."""
        path = rec.down_path = self._topology.dependents(rec.id, self.config.max_depth)
        down = rec.down = tuple(self._entity(e) for e, _ in path)
        return down

    def _find(self, entity: str, aid: str) -> _Mark | None:
        rec = self._entities.get(entity)
        if rec is None:
            if not self._topology.dependency_path(entity, self.config.max_depth):
                return None  # nothing upstream: no record needed to say so
            rec = self._entity(entity)
        return self._find_on(rec, aid)

    def _find_on(self, rec: _Entity, aid: str) -> _Mark | None:
        """The suppressor nearest upstream of an alarm ``aid`` on ``rec`` (not itself)."""
        up = rec.up
        if up is None:
            up = self._up(rec)
        for anc in up:  # the depth is looked up only for the one that suppresses
            ids = anc.suppressors
            if ids:
                if aid not in ids:
                    return min(ids), anc.id, rec.up_path[up.index(anc)][1]
                if len(ids) > 1:
                    by = min(i for i in ids if i != aid)
                    return by, anc.id, rec.up_path[up.index(anc)][1]
        return None

    def process(self, alarms: Sequence[Alarm], now: datetime) -> StageOutput:
        """One pass; the common steps (index a raise, look for its suppressor, un-index a
        clear) are written out here, the rarer ones (a new suppressing entity, a last
        suppressor gone) are methods."""
        decisions: list[Decision] = []
        entity_of, entities = self._entity_of, self._entities
        evidence, high_enough = self._evidence, self._high
        for a in alarms:
            aid = a.alarm_id
            if a.cleared_time is not None:
                rec = entity_of.pop(aid, None)
                if rec is None:
                    continue
                ids = rec.alarms
                if ids is not None:
                    ids.pop(aid, None)  # and its mark
                    if not ids:
                        rec.alarms = None
                        if not rec.known and rec.suppressors is None:
                            del entities[rec.id]
                on = a.managed_object  # as before: the entity the clear names
                owner = rec if on == rec.id else entities.get(on)
                if owner is not None:
                    sup = owner.suppressors
                    if sup is not None and aid in sup:
                        self._step_down(a, owner, decisions)
                continue
            high = a.perceived_severity in high_enough
            if aid not in entity_of:
                entity = a.managed_object
                rec = entities.get(entity)
                if rec is None:
                    rec = self._entity(entity)
                entity_of[aid] = rec
                here = rec.alarms
                if here is None:
                    here = rec.alarms = {aid: None}
                else:
                    here[aid] = None
                mark = self._find_on(rec, aid)
                if mark is not None:
                    hit = evidence.get(mark)
                    if hit is None:
                        decisions.append(self._mark(here, aid, mark))
                    else:
                        here[aid] = hit[0]
                        decisions.append(Decision(_KIND, _UPSTREAM_FAULT, hit[1], aid))
                if high:
                    self._suppress_below(a, decisions)
            elif high:
                self._suppress_below(a, decisions)
            else:
                owner = entities.get(a.managed_object)  # severity fell below the level?
                if owner is not None:
                    sup = owner.suppressors
                    if sup is not None and aid in sup:
                        self._step_down(a, owner, decisions)
        return StageOutput(list(alarms), decisions)

    def _suppress_below(self, a: Alarm, decisions: list[Decision]) -> None:
        """An active alarm at or above ``min_severity``: it suppresses, and the first one on
        its entity marks the open alarms below it."""
        aid, entity = a.alarm_id, a.managed_object
        kinds = self.config.suppressor_kinds
        if kinds is not None and self._topology.kind(entity) not in kinds:
            return
        rec = self._entity(entity)
        sup = rec.suppressors
        if sup is None:
            rec.suppressors = {aid}
        else:
            sup.add(aid)
            return  # already suppressing (by it or another alarm on the entity)
        self._version += 1
        down = rec.down
        if down is None:
            down = self._down(rec)
        for dep, (_, depth) in zip(down, rec.down_path, strict=True):
            kids = dep.alarms
            if not kids:
                continue
            for child in sorted(kids):
                if kids[child] is None:
                    decisions.append(self._mark(kids, child, (aid, entity, depth)))

    def _step_down(self, a: Alarm, rec: _Entity, decisions: list[Decision]) -> None:
        """The alarm no longer suppresses: re-examine the symptoms it was marking."""
        aid, entity = a.alarm_id, rec.id
        sup = rec.suppressors
        if sup is None or aid not in sup:
            return
        sup.discard(aid)
        evidence = self._evidence
        for depth in range(1, self.config.max_depth + 1):
            evidence.pop((aid, entity, depth), None)  # no new marks by it from now on
        if sup:
            return
        rec.suppressors = None
        if rec.alarms is None and not rec.known:
            del self._entities[entity]
        self._version += 1
        lifted: tuple[Evidence, ...] | None = None  # one record for every symptom it frees
        down = rec.down
        if down is None:
            down = self._down(rec)
        for dep in down:
            kids = dep.alarms
            if not kids:
                continue
            for child in sorted(kids):
                mark = kids[child]
                if mark is None or mark[1] != entity:
                    continue
                new = self._find_on(dep, child)
                if new is None:
                    kids[child] = None
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
                    decisions.append(self._mark(kids, child, new))

    def tick(self, now: datetime) -> StageOutput:
        return EMPTY

    def to_state(self) -> ModelState:
        return ModelState(
            STATE_SCHEMA,
            1,
            {
                "config": self.config.model_dump(mode="json"),
                "entity_of": {aid: rec.id for aid, rec in self._entity_of.items()},
                "suppressors": {
                    rec.id: sorted(rec.suppressors)
                    for rec in self._entities.values()
                    if rec.suppressors is not None
                },
                "marks": {
                    aid: list(mark)
                    for rec in self._entities.values()
                    if rec.alarms is not None
                    for aid, mark in rec.alarms.items()
                    if mark is not None
                },
            },
        )

    @classmethod
    def from_state(cls, state: ModelState, topology: TopologyGraph | None = None) -> Self:
        state.expect(STATE_SCHEMA, 1)
        p = state.params
        stage = cls(SuppressConfig.model_validate(p["config"]), topology)
        for aid, e in p["entity_of"].items():
            rec = stage._entity_of[aid] = stage._entity(e)
            if rec.alarms is None:
                rec.alarms = {aid: None}
            else:
                rec.alarms[aid] = None
        for e, ids in p["suppressors"].items():
            if ids:
                stage._entity(e).suppressors = set(ids)
        for aid, (by, entity, depth) in p["marks"].items():
            owner = stage._entity_of.get(aid)
            if owner is not None and owner.alarms is not None:
                owner.alarms[aid] = (by, entity, int(depth))
        return stage
