"""Alarm correlation: lifecycle, dedup, flapping, mute, suppress, group, noise, impact."""
