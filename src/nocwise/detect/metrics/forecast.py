"""Capacity forecasting: trend plus seasonality, and when a threshold will be breached.

The history is decomposed by alternating two least-squares steps (a linear trend, then the
mean residual per phase of the season) a few times, as classical decomposition does
(Cleveland et al. 1990 in its simplest, non-robust-loess form). The forecast extends the
trend and repeats the season; the band is ± ``z`` residual standard deviations.

Weak at: non-linear growth (logistic saturation, exponential bursts), regime changes inside
the history (fit after the last change), and histories shorter than two seasons, where the
season is dropped and only the trend is fitted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Literal, Self

import numpy as np
import numpy.typing as npt

from nocwise.model.errors import InvalidRecordError
from nocwise.model.state import ModelState

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

STATE_SCHEMA = "nocwise.detect.metrics.forecast"
STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class Forecast:
    """Predicted mean and band at future timestamps (ms)."""

    ts_ms: IntArray
    mean: FloatArray
    lower: FloatArray
    upper: FloatArray
    slope_per_s: float


def _fit(
    ts_ms: IntArray, values: FloatArray, period_steps: int, step_ms: float
) -> tuple[float, float, FloatArray, float]:
    t = (ts_ms - ts_ms[-1]) / 1000.0
    phase = np.rint((ts_ms - ts_ms[0]) / step_ms).astype(np.int64) % max(period_steps, 1)
    season = np.zeros(max(period_steps, 1))
    slope, intercept = 0.0, float(np.mean(values))
    for _ in range(3):
        slope, intercept = np.polyfit(t, values - season[phase], 1)
        if period_steps > 1:
            resid = values - (slope * t + intercept)
            sums = np.bincount(phase, resid, minlength=period_steps)
            counts = np.bincount(phase, minlength=period_steps)
            season = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
            season -= season.mean()
    resid = values - (slope * t + intercept) - season[phase]
    return float(slope), float(intercept), season, float(np.std(resid))


def forecast(
    ts_ms: npt.ArrayLike,
    values: npt.ArrayLike,
    steps: int,
    *,
    period: timedelta | None = timedelta(days=1),
    z: float = 3.0,
) -> Forecast:
    """Forecast ``steps`` samples ahead at the history's median sampling interval."""
    t = np.asarray(ts_ms, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    t, v = t[ok], v[ok]
    if t.size < 3 or np.any(np.diff(t) <= 0):
        raise InvalidRecordError("forecast needs at least 3 finite samples in increasing time")
    step_ms = float(np.median(np.diff(t)))
    period_steps = 0
    if period is not None:
        period_steps = round(period.total_seconds() * 1000.0 / step_ms)
        if (t[-1] - t[0]) < 2 * period.total_seconds() * 1000.0 or period_steps < 2:
            period_steps = 0
    slope, intercept, season, sd = _fit(t, v, period_steps, step_ms)
    future = t[-1] + np.rint(step_ms * np.arange(1, steps + 1)).astype(np.int64)
    dt_s = (future - t[-1]) / 1000.0
    phase = np.rint((future - t[0]) / step_ms).astype(np.int64) % max(period_steps, 1)
    mean = slope * dt_s + intercept + season[phase]
    return Forecast(future, mean, mean - z * sd, mean + z * sd, slope)


def forecast_breach(
    ts_ms: npt.ArrayLike,
    values: npt.ArrayLike,
    threshold: float,
    *,
    horizon: timedelta = timedelta(days=7),
    period: timedelta | None = timedelta(days=1),
    direction: Literal["up", "down"] | None = None,
) -> float | None:
    """Seconds from the last sample until the forecast mean first crosses ``threshold``.

    ``direction`` says which crossing matters ("up": a disk filling towards 90 %); by default
    it is the sign of the fitted trend. Returns 0.0 when the recent level is already past the
    threshold in that direction, None when no breach is forecast within ``horizon``.
    """
    t = np.asarray(ts_ms, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    if t.size < 3:
        raise InvalidRecordError("forecast needs at least 3 samples")
    step_ms = float(np.median(np.diff(t)))
    steps = max(1, int(horizon.total_seconds() * 1000.0 // max(step_ms, 1.0)))
    fc = forecast(t, v, steps, period=period)
    up = fc.slope_per_s >= 0.0 if direction is None else direction == "up"
    recent = float(np.nanmedian(v[-5:]))
    if (recent >= threshold) if up else (recent <= threshold):
        return 0.0
    hits = np.flatnonzero(fc.mean >= threshold if up else fc.mean <= threshold)
    if hits.size == 0:
        return None
    return float((fc.ts_ms[hits[0]] - t[-1]) / 1000.0)


@dataclass(frozen=True, slots=True)
class BreachConfig:
    """Settings of the batch breach forecaster; one configuration for every series.

    ``windows_s`` are the trend windows (short ones see a disk filling in minutes, the whole
    buffer sees slow growth); a trend is extrapolated at most ``reach`` (one per window) times
    its window and only when its slope is ``min_t`` standard errors above zero and every shorter
    window still shows at least half that growth (within two standard errors): growth that has
    stopped is not extrapolated. A breach is predicted only when growth is needed for it: when
    level plus season alone reach the threshold within that reach (a busy hour that passes it
    every day) it is a recurring breach, not a prediction; and the slope ``band`` standard
    errors lower must still reach it (the lower bound, not only the mean). The season (mean
    per time-of-day bin, from samples older than ``season_gap_s``) is used once a series has a
    period of such history; before ``warmup_s`` (a period plus the shortest window) nothing is
    predicted.
    """

    capacity: int = 2880
    windows_s: tuple[float, ...] = (600.0, 3600.0, 3 * 3600.0, 2 * 86400.0)
    reach: tuple[float, ...] = (1.0, 1.0, 1.0, 1.5)
    min_t: float = 6.0
    band: float = 2.0
    season_gap_s: float = 3 * 3600.0
    min_samples: int = 8
    warmup_s: float = 27 * 3600.0
    period_s: float = 86400.0
    bin_s: float = 900.0
    grid_s: float = 300.0
    model_version: str = "breach-forecast/2"


def _lines(x: FloatArray, y: FloatArray, w: npt.NDArray[np.bool_]) -> tuple[FloatArray, FloatArray]:
    """Least-squares slope and intercept of each row's masked points (0, mean when degenerate)."""
    k = w.sum(axis=1).astype(np.float64)
    sx, sy = x.sum(axis=1), y.sum(axis=1)
    den = k * (x * x).sum(axis=1) - sx * sx
    ok = den > 1e-9 * np.maximum(k * k, 1.0)
    slope = np.where(ok, (k * (x * y).sum(axis=1) - sx * sy) / np.where(ok, den, 1.0), 0.0)
    return slope, (sy - slope * sx) / np.maximum(k, 1.0)


class BreachForecaster:
    """Ring buffers of recent samples for many series in one array, and a vectorised
    trend-plus-season breach forecast over all of them at once.

    Weak at: growth that is not linear over the trend window (a disk filling in bursts), seasons
    other than the daily one, and the first period of a series, where trend and season cannot be
    told apart (so nothing is predicted during ``warmup_s``). The season is one time-of-day mean
    per bin after a straight line is removed, so a level shift inside the buffer is learnt as
    season and can predict a breach at that time of day again a day later.
    """

    def __init__(self, config: BreachConfig | None = None) -> None:
        self.config = config or BreachConfig()
        cap = self.config.capacity
        self.ts = np.zeros((0, cap), dtype=np.int64)
        self.values = np.full((0, cap), np.nan)
        self.pos = np.zeros(0, dtype=np.int64)
        self.first_ms = np.zeros(0, dtype=np.int64)

    @property
    def rows(self) -> int:
        """How many series the buffers hold."""
        return int(self.pos.shape[0])

    def grow(self, rows: int) -> None:
        """Make room for ``rows`` series (new rows start empty)."""
        extra = rows - self.rows
        if extra <= 0:
            return
        cap = self.config.capacity
        self.ts = np.vstack([self.ts, np.zeros((extra, cap), dtype=np.int64)])
        self.values = np.vstack([self.values, np.full((extra, cap), np.nan)])
        self.pos = np.concatenate([self.pos, np.zeros(extra, dtype=np.int64)])
        self.first_ms = np.concatenate([self.first_ms, np.full(extra, -1, dtype=np.int64)])

    def add(self, rows: IntArray, ts_ms: IntArray, values: FloatArray) -> None:
        """Append samples (in time order within a row) to their rows' ring buffers."""
        if rows.size == 0:
            return
        self.grow(int(rows.max()) + 1)
        order = np.argsort(rows, kind="stable")
        r, t, v = rows[order], ts_ms[order], values[order]
        starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        counts = np.diff(np.r_[starts, r.size])
        rank = np.arange(r.size) - np.repeat(starts, counts)
        slot = (self.pos[r] + rank) % self.config.capacity
        self.ts[r, slot] = t
        self.values[r, slot] = v
        self.pos[r[starts]] += counts
        new = self.first_ms[r[starts]] < 0
        self.first_ms[r[starts][new]] = t[starts][new]

    def to_state(self) -> ModelState:
        """Config and the ring buffers."""
        params = asdict(self.config)
        params["windows_s"] = list(self.config.windows_s)
        params["reach"] = list(self.config.reach)
        arrays = {"ts": self.ts, "values": self.values, "pos": self.pos, "first_ms": self.first_ms}
        return ModelState(
            STATE_SCHEMA, STATE_VERSION, params, {k: v.copy() for k, v in arrays.items()}
        )

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """Rebuild from :meth:`to_state`; other versions are refused."""
        state.expect(STATE_SCHEMA, STATE_VERSION)
        params = dict(state.params)
        params["windows_s"] = tuple(float(w) for w in params["windows_s"])
        params["reach"] = tuple(float(w) for w in params["reach"])
        out = cls(BreachConfig(**params))
        ts = np.asarray(state.arrays["ts"], dtype=np.int64)
        values = np.asarray(state.arrays["values"], dtype=np.float64)
        if ts.shape != values.shape or ts.ndim != 2 or ts.shape[1] != out.config.capacity:
            raise InvalidRecordError("breach forecaster buffers do not match its capacity")
        out.ts, out.values = ts, values
        out.pos = np.asarray(state.arrays["pos"], dtype=np.int64)
        out.first_ms = np.asarray(state.arrays["first_ms"], dtype=np.int64)
        return out

    def eta(
        self, now_ms: int, threshold: FloatArray, horizon_s: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Seconds until each row's forecast first reaches its threshold (NaN: not within its
        horizon; 0: already there), and each row's current fitted level."""
        cfg = self.config
        n = self.rows
        eta = np.full(n, np.nan)
        level = np.full(n, np.nan)
        if n == 0 or horizon_s.max(initial=0.0) < cfg.grid_s:
            return eta, level
        valid = np.isfinite(self.values) & (self.ts <= now_ms)
        count = valid.sum(axis=1)
        v = np.where(valid, self.values, 0.0)
        age_s = np.where(valid, (now_ms - self.ts) / 1000.0, 0.0)
        history_s = (now_ms - self.first_ms) / 1000.0
        nb = max(1, round(cfg.period_s / cfg.bin_s))
        period_ms, bin_ms = int(cfg.period_s * 1000), int(cfg.bin_s * 1000)
        phase = (self.ts % period_ms) // bin_ms
        # The season comes from samples older than the shortest trend window, so that fresh
        # growth is not mistaken for (and subtracted as) a season.
        older = valid & (age_s > cfg.season_gap_s)
        # ... and from what a straight line through them leaves (trend first, then season).
        slope0, icpt0 = _lines(np.where(older, -age_s, 0.0), np.where(older, v, 0.0), older)
        key = (np.arange(n)[:, None] * nb + phase)[older]
        resid = (v - (icpt0[:, None] - slope0[:, None] * age_s))[older]
        sums = np.bincount(key, resid, minlength=n * nb).reshape(n, nb)
        hits = np.bincount(key, minlength=n * nb).reshape(n, nb)
        season = np.where(hits > 0, sums / np.maximum(hits, 1), 0.0)
        season -= season.mean(axis=1, keepdims=True)
        season[history_s < cfg.period_s + cfg.season_gap_s] = 0.0
        d = v - np.take_along_axis(season, phase, axis=1)
        ready = (count >= cfg.min_samples) & (history_s >= cfg.warmup_s)
        steps = np.arange(1, int(horizon_s.max(initial=0.0) // cfg.grid_s) + 1) * cfg.grid_s
        future_phase = ((now_ms + (steps * 1000).astype(np.int64)) % period_ms) // bin_ms
        now_phase = (now_ms % period_ms) // bin_ms
        last = (self.pos[:, None] - 1 - np.arange(3)[None, :]) % cfg.capacity
        recent = np.take_along_axis(np.where(valid, self.values, np.nan), last, axis=1)
        with np.errstate(all="ignore"):
            there = np.nanmedian(
                np.where(np.isnan(recent).all(axis=1)[:, None], 0.0, recent), axis=1
            )
        floor = np.full(n, np.inf)  # what shorter windows allow a longer one's slope to be
        for window, reach in sorted(zip(cfg.windows_s, cfg.reach, strict=True)):
            w = valid & (age_s <= window)
            k = w.sum(axis=1).astype(np.float64)
            x = np.where(w, -age_s, 0.0)
            y = np.where(w, d, 0.0)
            sx, sy = x.sum(axis=1), y.sum(axis=1)
            sxx, sxy = (x * x).sum(axis=1), (x * y).sum(axis=1)
            den = k * sxx - sx * sx
            ok = ready & (k >= cfg.min_samples) & (den > 0)
            slope = np.where(ok, (k * sxy - sx * sy) / np.where(ok, den, 1.0), 0.0)
            icpt = (sy - slope * sx) / np.maximum(k, 1.0)
            r = np.where(w, y - (icpt[:, None] + slope[:, None] * x), 0.0)
            s2 = (r * r).sum(axis=1) / np.maximum(k - 2, 1.0)
            # Neighbouring slots are neighbouring samples (but for the one wrap-around pair):
            # lag-1 autocorrelation of the residuals widens the slope's standard error.
            pair = w[:, 1:] & w[:, :-1]
            lag = np.where(pair, r[:, 1:] * r[:, :-1], 0.0).sum(axis=1)
            rho = np.clip(lag / np.maximum((r * r).sum(axis=1), 1e-300), 0.0, 0.99)
            se = np.sqrt(s2 / np.where(ok, den / np.maximum(k, 1.0), 1.0))
            se = se * np.sqrt((1.0 + rho) / (1.0 - rho))
            here = icpt + season[np.arange(n), now_phase]
            level = np.where(ok & np.isnan(level), here, level)
            grows = ok & (slope > cfg.min_t * np.maximum(se, 1e-12)) & (0.5 * slope <= floor)
            floor = np.where(ok, np.minimum(floor, slope + 2.0 * se), floor)
            span = np.where(w, age_s, 0.0).max(axis=1)
            limit = np.minimum(horizon_s, reach * span)
            within = steps[None, :] <= limit[:, None]
            flat = icpt[:, None] + season[:, future_phase]
            recurring = ((flat >= threshold[:, None]) & within).any(axis=1)
            path = flat + slope[:, None] * steps[None, :]
            over = (path >= threshold[:, None]) & within
            first = np.argmax(over, axis=1)
            low = flat + (slope - cfg.band * se)[:, None] * steps[None, :]
            sure = low >= threshold[:, None]
            found = grows & ~recurring & (sure & within).any(axis=1) & over[np.arange(n), first]
            cand = np.where(found, steps[first], np.nan)
            cand = np.where(ok & (there >= threshold), 0.0, cand)
            eta = np.fmin(eta, cand)
        return eta, level
