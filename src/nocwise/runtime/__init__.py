"""Wiring: stores, bus and pipeline stages built from the config, in one process by default."""
