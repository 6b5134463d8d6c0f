"""Vectorised, unsupervised metric anomaly detection and forecasting."""
