from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nocwise.ingest import syslog
from nocwise.ingest.base import REASONS, Invalid
from nocwise.model import EventType, Severity

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_rfc5424_with_structured_data_and_bom() -> None:
    raw = (
        "<165>1 2026-01-05T11:59:58.123Z csr-1.example evntslog 8710 ID47 "
        '[exampleSDID@32473 iut="3" eventSource="App\\"x\\]"][meta seq="1"] \ufeffAn application event'
    ).encode()
    r = syslog.parse_message(raw, NOW)
    assert (r.severity, r.host, r.app) == (5, "csr-1.example", "evntslog")
    assert r.message == "An application event"
    assert r.attributes["exampleSDID@32473.eventSource"] == 'App"x]'
    assert r.attributes["meta.seq"] == "1"
    assert r.attributes["facility"] == "local4"
    assert r.attributes["msgid"] == "ID47"
    assert r.ts == datetime(2026, 1, 5, 11, 59, 58, 123000, tzinfo=UTC)


def test_rfc5424_nil_fields_take_now_and_peer() -> None:
    r = syslog.parse_message(b"<14>1 - - - - - -", NOW, peer="10.0.0.1")
    assert r.ts == NOW
    assert r.host == "10.0.0.1"
    assert r.message == ""


@pytest.mark.parametrize(
    ("raw", "host", "app", "message_start"),
    [
        (b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed", "mymachine", "su", "'su root'"),
        (b"<13>Jan  5 11:00:00 host1 sshd[99]: Accepted key", "host1", "sshd", "Accepted"),
        (
            b"<189>123: *Mar  1 00:00:45.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down",
            "",
            "LINK",
            "%LINK-3-UPDOWN",
        ),
        (
            b"<187>Jan  5 11:00:00 agg-2 4711: Jan  5 11:00:00.120 UTC: %SYS-5-CONFIG_I: Configured",
            "agg-2",
            "SYS",
            "%SYS-5-CONFIG_I",
        ),
        (
            b"<28>Jan  5 2026 11:00:00 mx-1 mib2d[1]: SNMP_TRAP_LINK_DOWN: ifIndex 5",
            "mx-1",
            "mib2d",
            "SNMP",
        ),
        (b"<13>2026-01-05T11:00:00+01:00 box app: iso stamp", "box", "app", "iso stamp"),
        (b"no pri at all", "", "", "no pri at all"),
    ],
)
def test_rfc3164_as_gear_sends_it(raw: bytes, host: str, app: str, message_start: str) -> None:
    r = syslog.parse_message(raw, NOW)
    assert (r.host, r.app) == (host, app)
    assert r.message.startswith(message_start)


def test_bsd_year_is_the_one_nearest_now() -> None:
    r = syslog.parse_message(b"<13>Dec 31 23:59:00 h a: x", NOW)
    assert r.ts.year == 2025


def test_pri_above_191_is_rejected() -> None:
    with pytest.raises(Invalid):
        syslog.parse_message(b"<999>1 - - - - - -", NOW)


def test_rfc5674_alarm_raise_and_clear_share_an_id() -> None:
    sd = '[alarm resource="ge-0/0/1" probableCause="linkDown" perceivedSeverity="{}" eventType="communicationsAlarm"]'
    up = syslog.parse_message(
        f"<11>1 2026-01-05T11:00:00Z mx-1 alarmd - - {sd.format('major')} down".encode(), NOW
    )
    down = syslog.parse_message(
        f"<14>1 2026-01-05T11:10:00Z mx-1 alarmd - - {sd.format('cleared')} up".encode(), NOW
    )
    raised, cleared = syslog.alarms_of([up, down]).records
    assert raised.alarm_id == cleared.alarm_id
    assert raised.managed_object == "mx-1/ge-0/0/1"
    assert raised.event_type is EventType.COMMUNICATIONS
    assert raised.perceived_severity is Severity.MAJOR
    assert cleared.is_cleared


def test_framer_mixes_octet_counting_and_lf_and_survives_garbage() -> None:
    f = syslog.Framer(max_frame=100)
    frames, errors = f.feed(b"11 <13>1 - - -<13>x y\n5 ab")
    assert frames == [b"<13>1 - - -", b"<13>x y"]
    assert errors == []
    frames, errors = f.feed(b"cde999 toolong\n<14>ok\n")
    assert frames == [b"abcde", b"<14>ok"]
    assert [e.reason for e in errors] == ["bad_frame"]
    assert f.feed(b"<15>tail")[0] == []
    assert f.flush() == [b"<15>tail"]


@given(st.binary(max_size=400))
def test_fuzz_parse_never_raises(body: bytes) -> None:
    r = syslog.parse(body, now=NOW)
    assert all(x.reason in REASONS and x.detail for x in r.rejections)
    syslog.alarms_of(r.records)


@given(
    st.text(alphabet='<>[]"\\= -1234567890abcTZ:.\ufeff', max_size=120),
)
def test_fuzz_rfc5424_shapes(tail: str) -> None:
    r = syslog.parse(f"<14>1 2026-01-05T11:00:00Z h a p m {tail}".encode(), now=NOW)
    assert r.accepted + r.rejected >= 1
    assert all(x.reason in REASONS for x in r.rejections)


@given(st.lists(st.binary(max_size=60), max_size=8), st.integers(1, 30))
def test_fuzz_framer_never_raises_and_is_bounded(chunks: list[bytes], max_frame: int) -> None:
    f = syslog.Framer(max_frame=max_frame)
    for c in chunks:
        frames, errors = f.feed(c)
        assert all(len(x) <= max(max_frame, 60 * 8) for x in frames)
        assert all(e.reason in REASONS for e in errors)
    f.flush()
