"""Count-vector novelty for sessions: a session whose template counts match no normal session.

A session's template count vector (how many lines of each template) ignores order, so it sees
what an n-gram model with a short context cannot: a session cut short after its first lines, or
one extra replica where normal sessions have three. The score is the L1 distance to the nearest
count vector of a normal training session (a nearest-neighbour novelty test; Xu et al., "Detecting
Large-Scale System Problems by Mining Console Logs", SOSP 2009, use the same vectors with PCA).
Templates never seen in training share one extra column, so they always add distance.

Weak at: systems whose normal sessions vary in length without bound (every long session is
novel; prefer the sequence model there); order-only anomalies (same counts, wrong order).

>>> m = CountVectorNovelty()
>>> m.learn(np.array([5, 6, 5, 6]), np.array([0, 2, 4]))
>>> m.score(np.array([5, 6, 5, 5, 9]), np.array([0, 2, 5])).tolist()
[0.0, 3.0]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_CELLS = 1 << 21  # differences computed at once: bounds memory to ~16 MiB


class CountVectorNovelty:
    """Distinct count vectors of normal sessions; scores are distances to the nearest one."""

    def __init__(self, vocab: IntArray | None = None, vectors: IntArray | None = None) -> None:
        self.vocab = np.zeros(0, np.int64) if vocab is None else vocab  # sorted template ids
        width = self.vocab.shape[0] + 1
        self.vectors = np.zeros((0, width), np.int64) if vectors is None else vectors

    def vectorise(self, flat: IntArray, offsets: IntArray) -> IntArray:
        """Count vectors (sessions x vocabulary+1); the last column counts unseen templates."""
        n = offsets.shape[0] - 1
        width = self.vocab.shape[0] + 1
        col = np.searchsorted(self.vocab, flat)
        col_c = np.minimum(col, width - 2) if width > 1 else col
        known = (col < width - 1) & (self.vocab[col_c] == flat) if width > 1 else col < 0
        col = np.where(known, col, width - 1)
        row = np.repeat(np.arange(n), np.diff(offsets))
        out = np.zeros((n, width), np.int64)
        np.add.at(out, (row, col), 1)
        return out

    def learn(self, flat: IntArray, offsets: IntArray) -> None:
        """Add normal sessions (the vocabulary grows; stored vectors are re-laid on it)."""
        new_vocab = np.union1d(self.vocab, flat)
        if new_vocab.shape[0] != self.vocab.shape[0]:
            old = self.vectors
            relaid = np.zeros((old.shape[0], new_vocab.shape[0] + 1), np.int64)
            relaid[:, np.searchsorted(new_vocab, self.vocab)] = old[:, :-1]
            relaid[:, -1] = old[:, -1]
            self.vocab, self.vectors = new_vocab, relaid
        vectors = np.vstack([self.vectors, self.vectorise(flat, offsets)])
        self.vectors = np.unique(vectors, axis=0)

    def score(self, flat: IntArray, offsets: IntArray) -> FloatArray:
        """L1 distance of each session's count vector to the nearest normal one (inf if none)."""
        return self.score_vectors(self.vectorise(flat, offsets))

    def score_vectors(self, x: IntArray) -> FloatArray:
        """As :meth:`score`, for count vectors already laid on this vocabulary."""
        out = np.full(x.shape[0], np.inf)
        if not self.vectors.shape[0]:
            return out
        step = max(1, _CELLS // self.vectors.size)
        for lo in range(0, x.shape[0], step):
            part = x[lo : lo + step, None, :] - self.vectors[None, :, :]
            out[lo : lo + step] = np.abs(part).sum(axis=2).min(axis=1)
        return out

    def nearest_difference(self, vector: IntArray) -> dict[str, int]:
        """Evidence: per template, the session's count minus that of the nearest normal session."""
        if not self.vectors.shape[0]:
            return {}
        best = self.vectors[np.abs(self.vectors - vector).sum(axis=1).argmin()]
        names = [*(str(int(t)) for t in self.vocab), "unseen"]
        return {names[i]: int(vector[i] - best[i]) for i in np.flatnonzero(vector != best)}
