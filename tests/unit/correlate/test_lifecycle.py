"""Alarm lifecycle: raised -> changed -> cleared (terminal), acks beside it, resync after a gap."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from nocwise.correlate.base import Verdict
from nocwise.correlate.lifecycle import LifecycleConfig, LifecycleReason, LifecycleStage
from nocwise.correlate.synthetic import clear_alarm, raise_alarm
from nocwise.model import AckState, Comment, Severity

S = timedelta(seconds=1)


def test_raise_change_clear_passes_the_merged_state(t0: datetime) -> None:
    st_ = LifecycleStage()
    a = raise_alarm("a1", "s1/csr", "linkDown", t0)
    out = st_.process([a, replace(a, perceived_severity=Severity.CRITICAL, event_time=t0 + S)], t0)
    assert [x.perceived_severity for x in out.passed] == [Severity.MAJOR, Severity.CRITICAL]
    assert out.passed[1].raised_time == t0
    assert out.passed[1].changed_time == t0 + S
    cleared = st_.process([clear_alarm(a, t0 + 2 * S)], t0).passed[0]
    assert cleared.is_cleared
    assert cleared.cleared_time == t0 + 2 * S
    assert cleared.raised_time == t0


def test_a_cleared_alarm_cannot_change_but_can_be_acknowledged(t0: datetime) -> None:
    st_ = LifecycleStage()
    a = raise_alarm("a1", "s1/csr", "linkDown", t0)
    st_.process([a, clear_alarm(a, t0 + S)], t0)
    out = st_.process([replace(a, perceived_severity=Severity.MINOR, event_time=t0 + 2 * S)], t0)
    assert out.passed == []
    assert out.decisions[0].reason is LifecycleReason.CLEARED_IS_TERMINAL
    assert out.decisions[0].verdict is Verdict.ABSORB
    acked = st_.process(
        [replace(a, ack_state=AckState.ACKNOWLEDGED, ack_user_id="ops", event_time=t0 + 3 * S)], t0
    )
    assert acked.passed[0].ack_state is AckState.ACKNOWLEDGED
    assert acked.passed[0].is_cleared


def test_repeats_and_stale_notifications_are_absorbed_with_a_reason(t0: datetime) -> None:
    st_ = LifecycleStage()
    a = raise_alarm("a1", "s1/csr", "linkDown", t0 + 5 * S)
    st_.process([a], t0)
    out = st_.process([a, replace(a, perceived_severity=Severity.MINOR, event_time=t0)], t0)
    assert out.passed == []
    assert [d.reason for d in out.decisions] == [LifecycleReason.NO_CHANGE, LifecycleReason.STALE]


def test_clears_always_pass_even_unknown_or_repeated(t0: datetime) -> None:
    st_ = LifecycleStage()
    a = raise_alarm("a1", "s1/csr", "linkDown", t0)
    c = clear_alarm(a, t0 + S)
    out = st_.process([c, c], t0)
    assert out.passed == [c, c]
    assert [d.reason for d in out.decisions] == [
        LifecycleReason.CLEAR_OF_UNKNOWN,
        LifecycleReason.REPEATED_CLEAR,
    ]


def test_comments_are_appended_once(t0: datetime) -> None:
    st_ = LifecycleStage()
    a = raise_alarm("a1", "s1/csr", "linkDown", t0)
    note = Comment(t0 + S, "ops", "dispatching a field engineer")
    st_.process([a], t0)
    out = st_.process([replace(a, comments=(note,), event_time=t0 + S)] * 2, t0)
    assert out.passed[0].comments == (note,)
    assert out.decisions[0].reason is LifecycleReason.NO_CHANGE


def test_cleared_and_acknowledged_alarms_leave_the_list_on_tick(t0: datetime) -> None:
    st_ = LifecycleStage(LifecycleConfig(retain_cleared=timedelta(minutes=5)))
    a, b = raise_alarm("a", "s1/csr", "x", t0), raise_alarm("b", "s2/csr", "x", t0)
    st_.process([a, b, clear_alarm(a, t0 + S), clear_alarm(b, t0 + S)], t0)
    st_.process([replace(a, ack_state=AckState.ACKNOWLEDGED, event_time=t0 + 2 * S)], t0)
    assert [d.reason for d in st_.tick(t0 + 2 * S).decisions] == [LifecycleReason.REMOVED]
    assert st_.get("a") is None
    assert st_.get("b") is not None
    assert [d.reason for d in st_.tick(t0 + timedelta(minutes=6)).decisions] == [
        LifecycleReason.EVICTED
    ]
    assert len(st_) == 0


def test_resync_clears_what_the_source_no_longer_lists_and_raises_what_was_missed(
    t0: datetime,
) -> None:
    st_ = LifecycleStage()
    a, b = raise_alarm("a", "s1/csr", "x", t0), raise_alarm("b", "s2/csr", "x", t0)
    other = raise_alarm("o", "s3/csr", "x", t0, source="other-ems")
    st_.process([a, b, other], t0)
    missed = raise_alarm("c", "s4/csr", "x", t0 + S)
    out = st_.resync("ems", [b, missed], t0 + timedelta(minutes=1))
    reasons = {d.alarm_id: d.reason for d in out.decisions}
    assert reasons == {
        "a": LifecycleReason.RESYNC_CLEARED,
        "b": LifecycleReason.NO_CHANGE,
        "c": LifecycleReason.RESYNC_RAISED,
    }
    assert st_.get("a") is not None
    assert st_.get("a").is_cleared
    assert st_.get("o") is not None
    assert st_.get("o").is_active
    assert {x.alarm_id for x in out.passed} == {"a", "c"}


def test_state_round_trip_continues_identically(t0: datetime) -> None:
    st_ = LifecycleStage()
    a = raise_alarm("a", "s1/csr", "x", t0)
    st_.process([a, raise_alarm("b", "s2/csr", "x", t0), clear_alarm(a, t0 + S)], t0)
    copy = LifecycleStage.from_state(st_.to_state())
    nxt = [
        replace(a, perceived_severity=Severity.MINOR, event_time=t0 + 2 * S),
        clear_alarm(raise_alarm("b", "s2/csr", "x", t0), t0 + 3 * S),
    ]
    assert copy.process(nxt, t0) == st_.process(nxt, t0)
    assert copy.tick(t0 + timedelta(hours=2)) == st_.tick(t0 + timedelta(hours=2))


# -- property tests of the state machine ----------------------------------------------------

_SEVERITIES = [
    Severity.CRITICAL,
    Severity.MAJOR,
    Severity.MINOR,
    Severity.WARNING,
    Severity.CLEARED,
]
_ops = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(_SEVERITIES), st.booleans()),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(_ops)
def test_clearing_is_terminal_and_every_clear_passes(ops: list[tuple[str, Severity, bool]]) -> None:
    _run_ops(ops, datetime(2026, 3, 1, tzinfo=UTC))


def _run_ops(ops: list[tuple[str, Severity, bool]], start: datetime) -> None:
    stage = LifecycleStage()
    cleared: set[str] = set()
    for i, (aid, sev, ack) in enumerate(ops):
        at = start + i * S
        base = raise_alarm(aid, f"s1/{aid}", "linkDown", at)
        n = replace(
            base, perceived_severity=sev, cleared_time=at if sev is Severity.CLEARED else None
        )
        if ack:
            n = replace(n, ack_state=AckState.ACKNOWLEDGED, ack_user_id="ops", ack_time=at)
        out = stage.process([n], at)
        cur = stage.get(aid)
        if sev is Severity.CLEARED:
            assert [p.alarm_id for p in out.passed] == [aid]  # a clear always passes
            cleared.add(aid)
        if aid in cleared:
            assert cur is not None
            assert cur.is_cleared
            assert cur.perceived_severity is Severity.CLEARED
        for p in out.passed:
            assert p.raised_time is not None
            assert p.raised_time <= at
        for d in out.decisions:
            assert d.passes or not out.passed or all(p.alarm_id != d.alarm_id for p in out.passed)
        stage.tick(at)
        if cur is not None and cur.is_cleared and cur.ack_state is AckState.ACKNOWLEDGED:
            assert stage.get(aid) is None  # removed once cleared and acknowledged
            cleared.discard(aid)


def test_a_source_notification_without_ack_information_keeps_the_operators_ack(
    t0: datetime,
) -> None:
    st_ = LifecycleStage()
    a = raise_alarm("a1", "s1/csr", "linkDown", t0)
    st_.process([a], t0)
    st_.process([a.ack("ana", t0 + S)], t0)
    changed = replace(a, perceived_severity=Severity.CRITICAL, event_time=t0 + 2 * S)
    out = st_.process([changed], t0).passed[0]
    assert out.perceived_severity is Severity.CRITICAL
    assert out.ack_state is AckState.ACKNOWLEDGED
    assert out.ack_user_id == "ana"
    cleared = st_.process([clear_alarm(a, t0 + 3 * S)], t0).passed[0]
    assert cleared.ack_state is AckState.ACKNOWLEDGED, "cleared and acknowledged: done"
    # an explicit withdrawal, later than the ack, is honoured
    b = raise_alarm("b1", "s1/csr", "fanFailure", t0)
    st_.process([b, b.ack("ana", t0 + S)], t0)
    withdrawn = st_.process([b.ack("ana", t0 + S).unack(t0 + 2 * S)], t0).passed[0]
    assert withdrawn.ack_state is AckState.UNACKNOWLEDGED
