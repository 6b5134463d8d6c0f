"""The alarm and incident lists read a page in index order: no query sorts the matching rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event

from nocwise.model import Alarm, EventType, Severity
from nocwise.store.state.db import Database
from nocwise.store.state.repositories import AlarmFilter, AlarmRepository, IncidentRepository

T = datetime(2026, 1, 1, tzinfo=UTC)


def _plans(engine: Engine, call: Callable[[], object]) -> list[str]:
    """EXPLAIN QUERY PLAN of every SELECT that ``call`` runs."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, stmt: str, params: Any, ctx: Any, many: bool) -> None:
        if stmt.lstrip().upper().startswith("SELECT"):
            seen.append((stmt, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        out = []
        for stmt, params in seen:
            cur.execute("EXPLAIN QUERY PLAN " + stmt, params)
            out.append(" | ".join(str(r[-1]) for r in cur.fetchall()))
        return out
    finally:
        raw.close()


@pytest.mark.integration
@pytest.mark.parametrize(
    "flt",
    [
        pytest.param(AlarmFilter(), id="all"),
        pytest.param(AlarmFilter(active=True), id="open"),
        pytest.param(AlarmFilter(active=True, severity=Severity.MAJOR), id="open-severity"),
        pytest.param(AlarmFilter(managed_object="r1"), id="object"),
        pytest.param(AlarmFilter(incident_id="INC-1"), id="incident"),
        pytest.param(AlarmFilter(active=True, source="ems", since=T), id="open-source-since"),
    ],
)
def test_alarm_list_pages_come_in_index_order(db: Database, flt: AlarmFilter) -> None:
    alarms = [
        Alarm(f"a{i}", f"r{i % 7}", EventType.COMMUNICATIONS, "linkDown", Severity.MAJOR,
              T + timedelta(seconds=i), source="ems")
        for i in range(50)
    ]  # fmt: skip
    with db.session() as s:
        AlarmRepository(s).upsert_many(alarms)

    def page() -> None:
        with db.session() as s:
            items, total = AlarmRepository(s).list(flt, 10, 20)
            assert total >= len(items)

    plans = _plans(db.engine, page)
    assert plans
    for plan in plans:
        assert "TEMP B-TREE" not in plan, plan
        assert "SCAN alarms" not in plan or "INDEX" in plan, plan


@pytest.mark.integration
@pytest.mark.parametrize("state", [None, "open"])
def test_incident_list_pages_come_in_rank_order(db: Database, state: str | None) -> None:
    def page() -> None:
        with db.session() as s:
            IncidentRepository(s).list_docs(state, 10, 20)

    plans = _plans(db.engine, page)
    assert plans
    for plan in plans:
        assert "TEMP B-TREE" not in plan, plan
