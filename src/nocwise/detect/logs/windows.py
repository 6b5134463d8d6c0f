"""Tumbling-window counts per key with an EWMA baseline: the core of frequency and burst checks.

Events fall into windows ``ts_ms // window_ms``. The newest window stays open (its partial counts
are state) until an event of a later window, or ``close_until(now_ms)``, closes it; closed windows
are handed back one at a time, oldest first, so that each is scored against a baseline learned
from the windows before it. Keys belong to entities (``key >> entity_shift``); a window scores
every known key of every entity active in it, so a template that falls silent counts as zero.

Counts are compared with an overdispersed Poisson band: ``z = (observed - mean) / sqrt(max(var,
mean) + 1)``, where mean and var are exponentially weighted over the key's past windows (plain
averages until ``1 / alpha`` windows, so young keys are not biased towards zero).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class ClosedWindow:
    """One closed window: per scored key, what was seen and what was expected."""

    window: int
    key: IntArray
    observed: FloatArray
    mean: FloatArray
    z: FloatArray
    windows_seen: IntArray


@dataclass(slots=True)
class WindowedCounts:
    """Open-window counts and per-key EWMA baselines (struct of arrays, keys sorted)."""

    window_ms: int
    alpha: float
    entity_shift: int = 0
    key: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    mean: FloatArray = field(default_factory=lambda: np.zeros(0))
    var: FloatArray = field(default_factory=lambda: np.zeros(0))
    n: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    open_window: int = -1  # -1: no window open
    closed_before: int = 0  # windows below this are closed: their events are late
    open_key: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    open_count: FloatArray = field(default_factory=lambda: np.zeros(0))
    open_active: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    late_events: int = 0

    def add(
        self, ts_ms: IntArray, key: IntArray, active_ts_ms: IntArray, active_entity: IntArray
    ) -> Iterator[ClosedWindow]:
        """Count ``key`` events and entity activity; yield the windows this closes, in order.

        The caller must :meth:`learn` (or not) each yielded window before taking the next one.
        Events older than the open window are late: they are counted in ``late_events`` and
        otherwise ignored.
        """
        win, act_win = ts_ms // self.window_ms, active_ts_ms // self.window_ms
        floor = max(self.open_window, self.closed_before)
        late, act_late = win < floor, act_win < floor
        self.late_events += int(act_late.sum())
        win, key = win[~late], key[~late]
        act_win, active_entity = act_win[~act_late], active_entity[~act_late]
        if not act_win.size:
            return
        newest = int(act_win.max())
        windows = np.unique(act_win)
        if self.open_window >= 0 and self.open_window < newest:
            windows = np.union1d(windows, [self.open_window])
        for w in windows[windows < newest]:
            yield self._score(int(w), key[win == w], active_entity[act_win == w])
        keys, counts = _count(key[win == newest])
        acts = active_entity[act_win == newest]
        if self.open_window == newest:
            keys, counts = _merge(self.open_key, self.open_count, keys, counts)
            acts = np.concatenate([self.open_active, acts])
        self.open_window, self.closed_before = newest, newest
        self.open_key, self.open_count, self.open_active = keys, counts, _unique(acts)

    def close_until(self, now_ms: int) -> Iterator[ClosedWindow]:
        """Yield the open window if it ended at or before ``now_ms``."""
        if self.open_window >= 0 and (self.open_window + 1) * self.window_ms <= now_ms:
            yield self._score(self.open_window, np.zeros(0, np.int64), np.zeros(0, np.int64))
            self.closed_before, self.open_window = self.open_window + 1, -1
            self.open_key, self.open_count = np.zeros(0, np.int64), np.zeros(0)
            self.open_active = np.zeros(0, np.int64)

    def learn(self, closed: ClosedWindow, mask: BoolArray) -> None:
        """Fold the observed counts of ``closed.key[mask]`` into the baselines."""
        key, x = closed.key[mask], closed.observed[mask]
        new = ~_contains(self.key, key)
        if new.any():
            merged = _unique(np.concatenate([self.key, key[new]]))
            pos = np.searchsorted(merged, self.key)
            mean, var, n = (
                np.zeros(merged.size),
                np.zeros(merged.size),
                np.zeros(merged.size, np.int64),
            )
            mean[pos], var[pos], n[pos] = self.mean, self.var, self.n
            self.key, self.mean, self.var, self.n = merged, mean, var, n
        i = np.searchsorted(self.key, key)
        w = np.maximum(self.alpha, 1.0 / (self.n[i] + 1))
        delta = x - self.mean[i]
        self.mean[i] += w * delta
        self.var[i] = (1.0 - w) * (self.var[i] + w * delta**2)
        self.n[i] += 1

    def _score(self, window: int, key: IntArray, active: IntArray) -> ClosedWindow:
        observed_key, counts = _count(key)
        if window == self.open_window:
            observed_key, counts = _merge(self.open_key, self.open_count, observed_key, counts)
            active = np.concatenate([self.open_active, active])
        active = _unique(active)
        known = self.key[_contains(active, self.key >> self.entity_shift)]
        new = ~_contains(known, observed_key)
        scored = _unique(np.concatenate([known, observed_key[new]])) if new.any() else known
        observed = np.zeros(scored.size)
        observed[np.searchsorted(scored, observed_key)] = counts
        i = np.minimum(np.searchsorted(self.key, scored), max(self.key.size - 1, 0))
        has = self.key[i] == scored if self.key.size else np.zeros(scored.size, bool)
        mean = np.where(has, self.mean[i] if self.key.size else 0.0, 0.0)
        var = np.where(has, self.var[i] if self.key.size else 0.0, 0.0)
        n = np.where(has, self.n[i] if self.key.size else 0, 0).astype(np.int64)
        z = (observed - mean) / np.sqrt(np.maximum(var, mean) + 1.0)
        return ClosedWindow(window, scored, observed, mean, z, n)

    def arrays(self, prefix: str) -> dict[str, npt.NDArray[np.int64] | FloatArray]:
        """State arrays, named with ``prefix``."""
        return {
            f"{prefix}key": self.key,
            f"{prefix}mean": self.mean,
            f"{prefix}var": self.var,
            f"{prefix}n": self.n,
            f"{prefix}open_key": self.open_key,
            f"{prefix}open_count": self.open_count,
            f"{prefix}open_active": self.open_active,
        }

    def params(self) -> dict[str, int]:
        """State scalars."""
        return {
            "open_window": self.open_window,
            "closed_before": self.closed_before,
            "late_events": self.late_events,
        }

    @classmethod
    def restore(
        cls,
        window_ms: int,
        alpha: float,
        entity_shift: int,
        params: dict[str, int],
        arrays: dict[str, npt.NDArray[np.generic]],
        prefix: str,
    ) -> WindowedCounts:
        """Rebuild from :meth:`params` and :meth:`arrays`."""
        a = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        return cls(
            window_ms,
            alpha,
            entity_shift,
            a["key"].astype(np.int64),
            a["mean"].astype(np.float64),
            a["var"].astype(np.float64),
            a["n"].astype(np.int64),
            int(params["open_window"]),
            int(params["closed_before"]),
            a["open_key"].astype(np.int64),
            a["open_count"].astype(np.float64),
            a["open_active"].astype(np.int64),
            int(params["late_events"]),
        )


def _contains(sorted_keys: IntArray, query: IntArray) -> BoolArray:
    """Whether each of ``query`` is in the sorted unique ``sorted_keys``."""
    if not sorted_keys.size:
        return np.zeros(query.shape, dtype=bool)
    i = np.minimum(np.searchsorted(sorted_keys, query), sorted_keys.size - 1)
    found: BoolArray = sorted_keys[i] == query
    return found


def _unique(values: IntArray) -> IntArray:
    """Sorted unique values (a plain sort: faster than numpy's hash-based unique on int64)."""
    v = np.sort(values.astype(np.int64))
    out: IntArray = v[np.r_[True, v[1:] != v[:-1]]] if v.size else v
    return out


def _count(key: IntArray) -> tuple[IntArray, FloatArray]:
    v = np.sort(key.astype(np.int64))
    if not v.size:
        return v, np.zeros(0)
    starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
    counts = np.diff(np.r_[starts, v.size]).astype(np.float64)
    return v[starts], counts


def _merge(
    key_a: IntArray, count_a: FloatArray, key_b: IntArray, count_b: FloatArray
) -> tuple[IntArray, FloatArray]:
    """Sum two sparse count vectors."""
    keys = np.concatenate([key_a, key_b]).astype(np.int64)
    if not keys.size:
        return keys, np.zeros(0)
    order = np.argsort(keys, kind="stable")
    k, c = keys[order], np.concatenate([count_a, count_b])[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    return k[starts], np.add.reduceat(c, starts).astype(np.float64)


class WindowSamples:
    """Evidence kept for windows still open: sparse sub-counts and a few example lines per key.

    Evidence must describe the window that closes, whose lines may have arrived in earlier
    batches, so it is collected as lines arrive and dropped once the window is closed.
    """

    def __init__(self, per_key: int) -> None:
        self.per_key = per_key
        self.counts: dict[int, tuple[IntArray, FloatArray]] = {}  # window -> (key, count)
        self.examples: dict[tuple[int, int], list[str]] = {}  # (window, key) -> lines

    def add(
        self, window: IntArray, key: IntArray, messages: Sequence[str] | None, rows: IntArray
    ) -> None:
        """Count ``key`` per window and keep the first lines of each (window, key).

        ``messages[rows[i]]`` is the line of ``key[i]``.
        """
        for w in np.unique(window):
            keys, counts = _count(key[window == w])
            old = self.counts.get(int(w))
            self.counts[int(w)] = _merge(*old, keys, counts) if old else (keys, counts)
        if messages is None or not key.size:
            return
        order = np.lexsort((key, window))
        ws, ks = window[order], key[order]
        idx = np.arange(order.size)
        new = np.r_[True, (ws[1:] != ws[:-1]) | (ks[1:] != ks[:-1])]
        rank = idx - np.maximum.accumulate(np.where(new, idx, 0))
        for r in order[rank < self.per_key]:
            kept = self.examples.setdefault((int(window[r]), int(key[r])), [])
            if len(kept) < self.per_key:
                kept.append(messages[int(rows[r])])

    def take(self, window: int, key: int) -> list[str]:
        """The example lines of ``key`` in ``window``."""
        return list(self.examples.get((window, key), []))

    def sub_counts(self, window: int) -> tuple[IntArray, FloatArray]:
        """The keys counted in ``window`` and their counts."""
        return self.counts.get(window, (np.zeros(0, np.int64), np.zeros(0)))

    def drop_through(self, window: int) -> None:
        """Forget every window up to and including ``window``."""
        self.counts = {w: c for w, c in self.counts.items() if w > window}
        self.examples = {k: v for k, v in self.examples.items() if k[0] > window}

    def to_json(self) -> dict[str, Any]:
        """Plain values for a state snapshot."""
        return {
            "counts": [[w, k.tolist(), c.tolist()] for w, (k, c) in self.counts.items()],
            "examples": [[w, k, v] for (w, k), v in self.examples.items()],
        }

    @classmethod
    def from_json(cls, per_key: int, data: dict[str, Any]) -> WindowSamples:
        """Rebuild from :meth:`to_json`."""
        out = cls(per_key)
        out.counts = {
            int(w): (np.asarray(k, np.int64), np.asarray(c, np.float64))
            for w, k, c in data["counts"]
        }
        out.examples = {(int(w), int(k)): list(v) for w, k, v in data["examples"]}
        return out
