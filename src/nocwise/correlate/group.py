"""Grouping: alarms that belong to one problem become one incident, each with its reason.

An active alarm new to grouping is compared with the incidents still open for grouping (last
member within ``window``). Candidates come from indexes by topology, region, template and
causally linked type (``candidates.py``), never from a scan of the open alarms.

Each candidate gets ``score = time * min(1, w_topology*topology + w_causality*causality +
w_text*text)``, where ``time = 1 - dt / (2*window)``, ``topology = 1 - hops / (2*(max_hops+1))``
(``region_score`` for a candidate without a path that shares the region, or is causally linked
and within ``causal_max_hops`` of the incident's root), ``causality`` the learned
strength between the alarm's type and the incident's types (either direction; 0 below
``min_causality``) and ``text`` 1 for a shared template, else the Jaccard of tokens. The best
candidate at or above ``threshold`` wins, and the membership's reason is the largest term;
otherwise the alarm opens an incident. An incident is published ``group_wait`` after its first
alarm's *event* time, so a backfill publishes at once (Alertmanager ``dispatch.go``).

Explanation (``prefer_explained``, on): an incident with an active member on the alarm's entity
or on what it depends on (within ``max_hops``) explains the alarm, since its problem is still
there; an explaining candidate beats every candidate that does not, whatever their scores.
An alarm about a link (``entity_keys``: the ``additional_info`` key naming it, ``link``) is
looked up from that link, and from the link's far end (the link's other dependents and what
they depend on), not from the router reporting it: "link to X down" on an aggregation router
is explained by X's power failure, not by another site's alarm on the same router. Only alarms
from sources seen clearing count as active (an event says nothing of "still"), and demoted
ones never do. Past ``window`` (for up to ``follow_active``, 1 h, after the incident's last
member within the window; a member claimed later does not reopen the window), explanation
through an entity that is not a hub (at most ``hub_fanout`` dependents) is the only way in,
with reason ``active_incident`` and the threshold's score: a site whose mains failed rides on
its battery and goes down half an hour later, and those alarms belong to the mains failure; an
overloaded AMF does not claim every later gNodeB fault. The earlier form of ``follow_active``
took any dependency link to an active member, either way, and merged concurrent faults on the
twin; upstream only, it measured neutral to better on ``mixed``.

An alarm from a source never seen clearing (a one-shot anomaly event) joins like any other but
does not move the incident's window: an event says nothing about "still", and anomaly alarms on
the symptoms of two faults would otherwise bridge them. An alarm the noise stage demoted
(``may_open`` says no) opens no incident. It joins one only on the entity of a member, or within
``demoted_reach`` hops along the dependency chain of one (reason ``noise_member``; default 0:
the same entity), and rides along: it neither moves the window nor adds entities, templates or
types for others to match, or chatty alarms would chain unrelated faults into one incident.
Otherwise it stays in the alarm list, ungrouped, with reason ``noise_held`` (always, with
``demoted_reach: null``). A reach of 3 put the background alarms of a storm's hundreds of
sites into the storm's incident; no reach at all left out fault alarms of a type that is
usually noise (link down on a flapping-prone router), 0 measured best on both. A prediction
(an alarm from one of ``advisory_sources``, the breach forecaster) is held the same way, with
reasons ``advisory_member`` / ``advisory_held``: a foreseen breach on an entity with a problem
is evidence for that incident, and a false one stays an alarm instead of a false incident. A
prediction held on an entity is adopted later by the incident that takes a fault alarm there,
if it was raised within ``follow_active`` before that alarm (its lead time in the detail).

Bridging (``bridge``, on): in a storm the alarms of one fault arrive from both sides of a failure
within seconds and open several incidents before an alarm that ties them arrives. When an alarm
(not demoted) is closely linked to two or more open candidates that reach the threshold within
the window, they are merged into the largest (reason ``bridged``, a "merged" timeline entry on
both). Closely linked: along the dependency chain either way, or siblings under an entity with
at most ``close_fanout`` dependents (the routers at the two ends of a link); never siblings
under a hub (an AMF every gNodeB uses), or one alarm would merge the region's concurrent faults.
A fragment merged before it was published is simply gone; a published one is closed, empty,
with a pointer to the incident that took its alarms. An explained alarm about a link bridges
only the candidates that explain it (its reporter is close to every neighbour it has), and a
member about a link is indexed on the link and on its reporter only, not on every link the
reporter depends on. ``hub_fanout`` drops sibling links under
an entity with more dependents than that (an AMF every gNodeB uses) from candidate search:
sites failing at once for their own reasons (a regional power cut) stay apart, and one fault's
sites are tied by bridges through their transport instead. ``group_wait`` is 60 s (not
Alertmanager's 30 s) so that those bridges land before the fragments are shown.

Operators merge and split; both are applied at once and kept as ``Feedback`` records.

Weak at: the score weights are set by hand, not learned from the feedback they record; an
alarm joins one incident only (no overlapping incidents); concurrent independent faults of the
same kind with no active root alarm of their own (two sites' routers failing at once) still
group by shared text and by the aggregation routers that see both; a long-standing active
alarm upstream claims every new fault beneath it for up to ``follow_active``; a bridge is
never undone.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from nocwise.correlate.base import Decision, StageOutput
from nocwise.correlate.candidates import CandidateIndex, Plan
from nocwise.correlate.causal import CachedCausality, CausalStrength
from nocwise.correlate.incidents import Feedback, IncidentDraft, incident_id
from nocwise.correlate.text import TemplateCache, jaccard
from nocwise.model import AckState, Alarm, Evidence, IncidentState, Member, ModelState
from nocwise.model.codec import alarm_from_dict, alarm_to_dict

if TYPE_CHECKING:  # the core (numba, LLVM: ~60 MB) is imported only when batch_core is on
    from nocwise.correlate.core import CoreBatch, CoreRow, GroupCore
from nocwise.topology.graph import TopologyGraph

STATE_SCHEMA = "nocwise.correlate.group"
# a candidate's score and what its explanation needs: (draft, score, past the window, hops,
# hops to the root, topology, causality, text, seconds since its last event, hops below an
# active member, and the three weighted terms)
_Scored = tuple[
    IncidentDraft, float, bool, int | None, int | None, float, float, float, float, int | None,
    float, float, float,
]  # fmt: skip
Weight = Annotated[float, Field(ge=0.0, le=2.0)]
_ROOT_DEPTH = 16
_MAX_TEMPLATES = 64


class GroupReason(StrEnum):
    """Why an alarm is in the incident it is in."""

    NEW_INCIDENT = "new_incident"
    TOPOLOGY = "topology"
    CAUSALITY = "causality"
    TEXT_SIMILARITY = "text_similarity"
    ACTIVE_INCIDENT = "active_incident"
    BRIDGED = "bridged"
    NOISE_HELD = "noise_held"
    NOISE_MEMBER = "noise_member"
    ADVISORY_HELD = "advisory_held"
    ADVISORY_MEMBER = "advisory_member"
    OPERATOR_MERGE = "operator_merge"
    OPERATOR_SPLIT = "operator_split"


RIDING = frozenset({GroupReason.NOISE_MEMBER, GroupReason.ADVISORY_MEMBER})
# the reasons the batch core gives, by its code
CORE_REASONS = (
    GroupReason.NEW_INCIDENT,
    GroupReason.TOPOLOGY,
    GroupReason.CAUSALITY,
    GroupReason.TEXT_SIMILARITY,
    GroupReason.ACTIVE_INCIDENT,
)


class Held(StrEnum):
    """Why an alarm may not open an incident of its own (``GroupStage.may_open``): it joins one
    only as a rider, or stays in the alarm list ungrouped."""

    NOISE = "demoted as noise"
    ADVISORY = "a prediction, not a fault"

    @property
    def reason(self) -> GroupReason:
        """The group reason when no incident takes the alarm."""
        return GroupReason.NOISE_HELD if self is Held.NOISE else GroupReason.ADVISORY_HELD

    @property
    def member(self) -> GroupReason:
        """The group reason when an incident takes the alarm along."""
        return GroupReason.NOISE_MEMBER if self is Held.NOISE else GroupReason.ADVISORY_MEMBER


class GroupConfig(BaseModel):
    """Grouping window, topology reach, score weights and publication delay."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["group"] = "group"
    window: timedelta = timedelta(minutes=10)
    follow_active: timedelta = timedelta(hours=1)  # below a member still active only
    group_wait: timedelta = timedelta(seconds=60)  # storm fragments merge before they show
    max_hops: Annotated[int, Field(ge=0, le=8)] = 3
    w_topology: Weight = 0.6
    w_causality: Weight = 0.25
    w_text: Weight = 0.25
    region_score: Annotated[float, Field(ge=0.0, le=1.0)] = 0.3
    causal_max_hops: Annotated[int, Field(ge=0, le=16)] = 6
    min_causality: Annotated[float, Field(ge=0.0, le=1.0)] = 0.2
    threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.3
    type_field: Literal["probable_cause", "specific_problem", "event_type"] = "probable_cause"
    max_candidates: Annotated[int, Field(ge=1)] = 32
    retain_resolved: timedelta = timedelta(hours=1)
    # dependency hops from a member within which a demoted alarm rides along (None: never)
    demoted_reach: Annotated[int, Field(ge=0, le=8)] | None = 0
    bridge: bool = True  # merge the open incidents one alarm is closely linked to
    # sources whose alarms are predictions (a forecast breach): they join an incident as riders
    # but never open one, so a false prediction stays an alarm and costs nobody an incident
    advisory_sources: tuple[str, ...] = ("nocwise-forecast",)
    close_fanout: Annotated[int, Field(ge=0)] = 2  # a shared entity this small makes neighbours
    hub_fanout: Annotated[int, Field(ge=1)] | None = 32  # siblings under a bigger one: unrelated
    # additional_info keys that name the object an alarm is about (a link a router reports on)
    entity_keys: tuple[str, ...] = ("link",)
    prefer_explained: bool = True  # a candidate with an active member upstream wins
    # place batches in the compiled core (``correlate/core``; same decisions, fewer µs an alarm)
    batch_core: bool = False


class GroupStage:
    """Drafts by id, alarm -> incident, and the three candidate indexes."""

    kind: ClassVar[str] = "group"

    def __init__(
        self,
        config: GroupConfig | None = None,
        topology: TopologyGraph | None = None,
        causality: CausalStrength | None = None,
    ) -> None:
        self.config = config or GroupConfig()
        self._topology = topology or TopologyGraph([], [])
        self._causal = CachedCausality(causality) if causality is not None else None
        self._drafts: dict[str, IncidentDraft] = {}
        self._alarm_inc: dict[str, str] = {}
        self._pending: list[tuple[datetime, str]] = []
        self._expiry: list[tuple[datetime, str]] = []
        self._drop: list[tuple[datetime, str]] = []
        self._changed: dict[str, None] = {}
        self._feedback: list[Feedback] = []
        self._dropped: list[str] = []
        self._tmpl = TemplateCache(max_size=50_000)
        self._type_of = attrgetter(self.config.type_field)
        self._window_s = self.config.window.total_seconds()
        self._follow = max(self.config.window, self.config.follow_active)
        self._follow_s = self._follow.total_seconds()
        self._explain_paths: dict[tuple[str, str], Plan] = {}  # alarms about a link
        # why an alarm may not open an incident (None: it may); None: every alarm may open one
        self.may_open: Callable[[Alarm], Held | None] | None = None
        self._source: dict[str, str] = {}  # member alarm -> its source
        # active predictions no incident took, by entity: one that opens there adopts them
        self._advisory: dict[str, dict[str, Alarm]] = {}
        self._late: list[Decision] = []  # decisions about alarms adopted after they were held
        self._clearing: set[str] = set()  # sources seen clearing an alarm
        # entity -> incident -> its active members there (not demoted, from a clearing source)
        self._active_at: dict[str, dict[str, int]] = {}
        self._counted: dict[str, str] = {}  # alarm counted in _active_at -> its entity
        self._about_of: dict[str, str] = {}  # member alarm -> the link it is about (if not its MO)
        c = self.config
        # without a topology path, can text (and causality) alone reach the threshold?
        text_alone = c.w_text + (c.w_causality if causality is not None else 0.0) >= c.threshold
        self._index = CandidateIndex(
            self._topology,
            self._drafts,
            self._causal,
            c.max_hops,
            c.max_candidates,
            c.window,
            max(c.window, c.follow_active),
            c.min_causality,
            text_alone,
            c.close_fanout,
            c.hub_fanout,
        )
        self.opened = 0  # incidents opened (the funnel's "incidents")
        self.placed = 0  # alarms that reached grouping (the funnel's "grouped")
        core = _new_core(self) if c.batch_core else None
        self._core = core if core is not None and core.supported else None
        self._core_synced = False  # rebuilt from the drafts before its next batch
        self._absorbed: list[str] = []  # incidents a bridge emptied (the core refreshes them)
        self._alarm_log: list[str] | None = None  # alarms joined or moved, for the core

    # -- queries --------------------------------------------------------------------------

    def incident_of(self, alarm_id: str) -> str | None:
        return self._alarm_inc.get(alarm_id)

    def draft(self, incident_id: str) -> IncidentDraft | None:
        return self._drafts.get(incident_id)

    def drafts(self) -> list[IncidentDraft]:
        return list(self._drafts.values())

    def feedback(self) -> list[Feedback]:
        return list(self._feedback)

    def take_changed(self) -> list[IncidentDraft]:
        """Published incidents changed since the last call (unpublished ones wait)."""
        out = [
            self._drafts[i]
            for i in self._changed
            if i in self._drafts and self._drafts[i].published
        ]
        for d in out:
            del self._changed[d.id]
        for i in [i for i in self._changed if i not in self._drafts]:
            del self._changed[i]
        return out

    def take_dropped(self) -> list[str]:
        """Ids of incidents forgotten since the last call (retention over)."""
        out, self._dropped = self._dropped, []
        return out

    def _about(self, a: Alarm) -> str:
        """What the alarm is about: a known entity its ``entity_keys`` info names (the link
        behind a router's "interface down"), else its managed object. Only the search for an
        active problem upstream (``_explained``) reads it; everything else places the alarm on
        its managed object, where the reporting element is."""
        info = a.additional_info
        if info:
            for key in self.config.entity_keys:
                e = info.get(key)
                if e and e in self._topology:
                    return e
        return a.managed_object

    # -- processing -----------------------------------------------------------------------

    def process(self, alarms: Sequence[Alarm], now: datetime) -> StageOutput:
        decisions: list[Decision] = []
        if self._core is not None:
            self._process_core(self._core, alarms, decisions)
        else:
            for a in alarms:
                self._notify(a, decisions)
        self._publish_due(now)
        return StageOutput(list(alarms), decisions)

    def _notify(self, a: Alarm, decisions: list[Decision]) -> None:
        """One notification: a clear, a change of a member, or an alarm to place."""
        inc = self._alarm_inc.get(a.alarm_id)
        if a.cleared_time is not None:
            self._clearing.add(a.source)
            if inc is not None:
                self._member_cleared(self._drafts[inc], a)
            elif self._advisory:
                self._unhold(a)
        elif inc is not None:
            self._member_changed(self._drafts[inc], a)
        else:
            decisions.append(self._place(a))
            if self._late:
                decisions.extend(self._late)
                self._late.clear()

    def _process_core(
        self, core: GroupCore, alarms: Sequence[Alarm], decisions: list[Decision]
    ) -> None:
        """The batch through the compiled core: it decides the placements it handles, in
        order, and stops before one it does not (a bridge, a demoted or advisory alarm, an
        exact tie); that one is placed here and the incidents it touched are copied back into
        the core, which goes on from the next notification."""
        from nocwise.correlate.core import K_PLACE, K_RARE, STOP_DONE

        if not self._core_synced or core.oversized():
            core.sync()
            self._core_synced = True
        b = core.encode(alarms)
        i, n = 0, len(alarms)
        while i < n:
            done, stop = core.place(b, i)
            for j, row in enumerate(b.rows(i, done), i):
                if row is not None:
                    decisions.append(self._place_coded(core, alarms[j], b, j, row))
                else:
                    self._notify(alarms[j], decisions)
            if stop == STOP_DONE:
                return
            a = alarms[done]
            self._absorbed.clear()
            log = self._index.log = []
            moved = self._alarm_log = []
            self._notify(a, decisions)
            self._index.log = self._alarm_log = None
            touched = dict.fromkeys(self._absorbed)
            touched.update(dict.fromkeys(i for i, _, _ in log))
            inc = self._alarm_inc.get(a.alarm_id)
            if inc is not None:
                touched[inc] = None
            core.replay(touched, log, moved)
            if self._advisory:  # a held prediction: placements may adopt it from now on
                rest = b.kind[done + 1 :]
                rest[rest == K_PLACE] = K_RARE
            i = done + 1

    def _place_coded(
        self, core: GroupCore, a: Alarm, b: CoreBatch, j: int, row: CoreRow
    ) -> Decision:
        """``_place`` for an alarm the core placed: join (or open) as it decided."""
        from nocwise.correlate.core import OUT_OPEN, core_detail

        self.placed += 1
        if row[0] == OUT_OPEN:
            d = self._open(a, a.managed_object, b.tokens[j], b.typ[j])
            core.bind(row[1], d.id)
            reason, score, detail = GroupReason.NEW_INCIDENT, 1.0, "first alarm of the incident"
        else:
            iid = core.incident_of[row[1]]
            assert iid is not None
            d = self._drafts[iid]
            reason, score = CORE_REASONS[row[2]], row[5]
            detail = core_detail(row)
            if row[9]:
                detail += f", incident still has {d.active} active alarm(s)"
        rounded = round(score, 4)
        self._join(d, a, b.about[j], reason, rounded, detail, b.template[j], b.typ[j])
        ev = Evidence(
            "group",
            f"{reason} -> {d.id}: {detail}",
            {"incident_id": d.id, "score": rounded},
        )
        return Decision(self.kind, reason, (ev,), a.alarm_id)

    def _place(self, a: Alarm) -> Decision:
        self.placed += 1
        template, tokens = self._tmpl(a)
        entity = a.managed_object
        about = self._about(a) if a.additional_info else entity
        typ = str(self._type_of(a))
        held = self.may_open(a) if self.may_open is not None else None
        demoted = held is not None
        if self._advisory:
            self._unhold(a)
        close: set[str] | None = set() if self.config.bridge and not demoted else None
        best = self._best(a, about, template, tokens, typ, close, demoted)
        if held is not None and self.config.demoted_reach is None:
            return self._held(a, held, "such alarms join no incident")
        if best is None and held is not None:
            return self._held(a, held, "fits no open incident")
        if best is None:
            d = self._open(a, entity, tokens, typ)
            reason, score, detail = GroupReason.NEW_INCIDENT, 1.0, "first alarm of the incident"
        else:
            d, reason, score, detail = best
            hops = self._linked(entity, d.member_entities) if demoted else 0
            reach = self.config.demoted_reach or 0
            if held is not None and (hops is None or hops > reach):
                return self._held(a, held, f"is not within {reach} hop(s) of a member's entity")
            if held is not None:
                reason, detail = held.member, f"{held.value}; {detail}"
            elif close and len(close) > 1 and d.id in close:
                d = self._bridge(d, close, a)
        rounded = round(score, 4)
        self._join(d, a, about, reason, rounded, detail, template, typ)
        if held is None and entity in self._advisory:
            self._adopt(d, entity, a.event_time)
        ev = Evidence(
            "group",
            f"{reason} -> {d.id}: {detail}",
            {"incident_id": d.id, "score": rounded},
        )
        return Decision(self.kind, reason, (ev,), a.alarm_id)

    def _held(self, a: Alarm, held: Held, why: str) -> Decision:
        if held is Held.ADVISORY:
            self._advisory.setdefault(a.managed_object, {})[a.alarm_id] = a
        ev = Evidence("group", f"{held.reason}: {held.value} and {why}", {})
        return Decision(self.kind, held.reason, (ev,), a.alarm_id)

    def _unhold(self, a: Alarm) -> None:
        held = self._advisory.get(a.managed_object)
        if held is not None and held.pop(a.alarm_id, None) is not None and not held:
            del self._advisory[a.managed_object]

    def _adopt(self, d: IncidentDraft, entity: str, at: datetime) -> None:
        """An incident that takes a fault alarm on ``entity`` also takes the predictions held
        there that were raised within ``follow_active`` before that alarm (a foreseen breach
        is evidence, with its lead time)."""
        held = self._advisory.pop(entity)
        for aid, p in sorted(held.items(), key=lambda kv: kv[1].event_time):
            if p.event_time < at - self._follow:
                held_on = self._advisory.setdefault(entity, {})
                held_on[aid] = p  # too old to be this incident's forecast: still held
                continue
            lead = (at - p.event_time).total_seconds()
            detail = f"{Held.ADVISORY.value}; raised {lead:.0f} s before a fault alarm on {entity}"
            template, _ = self._tmpl(p)
            typ = str(self._type_of(p))
            self._join(
                d, p, self._about(p), GroupReason.ADVISORY_MEMBER, 1.0, detail, template, typ
            )
            ev = Evidence(
                "group",
                f"{GroupReason.ADVISORY_MEMBER} -> {d.id}: {detail}",
                {"incident_id": d.id, "score": 1.0},
            )
            self._late.append(Decision(self.kind, GroupReason.ADVISORY_MEMBER, (ev,), aid))

    def _best(
        self,
        a: Alarm,
        about: str,
        template: str,
        tokens: frozenset[str],
        typ: str,
        close: set[str] | None = None,
        demoted: bool = False,
    ) -> tuple[IncidentDraft, GroupReason, float, str] | None:
        """The best-scoring candidate; ``close`` receives the candidates closely linked to the
        alarm that also reach the threshold within the window (those a bridge merges).

        A candidate with an active member on the alarm's entity or upstream of it explains the
        alarm (its cause is still there) and beats any candidate that does not, and past the
        window it is the only way in (``follow_active``; not for a ``demoted`` alarm). An explained
        alarm about a link bridges only candidates that explain it: the router reporting it
        is close to every neighbour it has.

        The explanation text is built for the winner only: scoring a candidate costs no
        string formatting."""
        cfg = self.config
        near: set[str] = set()
        entity, at = a.managed_object, a.event_time
        cands = self._index.candidates(
            entity, at, template, typ, near if close is not None else None
        )
        explained, specific = self._explained(about, entity, at)
        for inc, h in explained.items():
            prev = cands.get(inc)
            if prev is None or h < prev:
                cands[inc] = h
        if not cands:
            return None
        prefer = cfg.prefer_explained and not demoted
        region: str | None = None
        drafts, causal_model = self._drafts, self._causal
        window_s, follow_s, threshold = self._window_s, self._follow_s, cfg.threshold
        w_topology, w_causality, w_text = cfg.w_topology, cfg.w_causality, cfg.w_text
        min_causality, region_score = cfg.min_causality, cfg.region_score
        hops_span = 2.0 * (cfg.max_hops + 1)
        best_key: tuple[bool, float, datetime, str] | None = None
        best: _Scored | None = None
        for inc, hops in cands.items():
            d = drafts[inc]
            dt = abs((at - d.last_event).total_seconds())
            ongoing = dt > window_s
            if ongoing and (inc not in specific or dt > follow_s or demoted):
                continue
            time_f = 0.5 if ongoing else 1.0 - 0.5 * dt / window_s
            causal = 0.0
            if causal_model is not None:
                causal = max((causal_model.either_way(typ, t) for t in d.types), default=0.0)
                if causal < min_causality:
                    causal = 0.0
            reach = None
            if hops is not None:
                topo = 1.0 - hops / hops_span
            else:
                if region is None:
                    region = self._index.region(entity)
                if self._index.in_region(inc, region):
                    topo = region_score
                elif (
                    causal
                    and (reach := self._topology.hops(entity, d.root, cfg.causal_max_hops))
                    is not None
                ):
                    topo = region_score  # causally linked and within reach of the incident's root
                else:
                    topo = 0.0
            text = 1.0 if template in d.templates else jaccard(tokens, d.tokens)
            p_topo, p_causal, p_text = w_topology * topo, w_causality * causal, w_text * text
            total = p_topo + p_causal + p_text
            score = time_f * (1.0 if total > 1.0 else total)
            if ongoing and threshold > score:
                score = threshold
            if score < threshold:
                continue
            if close is not None and not ongoing and inc in near:
                close.add(inc)
            link = explained.get(inc)
            key = (prefer and link is None, -score, d.opened, inc)
            if best_key is None or key < best_key:
                best_key = key
                best = (d, score, ongoing, hops, reach, topo, causal, text, dt, link, p_topo,
                        p_causal, p_text)  # fmt: skip
        if best is None or best_key is None:
            return None
        d, score, ongoing, hops, reach, topo, causal, text, dt, link, p_topo, p_causal, p_text = (
            best
        )
        if ongoing:
            reason = GroupReason.ACTIVE_INCIDENT
        elif p_topo >= p_causal and p_topo >= p_text:
            reason = GroupReason.TOPOLOGY
        elif p_causal >= p_text:
            reason = GroupReason.CAUSALITY
        else:
            reason = GroupReason.TEXT_SIMILARITY
        if ongoing:
            hop_txt = f"{link} hop(s) below an active member"
        elif hops is not None:
            hop_txt = f"{hops} hop(s) in topology"
        elif reach is not None:
            hop_txt = f"{reach} hop(s) from root {d.root}"
        else:
            hop_txt = "same region" if topo else "no topology path"
        detail = (
            f"{hop_txt}; causality {causal:.2f}; text {text:.2f}; {dt:.0f}s from last alarm"
            + (f", incident still has {d.active} active alarm(s)" if ongoing else "")
        )
        if close is not None and prefer and not best_key[0] and about != entity:
            close.intersection_update(explained)  # not the reporter's other neighbours
        return d, reason, score, detail

    def _bridge(self, best: IncidentDraft, close: set[str], a: Alarm) -> IncidentDraft:
        """Merge the open incidents ``a`` is closely linked to into the largest of them.

        In a storm the alarms of one fault arrive from both sides of a failure within seconds
        and open several incidents before the alarm that ties them (a router between two of
        them) arrives; each incident alone is a fragment of the same problem.
        """
        group = sorted(
            (self._drafts[i] for i in close), key=lambda d: (-len(d.members), d.opened, d.id)
        )
        into = group[0]
        for src in group[1:]:
            self._absorb(src, into, a)
        return into if best.id in close else best

    def _absorb(self, src: IncidentDraft, into: IncidentDraft, a: Alarm) -> None:
        at, why = a.event_time, f"alarm {a.alarm_id} on {a.managed_object} links both"
        if self._alarm_log is not None:
            self._alarm_log.extend(src.members)
        for aid, m in src.members.items():
            entity = src.entity_of[aid]
            riding = m.reason in RIDING
            reason = m.reason if riding else str(GroupReason.BRIDGED)
            detail = f"bridged from {src.id}: {why}; before: {m.reason}, {m.detail}"
            into.set_member(Member(aid, reason, m.added, detail, m.score))
            into.entity_of[aid] = entity
            self._alarm_inc[aid] = into.id
            counted = self._uncount(src.id, aid)
            if counted is not None:
                self._count(into.id, aid, counted)
            rank = src.severity_of.get(aid)
            if rank is not None:
                into.set_severity(aid, rank)
                into.entities[entity] = into.entities.get(entity, 0) + 1
            if riding:
                continue
            self._index.index_member(into, entity, self._about_of.get(aid, entity))
            if entity in into.member_entities:
                continue
            into.member_entities.add(entity)
            services, customers = self._topology.impacted(entity)
            into.services.update(services)
            into.customers.update(customers)
            self._update_root(into, entity, src.title_type, m.added)
        for typ, n in src.types.items():
            if typ not in into.types and into.indexed:
                self._index.index_type(typ, into)
            into.types[typ] = into.types.get(typ, 0) + n
        for t in src.templates:
            if len(into.templates) >= _MAX_TEMPLATES:
                break
            if t not in into.templates:
                into.templates.add(t)
                self._index.index_template(into, t)
        into.opened = min(into.opened, src.opened)
        into.first_event = min(into.first_event, src.first_event)
        into.last_event = max(into.last_event, src.last_event)
        into.updated = max(into.updated, src.updated, at)
        if into.severity_of and into.state is IncidentState.RESOLVED:
            into.state = IncidentState.OPEN
        into.note(at, "merged", f"absorbed {src.id} ({len(src.members)} alarm(s)): {why}")
        self._changed[into.id] = None
        self._index.deindex(src)
        self._absorbed.append(src.id)
        if not src.published:  # never shown: it simply was not a separate incident
            del self._drafts[src.id]
            return
        src.clear_members()
        src.entity_of.clear()
        src.clear_severity()
        src.entities.clear()
        src.state = IncidentState.CLOSED
        src.updated = max(src.updated, at)
        src.note(at, "merged", f"merged into {into.id}: {why}")
        self._changed[src.id] = None
        heapq.heappush(self._drop, (src.updated + self.config.retain_resolved, src.id))

    def _explained(
        self, about: str, reporter: str, at: datetime
    ) -> tuple[dict[str, int], set[str]]:
        """Open incidents with an active member on what the alarm is about or on what that
        depends on (within ``max_hops``), and the hops to the nearest: a problem still active
        there explains the alarm.

        When the alarm is about a link its reporter terminates, the far end counts too (the
        link's other dependents, at one hop, and what they depend on): a router's "link to X
        down" is explained by X's power failure. The reporter's own dependencies do not, or
        one router would tie the failures of every neighbour it has. Only members from sources
        seen clearing count (an event says nothing of "still"); demoted ones never do.

        Also returns the incidents that explain it through an entity that is not a hub (at most
        ``hub_fanout`` dependents): only those claim it past the window, or an overloaded AMF
        would claim every gNodeB fault for as long as it stays overloaded.
        """
        out: dict[str, int] = {}
        specific: set[str] = set()
        active = self._active_at
        if not active:
            return out, specific
        far = at - self._follow
        for x, h, _, _, hub in self._explain_path(about, reporter):
            incs = active.get(x)
            if not incs:
                continue
            for inc in incs:
                d = self._drafts[inc]
                if d.indexed and d.last_event >= far:
                    if h < out.get(inc, h + 1):
                        out[inc] = h
                    if not hub:
                        specific.add(inc)
        return out, specific

    def _explain_path(self, about: str, reporter: str) -> Plan:
        """Where ``_explained`` looks: what the alarm is about and what that depends on (the
        candidate index's plan), plus the far end of a link; static, so kept per link."""
        if about == reporter:
            return self._index.plan(about)
        key = (about, reporter)
        hit = self._explain_paths.get(key)
        if hit is not None:
            return hit
        topo, max_hops = self._topology, self.config.max_hops
        path = list(self._index.plan(about))
        if max_hops > 0:
            ends = topo.dependents(about, 1)
            if len(ends) <= self.config.close_fanout:
                for peer, _ in ends:
                    if peer != reporter:
                        far = ((peer, 0), *topo.dependency_path(peer, max_hops - 1))
                        path.extend((x, h + 1, 0, False, self._index.is_hub(x)) for x, h in far)
        hit = self._explain_paths[key] = tuple(path)
        return hit

    def _count(self, inc: str, aid: str, entity: str) -> None:
        """Count an active member in ``_active_at`` (what ``_explained`` reads)."""
        self._counted[aid] = entity
        at = self._active_at.setdefault(entity, {})
        at[inc] = at.get(inc, 0) + 1

    def _uncount(self, inc: str, aid: str) -> str | None:
        """Undo ``_count`` (cleared, moved or forgotten); returns the entity it counted on."""
        entity = self._counted.pop(aid, None)
        if entity is None:
            return None
        at = self._active_at.get(entity)
        if at is not None:
            n = at.get(inc, 0) - 1
            if n > 0:
                at[inc] = n
            else:
                at.pop(inc, None)
                if not at:
                    del self._active_at[entity]
        return entity

    def _linked(self, entity: str, others: Iterable[str]) -> int | None:
        """Hops from ``entity`` to the nearest of ``others`` along dependencies (either way).

        Siblings under a shared upstream entity are not linked: that is the index's looser
        reach, which weak evidence does not get.
        """
        hops = self.config.max_hops
        up = self._topology.upstream(entity, hops)
        best: int | None = None
        for e in others:
            if e == entity:
                return 0
            h = up.get(e)
            if h is None:
                h = self._topology.upstream(e, hops).get(entity)
            if h is not None and (best is None or h < best):
                best = h
        return best

    def _open(self, a: Alarm, entity: str, tokens: frozenset[str], typ: str) -> IncidentDraft:
        salt = 0
        iid = incident_id(a.alarm_id)
        while iid in self._drafts:
            salt += 1
            iid = incident_id(a.alarm_id, salt)
        at = a.event_time
        d = IncidentDraft(iid, at, at, at, at, root=entity, title_type=typ)
        d.tokens = tokens
        d.note(at, "opened", f"opened by alarm {a.alarm_id} on {entity}")
        self._drafts[iid] = d
        self.opened += 1
        heapq.heappush(self._pending, (at + self.config.group_wait, iid))
        heapq.heappush(self._expiry, (at + self.config.window, iid))
        return d

    def _join(
        self,
        d: IncidentDraft,
        a: Alarm,
        about: str,
        reason: GroupReason,
        score: float,
        detail: str,
        template: str,
        typ: str,
    ) -> None:
        """Add ``a`` to ``d`` (``score`` already rounded; ``typ`` is the alarm's type)."""
        aid, entity, at = a.alarm_id, a.managed_object, a.event_time
        d.set_member(Member(aid, str(reason), at, detail, score))
        if self._alarm_log is not None:
            self._alarm_log.append(aid)
        self._alarm_inc[aid] = d.id
        self._source[aid] = a.source
        d.entity_of[aid] = entity
        d.set_severity(aid, a.perceived_severity.rank)
        entities = d.entities
        entities[entity] = entities.get(entity, 0) + 1
        if at > d.updated:
            d.updated = at
        if d.state is IncidentState.RESOLVED:
            d.state = IncidentState.OPEN
            d.note(at, "reopened", f"alarm {aid} on {entity}")
        self._changed[d.id] = None
        if reason in RIDING:
            return  # rides along: it neither extends the window nor widens the incident's reach
        clearing = a.source in self._clearing
        if clearing:
            self._count(d.id, aid, about)
        if about != entity:
            self._about_of[aid] = about
            self._index.index_member(d, entity, about)
        else:
            self._index.index_entity(d, entity)
        is_new_entity = entity not in d.member_entities
        if is_new_entity:
            d.member_entities.add(entity)
        types = d.types
        n_typ = types.get(typ)
        if n_typ is None:
            if d.indexed:
                self._index.index_type(typ, d)
            types[typ] = 1
        else:
            types[typ] = n_typ + 1
        templates = d.templates
        if len(templates) < _MAX_TEMPLATES and template not in templates:
            templates.add(template)
            self._index.index_template(d, template)
        # an event says nothing of "still"; a late effect claimed past the window does not
        # reopen the window to everything else (nor to demoted alarms riding along)
        if at > d.last_event and clearing and reason != GroupReason.ACTIVE_INCIDENT:
            d.last_event = at
        if is_new_entity:
            services, customers = self._topology.impacted(entity)
            d.services.update(services)
            d.customers.update(customers)
            self._update_root(d, entity, typ, at)

    def _update_root(self, d: IncidentDraft, entity: str, typ: str, at: datetime) -> None:
        root = d.root
        if entity == root or root in self._topology.upstream(entity, _ROOT_DEPTH):
            return
        if entity in self._topology.upstream(root, _ROOT_DEPTH):
            d.root, d.title_type = entity, typ
            d.note(at, "root_changed", f"{entity} is upstream of {root}")

    def _member_changed(self, d: IncidentDraft, a: Alarm) -> None:
        aid = a.alarm_id
        if aid in d.severity_of:
            d.set_severity(aid, a.perceived_severity.rank)
        if a.ack_state is AckState.ACKNOWLEDGED and d.state is IncidentState.OPEN:
            d.state = IncidentState.ACKNOWLEDGED
            d.note(
                a.ack_time or a.event_time,
                "acknowledged",
                f"alarm {aid} acknowledged",
                a.ack_user_id or "unknown",
            )
        self._changed[d.id] = None

    def _member_cleared(self, d: IncidentDraft, a: Alarm) -> None:
        aid = a.alarm_id
        if aid in self._counted:
            self._uncount(d.id, aid)
        if d.pop_severity(aid) is None:
            return
        entity = d.entity_of[aid]
        entities = d.entities
        left = entities.get(entity, 1) - 1
        if left:
            entities[entity] = left
        else:
            entities.pop(entity, None)
        at = a.cleared_time or a.event_time
        if at > d.updated:
            d.updated = at
        if not d.severity_of and d.state in (IncidentState.OPEN, IncidentState.ACKNOWLEDGED):
            d.state = IncidentState.RESOLVED
            d.note(at, "resolved", f"all {len(d.members)} alarm(s) cleared")
            if not d.indexed:
                heapq.heappush(self._drop, (d.updated + self.config.retain_resolved, d.id))
        self._changed[d.id] = None

    # -- timers ---------------------------------------------------------------------------

    def _publish_due(self, now: datetime) -> None:
        while self._pending and self._pending[0][0] <= now:
            _, iid = heapq.heappop(self._pending)
            d = self._drafts.get(iid)
            if d is not None and not d.published:
                d.published = True
                d.note(
                    max(now, d.first_event),
                    "published",
                    f"{len(d.members)} alarm(s) after group_wait",
                )
                self._changed[iid] = None

    def tick(self, now: datetime) -> StageOutput:
        """Publish incidents whose wait is over; close grouping on quiet ones; forget old ones."""
        self._publish_due(now)
        while self._expiry and self._expiry[0][0] <= now:
            due, iid = heapq.heappop(self._expiry)
            d = self._drafts.get(iid)
            if d is None or not d.indexed:
                continue
            real = d.last_event + self.config.window
            if real > due:
                heapq.heappush(self._expiry, (real, iid))
                continue
            follow = d.last_event + max(self.config.window, self.config.follow_active)
            if d.severity_of and follow > now:  # still happening: look again a window later
                heapq.heappush(self._expiry, (min(now + self.config.window, follow), iid))
                continue
            self._index.deindex(d)
            if self._core is not None:
                self._core.deindex(iid)
            if d.state in (IncidentState.RESOLVED, IncidentState.CLOSED):
                heapq.heappush(self._drop, (d.updated + self.config.retain_resolved, iid))
        while self._drop and self._drop[0][0] <= now:
            _, iid = heapq.heappop(self._drop)
            d = self._drafts.get(iid)
            if (
                d is not None
                and not d.indexed
                and d.state in (IncidentState.RESOLVED, IncidentState.CLOSED)
            ):
                del self._drafts[iid]
                for aid in d.members:
                    self._uncount(iid, aid)
                    self._about_of.pop(aid, None)
                    if self._alarm_inc.get(aid) == iid:
                        del self._alarm_inc[aid]
                        self._source.pop(aid, None)
        return StageOutput()

    # -- operator feedback ----------------------------------------------------------------

    def merge(self, into_id: str, from_id: str, actor: str, now: datetime) -> list[IncidentDraft]:
        """Move every member of ``from_id`` into ``into_id`` and close ``from_id``."""
        into, src = self._drafts[into_id], self._drafts[from_id]
        if into is src:
            return []
        moved = list(src.members)
        for aid in moved:
            self._move(
                src, into, aid, GroupReason.OPERATOR_MERGE, f"merged from {from_id} by {actor}", now
            )
        src.state = IncidentState.CLOSED
        src.note(now, "merged", f"merged into {into_id}", actor)
        into.note(now, "merged", f"absorbed {from_id} ({len(moved)} alarm(s))", actor)
        if into.state is IncidentState.RESOLVED and into.severity_of:
            into.state = IncidentState.OPEN
        self._reindex(src)
        self._feedback.append(Feedback(now, actor, "merge", (into_id, from_id), tuple(moved)))
        self._core_synced = False
        self._changed[into_id] = None
        self._changed[from_id] = None
        return [into, src]

    def split(
        self, incident_id_: str, alarm_ids: Sequence[str], actor: str, now: datetime
    ) -> list[IncidentDraft]:
        """Move ``alarm_ids`` out of the incident into a new one (id from its first moved member)."""
        src = self._drafts[incident_id_]
        moving = [aid for aid in src.members if aid in set(alarm_ids)]
        if not moving or len(moving) == len(src.members):
            return []
        first = src.members[moving[0]]
        salt = 0
        iid = incident_id(first.alarm_id)
        while iid in self._drafts:
            salt += 1
            iid = incident_id(first.alarm_id, salt)
        entity = src.entity_of[first.alarm_id]
        new = IncidentDraft(
            iid, now, first.added, first.added, now, root=entity, title_type=src.title_type
        )
        new.published = True
        new.tokens = src.tokens
        new.note(now, "split", f"split from {incident_id_}", actor)
        self._drafts[iid] = new
        for aid in moving:
            self._move(
                src,
                new,
                aid,
                GroupReason.OPERATOR_SPLIT,
                f"split from {incident_id_} by {actor}",
                now,
            )
        src.note(now, "split", f"{len(moving)} alarm(s) moved to {iid}", actor)
        self._reindex(src)
        for d in (src, new):
            if not d.severity_of and d.state is IncidentState.OPEN:
                d.state = IncidentState.RESOLVED
        heapq.heappush(self._expiry, (new.last_event + self.config.window, iid))
        self._feedback.append(Feedback(now, actor, "split", (incident_id_, iid), tuple(moving)))
        self._core_synced = False
        self._changed[incident_id_] = None
        self._changed[iid] = None
        return [src, new]

    def _move(
        self,
        src: IncidentDraft,
        dst: IncidentDraft,
        aid: str,
        reason: GroupReason,
        detail: str,
        now: datetime,
    ) -> None:
        m = src.pop_member(aid)
        entity = src.entity_of.pop(aid)
        counted = self._uncount(src.id, aid)
        if counted is not None:
            self._count(dst.id, aid, counted)
        rank = src.pop_severity(aid)
        if rank is not None:
            left = src.entities.get(entity, 1) - 1
            if left:
                src.entities[entity] = left
            else:
                src.entities.pop(entity, None)
        dst.set_member(Member(aid, str(reason), now, detail, m.score))
        dst.entity_of[aid] = entity
        if rank is not None:
            dst.set_severity(aid, rank)
            dst.entities[entity] = dst.entities.get(entity, 0) + 1
        if m.added > dst.last_event:
            dst.last_event = m.added
        dst.updated = max(dst.updated, now)
        self._alarm_inc[aid] = dst.id
        self._index.index_member(dst, entity, self._about_of.get(aid, entity))
        if entity not in dst.member_entities:
            dst.member_entities.add(entity)
            services, customers = self._topology.impacted(entity)
            dst.services.update(services)
            dst.customers.update(customers)
            self._update_root(dst, entity, dst.title_type, now)

    def _reindex(self, d: IncidentDraft) -> None:
        """Rebuild an incident's index entries, root and impact after members left it."""
        was_indexed = d.indexed
        self._index.deindex(d)
        d.index_keys.clear()
        d.indexed = was_indexed and d.state is not IncidentState.CLOSED
        d.services.clear()
        d.customers.clear()
        entities = list(dict.fromkeys(d.entity_of.values()))
        d.member_entities = set(entities)
        if d.indexed:
            for t in d.templates:
                self._index.index_template(d, t)
            for typ in d.types:
                self._index.index_type(typ, d)
        if entities:
            d.root = entities[0]
        self._index.index_members(d, d.entity_of, self._about_of)
        for e in entities:
            services, customers = self._topology.impacted(e)
            d.services.update(services)
            d.customers.update(customers)
            self._update_root(d, e, d.title_type, d.updated)

    # -- state ----------------------------------------------------------------------------

    def to_state(self) -> ModelState:
        return ModelState(
            STATE_SCHEMA,
            1,
            {
                "config": self.config.model_dump(mode="json"),
                "drafts": [d.to_dict() for d in self._drafts.values()],
                "changed": list(self._changed),
                "feedback": [f.to_dict() for f in self._feedback],
                "opened": self.opened,
                "placed": self.placed,
                "sources": dict(self._source),
                "clearing": sorted(self._clearing),
                "counted": dict(self._counted),
                "about": dict(self._about_of),
                "advisory": [
                    alarm_to_dict(p) for held in self._advisory.values() for p in held.values()
                ],
            },
        )

    @classmethod
    def from_state(
        cls,
        state: ModelState,
        topology: TopologyGraph | None = None,
        causality: CausalStrength | None = None,
    ) -> Self:
        state.expect(STATE_SCHEMA, 1)
        p = state.params
        stage = cls(GroupConfig.model_validate(p["config"]), topology, causality)
        about_of: dict[str, str] = dict(p.get("about", {}))
        stage._about_of = about_of
        for dd in p["drafts"]:
            d = IncidentDraft.from_dict(dd)
            stage._drafts[d.id] = d
            for aid in d.members:
                stage._alarm_inc[aid] = d.id
            stage._index.index_all(d, about_of)
            if d.indexed:
                heapq.heappush(stage._expiry, (d.last_event + stage.config.window, d.id))
            elif d.state in (IncidentState.RESOLVED, IncidentState.CLOSED):
                heapq.heappush(stage._drop, (d.updated + stage.config.retain_resolved, d.id))
            if not d.published:
                heapq.heappush(stage._pending, (d.first_event + stage.config.group_wait, d.id))
        stage._changed = dict.fromkeys(p["changed"])
        stage._feedback = [Feedback.from_dict(f) for f in p["feedback"]]
        stage.opened, stage.placed = int(p["opened"]), int(p["placed"])
        stage._source = dict(p.get("sources", {}))
        stage._clearing = set(p.get("clearing", ()))
        for x in p.get("advisory", ()):
            held = alarm_from_dict(x)
            stage._advisory.setdefault(held.managed_object, {})[held.alarm_id] = held
        for aid, about in p.get("counted", {}).items():
            inc = stage._alarm_inc.get(aid)
            if inc is not None:
                stage._count(inc, aid, about)
        return stage


def _new_core(stage: GroupStage) -> GroupCore:
    """The compiled batch core, imported here so a chain without it never loads numba."""
    from nocwise.correlate.core import GroupCore

    return GroupCore(stage)
