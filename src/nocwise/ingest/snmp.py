"""SNMP notifications (v1 traps translated per RFC 3584, v2c/v3 traps and INFORMs) -> records.

Pure mapping, no sockets: a notification's variable bindings (OID text -> value text) become one
log record, and an alarm where the notification is one nocwise understands:
- IF-MIB ``linkDown`` raises ``<agent>/<ifName|ifDescr|ifIndex>`` (communicationsAlarm, MAJOR)
  and ``linkUp`` clears the same alarm id;
- ALARM-MIB (RFC 3877) ``alarmActiveState`` raises and ``alarmClearState`` clears the alarm on
  ``alarmActiveResourceId``; the severity is read from an ITU-ALARM-MIB model pointer's last arc
  (ItuPerceivedSeverity), the event type and probable cause from ITU-ALARM-MIB objects if sent.
OIDs are named from a built-in table of the objects mapped here, then from loaded MIB modules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from nocwise.ingest.base import BAD_VALUE, MISSING_FIELD, Invalid
from nocwise.model import Alarm, EventType, InvalidRecordError, LogRecord, Severity

SOURCE = "snmp"

SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
TRAP_ADDRESS = "1.3.6.1.6.3.18.1.3.0"
LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
LINK_UP = "1.3.6.1.6.3.1.1.5.4"
ALARM_ACTIVE = "1.3.6.1.2.1.118.0.2"
ALARM_CLEAR = "1.3.6.1.2.1.118.0.3"
_ACTIVE_ENTRY = "1.3.6.1.2.1.118.1.2.2.1."
_ITU_ENTRY = "1.3.6.1.2.1.121.1.1.1."

BUILTIN_NAMES: dict[str, str] = {
    SYS_UPTIME[:-2]: "SNMPv2-MIB::sysUpTime",
    SNMP_TRAP_OID[:-2]: "SNMPv2-MIB::snmpTrapOID",
    TRAP_ADDRESS[:-2]: "SNMP-COMMUNITY-MIB::snmpTrapAddress",
    "1.3.6.1.6.3.18.1.4": "SNMP-COMMUNITY-MIB::snmpTrapCommunity",
    "1.3.6.1.6.3.1.1.4.3": "SNMPv2-MIB::snmpTrapEnterprise",
    "1.3.6.1.6.3.1.1.5.1": "SNMPv2-MIB::coldStart",
    "1.3.6.1.6.3.1.1.5.2": "SNMPv2-MIB::warmStart",
    LINK_DOWN: "IF-MIB::linkDown",
    LINK_UP: "IF-MIB::linkUp",
    "1.3.6.1.6.3.1.1.5.5": "SNMPv2-MIB::authenticationFailure",
    "1.3.6.1.2.1.2.2.1.1": "IF-MIB::ifIndex",
    "1.3.6.1.2.1.2.2.1.2": "IF-MIB::ifDescr",
    "1.3.6.1.2.1.2.2.1.3": "IF-MIB::ifType",
    "1.3.6.1.2.1.2.2.1.7": "IF-MIB::ifAdminStatus",
    "1.3.6.1.2.1.2.2.1.8": "IF-MIB::ifOperStatus",
    "1.3.6.1.2.1.31.1.1.1.1": "IF-MIB::ifName",
    "1.3.6.1.2.1.31.1.1.1.18": "IF-MIB::ifAlias",
    ALARM_ACTIVE: "ALARM-MIB::alarmActiveState",
    ALARM_CLEAR: "ALARM-MIB::alarmClearState",
    _ACTIVE_ENTRY + "10": "ALARM-MIB::alarmActiveResourceId",
    _ACTIVE_ENTRY + "11": "ALARM-MIB::alarmActiveDescription",
    _ACTIVE_ENTRY + "13": "ALARM-MIB::alarmActiveModelPointer",
    _ACTIVE_ENTRY + "14": "ALARM-MIB::alarmActiveSpecificPointer",
    _ITU_ENTRY + "2": "ITU-ALARM-MIB::ituAlarmEventType",
    _ITU_ENTRY + "3": "ITU-ALARM-MIB::ituAlarmProbableCause",
    _ITU_ENTRY + "4": "ITU-ALARM-MIB::ituAlarmAdditionalText",
    _ITU_ENTRY + "5": "ITU-ALARM-MIB::ituAlarmGenericModel",
}
_ITU_SEVERITY = {
    1: Severity.CLEARED, 2: Severity.INDETERMINATE, 3: Severity.CRITICAL, 4: Severity.MAJOR,
    5: Severity.MINOR, 6: Severity.WARNING,
}  # fmt: skip
_ITU_EVENT_TYPE = {
    2: EventType.COMMUNICATIONS, 3: EventType.QUALITY_OF_SERVICE, 4: EventType.PROCESSING_ERROR,
    5: EventType.EQUIPMENT, 6: EventType.ENVIRONMENTAL, 7: EventType.INTEGRITY_VIOLATION,
    8: EventType.OPERATIONAL_VIOLATION, 9: EventType.PHYSICAL_VIOLATION,
    10: EventType.SECURITY_VIOLATION, 11: EventType.TIME_DOMAIN_VIOLATION,
}  # fmt: skip

Namer = Callable[[str], str]


def builtin_name(oid: str) -> str:
    """``1.3.6.1.2.1.2.2.1.2.5`` -> ``IF-MIB::ifDescr.5``; unknown OIDs stay numeric."""
    arcs = oid.split(".")
    for cut in range(len(arcs), 0, -1):
        name = BUILTIN_NAMES.get(".".join(arcs[:cut]))
        if name:
            rest = ".".join(arcs[cut:])
            return f"{name}.{rest}" if rest else name
    return oid


def _column(varbinds: Mapping[str, str], prefix: str) -> tuple[str, str] | None:
    """The first binding whose OID is under ``prefix``: (index suffix, value)."""
    for oid, value in varbinds.items():
        if oid.startswith(prefix + "."):
            return oid[len(prefix) + 1 :], value
    return None


def records_of(
    varbinds: Sequence[tuple[str, str]],
    peer: str,
    now: datetime,
    namer: Namer = builtin_name,
    security: str = "",
) -> tuple[LogRecord, Alarm | None]:
    """One notification -> a log record and, where it is an alarm notification, an alarm."""
    vb: dict[str, str] = {}
    for oid, value in varbinds:
        if not oid or not all(a.isdigit() for a in oid.split(".")):
            raise Invalid(BAD_VALUE, f"not a numeric OID: {oid[:60]!r}")
        vb[oid] = value
    trap = vb.get(SNMP_TRAP_OID)
    if not trap:
        raise Invalid(MISSING_FIELD, "no snmpTrapOID.0 binding")
    agent = vb.get(TRAP_ADDRESS) or peer or "unknown"
    trap_name = namer(trap)
    attrs = {namer(o): v for o, v in vb.items() if o not in (SNMP_TRAP_OID, SYS_UPTIME)}
    attrs["snmpTrapOID"] = trap
    if security:
        attrs["security"] = security
    shown = " ".join(
        f"{k.split('::')[-1]}={v}" for k, v in attrs.items() if k not in ("snmpTrapOID", "security")
    )
    log = LogRecord(
        ts=now,
        message=f"{trap_name.split('::')[-1]} {shown}".strip(),
        severity=4 if trap in (LINK_DOWN, ALARM_ACTIVE) else 5,
        entity_id=agent,
        source=SOURCE,
        host=agent,
        app=trap_name.split("::")[0] if "::" in trap_name else "snmp",
        attributes=attrs,
    )
    try:
        if trap in (LINK_DOWN, LINK_UP):
            return log, _link_alarm(vb, trap == LINK_UP, agent, now, log.message)
        if trap in (ALARM_ACTIVE, ALARM_CLEAR):
            return log, _alarm_mib(vb, trap == ALARM_CLEAR, agent, now, namer)
    except InvalidRecordError as exc:
        raise Invalid(BAD_VALUE, str(exc)) from exc
    return log, None


def _link_alarm(vb: Mapping[str, str], up: bool, agent: str, now: datetime, text: str) -> Alarm:
    index = _column(vb, "1.3.6.1.2.1.2.2.1.1")
    name = _column(vb, "1.3.6.1.2.1.31.1.1.1.1") or _column(vb, "1.3.6.1.2.1.2.2.1.2")
    if index is None and name is None:
        raise Invalid(MISSING_FIELD, "linkDown/linkUp without ifIndex")
    if_index = index[1] if index else name[0] if name else ""
    interface = name[1] if name and name[1] else f"ifIndex {if_index}"
    return Alarm(
        alarm_id=f"{SOURCE}:{agent}:if{if_index}:linkDown",
        managed_object=f"{agent}/{interface}",
        event_type=EventType.COMMUNICATIONS,
        probable_cause="linkDown",
        specific_problem="IF-MIB::linkDown",
        perceived_severity=Severity.CLEARED if up else Severity.MAJOR,
        event_time=now,
        additional_text=text,
        additional_info={"ifIndex": if_index},
        service_affecting=not up,
        source=SOURCE,
    )


def _alarm_mib(
    vb: Mapping[str, str], clear: bool, agent: str, now: datetime, namer: Namer
) -> Alarm:
    resource = _column(vb, _ACTIVE_ENTRY + "10")
    if resource is None or not resource[1]:
        raise Invalid(MISSING_FIELD, "alarmActiveState/ClearState without alarmActiveResourceId")
    model = _column(vb, _ACTIVE_ENTRY + "13")
    pointer = model[1] if model else ""
    severity = Severity.CLEARED if clear else Severity.MAJOR
    model_key = pointer
    if pointer.startswith(_ITU_ENTRY):
        head, _, last = pointer.rpartition(".")
        model_key = head  # the severity arc differs between raise and clear of one alarm
        if not clear and last.isdigit():
            severity = _ITU_SEVERITY.get(int(last), Severity.INDETERMINATE)
    event = _column(vb, _ITU_ENTRY + "2")
    cause = _column(vb, _ITU_ENTRY + "3")
    text = _column(vb, _ITU_ENTRY + "4") or _column(vb, _ACTIVE_ENTRY + "11")
    event_type = EventType.COMMUNICATIONS
    if event and event[1].isdigit():
        event_type = _ITU_EVENT_TYPE.get(int(event[1]), EventType.COMMUNICATIONS)
    probable = (
        f"ituProbableCause({cause[1]})" if cause else namer(model_key) if model_key else "alarm"
    )
    resource_name = (
        namer(resource[1]) if all(a.isdigit() for a in resource[1].split(".")) else resource[1]
    )
    return Alarm(
        alarm_id=f"{SOURCE}:{agent}:{resource[1]}:{model_key}",
        managed_object=f"{agent}/{resource_name}",
        event_type=event_type,
        probable_cause=probable,
        perceived_severity=severity,
        event_time=now,
        specific_problem=namer(model_key) if model_key else "",
        additional_text=text[1] if text else "",
        additional_info={"alarmActiveModelPointer": pointer} if pointer else {},
        source=SOURCE,
    )
