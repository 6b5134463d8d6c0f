"""The ensemble's single compiled pass: validate once, run every member, calibrate.

Running the members one after another reads each sample, validates it and advances the
bookkeeping five times, and writes a z per member to memory for the calibration to read back.
Here one loop admits each sample once, runs every member's update on it, keeps the five z in
registers and writes only the outputs. The member sections repeat, statement for statement,
the members' own kernels (spike, level_shift, seasonal, trend, novelty) and
:func:`nocwise.detect.metrics.calibrate.calibrate_kernel`; a unit test holds the two paths
equal. The member bodies are pasted rather than called because numba passes state arrays to
a per-sample call with reference counting, which cost a factor of 5–8 when we tried it.

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

from nocwise.detect.metrics.arrays import FloatArray, book_advance, decay, decay_log
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
def visit_order(series: IntArray) -> IntArray:
    """The order to visit a batch's samples in: by series id, to within a few ids.

    Empty when the ids never decrease (a scrape in id order), which the pass visits as is.
    Otherwise a stable counting sort on ``id >> shift``, with about one bucket per sample:
    each series keeps its samples' time order, so the results are those of the batch order,
    while the pass walks the state arrays forwards, as the hardware prefetchers expect (in
    arbitrary id order every sample's state is a miss in every cache and in the TLB).
    """
    n = series.shape[0]
    top, ordered = 0, True
    for i in range(n):
        top = max(top, series[i])
        if i > 0 and series[i] < series[i - 1]:
            ordered = False
    if ordered:
        return np.empty(0, dtype=np.int64)
    shift = 0
    while (top >> shift) > n:
        shift += 1
    start = np.zeros((top >> shift) + 2, dtype=np.int64)
    for i in range(n):
        start[(series[i] >> shift) + 1] += 1
    for b in range(1, start.shape[0]):
        start[b] += start[b - 1]
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        b = series[i] >> shift
        order[start[b]] = i
        start[b] += 1
    return order


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
) -> None:
    """Probability, winner and band per sample; each member tuple holds its settings.

    ``st`` holds one record per series as a (field, series) view of a C-ordered (series,
    field) slab: field ``f`` of series ``s`` is ``st[f, s]``, so every field of a sample is
    one base address plus a constant, where separate arrays each cost their own base, strides
    and index arithmetic (spilled to the stack: the pass keeps too many to hold in
    registers). The fixed-size fields sit at the constant rows above; the spike and novelty
    tuples give their first rows. The series index is unsigned, which spares numba's
    negative-index wraparound on every access. The tuples are in the order of
    ``EnsembleDetector._member_args``. The band is the seasonal one where its bin is warm,
    else the long spike baseline's.
    """
    sp_loc, sp_dev, sp_alphas, sp_warmup, sp_clip, sp_floor = spike
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
    nv_env, nv_smooth, nv_base, nv_alphas, nv_clip, nv_base_a, nv_forget, nv_warmup, nv_floor = (
        novelty
    )
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
    bin_start, jd, jw = season_bins(ts[0] if ts.shape[0] else 0, bin_ms, n_day, n_week)
    for i in range(series.shape[0]):
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
                z_nv = max(z_nv, abs(f - mid) / (0.5 * (hi - lo) + scale_floor(mid, nv_floor)))
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
