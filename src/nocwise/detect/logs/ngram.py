"""Hashed n-gram counts over template ids, with Witten-Bell interpolated next-template probabilities.

Contexts of every order 0..n-1 are hashed to ``uint64`` (splitmix64 over the ids, nearest first),
so the table holds any template id space in three flat sorted arrays and every lookup is one
``np.searchsorted``. Counts only ever add up: learning a batch equals learning its two halves.

The probability of template *w* after context *c* interpolates each order with the one below it
(Witten & Bell, IEEE Trans. Inf. Theory 37(4), 1991; Chen & Goodman, "An empirical study of
smoothing techniques for language modeling", 1998)::

    P_k(w | c) = (N(c, w) + T(c) * P_{k-1}(w | c')) / (N(c) + T(c))

with ``T(c)`` the number of distinct templates seen after *c* and a uniform floor over the
vocabulary plus one unseen symbol. It needs no tuning: a context followed by many different
templates lends more weight to the shorter context.

>>> t = NgramTable.empty(order=2)
>>> t = t.learn(np.array([[BOS], [5], [6]]), np.array([5, 6, EOS]))
>>> p = t.probability(np.array([[5], [5]]), np.array([6, 9]))
>>> p.round(3).tolist()
[0.646, 0.062]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
U64Array = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]

#: Padding before the first template of a session or entity.
BOS = -1
#: The end of a session: a session that stops early is as telling as a wrong next template.
EOS = -2

#: The rank of a next template never seen after its context.
UNSEEN_RANK = np.iinfo(np.int64).max

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_PAIR_SALT = np.uint64(0xD6E8FEB86659FD93)
_ROOT = np.uint64(0x8CB92BA72F3D8DD7)


def mix(h: U64Array, x: IntArray) -> U64Array:
    """splitmix64 of ``h`` combined with ids ``x`` (wrapping uint64 arithmetic)."""
    z: U64Array = h ^ ((x.astype(np.uint64) + _GOLDEN) * _M2)
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    out: U64Array = z ^ (z >> np.uint64(31))
    return out


def context_hashes(context: IntArray, order: int) -> list[U64Array]:
    """Hashes of the contexts of order 0..order-1; ``context[:, 0]`` is the most recent id."""
    h = np.full(context.shape[0], _ROOT, dtype=np.uint64)
    out = [h]
    for k in range(order - 1):
        h = mix(h, context[:, k])
        out.append(h)
    return out


def _lookup(keys: U64Array, query: U64Array) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    idx = np.searchsorted(keys, query).astype(np.int64)
    idx_c = np.minimum(idx, max(keys.shape[0] - 1, 0))
    found = (idx < keys.shape[0]) & (keys[idx_c] == query) if keys.shape[0] else idx < 0
    return idx_c, found


@dataclass(frozen=True, slots=True)
class NgramTable:
    """Counts of (context, next template) for all orders up to ``order - 1`` context ids.

    ``pair_key`` is sorted; ``pair_ctx`` and ``pair_count`` are aligned with it. The context
    totals (``ctx_key``, ``ctx_total``, ``ctx_types``) are derived from the pairs.
    """

    order: int
    pair_key: U64Array
    pair_ctx: U64Array
    pair_count: IntArray
    ctx_key: U64Array
    ctx_total: IntArray
    ctx_types: IntArray

    @classmethod
    def empty(cls, order: int) -> NgramTable:
        """A table that has seen nothing."""
        u, i = np.empty(0, np.uint64), np.empty(0, np.int64)
        return cls(order, u, u, i, u, i, i)

    @classmethod
    def from_pairs(
        cls, order: int, pair_key: U64Array, pair_ctx: U64Array, pair_count: IntArray
    ) -> NgramTable:
        """Rebuild the derived context totals from the pair counts (pairs sorted by key)."""
        ctx_key, inv = np.unique(pair_ctx, return_inverse=True)
        total = np.bincount(inv, weights=pair_count, minlength=ctx_key.shape[0])
        types = np.bincount(inv, minlength=ctx_key.shape[0])
        return cls(
            order,
            pair_key,
            pair_ctx,
            pair_count,
            ctx_key,
            total.astype(np.int64),
            types.astype(np.int64),
        )

    @property
    def vocabulary(self) -> int:
        """Distinct next symbols seen (templates and the end of a session)."""
        _, found = _lookup(self.ctx_key, np.array([_ROOT], dtype=np.uint64))
        return int(self.ctx_types[np.searchsorted(self.ctx_key, _ROOT)]) if found[0] else 0

    def learn(self, context: IntArray, target: IntArray) -> NgramTable:
        """A table with the (context, target) transitions added; ``context`` is (m, order-1)."""
        hashes = context_hashes(context, self.order)
        ctx = np.concatenate(hashes)
        pair = mix(ctx ^ _PAIR_SALT, np.tile(target, self.order))
        keys = np.concatenate([self.pair_key, pair])
        ctxs = np.concatenate([self.pair_ctx, ctx])
        counts = np.concatenate([self.pair_count, np.ones(pair.shape[0], dtype=np.int64)])
        uniq, first, inv = np.unique(keys, return_index=True, return_inverse=True)
        summed = np.bincount(inv, weights=counts, minlength=uniq.shape[0]).astype(np.int64)
        return NgramTable.from_pairs(self.order, uniq, ctxs[first], summed)

    def probability(self, context: IntArray, target: IntArray) -> FloatArray:
        """Witten-Bell P(target | context) per row; ``context`` is (m, order-1), nearest first."""
        p = np.full(target.shape[0], 1.0 / (self.vocabulary + 1), dtype=np.float64)
        for h in context_hashes(context, self.order):
            ci, cfound = _lookup(self.ctx_key, h)
            total = np.where(cfound, self.ctx_total[ci] if self.ctx_key.size else 0, 0)
            types = np.where(cfound, self.ctx_types[ci] if self.ctx_key.size else 0, 0)
            pi, pfound = _lookup(self.pair_key, mix(h ^ _PAIR_SALT, target))
            count = np.where(pfound, self.pair_count[pi] if self.pair_key.size else 0, 0)
            seen = total > 0
            p = np.where(seen, (count + types * p) / np.maximum(total + types, 1), p)
        return p

    def rank(self, context: IntArray, target: IntArray) -> IntArray:
        """Rank of ``target`` among the templates seen after the longest known context (0 best).

        The DeepLog-style top-g test: a target never seen after that context ranks
        :data:`UNSEEN_RANK`, and so does every target when no context of any order is known.
        """
        rank = np.full(target.shape[0], UNSEEN_RANK, dtype=np.int64)
        for h in context_hashes(context, self.order):
            ci, cfound = _lookup(self.ctx_key, h)
            if not cfound.any():
                continue
            pi, pfound = _lookup(self.pair_key, mix(h ^ _PAIR_SALT, target))
            count = np.where(pfound, self.pair_count[pi] if self.pair_key.size else 0, 0)
            better = self._count_above(ci, count)
            r = np.where(pfound, better, UNSEEN_RANK)
            rank = np.where(cfound, r, rank)
        return rank

    def _count_above(self, ctx_index: IntArray, count: IntArray) -> IntArray:
        """How many successors of context ``ctx_index`` were seen more often than ``count``."""
        # one sortable integer per pair: (context index, count), so all queries are one search
        scale = int(self.pair_count.max()) + 1
        pair_ci = np.searchsorted(self.ctx_key, self.pair_ctx).astype(np.int64)
        composite = np.sort(pair_ci * scale + self.pair_count)
        top = np.searchsorted(composite, ctx_index * scale + scale - 1, side="right")
        at = np.searchsorted(composite, ctx_index * scale + np.minimum(count, scale - 1), "right")
        return (top - at).astype(np.int64)
