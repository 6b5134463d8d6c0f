"""Rare for this entity: a warning or error whose template this entity has seldom logged.

A router that has never logged "interface down" logging one is news, even when the same template
is routine on a flapping router elsewhere (so it is not new to the system) and the router logs
only two or three lines (far below any burst floor). Each entity's count of each template is kept
with an exponential decay (``half_life``), so "seldom" means over a long horizon and an old storm
is eventually forgotten. A line at ``severity_at_most`` or worse whose template the entity has
logged less than ``max_seen`` times (decayed; 0.5: not once in about a half-life) is rare. Rare lines of one entity less than
``episode_gap`` apart form an episode, reported once, at its ``min_lines``-th line: a cut link
logs interface down, a trap and an adjacency loss within seconds on each router at its ends,
while routine noise (a first NTP timeout on a quiet router) is one isolated line.

A line another entity logged about this one (``LogEvents.reporter``, e.g. a neighbour's "lost
adjacency to csr-0053") is counted per reporter: it is rare when *that reporter* has not named
this entity in this template lately. Two neighbours reporting a dead router within seconds are
then two rare lines on it (an episode), while a neighbour that names a flapping peer every hour
is routine. Such keys are a 62-bit hash of (entity, reporter, template), kept apart from the
entity's own keys (negative); such a line is held back only while both the entity and the
reporter are young (a quiet router's first appearance may be its neighbours reporting it dead);
the episode's evidence lists the reporters.

Weak at: entities younger than ``min_history`` (counted from their first line, so a router that
logs once every few hours is still young at its first fault); faults that log one line per entity
and name no other entity; faults that only log routine templates (a config commit
on a router that commits daily); two routine warnings that happen to come together on an entity
that has not logged them lately (one false anomaly, then known).

>>> det = RareTemplateDetector(RareConfig(min_history=timedelta(0)))
>>> det.process(LogEvents.of([0, 1000], [0, 0], [7, 7], [4, 4]))  # the second 7 is not rare
[]
>>> [(a.entity_id, a.template_ids) for a in det.process(LogEvents.of([60_000], [0], [8], [3]))]
[('0', (8,))]
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar, Literal, Self

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from nocwise.detect.logs.anomalies import LogAnomaly, LogAnomalyKind
from nocwise.detect.logs.events import LogEvents
from nocwise.model.errors import InvalidRecordError
from nocwise.model.state import ModelState

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

SCHEMA = "nocwise.detect.logs.rare"
VERSION = 1
SHIFT = 32  # key = entity << 32 | template
WARNING_SEVERITY = 4


_MIX = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64's finaliser: every input bit moves every output bit."""
    x = (x ^ (x >> np.uint64(30))) * _MIX[0]
    x = (x ^ (x >> np.uint64(27))) * _MIX[1]
    return x ^ (x >> np.uint64(31))


def reported_key(entity: IntArray, reporter: IntArray, template: IntArray) -> IntArray:
    """A negative count key for lines ``reporter`` logged about ``entity``: never equal to an
    entity's own key (``entity << 32 | template`` >= 0), equal to another reported key only by
    a 62-bit hash collision."""
    u = np.uint64
    h = _mix(_mix(_mix(entity.astype(u)) ^ reporter.astype(u)) ^ template.astype(u))
    return -1 - (h >> u(2)).astype(np.int64)


class RareConfig(BaseModel):
    """Settings of the rare-for-this-entity detector."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["rare_template"] = "rare_template"
    severity_at_most: int = Field(WARNING_SEVERITY, ge=0, le=7, description="RFC 5424 level")
    max_seen: float = Field(
        0.5, gt=0.0, description="rare below this decayed count of earlier lines"
    )
    half_life: timedelta = Field(timedelta(days=7), gt=timedelta(0))
    min_history: timedelta = Field(
        timedelta(hours=1), ge=timedelta(0), description="entity age before it can fire"
    )
    episode_gap: timedelta = Field(timedelta(minutes=5), gt=timedelta(0))
    min_lines: int = Field(2, ge=1, description="rare lines an episode needs to be reported")


class RareTemplateDetector:
    """Decayed per (entity, template) line counts, per-entity first sight and episode state."""

    kind: ClassVar[str] = "rare_template"

    def __init__(self, config: RareConfig | None = None) -> None:
        self.config = config or RareConfig()
        self.key = np.zeros(0, np.int64)  # sorted entity << 32 | template
        self.count = np.zeros(0)  # decayed line count as of ``last_ms``
        self.last_ms = np.zeros(0, np.int64)
        self.first_ms = np.zeros(0, np.int64)  # per entity index; -1: never seen
        self.rare_ms = np.zeros(0, np.int64)  # per entity: latest rare line; -1: none
        self.rare_n = np.zeros(0, np.int64)  # per entity: rare lines in that line's episode

    def process(self, events: LogEvents, *, learn: bool = True) -> list[LogAnomaly]:
        """One anomaly per entity episode of rare lines that starts in ``events``."""
        if not len(events):
            return []
        if int(events.template.max()) >= 1 << SHIFT:
            raise InvalidRecordError("template ids must be below 2**32")
        cfg = self.config
        order = np.argsort(events.ts_ms, kind="stable")
        ts, ent = events.ts_ms[order], events.entity[order]
        key = (ent << SHIFT) | events.template[order]
        rep = (
            np.full(ent.shape, -1, np.int64) if events.reporter is None else events.reporter[order]
        )
        copy = rep >= 0
        key[copy] = reported_key(ent[copy], rep[copy], events.template[order][copy])
        first, rare_ms, rare_n = self._entities(ts, ent)
        seen = self._seen_before(key, ts)
        min_ms = cfg.min_history // timedelta(milliseconds=1)
        rep_first = first[np.clip(rep, 0, first.size - 1)]  # the reporter's first line, if seen
        rep_old = copy & (rep < first.size) & (rep_first >= 0) & (ts - rep_first >= min_ms)
        old_enough = (ts - first[ent] >= min_ms) | rep_old
        rare = (events.severity[order] <= cfg.severity_at_most) & (seen < cfg.max_seen)
        rare &= old_enough
        rows = np.flatnonzero(rare)
        out = self._episodes(events, order, rows, (rare_ms, rare_n)) if rows.size else []
        if learn:
            self.first_ms, self.rare_ms, self.rare_n = first, rare_ms, rare_n
            self._learn(key, ts)
        return out

    def tick(self, now_ms: int, *, learn: bool = True) -> list[LogAnomaly]:
        """Nothing becomes due with time alone."""
        del now_ms, learn
        return []

    def _entities(self, ts: IntArray, ent: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """Per-entity first sight (including this batch) and episode state, grown to fit."""
        n = max(int(ent.max()) + 1, self.first_ms.size)
        first = np.full(n, -1, np.int64)
        first[: self.first_ms.size] = self.first_ms
        rare_ms = np.full(n, -1, np.int64)
        rare_ms[: self.rare_ms.size] = self.rare_ms
        rare_n = np.zeros(n, np.int64)
        rare_n[: self.rare_n.size] = self.rare_n
        batch_first = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(batch_first, ent, ts)
        fresh = (first < 0) & (batch_first < np.iinfo(np.int64).max)
        first[fresh] = batch_first[fresh]
        return first, rare_ms, rare_n

    def _seen_before(self, key: IntArray, ts: IntArray) -> FloatArray:
        """Decayed count of each line's key before the line (earlier lines of the batch too)."""
        half_ms = self.config.half_life / timedelta(milliseconds=1)
        i = np.minimum(np.searchsorted(self.key, key), max(self.key.size - 1, 0))
        has = self.key[i] == key if self.key.size else np.zeros(key.shape, bool)
        decayed = np.where(
            has,
            self.count[i] * np.exp2(-(ts - self.last_ms[i]) / half_ms) if self.key.size else 0.0,
            0.0,
        )
        by_key = np.argsort(key, kind="stable")  # stable: time order within a key
        k, t = key[by_key], (ts[by_key] - ts.min()) / half_ms
        weight = np.exp2(t)  # batches span far less than a half-life: no overflow
        total = np.cumsum(weight)
        starts = np.r_[True, k[1:] != k[:-1]]
        before_key = np.maximum.accumulate(np.where(starts, np.arange(k.size), 0))
        earlier = total - weight - np.where(before_key > 0, total[before_key - 1], 0.0)
        within = np.empty(k.size)
        within[by_key] = earlier * np.exp2(-t)
        return decayed + within

    def _episodes(
        self, events: LogEvents, order: IntArray, rows: IntArray, state: tuple[IntArray, IntArray]
    ) -> list[LogAnomaly]:
        """Rare rows (positions in time order) grouped into per-entity episodes; an episode is
        reported at its ``min_lines``-th line. Updates ``state`` (latest rare line and lines in
        the episode so far, per entity) in place."""
        cfg = self.config
        gap = cfg.episode_gap // timedelta(milliseconds=1)
        rare_ms, rare_n = state
        src = order[rows]  # rows of ``events``
        ent, ts = events.entity[src], events.ts_ms[src]
        by_ent = np.lexsort((ts, ent))
        src, ent, ts = src[by_ent], ent[by_ent], ts[by_ent]
        head = np.r_[True, ent[1:] != ent[:-1]]
        carried = head & (rare_ms[ent] >= 0) & (ts - rare_ms[ent] <= gap)
        segment_head = head | (np.r_[0, np.diff(ts)] > gap)
        segment = np.cumsum(segment_head) - 1
        starts = np.flatnonzero(segment_head)
        base = np.where(carried[starts], rare_n[ent[starts]], 0)
        lines = np.arange(ts.size) - starts[segment] + 1 + base[segment]
        tail = np.r_[ent[1:] != ent[:-1], True]
        rare_ms[ent[tail]], rare_n[ent[tail]] = ts[tail], lines[tail]
        out = []
        for r in np.flatnonzero(lines == cfg.min_lines):
            mine = src[segment == segment[r]]
            templates = list(dict.fromkeys(int(t) for t in events.template[mine]))
            evidence: dict[str, Any] = {
                "lines": int(mine.size),
                "severity_at_most": cfg.severity_at_most,
                "max_seen": cfg.max_seen,
                "templates": templates[:5],
                "examples": events.examples(mine),
            }
            reporters = events.reporters(mine)
            if reporters:
                evidence["reported_by"] = reporters[:10]
            out.append(
                LogAnomaly(
                    LogAnomalyKind.RARE_TEMPLATE,
                    events.name_of(int(ent[r])),
                    int(ts[r]),
                    float(lines[segment == segment[r]].max()),
                    tuple(templates[:5]),
                    evidence,
                )
            )
        out.sort(key=lambda a: a.ts_ms)
        return out

    def _learn(self, key: IntArray, ts: IntArray) -> None:
        """Fold the batch's lines into the decayed counts (decayed to each key's newest line)."""
        half_ms = self.config.half_life / timedelta(milliseconds=1)
        keys = np.unique(key)
        newest = np.full(keys.size, np.iinfo(np.int64).min)
        pos = np.searchsorted(keys, key)
        np.maximum.at(newest, pos, ts)
        added = np.zeros(keys.size)
        np.add.at(added, pos, np.exp2(-(newest[pos] - ts) / half_ms))
        merged = np.union1d(self.key, keys)
        count, last = np.zeros(merged.size), np.zeros(merged.size, np.int64)
        old = np.searchsorted(merged, self.key)
        count[old], last[old] = self.count, self.last_ms
        new = np.searchsorted(merged, keys)
        last_new = np.maximum(last[new], newest)
        count[new] = count[new] * np.exp2(-(last_new - last[new]) / half_ms) + added
        last[new] = last_new
        self.key, self.count, self.last_ms = merged, count, last

    def to_state(self) -> ModelState:
        """Decayed counts and per-entity first sight and episode state."""
        return ModelState(
            SCHEMA,
            VERSION,
            {"config": self.config.model_dump(mode="json")},
            {
                "key": self.key,
                "count": self.count,
                "last_ms": self.last_ms,
                "first_ms": self.first_ms,
                "rare_ms": self.rare_ms,
                "rare_n": self.rare_n,
            },
        )

    @classmethod
    def from_state(cls, state: ModelState) -> Self:
        """Rebuild from :meth:`to_state`."""
        state.expect(SCHEMA, VERSION)
        det = cls(RareConfig.model_validate(state.params["config"]))
        a = state.arrays
        det.key = a["key"].astype(np.int64)
        det.count = a["count"].astype(np.float64)
        det.last_ms = a["last_ms"].astype(np.int64)
        det.first_ms = a["first_ms"].astype(np.int64)
        det.rare_ms = a["rare_ms"].astype(np.int64)
        det.rare_n = a["rare_n"].astype(np.int64)
        return det
