from __future__ import annotations

import copy
import json

from hypothesis import given
from hypothesis import strategies as st

from nocwise.ingest import ves
from nocwise.ingest.base import REASONS
from nocwise.model import Severity

from .strategies import json_values

FAULT = {
    "event": {
        "commonEventHeader": {
            "domain": "fault",
            "eventId": "fault0001",
            "eventName": "Fault_gNB_LinkDown",
            "sourceName": "gnb-17",
            "reportingEntityName": "ems-3",
            "startEpochMicrosec": 1767614400000000,
            "lastEpochMicrosec": 1767614460000000,
            "priority": "High",
            "sequence": 1,
            "version": "4.1",
            "vesEventListenerVersion": "7.2.1",
        },
        "faultFields": {
            "faultFieldsVersion": "4.0",
            "alarmCondition": "linkDown",
            "eventSeverity": "MAJOR",
            "eventSourceType": "port",
            "specificProblem": "N2 link to AMF lost",
            "vfStatus": "Active",
            "alarmInterfaceA": "eth1",
            "alarmAdditionalInformation": {"peer": "amf-1"},
        },
    }
}

STND = {
    "event": {
        "commonEventHeader": {
            "domain": "stndDefined",
            "eventId": "x",
            "sourceName": "du-4",
            "stndDefinedNamespace": "3GPP-FaultSupervision",
            "startEpochMicrosec": 1767614400000000,
        },
        "stndDefinedFields": {
            "schemaReference": "https://forge.3gpp.org/.../faultMnS.yaml#components/schemas/NotifyNewAlarm",
            "stndDefinedFieldsVersion": "1.0",
            "data": {
                "href": "https://ems/3GPPManagement/SubNetwork=1,ManagedElement=4,GNBDUFunction=1",
                "notificationId": 7,
                "notificationType": "notifyNewAlarm",
                "eventTime": "2026-01-05T12:00:00Z",
                "systemDN": "DC=ems-1",
                "alarmId": "A-99",
                "alarmType": "COMMUNICATIONS_ALARM",
                "probableCause": "lossOfSignal",
                "perceivedSeverity": "CRITICAL",
                "rootCauseIndicator": "YES",
                "correlatedNotifications": [],
            },
        },
    }
}


def test_fault_fields_map_and_normal_clears() -> None:
    (a,) = ves.parse(json.dumps(FAULT).encode()).records
    assert a.alarm_id == "ves:gnb-17/eth1:linkDown"
    assert a.perceived_severity is Severity.MAJOR
    assert a.additional_info["peer"] == "amf-1"
    cleared = copy.deepcopy(FAULT)
    cleared["event"]["faultFields"]["eventSeverity"] = "NORMAL"
    (c,) = ves.parse(json.dumps(cleared).encode()).records
    assert c.alarm_id == a.alarm_id
    assert c.is_cleared


def test_stnd_defined_3gpp_new_and_cleared_alarm() -> None:
    body = {"eventList": [STND["event"], copy.deepcopy(STND["event"])]}
    body["eventList"][1]["stndDefinedFields"]["data"]["notificationType"] = "notifyClearedAlarm"
    new, cleared = ves.parse(json.dumps(body).encode()).records
    assert new.managed_object == "SubNetwork=1,ManagedElement=4,GNBDUFunction=1"
    assert new.alarm_id == cleared.alarm_id == "ves:DC=ems-1:A-99"
    assert new.perceived_severity is Severity.CRITICAL
    assert new.root_cause_indicator
    assert cleared.is_cleared


def test_other_domains_are_rejected_as_unsupported() -> None:
    doc = {"event": {"commonEventHeader": {"domain": "heartbeat"}}}
    r = ves.parse(json.dumps(doc).encode())
    assert [x.reason for x in r.rejections] == ["unsupported"]


@given(st.binary(max_size=300))
def test_fuzz_bytes_never_raise(body: bytes) -> None:
    assert all(x.reason in REASONS and x.detail for x in ves.parse(body).rejections)


@given(
    st.dictionaries(st.sampled_from(sorted(FAULT["event"]["faultFields"])), json_values),
    st.dictionaries(st.sampled_from(sorted(FAULT["event"]["commonEventHeader"])), json_values),
    st.dictionaries(
        st.sampled_from(sorted(STND["event"]["stndDefinedFields"]["data"])), json_values
    ),
)
def test_fuzz_fields(
    fault: dict[str, object], header: dict[str, object], data: dict[str, object]
) -> None:
    a = copy.deepcopy(FAULT["event"])
    a["faultFields"].update(fault)
    a["commonEventHeader"].update(header)
    b = copy.deepcopy(STND["event"])
    b["stndDefinedFields"]["data"].update(data)
    r = ves.parse(json.dumps({"eventList": [a, b]}).encode())
    assert r.accepted + r.rejected == 2
    assert all(x.reason in REASONS and x.detail for x in r.rejections)
