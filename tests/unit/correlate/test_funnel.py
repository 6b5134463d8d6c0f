"""Funnel counters and their stated formula."""

from __future__ import annotations

from nocwise.correlate.base import Decision, Verdict
from nocwise.correlate.dedup import DedupReason
from nocwise.correlate.funnel import FORMULA, Funnel


def test_ratios_follow_the_stated_formula() -> None:
    f = Funnel()
    f.events, f.alarms, f.grouped, f.incidents = 1000, 400, 200, 5
    f.count_decisions(
        [Decision("dedup", DedupReason.DUPLICATE_FINGERPRINT, (), "a", Verdict.ABSORB)] * 3
    )
    out = f.as_dict()
    assert out["alarms_per_event"] == 0.4
    assert out["grouped_per_alarm"] == 0.5
    assert out["alarms_per_incident"] == 40.0
    assert out["reduction"] == 1 - 5 / 1000
    assert out["formula"] == FORMULA
    assert out["decisions.dedup.duplicate_fingerprint"] == 3


def test_empty_funnel_has_zero_ratios() -> None:
    out = Funnel().as_dict()
    assert out["reduction"] == 0.0
    assert out["alarms_per_incident"] == 0.0
