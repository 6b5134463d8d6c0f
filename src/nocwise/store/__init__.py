"""Stores: state (SQL: alarms, incidents, topology, tokens, audit) and telemetry (DuckDB)."""
