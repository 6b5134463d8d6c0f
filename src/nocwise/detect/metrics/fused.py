"""The ensemble's single compiled pass: validate once, run every member, calibrate.

Running the members one after another reads each sample, validates it and advances the
bookkeeping five times, and writes a z per member to memory for the calibration to read back.
Here one loop admits each sample once, runs every member's update on it, keeps the five z in
registers and writes only the outputs. The member sections repeat, statement for statement,
the members' own kernels (spike, level_shift, seasonal, trend, novelty) and
:func:`nocwise.detect.metrics.calibrate.calibrate_kernel`; a unit test holds the two paths
equal. The member bodies are pasted rather than called because numba passes state arrays to
a per-sample call with reference counting, which cost a factor of 5–8 when we tried it.

Runs of consecutive series ids on warm series, the common case of a scrape, take a second
path (:func:`steady_chunk`): one loop per member over the run, which LLVM turns into vector
instructions over consecutive series, with bit-identical results (a unit test holds this).

Every kernel here and in the members is compiled with numpy's error model: under Python's,
numba tests each divisor for zero to raise ``ZeroDivisionError``, and those tests cost about a
fifth of the pass. No divisor here can be zero (the scale floors keep them positive).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from nocwise.detect.metrics.arrays import (
    COUNT,
    DT,
    LAST_TS,
    FloatArray,
    book_advance,
    decay,
    decay_log,
    learn_extremes,
    repeats_extreme,
)
from nocwise.detect.metrics.level_shift import quantum
from nocwise.detect.metrics.novelty import BASE_CLIP, clip_band
from nocwise.detect.metrics.robust import (
    MAD_TO_SIGMA,
    ew_weight,
    robust_step,
    robust_z,
    scale_floor,
)
from nocwise.detect.metrics.seasonal import CNT_MAX
from nocwise.model.metrics import IntArray

#: Rows of the fixed-size fields in the per-series record, after the bookkeeping's five
#: (``arrays.BOOK_FIELDS``); the spike and novelty fields follow, sized by their configs.
LS_SHORT, LS_LOC, LS_DEV, SE_FIRST, TR_LEVEL, TR_SLOPE, TR_LOC, TR_DEV = range(5, 13)


@njit(cache=True, error_model="numpy")
def calibrated(num: float, den: float, sharpness: float) -> float:
    """``1 / (1 + ratio ** -sharpness)`` for ``ratio ** 2 = num / den``: one division at 4."""
    if num <= 0.0:
        return 0.0
    if sharpness == 4.0:
        return num * num / (num * num + den * den)
    p = (num / den) ** (0.5 * sharpness)
    return float(p / (1.0 + p))


@njit(cache=True, error_model="numpy")
def season_bins(t: int, bin_ms: int, n_day: int, n_week: int) -> tuple[int, np.uint64, np.uint64]:
    """Start of the bin holding ``t``, and its hour-of-day and hour-of-week bin indices."""
    b = t // bin_ms
    return b * bin_ms, np.uint64(b % n_day), np.uint64(n_day + b % n_week)


@njit(cache=True, error_model="numpy")
def visit_plan(series: IntArray) -> tuple[IntArray, IntArray]:
    """The order to visit a batch's samples in, by series id to within a few ids, and each
    sample's place in it (``order[place[i]] == i``).

    Both empty when the ids never decrease (a scrape in id order), which the pass visits as
    is. Otherwise a stable counting sort on ``id >> shift``, with about one bucket per
    sample: each series keeps its samples' time order, so the results are those of the
    batch order, while the pass walks the state arrays forwards, as the hardware prefetchers
    expect (in arbitrary id order every sample's state is a miss in every cache and in the
    TLB). ``place`` comes from the sort's last loop at the cost of a sequential store; it
    lets the outputs go back to batch order by gathering (:func:`gather_outputs`), cheaper
    than scattering them by ``order``.
    """
    n = series.shape[0]
    top, ordered = 0, True
    for i in range(n):
        top = max(top, series[i])
        if i > 0 and series[i] < series[i - 1]:
            ordered = False
    if ordered:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    shift = 0
    while (top >> shift) > n:
        shift += 1
    start = np.zeros((top >> shift) + 2, dtype=np.int64)
    for i in range(n):
        start[(series[i] >> shift) + 1] += 1
    for b in range(1, start.shape[0]):
        start[b] += start[b - 1]
    order = np.empty(n, dtype=np.int64)
    place = np.empty(n, dtype=np.int64)
    for i in range(n):
        b = series[i] >> shift
        order[start[b]] = i
        place[i] = start[b]
        start[b] += 1
    return order, place


@njit(cache=True, error_model="numpy")
def gather_inputs(
    order: IntArray, ts: IntArray, values: FloatArray, ts_o: IntArray, values_o: FloatArray
) -> None:
    """Timestamps and values in the visiting order into ``ts_o`` and ``values_o``, in one
    loop over ``order``."""
    for i in range(order.shape[0]):
        o = order[i]
        ts_o[i], values_o[i] = ts[o], values[o]


@njit(cache=True, error_model="numpy")
def gather_outputs(
    place: IntArray,
    prob: FloatArray,
    winner: npt.NDArray[np.int64],
    lower: FloatArray,
    upper: FloatArray,
    prob_o: FloatArray,
    winner_o: npt.NDArray[np.int64],
    lower_o: FloatArray,
    upper_o: FloatArray,
) -> None:
    """The pass's outputs (in visiting order) back in batch order into the ``_o`` arrays,
    read through ``place``: random loads, which the core overlaps, where scattering was
    random stores."""
    for i in range(place.shape[0]):
        j = place[i]
        prob_o[i], winner_o[i], lower_o[i], upper_o[i] = prob[j], winner[j], lower[j], upper[j]


#: The leaf helpers again, inlined into numba's IR: LLVM vectorises no loop that calls a
#: compiled function (each call also returns a status that the caller branches on).
_scale_floor = njit(inline="always", error_model="numpy")(scale_floor.py_func)
_ew_weight = njit(inline="always", error_model="numpy")(ew_weight.py_func)
_quantum = njit(inline="always", error_model="numpy")(quantum.py_func)


@njit(inline="always", error_model="numpy")
def _robust_z(x: float, loc: float, dev: float, rel_floor: float) -> float:
    """:func:`robust_z` with the floor inlined."""
    return abs(x - loc) / (MAD_TO_SIGMA * dev + _scale_floor(loc, rel_floor))


#: Samples per chunk of the steady path (its scratch rows stay in L1), and the shortest run
#: of consecutive ids worth taking it for.
CHUNK = 1024
MIN_RUN = 16


@njit(cache=True, inline="always", error_model="numpy")
def robust_next_w(
    loc: float, dev: float, x: float, w: float, n: float, clip: float
) -> tuple[float, float]:
    """:func:`robust_next` given the sample's weight ``w = ew_weight(a, n)``."""
    r = x - loc
    c = clip * MAD_TO_SIGMA * dev
    rc = min(max(r, -c), c) if n > 8.0 and c > 0.0 else r
    new_loc = loc + w * rc
    new_dev = dev + w * (abs(rc) - dev)
    if n <= 1.0:
        return x, 0.0
    return new_loc, new_dev


@njit(cache=True, inline="always", error_model="numpy")
def robust_next(
    loc: float, dev: float, x: float, a: float, n: float, clip: float
) -> tuple[float, float]:
    """:func:`robust_step`'s new location and deviation as values, in the same operations.

    A helper that writes to arrays keeps the loop that calls it scalar; on values, LLVM
    turns the branches into selects and updates several series per instruction.
    """
    return robust_next_w(loc, dev, x, _ew_weight(a, n), n, clip)


@njit(cache=True, error_model="numpy")
def steady_run(
    series: IntArray,
    ts: IntArray,
    values: FloatArray,
    st: FloatArray,
    i0: int,
    bin_start: int,
    bin_ms: int,
    need: float,
    gap_factor: float,
) -> int:
    """Samples from ``i0`` that the steady path may take: 0, or a run of consecutive ids.

    The run (at most :data:`CHUNK`) qualifies when every sample is finite, in order, no gap,
    in the current seasonal bin, on a series past every warm-up with its seasonal start set:
    then every time-aware weight is its alpha and every member scores, as the scalar pass
    would find sample by sample.
    """
    n = min(CHUNK, series.shape[0] - i0)
    s0 = series[i0]
    run = 0
    while run < n and series[i0 + run] == s0 + run:
        run += 1
    if run < MIN_RUN:
        return -run
    bad = 0
    for j in range(run):
        i, s = np.uint64(i0 + j), np.uint64(s0 + j)
        x, tsi = values[i], ts[i]
        t, last, dt_typ = float(tsi), st[LAST_TS, s], st[DT, s]
        dt = t - last
        k = 1.0 if dt == dt_typ else dt / dt_typ
        ok = (
            math.isfinite(x)
            & (tsi >= bin_start)
            & (tsi - bin_start < bin_ms)
            & (st[COUNT, s] >= need)
            & (t >= last)
            & (dt_typ > 0.0)
            & (not k > gap_factor)
            & (st[SE_FIRST, s] > 0.0)
        )
        bad += 0 if ok else 1
    return run if bad == 0 else -run


@njit(cache=True, error_model="numpy")
def row_table(spike: tuple[Any, ...], novelty: tuple[Any, ...]) -> npt.NDArray[np.uint64]:
    """The record rows the steady spike and novelty loops visit, one column per baseline
    or feature: spike location, deviation; novelty low, high, smoothed.

    The loops read their rows from this table rather than computing them from the loop
    counter: LLVM would then hoist the inner loop's overlap checks out of the outer loop,
    over every row the outer loop visits, where they always overlap and the vector loop
    is never taken (measured: the novelty member ran at half speed).
    """
    sp_loc, sp_dev, sp_alphas = spike[0], spike[1], spike[2]
    nv_env, nv_smooth, nv_alphas = novelty[0], novelty[1], novelty[3]
    n_sp, n_nv = sp_alphas.shape[0], nv_alphas.shape[0] + 1
    rows = np.zeros((5, max(n_sp, n_nv)), dtype=np.uint64)
    for b in range(n_sp):
        rows[0, b], rows[1, b] = sp_loc + np.uint64(b), sp_dev + np.uint64(b)
    for f in range(n_nv):
        rows[2, f], rows[3, f] = nv_env + np.uint64(2 * f), nv_env + np.uint64(2 * f + 1)
        rows[4, f] = nv_smooth + np.uint64(max(f - 1, 0))
    return rows


@njit(cache=True, error_model="numpy")
def steady_book(
    s0: int, i0: int, run: int, ts: IntArray, st: FloatArray, times: FloatArray
) -> None:
    """The bookkeeping of a steady run: in order, no gap, past the second sample. Writes
    the timestamps as float64 to ``times`` for the seasonal loop (AVX2 has no conversion
    of 64-bit integers, so each is a scalar instruction: once per sample, not twice)."""
    for j in range(run):
        ju, i, s = np.uint64(j), np.uint64(i0 + j), np.uint64(s0 + j)
        t = float(ts[i])
        times[ju] = t
        dt_typ = st[DT, s]
        st[DT, s] = dt_typ + 0.05 * ((t - st[LAST_TS, s]) - dt_typ)
        st[COUNT, s] = st[COUNT, s] + 1.0
        st[LAST_TS, s] = t


@njit(cache=True, error_model="numpy")
def steady_spike(
    s0: int,
    i0: int,
    run: int,
    values: FloatArray,
    st: FloatArray,
    spike: tuple[Any, ...],
    rows: npt.NDArray[np.uint64],
    z_sp: FloatArray,
    band_loc: FloatArray,
    band_sd: FloatArray,
) -> None:
    """The spike member on a steady run; its long baseline gives the band by default."""
    sp_loc, sp_dev, sp_alphas, _, sp_clip, sp_floor, sp_ext = spike
    last = np.uint64(sp_alphas.shape[0] - 1)
    for j in range(run):
        ju, s = np.uint64(j), np.uint64(s0 + j)
        z_sp[ju] = np.inf
        band_loc[ju] = st[sp_loc + last, s]
        band_sd[ju] = MAD_TO_SIGMA * st[sp_dev + last, s] + _scale_floor(band_loc[ju], sp_floor)
    for b in range(sp_alphas.shape[0]):
        lr, dr, a = rows[0, b], rows[1, b], sp_alphas[b]
        for j in range(run):
            ju, i, s = np.uint64(j), np.uint64(i0 + j), np.uint64(s0 + j)
            x, loc, dev = values[i], st[lr, s], st[dr, s]
            z_sp[ju] = min(z_sp[ju], _robust_z(x, loc, dev, sp_floor))
            st[lr, s], st[dr, s] = robust_next(loc, dev, x, a, st[COUNT, s], sp_clip)
    e_hi, e_lo = sp_ext, sp_ext + np.uint64(1)  # learned by the novelty loop, after this one
    for j in range(run):
        ju, i, s = np.uint64(j), np.uint64(i0 + j), np.uint64(s0 + j)
        x = values[i]
        z_sp[ju] = np.nan if (x == st[e_hi, s]) | (x == st[e_lo, s]) else z_sp[ju]


@njit(cache=True, error_model="numpy")
def steady_level_shift(
    s0: int,
    i0: int,
    run: int,
    values: FloatArray,
    st: FloatArray,
    level_shift: tuple[Any, ...],
    z_ls: FloatArray,
) -> None:
    """The level-shift member on a steady run."""
    ls_fast, ls_slow, _, ls_clip, ls_floor, ls_last, ls_step, ls_res = level_shift
    ls_se = math.sqrt(ls_fast / (2.0 - ls_fast))
    for j in range(run):
        ju, i, s = np.uint64(j), np.uint64(i0 + j), np.uint64(s0 + j)
        x, n, short = values[i], st[COUNT, s], st[LS_SHORT, s]
        loc, dev = st[LS_LOC, s], st[LS_DEV, s]
        m = short + _ew_weight(ls_fast, n) * (x - short)
        sigma = MAD_TO_SIGMA * dev + _scale_floor(loc, ls_floor)
        sigma += ls_res * st[ls_step, s]
        z_ls[ju] = abs(m - loc) / (sigma * ls_se)
        st[LS_SHORT, s] = m
        st[LS_LOC, s], st[LS_DEV, s] = robust_next(loc, dev, x, ls_slow, n, ls_clip)
        st[ls_step, s] = _quantum(x, st[ls_last, s], st[ls_step, s], n)
        st[ls_last, s] = x


@njit(inline="always", error_model="numpy")
def _seasonal_loop(args: tuple[Any, ...], young_d: bool, young_w: bool) -> None:
    """:func:`steady_seasonal`'s loop; ``young_d`` (``young_w``) false when every daily
    (weekly) bin of the run is past 1/alpha samples, where ``ew_weight`` is alpha itself.
    Passed as constants, the flags drop the division ``1 / count`` from the loop."""
    s0, i0, run, times, values, st, seasonal, jd, jw, z_se, band = args
    se_loc, se_dev, se_cnt, bin_ms, n_day, n_week, se_alpha, se_min, se_clip, se_floor = seasonal
    week_ms, day_ms = 2.0 * n_week * bin_ms, 2.0 * n_day * bin_ms
    for j in range(run):
        ju, i, s = np.uint64(j), np.uint64(i0 + j), np.uint64(s0 + j)
        x, t = values[i], times[ju]
        age = t - (st[SE_FIRST, s] - 1.0)
        # counts as float64 straight from uint16 (numba's integer arithmetic is 64-bit,
        # and AVX2 converts no 64-bit integer to float64: each lane went through a scalar)
        cnt_d, cnt_w = float(se_cnt[jd, s]), float(se_cnt[jw, s])
        loc_d, dev_d, loc_w, dev_w = se_loc[jd, s], se_dev[jd, s], se_loc[jw, s], se_dev[jw, s]
        weekly = (age >= week_ms) & (cnt_w >= se_min)
        warm = weekly | ((age >= day_ms) & (cnt_d >= se_min))
        loc_b = loc_w if weekly else loc_d
        dev_b = dev_w if weekly else dev_d
        z_se[ju] = _robust_z(x, loc_b, dev_b, se_floor) if warm else np.nan
        # the band goes to rows of its own, written whatever ``warm``: a store only where
        # warm became a masked store, slow on AMD's cores before Zen 4
        band[2, ju] = float(loc_b)
        band[3, ju] = MAD_TO_SIGMA * dev_b + _scale_floor(loc_b, se_floor)
        band[4, ju] = 1.0 if warm else 0.0
        cnt_d = cnt_d + 1.0 if cnt_d < CNT_MAX else cnt_d
        cnt_w = cnt_w + 1.0 if cnt_w < CNT_MAX else cnt_w
        se_cnt[jd, s], se_cnt[jw, s] = np.uint16(cnt_d), np.uint16(cnt_w)
        w_d = _ew_weight(se_alpha, cnt_d) if young_d else se_alpha
        w_w = _ew_weight(se_alpha, cnt_w) if young_w else se_alpha
        se_loc[jd, s], se_dev[jd, s] = robust_next_w(loc_d, dev_d, x, w_d, cnt_d, se_clip)
        se_loc[jw, s], se_dev[jw, s] = robust_next_w(loc_w, dev_w, x, w_w, cnt_w, se_clip)


@njit(cache=True, error_model="numpy")
def steady_seasonal(
    s0: int,
    i0: int,
    run: int,
    times: FloatArray,
    values: FloatArray,
    st: FloatArray,
    seasonal: tuple[Any, ...],
    jd: np.uint64,
    jw: np.uint64,
    z_se: FloatArray,
    band: FloatArray,
) -> None:
    """The seasonal member on a steady run: every sample in the bins (jd, jw), its start
    set. Writes its band and whether the bin is warm (where the band replaces the spike's)
    to ``band`` rows 2-4; ``times`` are the run's timestamps as float64 (:func:`steady_book`).

    The loop comes in three versions, by whether any daily or weekly bin of the run is
    still young (:func:`_seasonal_loop`); the results are the same bits either way.
    """
    se_cnt, se_alpha = seasonal[2], seasonal[6]
    low_d = low_w = CNT_MAX
    for j in range(run):
        s = np.uint64(s0 + j)
        low_d, low_w = min(low_d, se_cnt[jd, s]), min(low_w, se_cnt[jw, s])
    # the count each bin reaches with this sample (saturating), as _ew_weight sees it
    young_d = not float(min(low_d + 1, CNT_MAX)) * se_alpha > 1.0
    young_w = not float(min(low_w + 1, CNT_MAX)) * se_alpha > 1.0
    # a weekly bin holds at most the samples of its daily bin (when the week is whole days
    # and below saturation), so
    # three versions: a young daily bin takes the loop that divides for both
    args = (s0, i0, run, times, values, st, seasonal, jd, jw, z_se, band)
    if young_d:
        _seasonal_loop(args, True, True)
    elif young_w:
        _seasonal_loop(args, False, True)
    else:
        _seasonal_loop(args, False, False)


@njit(cache=True, error_model="numpy")
def steady_trend(
    s0: int,
    i0: int,
    run: int,
    values: FloatArray,
    st: FloatArray,
    trend: tuple[Any, ...],
    z_tr: FloatArray,
) -> None:
    """The trend member on a steady run (one typical interval per sample)."""
    tr_level, tr_slope, tr_noise, tr_h, _, tr_clip, tr_floor = trend
    for j in range(run):
        ju, i, s = np.uint64(j), np.uint64(i0 + j), np.uint64(s0 + j)
        x, n = values[i], st[COUNT, s]
        level, slope = st[TR_LEVEL, s], st[TR_SLOPE, s]
        loc, dev = st[TR_LOC, s], st[TR_DEV, s]
        al = _ew_weight(tr_level, n)
        new_level = al * x + (1.0 - al) * (level + slope)
        new_slope = slope + tr_slope * ((new_level - level) - slope)
        sigma = MAD_TO_SIGMA * dev + _scale_floor(loc, tr_floor)
        z_tr[ju] = abs(new_slope) * tr_h / sigma
        st[TR_LEVEL, s], st[TR_SLOPE, s] = new_level, new_slope
        st[TR_LOC, s], st[TR_DEV, s] = robust_next(loc, dev, x - new_level, tr_noise, n, tr_clip)


@njit(cache=True, error_model="numpy")
def steady_novelty(
    s0: int,
    i0: int,
    run: int,
    values: FloatArray,
    st: FloatArray,
    novelty: tuple[Any, ...],
    rows: npt.NDArray[np.uint64],
    z_nv: FloatArray,
    clipped: FloatArray,
    repeat: FloatArray,
) -> None:
    """The novelty member on a steady run: the clipping baseline, then the raw value and
    each smoothing.

    The first loop also marks in ``repeat`` the samples equal to the highest or lowest value
    seen before them (the raw value's z is capped at 1 there), then learns both; the scalar
    pass learns them after the features, which read only the mark.

    The first loop writes each sample clipped about the baseline as it was before the sample
    (``clip_band``) to ``clipped``, for the fastest mean, then learns the baseline; the scalar
    pass learns it after the features, which neither read nor write it. The feature loops
    select ``clipped`` or the raw value with a flag fixed per feature, so both are loads the
    vector loop always makes.
    """
    _, _, nv_base, nv_alphas, nv_clip, nv_base_a, nv_forget, nv_warmup, nv_floor, nv_ext = novelty
    e_hi, e_lo = nv_ext, nv_ext + np.uint64(1)
    shrink_w = 0.5 * nv_forget
    fastest = np.argmax(nv_alphas) + 1 if nv_clip > 0.0 else -1
    b_loc, b_dev, b_n = nv_base, nv_base + np.uint64(1), nv_base + np.uint64(2)
    for j in range(run):
        ju, i, s = np.uint64(j), np.uint64(i0 + j), np.uint64(s0 + j)
        x, loc, dev, cnt = values[i], st[b_loc, s], st[b_dev, s], st[b_n, s]
        sd = MAD_TO_SIGMA * dev + _scale_floor(loc, nv_floor)
        sd = np.inf if cnt < nv_warmup else sd
        clipped[ju] = min(max(x, loc - nv_clip * sd), loc + nv_clip * sd)
        cnt = cnt + 1.0
        st[b_n, s] = cnt
        st[b_loc, s], st[b_dev, s] = robust_next(loc, dev, x, nv_base_a, cnt, BASE_CLIP)
        hi_e, lo_e = st[e_hi, s], st[e_lo, s]
        repeat[ju] = 1.0 if (x == hi_e) | (x == lo_e) else 0.0
        st[e_hi, s] = x if not hi_e >= x else hi_e
        st[e_lo, s] = x if not lo_e <= x else lo_e
    z_nv[:run] = 0.0
    for f_i in range(nv_alphas.shape[0] + 1):
        lo_row, hi_row, sm_row = rows[2, f_i], rows[3, f_i], rows[4, f_i]
        a = nv_alphas[f_i - 1] if f_i > 0 else 0.0
        clip_f = f_i == fastest
        for j in range(run):
            ju, i, s = np.uint64(j), np.uint64(i0 + j), np.uint64(s0 + j)
            x, xc = values[i], clipped[ju]
            f = x
            if f_i > 0:
                f = st[sm_row, s] + a * ((xc if clip_f else x) - st[sm_row, s])
                st[sm_row, s] = f
            lo, hi = st[lo_row, s], st[hi_row, s]
            mid = 0.5 * (hi + lo)
            z = abs(f - mid) / (0.5 * (hi - lo) + _scale_floor(mid, nv_floor))
            z = min(z, 1.0) if (f_i == 0) & (repeat[ju] > 0.0) else z
            z_nv[ju] = max(z_nv[ju], z)
            shrink = shrink_w * (hi - lo)
            st[lo_row, s] = min(lo + shrink, f)
            st[hi_row, s] = max(hi - shrink, f)


@njit(inline="always", error_model="numpy")
def _calibrate_pick(
    d: int,
    zd: float,
    weight: float,
    self_cal: bool,
    rec_d: float,
    seen_d: int,
    best: tuple[float, float, int],
    settings: tuple[float, float, float, float],
) -> tuple[float, float, int]:
    """One member's turn in the calibration's choice of the winner, as values (the best
    fraction so far and its member). Written out per member: LLVM vectorises no loop that
    holds a loop.

    ``m`` is ``seen - min_seen + 1`` in one subtraction, ``seen - (min_seen - 1)``: the
    same bits for counts below 2**53 and a whole ``min_seen`` (``EnsembleConfig`` holds
    an int). With ``self_cal`` a constant True, the record is not loaded at all.
    """
    best_num, best_den, arg = best
    r_floor, min_seen, m_off, age_half = settings
    r = weight * min(zd, 1e12)
    ref = 1.0 if self_cal else max(float(rec_d), r_floor)
    cnt = float(seen_d)
    m = cnt - m_off
    num = r * r * m
    den = ref * ref * (m + age_half)
    better = (not math.isnan(zd)) & (cnt >= min_seen) & (num * best_den > best_num * den)
    return (num if better else best_num), (den if better else best_den), (d if better else arg)


@njit(inline="always", error_model="numpy")
def _calibrate_learn(zd: float, seen_d: int, rec_d: float, r_decay: float) -> tuple[int, float]:
    """One member's count and record after a sample, as values."""
    if math.isnan(zd):
        return seen_d, float(rec_d)
    return seen_d + 1, max(rec_d * r_decay, min(zd, 1e12))


@njit(cache=True, error_model="numpy")
def steady_calibrate(
    s0: int,
    i0: int,
    run: int,
    calibration: tuple[Any, ...],
    zs: FloatArray,
    band_z: float,
    band: FloatArray,
    prob: FloatArray,
    winner: npt.NDArray[np.int64],
    lower: FloatArray,
    upper: FloatArray,
) -> None:
    """The calibration of a steady run (as in :func:`ensemble_kernel`, sharpness 4, only
    the novelty self-calibrated), with selects for the winner, and the outputs.

    Choosing and learning are two loops: in one, LLVM finds too many pairs of arrays that
    might overlap to check them all at run time. Which member is self-calibrated is a
    constant here: read from an array, each member's choice of reference was a select
    whose record load became a masked load (``vmaskmovps``), and the novelty's record was
    loaded for nothing.
    """
    weights, _, record, seen, r_decay, r_floor, min_seen, _, age_half = calibration
    w0, w1, w2, w3, w4 = weights[0], weights[1], weights[2], weights[3], weights[4]
    settings = (r_floor, min_seen, min_seen - 1.0, age_half)
    for j in range(run):
        ju, i, s = np.uint64(j), np.uint64(i0 + j), np.uint64(s0 + j)
        best = (-1.0, 1.0, -1)
        best = _calibrate_pick(0, zs[0, ju], w0, False, record[0, s], seen[0, s], best, settings)
        best = _calibrate_pick(1, zs[1, ju], w1, False, record[1, s], seen[1, s], best, settings)
        best = _calibrate_pick(2, zs[2, ju], w2, False, record[2, s], seen[2, s], best, settings)
        best = _calibrate_pick(3, zs[3, ju], w3, False, record[3, s], seen[3, s], best, settings)
        best = _calibrate_pick(4, zs[4, ju], w4, True, record[4, s], seen[4, s], best, settings)
        best_num, best_den, arg = best
        sq_num, sq_den = best_num * best_num, best_den * best_den
        p = 0.0 if best_num <= 0.0 else sq_num / (sq_num + sq_den)
        winner[i] = arg
        prob[i] = p if arg >= 0 else np.nan
        # every row loaded, then selected: a load under a condition becomes a masked load
        sp_loc, sp_sd, se_loc, se_sd = band[0, ju], band[1, ju], band[2, ju], band[3, ju]
        seasonal = band[4, ju] > 0.0
        loc_b = se_loc if seasonal else sp_loc
        sd_b = se_sd if seasonal else sp_sd
        lower[i] = loc_b - band_z * sd_b
        upper[i] = loc_b + band_z * sd_b
    for j in range(run):
        ju, s = np.uint64(j), np.uint64(s0 + j)
        seen[0, s], record[0, s] = _calibrate_learn(zs[0, ju], seen[0, s], record[0, s], r_decay)
        seen[1, s], record[1, s] = _calibrate_learn(zs[1, ju], seen[1, s], record[1, s], r_decay)
        seen[2, s], record[2, s] = _calibrate_learn(zs[2, ju], seen[2, s], record[2, s], r_decay)
        seen[3, s], record[3, s] = _calibrate_learn(zs[3, ju], seen[3, s], record[3, s], r_decay)
        seen[4, s], record[4, s] = _calibrate_learn(zs[4, ju], seen[4, s], record[4, s], r_decay)


@njit(cache=True, error_model="numpy")
def steady_chunk(
    s0: int,
    i0: int,
    run: int,
    ts: IntArray,
    values: FloatArray,
    st: FloatArray,
    spike: tuple[Any, ...],
    level_shift: tuple[Any, ...],
    seasonal: tuple[Any, ...],
    trend: tuple[Any, ...],
    novelty: tuple[Any, ...],
    calibration: tuple[Any, ...],
    jd: np.uint64,
    jw: np.uint64,
    band_z: float,
    rows: npt.NDArray[np.uint64],
    zs: FloatArray,
    band: FloatArray,
    scratch: FloatArray,
    prob: FloatArray,
    winner: npt.NDArray[np.int64],
    lower: FloatArray,
    upper: FloatArray,
) -> None:
    """Score and learn a run that :func:`steady_run` admitted, one member at a time.

    The same operations as the scalar pass for these samples (k = 1, every member warm),
    without the branches the run cannot take. Each member's loop walks consecutive series
    in each state row, so LLVM updates several series per instruction; the single loop
    over everything does not vectorise (too many rows and branches). Each member is its
    own function, whose compiled loop can be inspected alone (``inspect_asm``). ``zs``,
    ``band`` and ``scratch`` are scratch rows of at least :data:`CHUNK`: the members' z;
    the spike's band, the seasonal band and whether it is warm; the novelty's clipped
    input, the timestamps as float64, and the novelty's repeated extremes.
    """
    steady_book(s0, i0, run, ts, st, scratch[1])
    steady_spike(s0, i0, run, values, st, spike, rows, zs[0], band[0], band[1])
    steady_level_shift(s0, i0, run, values, st, level_shift, zs[1])
    steady_seasonal(s0, i0, run, scratch[1], values, st, seasonal, jd, jw, zs[2], band)
    steady_trend(s0, i0, run, values, st, trend, zs[3])
    steady_novelty(s0, i0, run, values, st, novelty, rows, zs[4], scratch[0], scratch[2])
    steady_calibrate(s0, i0, run, calibration, zs, band_z, band, prob, winner, lower, upper)


@njit(cache=True, error_model="numpy")
def scalar_pass(
    series: IntArray,
    ts: IntArray,
    values: FloatArray,
    st: FloatArray,
    gap_factor: float,
    spike: tuple[Any, ...],
    level_shift: tuple[Any, ...],
    seasonal: tuple[Any, ...],
    trend: tuple[Any, ...],
    novelty: tuple[Any, ...],
    calibration: tuple[Any, ...],
    band_z: float,
    prob: FloatArray,
    winner: npt.NDArray[np.int64],
    lower: FloatArray,
    upper: FloatArray,
    learn: bool,
    i0: int,
    i1: int,
    bins: tuple[int, np.uint64, np.uint64],
) -> tuple[int, np.uint64, np.uint64]:
    """:func:`ensemble_kernel` sample by sample, for samples ``i0 .. i1``; ``bins`` is the
    last seasonal bin seen (start, hour of day, hour of week), and the return value the
    bin after these samples.

    ``st`` holds every per-series field as a row of one (field, series) array, C-ordered
    (layout "rows") or the F-ordered view of a record per series (layout "records"): field
    ``f`` of series ``s`` is ``st[f, s]``, one base pointer and stride for all fields,
    where separate arrays each cost their own base, strides and index arithmetic (spilled to
    the stack: the pass keeps too many to hold in registers). The fixed-size fields sit at
    the constant rows above; the spike and novelty tuples give their first rows. The series
    index is unsigned, which spares numba's negative-index wraparound on every access. The
    band is the seasonal one where its bin is warm, else the long spike baseline's.
    """
    sp_loc, sp_dev, sp_alphas, sp_warmup, sp_clip, sp_floor, sp_ext = spike
    ls_fast, ls_slow, ls_warmup, ls_clip, ls_floor, ls_last, ls_step, ls_res = level_shift
    (
        se_loc,
        se_dev,
        se_cnt,
        bin_ms,
        n_day,
        n_week,
        se_alpha,
        se_min,
        se_clip,
        se_floor,
    ) = seasonal
    tr_level, tr_slope, tr_noise, tr_h, tr_warmup, tr_clip, tr_floor = trend
    (
        nv_env,
        nv_smooth,
        nv_base,
        nv_alphas,
        nv_clip,
        nv_base_a,
        nv_forget,
        nv_warmup,
        nv_floor,
        nv_ext,
    ) = novelty
    weights, self_cal, record, seen, r_decay, r_floor, min_seen, sharpness, age_half = calibration
    ls_se = math.sqrt(ls_fast / (2.0 - ls_fast))
    # log1p(-alpha) of every time-aware weight, once per batch (decay_log)
    sp_keep = np.log1p(-sp_alphas)
    ls_fast_keep, ls_slow_keep = math.log1p(-ls_fast), math.log1p(-ls_slow)
    tr_level_keep, tr_noise_keep = math.log1p(-tr_level), math.log1p(-tr_noise)
    nv_forget_keep, nv_base_keep = math.log1p(-nv_forget), math.log1p(-nv_base_a)
    nv_feat = nv_alphas.shape[0] + 1
    nv_fastest = np.argmax(nv_alphas) + 1 if nv_clip > 0.0 else -1
    sp_last = np.uint64(sp_alphas.shape[0] - 1)
    zs = np.empty(5)  # an array: indexing a tuple of five in the loop measured ~8% slower
    bin_start, jd, jw = bins
    for i in range(i0, i1):
        s, t, x = np.uint64(series[i]), float(ts[i]), values[i]
        prob[i], winner[i], lower[i], upper[i] = np.nan, -1, np.nan, np.nan
        k, n = book_advance(st, s, t, x, gap_factor, learn)
        if k < 0.0:
            continue

        # spike
        z_sp = band_loc = band_sd = np.nan
        if n > sp_warmup:
            z_sp = np.inf
            for j in range(sp_alphas.shape[0]):
                ju = np.uint64(j)
                z_sp = min(z_sp, robust_z(x, st[sp_loc + ju, s], st[sp_dev + ju, s], sp_floor))
            band_loc = st[sp_loc + sp_last, s]
            band_sd = MAD_TO_SIGMA * st[sp_dev + sp_last, s] + scale_floor(band_loc, sp_floor)
            if repeats_extreme(st, sp_ext, s, x):  # learned by the novelty section below
                z_sp = np.nan
        if learn:
            for j in range(sp_alphas.shape[0]):
                a = decay_log(sp_alphas[j], sp_keep[j], k)
                ju = np.uint64(j)
                robust_step(st, sp_loc + ju, st, sp_dev + ju, s, x, a, n, sp_clip)

        # level shift
        z_ls = np.nan
        a_fast = decay_log(ls_fast, ls_fast_keep, k)
        m = x if n <= 1.0 else st[LS_SHORT, s] + ew_weight(a_fast, n) * (x - st[LS_SHORT, s])
        if n > ls_warmup:
            sigma = MAD_TO_SIGMA * st[LS_DEV, s] + scale_floor(st[LS_LOC, s], ls_floor)
            sigma += ls_res * st[ls_step, s]
            z_ls = abs(m - st[LS_LOC, s]) / (sigma * ls_se)
        if learn:
            st[LS_SHORT, s] = m
            a = decay_log(ls_slow, ls_slow_keep, k)
            robust_step(st, LS_LOC, st, LS_DEV, s, x, a, n, ls_clip)
            st[ls_step, s] = quantum(x, st[ls_last, s], st[ls_step, s], n)
            st[ls_last, s] = x

        # seasonal (the bins are recomputed only when the sample leaves the last one's bin:
        # the integer divisions cost as much as a member when done per sample)
        z_se = np.nan
        if ts[i] < bin_start or ts[i] - bin_start >= bin_ms:
            bin_start, jd, jw = season_bins(ts[i], bin_ms, n_day, n_week)
        if se_cnt[jd, s] == 0 and se_cnt[jw, s] == 0 and st[SE_FIRST, s] == 0.0 and learn:
            st[SE_FIRST, s] = t + 1.0
        age = t - (st[SE_FIRST, s] - 1.0) if st[SE_FIRST, s] > 0.0 else 0.0
        warm, jb = True, jw
        if not (age >= 2.0 * n_week * bin_ms and se_cnt[jw, s] >= se_min):
            jb = jd
            warm = age >= 2.0 * n_day * bin_ms and se_cnt[jd, s] >= se_min
        if warm:
            z_se = robust_z(x, se_loc[jb, s], se_dev[jb, s], se_floor)
            band_loc = float(se_loc[jb, s])
            band_sd = MAD_TO_SIGMA * se_dev[jb, s] + scale_floor(se_loc[jb, s], se_floor)
        if learn:
            for jb in (jd, jw):
                if se_cnt[jb, s] < CNT_MAX:
                    se_cnt[jb, s] += 1
                c = float(se_cnt[jb, s])
                robust_step(se_loc, jb, se_dev, jb, s, x, decay(se_alpha, 1.0), c, se_clip)

        # trend
        z_tr = np.nan
        level, slope = st[TR_LEVEL, s], st[TR_SLOPE, s]
        if n <= 1.0:
            new_level, new_slope = x, 0.0
        else:
            al = ew_weight(decay_log(tr_level, tr_level_keep, k), n)
            new_level = al * x + (1.0 - al) * (level + slope * k)
            step = new_level - level if k == 1.0 else (new_level - level) / max(k, 1e-9)
            new_slope = slope + tr_slope * (step - slope)
        if n > tr_warmup:
            sigma = MAD_TO_SIGMA * st[TR_DEV, s] + scale_floor(st[TR_LOC, s], tr_floor)
            z_tr = abs(new_slope) * tr_h / sigma
        if learn:
            st[TR_LEVEL, s], st[TR_SLOPE, s] = new_level, new_slope
            a = decay_log(tr_noise, tr_noise_keep, k)
            robust_step(st, TR_LOC, st, TR_DEV, s, x - new_level, a, n, tr_clip)

        # novelty
        z_nv = np.nan
        scored = n > nv_warmup
        if scored:
            z_nv = 0.0
        shrink_w = 0.5 * decay_log(nv_forget, nv_forget_keep, k)
        mid_b, sd_b = clip_band(st, nv_base, s, nv_warmup, nv_floor)
        repeat = repeats_extreme(st, nv_ext, s, x)
        for j in range(nv_feat):
            lo_row, hi_row = nv_env + np.uint64(2 * j), nv_env + np.uint64(2 * j + 1)
            f = x
            if j > 0 and n > 1.0:
                sm_row = nv_smooth + np.uint64(j - 1)
                xc = x
                if j == nv_fastest:
                    xc = min(max(x, mid_b - nv_clip * sd_b), mid_b + nv_clip * sd_b)
                f = st[sm_row, s] + nv_alphas[j - 1] * (xc - st[sm_row, s])
            lo, hi = st[lo_row, s], st[hi_row, s]
            if scored:
                mid = 0.5 * (hi + lo)
                z_f = abs(f - mid) / (0.5 * (hi - lo) + scale_floor(mid, nv_floor))
                if j == 0 and repeat:
                    z_f = min(z_f, 1.0)
                z_nv = max(z_nv, z_f)
            if learn:
                if j > 0:
                    st[nv_smooth + np.uint64(j - 1), s] = f
                if n <= 1.0:
                    st[lo_row, s], st[hi_row, s] = f, f
                else:
                    shrink = shrink_w * (hi - lo)
                    st[lo_row, s] = min(lo + shrink, f)
                    st[hi_row, s] = max(hi - shrink, f)
        if learn:
            nb_n = nv_base + np.uint64(2)
            st[nb_n, s] += 1.0
            a = decay_log(nv_base_a, nv_base_keep, k)
            robust_step(st, nv_base, st, nv_base + np.uint64(1), s, x, a, st[nb_n, s], BASE_CLIP)
            learn_extremes(st, nv_ext, s, x)

        # calibration (as calibrate.calibrate_kernel): the largest ratio z / record wins.
        # Each squared ratio is kept as a fraction num / den and compared cross-multiplied,
        # so the pass divides once per sample instead of once per member, and the age
        # confidence sqrt(m / (m + age_half)) enters squared, without a square root.
        best_num, best_den, arg = -1.0, 1.0, -1
        zs[0], zs[1], zs[2], zs[3], zs[4] = z_sp, z_ls, z_se, z_tr, z_nv
        for d in range(5):
            zd = zs[d]
            if math.isnan(zd):
                continue
            if seen[d, s] >= min_seen:
                r = weights[d] * min(zd, 1e12)
                ref = 1.0 if self_cal[d] else max(float(record[d, s]), r_floor)
                m = seen[d, s] - min_seen + 1.0
                num = r * r * m
                den = ref * ref * (m + age_half)
                if num * best_den > best_num * den:
                    best_num, best_den, arg = num, den, d
            if learn:
                seen[d, s] += 1
                record[d, s] = max(record[d, s] * r_decay, min(zd, 1e12))
        if arg >= 0:
            winner[i] = arg
            prob[i] = calibrated(best_num, best_den, sharpness)
        lower[i] = band_loc - band_z * band_sd
        upper[i] = band_loc + band_z * band_sd
    return bin_start, jd, jw


@njit(cache=True, error_model="numpy")
def ensemble_kernel(
    series: IntArray,
    ts: IntArray,
    values: FloatArray,
    st: FloatArray,
    gap_factor: float,
    spike: tuple[Any, ...],
    level_shift: tuple[Any, ...],
    seasonal: tuple[Any, ...],
    trend: tuple[Any, ...],
    novelty: tuple[Any, ...],
    calibration: tuple[Any, ...],
    band_z: float,
    prob: FloatArray,
    winner: npt.NDArray[np.int64],
    lower: FloatArray,
    upper: FloatArray,
    learn: bool,
    vectorise: bool,
) -> None:
    """Probability, winner and band per sample; each member tuple holds its settings.

    Runs of consecutive ids on warm series go the steady way (:func:`steady_run`,
    :func:`steady_chunk`), the samples between them through :func:`scalar_pass`, whose
    loop holds none of the steady path's code (inside it, the loop ran 13% slower).
    ``vectorise`` allows the steady path: it pays only when ``st`` is C-ordered (a row per
    field). The tuples are in the order of ``EnsembleDetector._member_args``.
    """
    n = series.shape[0]
    bin_ms, n_day, n_week = seasonal[3], seasonal[4], seasonal[5]
    bins = season_bins(ts[0] if n else 0, bin_ms, n_day, n_week)
    args = (series, ts, values, st, gap_factor, spike, level_shift, seasonal, trend, novelty)
    outs = (calibration, band_z, prob, winner, lower, upper, learn)
    # the steady path's calibration (steady_calibrate): sharpness 4, a whole min_seen, and
    # only the novelty self-calibrated, as the ensemble's members are
    cal_self, min_seen = calibration[1], calibration[6]
    cal_ok = (calibration[7] == 4.0) & (min_seen == math.floor(min_seen))
    cal_ok &= not (cal_self[0] | cal_self[1] | cal_self[2] | cal_self[3]) and cal_self[4]
    if not (learn and vectorise and cal_ok):
        scalar_pass(*args, *outs, 0, n, bins)
        return
    # every member's warm-up: spike, level shift, trend, novelty (its 8th setting)
    need = float(max(spike[3], level_shift[2], trend[4], novelty[7], 2))
    # the scratch rows of a chunk, CHUNK + 16 apart: rows a multiple of 4 KB apart would
    # share the same sets of the L1 cache, and the calibration reads ten of them at once
    chunk = np.empty((13, CHUNK + 16))
    chunk_z, chunk_band, chunk_x = chunk[0:5], chunk[5:10], chunk[10:13]
    chunk_rows = row_table(spike, novelty)
    i = 0
    while i < n:
        j, run = i, 0  # the scalar samples i .. j, then a steady run from j
        while j < n:
            if ts[j] < bins[0] or ts[j] - bins[0] >= bin_ms:
                bins = season_bins(ts[j], bin_ms, n_day, n_week)
            run = steady_run(series, ts, values, st, j, bins[0], bin_ms, need, gap_factor)
            if run > 0:
                break
            j -= run
        if j > i:
            bins = scalar_pass(*args, *outs, i, j, bins)
        if run <= 0:
            break
        steady_chunk(
            series[j],
            j,
            run,
            ts,
            values,
            st,
            spike,
            level_shift,
            seasonal,
            trend,
            novelty,
            calibration,
            bins[1],
            bins[2],
            band_z,
            chunk_rows,
            chunk_z,
            chunk_band,
            chunk_x,
            prob,
            winner,
            lower,
            upper,
        )
        i = j + run
