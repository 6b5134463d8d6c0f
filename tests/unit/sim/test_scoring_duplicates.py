"""Duplicates (same fingerprint, raised while the first is active) count under the first alarm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nocwise.correlate.synthetic import clear_alarm, raise_alarm
from nocwise.sim.scoring import PredictedIncident, credit_duplicates, incident_ari
from nocwise.sim.truth import FaultTruth, GroundTruth

T0 = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def test_a_duplicate_in_no_incident_counts_in_its_first_alarms_incident() -> None:
    first = raise_alarm("a1", "core-1", "adjacencyDown", T0, text="IS-IS adjacency down")
    dup = raise_alarm("a2", "core-1", "adjacencyDown", T0 + S, text="IS-IS adjacency down")
    other = raise_alarm("a3", "core-1", "adjacencyDown", T0 + 9 * S, text="IS-IS adjacency down")
    stream = [first, dup, clear_alarm(first, T0 + 5 * S), clear_alarm(dup, T0 + 6 * S), other]
    predicted = [PredictedIncident("I1", frozenset({"a1", "x"}), T0)]
    credited = credit_duplicates(predicted, stream)
    # a2 was raised while a1 was active; a3 came after both cleared: a new problem, not credited
    assert credited == [PredictedIncident("I1", frozenset({"a1", "a2", "x"}), T0)]
    truth = GroundTruth(
        [FaultTruth("F1", "fibre_cut", "lnk", T0, None, frozenset({"a1", "a2", "x"}), "fix")],
        frozenset({"a3", "n"}),
    )
    assert incident_ari(credited, truth) == 1.0
    assert incident_ari(predicted, truth) < 1.0


def test_an_alarm_already_in_an_incident_stays_where_it_is() -> None:
    first = raise_alarm("a1", "r", "linkDown", T0)
    dup = raise_alarm("a2", "r", "linkDown", T0 + S)
    predicted = [
        PredictedIncident("I1", frozenset({"a1"}), T0),
        PredictedIncident("I2", frozenset({"a2"}), T0),
    ]
    assert credit_duplicates(predicted, [first, dup]) == predicted


def test_duplicates_of_noise_can_cost_a_pipeline() -> None:
    """Crediting is not one-sided: a duplicate of an alarm put in the wrong incident follows it."""
    noise = raise_alarm("n1", "r", "fanFailure", T0)
    again = raise_alarm("n2", "r", "fanFailure", T0 + S)
    predicted = [PredictedIncident("I1", frozenset({"a", "b", "n1"}), T0)]
    truth = GroundTruth(
        [FaultTruth("F1", "x", "r", T0, None, frozenset({"a", "b"}), "fix")],
        frozenset({"n1", "n2"}),
    )
    credited = credit_duplicates(predicted, [noise, again])
    assert incident_ari(credited, truth) < incident_ari(predicted, truth)
