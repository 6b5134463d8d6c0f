"""One config for the whole correlation chain: a sub-config per stage, with working defaults."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from nocwise.correlate.dedup import DedupConfig
from nocwise.correlate.flapping import FlappingConfig
from nocwise.correlate.group import GroupConfig
from nocwise.correlate.impact import ImpactConfig
from nocwise.correlate.lifecycle import LifecycleConfig
from nocwise.correlate.mute import MuteConfig
from nocwise.correlate.noise import NoiseConfig
from nocwise.correlate.suppress import SuppressConfig


class CorrelateConfig(BaseModel):
    """``correlate:`` in the YAML file.

    >>> CorrelateConfig().group.max_hops
    3
    >>> CorrelateConfig.model_validate({"flapping": {"max_transitions": 4}}).flapping.max_transitions
    4
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    lifecycle: LifecycleConfig = LifecycleConfig()
    dedup: DedupConfig = DedupConfig()
    flapping: FlappingConfig = FlappingConfig()
    mute: MuteConfig = MuteConfig()
    suppress: SuppressConfig = SuppressConfig()
    noise: NoiseConfig = NoiseConfig()
    group: GroupConfig = GroupConfig()
    impact: ImpactConfig = ImpactConfig()
    max_decisions_per_alarm: int = 32
