"""Rare-for-this-entity detector: rare warnings, episodes, history, decay, batching and state."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from nocwise.detect.logs.anomalies import LogAnomalyKind
from nocwise.detect.logs.events import LogEvents
from nocwise.detect.logs.rare import RareConfig, RareTemplateDetector
from nocwise.model.errors import InvalidRecordError
from nocwise.model.logs import LogRecord
from nocwise.model.state import ModelState
from nocwise.runtime.detection import LogDetection

MINUTE = 60_000
HOUR = 60 * MINUTE
WARN, ERR, INFO = 4, 3, 6
NAMES = ["csr-1", "agg-1", "csr-2"]
LINK_DOWN, TRAP, ADJ_DOWN, NTP, LOGIN = 10, 11, 12, 13, 14


def events(rows: list[tuple[int, int, int, int]]) -> LogEvents:
    """(ts_ms, entity, template, severity) rows, with names and messages."""
    ts, ent, tpl, sev = (list(c) for c in zip(*rows, strict=True)) if rows else ([], [], [], [])
    msgs = [f"entity {e} template {t}" for _, e, t, _ in rows]
    return LogEvents.of(ts, ent, tpl, sev, entity_names=NAMES, messages=msgs)


def history(hours: int = 3) -> LogEvents:
    """Quiet routine: every entity logs logins hourly; agg-1 flaps a port every hour."""
    rows = []
    for h in range(hours):
        rows += [(h * HOUR + e * 1000, e, LOGIN, INFO) for e in range(3)]
        rows += [(h * HOUR + 5000, 1, LINK_DOWN, ERR), (h * HOUR + 6000, 1, TRAP, WARN)]
    return events(sorted(rows))


def cut(at: int, entity: int) -> list[tuple[int, int, int, int]]:
    """A link going down seen from one router: three lines within seconds."""
    return [(at, entity, LINK_DOWN, ERR), (at + 200, entity, TRAP, WARN),
            (at + 2000, entity, ADJ_DOWN, WARN)]  # fmt: skip


def test_a_quiet_router_logging_a_link_down_fires_once_with_evidence() -> None:
    det = RareTemplateDetector()
    assert det.process(history()) == []
    out = det.process(events(cut(3 * HOUR + 10 * MINUTE, 0)))
    assert [(a.kind, a.entity_id, a.ts_ms) for a in out] == [
        (LogAnomalyKind.RARE_TEMPLATE, "csr-1", 3 * HOUR + 10 * MINUTE + 200)
    ]
    assert out[0].template_ids == (LINK_DOWN, TRAP, ADJ_DOWN)
    assert out[0].evidence["lines"] == 3
    assert out[0].evidence["examples"][0] == f"entity 0 template {LINK_DOWN}"


def test_templates_routine_for_the_entity_are_not_rare_there() -> None:
    det = RareTemplateDetector()
    det.process(history())
    flap = [
        (3 * HOUR + 10 * MINUTE, 1, LINK_DOWN, ERR),
        (3 * HOUR + 10 * MINUTE + 200, 1, TRAP, WARN),
    ]
    assert det.process(events(flap)) == []  # agg-1 flaps every hour
    same_on_csr = [(t, 0, tpl, s) for t, _, tpl, s in flap]
    assert [a.entity_id for a in det.process(events(same_on_csr))] == ["csr-1"]


def test_one_isolated_rare_line_or_info_lines_do_not_fire() -> None:
    det = RareTemplateDetector()
    det.process(history())
    at = 3 * HOUR + 10 * MINUTE
    assert det.process(events([(at, 0, NTP, WARN)])) == []
    assert (
        det.process(events([(at + 20 * MINUTE, 0, 20, INFO), (at + 20 * MINUTE + 1, 0, 21, INFO)]))
        == []
    )
    assert det.process(events([(at + 40 * MINUTE, 2, NTP, WARN)])) == []


def test_lines_further_apart_than_the_episode_gap_are_separate_episodes() -> None:
    det = RareTemplateDetector(RareConfig(episode_gap=timedelta(minutes=5)))
    det.process(history())
    at = 3 * HOUR + 10 * MINUTE
    assert det.process(events([(at, 0, 30, WARN), (at + 6 * MINUTE, 0, 31, WARN)])) == []
    out = det.process(events([(at + 8 * MINUTE, 0, 32, WARN), (at + 30 * MINUTE, 0, 33, WARN),
                              (at + 31 * MINUTE, 0, 34, WARN)]))  # fmt: skip
    assert [a.ts_ms for a in out] == [at + 8 * MINUTE, at + 31 * MINUTE]


def test_young_entities_are_held_back() -> None:
    det = RareTemplateDetector(RareConfig(min_history=timedelta(hours=1)))
    assert det.process(events(cut(10 * MINUTE, 0))) == []
    assert [a.entity_id for a in det.process(events(cut(2 * HOUR, 2)))] == []  # csr-2 is new
    assert [a.entity_id for a in det.process(events(cut(2 * HOUR + 10 * MINUTE, 0)))] == []
    det2 = RareTemplateDetector(RareConfig(min_history=timedelta(hours=1)))
    det2.process(events([(0, 0, LOGIN, INFO)]))
    assert [a.entity_id for a in det2.process(events(cut(2 * HOUR, 0)))] == ["csr-1"]


def test_counts_decay_so_an_old_template_becomes_rare_again() -> None:
    det = RareTemplateDetector(RareConfig(half_life=timedelta(hours=1)))
    det.process(history(1))
    det.process(events(cut(HOUR, 0)))  # learnt: one line each
    assert det.process(events(cut(HOUR + 30 * MINUTE, 0))) == []
    assert [a.entity_id for a in det.process(events(cut(6 * HOUR, 0)))] == ["csr-1"]


def test_splitting_a_stream_into_batches_changes_nothing() -> None:
    base = history(3)
    stream = [(int(t), int(e), int(p), int(s)) for t, e, p, s in
              zip(base.ts_ms, base.entity, base.template, base.severity, strict=True)]  # fmt: skip
    stream += cut(3 * HOUR + 10 * MINUTE, 0) + cut(3 * HOUR + 11 * MINUTE, 2)
    stream += [
        (3 * HOUR + 12 * MINUTE, 0, 40, ERR),
        (4 * HOUR, 2, 41, ERR),
        (4 * HOUR + 1, 2, 42, ERR),
    ]
    stream.sort()
    whole = RareTemplateDetector()
    expect = [(a.entity_id, a.ts_ms, a.template_ids) for a in whole.process(events(stream))]
    assert expect
    for cut_at in range(0, len(stream), 3):
        split = RareTemplateDetector()
        got = split.process(events(stream[:cut_at])) + split.process(events(stream[cut_at:]))
        assert [(a.entity_id, a.ts_ms, a.template_ids[:1]) for a in got] == [
            (e, t, tpl[:1]) for e, t, tpl in expect
        ]
        sa, sb = whole.to_state(), split.to_state()
        for name in sa.arrays:
            assert np.allclose(sa.arrays[name], sb.arrays[name])


def test_state_round_trips_and_input_is_left_alone() -> None:
    det = RareTemplateDetector()
    first = history()
    for arr in (first.ts_ms, first.entity, first.template, first.severity):
        arr.flags.writeable = False
    det.process(first)
    copy = RareTemplateDetector.from_state(ModelState.from_bytes(det.to_state().to_bytes()))
    later = events(cut(3 * HOUR + 10 * MINUTE, 0)[:1])
    assert copy.process(later) == det.process(later)  # the episode's first line: nothing yet
    rest = events(cut(3 * HOUR + 10 * MINUTE, 0)[1:])
    assert copy.process(rest) == det.process(rest) != []
    assert copy.to_state().params == det.to_state().params


def test_without_learning_the_state_is_unchanged() -> None:
    det = RareTemplateDetector()
    det.process(history())
    before = det.to_state()
    batch = events(cut(3 * HOUR + 10 * MINUTE, 0))
    assert det.process(batch, learn=False) == det.process(batch, learn=False) != []
    after = det.to_state()
    for name in before.arrays:
        assert np.array_equal(before.arrays[name], after.arrays[name])


def test_bad_input_and_wrong_state_are_refused() -> None:
    det = RareTemplateDetector()
    assert det.process(LogEvents.empty()) == []
    assert det.tick(HOUR) == []
    with pytest.raises(InvalidRecordError):
        det.process(LogEvents.of([0], [0], [1 << 40], [3]))
    with pytest.raises(InvalidRecordError, match="expected"):
        RareTemplateDetector.from_state(ModelState("nocwise.detect.logs.novelty", 1))


def test_the_runtime_log_detection_turns_rare_episodes_into_alarms() -> None:
    t0 = datetime(2026, 1, 5, tzinfo=UTC)

    def line(minutes: float, host: str, msg: str, sev: int) -> LogRecord:
        return LogRecord(ts=t0 + timedelta(minutes=minutes), message=msg, severity=sev,
                         entity_id=host, host=host)  # fmt: skip

    det = LogDetection()
    assert any(isinstance(d, RareTemplateDetector) for d in det.detectors)
    routine = [line(m, h, f"user admin logged in from 10.0.0.{m % 7}", INFO)
               for m in range(0, 180, 10) for h in ("csr-1", "agg-1")]  # fmt: skip
    routine += [line(m + 1, "agg-1", "Interface Te0/0/0/3 changed state to Down", ERR)
                for m in range(0, 180, 10)]  # fmt: skip
    assert not [a for a in det.process(routine) if a.specific_problem == "log rare template"]
    fault = [line(200, "csr-1", "Interface Te0/0/0/1 changed state to Down", ERR),
             line(200.01, "csr-1", "ISIS adjacency to agg-1 on Te0/0/0/1 Down", WARN)]  # fmt: skip
    rare = [a for a in det.process(fault) if a.specific_problem == "log rare template"]
    assert [a.managed_object for a in rare] == ["csr-1"]
    assert rare[0].probable_cause == "unexpectedLogPattern"


def reported(rows: list[tuple[int, int, int, int, int]]) -> LogEvents:
    """(ts_ms, entity, template, severity, reporter) rows; reporter -1: the entity's own line."""
    ev = events([r[:4] for r in rows])
    return replace(ev, reporter=np.asarray([r[4] for r in rows], np.int64))


def test_lines_about_an_entity_are_rare_per_reporter_and_name_their_reporters() -> None:
    det = RareTemplateDetector()
    det.process(history())
    at = 3 * HOUR + 10 * MINUTE
    one = [(at, 0, ADJ_DOWN, WARN, 1)]  # agg-1 reports csr-1: one rare line, no episode yet
    assert det.process(reported(one)) == []
    out = det.process(reported([(at + 2000, 0, ADJ_DOWN, WARN, 2)]))  # csr-2 reports it too
    assert [(a.entity_id, a.score) for a in out] == [("csr-1", 2.0)]  # its second line
    assert out[0].evidence["reported_by"] == ["csr-2"]  # this batch's lines of the episode
    again = [(at + HOUR + t, 0, ADJ_DOWN, WARN, 1) for t in (0, 1000)]
    assert det.process(reported(again)) == []  # agg-1 has named csr-1 so lately: routine
    own = det.process(reported([(at + 3 * HOUR, 0, ADJ_DOWN, WARN, -1),
                                (at + 3 * HOUR + 1, 0, LINK_DOWN, ERR, -1)]))  # fmt: skip
    assert [a.entity_id for a in own] == ["csr-1"]  # the reports are not csr-1's own lines
    assert "reported_by" not in own[0].evidence


def test_a_reported_line_is_held_back_only_while_entity_and_reporter_are_both_young() -> None:
    det = RareTemplateDetector(RareConfig(min_history=timedelta(hours=1)))
    det.process(events([(0, 1, LOGIN, INFO)]))  # agg-1 logs from the start; csr-2 never does
    late = [(2 * HOUR, 2, ADJ_DOWN, WARN, 1), (2 * HOUR + 1, 2, TRAP, WARN, 1)]
    assert [a.entity_id for a in det.process(reported(late))] == ["csr-2"]
    young = RareTemplateDetector(RareConfig(min_history=timedelta(hours=1)))
    young.process(events([(0, 0, LOGIN, INFO)]))
    early = [(HOUR // 2, 2, ADJ_DOWN, WARN, 1), (HOUR // 2 + 1, 2, TRAP, WARN, 1)]
    assert young.process(reported(early)) == []


def test_a_reporter_never_seen_itself_counts_as_young() -> None:
    det = RareTemplateDetector(RareConfig(min_history=timedelta(hours=1)))
    late = [(2 * HOUR, 0, ADJ_DOWN, WARN, 7), (2 * HOUR + 1, 0, TRAP, WARN, 7)]
    assert det.process(reported(late)) == []
