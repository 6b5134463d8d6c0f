"""Per-series calibration of unlike detectors onto one probability scale.

A robust z of 6 is routine on a bursty counter and unheard of on a smooth gauge. Each
detector's z is therefore divided by that series' own *record*: the largest z that detector
has produced on the series, forgetting by ``record_decay`` per sample. A ratio of 1 matches the
worst of the recent past; the probability is a logistic in the log ratio, 0.5 at the record.
This is the idea behind Numenta's anomaly likelihood (Ahmad et al. 2017, §4), with an
extreme-value reference instead of a Gaussian one, and Merlion's calibrator in spirit
(Bhatnagar et al. 2021): scores of different detectors become comparable before they are
combined and thresholded.

A record is weak evidence while it rests on few samples: of m exchangeable samples, the next
one beats all of them with probability 1/(m + 1), so a young series breaks records often and
innocently. The ratio is therefore tempered by a confidence that grows with the number m of
samples the detector has scored on the series, sqrt(m / (m + ``age_half``)), in the manner of
shrinking an estimate by its standard error (0 turns it off). A hard mute of young series
would instead miss an incident that happens early.

Weak at: the first samples after warm-up (a small record makes everything look extreme; the
record starts at ``record_floor`` and the age confidence only tempers it), and series whose
anomalies come in ever-growing waves.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from nocwise.model.metrics import IntArray

FloatArray = npt.NDArray[np.float64]


@njit(cache=True, error_model="numpy")
def calibrate_kernel(
    series: IntArray,
    z: FloatArray,
    weights: FloatArray,
    self_calibrated: npt.NDArray[np.bool_],
    record: npt.NDArray[np.floating[Any]],
    seen: npt.NDArray[Any],
    record_decay: float,
    record_floor: float,
    min_seen: float,
    sharpness: float,
    age_half: float,
    prob: FloatArray,
    winner: IntArray,
    learn: bool,
) -> None:
    """Calibrate ``z`` (detectors × samples) into ``prob`` and the winning detector per sample.

    The ensemble runs the same arithmetic inside its single pass (:mod:`fused`); this loop is
    the reference it is tested against.

    ``record`` and ``seen`` are (detectors × series), of any numeric dtype (the ensemble
    stores float32 records and uint32 counts); NaN z (cold detector) is skipped. A sample
    whose detectors are all cold stays NaN. A ``self_calibrated`` detector's z is already a
    ratio to the series' own history (novelty) and is used as is. ``age_half`` is the number
    of scored samples at which the age confidence reaches sqrt(1/2).
    """
    n_det = z.shape[0]
    for i in range(series.shape[0]):
        s = series[i]
        best = -1.0
        arg = -1
        for d in range(n_det):
            zd = z[d, i]
            if math.isnan(zd):
                continue
            if seen[d, s] >= min_seen:
                ref = 1.0 if self_calibrated[d] else max(record[d, s], record_floor)
                ratio = weights[d] * min(zd, 1e12) / ref
                if age_half > 0.0:
                    m = seen[d, s] - min_seen + 1.0
                    ratio *= math.sqrt(m / (m + age_half))
                if ratio > best:
                    best = ratio
                    arg = d
            if learn:
                seen[d, s] += 1
                record[d, s] = max(record[d, s] * record_decay, min(zd, 1e12))
        if arg >= 0:
            winner[i] = arg
            if best <= 0.0:
                prob[i] = 0.0
            else:
                prob[i] = 1.0 / (1.0 + best ** (-sharpness))
