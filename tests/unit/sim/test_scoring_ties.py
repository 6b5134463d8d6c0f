"""Matching faults to incidents does not depend on the hash seed (regression)."""

from __future__ import annotations

from datetime import UTC, datetime

from nocwise.sim.scoring import PredictedIncident, match_faults
from nocwise.sim.truth import FaultTruth, GroundTruth

T0 = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)


def _truth() -> GroundTruth:
    return GroundTruth(
        [
            FaultTruth("F2", "fibre_cut", "l1", T0, None, frozenset({"a", "b"}), "fix"),
            FaultTruth("F1", "site_power", "s1", T0, None, frozenset({"c", "d"}), "fix"),
        ],
        frozenset(),
    )


def test_a_tie_goes_to_the_fault_id_that_sorts_first() -> None:
    """Before, the tie went to whichever alarm id a frozenset iterated first."""
    for alarm_ids in ({"a", "c"}, {"a", "b", "c", "d"}, {"b", "d"}):
        incident = PredictedIncident("I1", frozenset(alarm_ids), T0)
        assert match_faults([incident], _truth()) == {"F1": [incident]}
