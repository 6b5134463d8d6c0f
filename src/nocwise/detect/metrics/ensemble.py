"""The metric ensemble: every univariate detector, calibrated per series, in one probability.

Each member scores every sample (one compiled pass each over the batch); :mod:`calibrate`
turns their robust z into one probability per sample and names the member that contributed
most. The expected band for the evidence comes from the seasonal profile where it is warm,
else from the long spike baseline. Thresholding and episodes live outside (see
:mod:`episodes`), as in Merlion's calibrator / alarm split.

Weak at: anything no member sees (see each member's "Weak at"), and the first samples of a
series, which are NaN until at least one member is warm and its record has been seen
``min_seen`` times, and are then tempered by the age confidence of :mod:`calibrate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from nocwise.detect.metrics.arrays import ArrayDetector, FloatArray
from nocwise.detect.metrics.calibrate import calibrate_kernel
from nocwise.detect.metrics.episodes import EpisodeEvents, EpisodeTracker
from nocwise.detect.metrics.level_shift import LevelShiftConfig, LevelShiftDetector
from nocwise.detect.metrics.novelty import NoveltyConfig, NoveltyDetector
from nocwise.detect.metrics.seasonal import SeasonalConfig, SeasonalDetector
from nocwise.detect.metrics.spike import SpikeConfig, SpikeDetector
from nocwise.detect.metrics.trend import TrendConfig, TrendDetector
from nocwise.model.errors import InvalidRecordError
from nocwise.model.metrics import MetricBatch
from nocwise.model.state import ModelState

__all__ = ["EnsembleConfig", "EnsembleDetector", "EnsembleOutput"]

MEMBERS: tuple[str, ...] = ("spike", "level_shift", "seasonal", "trend", "novelty")


class EnsembleConfig(BaseModel):
    """Member configs, member weights and the calibration settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["ensemble"] = "ensemble"
    spike: SpikeConfig = SpikeConfig()
    level_shift: LevelShiftConfig = LevelShiftConfig()
    seasonal: SeasonalConfig = SeasonalConfig()
    trend: TrendConfig = TrendConfig()
    novelty: NoveltyConfig = NoveltyConfig()
    weights: tuple[float, float, float, float, float] = (0.8, 0.8, 0.8, 0.48, 1.0)
    record_decay: float = Field(default=0.9999, gt=0, le=1)
    record_floor: float = Field(default=8.0, gt=0)
    min_seen: int = Field(default=100, ge=0)
    sharpness: float = Field(default=4.0, gt=0)
    age_half: float = Field(default=100.0, ge=0)
    band_z: float = Field(default=3.0, gt=0)
    model_version: str = "1"


@dataclass(frozen=True, slots=True)
class EnsembleOutput:
    """Per sample: probability, index of the winning member (-1 if cold) and expected band."""

    prob: FloatArray
    winner: npt.NDArray[np.int64]
    lower: FloatArray
    upper: FloatArray


class EnsembleDetector:
    """Calibrated ensemble of the univariate detectors; see the module docstring."""

    kind: ClassVar[str] = "ensemble"
    version: ClassVar[int] = 1

    def __init__(self, config: EnsembleConfig | None = None) -> None:
        self.config = config if config is not None else EnsembleConfig()
        c = self.config
        self.members: tuple[ArrayDetector[Any], ...] = (
            SpikeDetector(c.spike),
            LevelShiftDetector(c.level_shift),
            SeasonalDetector(c.seasonal),
            TrendDetector(c.trend),
            NoveltyDetector(c.novelty),
        )
        self._record = np.zeros((len(MEMBERS), 0))
        self._seen = np.zeros((len(MEMBERS), 0))

    def _grow(self, n: int) -> None:
        if n > self._record.shape[1]:
            pad = n - self._record.shape[1]
            self._record = np.pad(self._record, ((0, 0), (0, pad)))
            self._seen = np.pad(self._seen, ((0, 0), (0, pad)))

    def detect(self, batch: MetricBatch, *, learn: bool) -> EnsembleOutput:
        """Probability, winner and band per sample; learns the batch when ``learn``."""
        self._grow(batch.n_series_hint)
        raws = [m.raw_band(batch, learn=learn) for m in self.members]
        lower, upper = self._band(raws[0][1], raws[2][1])
        z = np.stack([r[0] for r in raws]) if len(batch) else None
        prob = np.full(len(batch), np.nan)
        winner = np.full(len(batch), -1, dtype=np.int64)
        if z is not None:
            c = self.config
            calibrate_kernel(
                batch.series,
                z,
                np.asarray(c.weights, dtype=np.float64),
                np.array([m == "novelty" for m in MEMBERS]),
                self._record,
                self._seen,
                c.record_decay,
                c.record_floor,
                float(c.min_seen),
                c.sharpness,
                c.age_half,
                prob,
                winner,
                learn,
            )
        return EnsembleOutput(prob, winner, lower, upper)

    def _band(self, spike: FloatArray, seasonal: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Seasonal band where its bin is warm, else the long spike baseline."""
        cold = np.isnan(seasonal[0])
        loc = np.where(cold, spike[0], seasonal[0])
        sigma = np.where(cold, spike[1], seasonal[1])
        k = self.config.band_z
        return loc - k * sigma, loc + k * sigma

    def observe(self, batch: MetricBatch, episodes: EpisodeTracker) -> EpisodeEvents:
        """Score and learn a batch, then open/close episodes: the alarms with their evidence."""
        out = self.detect(batch, learn=True)
        names = [MEMBERS[w] if w >= 0 else "cold" for w in out.winner.tolist()]
        return episodes.update(
            batch, out.prob, out.lower, out.upper, names, self.config.model_version
        )

    def health(self) -> dict[str, FloatArray]:
        """Per-series samples learned, rejected (NaN/inf, out of order) and gaps seen."""
        return self.members[0].health()

    def score(self, batch: MetricBatch) -> FloatArray:
        """Anomaly probability per sample against the state before the batch (pure)."""
        return self.detect(batch, learn=False).prob

    def learn(self, batch: MetricBatch) -> None:
        """Learn the batch in order (the only mutator)."""
        self.detect(batch, learn=True)

    def score_learn(self, batch: MetricBatch) -> FloatArray:
        """Score each sample against everything before it, then learn it."""
        return self.detect(batch, learn=True).prob

    def state_bytes(self) -> int:
        """Memory held by all state arrays."""
        own = self._record.nbytes + self._seen.nbytes
        return own + sum(m.state_bytes() for m in self.members)

    def to_state(self) -> ModelState:
        """Members' arrays under ``<member>/<array>`` plus the calibration records."""
        arrays: dict[str, npt.NDArray[np.float64]] = {
            "record": self._record.copy(),
            "seen": self._seen.copy(),
        }
        for name, m in zip(MEMBERS, self.members, strict=True):
            for key, arr in m.to_state().arrays.items():
                arrays[f"{name}/{key}"] = arr
        return ModelState(
            "nocwise.detect.metrics.ensemble",
            self.version,
            self.config.model_dump(mode="json"),
            arrays,
        )

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """Rebuild from :meth:`to_state`."""
        state.expect("nocwise.detect.metrics.ensemble", cls.version)
        det = cls(EnsembleConfig.model_validate(state.params))
        try:
            det._record = np.array(state.arrays["record"], dtype=np.float64)
            det._seen = np.array(state.arrays["seen"], dtype=np.float64)
        except KeyError as exc:
            raise InvalidRecordError(f"ensemble state misses {exc}") from exc
        members = []
        for name, m in zip(MEMBERS, det.members, strict=True):
            sub = {
                k.split("/", 1)[1]: v for k, v in state.arrays.items() if k.startswith(name + "/")
            }
            snap = ModelState(
                f"nocwise.detect.metrics.{m.kind}",
                m.version,
                m.config.model_dump(mode="json"),
                sub,
            )
            members.append(type(m).from_state(snap))
        det.members = tuple(members)
        return det
