"""The evidence a metric anomaly carries to the alarm pipeline."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MetricAnomaly:
    """One anomalous episode of one series, as first raised.

    The pipeline turns it into an X.733 ``qualityOfServiceAlarm`` (``thresholdCrossed``):
    ``observed`` against the ``[lower, upper]`` band the model expected, the calibrated
    ``score`` in [0, 1], the ``detector`` that contributed most and the ``model_version`` that
    produced it, so an operator can see why it fired and which model to blame.
    """

    series: int
    ts_ms: int
    observed: float
    lower: float
    upper: float
    score: float
    detector: str
    model_version: str

    @property
    def direction(self) -> str:
        """``above``, ``below`` or ``inside`` the expected band."""
        if self.observed > self.upper:
            return "above"
        if self.observed < self.lower:
            return "below"
        return "inside"
