"""Engines and sessions for the state store; SQLite gets WAL and full fsync (a 2xx is durable)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Insert, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry


def make_engine(url: str) -> Engine:
    """An engine for ``url``; creates the SQLite file's folder and sets its pragmas."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry) -> None:
            del record
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    return engine


class Database:
    """An engine and its session factory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    update: bool = True,
) -> None:
    """Insert rows, or on key conflict update them (or leave them, with ``update=False``).

    One statement per table and column set, executed for all rows at once: a statement built
    with the rows as ``VALUES`` made a bind parameter per value and left thousands of objects
    in reference cycles per batch (the ``excluded`` alias, parameters, column collections),
    which the cyclic collector then had to walk."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    stmt = _upsert_statement(dialect, table, tuple(rows[0]), tuple(keys), update)
    session.execute(stmt, list(rows))


@lru_cache(maxsize=256)
def _upsert_statement(
    dialect: str, table: Table, columns: tuple[str, ...], keys: tuple[str, ...], update: bool
) -> Insert:
    """The upsert of ``columns`` into ``table`` for ``dialect``, built once."""
    if dialect == "sqlite":
        stmt: sqlite.Insert | postgresql.Insert = sqlite.insert(table)
    elif dialect == "postgresql":
        stmt = postgresql.insert(table)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"upsert on {dialect}")
    cols = {c: stmt.excluded[c] for c in columns if c not in keys}
    if update and cols:
        return stmt.on_conflict_do_update(index_elements=list(keys), set_=cols)
    return stmt.on_conflict_do_nothing(index_elements=list(keys))
