"""The correlator: wiring, views, operator actions, ranking, funnel and the throughput probe."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from nocwise.correlate.checkpoint import correlator_from_state, correlator_to_state
from nocwise.correlate.config import CorrelateConfig
from nocwise.correlate.matchers import Matcher
from nocwise.correlate.noise import NoiseModel
from nocwise.correlate.pipeline import Correlator, build_correlator
from nocwise.correlate.silence import Silence
from nocwise.correlate.synthetic import clear_alarm, raise_alarm
from nocwise.correlate.throughput import measure
from nocwise.model import Alarm, ModelState, Severity
from nocwise.topology.graph import TopologyGraph

S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)


def test_config_is_frozen_and_rejects_unknown_keys() -> None:
    with pytest.raises(ValidationError):
        CorrelateConfig.model_validate({"group": {"max_hopz": 2}})
    cfg = CorrelateConfig()
    with pytest.raises(ValidationError):
        cfg.group.max_hops = 5  # type: ignore[misc]


def test_views_carry_every_decision_and_the_incident(t0: datetime, topo: TopologyGraph) -> None:
    corr = build_correlator(CorrelateConfig(), topo)
    res = corr.process(
        [
            raise_alarm("g", "s1/gnb", "gnbDown", t0, Severity.CRITICAL),
            raise_alarm("c", "s1/cell0", "cellDown", t0),
        ],
        t0 + M,
    )
    c = next(v for v in res.alarms if v.alarm.alarm_id == "c")
    assert [d.stage for d in c.decisions] == ["suppress", "noise", "group"]
    assert c.suppressed_by == "g"
    assert c.noise_score == 0.5
    assert c.incident_id is not None
    assert not c.is_held
    assert res.incidents[0].id == c.incident_id


def test_silences_through_the_correlator_hold_and_release(
    t0: datetime, topo: TopologyGraph
) -> None:
    corr = build_correlator(CorrelateConfig(), topo)
    corr.add_silence(
        Silence(
            id="s",
            matchers=(Matcher(name="probable_cause", value="fanFailure"),),
            start=t0,
            end=t0 + 10 * M,
            created_by="bob",
        )
    )
    res = corr.process([raise_alarm("f", "s1/csr", "fanFailure", t0 + S)], t0 + S)
    assert res.alarms[0].muted_by == ("s",)
    corr.expire_silence("s")
    corr.tick(t0 + 2 * M)
    view = corr.alarm("f")
    assert view is not None
    assert view.muted_by == ()
    assert view.incident_id is not None


def test_noise_history_demotes_incidents_of_chatty_types(t0: datetime, topo: TopologyGraph) -> None:
    history = [raise_alarm(f"h{i}", f"s{i % 20}/csr", "fanFailure", t0 - i * M) for i in range(50)]
    model = NoiseModel.fit(history, actionable_ids=())
    config = CorrelateConfig.model_validate({"noise": {"demoted_open_incidents": True}})
    corr = build_correlator(config, topo, noise_model=model)
    corr.process(
        [
            raise_alarm("fan", "s1/csr", "fanFailure", t0, Severity.MAJOR),
            raise_alarm("link", "s5/csr", "linkDown", t0, Severity.MAJOR),
        ],
        t0 + M,
    )
    first, second = corr.incidents()
    assert first.root_entity_id == "s5/csr"  # same customer and SLA, but not noisy
    assert second.root_entity_id == "s1/csr"
    assert second.impact.score < first.impact.score
    fan = corr.alarm("fan")
    assert fan is not None
    assert fan.noise_score is not None
    assert fan.noise_score > 0.9
    corr.learn_noise(fan.alarm, actionable=True)


@pytest.mark.parametrize("reach", [None, 0])
def test_demoted_alarms_open_no_incident(
    t0: datetime, topo: TopologyGraph, reach: int | None
) -> None:
    history = [raise_alarm(f"h{i}", f"s{i % 20}/csr", "fanFailure", t0 - i * M) for i in range(50)]
    config = CorrelateConfig.model_validate({"group": {"demoted_reach": reach}})
    corr = build_correlator(config, topo, noise_model=NoiseModel.fit(history, actionable_ids=()))
    corr.process([raise_alarm("fan", "s1/csr", "fanFailure", t0, Severity.MAJOR)], t0)
    corr.tick(t0 + M)
    assert corr.incidents() == []
    fan = corr.alarm("fan")
    assert fan is not None
    assert fan.incident_id is None
    assert [v.alarm.alarm_id for v in corr.open_alarms()] == ["fan"]
    corr.process([raise_alarm("link", "s5/csr", "linkDown", t0 + M, Severity.MAJOR)], t0 + M)
    corr.process([raise_alarm("fan2", "s5/csr", "fanFailure", t0 + M, Severity.MAJOR)], t0 + M)
    corr.tick(t0 + 2 * M)
    (inc,) = corr.incidents()
    assert {m.alarm_id for m in inc.members} == ({"link"} if reach is None else {"link", "fan2"})


def test_a_prediction_opens_no_incident_but_joins_its_entitys(
    t0: datetime, topo: TopologyGraph
) -> None:
    corr = build_correlator(CorrelateConfig(), topo)
    forecast = "nocwise-forecast"
    corr.process([raise_alarm("p1", "s1/csr", "thresholdCrossed", t0, source=forecast)], t0)
    corr.tick(t0 + M)
    assert corr.incidents() == []
    p1 = corr.alarm("p1")
    assert p1 is not None
    assert p1.incident_id is None
    assert "advisory_held" in [d.reason for d in p1.decisions]
    corr.process([raise_alarm("link", "s5/csr", "linkDown", t0 + M)], t0 + M)
    corr.process([raise_alarm("p2", "s5/csr", "thresholdCrossed", t0 + M, source=forecast)], t0 + M)
    corr.tick(t0 + 2 * M)
    (inc,) = corr.incidents()
    assert {m.alarm_id: m.reason for m in inc.members} == {
        "link": "new_incident",
        "p2": "advisory_member",
    }


def test_a_fault_alarm_adopts_the_recent_predictions_held_on_its_entity(
    t0: datetime, topo: TopologyGraph
) -> None:
    corr = build_correlator(CorrelateConfig(), topo)
    forecast = "nocwise-forecast"
    old = raise_alarm("old", "s5/csr", "resourceAtOrNearingCapacity", t0 - 2 * H, source=forecast)
    corr.process([old], t0 - 2 * H)
    corr.process([raise_alarm("p", "s5/csr", "thresholdCrossed", t0, source=forecast)], t0)
    corr.process([raise_alarm("q", "s6/csr", "thresholdCrossed", t0, source=forecast)], t0)
    gone = raise_alarm("gone", "s5/csr", "congestion", t0, source=forecast)
    corr.process([gone], t0)
    corr.process([clear_alarm(gone, t0)], t0)
    state = correlator_to_state(corr)  # held predictions survive a restart
    corr = correlator_from_state(ModelState.from_bytes(state.to_bytes()), topo)
    corr.process([raise_alarm("link", "s5/csr", "linkDown", t0 + M)], t0 + M)
    corr.tick(t0 + 2 * M)
    (inc,) = corr.incidents()
    assert {m.alarm_id: m.reason for m in inc.members} == {
        "link": "new_incident",
        "p": "advisory_member",
    }
    p = corr.alarm("p")
    assert p is not None
    assert p.incident_id == inc.id
    assert "raised 60 s before a fault alarm on s5/csr" in p.decisions[-1].evidence[0].summary


def test_merge_needs_a_time_seen_first(topo: TopologyGraph) -> None:
    corr = build_correlator(CorrelateConfig(), topo)
    with pytest.raises(ValueError, match="no time seen"):
        corr.merge("a", "b", "ops")


def test_acknowledging_an_unknown_alarm_does_nothing(t0: datetime, topo: TopologyGraph) -> None:
    corr = build_correlator(CorrelateConfig(), topo)
    assert corr.acknowledge("nope", "ops", t0).alarms == []


def test_cleared_alarms_are_forgotten_once_acknowledged(t0: datetime, topo: TopologyGraph) -> None:
    corr = build_correlator(CorrelateConfig(), topo)
    a = raise_alarm("a", "s1/csr", "linkDown", t0)
    corr.process([a, clear_alarm(a, t0 + S)], t0 + S)
    corr.acknowledge("a", "ops", t0 + 2 * S)
    corr.tick(t0 + 3 * S)
    assert corr.alarm("a") is None
    assert corr.funnel()["decisions.lifecycle.removed_cleared_and_acknowledged"] == 1


def test_throughput_probe_reports_rate_and_memory() -> None:
    out = measure(n_open=300, n_alarms=600, seed=3, batch=200)
    assert out["open_alarms_before"] == 300
    assert out["alarms_per_s"] > 0
    assert out["rss_mb"] > 0
    assert measure(300, 600, 3, 200)["incidents"] == out["incidents"]


def test_the_throughput_probe_restores_the_collector_thresholds() -> None:
    import gc

    before = gc.get_threshold()
    measure(n_open=100, n_alarms=100, seed=1, batch=50)
    assert gc.get_threshold() == before


def test_feed_returns_the_incidents_process_returns(topo: TopologyGraph) -> None:
    from nocwise.correlate.throughput import _workload

    _, warm, stream = _workload(300, 900, seed=7)
    fed, processed = (build_correlator(CorrelateConfig(), topo) for _ in range(2))
    for i in range(0, len(warm + stream), 150):
        chunk = (warm + stream)[i : i + 150]
        now = chunk[-1].event_time
        assert fed.feed(chunk, now) == processed.process(chunk, now).incidents
        assert fed.tick(now) == processed.tick(now)
    assert [v.alarm for v in fed.open_alarms()] == [v.alarm for v in processed.open_alarms()]


def test_the_chain_leaves_no_reference_cycles(topo: TopologyGraph) -> None:
    """Everything the chain drops is freed by reference counting alone, so a less eager cyclic
    collector (as `nocwise serve` runs it) cannot let the chain's memory grow."""
    import gc

    from nocwise.correlate.throughput import _workload

    _, warm, stream = _workload(400, 1600, seed=9)
    alarms = warm + stream
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        corr = build_correlator(CorrelateConfig(), topo)
        for i in range(0, len(alarms), 200):
            chunk = alarms[i : i + 200]
            corr.process(chunk, chunk[-1].event_time)
            corr.tick(chunk[-1].event_time)
        now = alarms[-1].event_time
        first, second, *_ = corr.incidents()
        corr.merge(first.id, second.id, "ops")
        merged = corr.incident(first.id)
        assert merged is not None
        corr.split(first.id, [m.alarm_id for m in merged.members[:2]], "ops")
        open_ = corr.open_alarms()
        corr.acknowledge(open_[0].alarm.alarm_id, "ops", now)
        corr.resync(open_[1].alarm.source, [v.alarm for v in open_[1:]], now)
        corr.tick(now + 3 * M)
        del first, second, merged, open_
        assert gc.collect() == 0  # the correlator is alive: nothing it let go of is a cycle
    finally:
        if was:
            gc.enable()


@pytest.mark.parametrize(
    "batch", [pytest.param(37, id="small-batches"), pytest.param(400, id="large-batches")]
)
def test_incidents_do_not_depend_on_batching_or_tick_cadence(
    topo: TopologyGraph, batch: int
) -> None:
    from nocwise.correlate.throughput import _workload

    _, warm, stream = _workload(400, 1200, seed=5)
    alarms = warm + stream

    def run(size: int) -> dict[str, str | None]:
        corr = build_correlator(CorrelateConfig(), topo)
        for i in range(0, len(alarms), size):
            chunk = alarms[i : i + size]
            corr.process(chunk, chunk[-1].event_time)
            corr.tick(chunk[-1].event_time)
        return {v.alarm.alarm_id: v.incident_id for v in corr.open_alarms()}

    assert run(batch) == run(1000)


def test_a_checkpoint_mid_stream_continues_identically(topo: TopologyGraph) -> None:
    from nocwise.correlate.checkpoint import correlator_from_state, correlator_to_state
    from nocwise.correlate.throughput import _workload
    from nocwise.model import ModelState

    _, warm, stream = _workload(300, 900, seed=11)
    alarms = warm + stream
    mid = len(alarms) // 2

    def feed(corr: Correlator, part: list[Alarm]) -> list[object]:
        out: list[object] = []
        for i in range(0, len(part), 100):
            chunk = part[i : i + 100]
            res = corr.process(chunk, chunk[-1].event_time)
            out += [res.alarms, res.incidents, corr.tick(chunk[-1].event_time)]
        return out

    live = build_correlator(CorrelateConfig(), topo, noise_model=NoiseModel.fit(warm[:50], ["a1"]))
    feed(live, alarms[:mid])
    blob = correlator_to_state(live).to_bytes()
    restored = correlator_from_state(ModelState.from_bytes(blob), topo)
    assert feed(restored, alarms[mid:]) == feed(live, alarms[mid:])
    assert restored.funnel() == live.funnel()
    assert restored.incidents() == live.incidents()


@pytest.mark.parametrize("enabled", [True, False])
def test_a_checkpoint_leaves_the_garbage_collector_as_it_found_it(
    topo: TopologyGraph, t0: datetime, enabled: bool
) -> None:
    import gc

    from nocwise.correlate.checkpoint import correlator_from_state, correlator_to_state

    corr = build_correlator(CorrelateConfig(), topo)
    corr.process([raise_alarm("a", "s1/cell0", "cellDown", t0)], t0)
    was = gc.isenabled()
    try:
        if not enabled:
            gc.disable()
        state = correlator_to_state(corr)
        assert gc.isenabled() is enabled
        again = correlator_from_state(state, topo)
        assert gc.isenabled() is enabled
        assert again.alarm("a") is not None
    finally:
        if was:
            gc.enable()
