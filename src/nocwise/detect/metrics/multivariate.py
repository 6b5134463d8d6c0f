"""Multivariate per-entity detection: several KPIs of one entity judged together.

A server, cell or gNodeB reports tens of KPIs that move together (load drives CPU, memory,
traffic). A fault often shows as a break of those relations before any single KPI leaves its
range, so the detector scores each row of an entity's KPI matrix against the joint structure
learned on a training window, with two linear views of the same standardised data:

- **SPE** (squared prediction error): the residual of a PCA reconstruction that keeps
  ``variance`` of the training variance, each KPI's residual divided by its training spread.
  It sees a broken correlation (Jackson & Mudholkar, Technometrics 1979).
- **T²** (Mahalanobis distance) under a shrunk covariance. It sees a row that is far from
  the training cloud along directions that are normally quiet (Ledoit & Wolf, J. Multivariate
  Analysis 2004, for the shrinkage).

Both are smoothed over a trailing window of ``window`` rows (faults last longer than one
sample, noise does not), put on one scale by their training median and upper quantile, and
summed. The alarm threshold is a quantile (``alarm_quantile``) of the training scores alone;
scores are divided by it, so a score of 1 or more raises an alarm. A plain quantile rather than
an extreme-value extrapolation on purpose: training windows hold unlabelled incidents, so their
extreme tail is made of faults, and a threshold set beyond it misses the milder ones.

Evidence: each score comes with a per-KPI contribution (the KPI's share of SPE plus its share
of T², clipped at zero), so the KPIs that broke can be named and ranked.

Weak at: non-linear relations between KPIs (a linear model sees them as noise); slow drift or
a new regime after training (every row of it scores high until the model is refitted);
anomalies in KPIs that were constant in training are caught only once they exceed the
scale floor; very short spikes are diluted by the smoothing window. The model is fitted once
on a window: refit it to follow a changing entity.

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

from nocwise.model.errors import InvalidRecordError
from nocwise.model.state import ModelState

__all__ = ["MultivariateDetector", "MultivariateScores", "trailing_mean"]

Array = npt.NDArray[np.float64]


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
    """PCA residual (SPE) plus shrunk Mahalanobis distance (T²) over an entity's KPIs."""

    kind: ClassVar[str] = "multivariate"
    schema: ClassVar[str] = "nocwise.detect.metrics.multivariate"
    version: ClassVar[int] = 1

    def __init__(
        self,
        *,
        variance: float = 0.9,
        shrinkage: float = 0.1,
        window: int = 10,
        scale_floor: float = 0.1,
        upper_quantile: float = 0.99,
        alarm_quantile: float = 0.99,
        max_train_rows: int = 100_000,
        seed: int = 0,
    ) -> None:
        if not 0.0 < variance <= 1.0:
            raise ValueError(f"variance must be in (0, 1], got {variance}")
        if not 0.0 <= shrinkage <= 1.0:
            raise ValueError(f"shrinkage must be in [0, 1], got {shrinkage}")
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        if scale_floor <= 0.0:
            raise ValueError(f"scale_floor must be > 0, got {scale_floor}")
        if not 0.5 < upper_quantile < 1.0 or not 0.5 < alarm_quantile < 1.0:
            raise ValueError("upper_quantile and alarm_quantile must be in (0.5, 1)")
        self.variance = variance
        self.shrinkage = shrinkage
        self.window = window
        self.scale_floor = scale_floor
        self.upper_quantile = upper_quantile
        self.alarm_quantile = alarm_quantile
        self.max_train_rows = max_train_rows
        self.seed = seed
        self._arrays: dict[str, Array] | None = None

    # -- learning -----------------------------------------------------------------------------

    def fit(self, train: npt.ArrayLike) -> Self:
        """Learn the KPIs' joint structure and the alarm threshold from a training window.

        ``train`` is rows = time steps, columns = KPIs, in time order; it may hold a few
        unlabelled anomalies (the statistics used are tolerant of a small share).
        """
        x = _matrix(train)
        if x.shape[0] < max(2 * self.window, x.shape[1] + 1):
            raise ValueError(f"need more training rows than KPIs, got shape {x.shape}")
        mean = x.mean(axis=0)
        scale = np.maximum(x.std(axis=0), self.scale_floor * _robust_spread(x))
        z = (x - mean) / scale
        fit_rows = z
        if z.shape[0] > self.max_train_rows:
            rng = np.random.default_rng(self.seed)
            pick = np.sort(rng.choice(z.shape[0], self.max_train_rows, replace=False))
            fit_rows = z[pick]
        cov = np.cov(fit_rows, rowvar=False)
        # PCA via the covariance's eigenvectors: deterministic, and signs do not matter here.
        eigval, eigvec = np.linalg.eigh(cov)
        order = np.argsort(eigval)[::-1]
        eigval, eigvec = np.clip(eigval[order], 0.0, None), eigvec[:, order]
        share = np.cumsum(eigval) / max(float(eigval.sum()), 1e-300)
        k = int(np.searchsorted(share, self.variance - 1e-12) + 1)
        components = eigvec[:, : min(k, x.shape[1])].T.copy()
        residual = z - (z @ components.T) @ components
        resid_scale = np.maximum(residual.std(axis=0), self.scale_floor)
        d = cov.shape[0]
        target = np.eye(d) * (np.trace(cov) / d if d else 1.0)
        shrunk = (1.0 - self.shrinkage) * cov + self.shrinkage * target
        precision = np.asarray(np.linalg.pinv(shrunk), dtype=np.float64)
        self._arrays = {
            "mean": mean,
            "scale": scale,
            "components": components,
            "resid_scale": resid_scale,
            "precision": precision,
            "calibration": np.zeros(4),
            "threshold": np.ones(1),
        }
        spe, t2 = self._raw(z)
        calib = []
        for part in (spe, t2):
            smooth = trailing_mean(part.sum(axis=1), self.window)
            mid = float(np.median(smooth))
            top = float(np.quantile(smooth, self.upper_quantile))
            calib += [mid, max(top - mid, 1e-12)]
        self._arrays["calibration"] = np.asarray(calib)
        train_scores = self._combine(spe, t2)[0]
        threshold = float(np.quantile(train_scores, self.alarm_quantile))
        self._arrays["threshold"] = np.asarray([_positive(threshold)])
        return self

    # -- scoring ------------------------------------------------------------------------------

    def score(
        self, rows: npt.ArrayLike, *, context: npt.ArrayLike | None = None
    ) -> MultivariateScores:
        """Score contiguous rows of the entity.

        ``context`` holds the rows just before ``rows`` (the last ``window - 1`` are enough):
        the smoothing window then continues across calls, so scoring a stream in chunks gives
        the same scores as scoring it whole. Without it, smoothing starts at the first row.
        """
        arrays = self._fitted()
        x = _matrix(rows)
        n_kpis = arrays["mean"].shape[0]
        if x.shape[1] != n_kpis:
            raise ValueError(f"expected {n_kpis} KPIs, got {x.shape[1]}")
        lead = 0
        if context is not None and self.window > 1:
            before = _matrix(context)[-(self.window - 1) :]
            if before.shape[0] and before.shape[1] != n_kpis:
                raise ValueError(f"context: expected {n_kpis} KPIs, got {before.shape[1]}")
            lead = before.shape[0]
            x = np.vstack([before.reshape(-1, n_kpis), x])
        spe, t2 = self._raw((x - arrays["mean"]) / arrays["scale"])
        scores, contrib = self._combine(spe, t2)
        thr = float(arrays["threshold"][0])
        return MultivariateScores(scores[lead:] / thr, contrib[lead:] / thr)

    def _raw(self, z: Array) -> tuple[Array, Array]:
        """Per-KPI SPE and T² parts of standardised rows (each row's parts sum to the total)."""
        a = self._fitted()
        comp = a["components"]
        residual = (z - (z @ comp.T) @ comp) / a["resid_scale"]
        spe = residual**2
        t2 = np.clip(z * (z @ a["precision"]), 0.0, None)
        return spe, t2

    def _combine(self, spe: Array, t2: Array) -> tuple[Array, Array]:
        """Smooth, calibrate and add both views; contributions share the same affine scale."""
        c = self._fitted()["calibration"]
        total = np.zeros(spe.shape[0])
        contrib = np.zeros_like(spe)
        for (mid, spread), part in zip(c.reshape(2, 2), (spe, t2), strict=True):
            smooth = trailing_mean(part, self.window)
            total += (smooth.sum(axis=1) - mid) / spread
            contrib += smooth / spread
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
        """Hyper-parameters as JSON, learned arrays as arrays."""
        return ModelState(
            self.schema,
            self.version,
            {
                "variance": self.variance,
                "shrinkage": self.shrinkage,
                "window": self.window,
                "scale_floor": self.scale_floor,
                "upper_quantile": self.upper_quantile,
                "alarm_quantile": self.alarm_quantile,
                "max_train_rows": self.max_train_rows,
                "seed": self.seed,
            },
            {} if self._arrays is None else {k: v.copy() for k, v in self._arrays.items()},
        )

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """Rebuild a detector (fitted or not) from :meth:`to_state`."""
        state.expect(cls.schema, cls.version)
        p = state.params
        det = cls(
            variance=float(p["variance"]),
            shrinkage=float(p["shrinkage"]),
            window=int(p["window"]),
            scale_floor=float(p["scale_floor"]),
            upper_quantile=float(p["upper_quantile"]),
            alarm_quantile=float(p["alarm_quantile"]),
            max_train_rows=int(p["max_train_rows"]),
            seed=int(p["seed"]),
        )
        if state.arrays:
            needed = {"mean", "scale", "components", "resid_scale", "precision"}
            needed |= {"calibration", "threshold"}
            if set(state.arrays) != needed:
                raise InvalidRecordError(f"multivariate state arrays {sorted(state.arrays)}")
            det._arrays = {k: np.asarray(v, dtype=np.float64) for k, v in state.arrays.items()}
        return det


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
