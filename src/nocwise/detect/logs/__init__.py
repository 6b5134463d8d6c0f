"""Log intelligence: header parsing, masking, online template mining, log anomalies."""
