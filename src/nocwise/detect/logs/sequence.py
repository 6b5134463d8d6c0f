"""Unexpected template sequences per session or entity: an n-gram model of normal workflows.

Many systems log each unit of work (an HDFS block, a call, a PDU session, a job) as the same few
paths through the code. Trained on normal sessions, an n-gram model over template ids with
Witten-Bell interpolation (see :mod:`nocwise.detect.logs.ngram`) knows which template usually comes
next; a line whose template is improbable after the previous ``order - 1`` ones, or a session that
ends where normal ones do not, is anomalous. The score is the surprise ``-ln P`` in nats. When a
session ends, its template count vector is also checked against those of normal sessions
(:mod:`nocwise.detect.logs.counts`), which catches what a short context cannot see; a session
holding a template never seen in a normal session is always anomalous.

This is the model DeepLog's LSTM approximates (Du et al., "DeepLog: Anomaly Detection and
Diagnosis from System Logs through Deep Learning", CCS 2017), with counts instead of weights, so
it trains in milliseconds, explains itself (the context, the probability, the likely templates)
and updates online. Instead of DeepLog's fixed top-g rule, the alarm threshold is the
``1 - target_fpr`` quantile of session scores on normal data, measured by cross-fitting on the
training sessions alone; the two checks share the budget equally. Streaming ``process`` keeps
learning counts from normal lines, but only ``fit_sessions`` sets the thresholds: a detector
that was never fitted learns and stays silent.

Weak at: anomalies that only change timing or parameter values (the sequence is normal);
interleaved sessions that share one entity id (give each its own entity index);
tiny training sets, where rare normal paths look anomalous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, Literal, Self

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from nocwise.detect.logs.anomalies import LogAnomaly, LogAnomalyKind
from nocwise.detect.logs.counts import CountVectorNovelty
from nocwise.detect.logs.events import LogEvents
from nocwise.detect.logs.ngram import BOS, EOS, NgramTable
from nocwise.model.state import ModelState

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

SCHEMA = "nocwise.detect.logs.sequence"
VERSION = 1


class SequenceConfig(BaseModel):
    """Settings of the sequence detector; one configuration serves every data set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["sequence"] = "sequence"
    order: int = Field(4, ge=1, le=16, description="n of the n-gram: n-1 templates of context")
    target_fpr: float = Field(
        0.005, gt=0.0, lt=1.0, description="share of normal sessions allowed to alarm"
    )
    folds: int = Field(5, ge=2, le=20, description="cross-fitting folds for the threshold")
    seed: int = 0
    session_idle: timedelta | None = Field(
        None, description="end an entity's session after this long without lines (tick)"
    )
    learn_on_anomalies: bool = False


def session_transitions(
    flat: IntArray, offsets: IntArray, order: int
) -> tuple[IntArray, IntArray, IntArray]:
    """Every (context, next) transition of the sessions, end-of-session included.

    Session *j* is ``flat[offsets[j]:offsets[j+1]]``. Returns ``context`` (m, order-1) with the
    nearest id first, ``target`` (m,) and ``session`` (m,), the session of each transition.
    """
    k = order - 1
    lengths = np.diff(offsets)
    n_sessions = lengths.shape[0]
    starts = offsets[:-1] + np.arange(n_sessions, dtype=np.int64) * (k + 1)
    padded = np.full(flat.shape[0] + n_sessions * (k + 1), BOS, dtype=np.int64)
    session_of_token = np.repeat(np.arange(n_sessions, dtype=np.int64), lengths)
    padded[np.arange(flat.shape[0]) + session_of_token * (k + 1) + k] = flat
    padded[starts + k + lengths] = EOS
    target_pos = np.flatnonzero(padded != BOS)
    context = np.empty((target_pos.shape[0], k), dtype=np.int64)
    for j in range(k):
        context[:, j] = padded[target_pos - 1 - j]
    session = np.repeat(np.arange(n_sessions, dtype=np.int64), lengths + 1)
    return context, padded[target_pos], session


@dataclass(frozen=True, slots=True)
class SessionScores:
    """Per session: the worst surprise and where (its length = the end), the count distance,
    and how many lines have a template never seen in a normal session."""

    surprise: FloatArray
    position: IntArray
    distance: FloatArray
    unseen: IntArray
    is_anomaly: npt.NDArray[np.bool_]


class SequenceDetector:
    """Flags lines whose template is improbable given the entity's previous templates."""

    kind: ClassVar[str] = "sequence"

    def __init__(self, config: SequenceConfig | None = None) -> None:
        self.config = config or SequenceConfig()
        self.table = NgramTable.empty(self.config.order)
        self.threshold = float("inf")
        k = self.config.order - 1
        self.history = np.full((0, k), BOS, dtype=np.int64)  # [:, 0] is the latest template
        self.last_ts_ms = np.zeros(0, dtype=np.int64)
        self.in_anomaly = np.zeros(0, dtype=bool)
        self.is_open = np.zeros(0, dtype=bool)
        self.vocab = np.zeros(0, dtype=np.int64)  # every next symbol seen, EOS included
        self.entity_names: Sequence[str] | None = None  # from the latest batch that had them
        self.counts = CountVectorNovelty()
        self.distance_threshold = float("inf")
        self.had_anomaly = np.zeros(0, dtype=bool)
        self.open_entity = np.zeros(0, dtype=np.int64)  # lines of open sessions, for counts
        self.open_template = np.zeros(0, dtype=np.int64)

    # -- training on whole sessions -------------------------------------------------------

    def learn_sessions(self, flat: IntArray, offsets: IntArray) -> None:
        """Add the transitions of normal sessions to the counts (threshold unchanged)."""
        context, target, _ = session_transitions(flat, offsets, self.config.order)
        self._learn(context, target)
        self.counts.learn(flat, offsets)

    def fit_sessions(self, flat: IntArray, offsets: IntArray) -> tuple[float, float]:
        """Learn normal sessions and set both thresholds by cross-fitting; returns them.

        Each fold's sessions are scored by a model of the other folds, so a threshold is the score
        a normal session the model has not seen reaches at the ``1 - target_fpr / 2`` quantile.
        """
        cfg = self.config
        context, target, session = session_transitions(flat, offsets, cfg.order)
        n = offsets.shape[0] - 1
        if n < cfg.folds:
            raise ValueError(f"fit_sessions needs at least {cfg.folds} sessions, got {n}")
        fold_of = np.random.default_rng(cfg.seed).permutation(n) % cfg.folds
        held_out = np.empty(n, dtype=np.float64)
        distance = np.empty(n, dtype=np.float64)
        lengths = np.diff(offsets)
        token_fold = np.repeat(fold_of, lengths)
        for f in range(cfg.folds):
            in_fold = fold_of[session] == f
            table = NgramTable.empty(cfg.order).learn(context[~in_fold], target[~in_fold])
            surprise = -np.log(table.probability(context[in_fold], target[in_fold]))
            held_out[fold_of == f] = _max_per(surprise, session[in_fold], n)[fold_of == f]
            counts = CountVectorNovelty()
            counts.learn(flat[token_fold != f], _offsets(lengths[fold_of != f]))
            distance[fold_of == f] = counts.score(
                flat[token_fold == f], _offsets(lengths[fold_of == f])
            )
        self.table = NgramTable.empty(cfg.order)
        self.vocab = np.zeros(0, dtype=np.int64)
        self.counts = CountVectorNovelty()
        self.learn_sessions(flat, offsets)
        q = 1.0 - cfg.target_fpr / 2
        self.threshold = float(np.quantile(held_out, q, method="higher"))
        self.distance_threshold = float(np.quantile(distance, q, method="higher"))
        return self.threshold, self.distance_threshold

    def score_sessions(self, flat: IntArray, offsets: IntArray) -> SessionScores:
        """Per session: the largest surprise, where it happened, and the count distance."""
        context, target, session = session_transitions(flat, offsets, self.config.order)
        surprise = -np.log(self.table.probability(context, target))
        n = offsets.shape[0] - 1
        worst = _max_per(surprise, session, n)
        first = np.searchsorted(session, np.arange(n))
        order = np.lexsort((-surprise, session))  # per session, largest first
        at = order[first[first < session.shape[0]]] - first[first < session.shape[0]]
        pos = np.zeros(n, dtype=np.int64)
        pos[first < session.shape[0]] = at
        vectors = self.counts.vectorise(flat, offsets)
        distance = self.counts.score_vectors(vectors)
        odd_counts = (distance > self.distance_threshold) | (vectors[:, -1] > 0)
        is_anomaly = (worst > self.threshold) | odd_counts
        return SessionScores(worst, pos, distance, vectors[:, -1].copy(), is_anomaly)

    # -- streaming over entities ----------------------------------------------------------

    def score(self, events: LogEvents) -> FloatArray:
        """Surprise (nats) of each line given its entity's previous lines; reads state only."""
        context, _, _ = self._contexts(events)
        return -np.log(self.table.probability(context, events.template))

    def process(self, events: LogEvents, *, learn: bool = True) -> list[LogAnomaly]:
        """Score lines against their entity's history, then advance it (and learn if asked).

        A run of consecutive anomalous lines of one entity is reported once, at its first line.
        """
        if not len(events):
            return []
        if events.entity_names is not None:
            self.entity_names = events.entity_names
        self._grow(events.n_entities_hint)
        context, order, last = self._contexts(events)
        surprise = -np.log(self.table.probability(context, events.template))
        is_anomaly = surprise > self.threshold
        ent_sorted = events.entity[order]
        prev_flag = np.empty(order.shape[0], dtype=bool)
        prev_flag[1:] = is_anomaly[order][:-1]
        first_of_entity = np.r_[True, ent_sorted[1:] != ent_sorted[:-1]]
        prev_flag[first_of_entity] = self.in_anomaly[ent_sorted[first_of_entity]]
        report = np.sort(order[is_anomaly[order] & ~prev_flag])
        expected = self._likely_next(context[report])
        anomalies = [
            self._anomaly(events, int(i), context[i], float(surprise[i]), e)
            for i, e in zip(report, expected, strict=True)
        ]
        if learn:
            keep = np.ones_like(is_anomaly) if self.config.learn_on_anomalies else ~is_anomaly
            self._learn(context[keep], events.template[keep])
        self._advance(events, order, last, is_anomaly)
        self.open_entity = np.concatenate([self.open_entity, events.entity])
        self.open_template = np.concatenate([self.open_template, events.template])
        return anomalies

    def end_sessions(
        self,
        entities: IntArray,
        ts_ms: int,
        *,
        learn: bool = True,
        entity_names: Sequence[str] | None = None,
    ) -> list[LogAnomaly]:
        """Close the sessions of ``entities``: an improbable ending or unusual counts are anomalies.

        At most one anomaly per session is reported at its end (the ending, else the counts);
        the entities' histories reset.
        """
        entities = np.unique(entities[entities < self.history.shape[0]])
        if not entities.size:
            return []
        flat, offsets, vectors = self._take_open(entities)
        distance = self.counts.score_vectors(vectors)
        context = self.history[entities]
        target = np.full(entities.shape[0], EOS, dtype=np.int64)
        surprise = -np.log(self.table.probability(context, target))
        is_anomaly = surprise > self.threshold
        odd_counts = (distance > self.distance_threshold) | (vectors[:, -1] > 0)
        report_end = is_anomaly & ~self.in_anomaly[entities]
        report_counts = odd_counts & ~report_end & ~self.had_anomaly[entities]
        names = entity_names if entity_names is not None else self.entity_names
        ends = np.flatnonzero(report_end)
        expected = dict(zip(ends, self._likely_next(context[ends]), strict=True))
        out = [
            self._end_anomaly(
                int(entities[j]),
                names,
                ts_ms,
                context[j],
                (float(surprise[j]), expected[j]) if report_end[j] else None,
                vectors[j],
                float(distance[j]),
            )
            for j in np.flatnonzero(report_end | report_counts)
        ]
        if learn:
            normal = ~(is_anomaly | odd_counts | self.had_anomaly[entities])
            keep = np.ones_like(is_anomaly) if self.config.learn_on_anomalies else normal
            self._learn(context[keep], target[keep])
            lengths = np.diff(offsets)
            self.counts.learn(flat[np.repeat(keep, lengths)], _offsets(lengths[keep]))
        self.history[entities] = BOS
        self.in_anomaly[entities] = False
        self.had_anomaly[entities] = False
        self.is_open[entities] = False
        return out

    def _end_anomaly(
        self,
        entity: int,
        names: Sequence[str] | None,
        ts_ms: int,
        context: IntArray,
        ending: tuple[float, list[dict[str, float]]] | None,
        vector: IntArray,
        distance: float,
    ) -> LogAnomaly:
        """The anomaly of one ended session: its ending if improbable (surprise and expected
        next templates), else its counts."""
        name = names[entity] if names is not None and entity < len(names) else str(entity)
        if ending is not None:
            surprise, expected = ending
            evidence: dict[str, Any] = {
                "reason": "unexpected_end",
                "context": [int(t) for t in context[::-1] if t >= 0],
                "probability": float(np.exp(-surprise)),
                "threshold": self.threshold,
                "expected": expected,
            }
            ids = tuple(int(t) for t in context if t >= 0)
            kind = LogAnomalyKind.UNEXPECTED_SEQUENCE
            return LogAnomaly(kind, name, ts_ms, surprise, ids, evidence)
        diff = self.counts.nearest_difference(vector)
        evidence = {
            "reason": "unusual_counts",
            "distance": distance,
            "threshold": self.distance_threshold,
            "observed_minus_nearest_normal": diff,
            "unseen_template_lines": int(vector[-1]),
        }
        ids = tuple(int(k) for k in diff if k != "unseen")
        return LogAnomaly(LogAnomalyKind.UNEXPECTED_SEQUENCE, name, ts_ms, distance, ids, evidence)

    def tick(self, now_ms: int, *, learn: bool = True) -> list[LogAnomaly]:
        """End the sessions idle for ``session_idle`` (nothing to do without that setting)."""
        idle = self.config.session_idle
        if idle is None:
            return []
        idle_ms = idle // timedelta(milliseconds=1)
        due = np.flatnonzero(self.is_open & (self.last_ts_ms + idle_ms <= now_ms))
        return self.end_sessions(due.astype(np.int64), now_ms, learn=learn)

    # -- state ------------------------------------------------------------------------------

    def to_state(self) -> ModelState:
        """Counts, threshold and per-entity histories."""
        t = self.table
        threshold = self.threshold if np.isfinite(self.threshold) else None
        distance_threshold = (
            self.distance_threshold if np.isfinite(self.distance_threshold) else None
        )
        params = {
            "config": self.config.model_dump(mode="json"),
            "threshold": threshold,
            "distance_threshold": distance_threshold,
        }
        return ModelState(
            SCHEMA,
            VERSION,
            params,
            {
                "pair_key": t.pair_key,
                "pair_ctx": t.pair_ctx,
                "pair_count": t.pair_count,
                "history": self.history,
                "last_ts_ms": self.last_ts_ms,
                "in_anomaly": self.in_anomaly,
                "is_open": self.is_open,
                "vocab": self.vocab,
                "had_anomaly": self.had_anomaly,
                "open_entity": self.open_entity,
                "open_template": self.open_template,
                "count_vocab": self.counts.vocab,
                "count_vectors": self.counts.vectors,
            },
        )

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """Rebuild from :meth:`to_state`."""
        state.expect(SCHEMA, VERSION)
        det = cls(SequenceConfig.model_validate(state.params["config"]))
        a = state.arrays
        det.table = NgramTable.from_pairs(
            det.config.order, a["pair_key"], a["pair_ctx"], a["pair_count"]
        )
        threshold = state.params["threshold"]
        det.threshold = float("inf") if threshold is None else float(threshold)
        det.history = a["history"].astype(np.int64).reshape(-1, det.config.order - 1)
        det.last_ts_ms = a["last_ts_ms"].astype(np.int64)
        det.in_anomaly = a["in_anomaly"].astype(bool)
        det.is_open = a["is_open"].astype(bool)
        det.vocab = a["vocab"].astype(np.int64)
        det.had_anomaly = a["had_anomaly"].astype(bool)
        det.open_entity = a["open_entity"].astype(np.int64)
        det.open_template = a["open_template"].astype(np.int64)
        det.counts = CountVectorNovelty(
            a["count_vocab"].astype(np.int64), a["count_vectors"].astype(np.int64)
        )
        d = state.params["distance_threshold"]
        det.distance_threshold = float("inf") if d is None else float(d)
        return det

    # -- internals ----------------------------------------------------------------------------

    def _grow(self, n: int) -> None:
        have = self.history.shape[0]
        if n > have:
            k = self.config.order - 1
            self.history = np.vstack([self.history, np.full((n - have, k), BOS, np.int64)])
            self.last_ts_ms = np.concatenate([self.last_ts_ms, np.zeros(n - have, np.int64)])
            self.in_anomaly = np.concatenate([self.in_anomaly, np.zeros(n - have, bool)])
            self.is_open = np.concatenate([self.is_open, np.zeros(n - have, bool)])
            self.had_anomaly = np.concatenate([self.had_anomaly, np.zeros(n - have, bool)])

    def _take_open(self, entities: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """Remove and return the lines of the ended sessions, grouped in ``entities`` order."""
        mask = np.isin(self.open_entity, entities)
        ent, tok = self.open_entity[mask], self.open_template[mask]
        order = np.argsort(ent, kind="stable")
        flat = tok[order]
        sizes = np.bincount(np.searchsorted(entities, ent), minlength=entities.shape[0])
        offsets = _offsets(sizes.astype(np.int64))
        self.open_entity, self.open_template = self.open_entity[~mask], self.open_template[~mask]
        return flat, offsets, self.counts.vectorise(flat, offsets)

    def _learn(self, context: IntArray, target: IntArray) -> None:
        self.table = self.table.learn(context, target)
        self.vocab = np.union1d(self.vocab, target)

    def _contexts(self, events: LogEvents) -> tuple[IntArray, IntArray, IntArray]:
        """Context per line (in input order), the entity-sorted order, and each line's rank."""
        self._grow(events.n_entities_hint)
        k = self.config.order - 1
        order = np.argsort(events.entity, kind="stable")
        ent, tok = events.entity[order], events.template[order]
        m = order.shape[0]
        idx = np.arange(m)
        starts = np.r_[True, ent[1:] != ent[:-1]] if m else np.zeros(0, bool)
        rank = idx - np.maximum.accumulate(np.where(starts, idx, 0)) if m else idx
        ctx_sorted = np.empty((m, k), dtype=np.int64)
        for j in range(1, k + 1):
            from_batch = tok[np.maximum(idx - j, 0)]
            from_history = self.history[ent, np.clip(j - rank - 1, 0, k - 1)]
            ctx_sorted[:, j - 1] = np.where(rank >= j, from_batch, from_history)
        context = np.empty_like(ctx_sorted)
        context[order] = ctx_sorted
        return context, order, rank

    def _advance(
        self, events: LogEvents, order: IntArray, rank: IntArray, is_anomaly: npt.NDArray[np.bool_]
    ) -> None:
        """Move each entity's history to the end of the batch."""
        k = self.config.order - 1
        ent, tok = events.entity[order], events.template[order]
        last = np.r_[ent[1:] != ent[:-1], True]
        e_last, i_last = ent[last], np.flatnonzero(last)
        size = rank[last] + 1
        old = self.history[e_last].copy()
        for c in range(k):
            from_batch = tok[np.maximum(i_last - c, 0)]
            from_old = old[np.arange(old.shape[0]), np.clip(c - size, 0, k - 1)]
            self.history[e_last, c] = np.where(c < size, from_batch, from_old)
        self.last_ts_ms[e_last] = events.ts_ms[order][last]
        self.in_anomaly[e_last] = is_anomaly[order][last]
        np.logical_or.at(self.had_anomaly, events.entity, is_anomaly)
        self.is_open[e_last] = True

    def _anomaly(
        self,
        events: LogEvents,
        i: int,
        context: IntArray,
        surprise: float,
        expected: list[dict[str, float]],
    ) -> LogAnomaly:
        template = int(events.template[i])
        evidence: dict[str, Any] = {
            "reason": "unexpected_template",
            "template": template,
            "context": [int(t) for t in context[::-1] if t >= 0],
            "probability": float(np.exp(-surprise)),
            "threshold": self.threshold,
            "expected": expected,
            "examples": events.examples(np.array([i])),
        }
        return LogAnomaly(
            LogAnomalyKind.UNEXPECTED_SEQUENCE,
            events.name_of(int(events.entity[i])),
            int(events.ts_ms[i]),
            surprise,
            (template,),
            evidence,
        )

    def _likely_next(self, context: IntArray, top: int = 3) -> list[list[dict[str, float]]]:
        """Per context row, the templates the model expected next, most likely first.

        The end of a session is reported as template -1.
        """
        vocab = self.vocab
        if not vocab.size or not context.shape[0]:
            return [[] for _ in range(context.shape[0])]
        rows = np.repeat(context, vocab.shape[0], axis=0)
        p = self.table.probability(rows, np.tile(vocab, context.shape[0]))
        p = p.reshape(context.shape[0], vocab.shape[0])
        best = np.argsort(-p, axis=1, kind="stable")[:, :top]
        return [
            [{"template": max(int(vocab[b]), -1), "probability": float(p[r, b])} for b in row]
            for r, row in enumerate(best)
        ]


def _offsets(lengths: IntArray) -> IntArray:
    """Session offsets from session lengths."""
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def _max_per(values: FloatArray, group: IntArray, n: int) -> FloatArray:
    """The maximum of ``values`` per group id in 0..n-1 (-inf for an empty group)."""
    out = np.full(n, -np.inf)
    np.maximum.at(out, group, values)
    return out
