"""Detection stages of the runtime: metric and log anomalies become alarms with evidence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta

import numpy as np

from nocwise.clock import from_ms
from nocwise.detect.logs.anomalies import LogAnomaly, LogAnomalyKind
from nocwise.detect.logs.bursts import BurstDetector
from nocwise.detect.logs.events import EntityIndex
from nocwise.detect.logs.frequency import FrequencyShiftDetector
from nocwise.detect.logs.miner import TemplateMiner
from nocwise.detect.logs.novelty import NoveltyConfig, NoveltyDetector
from nocwise.detect.metrics.anomaly import MetricAnomaly
from nocwise.detect.metrics.ensemble import MEMBERS, EnsembleDetector
from nocwise.detect.metrics.episodes import EpisodeTracker
from nocwise.model import Alarm, EventType, LogRecord, MetricBatch, Series, Severity


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
    then episodes (hysteresis and suppression) so one episode raises one alarm."""

    def __init__(self) -> None:
        self.ensemble = EnsembleDetector()
        self.episodes = EpisodeTracker()

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
        return [anomaly_alarm(a, series.get(a.series)) for a in events.opened]


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


class LogDetection:
    """Template mining, then new-template, error-burst and frequency-shift detection, in batches.
    Entities are keyed by the record's entity id, else its host."""

    def __init__(self) -> None:
        self.miner = TemplateMiner()
        self.entities = EntityIndex()
        self.detectors = (
            NoveltyDetector(NoveltyConfig(warmup=timedelta(hours=1))),
            BurstDetector(),
            FrequencyShiftDetector(),
        )

    def process(self, records: Sequence[LogRecord]) -> list[Alarm]:
        """Mine templates and turn log anomalies into alarms."""
        if not records:
            return []
        ids = self.miner.learn_batch([r.message for r in records])
        mined = [replace(r, template_id=int(t)) for r, t in zip(records, ids, strict=True)]
        events = self.entities.events(mined)
        anomalies = [a for d in self.detectors for a in d.process(events, learn=True)]
        now_ms = int(events.ts_ms.max())
        anomalies += [a for d in self.detectors for a in d.tick(now_ms, learn=True)]
        templates = {
            a.template_ids[0]: self.miner.template(a.template_ids[0])
            for a in anomalies
            if a.template_ids
        }
        return [log_alarm(a, templates) for a in anomalies]
