"""Detection: metrics, logs and traces -> anomalies with evidence."""
