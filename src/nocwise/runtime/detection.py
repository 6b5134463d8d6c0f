"""Detection stages of the runtime: metric and log anomalies become alarms with evidence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from nocwise.clock import from_ms
from nocwise.detect.logs.anomalies import LogAnomaly, LogAnomalyKind, LogDetector
from nocwise.detect.logs.bursts import BurstDetector
from nocwise.detect.logs.events import EntityIndex, LogEvents
from nocwise.detect.logs.frequency import FrequencyShiftDetector
from nocwise.detect.logs.mentions import MentionIndex
from nocwise.detect.logs.miner import TemplateMiner
from nocwise.detect.logs.novelty import NoveltyConfig, NoveltyDetector
from nocwise.detect.logs.rare import RareTemplateDetector
from nocwise.detect.metrics.anomaly import MetricAnomaly
from nocwise.detect.metrics.capacity import capacity_of
from nocwise.detect.metrics.ensemble import MEMBERS, EnsembleDetector
from nocwise.detect.metrics.episodes import EpisodeTracker
from nocwise.detect.metrics.forecast import BreachConfig, BreachForecaster, FloatArray, IntArray
from nocwise.model import Alarm, Entity, EventType, LogRecord, MetricBatch, Series, Severity
from nocwise.model.errors import InvalidRecordError
from nocwise.model.state import ModelState


def anomaly_alarm(a: MetricAnomaly, series: Series | None) -> Alarm:
    """An X.733 quality-of-service alarm carrying the anomaly's evidence."""
    metric = series.metric if series else f"series-{a.series}"
    entity = (series.entity_id if series else None) or f"series:{a.series}"
    cause = "thresholdCrossed" if a.direction == "above" else "performanceDegraded"
    return Alarm(
        alarm_id=f"nw-metric-{a.series}-{a.ts_ms}",
        managed_object=entity,
        event_type=EventType.QUALITY_OF_SERVICE,
        probable_cause=cause,
        specific_problem=f"{metric} anomalous ({a.direction} expected band)",
        perceived_severity=Severity.MAJOR if a.score >= 0.99 else Severity.MINOR,
        event_time=from_ms(a.ts_ms),
        additional_text=(
            f"{metric} = {a.observed:.4g}, expected {a.lower:.4g} .. {a.upper:.4g} "
            f"(score {a.score:.3f}, {a.detector})"
        ),
        additional_info={
            "metric": metric,
            "observed": f"{a.observed:.6g}",
            "expected_lower": f"{a.lower:.6g}",
            "expected_upper": f"{a.upper:.6g}",
            "score": f"{a.score:.4f}",
            "detector": a.detector,
            "model_version": a.model_version,
            "series_id": str(a.series),
        },
        source="nocwise-detect",
        labels=dict(series.labels) if series else {},
    )


class MetricDetection:
    """Streaming metric anomaly detection over every series, in batches: the calibrated ensemble,
    then episodes (hysteresis and suppression) so one episode raises one alarm; alongside,
    predicted-breach alarms for series with a capacity threshold."""

    def __init__(self, predict: bool = False) -> None:
        self.ensemble = EnsembleDetector()
        self.episodes = EpisodeTracker()
        self.predictive = PredictiveBreach() if predict else None

    def process(self, batch: MetricBatch, series: Mapping[int, Series]) -> list[Alarm]:
        """Score-then-learn the batch; anomalies that start an episode become alarms."""
        if not len(batch):
            return []
        out = self.ensemble.detect(batch, learn=True)
        names = np.array([*MEMBERS, "cold"], dtype=object)
        detector = [str(x) for x in names[out.winner]]
        events = self.episodes.update(
            batch, out.prob, out.lower, out.upper, detector, self.ensemble.config.model_version
        )
        alarms = [anomaly_alarm(a, series.get(a.series)) for a in events.opened]
        if self.predictive is not None:
            alarms += self.predictive.process(batch, series)
        return alarms


_LOG_CAUSE: dict[LogAnomalyKind, tuple[str, EventType, Severity]] = {
    LogAnomalyKind.NEW_TEMPLATE: (
        "unexpectedLogPattern",
        EventType.PROCESSING_ERROR,
        Severity.WARNING,
    ),
    LogAnomalyKind.ERROR_BURST: ("softwareError", EventType.PROCESSING_ERROR, Severity.MAJOR),
    LogAnomalyKind.FREQUENCY_SHIFT: (
        "performanceDegraded",
        EventType.QUALITY_OF_SERVICE,
        Severity.MINOR,
    ),
    LogAnomalyKind.UNEXPECTED_SEQUENCE: (
        "softwareError",
        EventType.PROCESSING_ERROR,
        Severity.MINOR,
    ),
    LogAnomalyKind.RARE_TEMPLATE: (
        "unexpectedLogPattern",
        EventType.PROCESSING_ERROR,
        Severity.MINOR,
    ),
}


def log_alarm(a: LogAnomaly, templates: Mapping[int, str]) -> Alarm:
    """An alarm for a log anomaly, with the template and the detector's evidence."""
    cause, event_type, severity = _LOG_CAUSE[a.kind]
    shown = "; ".join(templates.get(t, str(t)) for t in a.template_ids[:3])
    info = {k: str(v) for k, v in a.evidence.items()}
    info["templates"] = shown[:1000]
    return Alarm(
        alarm_id=f"nw-log-{a.kind.value}-{a.entity_id}-{a.ts_ms}-{a.template_ids[:1]}",
        managed_object=a.entity_id,
        event_type=event_type,
        probable_cause=cause,
        specific_problem=f"log {a.kind.value.replace('_', ' ')}",
        perceived_severity=severity,
        event_time=from_ms(a.ts_ms),
        additional_text=f"{a.kind.value}: {shown}"[:4000],
        additional_info=info,
        source="nocwise-logs",
    )


def base_log_detectors() -> tuple[LogDetector, ...]:
    """New-template, error-burst and frequency-shift detection."""
    return (
        NoveltyDetector(NoveltyConfig(warmup=timedelta(hours=1))),
        BurstDetector(),
        FrequencyShiftDetector(),
    )


def default_log_detectors() -> tuple[LogDetector, ...]:
    """The runtime's log detectors: the base ones, and rare-for-this-entity warnings."""
    return (*base_log_detectors(), RareTemplateDetector())


class LogDetection:
    """Template mining, then log anomaly detection (:func:`default_log_detectors`), in batches.
    Entities are keyed by the record's entity id, else its host.

    Once :meth:`set_entities` has told it the topology, a line that names another known entity
    (a neighbour's "lost adjacency to csr-0053") also goes to the detectors as a line of that
    entity, reported by the one that logged it (see ``detect.logs.mentions``): a router that
    died silently then has its neighbours' lines as evidence."""

    def __init__(self, detectors: Sequence[LogDetector] | None = None) -> None:
        self.miner = TemplateMiner()
        self.entities = EntityIndex()
        self.detectors = tuple(default_log_detectors() if detectors is None else detectors)
        self.mentions = MentionIndex()

    def set_entities(self, entities: Iterable[Entity]) -> None:
        """Learn the names of the topology's entities (replacing what was known)."""
        self.mentions = MentionIndex.of(entities)

    def process(self, records: Sequence[LogRecord]) -> list[Alarm]:
        """Mine templates and turn log anomalies into alarms."""
        if not records:
            return []
        messages = [r.message for r in records]
        ids = self.miner.learn_batch(messages)
        mined = [replace(r, template_id=int(t)) for r, t in zip(records, ids, strict=True)]
        events = self._with_mentions(self.entities.events(mined), messages)
        anomalies = [a for d in self.detectors for a in d.process(events, learn=True)]
        now_ms = int(events.ts_ms.max())
        anomalies += [a for d in self.detectors for a in d.tick(now_ms, learn=True)]
        templates = {
            a.template_ids[0]: self.miner.template(a.template_ids[0])
            for a in anomalies
            if a.template_ids
        }
        return [log_alarm(a, templates) for a in anomalies]

    def _with_mentions(self, events: LogEvents, messages: Sequence[str]) -> LogEvents:
        """``events`` plus a copy of each line that names another known entity, as its line."""
        rows, named = self.mentions.find(messages)
        if not rows.size:
            return events
        emitter = [self.entities.names[e] for e in events.entity[rows].tolist()]
        other = [  # not the line's own entity, by id or by name
            k
            for k, (m, e) in enumerate(zip(named, emitter, strict=True))
            if m != e and m != self.mentions.entity_of(e)
        ]
        about = np.asarray([self.entities.index_of(named[k]) for k in other], np.int64)
        return events.with_reports(rows[np.asarray(other, np.int64)], about)


def _eta_text(eta_s: float) -> str:
    if eta_s >= 2 * 86400:
        return f"{eta_s / 86400:.1f} days"
    if eta_s >= 2 * 3600:
        return f"{eta_s / 3600:.1f} hours"
    return f"{eta_s / 60:.0f} minutes"


def _forecast_alarm(
    series: Series, kind: str, now_ms: int, cause: str, problem: str, severity: Severity,
    text: str, info: dict[str, str],
) -> Alarm:  # fmt: skip
    """A quality-of-service alarm from the forecast on ``series``, with its evidence."""
    base = {"metric": series.metric}
    return Alarm(
        alarm_id=f"nw-{kind}-{series.id}-{now_ms}",
        managed_object=series.entity_id or f"series:{series.id}",
        event_type=EventType.QUALITY_OF_SERVICE,
        probable_cause=cause,
        specific_problem=problem,
        perceived_severity=severity,
        event_time=from_ms(now_ms),
        additional_text=text,
        additional_info=base | info | {"series_id": str(series.id)},
        source="nocwise-forecast",
        labels=dict(series.labels),
    )


def breach_alarm(
    series: Series, now_ms: int, eta_s: float, threshold: float, level: float, version: str
) -> Alarm:
    """An X.733 quality-of-service alarm: the forecast says ``series`` reaches its capacity
    threshold in ``eta_s`` seconds. MAJOR when that is within a few hours, else MINOR."""
    when = from_ms(now_ms + int(eta_s * 1000))
    severity = Severity.MAJOR if eta_s <= PREDICTED_MAJOR_S else Severity.MINOR
    text = (
        f"{series.metric} forecast to pass {threshold:g} in {_eta_text(eta_s)} "
        f"(at {when.isoformat()}; now {level:.4g})"
    )
    info = {
        "eta_s": f"{eta_s:.0f}",
        "predicted_time": when.isoformat(),
        "threshold": f"{threshold:g}",
        "current_value": f"{level:.6g}",
        "model_version": version,
    }
    cause, problem = "thresholdCrossed", "predicted breach"
    return _forecast_alarm(series, "forecast", now_ms, cause, problem, severity, text, info)


PREDICTED_MAJOR_S = 4 * 3600.0


def peak_alarm(
    series: Series, now_ms: int, eta_days: float, threshold: float, slope: float, level: float,
    version: str,
) -> Alarm:  # fmt: skip
    """An X.733 quality-of-service alarm: the trend of the daily peaks of ``series`` passes its
    capacity threshold in ``eta_days`` (capacity planning, MINOR)."""
    eta_s = eta_days * 86400.0
    when = from_ms(now_ms + int(eta_s * 1000))
    text = (
        f"{series.metric} daily peak forecast to pass {threshold:g} in {eta_days:.1f} days "
        f"(around {when.date().isoformat()}; peak now {level:.4g}, {slope:+.3g} per day)"
    )
    info = {
        "eta_s": f"{eta_s:.0f}",
        "eta_days": f"{eta_days:.2f}",
        "predicted_time": when.isoformat(),
        "threshold": f"{threshold:g}",
        "peak_level": f"{level:.6g}",
        "peak_slope_per_day": f"{slope:.6g}",
        "model_version": version,
    }
    cause, problem = "resourceAtOrNearingCapacity", "predicted daily peak breach"
    return _forecast_alarm(
        series, "peak-forecast", now_ms, cause, problem, Severity.MINOR, text, info
    )


class PredictiveBreach:
    """Predicted-breach alarms for series with a capacity threshold: every ``every_s`` of event
    time the breach forecaster re-fits every such series at once; one alarm per series and
    breach episode, escalated to MAJOR when the breach comes within a few hours, cleared when
    the forecast has not breached for ``clear_after`` ticks in a row (one noisy fit does not end
    an episode).

    A prediction is raised only once it has held for ``patience`` times its ETA (at most
    ``max_wait_s``; one tick counts as the tick interval): a disk full in 15 minutes is raised
    at once, a link full in 3 hours after the growth has held for 45 minutes, so a passing
    bump does not raise a far-off breach. Once a day, the trend of each series' daily peaks
    raises a separate MINOR alarm ("predicted daily peak breach", ETA in days, cleared on the
    first day it no longer holds). All per-series state is in arrays (one entry per capacity
    series), so :meth:`to_state` / :meth:`from_state` round-trip it exactly."""

    state_schema = "nocwise.runtime.predictive_breach"
    state_version = 2

    def __init__(
        self,
        config: BreachConfig | None = None,
        every_s: float = 300.0,
        clear_after: int = 3,
        patience: float = 0.25,
        max_wait_s: float = 4 * 3600.0,
    ) -> None:
        self.forecaster = BreachForecaster(config)
        self.every_ms = int(every_s * 1000)
        self.clear_after = clear_after
        self.patience = patience
        self.max_wait_s = max_wait_s
        self.next_ms: int | None = None
        self.peak_day = -1  # the newest day whose daily-peak trend was checked
        self.row_of = np.zeros(0, dtype=np.int64)  # series id -> row, -1: no capacity
        self.series_of: list[Series] = []
        self.rows: dict[str, npt.NDArray[Any]] = {k: np.zeros(0, d) for k, d in _ROW_FIELDS}

    @property
    def threshold(self) -> FloatArray:
        """Capacity threshold per row."""
        return self.rows["threshold"]

    @property
    def horizon_s(self) -> FloatArray:
        """Forecast horizon (s) per row."""
        return self.rows["horizon_s"]

    def _index(self, ids: IntArray, series: Mapping[int, Series]) -> None:
        top = int(ids.max()) + 1
        if top > self.row_of.size:
            self.row_of = np.concatenate(
                [self.row_of, np.full(top - self.row_of.size, -2, dtype=np.int64)]
            )
        unknown = np.unique(ids[self.row_of[ids] == -2])
        added: list[tuple[int, float, float]] = []
        for sid in unknown.tolist():  # once per new series, never per sample
            s = series.get(sid)
            cap = capacity_of(s.metric, s.unit) if s else None
            if s is None or cap is None:
                self.row_of[sid] = -1
                continue
            self.row_of[sid] = len(self.series_of)
            self.series_of.append(s)
            added.append((sid, cap.threshold, cap.horizon.total_seconds()))
        if added:
            fresh: dict[str, npt.NDArray[Any]] = {
                k: np.full(len(added), _EMPTY[k], dtype=d) for k, d in _ROW_FIELDS
            }
            fresh["series_id"][:] = [a[0] for a in added]
            fresh["threshold"][:] = [a[1] for a in added]
            fresh["horizon_s"][:] = [a[2] for a in added]
            self.rows = {k: np.concatenate([self.rows[k], fresh[k]]) for k in self.rows}

    def process(self, batch: MetricBatch, series: Mapping[int, Series]) -> list[Alarm]:
        """Buffer the batch; on each forecast tick, raise and clear predicted-breach alarms."""
        if not len(batch):
            return []
        self._index(batch.series, series)
        rows = self.row_of[batch.series]
        keep = rows >= 0
        self.forecaster.add(rows[keep], batch.ts_ms[keep], batch.values[keep])
        now_ms = int(batch.ts_ms.max())
        if self.next_ms is None:
            self.next_ms = now_ms + self.every_ms
        if now_ms < self.next_ms or not self.series_of:
            return []
        self.next_ms = now_ms + self.every_ms
        return self.tick(now_ms)

    def _alarm(self, row: int) -> Alarm:
        """The open alarm of ``row`` as last raised or escalated, rebuilt from the row arrays."""
        r = self.rows
        a = breach_alarm(
            self.series_of[row], int(r["built_ms"][row]), float(r["eta_s"][row]),
            float(r["threshold"][row]), float(r["level"][row]),
            self.forecaster.config.model_version,
        )  # fmt: skip
        if r["changed_ms"][row] < 0:
            return a
        opened = int(r["open_ms"][row])
        return replace(
            a,
            alarm_id=f"nw-forecast-{self.series_of[row].id}-{opened}",
            event_time=from_ms(opened),
            changed_time=from_ms(int(r["changed_ms"][row])),
        )

    def tick(self, now_ms: int) -> list[Alarm]:
        """Forecast every buffered series now; new breach episodes open, ended ones clear."""
        n = self.forecaster.rows
        r = {k: v[:n] for k, v in self.rows.items()}
        eta, level = self.forecaster.eta(now_ms, r["threshold"], r["horizon_s"])
        breach = np.isfinite(eta)
        is_open = r["open_ms"] >= 0
        r["streak"][:] = np.where(breach & (eta > 0), r["streak"] + 1, 0)
        held_s = r["streak"] * (self.every_ms / 1000.0)
        confirmed = held_s >= np.minimum(self.patience * eta, self.max_wait_s)
        raise_ = breach & ~is_open & (eta > 0) & confirmed
        escalate = is_open & breach & (r["major"] == 0) & (eta > 0) & (eta <= PREDICTED_MAJOR_S)
        for key, mask in (("open_ms", raise_), ("changed_ms", escalate)):
            r[key][mask] = now_ms
        both = raise_ | escalate
        r["built_ms"][both] = now_ms
        r["eta_s"][both] = eta[both]
        r["level"][both] = level[both]
        r["major"][both] = eta[both] <= PREDICTED_MAJOR_S
        r["misses"][:] = np.where(is_open & ~breach, r["misses"] + 1, 0)
        out = [self._alarm(row) for row in np.flatnonzero(both).tolist()]
        t = from_ms(now_ms)
        for row in np.flatnonzero(is_open & (r["misses"] >= self.clear_after)).tolist():
            a = self._alarm(row)
            out.append(
                replace(a, perceived_severity=Severity.CLEARED, cleared_time=t, changed_time=t)
            )
            for key in ("open_ms", "changed_ms", "built_ms"):
                r[key][row] = -1
            r["misses"][row] = 0
        if self.forecaster.days_done != self.peak_day:
            self.peak_day = self.forecaster.days_done
            out += self._peak_tick(now_ms, r)
        return out

    def _peak_tick(self, now_ms: int, r: dict[str, npt.NDArray[Any]]) -> list[Alarm]:
        """Once a day: the daily-peak trend raises (one alarm per episode) and clears."""
        eta_d, slope, level = self.forecaster.peak_eta(r["threshold"])
        found = np.isfinite(eta_d)
        is_open = r["peak_open_ms"] >= 0
        version = self.forecaster.config.model_version
        out = []
        for row in np.flatnonzero(found & ~is_open).tolist():
            r["peak_open_ms"][row] = now_ms
            s = self.series_of[row]
            thr = float(r["threshold"][row])
            a = peak_alarm(s, now_ms, eta_d[row], thr, slope[row], level[row], version)
            out.append(a)
        t = from_ms(now_ms)
        for row in np.flatnonzero(is_open & ~found).tolist():
            opened = int(r["peak_open_ms"][row])
            s = self.series_of[row]
            a = peak_alarm(s, opened, 0.0, float(r["threshold"][row]), 0.0, 0.0, version)
            out.append(
                replace(
                    a, perceived_severity=Severity.CLEARED, cleared_time=t, changed_time=t,
                    additional_text=f"{s.metric} daily peak no longer forecast to pass "
                    f"{r['threshold'][row]:g}",
                    additional_info={"series_id": str(s.id), "model_version": version},
                )
            )  # fmt: skip
            r["peak_open_ms"][row] = -1
        return out

    def to_state(self) -> ModelState:
        """Settings, the forecaster's buffers and the per-row episode arrays."""
        f = self.forecaster.to_state()
        arrays = {k: v.copy() for k, v in f.prefixed_arrays("forecaster.").items()}
        arrays |= {f"row.{k}": v.copy() for k, v in self.rows.items()}
        arrays["row_of"] = self.row_of.copy()
        return ModelState(
            self.state_schema,
            self.state_version,
            {
                "every_s": self.every_ms / 1000.0,
                "clear_after": self.clear_after,
                "patience": self.patience,
                "max_wait_s": self.max_wait_s,
                "next_ms": self.next_ms,
                "peak_day": self.peak_day,
                "forecaster": f.header(),
            },
            arrays,
        )

    @classmethod
    def from_state(cls, state: ModelState, series: Mapping[int, Series]) -> Self:
        """Rebuild from :meth:`to_state`; ``series`` must know every capacity series in it."""
        state.expect(cls.state_schema, cls.state_version)
        p = state.params
        stage = cls(
            every_s=float(p["every_s"]),
            clear_after=int(p["clear_after"]),
            patience=float(p["patience"]),
            max_wait_s=float(p["max_wait_s"]),
        )
        f_state = ModelState.nested(p["forecaster"], state.arrays, "forecaster.")
        stage.forecaster = BreachForecaster.from_state(f_state)
        stage.next_ms = None if p["next_ms"] is None else int(p["next_ms"])
        stage.peak_day = int(p["peak_day"])
        stage.row_of = np.asarray(state.arrays["row_of"], dtype=np.int64)
        stage.rows = {k: np.asarray(state.arrays[f"row.{k}"], dtype=d) for k, d in _ROW_FIELDS}
        missing = [i for i in stage.rows["series_id"].tolist() if i not in series]
        if missing:
            raise InvalidRecordError(f"predictive state names unknown series {missing[:5]}")
        stage.series_of = [series[i] for i in stage.rows["series_id"].tolist()]
        return stage


# Per-row arrays of PredictiveBreach: capacity rule, and the open episode (-1: none).
_ROW_FIELDS: tuple[tuple[str, type], ...] = (
    ("series_id", np.int64),
    ("threshold", np.float64),
    ("horizon_s", np.float64),
    ("streak", np.int64),
    ("misses", np.int64),
    ("open_ms", np.int64),
    ("changed_ms", np.int64),
    ("built_ms", np.int64),
    ("eta_s", np.float64),
    ("level", np.float64),
    ("major", np.int64),
    ("peak_open_ms", np.int64),
)
_UNSET = ("open_ms", "changed_ms", "built_ms", "peak_open_ms")
_EMPTY = {k: -1 if k in _UNSET else 0 for k, _ in _ROW_FIELDS}
