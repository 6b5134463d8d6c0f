"""Log anomaly detectors: new template, frequency shift, error burst; events and entity mapping."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from nocwise.detect.logs.anomalies import LogAnomaly, LogAnomalyKind
from nocwise.detect.logs.bursts import BurstConfig, BurstDetector
from nocwise.detect.logs.events import EntityIndex, LogEvents
from nocwise.detect.logs.frequency import FrequencyConfig, FrequencyShiftDetector
from nocwise.detect.logs.novelty import NoveltyConfig, NoveltyDetector
from nocwise.detect.logs.registry import LOG_DETECTORS, LogDetectorConfig, build
from nocwise.model.errors import InvalidRecordError
from nocwise.model.logs import LogRecord
from nocwise.model.state import ModelState

MINUTE = 60_000
INFO, ERROR = 6, 3


def window_events(
    minute: int, rates: dict[tuple[int, int, int], int], rng: np.random.Generator
) -> LogEvents:
    """One minute of lines: ``rates[(entity, template, severity)]`` Poisson means, sorted by time."""
    ts, ent, tpl, sev = [], [], [], []
    for (e, t, s), rate in rates.items():
        n = int(rng.poisson(rate))
        ts += list(minute * MINUTE + rng.integers(0, MINUTE, n))
        ent += [e] * n
        tpl += [t] * n
        sev += [s] * n
    order = np.argsort(ts, kind="stable")
    names = ["ran-du-1", "amf-2"]
    msgs = [f"line {i}" for i in range(len(ts))]
    return LogEvents.of(
        np.asarray(ts)[order], np.asarray(ent)[order], np.asarray(tpl)[order],
        np.asarray(sev)[order], entity_names=names, messages=[msgs[i] for i in order],
    )  # fmt: skip


NORMAL = {(0, 1, INFO): 30, (0, 2, INFO): 12, (0, 3, ERROR): 1, (1, 1, INFO): 25, (1, 2, INFO): 30}


def run(det: FrequencyShiftDetector | BurstDetector, anomalous_minute: int, bad: dict) -> list:
    rng = np.random.default_rng(7)
    out: list[LogAnomaly] = []
    for minute in range(30):
        rates = bad if minute == anomalous_minute else NORMAL
        out += det.process(window_events(minute, rates, rng))
    return out + det.tick(30 * MINUTE)


# -- new template -------------------------------------------------------------------------------


def test_new_template_fires_once_with_evidence() -> None:
    det = NoveltyDetector()
    det.process(LogEvents.of([0, 1, 2], [0, 0, 1], [1, 2, 1], [6, 6, 6]))
    batch = LogEvents.of(
        [10, 11, 12, 13], [1, 0, 1, 1], [1, 9, 9, 2], [6, 3, 3, 6], ["a", "b"], ["w", "x", "y", "z"]
    )
    first = det.process(batch)
    again = det.process(LogEvents.of([20], [0], [9], [3]))
    assert [(a.kind, a.template_ids, a.entity_id, a.ts_ms) for a in first] == [
        (LogAnomalyKind.NEW_TEMPLATE, (9,), "a", 11)
    ]
    assert first[0].evidence["count"] == 2
    assert first[0].evidence["entities"] == ["a", "b"]
    assert first[0].evidence["examples"] == ["x", "y"]
    assert again == []


def test_new_template_scores_higher_in_a_mature_catalogue() -> None:
    young, mature = NoveltyDetector(), NoveltyDetector()
    young.process(LogEvents.of([0, 1], [0, 0], [1, 2], [6, 6]))
    mature.process(LogEvents.of(range(1000), [0] * 1000, [1, 2] * 500, [6] * 1000))
    new = LogEvents.of([2000], [0], [5], [6])
    assert mature.process(new)[0].score > young.process(new)[0].score


def test_new_templates_in_the_warmup_are_learned_silently() -> None:
    det = NoveltyDetector(NoveltyConfig(warmup=timedelta(seconds=10)))
    assert det.process(LogEvents.of([0, 5_000], [0, 0], [1, 2], [6, 6])) == []
    assert [a.template_ids for a in det.process(LogEvents.of([11_000], [0], [3], [6]))] == [(3,)]


def test_novelty_without_learning_keeps_firing() -> None:
    det = NoveltyDetector()
    batch = LogEvents.of([0], [0], [4], [6])
    assert len(det.process(batch, learn=False)) == len(det.process(batch, learn=False)) == 1


def test_novelty_state_round_trip() -> None:
    det = NoveltyDetector()
    det.process(LogEvents.of([0, 1, 2], [0, 0, 1], [1, 2, 2], [6, 6, 6]))
    copy = NoveltyDetector.from_state(ModelState.from_bytes(det.to_state().to_bytes()))
    batch = LogEvents.of([5, 6], [0, 0], [2, 8], [6, 6])
    assert copy.process(batch) == det.process(batch)
    assert copy.count.tolist() == det.count.tolist()


# -- error burst --------------------------------------------------------------------------------


def test_error_burst_fires_for_the_bursting_entity_only() -> None:
    burst = dict(NORMAL) | {(0, 3, ERROR): 40, (0, 4, ERROR): 10}
    out = run(BurstDetector(), 20, burst)
    assert [(a.kind, a.entity_id, a.ts_ms) for a in out] == [
        (LogAnomalyKind.ERROR_BURST, "ran-du-1", 21 * MINUTE)
    ]
    ev = out[0].evidence
    assert ev["observed"] > 40 > ev["expected"]
    assert ev["top_templates"][0]["template"] == 3
    assert out[0].template_ids[:2] == (3, 4)
    assert len(ev["examples"]) == 3


def test_no_burst_in_normal_traffic() -> None:
    assert run(BurstDetector(), -1, NORMAL) == []


def test_an_entity_that_always_logs_errors_is_not_a_burst() -> None:
    chatty = dict(NORMAL) | {(1, 5, ERROR): 30}
    rng = np.random.default_rng(3)
    det = BurstDetector()
    out = [a for m in range(30) for a in det.process(window_events(m, chatty, rng))]
    assert out == []


def test_burst_state_round_trip_mid_window() -> None:
    rng = np.random.default_rng(1)
    det = BurstDetector(BurstConfig(min_windows=3))
    for minute in range(10):
        det.process(window_events(minute, NORMAL, rng))
    copy = BurstDetector.from_state(ModelState.from_bytes(det.to_state().to_bytes()))
    burst = window_events(10, dict(NORMAL) | {(0, 3, ERROR): 50}, rng)
    later = window_events(11, NORMAL, rng)
    a = det.process(burst) + det.process(later)
    b = copy.process(burst) + copy.process(later)
    assert a == b
    assert len(a) == 1


# -- frequency shift ------------------------------------------------------------------------------


def test_frequency_shift_up_and_down_in_one_window() -> None:
    shifted = dict(NORMAL) | {(1, 1, INFO): 120, (1, 2, INFO): 0}
    out = run(FrequencyShiftDetector(FrequencyConfig(window=timedelta(minutes=1))), 20, shifted)
    assert [(a.kind, a.entity_id, a.ts_ms) for a in out] == [
        (LogAnomalyKind.FREQUENCY_SHIFT, "amf-2", 21 * MINUTE)
    ]
    shifts = {s["template"]: s for s in out[0].evidence["shifts"]}
    assert shifts[1]["direction"] == "up"
    assert shifts[1]["observed"] > 100
    assert shifts[2]["direction"] == "down"
    assert shifts[2]["observed"] == 0
    assert out[0].template_ids == (1, 2)


def test_no_frequency_shift_in_normal_traffic() -> None:
    det = FrequencyShiftDetector(FrequencyConfig(window=timedelta(minutes=1)))
    assert run(det, -1, NORMAL) == []


def test_windows_close_on_later_events_or_on_tick() -> None:
    det = FrequencyShiftDetector(FrequencyConfig(window=timedelta(minutes=1), min_windows=1))
    det.process(LogEvents.of([0, 1], [0, 0], [1, 1], [6, 6]))
    assert det.counts.open_window == 0
    det.process(LogEvents.of([MINUTE + 5], [0], [1], [6]))
    assert det.counts.n.tolist() == [1]  # the first window closed and was learned
    det.tick(MINUTE + 10)
    assert det.counts.open_window == 1  # not over yet
    det.tick(2 * MINUTE)
    assert det.counts.open_window == -1
    assert det.counts.n.tolist() == [2]


def test_late_events_are_counted_not_scored() -> None:
    det = FrequencyShiftDetector(FrequencyConfig(window=timedelta(minutes=1)))
    det.process(LogEvents.of([5 * MINUTE], [0], [1], [6]))
    det.process(LogEvents.of([MINUTE], [0], [1], [6]))
    assert det.counts.late_events == 1


def test_frequency_state_round_trip() -> None:
    rng = np.random.default_rng(5)
    det = FrequencyShiftDetector(FrequencyConfig(window=timedelta(minutes=1), min_windows=3))
    for minute in range(8):
        det.process(window_events(minute, NORMAL, rng))
    copy = FrequencyShiftDetector.from_state(ModelState.from_bytes(det.to_state().to_bytes()))
    nxt = window_events(8, dict(NORMAL) | {(0, 2, INFO): 80}, rng)
    a = det.process(nxt) + det.tick(10 * MINUTE)
    b = copy.process(nxt) + copy.tick(10 * MINUTE)
    assert a == b
    assert [x.template_ids for x in a] == [(2,)]


def test_huge_template_ids_are_refused() -> None:
    with pytest.raises(InvalidRecordError):
        FrequencyShiftDetector().process(LogEvents.of([0], [0], [1 << 33], [6]))


def test_states_of_the_wrong_schema_are_refused() -> None:
    state = NoveltyDetector().to_state()
    with pytest.raises(InvalidRecordError):
        BurstDetector.from_state(state)


# -- events and entities ----------------------------------------------------------------------------


def test_events_validate_shapes_and_ids() -> None:
    with pytest.raises(InvalidRecordError):
        LogEvents.of([0, 1], [0], [1, 1], [6, 6])
    with pytest.raises(InvalidRecordError):
        LogEvents.of([0], [-1], [1], [6])
    with pytest.raises(InvalidRecordError):
        LogEvents.of([0], [0], [1], [6], messages=["a", "b"])


def test_empty_input_gives_no_anomaly() -> None:
    for det in (NoveltyDetector(), BurstDetector(), FrequencyShiftDetector()):
        assert det.process(LogEvents.empty()) == []
        assert det.tick(0) == []


def test_entity_index_maps_records_to_the_most_specific_entity() -> None:
    ts = datetime(2026, 1, 1, tzinfo=UTC)
    records = [
        LogRecord(ts, "a", entity_id="cell-7", host="du-1", template_id=1),
        LogRecord(ts, "b", host="du-1", attributes={"service.name": "amf"}, template_id=2),
        LogRecord(ts, "c", host="du-1", severity=3, template_id=3),
        LogRecord(ts, "d", trace_id="abc", template_id=4),
        LogRecord(ts, "e", host="du-1", template_id=5),
    ]
    index = EntityIndex()
    events = index.events(records)
    assert index.names == ["cell-7", "du-1/amf", "du-1", "trace:abc"]
    assert events.entity.tolist() == [0, 1, 2, 3, 2]
    assert events.severity.tolist() == [6, 6, 3, 6, 6]
    assert events.ts_ms[0] == int(ts.timestamp() * 1000)
    assert events.name_of(1) == "du-1/amf"
    assert events.examples(np.array([2, 4])) == ["c", "e"]


def test_entity_index_needs_template_ids() -> None:
    record = LogRecord(datetime(2026, 1, 1, tzinfo=UTC), "x")
    with pytest.raises(InvalidRecordError):
        EntityIndex().events([record])


def test_a_burst_closed_by_tick_keeps_its_entity_name_and_evidence() -> None:
    out = run(BurstDetector(), 29, dict(NORMAL) | {(0, 3, ERROR): 40})
    assert [(a.entity_id, a.ts_ms) for a in out] == [("ran-du-1", 30 * MINUTE)]
    assert len(out[0].evidence["examples"]) == 3


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 20_000), st.integers(0, 2), st.integers(0, 3)),
        min_size=1,
        max_size=80,
    ),
    st.integers(0, 80),
)
def test_splitting_a_stream_into_batches_changes_nothing(
    rows: list[tuple[int, int, int]], cut: int
) -> None:
    rows = sorted(rows)
    ts, ent, tpl = (list(c) for c in zip(*rows, strict=True))
    sev = [3 if t == 0 else 6 for t in tpl]
    events = LogEvents.of(ts, ent, tpl, sev)
    parts = [LogEvents.of(ts[:cut], ent[:cut], tpl[:cut], sev[:cut]),
             LogEvents.of(ts[cut:], ent[cut:], tpl[cut:], sev[cut:])]  # fmt: skip
    window = timedelta(seconds=1)
    for make in (
        lambda: FrequencyShiftDetector(
            FrequencyConfig(window=window, min_windows=1, z_threshold=0.5, min_change=0)
        ),
        lambda: BurstDetector(
            BurstConfig(window=window, min_windows=1, z_threshold=0.5, min_count=1)
        ),
        NoveltyDetector,
    ):
        whole, split = make(), make()
        a = whole.process(events) + whole.tick(30_000)
        b = [x for p in parts for x in split.process(p)] + split.tick(30_000)
        assert [(x.kind, x.entity_id, x.ts_ms, x.template_ids) for x in a] == [
            (x.kind, x.entity_id, x.ts_ms, x.template_ids) for x in b
        ]
        sa, sb = whole.to_state(), split.to_state()
        for name in sa.arrays:
            assert np.allclose(sa.arrays[name], sb.arrays[name])


# -- every registered detector ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(LOG_DETECTORS))
def test_registered_detector_builds_from_its_kind_and_documents_its_weaknesses(kind: str) -> None:
    config = TypeAdapter(LogDetectorConfig).validate_python({"kind": kind})
    det = build(config)
    assert type(det) is LOG_DETECTORS[kind]
    assert det.kind == kind
    assert "Weak at:" in (sys.modules[type(det).__module__].__doc__ or "")


@pytest.mark.parametrize("kind", sorted(LOG_DETECTORS))
def test_registered_detector_leaves_its_input_alone_and_round_trips(kind: str) -> None:
    det = LOG_DETECTORS[kind]()
    rng = np.random.default_rng(0)
    events = window_events(0, NORMAL, rng)
    for arr in (events.ts_ms, events.entity, events.template, events.severity):
        arr.flags.writeable = False
    det.process(events)
    copy = LOG_DETECTORS[kind].from_state(ModelState.from_bytes(det.to_state().to_bytes()))
    later = window_events(1, NORMAL | {(0, 7, ERROR): 50}, rng)
    assert copy.process(later) == det.process(later)
    assert copy.tick(5 * MINUTE) == det.tick(5 * MINUTE)
    assert copy.to_state().params == det.to_state().params
