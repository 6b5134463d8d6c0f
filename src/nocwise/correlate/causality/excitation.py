"""Exponentially decayed excitation that earlier alarms on a device's k-hop ring exert on it.

For an event i on device d and an alarm type u, ``x[i, u] = sum exp(-(t_i - t_j) / tau)`` over
the events j of type u raised strictly before ``t_i`` on the devices exactly ``hop`` links from d.
These are the covariates of the topological Hawkes intensity (Cai et al., THP, arXiv:2105.10884).
By default alarms with the same timestamp never excite each other, since their order is unknown.
With ``include_ties`` they do (each other alarm at the same instant adds 1): a test of whether
two types are dependent needs no order, and in storms many alarms share one second. The
compensator then adds a box of one timestamp resolution per alarm, so the kernel stays a density.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit


def ring_lists(
    topology: npt.NDArray[np.bool_] | None, n_devices: int, max_hop: int
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """CSR lists (ptr, idx) of the devices exactly h links away, for h = 0..max_hop."""
    adj = np.zeros((n_devices, n_devices), dtype=bool)
    if topology is not None:
        m = min(n_devices, topology.shape[0])
        adj[:m, :m] = topology[:m, :m]
        adj |= adj.T
    np.fill_diagonal(adj, False)
    seen = np.eye(n_devices, dtype=bool)
    frontier = np.eye(n_devices, dtype=bool)
    rings = []
    for hop in range(max_hop + 1):
        if hop > 0:
            frontier = ((frontier.astype(np.int64) @ adj.astype(np.int64)) > 0) & ~seen
            seen |= frontier
        counts = frontier.sum(axis=1)
        ptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        idx = np.nonzero(frontier)[1].astype(np.int64)
        rings.append((ptr, idx))
    return rings


@njit(cache=True)
def _excite(
    ts: npt.NDArray[np.float64],
    alarm_type: npt.NDArray[np.int64],
    by_device: npt.NDArray[np.int64],
    dev_ptr: npt.NDArray[np.int64],
    ring_ptr: npt.NDArray[np.int64],
    ring_idx: npt.NDArray[np.int64],
    n_types: int,
    tau: float,
    include_ties: bool,
) -> npt.NDArray[np.float64]:  # pragma: no cover - compiled
    n = ts.shape[0]
    x = np.zeros((n, n_types))
    n_dev = dev_ptr.shape[0] - 1
    state = np.zeros(n_types)
    for d in range(n_dev):
        lo, hi = dev_ptr[d], dev_ptr[d + 1]
        if hi == lo:
            continue
        cnt = 0
        for k in range(ring_ptr[d], ring_ptr[d + 1]):
            m = ring_idx[k]
            cnt += dev_ptr[m + 1] - dev_ptr[m]
        if cnt == 0:
            continue
        src = np.empty(cnt, dtype=np.int64)
        p = 0
        for k in range(ring_ptr[d], ring_ptr[d + 1]):
            m = ring_idx[k]
            for q in range(dev_ptr[m], dev_ptr[m + 1]):
                src[p] = by_device[q]
                p += 1
        src = src[np.argsort(ts[src], kind="mergesort")]
        state[:] = 0.0
        t_state = 0.0
        j = 0
        for q in range(lo, hi):
            i = by_device[q]
            t = ts[i]
            while j < cnt and (ts[src[j]] < t or (include_ties and ts[src[j]] == t)):
                s = src[j]
                if j > 0:
                    state *= np.exp(-(ts[s] - t_state) / tau)
                t_state = ts[s]
                state[alarm_type[s]] += 1.0
                j += 1
            if j > 0:
                x[i, :] = state * np.exp(-(t - t_state) / tau)
    return x


def excitation(
    ts: npt.NDArray[np.float64],
    alarm_type: npt.NDArray[np.int64],
    device: npt.NDArray[np.int64],
    n_types: int,
    n_devices: int,
    rings: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]],
    tau: float,
    include_ties: bool = False,
) -> npt.NDArray[np.float64]:
    """Covariates ``x[hop, i, u]`` (shape hops x n_events x n_types) at decay ``tau``."""
    by_device = np.lexsort((ts, device)).astype(np.int64)
    dev_ptr = np.searchsorted(device[by_device], np.arange(n_devices + 1)).astype(np.int64)
    ts64 = np.ascontiguousarray(ts, dtype=np.float64)
    types = np.ascontiguousarray(alarm_type, dtype=np.int64)
    out = np.empty((len(rings), ts.shape[0], n_types))
    for h, (ptr, idx) in enumerate(rings):
        out[h] = _excite(
            ts64, types, by_device, dev_ptr, ptr, idx, n_types, float(tau), include_ties
        )
    if include_ties:
        out[0, np.arange(ts.shape[0]), types] -= 1.0  # an alarm does not excite itself
    return out


def integrated_excitation(
    ts: npt.NDArray[np.float64],
    alarm_type: npt.NDArray[np.int64],
    device: npt.NDArray[np.int64],
    n_types: int,
    n_devices: int,
    rings: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]],
    raises: npt.NDArray[np.bool_],
    t_end: float,
    tau: float,
    tie_width: float = 0.0,
) -> npt.NDArray[np.float64]:
    """Compensator ``g[hop, u, v]``: the integral of the excitation of type-u events on type v.

    A device contributes to type v's compensator only if it ever raises v (``raises[device, v]``):
    a board that cannot raise an alarm type is not at risk of it. ``tie_width`` is the box that
    same-instant excitation occupies (the timestamp resolution) when ties are included.
    """
    w = tau * (1.0 - np.exp(-(t_end - ts) / tau)) + tie_width
    out = np.empty((len(rings), n_types, n_types))
    for h, (ptr, idx) in enumerate(rings):
        owner = np.repeat(np.arange(n_devices), np.diff(ptr))
        at_risk = np.zeros((n_devices, n_types))
        np.add.at(at_risk, owner, raises[idx].astype(np.float64))
        weight = np.zeros((n_types, n_devices))
        np.add.at(weight, (alarm_type, device), w)
        out[h] = weight @ at_risk
    return out


def timestamp_resolution(ts: npt.NDArray[np.float64]) -> float:
    """The smallest positive gap between distinct timestamps (1.0 when there is none)."""
    gaps = np.diff(np.unique(ts))
    return float(gaps.min()) if gaps.size else 1.0
