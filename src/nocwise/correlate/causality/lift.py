"""Co-occurrence lift: the naive alarm-type causality peer the learned model must beat.

For each ordered pair (A, B): ``obs`` counts A-alarms followed (strictly later, within ``window_s``) by at least
one B-alarm on the same device or a 1-hop topology neighbour; ``exp`` sums, over those A-alarms,
``1 - exp(-rate_B * window_s)`` with ``rate_B`` B's count on that device group over the span.
A -> B is declared when ``obs / exp >= min_lift`` and ``obs >= min_count``.

Weak at: direction (co-occurrence is nearly symmetric, so both A -> B and B -> A often pass) and
indirect effects; its thresholds are fixed guesses, not a test against a null.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from nocwise.correlate.causality.events import AlarmEvents
from nocwise.correlate.causality.excitation import ring_lists


@njit(cache=True)
def _follow_counts(
    ts: npt.NDArray[np.float64],
    alarm_type: npt.NDArray[np.int64],
    by_device: npt.NDArray[np.int64],
    dev_ptr: npt.NDArray[np.int64],
    grp_ptr: npt.NDArray[np.int64],
    grp_idx: npt.NDArray[np.int64],
    n_types: int,
    window_s: float,
    span: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:  # pragma: no cover - compiled
    obs = np.zeros((n_types, n_types))
    exp = np.zeros((n_types, n_types))
    seen = np.zeros(n_types, dtype=np.bool_)
    for d in range(dev_ptr.shape[0] - 1):
        cnt = 0
        for k in range(grp_ptr[d], grp_ptr[d + 1]):
            m = grp_idx[k]
            cnt += dev_ptr[m + 1] - dev_ptr[m]
        if cnt == 0 or dev_ptr[d + 1] == dev_ptr[d]:
            continue
        src = np.empty(cnt, dtype=np.int64)
        p = 0
        for k in range(grp_ptr[d], grp_ptr[d + 1]):
            m = grp_idx[k]
            for q in range(dev_ptr[m], dev_ptr[m + 1]):
                src[p] = by_device[q]
                p += 1
        src = src[np.argsort(ts[src], kind="mergesort")]
        rate = np.zeros(n_types)
        for s in src:
            rate[alarm_type[s]] += 1.0 / span
        p_any = 1.0 - np.exp(-rate * window_s)
        lo = 0
        for q in range(dev_ptr[d], dev_ptr[d + 1]):
            i = by_device[q]
            t = ts[i]
            while lo < cnt and ts[src[lo]] <= t:
                lo += 1
            seen[:] = False
            j = lo
            while j < cnt and ts[src[j]] <= t + window_s:
                if src[j] != i:
                    seen[alarm_type[src[j]]] = True
                j += 1
            a = alarm_type[i]
            for b in range(n_types):
                if seen[b]:
                    obs[a, b] += 1.0
                exp[a, b] += p_any[b]
    return obs, exp


def lift_matrix(
    events: AlarmEvents,
    topology: npt.NDArray[np.bool_] | None,
    n_types: int,
    window_s: float = 600.0,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Observed and expected follow counts ``(obs, exp)``, each (n_types, n_types)."""
    n_dev = int(events.device.max(initial=-1)) + 1
    if topology is not None:
        n_dev = max(n_dev, topology.shape[0])
    if len(events) == 0:
        return np.zeros((n_types, n_types)), np.zeros((n_types, n_types))
    rings = ring_lists(topology, n_dev, 1 if topology is not None else 0)
    owner = [np.repeat(np.arange(n_dev), np.diff(p)) for p, _ in rings]
    pairs = np.concatenate(
        [np.stack([o, i]) for o, (_, i) in zip(owner, rings, strict=True)], axis=1
    )
    order = np.lexsort((pairs[1], pairs[0]))
    grp_idx = pairs[1][order].astype(np.int64)
    grp_ptr = np.searchsorted(pairs[0][order], np.arange(n_dev + 1)).astype(np.int64)
    by_device = np.lexsort((events.ts, events.device)).astype(np.int64)
    dev_ptr = np.searchsorted(events.device[by_device], np.arange(n_dev + 1)).astype(np.int64)
    span = max(float(events.ts.max() - events.ts.min()), 1.0)
    return _follow_counts(
        np.ascontiguousarray(events.ts, dtype=np.float64),
        np.ascontiguousarray(events.alarm_type, dtype=np.int64),
        by_device,
        dev_ptr,
        grp_ptr,
        grp_idx,
        n_types,
        float(window_s),
        span,
    )


def cooccurrence_lift(
    events: AlarmEvents,
    topology: npt.NDArray[np.bool_] | None,
    n_types: int,
    window_s: float = 600.0,
    min_lift: float = 2.0,
    min_count: int = 10,
) -> npt.NDArray[np.bool_]:
    """The declared edges (rows = causes), self-loops excluded."""
    obs, exp = lift_matrix(events, topology, n_types, window_s)
    lift = obs / np.where(exp > 0, exp, np.inf)
    adj = (lift >= min_lift) & (obs >= min_count)
    np.fill_diagonal(adj, False)
    return adj
