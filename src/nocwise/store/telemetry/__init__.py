"""Telemetry store: metric samples and log lines in DuckDB (columnar, embedded)."""

from nocwise.store.telemetry.duck import TelemetryStore

__all__ = ["TelemetryStore"]
