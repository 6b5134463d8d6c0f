"""Dedup: one alarm per problem; duplicates absorbed with a count; clears pass; promotion."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from nocwise.correlate.base import Verdict
from nocwise.correlate.dedup import DedupConfig, DedupReason, DedupStage
from nocwise.correlate.synthetic import clear_alarm, raise_alarm

S = timedelta(seconds=1)


def test_same_fingerprint_new_id_is_absorbed_into_the_primary(t0: datetime) -> None:
    stage = DedupStage()
    a = raise_alarm("a1", "s1/csr", "linkDown", t0)
    b = raise_alarm("a2", "s1/csr", "linkDown", t0 + S)
    out = stage.process([a, b], t0)
    assert out.passed == [a]
    (d,) = out.decisions
    assert d.reason is DedupReason.DUPLICATE_FINGERPRINT
    assert d.verdict is Verdict.ABSORB
    assert d.evidence[0].data["primary_alarm_id"] == "a1"


def test_clear_of_a_duplicate_passes(t0: datetime) -> None:
    stage = DedupStage()
    a, b = raise_alarm("a1", "s1/csr", "linkDown", t0), raise_alarm("a2", "s1/csr", "linkDown", t0)
    stage.process([a, b], t0)
    out = stage.process([clear_alarm(b, t0 + S)], t0)
    assert [x.alarm_id for x in out.passed] == ["a2"]
    assert out.decisions[0].reason is DedupReason.DUPLICATE_CLEARED


def test_the_oldest_duplicate_takes_over_when_the_primary_clears(t0: datetime) -> None:
    stage = DedupStage()
    a, b, c = (raise_alarm(f"a{i}", "s1/csr", "linkDown", t0 + i * S) for i in range(3))
    stage.process([a, b, c], t0)
    out = stage.process([clear_alarm(a, t0 + 5 * S)], t0)
    assert [x.alarm_id for x in out.passed] == ["a0", "a1"]
    assert out.decisions[0].reason is DedupReason.PROMOTED
    again = stage.process([raise_alarm("a9", "s1/csr", "linkDown", t0 + 6 * S)], t0)
    assert again.decisions[0].evidence[0].data["primary_alarm_id"] == "a1"


@pytest.mark.parametrize(
    ("key", "absorbed"),
    [
        pytest.param(("fingerprint",), False, id="fingerprint-differs"),
        pytest.param(("managed_object", "probable_cause"), True, id="object-and-cause"),
        pytest.param(("managed_object", "labels.circuit"), True, id="label"),
    ],
)
def test_keys_are_configurable_per_source(
    t0: datetime, key: tuple[str, ...], absorbed: bool
) -> None:
    stage = DedupStage(DedupConfig(key_by_source={"ems": key}))
    a = replace(
        raise_alarm("a1", "s1/csr", "linkDown", t0),
        labels={"circuit": "c7"},
        specific_problem="port 1",
        fingerprint="",
    )
    b = replace(
        raise_alarm("a2", "s1/csr", "linkDown", t0),
        labels={"circuit": "c7"},
        specific_problem="port 2",
        fingerprint="",
    )
    out = stage.process([a, b], t0)
    assert (len(out.passed) == 1) is absorbed


def test_unknown_key_field_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown alarm field"):
        DedupStage(DedupConfig(key=("no_such_field",)))


def test_state_round_trip_continues_identically(t0: datetime) -> None:
    stage = DedupStage()
    a, b = raise_alarm("a1", "s1/csr", "linkDown", t0), raise_alarm("a2", "s1/csr", "linkDown", t0)
    stage.process([a, b], t0)
    copy = DedupStage.from_state(stage.to_state())
    nxt = [clear_alarm(a, t0 + S), raise_alarm("a3", "s1/csr", "linkDown", t0 + 2 * S)]
    assert copy.process(nxt, t0) == stage.process(nxt, t0)
    assert copy.open_keys() == stage.open_keys() == 1


def test_open_keys_are_bounded_and_overflow_is_counted(t0: datetime) -> None:
    stage = DedupStage(DedupConfig(max_keys=2))
    alarms = [raise_alarm(f"a{i}", f"s{i}/csr", "linkDown", t0) for i in range(4)]
    out = stage.process(alarms, t0)
    assert out.passed == alarms  # nothing lost
    assert stage.open_keys() == 2
    assert stage.overflow == 2
