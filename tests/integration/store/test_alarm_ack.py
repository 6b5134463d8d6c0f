"""An operator's acknowledgement survives later notifications from sources that know no acks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from nocwise.correlate.synthetic import clear_alarm, raise_alarm
from nocwise.model import AckState, Comment, Severity
from nocwise.store.state.db import Database
from nocwise.store.state.repositories import AlarmRepository

T = datetime(2026, 1, 1, tzinfo=UTC)
S = timedelta(seconds=1)


def _stored(db: Database, alarm_id: str) -> tuple[AckState, str | None, Severity, bool]:
    with db.session() as s:
        a = AlarmRepository(s).get(alarm_id)
    assert a is not None
    return a.ack_state, a.ack_user_id, a.perceived_severity, a.is_cleared


def test_a_later_source_notification_keeps_the_stored_ack_and_comments(db: Database) -> None:
    a = raise_alarm("a1", "csr-1", "linkDown", T)
    acked = a.ack("ana", T + S)
    acked = replace(acked, comments=(Comment(T + S, "ana", "dispatching"),))
    with db.session() as s:
        AlarmRepository(s).upsert_many([a])
    with db.session() as s:
        AlarmRepository(s).upsert_many([acked])
    changed = replace(a, perceived_severity=Severity.CRITICAL, event_time=T + 2 * S)
    with db.session() as s:
        AlarmRepository(s).upsert_many([changed])
    assert _stored(db, "a1") == (AckState.ACKNOWLEDGED, "ana", Severity.CRITICAL, False)
    with db.session() as s:
        AlarmRepository(s).upsert_many([clear_alarm(a, T + 3 * S)])
        kept = AlarmRepository(s).get("a1")
    assert kept is not None
    assert kept.is_cleared
    assert kept.ack_state is AckState.ACKNOWLEDGED
    assert [c.text for c in kept.comments] == ["dispatching"]


def test_an_ack_and_a_later_notification_in_one_batch_keep_the_ack(db: Database) -> None:
    a = raise_alarm("b1", "csr-1", "linkDown", T)
    later = replace(a, perceived_severity=Severity.MINOR, event_time=T + 2 * S)
    with db.session() as s:
        AlarmRepository(s).upsert_many([a, a.ack("ana", T + S), later])
    assert _stored(db, "b1") == (AckState.ACKNOWLEDGED, "ana", Severity.MINOR, False)


def test_an_explicit_withdrawal_is_stored(db: Database) -> None:
    a = raise_alarm("c1", "csr-1", "linkDown", T)
    with db.session() as s:
        AlarmRepository(s).upsert_many([a.ack("ana", T + S)])
    with db.session() as s:
        AlarmRepository(s).upsert_many([a.unack(T + 2 * S)])
    assert _stored(db, "c1")[0] is AckState.UNACKNOWLEDGED
