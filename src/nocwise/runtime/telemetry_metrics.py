"""nocwise's own Prometheus metrics (served at /metrics): one registry per runtime."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class OwnMetrics:
    """Counters of the funnel and of the ingest edge."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "nocwise_ingest_records_total",
            "Records accepted at the edge",
            ["source", "kind"],
            registry=r,
        )
        self.rejected = Counter(
            "nocwise_api_rejected_total",
            "Records rejected at the edge",
            ["source", "reason"],
            registry=r,
        )
        self.alarms_processed = Counter(
            "nocwise_correlate_alarms_total", "Alarm notifications through correlation", registry=r
        )
        self.incidents_open = Gauge("nocwise_incidents_open", "Open incidents", registry=r)
        self.alarms_active = Gauge("nocwise_alarms_active", "Active (uncleared) alarms", registry=r)
        self.funnel = Gauge(
            "nocwise_funnel", "Funnel: events -> alarms -> incidents", ["stage"], registry=r
        )
        self.stage_seconds = Histogram(
            "nocwise_stage_seconds", "Time per batch in a pipeline stage", ["stage"], registry=r
        )
        self.queue_depth = Gauge(
            "nocwise_bus_depth", "Items waiting per topic", ["topic"], registry=r
        )
        self.anomalies = Counter(
            "nocwise_anomalies_total", "Anomalies raised as alarms", ["detector"], registry=r
        )
