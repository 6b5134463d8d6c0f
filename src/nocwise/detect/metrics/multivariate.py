"""Multivariate per-entity detection: several KPIs of one entity judged together.

A server, cell or gNodeB reports tens of KPIs that move together (load drives CPU, memory,
traffic). A fault often shows as a break of those relations before any single KPI leaves its
range, so the detector scores each row of an entity's KPI matrix against the structure learned
on a training window, with four views of the same standardised data:

- **SPE** (squared prediction error): the residual of a PCA reconstruction that keeps
  ``variance`` of the training variance, each KPI's residual divided by its training spread.
  It sees a broken correlation (Jackson & Mudholkar, Technometrics 1979).
- **T²** (Mahalanobis distance) under a shrunk covariance. It sees a row that is far from
  the training cloud along directions that are normally quiet (Ledoit & Wolf, J. Multivariate
  Analysis 2004, for the shrinkage).
- **Temporal**: the residual of a ridge VAR(1) that predicts each KPI from all KPIs one row
  earlier. It sees a row that breaks the usual dynamics (a jump, an oscillation) while the
  row itself still looks plausible. Weighted by ``temporal_weight``.
- **Level** (per KPI): how far the ``level_window``-row mean of each standardised KPI lies
  outside the range that such means took in training, in units of their training spread, 0
  inside it. It sees a KPI that holds a level for longer than training ever held it, while
  each row alone stays in range and the other views dilute it among the KPIs' noise. It is
  0 on nearly all training rows, so it is not calibrated like the others: it is added
  (weight ``level_weight``) in the units the calibrated views are summed in.

Each view is smoothed over a trailing window of ``window`` rows (faults last longer than one
sample, noise does not), put on one scale by its training median and ``upper_quantile`` (0.95:
the views' 0.99 quantiles are already in the unlabelled incidents of the training window, which
would weigh the views by their incidents), and the views are summed. The alarm threshold is a
quantile (``alarm_quantile``) of the training scores; scores are divided by it, so a score of 1
or more raises an alarm. A plain quantile rather than an extreme-value extrapolation on
purpose: training windows hold unlabelled incidents, so their extreme tail is made of faults,
and a threshold set beyond it misses the milder ones.

**Online adaptation.** The detector is a stream: :meth:`MultivariateDetector.update` scores
rows and then learns them. It keeps, per KPI, the median and the standard deviation of each
block of ``adapt_block`` rows, over the last ``adapt_blocks`` blocks. Rows are centred on the
median of those block medians and divided by the larger of the training scale and the median
block deviation. A KPI that settles on a new level or becomes noisier (a migration, a new
normal after a fault) therefore stops alarming once it has lasted about half of that horizon
(3,072 rows by default), while a fault that is shorter than that cannot move a median. Only a
shift of more than ``adapt_deadband`` training scales is followed (fully past twice that), so
the running median's seasonal wander is not; and a KPI whose latest block is back nearer its
training level than the followed one is judged on its training level and scale at once (the
end of a long fault must not alarm for another half horizon). The structure (PCA, covariance,
VAR) is not refitted online.

**Score gate.** The same horizon also sets a floor under the alarm threshold: each score is
divided by ``gate_factor`` times the stream's recent score level (the median of the median
scores of the last ``adapt_blocks`` blocks), when that is above 1. A score that has stayed high
for more than half the horizon is the stream's normal by then, like a KPI's new level, and only
a further rise alarms. It catches what the per-KPI adaptation leaves: a new level inside its
dead band or held off by the return-home rule, a broken correlation that persists, several KPIs
drifting together. Below half the horizon the level is the training level and the gate is 1.
The level has a floor: the ``gate_quantile`` (0.9) of the scores that did not alarm in the last
``adapt_blocks`` blocks (the training blocks first; each block kept as 16 order statistics and a
count, so the state stays small). An alarm must stand ``gate_factor`` times
above the upper bulk of what the stream itself calls normal, so a stream whose normal rows
score higher than training's (more noise, a lighter tail) raises its threshold within a few
blocks, while a long fault does not raise it (its rows alarm and stay out of the pool).

Evidence: each score comes with a per-KPI contribution (the KPI's share of every view, T²
terms clipped at zero, and its level excess), so the KPIs that broke can be named and ranked.

Weak at: non-linear relations between KPIs (a linear model sees them as noise); faults longer
than half the adaptation horizon (they are learned as the new normal, and the gate lowers their
score too) and, the other way, drift during its first half horizon (every row of it scores
high, and the level view adds to it); anomalies in KPIs that were constant in training are caught only once they exceed the
scale floor; very short spikes are diluted by the smoothing window; a slow change of the KPIs'
correlations (only the level and the spread of each KPI adapt); a long fault whose rows hover
around the threshold (those below it enter the gate's pool and lift the floor over its course).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> z = rng.normal(size=(2000, 1))
>>> x = np.hstack([z, 2 * z, -z]) + 0.05 * rng.normal(size=(2000, 3))
>>> det = MultivariateDetector().fit(x)
>>> y = x[:50].copy()
>>> y[20:, 1] += 1.0  # KPI 1 stops following the other two
>>> out = det.score(y)
>>> bool(out.scores[30:].min() > 1.0), int(out.ranking()[40, 0])
(True, 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from nocwise.model.errors import InvalidRecordError
from nocwise.model.state import ModelState

__all__ = ["MultivariateDetector", "MultivariateScores", "trailing_mean"]

Array = npt.NDArray[np.float64]

_N_VIEWS = 3
#: Order statistics kept per block of scores for the gate's floor.
_SKETCH = 16
#: Learned once by ``fit``.
_MODEL_ARRAYS = frozenset(
    {
        "mean",
        "scale",
        "offset",
        "components",
        "resid_scale",
        "precision",
        "var_coef",
        "var_scale",
        "calibration",
        "threshold",
        "level_low",
        "level_high",
        "level_scale",
    }
)
#: Moved on by ``update``: the adaptation ring, rows of an unfinished block, the last
#: standardised row (the VAR lag), the last rows of per-KPI view parts (for the two trailing
#: windows) and the score gate's ring of block medians and scores of an unfinished block.
_STREAM_ARRAYS = frozenset(
    {
        "ring_centre",
        "ring_spread",
        "pending",
        "last_z",
        "history",
        "gate_ring",
        "gate_pending",
        "gate_pool",
        "level_history",
    }
)


@dataclass(frozen=True, slots=True)
class MultivariateScores:
    """Scores of the rows of one entity: ``scores[t]`` >= 1 is an alarm; ``contributions[t, j]``
    is KPI *j*'s part of that score (non-negative, same scale)."""

    scores: Array
    contributions: Array

    @property
    def alarms(self) -> npt.NDArray[np.bool_]:
        """Rows whose score reaches the alarm threshold learned on training data."""
        return self.scores >= 1.0

    def ranking(self) -> npt.NDArray[np.int64]:
        """KPI indices per row, most contributing first (ties keep column order)."""
        return np.argsort(-self.contributions, axis=1, kind="stable").astype(np.int64)


class MultivariateDetector:
    """SPE, shrunk T², a VAR(1) residual and a held-level view over an entity's KPIs, with
    online adaptation."""

    kind: ClassVar[str] = "multivariate"
    schema: ClassVar[str] = "nocwise.detect.metrics.multivariate"
    version: ClassVar[int] = 5

    def __init__(
        self,
        *,
        variance: float = 0.9,
        shrinkage: float = 0.1,
        window: int = 10,
        evidence_window: int = 30,
        scale_floor: float = 0.1,
        upper_quantile: float = 0.95,
        alarm_quantile: float = 0.99,
        temporal_weight: float = 0.5,
        level_window: int = 30,
        level_weight: float = 0.3,
        ridge: float = 1e-3,
        adapt_block: int = 128,
        adapt_blocks: int = 48,
        adapt_deadband: float = 1.0,
        gate_factor: float = 3.0,
        gate_quantile: float = 0.9,
        max_train_rows: int = 100_000,
        seed: int = 0,
    ) -> None:
        if not 0.0 < variance <= 1.0:
            raise ValueError(f"variance must be in (0, 1], got {variance}")
        if not 0.0 <= shrinkage <= 1.0:
            raise ValueError(f"shrinkage must be in [0, 1], got {shrinkage}")
        if window < 1 or evidence_window < 1:
            raise ValueError("window and evidence_window must be >= 1")
        if scale_floor <= 0.0:
            raise ValueError(f"scale_floor must be > 0, got {scale_floor}")
        if not 0.5 < upper_quantile < 1.0 or not 0.5 < alarm_quantile < 1.0:
            raise ValueError("upper_quantile and alarm_quantile must be in (0.5, 1)")
        if temporal_weight < 0.0 or ridge < 0.0 or level_weight < 0.0:
            raise ValueError("temporal_weight, level_weight and ridge must be >= 0")
        if level_window < 1:
            raise ValueError(f"level_window must be >= 1, got {level_window}")
        if adapt_deadband < 0.0:
            raise ValueError(f"adapt_deadband must be >= 0, got {adapt_deadband}")
        if gate_factor < 0.0:
            raise ValueError(f"gate_factor must be >= 0 (0: no gate), got {gate_factor}")
        if not 0.0 <= gate_quantile < 1.0:
            raise ValueError(f"gate_quantile must be in [0, 1) (0: no floor), got {gate_quantile}")
        if adapt_block < 1 or adapt_blocks < 0:
            raise ValueError("adapt_block must be >= 1 and adapt_blocks >= 0 (0: no adaptation)")
        self.variance = variance
        self.shrinkage = shrinkage
        self.window = window
        self.evidence_window = evidence_window
        self.scale_floor = scale_floor
        self.upper_quantile = upper_quantile
        self.alarm_quantile = alarm_quantile
        self.temporal_weight = temporal_weight
        self.level_window = level_window
        self.level_weight = level_weight
        self.ridge = ridge
        self.adapt_block = adapt_block
        self.adapt_blocks = adapt_blocks
        self.adapt_deadband = adapt_deadband
        self.gate_factor = gate_factor
        self.gate_quantile = gate_quantile
        self.max_train_rows = max_train_rows
        self.seed = seed
        self._arrays: dict[str, Array] | None = None

    # -- learning -----------------------------------------------------------------------------

    def fit(self, train: npt.ArrayLike) -> Self:
        """Learn the KPIs' joint structure and the alarm threshold from a training window.

        ``train`` is rows = time steps, columns = KPIs, in time order; it may hold a few
        unlabelled anomalies (the statistics used are tolerant of a small share). The stream
        then continues from the end of ``train``.
        """
        x = _matrix(train)
        n, d = x.shape
        if n < max(2 * self.window, d + 1):
            raise ValueError(f"need more training rows than KPIs, got shape {x.shape}")
        mean = x.mean(axis=0)
        scale = np.maximum(x.std(axis=0), self.scale_floor * _robust_spread(x))
        z = (x - mean) / scale
        cov = np.cov(self._subsample(z), rowvar=False).reshape(d, d)
        components = _principal_components(cov, self.variance)
        residual = z - (z @ components.T) @ components
        target = np.eye(d) * (np.trace(cov) / d)
        shrunk = (1.0 - self.shrinkage) * cov + self.shrinkage * target
        lagged, now = z[:-1], z[1:]
        gram = lagged.T @ lagged + self.ridge * lagged.shape[0] * np.eye(d)
        var_coef = np.linalg.solve(gram, lagged.T @ now)
        arrays: dict[str, Array] = {
            "mean": mean,
            "scale": scale,
            "offset": (np.median(x, axis=0) - mean) / scale,
            "components": components,
            "resid_scale": np.maximum(residual.std(axis=0), self.scale_floor),
            "precision": np.asarray(np.linalg.pinv(shrunk), dtype=np.float64),
            "var_coef": var_coef,
            "var_scale": np.maximum((now - lagged @ var_coef).std(axis=0), self.scale_floor),
            "calibration": np.tile([0.0, 1.0], _N_VIEWS),
            "threshold": np.ones(1),
        }
        arrays |= self._level_envelope(z)
        self._arrays = arrays
        parts = self._parts(z, np.zeros((0, d)))
        calib: list[float] = []
        for part in parts:
            smooth = trailing_mean(part.sum(axis=1), self.window)
            mid = float(np.median(smooth))
            top = float(np.quantile(smooth, self.upper_quantile))
            calib += [mid, max(top - mid, 1e-12)]
        arrays["calibration"] = np.asarray(calib)
        level = self._level(z, np.zeros((0, d)))
        train_scores = self._combine(parts, np.zeros((_N_VIEWS, 0, d)), level)[0]
        threshold = float(np.quantile(train_scores, self.alarm_quantile))
        arrays["threshold"] = np.asarray([_positive(threshold)])
        arrays |= self._stream_from_training(x, z, parts)
        arrays |= self._gate_from_training(train_scores / arrays["threshold"][0])
        return self

    def _gate_from_training(self, scores: Array) -> dict[str, Array]:
        """The gate's state at the end of training: the ring (padded with the median training
        score), the scores of the unfinished block and the sketches of the scores that did not
        alarm (below 1), one per block."""
        size, count = self.adapt_block, self.adapt_blocks
        whole = (scores.shape[0] // size) * size
        level = _block_medians(scores[:whole], size)
        pad = np.full(max(count - level.shape[0], 0), float(np.median(scores)))
        ring = np.concatenate([pad, level])
        blocks = scores[:whole].reshape(-1, size)
        sketches = [_sketch(b[b < 1.0]) for b in blocks[max(blocks.shape[0] - count, 0) :]]
        pool = np.zeros((count, _SKETCH + 1))
        if sketches and self.gate_quantile > 0.0:
            pool[count - len(sketches) :] = sketches
        return {
            "gate_ring": ring[ring.shape[0] - count :],
            "gate_pending": scores[whole:].copy(),
            "gate_pool": pool,
        }

    def _subsample(self, z: Array) -> Array:
        if z.shape[0] <= self.max_train_rows:
            return z
        rng = np.random.default_rng(self.seed)
        return z[np.sort(rng.choice(z.shape[0], self.max_train_rows, replace=False))]

    def _stream_from_training(self, x: Array, z: Array, parts: list[Array]) -> dict[str, Array]:
        """The stream state at the end of training: the last blocks, rows and view parts."""
        d = x.shape[1]
        size, count = self.adapt_block, self.adapt_blocks
        whole = (x.shape[0] // size) * size
        centres, spreads = _block_stats(x[:whole], size)
        pad = max(count - centres.shape[0], 0)
        fill = np.median(spreads, axis=0) if spreads.size else np.zeros(d)
        ring_centre = np.vstack([np.tile(np.median(x, axis=0), (pad, 1)), centres])
        ring_spread = np.vstack([np.tile(fill, (pad, 1)), spreads])
        last = ring_centre.shape[0] - count
        keep = self._keep
        history = np.stack([p[p.shape[0] - keep :] for p in parts]) if keep else None
        return {
            "ring_centre": ring_centre[last:],
            "ring_spread": ring_spread[last:],
            "pending": x[whole:].copy(),
            "last_z": z[-1:].copy(),
            "history": np.zeros((_N_VIEWS, 0, d)) if history is None else history,
            "level_history": z[max(z.shape[0] - (self.level_window - 1), 0) :].copy(),
        }

    # -- scoring ------------------------------------------------------------------------------

    def score(self, rows: npt.ArrayLike) -> MultivariateScores:
        """Score contiguous rows that continue the stream, without learning them (pure)."""
        return self._step(_matrix(rows))[0]

    def update(self, rows: npt.ArrayLike) -> MultivariateScores:
        """Score contiguous rows that continue the stream, then learn them (adaptation state,
        smoothing and lag context). Updating in chunks gives the same scores as all at once."""
        out, stream = self._step(_matrix(rows))
        self._fitted().update(stream)
        return out

    def _step(self, x: Array) -> tuple[MultivariateScores, dict[str, Array]]:
        a = self._fitted()
        d = a["mean"].shape[0]
        if x.shape[1] != d:
            raise ValueError(f"expected {d} KPIs, got {x.shape[1]}")
        z, stream = self._adapt(x)
        parts = self._parts(z, a["last_z"])
        level = self._level(z, a["level_history"])
        scores, contrib = self._combine(parts, a["history"], level)
        keep = self._keep
        if x.shape[0]:
            stream["last_z"] = z[-1:].copy()
        lead = np.vstack([a["level_history"], z])
        stream["level_history"] = lead[lead.shape[0] - min(self.level_window - 1, lead.shape[0]) :]
        if keep:
            both = [np.vstack([h, p]) for h, p in zip(a["history"], parts, strict=True)]
            stream["history"] = np.stack([b[b.shape[0] - min(keep, b.shape[0]) :] for b in both])
        thr = float(a["threshold"][0])
        scores, contrib = scores / thr, contrib / thr
        gate, gate_state = self._gate(scores)
        stream |= gate_state
        return MultivariateScores(scores / gate, contrib / gate[:, None]), stream

    def _gate(self, scores: Array) -> tuple[Array, dict[str, Array]]:
        """Divisor per row, at least 1: ``gate_factor`` times the stream's recent score level,
        the larger of the median of the block medians of the last ``adapt_blocks`` blocks and
        the ``gate_quantile`` of the scores that did not alarm in the last ``adapt_blocks``
        blocks (from their sketches); and the next gate state.
        The level of a block is fixed when it starts, from complete blocks only, so chunked
        updates give the same divisors."""
        a = self._fitted()
        size, count = self.adapt_block, self.adapt_blocks
        buf = np.concatenate([a["gate_pending"], scores])
        whole = (buf.shape[0] // size) * size
        ring = np.concatenate([a["gate_ring"], _block_medians(buf[:whole], size)])
        pool = a["gate_pool"]
        gate = np.ones(scores.shape[0])
        if count and self.gate_factor > 0.0:
            level = np.median(sliding_window_view(ring, count), axis=-1)
            block = (np.arange(scores.shape[0]) + a["gate_pending"].shape[0]) // size
            divisors = np.ones(int(block[-1]) + 1 if block.size else 0)
            for b in range(divisors.shape[0]):
                noise = _pool_quantile(pool, self.gate_quantile)
                divisors[b] = max(1.0, self.gate_factor * max(float(level[b]), noise))
                if (b + 1) * size <= whole and self.gate_quantile > 0.0:
                    rows = buf[b * size : (b + 1) * size]
                    pool = np.vstack([pool[1:], _sketch(rows[rows < divisors[b]])])
            gate = divisors[block]
        state = {
            "gate_ring": ring[ring.shape[0] - count :],
            "gate_pending": buf[whole:].copy(),
            "gate_pool": pool,
        }
        return gate, state

    def _adapt(self, x: Array) -> tuple[Array, dict[str, Array]]:
        """Standardise rows on the running per-KPI centre and spread; the next ring state."""
        a = self._fitted()
        if self.adapt_blocks == 0:
            z = (x - a["mean"]) / a["scale"]
            return z, {"pending": a["pending"][:0]}
        size, count = self.adapt_block, self.adapt_blocks
        buf = np.vstack([a["pending"], x])
        whole = (buf.shape[0] // size) * size
        centres, spreads = _block_stats(buf[:whole], size)
        ring_c = np.vstack([a["ring_centre"], centres])
        ring_s = np.vstack([a["ring_spread"], spreads])
        # window i holds the ``count`` blocks before block i of ``buf``
        centre = np.median(sliding_window_view(ring_c, count, axis=0), axis=-1)
        spread = np.median(sliding_window_view(ring_s, count, axis=0), axis=-1)
        block = (np.arange(x.shape[0]) + a["pending"].shape[0]) // size
        # follow a shift of the running median only past ``adapt_deadband`` training scales
        # (fully past twice that): the median also wanders with the season and the noise, and
        # following that would break the KPIs' joint structure, as each KPI's moves on its own
        scale = a["scale"]
        home = a["mean"] + a["offset"] * scale
        shift = centre[block] - home
        band = np.maximum(self.adapt_deadband * scale, 1e-300)
        followed = shift * np.clip(np.abs(shift) / band - 1.0, 0.0, 1.0)
        spread = np.maximum(scale, spread[block])
        # a KPI whose last block is back nearer its training level than the followed one has
        # returned (the end of a long fault): the training level and scale apply at once
        latest = ring_c[count - 1 :][block]
        back = np.abs(latest - home) < np.abs(latest - home - followed)
        z = (x - home - np.where(back, 0.0, followed)) / np.where(back, scale, spread)
        z += a["offset"]
        stream = {
            "ring_centre": ring_c[ring_c.shape[0] - count :],
            "ring_spread": ring_s[ring_s.shape[0] - count :],
            "pending": buf[whole:].copy(),
        }
        return z, stream

    def _parts(self, z: Array, before: Array) -> list[Array]:
        """Per-KPI SPE, T² and VAR parts of standardised rows (each row's parts sum to the
        view's total); ``before`` is the standardised row preceding ``z`` (or none)."""
        a = self._fitted()
        comp = a["components"]
        spe = ((z - (z @ comp.T) @ comp) / a["resid_scale"]) ** 2
        t2 = np.clip(z * (z @ a["precision"]), 0.0, None)
        lagged = np.vstack([before, z])[:-1] if z.shape[0] else z
        var = ((z[z.shape[0] - lagged.shape[0] :] - lagged @ a["var_coef"]) / a["var_scale"]) ** 2
        temporal = np.vstack([np.zeros((z.shape[0] - var.shape[0], z.shape[1])), var])
        return [spe, t2, temporal]

    @property
    def _keep(self) -> int:
        """Rows of per-KPI view parts carried across calls, for the two trailing windows."""
        return max(self.window, self.evidence_window) - 1

    def _level_envelope(self, z: Array) -> dict[str, Array]:
        """Per KPI, the range of the ``level_window``-row means of the standardised training
        rows (complete windows only) and their spread, floored like the inputs' scale."""
        width = min(self.level_window, z.shape[0])
        means = trailing_mean(z, width)[width - 1 :]
        return {
            "level_low": means.min(axis=0),
            "level_high": means.max(axis=0),
            "level_scale": np.maximum(means.std(axis=0), self.scale_floor),
        }

    def _level(self, z: Array, before: Array) -> Array:
        """Per-KPI level view: how far the ``level_window``-row mean of each standardised KPI
        lies outside the range such means took in training, in units of their training spread
        (0 inside it). A KPI that holds a level it never held that long in training shows here
        even when each row alone still looks plausible."""
        a = self._fitted()
        lead = before.shape[0]
        means = trailing_mean(np.vstack([before, z]), self.level_window)[lead:]
        excess = np.maximum(means - a["level_high"], a["level_low"] - means)
        return np.clip(excess, 0.0, None) / a["level_scale"]

    def _combine(self, parts: list[Array], history: Array, level: Array) -> tuple[Array, Array]:
        """Smooth, calibrate and add the views. The contributions are the per-KPI parts on the
        same scale, averaged over ``evidence_window`` rows: the KPIs behind a fault show over
        its course more steadily than in the last few rows, which noisy KPIs also reach."""
        c = self._fitted()["calibration"].reshape(_N_VIEWS, 2)
        n, d = parts[0].shape
        total = np.zeros(n)
        contrib = np.zeros((n, d))
        weights = (1.0, 1.0, self.temporal_weight)
        for (mid, spread), part, before, w in zip(c, parts, history, weights, strict=True):
            lead = before.shape[0]
            both = np.vstack([before, part])
            smooth = trailing_mean(both[max(lead - self.window + 1, 0) :], self.window)
            total += w * (smooth[smooth.shape[0] - n :].sum(axis=1) - mid) / spread
            contrib += w * trailing_mean(both, self.evidence_window)[lead:] / spread
        total += self.level_weight * level.sum(axis=1)
        contrib += self.level_weight * level
        return total, contrib

    def _fitted(self) -> dict[str, Array]:
        if self._arrays is None:
            raise RuntimeError("MultivariateDetector is not fitted: call fit() first")
        return self._arrays

    @property
    def n_components(self) -> int:
        """PCA components kept for the SPE view."""
        return int(self._fitted()["components"].shape[0])

    # -- state --------------------------------------------------------------------------------

    def to_state(self) -> ModelState:
        """Hyper-parameters as JSON; learned model and stream position as arrays."""
        return ModelState(
            self.schema,
            self.version,
            {
                "variance": self.variance,
                "shrinkage": self.shrinkage,
                "window": self.window,
                "evidence_window": self.evidence_window,
                "scale_floor": self.scale_floor,
                "upper_quantile": self.upper_quantile,
                "alarm_quantile": self.alarm_quantile,
                "temporal_weight": self.temporal_weight,
                "level_window": self.level_window,
                "level_weight": self.level_weight,
                "ridge": self.ridge,
                "adapt_block": self.adapt_block,
                "adapt_blocks": self.adapt_blocks,
                "adapt_deadband": self.adapt_deadband,
                "gate_factor": self.gate_factor,
                "gate_quantile": self.gate_quantile,
                "max_train_rows": self.max_train_rows,
                "seed": self.seed,
            },
            {} if self._arrays is None else {k: v.copy() for k, v in self._arrays.items()},
        )

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """Rebuild a detector (fitted or not, mid-stream or not) from :meth:`to_state`; older
        snapshots are migrated with what they lacked turned off, so they score as they did."""
        if state.schema == cls.schema and state.version == 2:
            state = _upgrade_v2(state)
        if state.schema == cls.schema and state.version == 3:
            state = _upgrade_v3(state)
        if state.schema == cls.schema and state.version == 4:
            state = _upgrade_v4(state)
        state.expect(cls.schema, cls.version)
        p = state.params
        det = cls(
            variance=float(p["variance"]),
            shrinkage=float(p["shrinkage"]),
            window=int(p["window"]),
            evidence_window=int(p["evidence_window"]),
            scale_floor=float(p["scale_floor"]),
            upper_quantile=float(p["upper_quantile"]),
            alarm_quantile=float(p["alarm_quantile"]),
            temporal_weight=float(p["temporal_weight"]),
            level_window=int(p["level_window"]),
            level_weight=float(p["level_weight"]),
            ridge=float(p["ridge"]),
            adapt_block=int(p["adapt_block"]),
            adapt_blocks=int(p["adapt_blocks"]),
            adapt_deadband=float(p["adapt_deadband"]),
            gate_factor=float(p["gate_factor"]),
            gate_quantile=float(p["gate_quantile"]),
            max_train_rows=int(p["max_train_rows"]),
            seed=int(p["seed"]),
        )
        if state.arrays:
            if set(state.arrays) != _MODEL_ARRAYS | _STREAM_ARRAYS:
                raise InvalidRecordError(f"multivariate state arrays {sorted(state.arrays)}")
            det._arrays = {k: np.asarray(v, dtype=np.float64) for k, v in state.arrays.items()}
        return det


def _upgrade_v2(state: ModelState) -> ModelState:
    """v2 -> v3: the score gate is added, off (``gate_factor`` 0), with an empty level ring;
    the contributions keep the score's window."""
    params = dict(state.params)
    arrays = dict(state.arrays)
    try:
        params |= {"gate_factor": 0.0, "evidence_window": params["window"]}
        if arrays:
            arrays["gate_ring"] = np.zeros(int(params["adapt_blocks"]))
            arrays["gate_pending"] = np.zeros(arrays["pending"].shape[0])
    except KeyError as exc:
        raise InvalidRecordError(f"multivariate v2 state misses {exc}") from exc
    return ModelState(state.schema, 3, params, arrays)


def _upgrade_v3(state: ModelState) -> ModelState:
    """v3 -> v4: the gate's floor from the scores that did not alarm is added, off
    (``gate_quantile`` 0), with empty block sketches."""
    params = dict(state.params) | {"gate_quantile": 0.0}
    arrays = dict(state.arrays)
    if arrays:
        arrays["gate_pool"] = np.zeros((int(params["adapt_blocks"]), _SKETCH + 1))
    return ModelState(state.schema, 4, params, arrays)


def _upgrade_v4(state: ModelState) -> ModelState:
    """v4 -> v5: the level view is added, off (``level_weight`` 0, a one-row window), with an
    empty envelope."""
    params = dict(state.params) | {"level_window": 1, "level_weight": 0.0}
    arrays = dict(state.arrays)
    if arrays:
        try:
            d = arrays["mean"].shape[0]
        except KeyError as exc:
            raise InvalidRecordError(f"multivariate v4 state misses {exc}") from exc
        arrays |= {
            "level_low": np.zeros(d),
            "level_high": np.zeros(d),
            "level_scale": np.ones(d),
            "level_history": np.zeros((0, d)),
        }
    return ModelState(state.schema, 5, params, arrays)


def trailing_mean(x: Array, window: int) -> Array:
    """Mean over the last ``window`` rows up to and including each row (causal).

    >>> trailing_mean(np.array([1.0, 3.0, 5.0, 7.0]), 2).tolist()
    [1.0, 2.0, 4.0, 6.0]
    """
    if window <= 1 or x.shape[0] == 0:
        return x.astype(np.float64, copy=True)
    csum = np.cumsum(x, axis=0, dtype=np.float64)
    out = csum.copy()
    out[window:] = csum[window:] - csum[:-window]
    n = np.minimum(np.arange(1, x.shape[0] + 1), window).astype(np.float64)
    return out / n.reshape((-1,) + (1,) * (x.ndim - 1))


def _principal_components(cov: Array, variance: float) -> Array:
    """Leading eigenvectors (rows) holding ``variance`` of the total; deterministic."""
    eigval, eigvec = np.linalg.eigh(cov)
    order = np.argsort(eigval)[::-1]
    eigval, eigvec = np.clip(eigval[order], 0.0, None), eigvec[:, order]
    share = np.cumsum(eigval) / max(float(eigval.sum()), 1e-300)
    k = int(np.searchsorted(share, variance - 1e-12) + 1)
    return np.asarray(eigvec[:, : min(k, cov.shape[0])].T.copy(), dtype=np.float64)


def _block_stats(x: Array, size: int) -> tuple[Array, Array]:
    """Per-KPI median and standard deviation of each complete block of ``size`` rows."""
    blocks = x.reshape(x.shape[0] // size, size, x.shape[1])
    return np.median(blocks, axis=1), blocks.std(axis=1)


def _sketch(x: Array) -> Array:
    """A block's scores in ``_SKETCH + 1`` numbers: how many, then the order statistics at
    the levels (i + 0.5) / _SKETCH (zeros for no scores)."""
    if x.shape[0] == 0:
        return np.zeros(_SKETCH + 1)
    levels = (np.arange(_SKETCH) + 0.5) / _SKETCH
    return np.concatenate([[float(x.shape[0])], np.quantile(x, levels)])


def _pool_quantile(pool: Array, q: float) -> float:
    """The ``q`` quantile of the scores the block sketches stand for, each order statistic
    weighted by its block's count; 0 for an empty pool or ``q`` 0 (the gate's floor is off)."""
    weights = np.repeat(pool[:, 0] / _SKETCH, _SKETCH)
    total = float(weights.sum())
    if total <= 0.0 or q <= 0.0:
        return 0.0
    values = pool[:, 1:].ravel()
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    at = min(int(np.searchsorted(cumulative, q * total)), values.shape[0] - 1)
    return float(values[order][at])


def _block_medians(x: Array, size: int) -> Array:
    """Median of each complete block of ``size`` values of a 1-D array."""
    return np.median(x.reshape(x.shape[0] // size, size), axis=1)


def _positive(value: float) -> float:
    """Scores are divided by the threshold, so it must be a positive number."""
    return value if value > 1e-9 else 1e-9


def _robust_spread(x: Array) -> Array:
    """Per-column spread of the whole matrix, so the scale floor is relative to the data's units."""
    spread = float(np.median(x.std(axis=0)))
    return np.full(x.shape[1], spread if spread > 0.0 else 1.0)


def _matrix(rows: npt.ArrayLike) -> Array:
    x = np.asarray(rows, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-D array (rows x KPIs), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("rows contain NaN or infinity; impute before scoring")
    return x
