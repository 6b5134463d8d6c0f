"""Robust exponentially weighted location and scale: the building block of every detector.

A Huber-clipped EW mean and EW mean absolute deviation: a sample further than ``clip`` scales
from the location moves it only as much as one at ``clip`` scales, so a spike cannot drag the
baseline or inflate the scale. Until ``warmup`` samples the estimates are plain running means.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

FloatArray = npt.NDArray[np.float64]
#: state arrays may be stored as float32 where their precision allows (seasonal bins)
StateArray = npt.NDArray[np.floating[Any]]
#: an array index: the ensemble's pass makes its indices unsigned, which spares numba's
#: negative-index wraparound on every state access
Index = int | np.uint64

#: mean absolute deviation -> standard deviation for Gaussian data (sqrt(pi/2)).
MAD_TO_SIGMA = 1.2533141373155003


@njit(cache=True, error_model="numpy")
def scale_floor(loc: float, rel_floor: float) -> float:
    """The smallest scale believed: quantised or flat series must not give infinite z."""
    return 1e-9 + rel_floor * abs(loc)


@njit(cache=True, error_model="numpy")
def robust_z(x: float, loc: float, dev: float, rel_floor: float) -> float:
    """|x - loc| in robust standard deviations."""
    return abs(x - loc) / (MAD_TO_SIGMA * dev + scale_floor(loc, rel_floor))


@njit(cache=True, error_model="numpy")
def ew_weight(a: float, n: float) -> float:
    """``max(a, 1 / n)``: a running mean for the first 1/a samples, then EW with weight ``a``.

    Exactly that maximum, without the division once ``n * a > 1`` (a warm series).
    """
    if n * a > 1.0:
        return a
    return max(a, 1.0 / n)


@njit(cache=True, error_model="numpy")
def robust_step(
    loc: StateArray,
    j_loc: Index,
    dev: StateArray,
    j_dev: Index,
    s: Index,
    x: float,
    a: float,
    n: float,
    clip: float,
) -> None:
    """One Huber-clipped EW step of ``loc[j_loc, s]`` and ``dev[j_dev, s]`` (n = samples incl.
    this). Two row indices, as the two may be rows of one per-series record (the ensemble's)."""
    r = x - loc[j_loc, s]
    if n <= 1.0:
        loc[j_loc, s] = x
        dev[j_dev, s] = 0.0
        return
    w = ew_weight(a, n)
    c = clip * MAD_TO_SIGMA * dev[j_dev, s]
    rc = min(max(r, -c), c) if n > 8.0 and c > 0.0 else r
    loc[j_loc, s] += w * rc
    dev[j_dev, s] += w * (abs(rc) - dev[j_dev, s])
