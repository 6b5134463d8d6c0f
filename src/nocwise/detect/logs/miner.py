"""Online log template miner: one pass, stable ids, recorded evolution, versioned JSON state.

A line is masked (addresses, ids, numbers: :mod:`nocwise.detect.logs.masking`), cut into tokens,
and compared with the templates of the same token count (a space-free chunk of two or more
values is one value from its first value on: ``[<*>_<*>]-CCIOReporter-<*>.xml`` is a file name,
its words pieces of it). A line that fits a template is counted. One that differs from its
closest template only in values of one kind (a masked span, or the same token shape with other
digits: ``ssh2``/``ssh7``) widens that template. One that differs in plain words opens a
template of its own until ``evidence_values`` distinct values per differing position have been
seen (twice as many for the leading word, which usually names the event, as in Drain's prefix
tree); then all sibling templates merge into one with ``<*>`` there.
A word that varies at the same slot (the tokens back to its second preceding word: ``for user``)
of another event counts twice, so user names varying in ``session opened`` and ``session
closed`` become a variable sooner than one event's own states (``VM Started|Paused|Resumed``).
Merged words are remembered as values of their slot: a later difference in remembered values of
that slot widens at once, and templates made earlier that differ only in those words merge then
(``session opened for user cyrus`` once ``session closed for user <*>`` has shown cyrus to be a
value); the same word in another slot (``user=root``) still needs its own evidence. That is
Brain's downward rule ("a column with few distinct values splits the group, one with many is a
variable"; Yu et al., "Brain: Log Parsing with Bidirectional Parallel Tree", IEEE TSC 2023)
applied online, on the token-count buckets and closest-template search of Drain (He et al.,
"Drain: An Online Log Parsing Approach with Fixed Depth Tree", ICWS 2017). A leading dotted name
under a shared namespace (``com.apple.x``/``com.apple.y``) counts as a value, not an event name.

A line that would open a template but whose raw text fits a template of another token count,
each variable taking one space-free value or a list of non-words (a URL that swallowed the
``:`` after it, ``blk_1 blk_2 blk_3`` for one ``<*>``), joins that template instead: variables
whose token count varies.

Ids never change meaning: a merge keeps the lowest id and records the others as its aliases, so
ids handed out earlier are re-labelled with :meth:`TemplateMiner.resolve`. Every creation,
widening and merge is an event in :meth:`TemplateMiner.history`, numbered by the miner version.

Throughput comes from a cache keyed by the line's digit shape (every digit read as ``0``, one
``str.translate`` per batch): a line whose shape was seen costs a dict lookup, plus a C-level
check of the digits its template keeps as constants. Only new shapes are masked (one compiled
regex) and placed.

Weak at: variables whose values are few and word-like and vary in one event only (they stay
split into one template per value until ``evidence_values`` distinct values appear) and, the
other way round, constants with many values (event names in the leading word) or with five or
more states; constants that differ only in digits (``IPV4``/``IPV6``); a variable whose value is
a run of words; variables inside a token (kept as whole-token ``<*>``); templates seen fewer
times than ``evidence_values``.

>>> m = TemplateMiner()
>>> m.learn("Failed password for root from 10.0.0.1 port 22 ssh2").template
'Failed password for root from <*> port <*> ssh2'
>>> for user in ("admin", "guest", "oper", "pi"):
...     r = m.learn(f"Failed password for {user} from 10.0.0.9 port 4711 ssh2")
>>> r.template, r.change
('Failed password for <*> from <*> port <*> ssh2', 'merged')
>>> m.match("Failed password for test from 10.1.1.1 port 80 ssh2").params
['test', '10.1.1.1', '80']
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from nocwise.detect.logs.masking import DEFAULT_RULES, Masker, MaskRule
from nocwise.detect.logs.template import (
    WILDCARD,
    Change,
    MatchResult,
    is_word,
    template_regex,
    tokenize,
)
from nocwise.model.errors import InvalidRecordError
from nocwise.model.state import ModelState

__all__ = ["TemplateMiner", "TemplateMinerConfig"]

_SCHEMA = "nocwise.detect.logs.template_miner"
_VERSION = 1
_Tokens = tuple[str, ...]
_DIGITS = str.maketrans("0123456789", "0000000000")
_DIGIT_RE = re.compile("[0-9]")
_RUN_RE = re.compile("[0-9]+")
_VALUE_RE = re.compile(r"[0-9]|<\*>")
_STRETCH = 12  # most variables of a template that lines of other token counts are tried on
_LIST_RE = re.compile(r"[^A-Za-z]*")


class TemplateMinerConfig(BaseModel):
    """One configuration for every source (no per-data-set rules or thresholds)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["nocwise"] = "nocwise"
    rules: tuple[MaskRule, ...] = DEFAULT_RULES
    evidence_values: int = Field(default=5, ge=2)
    """Distinct word values seen at a position before it becomes a variable."""
    min_shared: float = Field(default=0.5, ge=0.0, le=1.0)
    """Share of a line's word tokens that must equal a template's for the two to be compared."""
    cache_size: int = Field(default=500_000, ge=0)
    """Bound of each cache (lines by digit shape, by masked text) and of pending evidence."""
    max_chars: int = Field(default=20_000, ge=16)
    """Longer lines are cut to this many characters before mining."""


def _same_value_kind(a: str, b: str) -> bool:
    """Two tokens that are probably two values of one variable.

    Both hold a masked span or a digit, and either one is masked or they are equal once every
    digit run is read as one digit (``ssh2``/``ssh7``; not ``ee0``/``alt0`` nor ``<*>``/``****``).
    """
    if WILDCARD in a or WILDCARD in b:
        return bool(_VALUE_RE.search(a)) and bool(_VALUE_RE.search(b))
    return bool(_DIGIT_RE.search(a)) and _RUN_RE.sub("0", a) == _RUN_RE.sub("0", b)


def _stretchable(value: str) -> bool:
    """A captured value that is one token's worth (no space), or a list of non-words."""
    return not any(c.isspace() for c in value) or bool(_LIST_RE.fullmatch(value))


def _slot(tokens: Sequence[str], i: int) -> str:
    """The slot of position ``i``: the tokens before it back to its second word (``for user``).

    A word seen as a value is a value of a slot, not everywhere: ``root`` after ``for user``
    is a user name, while ``user=root`` elsewhere may be a constant of its own event.
    """
    ctx: list[str] = []
    words = 0
    j = i - 1
    while j >= 0 and words < 2:
        t = tokens[j]
        if not t.isspace():
            ctx.append(t)
            words += is_word(t)
        j -= 1
    return " ".join(reversed(ctx)) + "\t"


def _same_namespace(a: str, b: str) -> bool:
    """Two dotted names under one namespace (``com.apple.x``/``com.apple.y``, not ``a.x``/``b.x``)."""
    pa, pb = a.split("."), b.split(".")
    return len(pa) > 2 and len(pb) > 2 and pa[:2] == pb[:2]


class TemplateMiner:
    """Online template miner: ``learn`` mutates, ``match`` only reads."""

    def __init__(self, config: TemplateMinerConfig | None = None) -> None:
        self.config = config or TemplateMinerConfig()
        self._masker = Masker(self.config.rules, placeholder=WILDCARD)
        self._tokens: list[_Tokens] = []
        self._versions: list[int] = []
        self._parent = np.zeros(0, dtype=np.int64)
        self._counts = np.zeros(0, dtype=np.int64)
        self._buckets: dict[int, list[int]] = {}
        self._by_tokens: dict[_Tokens, int] = {}
        self._evidence: dict[_Tokens, set[_Tokens]] = {}
        self._history: list[dict[str, Any]] = []
        self._pool: dict[str, dict[_Tokens, set[str]]] = {}  # slot -> event key -> values
        self._known: set[str] = set()  # "slot\tword": words seen as values of a slot
        self._cache: dict[str, int] = {}
        self._shapes: dict[str, int] = {}
        self._checks: dict[str, tuple[int, int, Any, str]] = {}
        self._regex: dict[tuple[int, int], re.Pattern[str]] = {}
        self._profiles: dict[_Tokens, tuple[frozenset[str], int]] = {}
        self.version = 0

    # ------------------------------------------------------------------ public API

    def learn(self, line: str | bytes) -> MatchResult:
        """Learn one line and return its template (the only other mutator is learn_batch)."""
        raw = _text(line, self.config.max_chars)
        shape = raw.translate(_DIGITS)
        tid = self._by_shape(raw, shape)
        change: Change = "none"
        if tid is None:
            tid, change = self._learn_raw(raw, shape)
        tid = int(self._parent[tid])
        self._counts[tid] += 1
        return self._result(tid, raw, change)

    def learn_batch(self, lines: Sequence[str | bytes]) -> npt.NDArray[np.int64]:
        """Learn many lines; the template id of each, as current after the whole batch."""
        raws = _texts(lines, self.config.max_chars)
        joined = "\n".join(raws)
        if joined.count("\n") == len(raws) - 1:
            shapes = joined.translate(_DIGITS).split("\n")
        else:
            shapes = [r.translate(_DIGITS) for r in raws]
        get = self._shapes.get
        ids = np.fromiter((get(x, -1) for x in shapes), dtype=np.int64, count=len(raws))
        for j in np.flatnonzero(ids < 0).tolist():
            tid = self._by_shape(raws[j], shapes[j])
            ids[j] = tid if tid is not None else self._learn_raw(raws[j], shapes[j])[0]
        ids = self._parent[ids] if len(ids) else ids
        self._counts += np.bincount(ids, minlength=len(self._counts)).astype(np.int64)
        return ids

    def match(self, line: str | bytes) -> MatchResult | None:
        """The template a line fits, without learning anything; None if it fits none."""
        raw = _text(line, self.config.max_chars)
        tid = self._by_shape(raw, raw.translate(_DIGITS), learn=False)
        if tid is None:
            masked = self._masker.mask(raw)
            tid = self._cache.get(masked)
            if tid is None:
                toks = _normalise(tokenize(masked))
                tid = self._find_exact(toks)
                if tid is None:
                    tid = self._find_stretched(toks, raw)
                if tid is None:
                    return None
        return self._result(int(self._parent[tid]), raw, "none")

    def resolve(self, ids: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Re-label ids handed out earlier with the ids of the templates they were merged into."""
        arr = np.asarray(ids, dtype=np.int64)
        return self._parent[arr] if arr.size else arr

    def template(self, template_id: int) -> str:
        """The current text of a template (an old id gives the template it was merged into)."""
        return "".join(self._tokens[int(self._parent[template_id])])

    def templates(self) -> dict[int, str]:
        """Live templates: id -> text."""
        return {t: "".join(self._tokens[t]) for b in self._buckets.values() for t in b}

    def count(self, template_id: int) -> int:
        """Lines learned into a template."""
        return int(self._counts[int(self._parent[template_id])])

    def history(self, since: int = 0) -> list[dict[str, Any]]:
        """Evolution events after miner version ``since``: created, updated and merged."""
        return [e for e in self._history if e["version"] > since]

    def mask(self, line: str) -> str:
        """The line as the miner sees it (every masked span is ``<*>``)."""
        return self._masker.mask(line)

    # ------------------------------------------------------------------ state

    def to_state(self) -> ModelState:
        """Versioned snapshot: templates, aliases, counts, evidence and history (no cache)."""
        return ModelState(
            _SCHEMA,
            _VERSION,
            {
                "config": self.config.model_dump(mode="json"),
                "version": self.version,
                "tokens": [list(t) for t in self._tokens],
                "versions": list(self._versions),
                "evidence": [
                    [list(k), [list(v) for v in sorted(vs)]] for k, vs in self._evidence.items()
                ],
                "history": self._history,
                "known": sorted(self._known),
                "pool": [
                    [slot, [[list(k), sorted(vs)] for k, vs in keys.items()]]
                    for slot, keys in self._pool.items()
                ],
            },
            {"parent": self._parent.copy(), "counts": self._counts.copy()},
        )

    @classmethod
    def from_state(cls, state: ModelState) -> TemplateMiner:
        """Rebuild a miner from :meth:`to_state` output."""
        state.expect(_SCHEMA, _VERSION)
        p = state.params
        try:
            miner = cls(TemplateMinerConfig.model_validate(p["config"]))
            miner.version = int(p["version"])
            miner._tokens = [tuple(str(x) for x in t) for t in p["tokens"]]
            miner._versions = [int(v) for v in p["versions"]]
            miner._parent = np.asarray(state.arrays["parent"], dtype=np.int64).copy()
            miner._counts = np.asarray(state.arrays["counts"], dtype=np.int64).copy()
            miner._evidence = {tuple(k): {tuple(v) for v in vs} for k, vs in p["evidence"]}
            miner._history = list(p["history"])
            miner._known = {str(v) for v in p["known"]}
            miner._pool = {
                str(slot): {tuple(k): {str(v) for v in vs} for k, vs in keys}
                for slot, keys in p.get("pool", [])
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidRecordError(f"bad template miner state: {exc}") from exc
        if not (len(miner._tokens) == len(miner._versions) == len(miner._parent)):
            raise InvalidRecordError("template miner state arrays disagree in length")
        for tid, toks in enumerate(miner._tokens):
            if miner._parent[tid] == tid:
                miner._buckets.setdefault(len(toks), []).append(tid)
                miner._by_tokens[toks] = tid
        return miner

    # ------------------------------------------------------------------ mining

    def _regex_of(self, tid: int) -> re.Pattern[str]:
        key = (tid, self._versions[tid])
        rx = self._regex.get(key)
        if rx is None:
            if len(self._regex) >= 4 * len(self._tokens) + 64:
                self._regex.clear()
            rx = self._regex[key] = template_regex(self._tokens[tid])
        return rx

    def _result(self, tid: int, raw: str, change: Change) -> MatchResult:
        m = self._regex_of(tid).fullmatch(raw)
        params = list(m.groups()) if m else []
        return MatchResult(tid, "".join(self._tokens[tid]), params, change)

    def _by_shape(self, raw: str, shape: str, *, learn: bool = True) -> int | None:
        """The template remembered for the line's digit shape, if the line fits it.

        Lines of one shape differ only in their digits. A shape whose digits all fell inside
        the template's wildcards is trusted as is; otherwise the digits that the template
        keeps as constants are compared (one C-level ``itemgetter`` call).
        """
        tid = self._shapes.get(shape)
        if tid is not None:
            return tid
        entry = self._checks.get(shape)
        if entry is None:
            return None
        tid0, version, getter, expected = entry
        tid = int(self._parent[tid0])
        if tid == tid0 and self._versions[tid] == version:
            return tid if "".join(getter(raw)) == expected else None
        if not learn:
            return tid if self._regex_of(tid).fullmatch(raw) else None
        return tid if self._remember(raw, shape, tid) else None

    def _remember(self, raw: str, shape: str, tid: int) -> bool:
        """Cache the line's shape for ``tid``; False when the line does not fit the template."""
        m = self._regex_of(tid).fullmatch(raw)
        if m is None:
            return False
        spans = [m.span(g) for g in range(1, (m.lastindex or 0) + 1)]
        keep = [
            d.start()
            for d in _DIGIT_RE.finditer(raw)
            if not any(a <= d.start() < b for a, b in spans)
        ]
        if len(self._shapes) + len(self._checks) >= self.config.cache_size:
            self._shapes.clear()
            self._checks.clear()
        self._checks.pop(shape, None)
        if not keep:
            self._shapes[shape] = tid
        else:
            getter = operator.itemgetter(*keep, keep[0])  # always a tuple
            self._checks[shape] = (tid, self._versions[tid], getter, "".join(getter(raw)))
        return True

    def _learn_raw(self, raw: str, shape: str) -> tuple[int, Change]:
        masked = self._masker.mask(raw)
        tid = self._cache.get(masked)
        # A stretched template may not fit every line of one masked text: check, then place.
        if tid is not None and self._remember(raw, shape, int(self._parent[tid])):
            return int(self._parent[tid]), "none"
        tid, change = self._learn_masked(masked, raw)
        tid = int(self._parent[tid])
        if self.config.cache_size:
            self._remember(raw, shape, tid)
        return tid, change

    def _find_exact(self, toks: _Tokens) -> int | None:
        best, best_consts = None, -1
        for tid in self._buckets.get(len(toks), ()):
            tt = self._tokens[tid]
            if all(a in (b, WILDCARD) for a, b in zip(tt, toks, strict=True)):
                consts = sum(a != WILDCARD for a in tt)
                if consts > best_consts:
                    best, best_consts = tid, consts
        return best

    def _learn_masked(self, masked: str, raw: str) -> tuple[int, Change]:
        toks = _normalise(tokenize(masked))
        tid, change = self._place(toks, raw)
        if self.config.cache_size:
            if len(self._cache) >= self.config.cache_size:
                self._cache.clear()
            self._cache[masked] = tid
        return tid, change

    def _place(self, toks: _Tokens, raw: str) -> tuple[int, Change]:
        exact = self._find_exact(toks)
        if exact is not None:
            return exact, "none"
        n_words = sum(1 for t in toks if is_word(t) and t != WILDCARD)
        best: int | None = None
        best_shared, best_diff = -1, 0
        best_pos: list[int] = []
        for tid in self._buckets.get(len(toks), ()):
            tt = self._tokens[tid]
            diff: list[int] = []
            shared = 0
            ok = True
            for i, (a, b) in enumerate(zip(tt, toks, strict=True)):
                if a == b:
                    if a != WILDCARD and is_word(a):
                        shared += 1
                elif a != WILDCARD:
                    if not (is_word(a) and is_word(b)):
                        ok = False
                        break
                    diff.append(i)
            if ok and (shared > best_shared or (shared == best_shared and len(diff) < best_diff)):
                best, best_shared, best_diff, best_pos = tid, shared, len(diff), diff
        if best is None or best_shared < max(1.0, self.config.min_shared * n_words):
            return self._create_or_stretch(toks, raw)
        tt = self._tokens[best]
        key = tuple(WILDCARD if i in best_pos else t for i, t in enumerate(tt))
        first = next((i for i, t in enumerate(tt) if is_word(t)), -1)
        if all(_same_value_kind(tt[i], toks[i]) for i in best_pos):
            return self._generalise(key, best), "updated"
        # One set of distinct values per free position; a leading word needs twice as many
        # (it usually names the event: the prefix rule of Drain's parse tree).
        if first in best_pos and _same_namespace(tt[first], toks[first]):
            first = -1  # ``com.apple.a`` / ``com.apple.b``: the event is named after the value
        slots = {i: _slot(key, i) for i in best_pos}
        if first not in best_pos and all(
            slots[i] + tt[i] in self._known or slots[i] + toks[i] in self._known for i in best_pos
        ):
            return self._generalise(key, best), "updated"
        need = self.config.evidence_values * (len(best_pos) + (first in best_pos))
        if key not in self._evidence and len(self._evidence) >= self.config.cache_size:
            self._evidence.clear()  # bounded memory: forget pending evidence, keep templates
            self._pool.clear()
        seen = self._evidence.setdefault(key, set())
        if len(seen) < need:
            seen.add(tuple(tt[i] for i in best_pos))
            seen.add(tuple(toks[i] for i in best_pos))
        pooled: set[str] = set()
        if len(best_pos) == 1 and first not in best_pos:
            # A word that varies in two events at one slot (``cyrus`` after ``for user`` in
            # ``session opened`` and ``session closed``) counts twice: an event's own states
            # (``VM Started|Paused``) vary in that event alone.
            pool = self._pool.setdefault(slots[best_pos[0]], {})
            own = pool.setdefault(key, set())
            own.update(vs[0] for vs in seen if len(vs) == 1)
            shared_values = {v for k, vs in pool.items() if k != key for v in vs} & own
            if len(own) + len(shared_values) >= need:
                pooled = {slots[best_pos[0]] + v for v in own}
                del pool[key]
        if len(seen) >= need or pooled:
            self._evidence.pop(key, None)
            # (one key may gather values of other positions: ``p <*> <*>`` from ``p q r``)
            fresh = {
                slots[i] + v
                for vs in seen
                if len(vs) == len(best_pos)
                for i, v in zip(best_pos, vs, strict=True)
            }
            fresh |= pooled
            fresh -= self._known
            self._known |= fresh
            survivor = self._generalise(key, best)
            self._reconsolidate(fresh)
            return int(self._parent[survivor]), "merged"
        return self._create_or_stretch(toks, raw)

    def _create_or_stretch(self, toks: _Tokens, raw: str) -> tuple[int, Change]:
        stretched = self._find_stretched(toks, raw)
        if stretched is not None:
            return stretched, "none"
        return self._create(toks), "created"

    def _find_stretched(self, toks: _Tokens, raw: str) -> int | None:
        """A template of another token count whose variables stretch over the line's values.

        A value may hold delimiters (``<*>:a0:<*>:ed`` for ``<*>``, a URL that swallowed the
        ``:`` after it) or be a list of values (``1 2 3`` for ``<*>``): the raw line fits the
        template's regex, every constant word of the template is in the line, and no
        variable takes in a plain word beside other tokens.
        """
        words = set(toks)
        n = len(toks)
        masked = "".join(toks)
        best, best_consts = None, 0
        for size, bucket in self._buckets.items():
            if size == n:
                continue
            for tid in bucket:
                consts, n_vars = self._profile(self._tokens[tid])
                if len(consts) <= best_consts or n_vars > _STRETCH or not consts <= words:
                    continue
                rx = self._regex_of(tid)
                m = rx.fullmatch(raw)
                if m is None:
                    continue
                if not all(_stretchable(g) for g in m.groups()):
                    m = rx.fullmatch(masked)  # a list of masked values: ``<*> <*> <*>``
                    if m is None or not all(_stretchable(g) for g in m.groups()):
                        continue
                best, best_consts = tid, len(consts)
        return best

    def _profile(self, tt: _Tokens) -> tuple[frozenset[str], int]:
        """The constant words of a template and its number of variables (cached)."""
        got = self._profiles.get(tt)
        if got is None:
            if len(self._profiles) >= 4 * len(self._tokens) + 64:
                self._profiles.clear()
            consts = frozenset(t for t in tt if t != WILDCARD and is_word(t))
            got = self._profiles[tt] = (consts, sum(WILDCARD in t for t in tt))
        return got

    def _reconsolidate(self, fresh: set[str]) -> None:
        """Merge templates learned earlier that now differ only in remembered values.

        Words just learned as values of one variable (``cyrus``/``news``/``test`` in ``session
        closed for user <*>``) are values wherever they stand: sibling templates made before
        that evidence (``session opened for user cyrus by ...``) merge too, as if their lines
        came now. The leading word is left alone, as in :meth:`_place`.
        """
        if not fresh:
            return
        words = {k.rpartition("\t")[2] for k in fresh}
        for bucket in list(self._buckets.values()):
            groups: dict[_Tokens, list[int]] = {}
            for tid in bucket:
                tt = self._tokens[tid]
                if not any(t in words for t in tt):
                    continue
                first = next((i for i, t in enumerate(tt) if is_word(t)), -1)
                masked = list(tt)
                for i, t in enumerate(tt):
                    if i != first and _slot(masked, i) + t in self._known:
                        masked[i] = WILDCARD
                groups.setdefault(tuple(masked), []).append(tid)
            for members in groups.values():
                if len(members) < 2:
                    continue
                rows = [self._tokens[t] for t in members]
                key = tuple(
                    col[0] if all(c == col[0] for c in col) else WILDCARD
                    for col in zip(*rows, strict=True)
                )
                self._generalise(key, min(members))

    def _event(self, kind: str, tid: int, **extra: Any) -> None:
        self.version += 1
        self._history.append(
            {
                "version": self.version,
                "kind": kind,
                "id": tid,
                "template": "".join(self._tokens[tid]),
                **extra,
            }
        )

    def _create(self, toks: _Tokens) -> int:
        tid = len(self._tokens)
        self._tokens.append(toks)
        self._versions.append(0)
        self._parent = np.append(self._parent, np.int64(tid))
        self._counts = np.append(self._counts, np.int64(0))
        self._buckets.setdefault(len(toks), []).append(tid)
        self._by_tokens[toks] = tid
        self._event("created", tid)
        return tid

    def _generalise(self, key: _Tokens, tid: int) -> int:
        """Widen ``tid`` to ``key`` and merge every template that ``key`` now covers."""
        bucket = self._buckets[len(key)]
        covered = [
            t
            for t in bucket
            if all(k in (WILDCARD, a) for k, a in zip(key, self._tokens[t], strict=True))
        ]
        survivor = min(covered)
        for t in covered:
            if t != survivor:
                self._merge(t, survivor)
        if self._tokens[survivor] != key:
            del self._by_tokens[self._tokens[survivor]]
            self._tokens[survivor] = key
            self._by_tokens[key] = survivor
            self._versions[survivor] += 1
            self._event("updated", survivor, template_version=self._versions[survivor])
        return survivor

    def _merge(self, old: int, into: int) -> None:
        self._buckets[len(self._tokens[old])].remove(old)
        del self._by_tokens[self._tokens[old]]
        self._parent[self._parent == old] = into
        self._counts[into] += self._counts[old]
        self._counts[old] = 0
        self._event("merged", old, into=into)


def _normalise(toks: _Tokens) -> _Tokens:
    """One space per whitespace run; one ``<*>`` for adjacent or comma-listed values and `` ()``."""
    out: list[str] = []
    for t in toks:
        if t == ")" and len(out) >= 2 and out[-1] == "(" and out[-2] == " ":
            out.append(WILDCARD)  # " ()" is an empty value
        if t.isspace():
            t = " "
        elif t == WILDCARD and out and out[-1] == WILDCARD:
            continue
        elif t == WILDCARD and len(out) >= 2 and out[-1] == "," and out[-2] == WILDCARD:
            out.pop()  # a comma list of values is one value
            continue
        out.append(t)
    return _compound(out)


def _compound(toks: list[str]) -> _Tokens:
    """A space-free chunk of two or more values is one value from its first value on.

    ``[<*>_<*>]-CCIOReporter-<*>.xml`` is a file name around a timestamp and a sequence number:
    its words are pieces of the value, not words of the message. The chunk's head (``reason=``,
    ``AuthFail:sts:<*>_rsn:<*>`` keeps ``AuthFail:sts:``) and its closing delimiters stay.
    """
    out: list[str] = []
    start = 0
    for i in range(len(toks) + 1):
        if i < len(toks) and not toks[i].isspace():
            continue
        chunk = toks[start:i]
        if chunk.count(WILDCARD) >= 2:
            first, end = chunk.index(WILDCARD), len(chunk)
            while end > first + 1 and len(chunk[end - 1]) == 1 and not is_word(chunk[end - 1]):
                end -= 1
            chunk = [*chunk[:first], WILDCARD, *chunk[end:]]
        out.extend(chunk)
        if i < len(toks):
            out.append(toks[i])
        start = i + 1
    return tuple(out)


def _texts(lines: Sequence[str | bytes], limit: int) -> list[str]:
    """Lines as text, cut to ``limit``; a list of short ``str`` is taken as is."""
    if all(type(x) is str for x in lines) and max(map(len, lines), default=0) <= limit:
        return list(lines)  # type: ignore[arg-type]
    return [_text(x, limit) for x in lines]


def _text(line: str | bytes, limit: int) -> str:
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else str(line)
    return text[:limit]
