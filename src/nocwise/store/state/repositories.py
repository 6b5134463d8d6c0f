"""Repositories: SQL in one place, canonical records in and out."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nocwise.model import (
    AckState,
    Alarm,
    AuditEvent,
    Change,
    Entity,
    Incident,
    Recommendation,
    Relation,
    Severity,
    Ticket,
    codec,
)
from nocwise.store.state.db import upsert
from nocwise.store.state.tables import (
    AlarmRow,
    AuditRow,
    BatchRow,
    ChangeRow,
    EntityRow,
    IncidentRow,
    RelationRow,
    TicketRow,
    TokenRow,
)

ROLES: tuple[str, ...] = ("viewer", "operator", "admin")


def _table(row: type[Any]) -> Table:
    table = row.__table__
    assert isinstance(table, Table)
    return table


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _recency(a: Alarm) -> tuple[datetime, bool]:
    """When a notification happened (clear, change or raise) and whether it is a clear."""
    return (a.cleared_time or a.changed_time or a.event_time, a.is_cleared)


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    """Filters of the alarm list; every field is optional."""

    active: bool | None = None
    severity: Severity | None = None
    managed_object: str | None = None
    source: str | None = None
    incident_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AlarmRepository:
    """The alarm list: current state per alarm_id."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def upsert_many(self, alarms: Sequence[Alarm]) -> None:
        """Store the latest state of each alarm (idempotent by alarm_id)."""
        latest: dict[str, Alarm] = {}
        for a in alarms:  # per id, the newest notification; a clear wins a tie
            held = latest.get(a.alarm_id)
            if held is None or _recency(a) >= _recency(held):
                latest[a.alarm_id] = a if held is None else a.keeping_ack_of(held)
        for aid, acked in self._acknowledged(latest).items():
            latest[aid] = latest[aid].keeping_ack_of(acked)
        rows = [
            {
                "alarm_id": a.alarm_id,
                "fingerprint": a.fingerprint,
                "managed_object": a.managed_object,
                "source": a.source,
                "severity": a.perceived_severity.value,
                "event_time": a.event_time,
                "cleared_time": a.cleared_time,
                "ack_state": a.ack_state.value,
                "active": a.is_active,
                "doc": _dumps(codec.alarm_to_dict(a)),
            }
            for a in latest.values()
        ]
        for i in range(0, len(rows), 500):
            self._upsert(rows[i : i + 500])

    def _acknowledged(self, alarms: dict[str, Alarm]) -> dict[str, Alarm]:
        """Stored acknowledged alarms among those whose new notification is unacknowledged."""
        ids = [aid for aid, a in alarms.items() if a.ack_state is AckState.UNACKNOWLEDGED]
        out: dict[str, Alarm] = {}
        for i in range(0, len(ids), 500):
            rows = self.s.scalars(
                select(AlarmRow.doc).where(
                    AlarmRow.alarm_id.in_(ids[i : i + 500]),
                    AlarmRow.ack_state == AckState.ACKNOWLEDGED.value,
                )
            )
            for doc in rows:
                a = codec.alarm_from_dict(json.loads(doc))
                out[a.alarm_id] = a
        return out

    def _upsert(self, rows: list[dict[str, Any]]) -> None:
        """Insert or update, except that a notification older than a stored clear never
        re-opens the alarm (a clear is never lost to a late or retried raise)."""
        table = _table(AlarmRow)
        dialect = self.s.get_bind().dialect.name
        stmt = (sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)).values(
            rows
        )
        stored = table.c
        late_raise = and_(
            stored.cleared_time.is_not(None),
            stmt.excluded.cleared_time.is_(None),
            stmt.excluded.event_time <= stored.cleared_time,
        )
        cols = {c: stmt.excluded[c] for c in rows[0] if c != "alarm_id"}
        self.s.execute(
            stmt.on_conflict_do_update(index_elements=["alarm_id"], set_=cols, where=~late_raise)
        )

    def get(self, alarm_id: str) -> Alarm | None:
        """One alarm by id."""
        row = self.s.get(AlarmRow, alarm_id)
        return codec.alarm_from_dict(json.loads(row.doc)) if row else None

    def get_many(self, alarm_ids: Iterable[str]) -> dict[str, Alarm]:
        """Alarms by id (missing ids are absent from the result)."""
        ids = list(alarm_ids)
        out: dict[str, Alarm] = {}
        for i in range(0, len(ids), 500):
            rows = self.s.scalars(select(AlarmRow).where(AlarmRow.alarm_id.in_(ids[i : i + 500])))
            out.update({r.alarm_id: codec.alarm_from_dict(json.loads(r.doc)) for r in rows})
        return out

    def incident_of(self, alarm_ids: Iterable[str]) -> dict[str, str | None]:
        """Which incident each alarm belongs to."""
        ids = list(alarm_ids)
        rows = self.s.execute(
            select(AlarmRow.alarm_id, AlarmRow.incident_id).where(AlarmRow.alarm_id.in_(ids))
        )
        return {a: i for a, i in rows}

    def list(self, f: AlarmFilter, limit: int = 100, offset: int = 0) -> tuple[list[Alarm], int]:
        """A page of alarms, newest first, and the total matching count."""
        q = select(AlarmRow)
        if f.active is not None:
            q = q.where(AlarmRow.active == f.active)
        if f.severity is not None:
            q = q.where(AlarmRow.severity == f.severity.value)
        if f.managed_object is not None:
            q = q.where(AlarmRow.managed_object == f.managed_object)
        if f.source is not None:
            q = q.where(AlarmRow.source == f.source)
        if f.incident_id is not None:
            q = q.where(AlarmRow.incident_id == f.incident_id)
        if f.since is not None:
            q = q.where(AlarmRow.event_time >= f.since)
        if f.until is not None:
            q = q.where(AlarmRow.event_time < f.until)
        total = self.s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = self.s.scalars(
            q.order_by(AlarmRow.event_time.desc(), AlarmRow.alarm_id).limit(limit).offset(offset)
        )
        return [codec.alarm_from_dict(json.loads(r.doc)) for r in rows], total

    def count(self) -> int:
        """All alarms stored."""
        return self.s.scalar(select(func.count()).select_from(AlarmRow)) or 0

    def assign(self, incident_id: str, alarm_ids: Iterable[str]) -> None:
        """Record the incident an alarm belongs to."""
        ids = list(alarm_ids)
        for i in range(0, len(ids), 500):
            self.s.execute(
                update(AlarmRow)
                .where(AlarmRow.alarm_id.in_(ids[i : i + 500]))
                .values(incident_id=incident_id)
            )


class IncidentRepository:
    """Incidents, stored as state that changes in place."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def upsert(self, incident: Incident) -> None:
        """Insert or replace an incident (keeps its recommendations)."""
        row = {
            "id": incident.id,
            "state": incident.state.value,
            "priority": incident.priority,
            "opened": incident.opened,
            "updated": incident.updated,
            "title": incident.title[:500],
            "root_entity_id": incident.root_entity_id,
            "impact_score": incident.impact.score,
            "doc": _dumps(codec.incident_to_dict(incident)),
            "recommendations": "[]",
        }
        table = _table(IncidentRow)
        existing = self.s.get(IncidentRow, incident.id)
        if existing is None:
            upsert(self.s, table, [row], ["id"])
        else:
            row.pop("recommendations")
            for key, value in row.items():
                setattr(existing, key, value)
        AlarmRepository(self.s).assign(incident.id, (m.alarm_id for m in incident.members))

    def set_recommendations(self, incident_id: str, recs: Sequence[Recommendation]) -> None:
        """Replace an incident's recommendations."""
        row = self.s.get(IncidentRow, incident_id)
        if row is not None:
            row.recommendations = _dumps([codec.recommendation_to_dict(r) for r in recs])

    def get(self, incident_id: str) -> tuple[Incident, list[Recommendation]] | None:
        """An incident and its recommendations."""
        row = self.s.get(IncidentRow, incident_id)
        if row is None:
            return None
        recs = [codec.recommendation_from_dict(r) for r in json.loads(row.recommendations)]
        return codec.incident_from_dict(json.loads(row.doc)), recs

    def list(
        self, state: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[Incident], int]:
        """Incidents ranked by priority (1 first), then impact, then recency."""
        docs, total = self.list_docs(state, limit, offset)
        return [codec.incident_from_dict(d) for d in docs], total

    def list_docs(
        self, state: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[Sequence[dict[str, Any]], int]:
        """Like :meth:`list`, as the stored JSON documents: a list page that only summarises
        incidents need not rebuild every member of large ones."""
        q = select(IncidentRow.doc)
        count = select(func.count()).select_from(IncidentRow)
        if state is not None:
            q = q.where(IncidentRow.state == state)
            count = count.where(IncidentRow.state == state)
        total = self.s.scalar(count) or 0
        rows = self.s.scalars(
            q.order_by(
                IncidentRow.priority, IncidentRow.impact_score.desc(), IncidentRow.updated.desc()
            )
            .limit(limit)
            .offset(offset)
        )
        return [json.loads(doc) for doc in rows], total


class TopologyRepository:
    """Entities and relations."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def upsert(self, entities: Sequence[Entity], relations: Sequence[Relation]) -> None:
        """Add or update entities and relations."""
        ents = [
            {
                "id": e.id,
                "kind": e.kind,
                "domain": e.domain.value,
                "doc": _dumps(codec.entity_to_dict(e)),
            }
            for e in {e.id: e for e in entities}.values()
        ]
        rels = [
            {"src": r.src, "dst": r.dst, "kind": r.kind.value}
            for r in {(r.src, r.dst, r.kind): r for r in relations}.values()
        ]
        for i in range(0, len(ents), 500):
            upsert(self.s, _table(EntityRow), ents[i : i + 500], ["id"])
        for i in range(0, len(rels), 500):
            upsert(self.s, _table(RelationRow), rels[i : i + 500], ["src", "dst", "kind"], False)

    def entities(
        self,
        kind: str | None = None,
        domain: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Entity]:
        """Entities, optionally filtered."""
        q = select(EntityRow).order_by(EntityRow.id)
        if kind is not None:
            q = q.where(EntityRow.kind == kind)
        if domain is not None:
            q = q.where(EntityRow.domain == domain)
        q = q.offset(offset)
        if limit is not None:
            q = q.limit(limit)
        return [codec.entity_from_dict(json.loads(r.doc)) for r in self.s.scalars(q)]

    def relations(self) -> list[Relation]:
        """Every relation."""
        rows = self.s.scalars(select(RelationRow))
        return [
            codec.relation_from_dict({"src": r.src, "dst": r.dst, "kind": r.kind}) for r in rows
        ]

    def count(self) -> tuple[int, int]:
        """(entities, relations)."""
        e = self.s.scalar(select(func.count()).select_from(EntityRow)) or 0
        r = self.s.scalar(select(func.count()).select_from(RelationRow)) or 0
        return e, r


class ChangeRepository:
    """Deployments, configuration changes and maintenance."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def upsert_many(self, changes: Sequence[Change]) -> None:
        """Store changes (idempotent by id)."""
        rows = [
            {
                "id": c.id,
                "ts": c.ts,
                "entity_id": c.entity_id,
                "doc": _dumps(codec.change_to_dict(c)),
            }
            for c in changes
        ]
        upsert(self.s, _table(ChangeRow), rows, ["id"])

    def near(self, entity_ids: Iterable[str], since: datetime, until: datetime) -> list[Change]:
        """Changes on these entities in a time range."""
        ids = list(entity_ids)
        q = select(ChangeRow).where(
            ChangeRow.entity_id.in_(ids), ChangeRow.ts >= since, ChangeRow.ts <= until
        )
        return [codec.change_from_dict(json.loads(r.doc)) for r in self.s.scalars(q)]


class TicketRepository:
    """Trouble tickets (TMF621 shape): the history remediation learns from."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def upsert_many(self, tickets: Sequence[Ticket]) -> None:
        """Store tickets (idempotent by id)."""
        rows = [
            {
                "id": t.id,
                "created": t.created,
                "status": t.status.value,
                "doc": _dumps(codec.ticket_to_dict(t)),
            }
            for t in {t.id: t for t in tickets}.values()
        ]
        for i in range(0, len(rows), 500):
            upsert(self.s, _table(TicketRow), rows[i : i + 500], ["id"])

    def all(self, limit: int = 100_000) -> list[Ticket]:
        """The most recent tickets."""
        q = select(TicketRow).order_by(TicketRow.created.desc()).limit(limit)
        return [codec.ticket_from_dict(json.loads(r.doc)) for r in self.s.scalars(q)]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a token's id, name and role."""

    token_id: str
    name: str
    role: str

    def has(self, role: str) -> bool:
        """True if this principal's role includes ``role`` (admin > operator > viewer)."""
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_token(secret: str) -> str:
    """Tokens are 256-bit random values, so one SHA-256 is a sound at-rest hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenRepository:
    """API tokens: the secret is shown once, only its hash is stored."""

    PREFIX = "nw_"

    def __init__(self, session: Session) -> None:
        self.s = session

    def create(
        self, role: str, name: str, now: datetime, secret: str | None = None
    ) -> tuple[str, str]:
        """A new token; returns (token id, secret)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        secret = secret or self.PREFIX + secrets.token_urlsafe(32)
        token_id = secrets.token_hex(6)
        self.s.add(
            TokenRow(
                id=token_id,
                name=name,
                role=role,
                token_hash=hash_token(secret),
                created=now,
                revoked=False,
            )
        )
        return token_id, secret

    def ensure(self, secret: str, role: str, name: str, now: datetime) -> None:
        """Seed a known token (bootstrap) unless it exists."""
        if self.s.scalar(select(TokenRow).where(TokenRow.token_hash == hash_token(secret))) is None:
            self.create(role, name, now, secret)

    def verify(self, secret: str) -> Principal | None:
        """The principal of a valid, unrevoked token."""
        row = self.s.scalar(select(TokenRow).where(TokenRow.token_hash == hash_token(secret)))
        if row is None or row.revoked:
            return None
        return Principal(row.id, row.name, row.role)

    def list(self) -> list[tuple[str, str, str, datetime, bool]]:
        """(id, name, role, created, revoked) of every token."""
        rows = self.s.scalars(select(TokenRow).order_by(TokenRow.created))
        return [(r.id, r.name, r.role, r.created, r.revoked) for r in rows]

    def revoke(self, token_id: str) -> bool:
        """Revoke a token; False if it does not exist."""
        row = self.s.get(TokenRow, token_id)
        if row is None:
            return False
        row.revoked = True
        return True


GENESIS = "0" * 64


def _audit_hash(
    prev: str, ts: datetime, actor: str, role: str, action: str, target: str, detail: str
) -> str:
    payload = "\x1f".join((prev, ts.isoformat(), actor, role, action, target, detail))
    return hashlib.sha256(payload.encode()).hexdigest()


class AuditLog:
    """Append-only, hash-chained: each entry's hash covers the previous hash."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def append(
        self, ts: datetime, actor: str, role: str, action: str, target: str, detail: str = ""
    ) -> AuditEvent:
        """Add an entry at the end of the chain."""
        q = select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)
        if self.s.get_bind().dialect.name == "postgresql":
            self.s.execute(select(func.pg_advisory_xact_lock(7_420_001)))
        last = self.s.scalar(q)
        prev = last.hash if last else GENESIS
        h = _audit_hash(prev, ts, actor, role, action, target, detail)
        self.s.add(
            AuditRow(
                ts=ts,
                actor=actor,
                role=role,
                action=action,
                target=target,
                detail=detail,
                prev_hash=prev,
                hash=h,
            )
        )
        self.s.flush()
        return AuditEvent(ts, actor, role, action, target, detail, prev, h)

    def entries(self, limit: int = 100, offset: int = 0) -> list[AuditEvent]:
        """Entries, oldest first."""
        rows = self.s.scalars(select(AuditRow).order_by(AuditRow.seq).limit(limit).offset(offset))
        return [
            AuditEvent(r.ts, r.actor, r.role, r.action, r.target, r.detail, r.prev_hash, r.hash)
            for r in rows
        ]

    def verify(self) -> bool:
        """True if no entry was altered, removed or reordered."""
        prev = GENESIS
        for r in self.s.scalars(select(AuditRow).order_by(AuditRow.seq)):
            expected = _audit_hash(prev, r.ts, r.actor, r.role, r.action, r.target, r.detail)
            if r.prev_hash != prev or r.hash != expected:
                return False
            prev = r.hash
        return True


class BatchRepository:
    """Client batch ids: a retried batch is recognised and changes nothing."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def seen(self, batch_id: str) -> bool:
        """True if this batch was already stored."""
        return self.s.get(BatchRow, batch_id) is not None

    def remember(self, batch_id: str, source: str, count: int, now: datetime) -> None:
        """Record a stored batch (in the same transaction as its data)."""
        upsert(
            self.s,
            _table(BatchRow),
            [{"batch_id": batch_id, "source": source, "ts": now, "count": count}],
            ["batch_id"],
            update=False,
        )
