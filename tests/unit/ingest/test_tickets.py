from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from nocwise.ingest import tickets
from nocwise.ingest.base import REASONS
from nocwise.model import TicketStatus

from .strategies import json_values

CSV = (
    "number,short_description,description,priority,state,opened_at,resolved_at,close_code,close_notes,cmdb_ci\n"
    'INC0010001,Cell down,"Site 7 cells down, power",1 - Critical,Resolved,2026-01-05 10:00:00,2026-01-05 12:00:00,Solved,Replaced rectifier,site-7\n'
    "INC0010002,Slow DNS,,3 - Moderate,In Progress,2026-01-05 11:00:00,,,,dns-1\n"
    "INC0010003,Broken,,3,Flying,2026-01-05 11:00:00,,,,\n"
)
TMF621 = {
    "id": "TT-1",
    "name": "Fibre cut",
    "description": "Cut between agg-1 and agg-2",
    "severity": "Major",
    "priority": 2,
    "status": "resolved",
    "ticketType": "incident",
    "creationDate": "2026-01-05T10:00:00Z",
    "resolutionDate": "2026-01-05T14:00:00Z",
    "relatedEntity": [
        {"id": "link-9", "role": "affected", "@referredType": "Resource"},
        {"id": "al-3", "@referredType": "Alarm"},
    ],
    "note": [{"text": "splice crew sent"}],
}


def test_servicenow_csv() -> None:
    r = tickets.parse(CSV.encode(), "text/csv")
    a, b = r.records
    assert (a.id, a.priority, a.status, a.related_entities) == (
        "servicenow:INC0010001",
        1,
        TicketStatus.RESOLVED,
        ("site-7",),
    )
    assert a.resolution == "Solved Replaced rectifier"
    assert a.resolved is not None
    assert b.status is TicketStatus.IN_PROGRESS
    assert b.resolved is None
    assert [(x.reason, x.index) for x in r.rejections] == [("bad_value", 2)]


def test_servicenow_json_display_values() -> None:
    doc = {
        "result": [
            {
                "number": {"display_value": "INC1", "value": "abc"},
                "state": "7",
                "opened_at": "2026-01-05 10:00:00",
                "closed_at": "2026-01-05 11:00:00",
            }
        ]
    }
    (t,) = tickets.parse(json.dumps(doc).encode()).records
    assert t.external_id == "INC1"
    assert t.status is TicketStatus.CLOSED


def test_tmf621() -> None:
    (t,) = tickets.parse(json.dumps(TMF621).encode(), "application/json").records
    assert t.id == "tmf621:TT-1"
    assert t.related_entities == ("link-9",)
    assert t.related_alarms == ("al-3",)
    assert t.notes == ("splice crew sent",)
    assert t.priority == 2


@given(st.binary(max_size=300), st.sampled_from(["text/csv", "application/json", None]))
def test_fuzz_bytes(body: bytes, ctype: str | None) -> None:
    assert all(x.reason in REASONS and x.detail for x in tickets.parse(body, ctype).rejections)


@given(
    st.dictionaries(
        st.sampled_from([*sorted(TMF621), "number", "state", "opened_at"]), json_values, max_size=5
    )
)
def test_fuzz_fields(extra: dict[str, object]) -> None:
    r = tickets.parse(
        json.dumps([TMF621 | extra, {"number": "INC9", "opened_at": "2026-01-05"} | extra]).encode()
    )
    assert r.accepted + r.rejected == 2
    assert all(x.reason in REASONS and x.detail for x in r.rejections)
