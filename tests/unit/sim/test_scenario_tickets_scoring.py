"""Scenario loading, ticket history and scoring helpers."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nocwise.sim import Scenario, ScenarioError, load_scenario, scenario_names
from nocwise.sim.scenario import parse_duration, scenario_from_dict
from nocwise.sim.scoring import (
    PredictedIncident,
    ac_at_k,
    compression,
    detection,
    from_incidents,
    hit_at_k,
    incident_ari,
)
from nocwise.sim.tickets import generate_history
from nocwise.sim.topology import build_topology
from nocwise.sim.truth import FaultTruth, GroundTruth


def test_packaged_scenarios_load() -> None:
    assert "demo" in scenario_names()
    sc = load_scenario("demo")
    assert sc.size == "small"
    assert len(sc.faults) == 3


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ({"size": "huge"}, "scenario.size"),
        ({"faults": [{"type": "meteor", "at": "1m"}]}, "scenario.faults[0].type"),
        ({"faults": [{"type": "fibre_cut", "at": "soon"}]}, "scenario.faults[0].at"),
        ({"colour": 1}, "unknown keys"),
    ],
)
def test_bad_scenarios_name_the_offending_path(raw: dict, where: str) -> None:
    with pytest.raises(ScenarioError, match=where.replace("[", r"\[").replace("]", r"\]")):
        scenario_from_dict(raw)


@given(st.integers(0, 10**6), st.sampled_from(["s", "m", "h", "d"]))
def test_parse_duration_units(n: int, unit: str) -> None:
    mult = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    assert parse_duration(f"{n}{unit}") == timedelta(seconds=n * mult)


@given(st.text(max_size=12))
def test_parse_duration_never_crashes_otherwise(text: str) -> None:
    with contextlib.suppress(ScenarioError):
        parse_duration(text)


def test_ticket_history_is_varied_and_noisy() -> None:
    tickets, labels = generate_history(build_topology(14, 0), 5000, seed=2)
    assert len(tickets) == 5000
    assert len({t.id for t in tickets}) == 5000
    assert len({t.description for t in tickets}) > 2000
    assert len(Counter(lab.fault_type for lab in labels)) == 14
    wrong = sum(not lab.closure_code_correct for lab in labels) / len(labels)
    assert 0.05 < wrong < 0.2
    assert all(
        t.resolved is not None and t.resolved > t.created and t.related_entities for t in tickets
    )


def _truth() -> GroundTruth:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    f1 = FaultTruth("F1", "fibre_cut", "lnk-1", t0, None, frozenset({"a1", "a2", "a3"}), "dispatch_fibre_repair",
                    frozenset({"lnk-1", "lnk-2"}))  # fmt: skip
    f2 = FaultTruth(
        "F2", "bad_deployment", "svc-x", t0, None, frozenset({"b1", "b2"}), "rollback_deployment"
    )
    return GroundTruth([f1, f2], frozenset({"n1", "n2"}))


def test_scoring_perfect_and_lumped() -> None:
    t0 = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    truth = _truth()
    perfect = [
        PredictedIncident("I1", frozenset({"a1", "a2", "a3"}), t0, ["lnk-1", "csr-1"]),
        PredictedIncident("I2", frozenset({"b1", "b2"}), t0, ["svc-y", "svc-x"]),
    ]
    assert incident_ari(perfect, truth) == pytest.approx(1.0)
    lumped = [PredictedIncident("I", frozenset({"a1", "a2", "a3", "b1", "b2", "n1", "n2"}), t0)]
    assert incident_ari(lumped, truth) < 0.5
    assert hit_at_k(perfect, truth, 1) == 0.5
    assert hit_at_k(perfect, truth, 2) == 1.0
    assert ac_at_k(perfect, truth, 2) == pytest.approx((0.5 + 1.0) / 2)
    assert compression(7, 2) == pytest.approx(1 - 2 / 7)
    det = detection(perfect, truth)
    assert det["fibre_cut"] == {"rate": 1.0, "delay_s": 60.0}


def test_truth_can_be_renamed_to_wire_ids() -> None:
    renamed = _truth().mapped(lambda a: f"x:{a}")
    assert renamed.faults[0].alarm_ids == frozenset({"x:a1", "x:a2", "x:a3"})
    assert renamed.noise_alarm_ids == frozenset({"x:n1", "x:n2"})


_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 10**6)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=8,
)
_KEYS = st.sampled_from(["name", "seed", "size", "sites", "start", "duration", "step", "faults", "random_faults",
                         "noise", "drift", "description", "type", "at", "level"])  # fmt: skip


@given(st.dictionaries(_KEYS, _VALUES, max_size=5))
def test_scenario_validation_fails_only_with_scenario_errors(raw: dict) -> None:
    _validated(raw)


_FAULT_KEYS = st.sampled_from(["type", "at", "duration", "target", "where"])
_TYPES = st.sampled_from(["fibre_cut", "dns_ddos", "nope"]) | _VALUES


@given(
    st.lists(st.dictionaries(_FAULT_KEYS, _TYPES, max_size=5), max_size=3),
    st.dictionaries(
        st.sampled_from(["level", "chatty", "traces_per_step", "bogus"]), _VALUES, max_size=3
    ),
    st.dictionaries(
        st.sampled_from(["count", "types", "min_duration", "after"]), _TYPES, max_size=4
    ),
)
def test_nested_sections_fail_only_with_scenario_errors(
    faults: list, noise: dict, rf: dict
) -> None:
    for raw in ({"faults": faults}, {"noise": noise}, {"random_faults": rf}, {"drift": noise}):
        _validated(raw)


def _validated(raw: dict) -> None:
    """Either a Scenario, or a ScenarioError that names the path; nothing else escapes."""
    message = ""
    try:
        sc: Scenario | None = scenario_from_dict(raw)
    except ScenarioError as exc:
        sc, message = None, str(exc)
    assert isinstance(sc, Scenario) or message.startswith("scenario")


def test_root_cause_is_read_from_the_incident_holding_most_alarms() -> None:
    t0 = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    scattered = [
        PredictedIncident("big", frozenset({"a1", "a2"}), t0, ["csr-9"]),
        PredictedIncident("small", frozenset({"a3"}), t0, ["lnk-1"]),
    ]
    assert hit_at_k(scattered, _truth(), 1) == 0.0


def test_nocwise_incidents_convert_to_predictions() -> None:
    from nocwise.model import Hypothesis, Incident, IncidentState, Member

    t0 = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    inc = Incident("I1", IncidentState.OPEN, t0, t0, "cut",
                   members=(Member("a1", "topology", t0), Member("a2", "topology", t0)),
                   hypotheses=(Hypothesis("csr-1", "fibre_cut", 0.2), Hypothesis("lnk-1", "fibre_cut", 0.7)))  # fmt: skip
    (pred,) = from_incidents([inc])
    assert pred.alarm_ids == frozenset({"a1", "a2"})
    assert list(pred.root_candidates) == ["lnk-1", "csr-1"]
    assert hit_at_k([pred], _truth(), 1) == 0.5


def test_score_twin_on_a_perfect_pipeline() -> None:
    from nocwise.model import Hypothesis, Incident, IncidentState, Member
    from nocwise.sim import Twin
    from nocwise.sim.scoring import score_twin

    twin = Twin(load_scenario("demo").with_overrides(duration=timedelta(minutes=30)))
    for _ in twin.run():
        pass
    incidents = [
        Incident(
            f.fault_id,
            IncidentState.OPEN,
            f.start,
            f.start,
            f.fault_type,
            members=tuple(Member(a, "truth", f.start) for a in sorted(f.alarm_ids)),
            hypotheses=(Hypothesis(f.root_entity_id, f.fault_type, 1.0),),
        )
        for f in twin.truth.faults
    ]
    s = score_twin(twin, incidents)
    assert s["ari"] == pytest.approx(1.0)
    assert s["hit@1"] == 1.0
    assert s["false_incidents_per_day"] == 0.0


def test_ticket_history_is_seeded() -> None:
    topo = build_topology(14, 0)
    a, _ = generate_history(topo, 200, seed=5)
    b, _ = generate_history(topo, 200, seed=5)
    c, _ = generate_history(topo, 200, seed=6)
    assert a == b
    assert a != c


def test_a_folder_named_like_a_packaged_scenario_does_not_shadow_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "storm").mkdir()
    monkeypatch.chdir(tmp_path)
    assert load_scenario("storm").name == "storm"
