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
from typing import Any, Literal, Self

import numpy as np
import numpy.typing as npt

from nocwise.detect.metrics.capacity import peak_trend
from nocwise.model.errors import InvalidRecordError
from nocwise.model.state import ModelState

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

STATE_SCHEMA = "nocwise.detect.metrics.forecast"
STATE_VERSION = 2


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

    ``windows_s`` are the short trend windows, fitted on the last ``recent`` raw samples (they
    see a disk filling in minutes); the ``long_window_s`` trend is fitted on 15-min bin means
    (slow growth). A trend is extrapolated at most ``reach`` (``long_reach``) times its window
    and only when its slope is ``min_t`` standard errors above zero and every shorter window
    still shows at least half that growth (within two standard errors): growth that has
    stopped is not extrapolated. A breach is predicted only when growth is needed for it: when
    level plus season alone reach the threshold within that reach (a busy hour that passes it
    every day) it is a recurring breach, not a prediction; and the slope ``band`` standard
    errors lower must still reach it (the lower bound, not only the mean). The season (mean
    per time-of-day bin, from bins older than ``season_gap_s``) is used once a series has a
    period of such history; before ``warmup_s`` (a period plus the shortest window) nothing is
    predicted. Season and long trend are re-fitted every ``refresh_bins`` bins per series
    (staggered across series). The daily peaks (max of the day's bin means) of the last
    ``peak_days`` days feed the slow forecast (:func:`capacity.peak_trend`).
    """

    recent: int = 192
    windows_s: tuple[float, ...] = (600.0, 3600.0, 3 * 3600.0)
    reach: tuple[float, ...] = (1.0, 1.0, 1.0)
    long_window_s: float = 2 * 86400.0
    long_reach: float = 1.5
    min_t: float = 6.0
    band: float = 2.0
    season_gap_s: float = 3 * 3600.0
    min_samples: int = 8
    warmup_s: float = 27 * 3600.0
    period_s: float = 86400.0
    bin_s: float = 900.0
    history_bins: int = 192
    refresh_bins: int = 4
    grid_s: float = 300.0
    peak_days: int = 28
    peak_min_days: int = 10
    peak_z: float = 3.0
    peak_reach: float = 1.0
    peak_horizon_days: float = 30.0
    model_version: str = "breach-forecast/3"

    def __post_init__(self) -> None:
        per_period = round(self.period_s / self.bin_s)
        if self.history_bins < 2 * per_period or self.history_bins % per_period:
            raise InvalidRecordError("history_bins must be a multiple (>= 2) of a period's bins")
        if len(self.windows_s) != len(self.reach) or not self.windows_s:
            raise InvalidRecordError("windows_s and reach need one entry per window")


# Per-series arrays of the forecaster (name -> dtype); 2-D ones have ``recent``,
# ``history_bins``, season-bin or ``peak_days`` columns.
_ROW_ARRAYS: dict[str, type] = {
    "rt": np.int32,  # recent samples: seconds from base_ms
    "rv": np.float32,  # recent samples: values (NaN: empty)
    "rph": np.int16,  # recent samples: season bin of their time of day
    "rd": np.float32,  # recent samples: value minus the season (as of the last refresh)
    "pos": np.int64,  # next slot of the recent ring
    "first_ms": np.int64,  # first sample (-1: none)
    "bsum": np.float32,  # bins: sum of values
    "bcnt": np.float32,  # bins: count of values
    "season": np.float32,  # mean per time-of-day bin, from the last refresh
    "fit_bin": np.int64,  # absolute bin of the last refresh (-1: none)
    "l_slope": np.float64,  # long trend at its last refresh: slope per s,
    "l_se": np.float64,  # its standard error,
    "l_level": np.float64,  # its deseasonalised level at l_ms,
    "l_span": np.float64,  # the age (s) of its oldest bin,
    "l_ms": np.int64,  # and when (-1: no usable long trend)
    "peaks": np.float32,  # daily peaks, one column per day of peak_day
}
_EMPTY_OF: dict[str, float] = {
    "rv": np.nan, "rd": np.nan, "first_ms": -1, "fit_bin": -1, "l_ms": -1, "peaks": np.nan,
}  # fmt: skip


class BreachForecaster:
    """Compact per-series state in arrays (struct of arrays) and a vectorised trend-plus-season
    breach forecast over many series at once.

    Per series it keeps the last ``recent`` raw samples (float32 values, int32 seconds), two
    periods of 15-min bin sums and counts, the season of the last refresh, the long trend's
    fit and ``peak_days`` daily peaks: about 5 KB, against 46 KB for two days of raw samples.
    Per tick only series whose forecast could reach the threshold are fitted: a bound on what
    the short windows can extrapolate (recent deseasonalised maximum plus three times its
    recent range, plus the highest season ahead) and on the cached long trend's lower path
    screens out the rest. Season and long trend are re-fitted every ``refresh_bins`` bins per
    series, staggered, so a tick costs a screen over every series plus the fits of the few
    that pass it.

    Weak at: growth that is not linear over the trend window (a disk filling in bursts), seasons
    other than the daily one, and the first period of a series, where trend and season cannot be
    told apart (so nothing is predicted during ``warmup_s``). The season is one time-of-day mean
    per bin after a straight line is removed, so a level shift inside the two periods is learnt
    as season and can predict a breach at that time of day again a day later. The screen's
    bound assumes roughly even sampling; with very uneven sampling a short-window breach can be
    screened out.
    """

    def __init__(self, config: BreachConfig | None = None) -> None:
        self.config = config or BreachConfig()
        cfg = self.config
        self.nb = max(1, round(cfg.period_s / cfg.bin_s))
        self.bin_ms = int(cfg.bin_s * 1000)
        self.base_ms = -1
        self.bin_of = np.full(cfg.history_bins, -1, dtype=np.int64)  # absolute bin per column
        self.peak_day = np.full(cfg.peak_days, -1, dtype=np.int64)  # day number per column
        self.a: dict[str, npt.NDArray[Any]] = {
            k: np.full((0, *self._width(k)), _EMPTY_OF.get(k, 0), dtype=d)
            for k, d in _ROW_ARRAYS.items()
        }

    def _width(self, key: str) -> tuple[int, ...]:
        cfg = self.config
        widths = {k: cfg.recent for k in ("rt", "rv", "rph", "rd")}
        widths |= {"bsum": cfg.history_bins, "bcnt": cfg.history_bins, "season": self.nb}
        widths["peaks"] = cfg.peak_days
        return (widths[key],) if key in widths else ()

    @property
    def rows(self) -> int:
        """How many series the arrays hold."""
        return int(self.a["pos"].shape[0])

    @property
    def days_done(self) -> int:
        """The newest day (days since the epoch) whose daily peak is kept (-1: none yet)."""
        return int(self.peak_day.max())

    def grow(self, rows: int) -> None:
        """Make room for ``rows`` series (new rows start empty)."""
        extra = rows - self.rows
        if extra <= 0:
            return
        for k, arr in self.a.items():
            fresh = np.full((extra, *self._width(k)), _EMPTY_OF.get(k, 0), dtype=arr.dtype)
            self.a[k] = np.concatenate([arr, fresh])

    def add(self, rows: IntArray, ts_ms: IntArray, values: FloatArray) -> None:
        """Append samples (in time order within a row) to their rows' recent ring and bins."""
        if rows.size == 0:
            return
        self.grow(int(rows.max()) + 1)
        if self.base_ms < 0:
            self.base_ms = int(ts_ms.min())
            self.bin_of[:] = -1
            self._advance(int(ts_ms.min()) // self.bin_ms)
        day = ts_ms // int(self.config.period_s * 1000)
        if day[0] == day[-1] and np.all(day == day[0]):
            self._add(rows, ts_ms, values)
            return
        for d in np.unique(day).tolist():  # a backfill: a day at a time, so each keeps its peak
            at = day == d
            self._add(rows[at], ts_ms[at], values[at])

    def _add(self, rows: IntArray, ts_ms: IntArray, values: FloatArray) -> None:
        cfg, a = self.config, self.a
        unique = bool(np.all(rows[1:] > rows[:-1]))  # the usual batch: one sample a series
        if unique:
            r, t, v = rows, ts_ms, values
            starts, counts, slot = np.arange(r.size), 1, a["pos"][r] % cfg.recent
        else:
            order = np.argsort(rows, kind="stable")
            r, t, v = rows[order], ts_ms[order], values[order]
            starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
            counts = np.diff(np.r_[starts, r.size])
            rank = np.arange(r.size) - np.repeat(starts, counts)
            slot = (a["pos"][r] + rank) % cfg.recent
        phase = (t % int(cfg.period_s * 1000)) // self.bin_ms
        a["rt"][r, slot] = (t - self.base_ms) // 1000
        a["rv"][r, slot] = v
        a["rph"][r, slot] = phase
        a["rd"][r, slot] = v - a["season"][r, phase]
        a["pos"][r[starts]] += counts
        new = a["first_ms"][r[starts]] < 0
        a["first_ms"][r[starts][new]] = t[starts][new]
        self._advance(int(t.max()) // self.bin_ms)
        b = t // self.bin_ms
        col = b % cfg.history_bins
        ok = np.isfinite(v) & (self.bin_of[col] == b)
        if unique:  # no (row, bin) twice: plain indexed adds
            a["bsum"][r[ok], col[ok]] += v[ok].astype(np.float32)
            a["bcnt"][r[ok], col[ok]] += np.float32(1.0)
        else:
            np.add.at(a["bsum"], (r[ok], col[ok]), v[ok].astype(np.float32))
            np.add.at(a["bcnt"], (r[ok], col[ok]), np.float32(1.0))

    def _advance(self, newest: int) -> None:
        """Open bins up to ``newest``; a day whose last bin is left keeps its peak."""
        head = int(self.bin_of.max())
        if head < 0:
            head = newest - 1
        elif newest <= head:
            return
        for b in range(max(head + 1, newest - self.config.history_bins + 1), newest + 1):
            if b % self.nb == 0 and b > 0:
                self._keep_peak(b // self.nb - 1)
            col = b % self.config.history_bins
            self.a["bsum"][:, col] = 0.0
            self.a["bcnt"][:, col] = 0.0
            self.bin_of[col] = b

    def _keep_peak(self, day: int) -> None:
        """Each row's peak of ``day``: the highest bin mean, when half the day's bins have data."""
        cols = np.flatnonzero(self.bin_of // self.nb == day)
        if cols.size == 0:
            return
        at = day % self.config.peak_days
        self.peak_day[at] = day
        out = self.a["peaks"]
        for lo in range(0, self.rows, _CHUNK):
            s = self.a["bsum"][lo : lo + _CHUNK, cols]
            c = self.a["bcnt"][lo : lo + _CHUNK, cols]
            with np.errstate(invalid="ignore", divide="ignore"):
                peak = np.fmax.reduce(np.where(c > 0, s / c, np.nan), axis=1)
            enough = (c > 0).sum(axis=1) * 2 >= self.nb
            out[lo : lo + _CHUNK, at] = np.where(enough, peak, np.nan)

    def to_state(self) -> ModelState:
        """Config, the clock anchors and every per-series array."""
        params: dict[str, Any] = asdict(self.config)
        params["windows_s"] = list(self.config.windows_s)
        params["reach"] = list(self.config.reach)
        params["base_ms"] = self.base_ms
        arrays = {k: v.copy() for k, v in self.a.items()}
        arrays["bin_of"] = self.bin_of.copy()
        arrays["peak_day"] = self.peak_day.copy()
        return ModelState(STATE_SCHEMA, STATE_VERSION, params, arrays)

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """Rebuild from :meth:`to_state`; other versions (the raw-buffer v1) are refused."""
        state.expect(STATE_SCHEMA, STATE_VERSION)
        params = dict(state.params)
        base_ms = int(params.pop("base_ms"))
        params["windows_s"] = tuple(float(w) for w in params["windows_s"])
        params["reach"] = tuple(float(w) for w in params["reach"])
        out = cls(BreachConfig(**params))
        out.base_ms = base_ms
        n = np.asarray(state.arrays["pos"]).shape[0]
        for k, d in _ROW_ARRAYS.items():
            arr: npt.NDArray[Any] = np.asarray(state.arrays[k], dtype=d)
            if arr.shape != (n, *out._width(k)):
                raise InvalidRecordError(f"breach forecaster array {k} has shape {arr.shape}")
            out.a[k] = arr.copy()
        out.bin_of = np.asarray(state.arrays["bin_of"], dtype=np.int64).copy()
        out.peak_day = np.asarray(state.arrays["peak_day"], dtype=np.int64).copy()
        if out.bin_of.shape != (out.config.history_bins,):
            raise InvalidRecordError("breach forecaster bins do not match history_bins")
        if out.peak_day.shape != (out.config.peak_days,):
            raise InvalidRecordError("breach forecaster peaks do not match peak_days")
        return out

    def peak_eta(
        self, threshold: FloatArray, horizon_days: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Per row: days after the newest kept day until its daily peak passes ``threshold``
        (NaN: not foreseen), the peaks' slope per day and their fitted level."""
        cfg = self.config
        n = self.rows
        out = (np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan))
        if self.days_done < 0:
            return out
        horizon = np.full(n, cfg.peak_horizon_days) if horizon_days is None else horizon_days
        for lo in range(0, n, _CHUNK):
            part = slice(lo, lo + _CHUNK)
            res = peak_trend(
                self.a["peaks"][part], self.peak_day, threshold[part],
                last_day=self.days_done, min_days=cfg.peak_min_days, z=cfg.peak_z,
                reach=cfg.peak_reach, horizon_days=horizon[part],
            )  # fmt: skip
            for o, r in zip(out, res, strict=True):
                o[part] = r
        return out

    def _refresh(self, idx: IntArray, now_ms: int) -> None:
        """Re-fit the season (from bins older than the gap) and the long trend of rows ``idx``."""
        cfg, a = self.config, self.a
        head = int(self.bin_of.max())
        used = self.bin_of >= 0
        age_s = np.where(used, (now_ms - (self.bin_of + 0.5) * self.bin_ms) / 1000.0, np.inf)
        older_col = used & ((self.bin_of + 1) * self.bin_ms <= now_ms - cfg.season_gap_s * 1000)
        phase = np.arange(cfg.history_bins) % self.nb  # column b % history_bins: phase b % nb
        per_phase = (-1, cfg.history_bins // self.nb, self.nb)
        x = -np.where(np.isfinite(age_s), age_s, 0.0)
        for lo in range(0, idx.size, _CHUNK):
            rows = idx[lo : lo + _CHUNK]
            c = a["bcnt"][rows].astype(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(c > 0, a["bsum"][rows] / c, 0.0)
            older = (c > 0) & older_col[None, :]
            wo = np.where(older, c, 0.0)
            hits = wo.reshape(per_phase).sum(axis=1)
            season = np.zeros((rows.size, self.nb))
            # Line and season in turn (classical decomposition): two days minus the gap cover
            # some times of day twice and others once, which tilts a line fitted first alone.
            for _ in range(3):
                slope0, icpt0 = _wlines(x, mean - season[:, phase], wo)
                resid = mean - (icpt0[:, None] + slope0[:, None] * x[None, :])
                sums = (resid * wo).reshape(per_phase).sum(axis=1)
                season = np.where(hits > 0, sums / np.maximum(hits, 1e-300), 0.0)
                season -= season.mean(axis=1, keepdims=True)
            history_s = (now_ms - a["first_ms"][rows]) / 1000.0
            season[history_s < cfg.period_s + cfg.season_gap_s] = 0.0
            a["season"][rows] = season
            a["rd"][rows] = a["rv"][rows] - np.take_along_axis(
                season, a["rph"][rows].astype(np.intp), axis=1
            )
            # The long trend: a straight line through the deseasonalised bin means.
            w = (c > 0) & (age_s <= cfg.long_window_s)[None, :]
            fit = _window_fit(x, mean - season[:, phase], w, cfg.min_samples)
            a["l_slope"][rows] = fit.slope
            a["l_se"][rows] = fit.se
            a["l_level"][rows] = fit.icpt
            a["l_span"][rows] = fit.span
            a["l_ms"][rows] = np.where(fit.ok, now_ms, -1)
            a["fit_bin"][rows] = head

    def eta(
        self, now_ms: int, threshold: FloatArray, horizon_s: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Seconds until each row's forecast first reaches its threshold (NaN: not within its
        horizon; 0: already there), and each row's current fitted level (NaN: not fitted)."""
        cfg, a = self.config, self.a
        n = self.rows
        eta = np.full(n, np.nan)
        level = np.full(n, np.nan)
        if n == 0 or horizon_s.max(initial=0.0) < cfg.grid_s:
            return eta, level
        first = a["first_ms"]
        ready = (first >= 0) & (now_ms - first >= cfg.warmup_s * 1000)
        if not ready.any():
            return eta, level
        head = int(self.bin_of.max())
        fit_bin = a["fit_bin"]
        due = ready & ((fit_bin < 0) | (head - fit_bin >= cfg.refresh_bins))
        due |= ready & (fit_bin != head) & ((np.arange(n) + head) % cfg.refresh_bins == 0)
        self._refresh(np.flatnonzero(due), now_ms)
        hot = np.flatnonzero(ready & self._screen(now_ms, threshold, horizon_s, ready))
        for lo in range(0, hot.size, _CHUNK):
            rows = hot[lo : lo + _CHUNK]
            eta[rows], level[rows] = self._fit(rows, now_ms, threshold[rows], horizon_s[rows])
        return eta, level

    def _screen(
        self, now_ms: int, threshold: FloatArray, horizon_s: FloatArray, ready: BoolArray
    ) -> BoolArray:
        """Rows whose forecast could breach: a bound on the short windows' path from the
        recent deseasonalised range, or the cached long trend's lower path."""
        cfg, a = self.config, self.a
        n = self.rows
        out = np.zeros(n, dtype=bool)
        short = max(w * r for w, r in zip(cfg.windows_s, cfg.reach, strict=True))
        ahead = now_ms + np.arange(0.0, short + cfg.grid_s, cfg.grid_s) * 1000
        ahead_phase = ((ahead % (cfg.period_s * 1000)) // self.bin_ms).astype(np.int64)
        # A least-squares line over an evenly sampled window rises at most 1.5 times the range
        # of its points across it and is extrapolated from half a window behind its end:
        # 1.5 * (0.5 + reach) ranges above the maximum, taken a third wider for uneven sampling.
        factor = 2.0 * (0.5 + max(cfg.reach))
        idx = np.flatnonzero(ready)
        for lo in range(0, idx.size, _CHUNK):
            rows = idx[lo : lo + _CHUNK]
            v = a["rv"][rows]
            season = a["season"][rows]
            d = a["rd"][rows]
            dmax = np.fmax.reduce(d, axis=1)
            dmin = np.fmin.reduce(d, axis=1)
            up = season[:, ahead_phase].max(axis=1)
            reach = dmax + factor * (dmax - dmin) + up
            there = np.fmax.reduce(v, axis=1) >= threshold[rows]
            long = self._long_bound(rows, now_ms, horizon_s[rows], season.max(axis=1))
            with np.errstate(invalid="ignore"):
                out[rows] = (reach >= threshold[rows]) | there | (long >= threshold[rows])
        return out

    def _long_bound(
        self, rows: IntArray, now_ms: int, horizon_s: FloatArray, season_max: FloatArray
    ) -> FloatArray:
        """The highest the long trend's lower path (slope ``band`` errors lower) can reach."""
        cfg, a = self.config, self.a
        dt = (now_ms - a["l_ms"][rows]) / 1000.0
        slope = a["l_slope"][rows]
        limit = np.minimum(horizon_s, cfg.long_reach * (a["l_span"][rows] + dt))
        low = np.maximum(slope - cfg.band * a["l_se"][rows], 0.0)
        bound = a["l_level"][rows] + slope * dt + season_max + low * limit
        return np.where(a["l_ms"][rows] >= 0, bound, -np.inf)

    def _fit(
        self, rows: IntArray, now_ms: int, threshold: FloatArray, horizon_s: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """The breach forecast of ``rows``: short windows on the recent samples, then the long
        trend, each allowed only while every shorter window still shows its growth."""
        cfg, a = self.config, self.a
        m = rows.size
        eta = np.full(m, np.nan)
        level = np.full(m, np.nan)
        v = a["rv"][rows].astype(np.float64)
        age_s = (now_ms - self.base_ms) / 1000.0 - a["rt"][rows]
        valid = np.isfinite(v) & (age_s >= 0)
        age_s = np.where(valid, age_s, 0.0)
        season = a["season"][rows].astype(np.float64)
        d = np.where(valid, v - np.take_along_axis(season, a["rph"][rows].astype(np.int64), 1), 0)
        steps = np.arange(1, int(horizon_s.max(initial=0.0) // cfg.grid_s) + 1) * cfg.grid_s
        period_ms = int(cfg.period_s * 1000)
        future_phase = ((now_ms + (steps * 1000).astype(np.int64)) % period_ms) // self.bin_ms
        now_phase = (now_ms % period_ms) // self.bin_ms
        last = (a["pos"][rows][:, None] - 1 - np.arange(3)[None, :]) % cfg.recent
        recent = np.take_along_axis(np.where(valid, v, np.nan), last, axis=1)
        with np.errstate(all="ignore"):
            there = np.nanmedian(
                np.where(np.isnan(recent).all(axis=1)[:, None], 0.0, recent), axis=1
            )
        fits: list[tuple[_Fit, float]] = []
        for window, reach in sorted(zip(cfg.windows_s, cfg.reach, strict=True)):
            w = valid & (age_s <= window)
            fits.append((_window_fit(-age_s, d, w, cfg.min_samples), reach))
        dt = (now_ms - a["l_ms"][rows]) / 1000.0
        long = _Fit(
            a["l_slope"][rows], a["l_se"][rows], a["l_level"][rows] + a["l_slope"][rows] * dt,
            a["l_span"][rows] + dt, a["l_ms"][rows] >= 0,
        )  # fmt: skip
        fits.append((long, cfg.long_reach))
        floor = np.full(m, np.inf)  # what shorter windows allow a longer one's slope to be
        for fit, reach in fits:
            ok, slope, se = fit.ok, fit.slope, fit.se
            here = fit.icpt + season[:, now_phase]
            level = np.where(ok & np.isnan(level), here, level)
            grows = ok & (slope > cfg.min_t * np.maximum(se, 1e-12)) & (0.5 * slope <= floor)
            floor = np.where(ok, np.minimum(floor, slope + 2.0 * se), floor)
            cand = np.full(m, np.nan)
            # Only growing rows can breach, and only over the steps within their reach.
            g = np.flatnonzero(grows)
            limit = np.minimum(horizon_s[g], reach * fit.span[g])
            st = steps[: int(np.searchsorted(steps, limit.max(initial=0.0), side="right"))]
            if g.size and st.size:
                thr = threshold[g, None]
                within = st[None, :] <= limit[:, None]
                flat = fit.icpt[g, None] + season[g][:, future_phase[: st.size]]
                recurring = ((flat >= thr) & within).any(axis=1)
                over = (flat + slope[g, None] * st[None, :] >= thr) & within
                first = np.argmax(over, axis=1)
                low = flat + (slope[g] - cfg.band * se[g])[:, None] * st[None, :]
                sure = ((low >= thr) & within).any(axis=1)
                found = ~recurring & sure & over[np.arange(g.size), first]
                cand[g] = np.where(found, st[first], np.nan)
            cand = np.where(ok & (there >= threshold), 0.0, cand)
            eta = np.fmin(eta, cand)
        return eta, level


BoolArray = npt.NDArray[np.bool_]

_CHUNK = 4096  # rows per vectorised step: bounds the temporaries on very many series


@dataclass(frozen=True, slots=True)
class _Fit:
    """A trend window's line per row: slope per s, its standard error, level now, span (s)."""

    slope: FloatArray
    se: FloatArray
    icpt: FloatArray
    span: FloatArray
    ok: BoolArray


def _window_fit(x: FloatArray, y: FloatArray, w: BoolArray, min_samples: int) -> _Fit:
    """Least-squares line of each row's points ``w`` (x: minus the age in s, broadcastable),
    with the slope's standard error widened for lag-1 autocorrelation of the residuals."""
    k = w.sum(axis=1).astype(np.float64)
    xw = np.where(w, x, 0.0)
    yw = np.where(w, y, 0.0)
    sx, sy = xw.sum(axis=1), yw.sum(axis=1)
    sxx, sxy = (xw * xw).sum(axis=1), (xw * yw).sum(axis=1)
    den = k * sxx - sx * sx
    ok = (k >= min_samples) & (den > 0)
    slope = np.where(ok, (k * sxy - sx * sy) / np.where(ok, den, 1.0), 0.0)
    icpt = (sy - slope * sx) / np.maximum(k, 1.0)
    r = np.where(w, yw - (icpt[:, None] + slope[:, None] * xw), 0.0)
    rr = (r * r).sum(axis=1)
    s2 = rr / np.maximum(k - 2, 1.0)
    # Neighbouring slots are neighbouring samples (but for the one wrap-around pair):
    # lag-1 autocorrelation of the residuals widens the slope's standard error.
    lag = np.where(w[:, 1:] & w[:, :-1], r[:, 1:] * r[:, :-1], 0.0).sum(axis=1)
    rho = np.clip(lag / np.maximum(rr, 1e-300), 0.0, 0.99)
    se = np.sqrt(s2 / np.where(ok, den / np.maximum(k, 1.0), 1.0))
    se = se * np.sqrt((1.0 + rho) / (1.0 - rho))
    span = np.where(w, -xw, 0.0).max(axis=1, initial=0.0)
    return _Fit(slope, se, icpt, span, ok)


def _wlines(x: FloatArray, y: FloatArray, wt: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Weighted least-squares slope and intercept per row (x shared; 0, mean when degenerate)."""
    wy = wt * y
    sw, sy = wt.sum(axis=1), wy.sum(axis=1)
    # einsum, not a BLAS product: a threaded gemv costs far more CPU on a busy host.
    sx, sxx = np.einsum("ij,j->i", wt, x), np.einsum("ij,j->i", wt, x * x)
    sxy = np.einsum("ij,j->i", wy, x)
    den = sw * sxx - sx * sx
    ok = den > 1e-9 * np.maximum(sw * sw, 1.0)
    slope = np.where(ok, (sw * sxy - sx * sy) / np.where(ok, den, 1.0), 0.0)
    return slope, (sy - slope * sx) / np.maximum(sw, 1e-300)
