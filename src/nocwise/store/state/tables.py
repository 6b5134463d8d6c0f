"""ORM tables of the state store. Canonical records travel as JSON documents beside the columns
that are filtered or sorted on; the migrations in ``migrations/`` create exactly these."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Float, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the state store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the state store."""


class AlarmRow(Base):
    """The current state of one alarm (upserted by alarm_id)."""

    __tablename__ = "alarms"
    alarm_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    managed_object: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    event_time: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ack_state: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean)
    incident_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    doc: Mapped[str] = mapped_column(Text)


class IncidentRow(Base):
    """An incident: its document and the columns the lists sort and filter on."""

    __tablename__ = "incidents"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer)
    opened: Mapped[datetime] = mapped_column(UTCDateTime)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    title: Mapped[str] = mapped_column(String(500))
    root_entity_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    impact_score: Mapped[float] = mapped_column(Float)
    doc: Mapped[str] = mapped_column(Text)
    recommendations: Mapped[str] = mapped_column(Text, default="[]")


class EntityRow(Base):
    """A topology entity."""

    __tablename__ = "entities"
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    domain: Mapped[str] = mapped_column(String(16), index=True)
    doc: Mapped[str] = mapped_column(Text)


class RelationRow(Base):
    """A typed edge between entities."""

    __tablename__ = "relations"
    src: Mapped[str] = mapped_column(String(255), primary_key=True)
    dst: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)


class ChangeRow(Base):
    """A deployment, configuration change or maintenance."""

    __tablename__ = "changes"
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    entity_id: Mapped[str] = mapped_column(String(255), index=True)
    doc: Mapped[str] = mapped_column(Text)


class TicketRow(Base):
    """A trouble ticket (TMF621 shape)."""

    __tablename__ = "tickets"
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16))
    doc: Mapped[str] = mapped_column(Text)


class TokenRow(Base):
    """An API token: only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditRow(Base):
    """One hash-chained audit entry; rows are only ever inserted."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class BatchRow(Base):
    """Client batch ids already stored: a retried batch changes nothing."""

    __tablename__ = "ingest_batches"
    batch_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer)


# the lists' filters, each followed by the list's sort order (migration 0002)
_NEWEST = (AlarmRow.event_time.desc(), AlarmRow.alarm_id)
_RANK = (IncidentRow.priority, IncidentRow.impact_score.desc(), IncidentRow.updated.desc())
Index("ix_alarms_active_newest", AlarmRow.active, *_NEWEST, AlarmRow.source)
Index("ix_alarms_severity_newest", AlarmRow.severity, AlarmRow.active, *_NEWEST)
Index("ix_alarms_object_newest", AlarmRow.managed_object, *_NEWEST)
Index("ix_alarms_incident_newest", AlarmRow.incident_id, *_NEWEST)
Index("ix_alarms_newest", *_NEWEST)
Index("ix_incidents_rank", *_RANK)
Index("ix_incidents_state_rank", IncidentRow.state, *_RANK)
