"""Noise scoring: how likely an alarm is to matter, learned from what mattered before.

The model keeps, per alarm *type* (source, event type, probable cause, specific problem), how
often such alarms were raised and how often one ended up in an actionable incident or a ticket,
and per fingerprint how often it was raised per day. The score is the posterior probability
that the type is *not* actionable (Beta(``prior_actionable``, ``prior_noise``) prior), raised to
at least ``chatty_floor`` for fingerprints raised more than ``chatty_per_day``. Scores above
``demote_above`` demote the alarm: it still passes, joins an incident it fits and ranks lower,
but opens no incident of its own unless ``demoted_open_incidents``. Nothing is dropped. Learning is counting, so ``learn`` on live feedback equals ``fit`` on history.

Weak at: new alarm types (scored at the prior with reason ``unseen_type``) and types whose
actionability depends on context (the same ``linkDown`` matters on a core link, not on a lab
port): the key has no entity features. The estimate is the Beta-Binomial posterior mean
(Gelman et al., *Bayesian Data Analysis*, §2.4), the simplest calibrated actionability rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal, Self

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from nocwise.correlate.base import EMPTY, Decision, StageOutput
from nocwise.model import Alarm, Evidence, Incident, ModelState, Ticket

MODEL_SCHEMA = "nocwise.correlate.noise_model"
STAGE_SCHEMA = "nocwise.correlate.noise"
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
_CACHE_MAX = 20_000  # scored alarm types kept; cleared when full


_UNSEEN: tuple[int | None, float] = (None, 0.0)  # the stage's cache key for a blank model


class NoiseReason(StrEnum):
    """What the noise score rests on."""

    LOW_ACTIONABILITY = "low_actionability"
    CHATTY = "chatty"
    UNSEEN_TYPE = "unseen_type"
    ACTIONABLE_TYPE = "actionable_type"


def actionable_alarm_ids(tickets: Iterable[Ticket], incidents: Iterable[Incident] = ()) -> set[str]:
    """The labels the model learns from: alarms on a ticket, or in an incident someone acted on.

    An incident counts as acted on when an operator acknowledged it, merged or split it, or
    when a ticket names one of its alarms.
    """
    ids = {aid for t in tickets for aid in t.related_alarms}
    for inc in incidents:
        acted = any(e.kind in _ACTED_ON and e.actor != "nocwise" for e in inc.timeline)
        if acted or any(m.alarm_id in ids for m in inc.members):
            ids.update(m.alarm_id for m in inc.members)
    return ids


_ACTED_ON = frozenset({"acknowledged", "merged", "split"})


def type_key(a: Alarm) -> str:
    """The alarm type the model learns about."""
    return f"{a.source}\x1f{a.event_type}\x1f{a.probable_cause}\x1f{a.specific_problem}"


class NoiseConfig(BaseModel):
    """Priors and thresholds of the noise model and the stage."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["noise"] = "noise"
    prior_actionable: Annotated[float, Field(gt=0)] = 1.0
    prior_noise: Annotated[float, Field(gt=0)] = 1.0
    chatty_per_day: Annotated[float, Field(gt=0)] = 24.0
    chatty_floor: Probability = 0.9
    demote_above: Probability = 0.8
    demoted_open_incidents: bool = False


class NoiseModel:
    """Counts per type (struct of arrays indexed by a vocabulary) and raises per fingerprint."""

    def __init__(self, config: NoiseConfig | None = None) -> None:
        self.config = config or NoiseConfig()
        self._types: dict[str, int] = {}
        self._seen = np.zeros(0, dtype=np.float64)
        self._actionable = np.zeros(0, dtype=np.float64)
        self._rate: dict[str, float] = {}  # fingerprint -> raises per day in the history

    @classmethod
    def fit(
        cls,
        history: Sequence[Alarm],
        actionable_ids: Iterable[str],
        config: NoiseConfig | None = None,
    ) -> NoiseModel:
        """Learn from past alarms and the ids that were part of an actionable incident or ticket."""
        model = cls(config)
        actionable = set(actionable_ids)
        raised = [a for a in history if a.cleared_time is None or a.raised_time != a.cleared_time]
        keys = [type_key(a) for a in raised]
        for k in keys:
            model._types.setdefault(k, len(model._types))
        idx = np.fromiter((model._types[k] for k in keys), np.int64, len(keys))
        hit = np.fromiter((a.alarm_id in actionable for a in raised), np.float64, len(raised))
        n = len(model._types)
        model._seen = np.bincount(idx, minlength=n).astype(np.float64)
        model._actionable = np.bincount(idx, weights=hit, minlength=n).astype(np.float64)
        if raised:
            times = [a.event_time for a in raised]
            days = max((max(times) - min(times)).total_seconds() / 86400.0, 1.0)
            counts: dict[str, int] = {}
            for a in raised:
                counts[a.fingerprint] = counts.get(a.fingerprint, 0) + 1
            model._rate = {fp: c / days for fp, c in counts.items()}
        return model

    def learn(self, alarm: Alarm, actionable: bool) -> None:
        """Add one labelled alarm (feedback from an incident or a ticket)."""
        k = type_key(alarm)
        i = self._types.get(k)
        if i is None:
            i = self._types[k] = len(self._types)
            self._seen = np.append(self._seen, 0.0)
            self._actionable = np.append(self._actionable, 0.0)
        self._seen[i] += 1.0
        self._actionable[i] += 1.0 if actionable else 0.0

    def is_blank(self) -> bool:
        """Nothing learned: every alarm is an unseen type with no raises on record."""
        return not self._types and not self._rate

    def type_index(self, alarm: Alarm) -> int | None:
        """The alarm type's row in the counts, None for a type never seen (without building
        the key when the model has seen nothing: the stage asks for every alarm)."""
        types = self._types
        return types.get(type_key(alarm)) if types else None

    def rate(self, fingerprint: str) -> float:
        """Raises per day of this fingerprint in the history (0 when never seen)."""
        rate = self._rate
        return rate.get(fingerprint, 0.0) if rate else 0.0

    def score(self, alarm: Alarm) -> tuple[float, NoiseReason, Evidence]:
        """(noise score in [0, 1], the main reason, evidence with the counts behind it)."""
        c = self.config
        i = self._types.get(type_key(alarm))
        seen = float(self._seen[i]) if i is not None else 0.0
        act = float(self._actionable[i]) if i is not None else 0.0
        p_act = (act + c.prior_actionable) / (seen + c.prior_actionable + c.prior_noise)
        noise = 1.0 - p_act
        rate = self._rate.get(alarm.fingerprint, 0.0)
        reason = (
            NoiseReason.LOW_ACTIONABILITY
            if noise >= c.demote_above
            else NoiseReason.ACTIONABLE_TYPE
        )
        if i is None:
            reason = NoiseReason.UNSEEN_TYPE
        if rate > c.chatty_per_day and noise < c.chatty_floor:
            noise, reason = c.chatty_floor, NoiseReason.CHATTY
        ev = Evidence(
            "noise",
            f"noise {noise:.2f}: {act:.0f} of {seen:.0f} past alarms of this type were actionable, {rate:.1f} raises/day",
            {
                "score": round(noise, 4),
                "seen": seen,
                "actionable": act,
                "raises_per_day": round(rate, 3),
            },
        )
        return noise, reason, ev

    def scores(self, alarms: Sequence[Alarm]) -> npt.NDArray[np.float64]:
        """Scores of many alarms, shape (n,)."""
        return np.array([self.score(a)[0] for a in alarms], dtype=np.float64)

    def to_state(self) -> ModelState:
        return ModelState(
            MODEL_SCHEMA,
            1,
            {
                "config": self.config.model_dump(mode="json"),
                "types": list(self._types),
                "rate": dict(self._rate),
            },
            {"seen": self._seen.copy(), "actionable": self._actionable.copy()},
        )

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        state.expect(MODEL_SCHEMA, 1)
        model = cls(NoiseConfig.model_validate(state.params["config"]))
        model._types = {k: i for i, k in enumerate(state.params["types"])}
        model._rate = {k: float(v) for k, v in state.params["rate"].items()}
        model._seen = np.asarray(state.arrays["seen"], dtype=np.float64).copy()
        model._actionable = np.asarray(state.arrays["actionable"], dtype=np.float64).copy()
        return model


class NoiseStage:
    """Attaches the score to each new or changed active alarm; demotes, never drops."""

    kind: ClassVar[str] = "noise"

    def __init__(self, config: NoiseConfig | None = None, model: NoiseModel | None = None) -> None:
        self.config = config or NoiseConfig()
        self.model = model or NoiseModel(self.config)
        # (type row or None, raises per day): the score and its evidence depend on nothing else,
        # so every type the model never saw shares one entry per rate
        self._cache: dict[tuple[int | None, float], tuple[NoiseReason, tuple[Evidence, ...]]] = {}

    def process(self, alarms: Sequence[Alarm], now: datetime) -> StageOutput:
        decisions: list[Decision] = []
        cache = self._cache
        rate, index = self.model.rate, self.model.type_index
        kind = self.kind
        blank = self.model.is_blank()  # every alarm scores the same: no per-alarm look-ups
        for a in alarms:
            if a.cleared_time is not None:
                continue
            key = _UNSEEN if blank else (index(a), rate(a.fingerprint))
            hit = cache.get(key)
            if hit is None:
                if len(cache) >= _CACHE_MAX:
                    cache.clear()
                _score, reason, ev = self.model.score(a)
                hit = cache[key] = (reason, (ev,))
            decisions.append(Decision(kind, hit[0], hit[1], a.alarm_id))
        return StageOutput(list(alarms), decisions)

    def use(self, model: NoiseModel) -> None:
        """Swap in a model fitted on history; cached scores are recomputed."""
        self.model = model
        self._cache.clear()

    def learn(self, alarm: Alarm, actionable: bool) -> None:
        """Feedback: the model learns and cached scores are recomputed."""
        self.model.learn(alarm, actionable)
        self._cache.clear()

    def tick(self, now: datetime) -> StageOutput:
        return EMPTY

    def to_state(self) -> ModelState:
        m = self.model.to_state()
        return ModelState(
            STAGE_SCHEMA,
            1,
            {"config": self.config.model_dump(mode="json"), "model": m.params},
            m.arrays,
        )

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        state.expect(STAGE_SCHEMA, 1)
        config = NoiseConfig.model_validate(state.params["config"])
        model = NoiseModel.from_state(
            ModelState(MODEL_SCHEMA, 1, state.params["model"], state.arrays)
        )
        return cls(config, model)


def noise_score(decision: Decision) -> float | None:
    """The score a noise decision carries."""
    for ev in decision.evidence:
        if ev.kind == "noise":
            v = ev.data.get("score")
            return float(v) if isinstance(v, int | float) else None
    return None
