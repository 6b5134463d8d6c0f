"""Detection stages of the runtime: metric and log anomalies become alarms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nocwise.model import Alarm, LogRecord, MetricBatch, Series


class MetricDetection:
    """Streaming metric anomaly detection over every series, in batches."""

    def process(self, batch: MetricBatch, series: Mapping[int, Series]) -> list[Alarm]:
        """Score-then-learn the batch; anomalies that start an episode become alarms."""
        del batch, series
        return []


class LogDetection:
    """Template mining and log anomaly detection, in batches."""

    def process(self, records: Sequence[LogRecord]) -> list[Alarm]:
        """Mine templates and turn log anomalies into alarms."""
        del records
        return []
