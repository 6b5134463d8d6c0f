"""Detection stages of the runtime: metric and log anomalies become alarms with evidence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta

import numpy as np

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
from nocwise.detect.metrics.forecast import BreachConfig, BreachForecaster, IntArray
from nocwise.model import Alarm, Entity, EventType, LogRecord, MetricBatch, Series, Severity


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


def breach_alarm(
    series: Series, now_ms: int, eta_s: float, threshold: float, level: float, version: str
) -> Alarm:
    """An X.733 quality-of-service alarm: the forecast says ``series`` reaches its capacity
    threshold in ``eta_s`` seconds. MAJOR when that is within a few hours, else MINOR."""
    entity = series.entity_id or f"series:{series.id}"
    when = from_ms(now_ms + int(eta_s * 1000))
    severity = Severity.MAJOR if eta_s <= PREDICTED_MAJOR_S else Severity.MINOR
    return Alarm(
        alarm_id=f"nw-forecast-{series.id}-{now_ms}",
        managed_object=entity,
        event_type=EventType.QUALITY_OF_SERVICE,
        probable_cause="thresholdCrossed",
        specific_problem="predicted breach",
        perceived_severity=severity,
        event_time=from_ms(now_ms),
        additional_text=(
            f"{series.metric} forecast to pass {threshold:g} in {_eta_text(eta_s)} "
            f"(at {when.isoformat()}; now {level:.4g})"
        ),
        additional_info={
            "metric": series.metric,
            "eta_s": f"{eta_s:.0f}",
            "predicted_time": when.isoformat(),
            "threshold": f"{threshold:g}",
            "current_value": f"{level:.6g}",
            "model_version": version,
            "series_id": str(series.id),
        },
        source="nocwise-forecast",
        labels=dict(series.labels),
    )


PREDICTED_MAJOR_S = 4 * 3600.0


class PredictiveBreach:
    """Predicted-breach alarms for series with a capacity threshold: every ``every_s`` of event
    time the breach forecaster re-fits every such series at once; one alarm per series and
    breach episode, escalated to MAJOR when the breach comes within a few hours, cleared when
    the forecast has not breached for ``clear_after`` ticks in a
    row (one noisy fit does not end an episode)."""

    def __init__(
        self, config: BreachConfig | None = None, every_s: float = 300.0, clear_after: int = 3
    ) -> None:
        self.forecaster = BreachForecaster(config)
        self.every_ms = int(every_s * 1000)
        self.row_of = np.zeros(0, dtype=np.int64)  # series id -> row, -1: no capacity
        self.series_of: list[Series] = []
        self.threshold = np.zeros(0)
        self.horizon_s = np.zeros(0)
        self.open: dict[int, Alarm] = {}
        self.misses: dict[int, int] = {}
        self.clear_after = clear_after
        self.next_ms: int | None = None

    def _index(self, ids: IntArray, series: Mapping[int, Series]) -> None:
        top = int(ids.max()) + 1
        if top > self.row_of.size:
            self.row_of = np.concatenate(
                [self.row_of, np.full(top - self.row_of.size, -2, dtype=np.int64)]
            )
        unknown = np.unique(ids[self.row_of[ids] == -2])
        for sid in unknown.tolist():  # once per new series, never per sample
            s = series.get(sid)
            cap = capacity_of(s.metric, s.unit) if s else None
            if s is None or cap is None:
                self.row_of[sid] = -1
                continue
            self.row_of[sid] = len(self.series_of)
            self.series_of.append(s)
            self.threshold = np.append(self.threshold, cap.threshold)
            self.horizon_s = np.append(self.horizon_s, cap.horizon.total_seconds())

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

    def tick(self, now_ms: int) -> list[Alarm]:
        """Forecast every buffered series now; new breach episodes open, ended ones clear."""
        n = self.forecaster.rows
        eta, level = self.forecaster.eta(now_ms, self.threshold[:n], self.horizon_s[:n])
        breach = np.isfinite(eta)
        is_open = np.zeros(n, dtype=bool)
        is_open[list(self.open)] = True
        version = self.forecaster.config.model_version
        out: list[Alarm] = []
        for row in np.flatnonzero(breach & ~is_open & (eta > 0)).tolist():
            a = breach_alarm(
                self.series_of[row], now_ms, float(eta[row]), float(self.threshold[row]),
                float(level[row]), version,
            )  # fmt: skip
            self.open[row] = a
            out.append(a)
        for row in np.flatnonzero(is_open & breach).tolist():
            self.misses.pop(row, None)
            a = self.open[row]
            if a.perceived_severity == Severity.MINOR and 0 < eta[row] <= PREDICTED_MAJOR_S:
                b = breach_alarm(
                    self.series_of[row], now_ms, float(eta[row]), float(self.threshold[row]),
                    float(level[row]), version,
                )  # fmt: skip
                t = from_ms(now_ms)
                self.open[row] = replace(
                    b, alarm_id=a.alarm_id, event_time=a.event_time, changed_time=t
                )
                out.append(self.open[row])
        for row in np.flatnonzero(is_open & ~breach).tolist():
            self.misses[row] = self.misses.get(row, 0) + 1
            if self.misses[row] < self.clear_after:
                continue
            del self.misses[row]
            a = self.open.pop(row)
            t = from_ms(now_ms)
            out.append(
                replace(a, perceived_severity=Severity.CLEARED, cleared_time=t, changed_time=t)
            )
        return out
