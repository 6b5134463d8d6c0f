"""Remediation: recommendations learned from ticket history and runbooks; guarded actions."""
