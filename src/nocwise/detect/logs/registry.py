"""Log anomaly detectors by ``kind``: the config's ``kind`` picks the class.

>>> det = build(BurstConfig(min_count=20))
>>> det.kind, det.config.min_count
('error_burst', 20)
>>> sorted(LOG_DETECTORS)
['error_burst', 'frequency_shift', 'new_template', 'rare_template', 'sequence']
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from nocwise.detect.logs.anomalies import LogDetector
from nocwise.detect.logs.bursts import BurstConfig, BurstDetector
from nocwise.detect.logs.frequency import FrequencyConfig, FrequencyShiftDetector
from nocwise.detect.logs.novelty import NoveltyConfig, NoveltyDetector
from nocwise.detect.logs.rare import RareConfig, RareTemplateDetector
from nocwise.detect.logs.sequence import SequenceConfig, SequenceDetector

LogDetectorConfig = Annotated[
    NoveltyConfig | FrequencyConfig | BurstConfig | RareConfig | SequenceConfig,
    Field(discriminator="kind"),
]

LOG_DETECTORS: dict[str, type[LogDetector]] = {
    NoveltyDetector.kind: NoveltyDetector,
    FrequencyShiftDetector.kind: FrequencyShiftDetector,
    BurstDetector.kind: BurstDetector,
    RareTemplateDetector.kind: RareTemplateDetector,
    SequenceDetector.kind: SequenceDetector,
}


def build(config: LogDetectorConfig) -> LogDetector:
    """A fresh detector for ``config``."""
    if isinstance(config, NoveltyConfig):
        return NoveltyDetector(config)
    if isinstance(config, FrequencyConfig):
        return FrequencyShiftDetector(config)
    if isinstance(config, BurstConfig):
        return BurstDetector(config)
    if isinstance(config, RareConfig):
        return RareTemplateDetector(config)
    return SequenceDetector(config)
