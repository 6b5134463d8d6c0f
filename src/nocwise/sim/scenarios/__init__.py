"""Packaged scenario files (YAML)."""
