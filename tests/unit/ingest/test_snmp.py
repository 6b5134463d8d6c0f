from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nocwise.ingest import snmp
from nocwise.ingest.base import REASONS, Invalid
from nocwise.model import EventType, Severity

NOW = datetime(2026, 1, 5, tzinfo=UTC)
TRAP = snmp.SNMP_TRAP_OID


def test_link_down_and_up_share_an_alarm() -> None:
    vb = [("1.3.6.1.2.1.2.2.1.1.7", "7"), ("1.3.6.1.2.1.31.1.1.1.1.7", "xe-1/0/0")]
    log, down = snmp.records_of([(TRAP, snmp.LINK_DOWN), *vb], "10.1.1.1", NOW)
    _, up = snmp.records_of([(TRAP, snmp.LINK_UP), *vb], "10.1.1.1", NOW)
    assert down is not None
    assert up is not None
    assert down.alarm_id == up.alarm_id
    assert down.managed_object == "10.1.1.1/xe-1/0/0"
    assert down.perceived_severity is Severity.MAJOR
    assert up.is_cleared
    assert log.attributes["IF-MIB::ifName.7"] == "xe-1/0/0"


def test_alarm_mib_with_itu_model_pointer() -> None:
    model = "1.3.6.1.2.1.121.1.1.1.5.3.97.98.99.12."
    raise_vb = [
        (TRAP, snmp.ALARM_ACTIVE),
        ("1.3.6.1.2.1.118.1.2.2.1.10.1", "1.3.6.1.2.1.2.2.1.1.4"),
        ("1.3.6.1.2.1.118.1.2.2.1.13.1", model + "3"),
        ("1.3.6.1.2.1.121.1.1.1.2.1", "5"),
    ]
    clear_vb = [
        (TRAP, snmp.ALARM_CLEAR),
        raise_vb[1],
        ("1.3.6.1.2.1.118.1.2.2.1.13.1", model + "1"),
    ]
    _, raised = snmp.records_of(raise_vb, "ne-1", NOW)
    _, cleared = snmp.records_of(clear_vb, "ne-1", NOW)
    assert raised is not None
    assert cleared is not None
    assert raised.perceived_severity is Severity.CRITICAL
    assert raised.event_type is EventType.EQUIPMENT
    assert raised.alarm_id == cleared.alarm_id
    assert raised.managed_object == "ne-1/IF-MIB::ifIndex.4"
    assert cleared.is_cleared


def test_other_traps_are_logs_only_and_v1_agent_address_wins() -> None:
    log, alarm = snmp.records_of(
        [(TRAP, "1.3.6.1.6.3.1.1.5.1"), (snmp.TRAP_ADDRESS, "192.0.2.9")], "10.0.0.1", NOW
    )
    assert alarm is None
    assert log.host == "192.0.2.9"
    assert log.message.startswith("coldStart")


def test_missing_trap_oid_is_rejected() -> None:
    with pytest.raises(Invalid):
        snmp.records_of([("1.3.6.1.2.1.1.3.0", "5")], "x", NOW)


oids = st.lists(st.integers(0, 200), min_size=1, max_size=12).map(lambda a: ".".join(map(str, a)))
known = st.sampled_from(
    [*snmp.BUILTIN_NAMES, TRAP, "1.3.6.1.2.1.118.1.2.2.1.13.1", "1.3.6.1.2.1.121.1.1.1.5.1"]
)


@given(
    st.sampled_from([snmp.LINK_DOWN, snmp.LINK_UP, snmp.ALARM_ACTIVE, snmp.ALARM_CLEAR, "1.2.3"])
    | oids,
    st.lists(st.tuples(known | oids | st.text(max_size=8), st.text(max_size=30)), max_size=6),
)
def test_fuzz_records_of_never_raises_anything_but_invalid(
    trap: str, varbinds: list[tuple[str, str]]
) -> None:
    problem: Invalid | None = None
    try:
        snmp.records_of([(TRAP, trap), *varbinds], "peer", NOW)
    except Invalid as exc:
        problem = exc
    assert problem is None or (problem.reason in REASONS and problem.detail)
