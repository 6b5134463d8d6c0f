"""The mutable working copy of an incident, frozen into a ``model.Incident`` on output.

Incidents can grow to thousands of members in a storm; rebuilding a frozen tuple on each join
would be quadratic, so grouping works on this draft and freezes it once per call that changed
it. Ids come from the first member and never change (DESIGN §9).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nocwise.correlate.codec import must_ts, ts
from nocwise.model import Impact, Incident, IncidentState, Member, Members, TimelineEntry


def incident_id(first_alarm_id: str, salt: int = 0) -> str:
    """The stable id an incident takes from its first member."""
    key = first_alarm_id if salt == 0 else f"{first_alarm_id}#{salt}"
    return "INC-" + hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Feedback:
    """An operator's correction (merge or split), kept as data for retraining the grouping."""

    ts: datetime
    actor: str
    action: str  # "merge" | "split"
    incident_ids: tuple[str, ...]
    alarm_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ts": ts(self.ts),
            "actor": self.actor,
            "action": self.action,
            "incident_ids": list(self.incident_ids),
            "alarm_ids": list(self.alarm_ids),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Feedback:
        return cls(
            must_ts(d["ts"]),
            d["actor"],
            d["action"],
            tuple(d["incident_ids"]),
            tuple(d["alarm_ids"]),
        )


@dataclass(slots=True)
class IncidentDraft:
    """Everything grouping and ranking need about an incident, kept up to date incrementally."""

    id: str
    opened: datetime
    first_event: datetime
    last_event: datetime
    updated: datetime
    state: IncidentState = IncidentState.OPEN
    members: dict[str, Member] = field(default_factory=dict)
    entity_of: dict[str, str] = field(default_factory=dict)  # member alarm -> entity
    # active member -> severity rank; changed only through set_/pop_/clear_severity, which
    # keep ``severity_count`` (active members per rank, 0..5) so the worst is read in O(1)
    severity_of: dict[str, int] = field(default_factory=dict)
    severity_count: list[int] = field(default_factory=lambda: [0] * 6)
    entities: dict[str, int] = field(default_factory=dict)  # entity -> active member count
    member_entities: set[str] = field(default_factory=set)  # every entity a member is on
    types: dict[str, int] = field(default_factory=dict)  # alarm type -> member count
    templates: set[str] = field(default_factory=set)
    tokens: frozenset[str] = frozenset()
    root: str = ""
    title_type: str = ""
    services: set[str] = field(default_factory=set)
    customers: set[str] = field(default_factory=set)
    timeline: list[TimelineEntry] = field(default_factory=list)
    index_keys: dict[str, int] = field(default_factory=dict)  # anchor entity -> depth
    published: bool = False
    indexed: bool = True
    # ``member_list`` is the members in the dict's order, appended to on a join and shared with
    # the snapshots (``Members.prefix``): a snapshot is O(1), not a copy of every member. A
    # replace or a removal drops it (None), and the next ``freeze`` starts a new one, so an
    # older snapshot's list is never changed. ``frozen_members`` and ``frozen_timeline`` are
    # the last snapshot's, reused until members or timeline change (most snapshots follow a
    # clear or a severity change, which leaves both as they were).
    member_list: list[Member] | None = field(
        default_factory=list, init=False, repr=False, compare=False
    )
    frozen_members: Members | None = field(default=None, init=False, repr=False, compare=False)
    frozen_count: int = field(default=0, init=False, repr=False, compare=False)  # its length
    frozen_timeline: tuple[TimelineEntry, ...] | None = field(default=None, init=False, repr=False)
    # the ranker's last assessment of this incident: ((customers, services, worst severity,
    # least noise), impact, priority). Kept here, not in a dict by id, so that a snapshot reads
    # it from the draft it already holds (one fewer look-up in a table as large as the open
    # incidents, a cache miss each at 10^5 open alarms)
    assessed: tuple[tuple[int, int, int, float], Impact, int] | None = field(
        default=None, init=False, repr=False
    )

    @property
    def active(self) -> int:
        return len(self.severity_of)

    def note(self, at: datetime, kind: str, detail: str, actor: str = "nocwise") -> None:
        self.timeline.append(TimelineEntry(at, kind, detail, actor))
        self.frozen_timeline = None

    @property
    def max_severity(self) -> int:
        """The worst active member's rank (0 with none), without a pass over the members."""
        count = self.severity_count
        for rank in range(5, 0, -1):
            if count[rank]:
                return rank
        return 0

    def set_severity(self, alarm_id: str, rank: int) -> None:
        old = self.severity_of.get(alarm_id)
        if old is not None:
            self.severity_count[old] -= 1
        self.severity_of[alarm_id] = rank
        self.severity_count[rank] += 1

    def pop_severity(self, alarm_id: str) -> int | None:
        rank = self.severity_of.pop(alarm_id, None)
        if rank is not None:
            self.severity_count[rank] -= 1
        return rank

    def clear_severity(self) -> None:
        self.severity_of.clear()
        self.severity_count = [0] * 6

    def set_member(self, m: Member) -> None:
        """Add or replace a member (members change only through these three methods)."""
        members = self.members
        if m.alarm_id in members:
            self._drop_list()  # replaced in place: snapshots taken hold the old member
        elif self.member_list is not None:
            self.member_list.append(m)
        members[m.alarm_id] = m

    def pop_member(self, alarm_id: str) -> Member:
        self._drop_list()
        return self.members.pop(alarm_id)

    def clear_members(self) -> None:
        self.members.clear()
        self._drop_list()

    def _drop_list(self) -> None:
        """Members changed other than by a join: the next snapshot starts a new list."""
        self.member_list = None
        self.frozen_members = None

    def freeze(self, impact: Impact, priority: int) -> Incident:
        n = len(self.members)
        members = self.frozen_members
        if members is None or self.frozen_count != n:  # joined (or the list was dropped)
            listed = self.member_list
            if listed is None:
                listed = self.member_list = list(self.members.values())
            members = self.frozen_members = Members.prefix(listed, n)
            self.frozen_count = n
        timeline = self.frozen_timeline
        if timeline is None:
            timeline = self.frozen_timeline = tuple(self.timeline)
        title = f"{self.title_type or 'alarms'} on {self.root}" + (
            f" (+{n - 1} alarms)" if n > 1 else ""
        )
        return Incident(  # by position, in field order: cheaper than keywords
            self.id,
            self.state,
            self.opened,
            self.updated,
            title,
            members,
            (),  # hypotheses
            impact,
            priority,
            timeline,
            self.root or None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "opened": ts(self.opened),
            "first_event": ts(self.first_event),
            "last_event": ts(self.last_event),
            "updated": ts(self.updated),
            "state": str(self.state),
            "members": [
                [m.alarm_id, m.reason, ts(m.added), m.detail, m.score]
                for m in self.members.values()
            ],
            "entity_of": dict(self.entity_of),
            "severity_of": dict(self.severity_of),
            "types": dict(self.types),
            "templates": sorted(self.templates),
            "tokens": sorted(self.tokens),
            "root": self.root,
            "title_type": self.title_type,
            "services": sorted(self.services),
            "customers": sorted(self.customers),
            "timeline": [[ts(e.ts), e.kind, e.detail, e.actor] for e in self.timeline],
            "published": self.published,
            "indexed": self.indexed,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IncidentDraft:
        draft = cls(
            id=d["id"],
            opened=must_ts(d["opened"]),
            first_event=must_ts(d["first_event"]),
            last_event=must_ts(d["last_event"]),
            updated=must_ts(d["updated"]),
            state=IncidentState(d["state"]),
        )
        draft.members = {
            m[0]: Member(m[0], m[1], must_ts(m[2]), m[3], float(m[4])) for m in d["members"]
        }
        draft.member_list = None  # built from the dict on the first snapshot
        draft.entity_of = dict(d["entity_of"])
        draft.member_entities = set(draft.entity_of.values())
        for aid, rank in d["severity_of"].items():
            draft.set_severity(aid, int(rank))
            e = draft.entity_of[aid]
            draft.entities[e] = draft.entities.get(e, 0) + 1
        draft.types = {k: int(v) for k, v in d["types"].items()}
        draft.templates = set(d["templates"])
        draft.tokens = frozenset(d["tokens"])
        draft.root = d["root"]
        draft.title_type = d["title_type"]
        draft.services = set(d["services"])
        draft.customers = set(d["customers"])
        draft.timeline = [TimelineEntry(must_ts(t), k, x, a) for t, k, x, a in d["timeline"]]
        draft.published = bool(d["published"])
        draft.indexed = bool(d["indexed"])
        return draft
