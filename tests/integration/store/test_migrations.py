"""The same Alembic migrations build the schema on SQLite and on the local PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from nocwise.model import Alarm, EventType, Severity
from nocwise.store.state.db import Database, make_engine
from nocwise.store.state.migrate import downgrade, upgrade
from nocwise.store.state.repositories import AlarmRepository, AuditLog
from nocwise.store.state.tables import Base

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_available() -> bool:
    eng = create_engine(PG_URL)
    try:
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        return True
    except Exception:
        return False
    finally:
        eng.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'state.db'}")
        yield eng
        eng.dispose()
        return
    if not _pg_available():
        pytest.fail("PostgreSQL at 127.0.0.1:5432 is required for this test")
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    eng = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    yield eng
    eng.dispose()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.mark.integration
def test_migrations_create_every_table(engine: Engine) -> None:
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


@pytest.mark.integration
def test_migrations_are_idempotent_and_reversible(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    downgrade(engine)
    assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())


@pytest.mark.integration
def test_alarm_upsert_and_audit_chain_work_on_migrated_schema(engine: Engine) -> None:
    upgrade(engine)
    db = Database(engine)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    a = Alarm("x1", "router-1", EventType.COMMUNICATIONS, "linkDown", Severity.MAJOR, t)
    with db.session() as s:
        AlarmRepository(s).upsert_many([a, a])
        AuditLog(s).append(t, "ops", "operator", "alarm.create", "x1")
    with db.session() as s:
        AlarmRepository(s).upsert_many([a.clear(t)])
        assert AlarmRepository(s).count() == 1
        stored = AlarmRepository(s).get("x1")
        assert stored is not None
        assert stored.is_cleared
        assert stored.event_time == t
        assert AuditLog(s).verify()


@pytest.mark.integration
def test_a_late_raise_never_reopens_a_cleared_alarm(engine: Engine) -> None:
    upgrade(engine)
    db = Database(engine)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    raised = Alarm("x1", "router-1", EventType.COMMUNICATIONS, "linkDown", Severity.MAJOR, t)
    cleared = raised.clear(t + timedelta(minutes=5))
    with db.session() as s:
        AlarmRepository(s).upsert_many([cleared, raised])  # out of order in one batch
    with db.session() as s:
        AlarmRepository(s).upsert_many([raised])  # a retried raise after the clear
    with db.session() as s:
        stored = AlarmRepository(s).get("x1")
        assert stored is not None
        assert stored.is_cleared
    again = replace(raised, event_time=t + timedelta(minutes=9))
    with db.session() as s:
        AlarmRepository(s).upsert_many([again])  # a new occurrence after the clear
    with db.session() as s:
        stored = AlarmRepository(s).get("x1")
        assert stored is not None
        assert stored.is_active
