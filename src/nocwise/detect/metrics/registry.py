"""Metric detector kinds -> classes. Registering a class puts it under the conformance suite."""

from __future__ import annotations

from typing import Any

from nocwise.detect.metrics.ensemble import EnsembleDetector
from nocwise.detect.metrics.level_shift import LevelShiftDetector
from nocwise.detect.metrics.novelty import NoveltyDetector
from nocwise.detect.metrics.seasonal import SeasonalDetector
from nocwise.detect.metrics.spike import SpikeDetector
from nocwise.detect.metrics.trend import TrendDetector

DETECTORS: dict[str, type[Any]] = {
    cls.kind: cls
    for cls in (
        SpikeDetector,
        LevelShiftDetector,
        SeasonalDetector,
        TrendDetector,
        NoveltyDetector,
        EnsembleDetector,
    )
}
