"""Entity mentions: which lines name which known entity, and how log detection uses them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from nocwise.detect.logs.events import LogEvents
from nocwise.detect.logs.mentions import MentionIndex, name_forms
from nocwise.model.logs import LogRecord
from nocwise.model.topology import Domain, Entity
from nocwise.runtime.detection import LogDetection

T = Domain.TRANSPORT
ENTITIES = [
    Entity("csr-0053", "csr", T),
    Entity("agg-1", "agg_router", T, "AGG-R001-3", {"fqdn": "agg-r001-3.net.example"}),
    Entity("site-0035", "site", Domain.POWER, "site 0035"),
    Entity("svc-billing", "microservice", Domain.IT, "billing"),
    Entity("core", "core_router", T),
]


def test_names_are_ids_names_and_host_attributes_but_not_plain_words() -> None:
    assert name_forms(ENTITIES[1]) == {"agg-1", "agg-r001-3", "agg-r001-3.net.example"}
    assert name_forms(ENTITIES[3]) == {"svc-billing"}  # "billing" is a word
    assert name_forms(ENTITIES[4]) == set()


def test_lines_naming_known_entities_are_found_case_insensitively() -> None:
    idx = MentionIndex.of(ENTITIES)
    lines = [
        "RPD_ISIS_ADJDOWN: IS-IS lost L2 adjacency to CSR-0053 on xe-0/0/7.0",
        "processed batch of 973 billing events",  # a word, not a name
        'VR:  1 ISIS (0) "Adjacency status changed to down for 1/1/2, level 2, neighbor agg-r001-3"',
        "description TO_csr-0053:Te0/0/1, peer agg-r001-3.net.example, csr-0053 again",
        "power lost at site 0035",
        "core router csr-00530 and xcsr-0053 are other names",
    ]
    rows, ids = idx.find(lines)
    assert list(zip(rows.tolist(), ids, strict=True)) == [
        (0, "csr-0053"),
        (2, "agg-1"),
        (3, "agg-1"),  # within a line, by entity id
        (3, "csr-0053"),
        (4, "site-0035"),
    ]


def test_unknown_names_and_names_two_entities_share_are_ignored() -> None:
    twins = [Entity("r-1", "csr", T, "edge-01"), Entity("r-2", "csr", T, "edge-01")]
    idx = MentionIndex.of(twins)
    assert idx.entity_of("EDGE-01") is None
    assert idx.find(["neighbor edge-01 down", "neighbor csr-9999 down"])[1] == []
    assert MentionIndex().find(["neighbor r-1 down"])[1] == []


@given(st.lists(st.text(max_size=200), max_size=20))
def test_finding_mentions_never_raises_and_rows_point_at_lines(lines: list[str]) -> None:
    idx = MentionIndex.of(ENTITIES)
    rows, ids = idx.find([*lines, "to csr-0053", *lines])
    assert len(rows) == len(ids)
    assert all(0 <= r < 2 * len(lines) + 1 for r in rows.tolist())
    assert "csr-0053" in [i for r, i in zip(rows.tolist(), ids, strict=True) if r == len(lines)]


def test_copies_follow_their_line_and_carry_the_reporter() -> None:
    ev = LogEvents.of([1, 2, 3], [0, 1, 0], [7, 8, 9], [4, 4, 6], ["a", "b", "c"], ["x", "y", "z"])
    out = ev.with_reports(np.array([1]), np.array([2]))
    assert out.entity.tolist() == [0, 1, 2, 0]
    assert out.ts_ms.tolist() == [1, 2, 2, 3]
    assert out.template.tolist() == [7, 8, 8, 9]
    assert out.reporter is not None
    assert out.reporter.tolist() == [-1, -1, 1, -1]
    assert list(out.messages or []) == ["x", "y", "b: y", "z"]
    assert out.reporters(np.arange(4)) == ["b"]
    assert ev.with_reports(np.zeros(0, np.int64), np.zeros(0, np.int64)) is ev


def line(at: datetime, host: str, message: str, severity: int = 4) -> LogRecord:
    return LogRecord(ts=at, message=message, severity=severity, entity_id=host, host=host)


def test_log_detection_duplicates_mentions_onto_the_named_entity_not_the_emitter() -> None:
    det = LogDetection()
    det.set_entities([*ENTITIES, Entity("agg-2", "agg_router", T)])
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    rec = [
        line(t0, "agg-1", "lost adjacency to csr-0053"),
        line(t0, "agg-1", "hostname agg-r001-3 ready"),  # names itself
        line(t0, "agg-2", "neighbor csr-9999 down"),  # unknown
    ]
    ids = det.miner.learn_batch([r.message for r in rec])
    events = det.entities.events(
        [replace(r, template_id=int(t)) for r, t in zip(rec, ids, strict=True)]
    )
    out = det._with_mentions(events, [r.message for r in rec])
    names = [det.entities.names[e] for e in out.entity.tolist()]
    assert names == ["agg-1", "csr-0053", "agg-1", "agg-2"]
    assert out.reporter is not None
    assert out.reporter.tolist() == [-1, 0, -1, -1]


def test_a_silent_router_named_by_two_neighbours_gets_a_rare_log_anomaly() -> None:
    routers = [Entity(n, "agg_router", T) for n in ("agg-1", "agg-2")]
    det = LogDetection()
    det.set_entities([*routers, Entity("csr-0053", "csr", T)])
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    routine = [
        line(t0 + timedelta(minutes=10 * i), h, f"user noc logged in from 10.0.0.{i}", 6)
        for i in range(12)
        for h in ("agg-1", "agg-2", "csr-0053")
    ]
    assert det.process(routine) == []
    at = t0 + timedelta(hours=2)
    fault = [
        line(at, "agg-1", "IS-IS lost L2 adjacency to csr-0053 on xe-0/0/7.0"),
        line(
            at + timedelta(seconds=2), "agg-2", "IS-IS lost L2 adjacency to csr-0053 on xe-0/0/3.0"
        ),
    ]
    alarms = det.process(fault)
    on_csr = [a for a in alarms if a.managed_object == "csr-0053"]
    assert [a.specific_problem for a in on_csr] == ["log rare template"]
    assert on_csr[0].additional_info["reported_by"] == str(["agg-1", "agg-2"])
    without = LogDetection()
    without.process(routine)
    assert [a for a in without.process(fault) if a.managed_object == "csr-0053"] == []


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["agg-1", "agg-2", "csr-0053", "AGG-R001-3", "svc-billing", "x"]),
            st.lists(
                st.one_of(st.text(max_size=20), st.sampled_from(["csr-0053", "agg-r001-3"])),
                max_size=6,
            ),
            st.integers(0, 7),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_log_detection_never_raises_on_arbitrary_lines(
    rows: list[tuple[str, list[str], int]],
) -> None:
    det = LogDetection()
    det.set_entities(ENTITIES)
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    records = [
        LogRecord(ts=t0 + timedelta(seconds=i), message=" ".join(words), severity=sev, host=host)
        for i, (host, words, sev) in enumerate(rows)
    ]
    known = {h for h, _, _ in rows} | {e.id for e in ENTITIES}
    assert {a.managed_object for a in det.process(records)} <= known
