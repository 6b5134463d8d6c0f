"""A compiled batch core for grouping's common path (``GroupConfig.batch_core``, off by default).

Grouping in Python pays a few dictionary reads per index level, candidate and term for every
alarm (about 55 µs a placement at 10^5 open alarms). A compiled search called once per alarm
does not pay: the call's own cost (arguments, dispatch, turning the answer back into Python
objects) is as large as the work. This core keeps what grouping's *decisions* depend on as
arrays and places a whole batch of notifications in one call, in order, so that every
placement sees the index as the earlier ones left it:

- incidents are int slots: last event and opening time (µs), active member count, indexed
  flag, the token set of their first alarm, their templates;
- entities, regions, templates, token sets, sources and alarm ids are interned to ints;
- every index level (anchor entity, depth) and every region is an insertion-ordered vector of
  slots with tombstones, read newest first and at most ``max_candidates`` live entries deep, as
  ``CandidateIndex`` reads its dicts; an incident leaving a level is a tombstone, one arriving
  is appended (so a move to a nearer depth puts it last, as in the dicts); the vectors share
  one pool, and (incident, anchor) -> depth and (bucket, incident) -> position are
  open-addressing tables (numba's typed containers cost 2x more a placement);
- active members per (entity, incident) for the search for an active problem upstream.

One call runs clears (active counts, the "still active" test of the scan) and placements
(candidate scan, region, explanation, scoring, joining or opening, index updates) and returns
per placement codes: the incident slot, whether it opened one, the reason and the numbers the
explanation text is built from. It stops *before* a notification it does not handle and says
why: a demoted or advisory alarm, a bridge, an exact tie of two candidates' (score, opening
time), which Python breaks by incident id. ``GroupStage`` places that one itself, and
``replay`` copies what it did into the core (the index entries in the order the stage made
them, the alarms it joined or moved); the kernel goes on from the next notification. Not
handled at all: a learned causality model or the template index (``use_templates``):
``supported`` is then false and the stage stays on the Python path.

``sync`` rebuilds the core from the stage (the same bucket order): at the first batch, after an
operator merge or split, and when what the core interned outgrows the live state.
``tests/unit/correlate/test_group_core.py`` checks the chain answers the same with and without
it, and every decision the core makes against the stage's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from nocwise.model import Alarm

if TYPE_CHECKING:
    from nocwise.correlate.group import GroupStage

IntArray = np.ndarray[Any, np.dtype[np.int64]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_SLOT_BITS = 24  # up to 16.7 M incident slots per key
_SHIFT = 1 << _SLOT_BITS
_ROOM = 2000  # candidates, explaining incidents per alarm (more: left to Python)
_WIDE = 1 << 32

# notification kinds handed to the kernel
# K_MAYBE: the alarm was placed earlier in the batch; a change if it is in an incident now
K_PLACE, K_CLEAR, K_OTHER, K_RARE, K_MAYBE = 0, 1, 2, 3, 4
# what the kernel did with a placement
OUT_JOIN, OUT_OPEN = 0, 1
# why the kernel stopped
STOP_DONE, STOP_RARE, STOP_BRIDGE, STOP_TIE, STOP_SPACE = 0, 1, 2, 3, 4


def micros(t: datetime) -> int:
    """Event time as integer µs (``timedelta.total_seconds`` of a difference is then exactly
    the kernel's ``us / 1e6``)."""
    return (t - _EPOCH) // _US


# -- storage: vectors in one pool, two hash tables ------------------------------------------
#
# A vector (an index bucket, an incident's anchors, regions and templates, an entity's active
# incidents) is a segment of ``pool``: start, length, live entries and capacity per vector id
# (``vs``, ``vn``, ``vl``, ``vc``); a full one moves to the pool's end at twice the size. The
# caller keeps room in the pool (``STOP_SPACE`` asks for more) and in the tables.
# ``ctr``: slots, vectors, pool top, pool garbage, keys used, positions used, largest capacity.

_EMPTY, _TOMB = -1, -2
_MIX = 0x9E3779B97F4A7C15 - (1 << 64)  # Fibonacci hashing, as a signed int64


@njit(cache=True, inline="always")
def _h(k: int, mask: int) -> int:
    x = k * _MIX  # wraps: the high half mixes every bit of the key into the low one
    return (x ^ (x >> 32)) & mask


@njit(cache=True)
def _hget(hk: IntArray, hv: IntArray, k: int, default: int) -> int:
    m = hk.size - 1
    i = _h(k, m)
    while True:
        x = hk[i]
        if x == k:
            return hv[i]  # type: ignore[no-any-return]
        if x == _EMPTY:
            return default
        i = (i + 1) & m


@njit(cache=True)
def _hset(hk: IntArray, hv: IntArray, ctr: IntArray, used: int, k: int, v: int) -> None:
    m = hk.size - 1
    i = _h(k, m)
    tomb = -1
    while True:
        x = hk[i]
        if x == k:
            hv[i] = v
            return
        if x == _EMPTY:
            break
        if x == _TOMB and tomb < 0:
            tomb = i
        i = (i + 1) & m
    if tomb >= 0:
        i = tomb
    else:
        ctr[used] += 1
    hk[i] = k
    hv[i] = v


@njit(cache=True)
def _hdel(hk: IntArray, hv: IntArray, k: int) -> int:
    """Remove ``k``; its value, or -1 if it was not there."""
    m = hk.size - 1
    i = _h(k, m)
    while True:
        x = hk[i]
        if x == k:
            hk[i] = _TOMB
            return hv[i]  # type: ignore[no-any-return]
        if x == _EMPTY:
            return -1
        i = (i + 1) & m


@njit(cache=True)
def _rehash(hk: IntArray, hv: IntArray, size: int) -> tuple[IntArray, IntArray, int]:
    nk = np.full(size, _EMPTY, np.int64)
    nv = np.zeros(size, np.int64)
    m = size - 1
    n = 0
    for j in range(hk.size):
        k = hk[j]
        if k >= 0:
            i = _h(k, m)
            while nk[i] != _EMPTY:
                i = (i + 1) & m
            nk[i] = k
            nv[i] = hv[j]
            n += 1
    return nk, nv, n


@njit(cache=True)
def _vnew(V: Any, cap: int) -> int:
    _pool, vs, vn, vl, vc, ctr = V
    v = ctr[1]
    ctr[1] = v + 1
    vs[v] = ctr[2]
    ctr[2] += cap
    vn[v] = 0
    vl[v] = 0
    vc[v] = cap
    return v  # type: ignore[no-any-return]


@njit(cache=True)
def _vpush(V: Any, v: int, val: int) -> int:
    pool, vs, vn, vl, vc, ctr = V
    n = vn[v]
    if n == vc[v]:
        top, cap = ctr[2], 2 * vc[v]
        pool[top : top + n] = pool[vs[v] : vs[v] + n]
        ctr[3] += vc[v]
        vs[v] = top
        vc[v] = cap
        ctr[2] = top + cap
        if cap > ctr[6]:
            ctr[6] = cap
    pool[vs[v] + n] = val
    vn[v] = n + 1
    vl[v] += 1
    return n  # type: ignore[no-any-return]


@njit(cache=True)
def _compact(V: Any, size: int) -> IntArray:
    """A new pool with the vectors' live segments only (bucket positions move with them)."""
    pool, vs, vn, _vl, vc, ctr = V
    out = np.zeros(size, np.int64)
    top = 0
    for v in range(ctr[1]):
        n = vn[v]
        out[top : top + n] = pool[vs[v] : vs[v] + n]
        vs[v] = top
        top += vc[v]
    ctr[2] = top
    ctr[3] = 0
    return out


@njit(cache=True)
def _insert(V: Any, P: Any, v: int, slot: int) -> None:
    """Append ``slot`` to bucket ``v`` unless it is there (a dict assignment keeps an existing
    key's place)."""
    pk, pv = P
    k = v * _SHIFT + slot
    if _hget(pk, pv, k, -1) >= 0:
        return
    _hset(pk, pv, V[5], 5, k, _vpush(V, v, slot))


@njit(cache=True)
def _leave(V: Any, P: Any, v: int, slot: int) -> None:
    """Take ``slot`` out of bucket ``v``: a tombstone; an emptied bucket restarts empty (as a
    dict that became None and is made anew); one mostly of tombstones is compacted in order."""
    if v < 0:
        return
    pk, pv = P
    p = _hdel(pk, pv, v * _SHIFT + slot)
    if p < 0:
        return
    pool, vs, vn, vl, _vc, ctr = V
    base = vs[v]
    pool[base + p] = -1
    vl[v] -= 1
    if vl[v] == 0:
        vn[v] = 0
    elif vn[v] > 2 * vl[v] + 16:
        n = 0
        for i in range(vn[v]):
            s = pool[base + i]
            if s >= 0:
                pool[base + n] = s
                _hset(pk, pv, ctr, 5, v * _SHIFT + s, n)
                n += 1
        vn[v] = n


@njit(cache=True)
def _bucket(V: Any, table: IntArray, i: int) -> int:
    """The vector of bucket ``i`` of ``table`` (made on first use)."""
    v = table[i]
    if v < 0:
        v = _vnew(V, 4)
        table[i] = v
    return v  # type: ignore[no-any-return]


@njit(cache=True)
def _index_entity(
    slot: int, e: int, whole: bool, pl_beg: IntArray, pl_end: IntArray, pl_x: IntArray,
    pl_h: IntArray, levels: int, indexed: IntArray, key_vec: IntArray, reg_vec: IntArray,
    region_of: IntArray, lvl_vec: IntArray, rgn_vec: IntArray, V: Any, K: Any, P: Any,
) -> None:  # fmt: skip
    """``CandidateIndex.index_entity``: the incident on ``e`` and (``whole``) on its path."""
    kk, kv = K
    end = pl_end[e] if whole else pl_beg[e] + 1
    ind = indexed[slot] != 0
    for j in range(pl_beg[e], end):
        x, depth = pl_x[j], pl_h[j]
        k = slot * _WIDE + x
        old = _hget(kk, kv, k, -1)
        if old < 0 or depth < old:
            _hset(kk, kv, V[5], 4, k, depth)
            if old < 0:
                _vpush(V, key_vec[slot], x)
            if ind:
                if old >= 0:
                    _leave(V, P, lvl_vec[x * levels + old], slot)
                _insert(V, P, _bucket(V, lvl_vec, x * levels + depth), slot)
    if ind:
        r = region_of[e]
        v = _bucket(V, rgn_vec, r)
        pk, pv = P
        if _hget(pk, pv, v * _SHIFT + slot, -1) < 0:
            _insert(V, P, v, slot)
            _vpush(V, reg_vec[slot], r)


@njit(cache=True)
def _deindex(
    slot: int, levels: int, indexed: IntArray, key_vec: IntArray, reg_vec: IntArray,
    lvl_vec: IntArray, rgn_vec: IntArray, V: Any, K: Any, P: Any,
) -> None:  # fmt: skip
    """``CandidateIndex.deindex``: out of every bucket; its depths are kept, as the draft's."""
    pool, vs, vn, vl, _vc, _ctr = V
    kk, kv = K
    indexed[slot] = 0
    kvec = key_vec[slot]
    for i in range(vn[kvec]):
        x = pool[vs[kvec] + i]
        _leave(V, P, lvl_vec[x * levels + _hget(kk, kv, slot * _WIDE + x, 0)], slot)
    rvec = reg_vec[slot]
    for i in range(vn[rvec]):
        _leave(V, P, rgn_vec[pool[vs[rvec] + i]], slot)
    vn[rvec] = 0
    vl[rvec] = 0


@njit(cache=True)
def _find(cs: IntArray, n: int, s: int) -> int:
    for j in range(n):
        if cs[j] == s:
            return j
    return -1


@njit(cache=True)
def _vfind(V: Any, v: int, val: int) -> int:
    pool, vs, vn, _vl, _vc, _ctr = V
    base = vs[v]
    for j in range(vn[v]):
        if pool[base + j] == val:
            return j
    return -1


# active members per (entity, incident): an entity's vector holds slot << 20 | count
_CNT = 1 << 20


@njit(cache=True)
def _count(V: Any, act_vec: IntArray, x: int, slot: int) -> None:
    pool, vs, vn, _vl, _vc, _ctr = V
    v = _bucket(V, act_vec, x)
    base = vs[v]
    for j in range(vn[v]):
        if pool[base + j] // _CNT == slot:
            pool[base + j] += 1
            return
    _vpush(V, v, slot * _CNT + 1)


@njit(cache=True)
def _uncount(V: Any, act_vec: IntArray, x: int, slot: int) -> None:
    pool, vs, vn, vl, _vc, _ctr = V
    v = act_vec[x]
    if v < 0:
        return
    base, n = vs[v], vn[v]
    for j in range(n):
        if pool[base + j] // _CNT == slot:
            pool[base + j] -= 1
            if pool[base + j] % _CNT == 0:
                pool[base + j] = pool[base + n - 1]
                vn[v] = n - 1
                vl[v] = n - 1
            return


@njit(cache=True)
def _jaccard(tok_start: IntArray, tok_pool: IntArray, t1: int, t2: int) -> float:
    a0, a1 = tok_start[t1], tok_start[t1 + 1]
    b0, b1 = tok_start[t2], tok_start[t2 + 1]
    na, nb = a1 - a0, b1 - b0
    if na == 0 or nb == 0:
        return 0.0
    i, j, shared = a0, b0, 0
    while i < a1 and j < b1:
        u, w = tok_pool[i], tok_pool[j]
        if u == w:
            shared += 1
            i += 1
            j += 1
        elif u < w:
            i += 1
        else:
            j += 1
    return shared / (na + nb - shared)  # type: ignore[no-any-return]


@njit(cache=True)
def _run(
    # the batch
    kind: IntArray,
    aid: IntArray,
    at_us: IntArray,
    src: IntArray,
    ent: IntArray,
    about: IntArray,
    xpath: IntArray,
    tmpl: IntArray,
    toks: IntArray,
    start: int,
    # static facts: per entity its plan (anchor, hops, hub) and scan reads, region; explain paths
    pl_beg: IntArray,
    pl_end: IntArray,
    pl_x: IntArray,
    pl_h: IntArray,
    sc_beg: IntArray,
    sc_end: IntArray,
    sc_x: IntArray,
    sc_level: IntArray,
    sc_h: IntArray,
    sc_near: IntArray,
    region_of: IntArray,
    xp_start: IntArray,
    xp_x: IntArray,
    xp_h: IntArray,
    xp_hub: IntArray,
    tok_start: IntArray,
    tok_pool: IntArray,
    # incident slots
    last_event: IntArray,
    opened: IntArray,
    sev: IntArray,
    indexed: IntArray,
    slot_tok: IntArray,
    tmpl_vec: IntArray,
    key_vec: IntArray,
    reg_vec: IntArray,
    # alarms, sources
    a_slot: IntArray,
    a_sev: IntArray,
    a_counted: IntArray,
    clearing: IntArray,
    # buckets by (entity, depth), region; active incidents by entity; storage
    lvl_vec: IntArray,
    rgn_vec: IntArray,
    act_vec: IntArray,
    V: Any,
    K: Any,
    P: Any,
    # config: max_hops, max_candidates, window, follow (µs), prefer, bridge, max templates
    cfg_i: IntArray,
    # w_topology, w_causality, w_text, region_score, threshold
    cfg_f: FloatArray,
    # outputs
    out_code: IntArray,
    out_slot: IntArray,
    out_reason: IntArray,
    out_hops: IntArray,
    out_link: IntArray,
    out_f: FloatArray,
) -> tuple[int, int]:
    max_hops, cap, window, follow = cfg_i[0], cfg_i[1], cfg_i[2], cfg_i[3]
    prefer, bridge, max_tmpl = cfg_i[4] != 0, cfg_i[5] != 0, cfg_i[6]
    w_topo, w_causal, w_text, region_score, threshold = (
        cfg_f[0], cfg_f[1], cfg_f[2], cfg_f[3], cfg_f[4]
    )  # fmt: skip
    levels = max_hops + 1
    pool, vs, vn, vl, _vc, ctr = V
    pk, pv = P
    window_s = window / 1e6
    follow_s = follow / 1e6
    hops_span = 2.0 * (max_hops + 1)
    cs = np.empty(2 * _ROOM + 8, np.int64)  # candidates: slot
    ch = np.empty(2 * _ROOM + 8, np.int64)  # their hops (-1: none)
    near = np.empty(2 * _ROOM + 8, np.int64)
    ex_s = np.empty(2 * _ROOM + 8, np.int64)  # explained: slot, hops, specific
    ex_h = np.empty(2 * _ROOM + 8, np.int64)
    ex_sp = np.empty(2 * _ROOM + 8, np.int64)
    close = np.empty(2 * _ROOM + 8, np.int64)
    order = np.empty(2 * _ROOM + 8, np.int64)
    for i in range(start, kind.size):
        k = kind[i]
        if k == K_OTHER:
            continue
        if pool.size - ctr[2] < 64 * ctr[6] + 65536:
            return i, STOP_SPACE
        a = aid[i]
        if k == K_MAYBE:
            if a_slot[a] >= 0:
                continue
            return i, STOP_RARE  # held earlier in the batch: placed again, by Python
        if k == K_CLEAR:
            clearing[src[i]] = 1
            slot = a_slot[a] if a >= 0 else -1
            if slot >= 0:
                if a_counted[a] >= 0:
                    _uncount(V, act_vec, a_counted[a], slot)
                    a_counted[a] = -1
                if a_sev[a] != 0:
                    a_sev[a] = 0
                    sev[slot] -= 1
            continue
        if k == K_RARE:
            return i, STOP_RARE
        at = at_us[i]
        e, ab = ent[i], about[i]
        horizon = at - window
        far = at - follow
        # -- the candidate scan (CandidateIndex._scan_into) --------------------------------
        nc = 0
        nn = 0
        for j in range(sc_beg[e], sc_end[e]):
            v = lvl_vec[sc_x[j] * levels + sc_level[j]]
            if v < 0 or vl[v] == 0:
                continue
            base = vs[v]
            h = sc_h[j]
            nr = bridge and sc_near[j] != 0
            n = 0
            for q in range(vn[v] - 1, -1, -1):
                s = pool[base + q]
                if s < 0:
                    continue
                last = last_event[s]
                if last < horizon and (last < far or sev[s] == 0):
                    continue
                c = _find(cs, nc, s)
                if c < 0:
                    if nc >= _ROOM:
                        return i, STOP_RARE
                    cs[nc] = s
                    ch[nc] = h
                    nc += 1
                elif h < ch[c]:
                    ch[c] = h
                if nr and _find(near, nn, s) < 0:
                    if nn >= _ROOM:
                        return i, STOP_RARE
                    near[nn] = s
                    nn += 1
                n += 1
                if n >= cap:
                    break
        # -- region --------------------------------------------------------------------------
        r = region_of[e]
        rb = rgn_vec[r]
        if rb >= 0:
            base = vs[rb]
            n = 0
            for q in range(vn[rb] - 1, -1, -1):
                s = pool[base + q]
                if s < 0 or last_event[s] < horizon:
                    continue
                if _find(cs, nc, s) < 0:
                    if nc >= _ROOM:
                        return i, STOP_RARE
                    cs[nc] = s
                    ch[nc] = -1
                    nc += 1
                n += 1
                if n >= cap:
                    break
        if nc > cap:  # the ``cap`` nearest, ties in insertion order (heapq.nsmallest)
            for c in range(nc):
                order[c] = (ch[c] if ch[c] >= 0 else max_hops + 1) * 8192 + c
            srt = np.sort(order[:nc])
            keep_s = np.empty(cap, np.int64)
            keep_h = np.empty(cap, np.int64)
            for c in range(cap):
                o = srt[c] % 8192
                keep_s[c] = cs[o]
                keep_h[c] = ch[o]
            cs[:cap] = keep_s
            ch[:cap] = keep_h
            nc = cap
        # -- an active problem upstream (GroupStage._explained) -------------------------------
        ne = 0
        for j in range(xp_start[xpath[i]], xp_start[xpath[i] + 1]):
            x = xp_x[j]
            v = act_vec[x]
            if v < 0:
                continue
            base = vs[v]
            h = xp_h[j]
            for q in range(vn[v]):
                s = pool[base + q] // _CNT
                if indexed[s] != 0 and last_event[s] >= far:
                    c = _find(ex_s, ne, s)
                    if c < 0:
                        if ne >= _ROOM:
                            return i, STOP_RARE
                        ex_s[ne] = s
                        ex_h[ne] = h
                        ex_sp[ne] = 0
                        c = ne
                        ne += 1
                    elif h < ex_h[c]:
                        ex_h[c] = h
                    if xp_hub[j] == 0:
                        ex_sp[c] = 1
        for c in range(ne):
            s = ex_s[c]
            j = _find(cs, nc, s)
            if j < 0:
                if nc >= 2 * _ROOM:
                    return i, STOP_RARE
                cs[nc] = s
                ch[nc] = ex_h[c]
                nc += 1
            elif ch[j] < 0 or ex_h[c] < ch[j]:
                ch[j] = ex_h[c]
        # -- scoring (GroupStage._best) ------------------------------------------------------
        best = -1
        b_flag, b_score, b_opened = True, 0.0, 0
        b_reason, b_hops, b_link = 0, -1, -1
        b_topo, b_text, b_dt, b_ongoing = 0.0, 0.0, 0.0, False
        tie = False
        ncl = 0
        te = tmpl[i]
        for c in range(nc):
            s = cs[c]
            dt = abs(at - last_event[s]) / 1e6
            ongoing = dt > window_s
            xc = _find(ex_s, ne, s)
            if ongoing and (xc < 0 or ex_sp[xc] == 0 or dt > follow_s):
                continue
            time_f = 0.5 if ongoing else 1.0 - 0.5 * dt / window_s
            hops = ch[c]
            if hops >= 0:
                topo = 1.0 - hops / hops_span
            elif rb >= 0 and _hget(pk, pv, rb * _SHIFT + s, -1) >= 0:
                topo = region_score
            else:
                topo = 0.0
            if _vfind(V, tmpl_vec[s], te) >= 0:
                text = 1.0
            else:
                text = _jaccard(tok_start, tok_pool, toks[i], slot_tok[s])
            p_topo, p_causal, p_text = w_topo * topo, w_causal * 0.0, w_text * text
            total = p_topo + p_causal + p_text
            score = time_f * (1.0 if total > 1.0 else total)
            if ongoing and threshold > score:
                score = threshold
            if score < threshold:
                continue
            if bridge and not ongoing and _find(near, nn, s) >= 0:
                close[ncl] = s
                ncl += 1
            link = ex_h[xc] if xc >= 0 else -1
            flag = prefer and link < 0
            better = False
            if best < 0:
                better = True
            elif flag != b_flag:
                better = not flag
            elif score != b_score:
                better = score > b_score
            elif opened[s] != b_opened:
                better = opened[s] < b_opened
            else:
                tie = True  # Python breaks it by incident id
            if better:
                best, b_flag, b_score, b_opened = s, flag, score, opened[s]
                b_hops, b_link, b_topo, b_text, b_dt, b_ongoing = (
                    hops, link, topo, text, dt, ongoing
                )  # fmt: skip
                if ongoing:
                    b_reason = 4
                elif p_topo >= p_causal and p_topo >= p_text:
                    b_reason = 1
                elif p_causal >= p_text:
                    b_reason = 2
                else:
                    b_reason = 3
        if tie:
            return i, STOP_TIE
        if best >= 0 and bridge:
            if prefer and not b_flag and ab != e:
                m = 0
                for c in range(ncl):
                    if _find(ex_s, ne, close[c]) >= 0:
                        close[m] = close[c]
                        m += 1
                ncl = m
            if ncl > 1 and _find(close, ncl, best) >= 0:
                return i, STOP_BRIDGE
        # -- join or open (GroupStage._join: what later decisions read) ----------------------
        if best < 0:
            slot = ctr[0]
            ctr[0] = slot + 1
            last_event[slot] = at
            opened[slot] = at
            sev[slot] = 0
            indexed[slot] = 1
            slot_tok[slot] = toks[i]
            tmpl_vec[slot] = _vnew(V, 4)
            key_vec[slot] = _vnew(V, 8)
            reg_vec[slot] = _vnew(V, 4)
            out_code[i] = OUT_OPEN
            out_reason[i] = 0
            b_score = 1.0
        else:
            slot = best
            out_code[i] = OUT_JOIN
            out_reason[i] = b_reason
        out_slot[i] = slot
        out_hops[i] = b_hops
        out_link[i] = b_link
        out_f[i, 0] = b_score
        out_f[i, 1] = b_topo
        out_f[i, 2] = b_text
        out_f[i, 3] = b_dt
        out_f[i, 4] = 1.0 if b_ongoing else 0.0
        a_slot[a] = slot
        a_sev[a] = 1
        sev[slot] += 1
        cl = clearing[src[i]] != 0
        if cl:
            _count(V, act_vec, ab, slot)
            a_counted[a] = ab
        if ab != e:
            _index_entity(slot, e, False, pl_beg, pl_end, pl_x, pl_h, levels, indexed, key_vec,
                          reg_vec, region_of, lvl_vec, rgn_vec, V, K, P)  # fmt: skip
            _index_entity(slot, ab, True, pl_beg, pl_end, pl_x, pl_h, levels, indexed, key_vec,
                          reg_vec, region_of, lvl_vec, rgn_vec, V, K, P)  # fmt: skip
        else:
            _index_entity(slot, e, True, pl_beg, pl_end, pl_x, pl_h, levels, indexed, key_vec,
                          reg_vec, region_of, lvl_vec, rgn_vec, V, K, P)  # fmt: skip
        tv = tmpl_vec[slot]
        if vn[tv] < max_tmpl and _vfind(V, tv, te) < 0:
            _vpush(V, tv, te)
        if at > last_event[slot] and cl and out_reason[i] != 4:
            last_event[slot] = at
    return kind.size, STOP_DONE


@njit(cache=True)
def _refresh_slot(
    s: int, xs: IntArray, depths: IntArray, tmpls: IntArray, regions: IntArray,
    aids: IntArray, sevs: IntArray, counted: IntArray, levels: int,
    indexed: IntArray, tmpl_vec: IntArray, key_vec: IntArray, reg_vec: IntArray,
    a_slot: IntArray, a_sev: IntArray, a_counted: IntArray,
    lvl_vec: IntArray, rgn_vec: IntArray, act_vec: IntArray, V: Any, K: Any, P: Any,
) -> None:  # fmt: skip
    """``GroupCore.refresh`` for one slot: depths, buckets, regions, templates, members."""
    kk, kv = K
    pk, pv = P
    ind = indexed[s] != 0
    for j in range(xs.size):
        x, depth = xs[j], depths[j]
        k = s * _WIDE + x
        old = _hget(kk, kv, k, -1)
        if old == depth:
            continue
        _hset(kk, kv, V[5], 4, k, depth)
        if old < 0:
            _vpush(V, key_vec[s], x)
        if ind:
            if old >= 0:
                _leave(V, P, lvl_vec[x * levels + old], s)
            _insert(V, P, _bucket(V, lvl_vec, x * levels + depth), s)
    if ind:
        for r in regions:
            v = _bucket(V, rgn_vec, r)
            if _hget(pk, pv, v * _SHIFT + s, -1) < 0:
                _insert(V, P, v, s)
                _vpush(V, reg_vec[s], r)
    for t in tmpls:
        if _vfind(V, tmpl_vec[s], t) < 0:
            _vpush(V, tmpl_vec[s], t)
    for j in range(aids.size):
        a = aids[j]
        if a_slot[a] != s or a_counted[a] != counted[j]:
            if a_counted[a] >= 0 and a_slot[a] >= 0:
                _uncount(V, act_vec, a_counted[a], a_slot[a])
            if counted[j] >= 0:
                _count(V, act_vec, counted[j], s)
            a_counted[a] = counted[j]
            a_slot[a] = s
        a_sev[a] = sevs[j]


@njit(cache=True)
def _add_templates(s: int, tmpls: IntArray, tmpl_vec: IntArray, V: Any) -> None:
    for t in tmpls:
        if _vfind(V, tmpl_vec[s], t) < 0:
            _vpush(V, tmpl_vec[s], t)


@njit(cache=True)
def _replay(
    slots: IntArray, xs: IntArray, depths: IntArray, aids: IntArray, a_slots: IntArray,
    sevs: IntArray, counted: IntArray, levels: int, indexed: IntArray, key_vec: IntArray,
    reg_vec: IntArray, a_slot: IntArray, a_sev: IntArray, a_counted: IntArray,
    lvl_vec: IntArray, rgn_vec: IntArray, act_vec: IntArray, V: Any, K: Any, P: Any,
) -> None:  # fmt: skip
    """``GroupCore.replay``: index entries in order (depth -1: a region), then alarms."""
    kk, kv = K
    pk, pv = P
    for j in range(slots.size):
        s, x, depth = slots[j], xs[j], depths[j]
        ind = indexed[s] != 0
        if depth < 0:
            if ind:
                v = _bucket(V, rgn_vec, x)
                if _hget(pk, pv, v * _SHIFT + s, -1) < 0:
                    _insert(V, P, v, s)
                    _vpush(V, reg_vec[s], x)
            continue
        k = s * _WIDE + x
        old = _hget(kk, kv, k, -1)
        _hset(kk, kv, V[5], 4, k, depth)
        if old < 0:
            _vpush(V, key_vec[s], x)
        if ind:
            if old >= 0:
                _leave(V, P, lvl_vec[x * levels + old], s)
            _insert(V, P, _bucket(V, lvl_vec, x * levels + depth), s)
    for j in range(aids.size):
        a, s = aids[j], a_slots[j]
        if a_slot[a] != s or a_counted[a] != counted[j]:
            if a_counted[a] >= 0 and a_slot[a] >= 0:
                _uncount(V, act_vec, a_counted[a], a_slot[a])
            if counted[j] >= 0 and s >= 0:
                _count(V, act_vec, counted[j], s)
            a_counted[a] = counted[j]
            a_slot[a] = s
        a_sev[a] = sevs[j]


@njit(cache=True)
def _new_slot(s: int, tmpl_vec: IntArray, key_vec: IntArray, reg_vec: IntArray, V: Any) -> None:
    tmpl_vec[s] = _vnew(V, 4)
    key_vec[s] = _vnew(V, 8)
    reg_vec[s] = _vnew(V, 4)


@njit(cache=True)
def _deindex_slot(
    slot: int, levels: int, indexed: IntArray, key_vec: IntArray, reg_vec: IntArray,
    lvl_vec: IntArray, rgn_vec: IntArray, V: Any, K: Any, P: Any,
) -> None:  # fmt: skip
    _deindex(slot, levels, indexed, key_vec, reg_vec, lvl_vec, rgn_vec, V, K, P)


@njit(cache=True)
def _load_bucket(V: Any, P: Any, table: IntArray, i: int, slots: IntArray) -> None:
    v = _bucket(V, table, i)
    for s in slots:
        _insert(V, P, v, s)


class _Ints:
    """A growable int64 array (the kernel reads ``a``; ``fill`` for new room). Appends wait
    in a list until ``flush`` (one copy per batch, not one per entity registered)."""

    def __init__(self, fill: int = 0, size: int = 1024) -> None:
        self.fill = fill
        self.a: IntArray = np.full(size, fill, np.int64)
        self.n = 0
        self._pending: list[int] = []
        self._flushed = 0

    def ensure(self, n: int) -> None:
        if n > self.a.size:
            b = np.full(max(n, 2 * self.a.size), self.fill, np.int64)
            b[: self.a.size] = self.a
            self.a = b

    def extend(self, values: Sequence[int]) -> int:
        """Append ``values`` (visible in ``a`` after ``flush``); returns where they start."""
        at = self.n
        self._pending.extend(values)
        self.n = at + len(values)
        return at

    def flush(self) -> None:
        if self._pending:
            self.ensure(self.n)
            self.a[self._flushed : self.n] = self._pending
            self._pending.clear()
            self._flushed = self.n


# a placement: code, slot, reason, hops, link, score, topology, text, dt, past the window
CoreRow = tuple[int, int, int, int, int, float, float, float, float, float]


@dataclass
class CoreBatch:
    """A batch as the kernel reads it (``GroupCore.encode``) and what it did with it.

    Per notification: ``kind`` (``K_*``), and for placements the interned facts and the
    strings the stage's join needs (template, tokens, what it is about, type). The kernel
    fills, per placement it makes, ``code`` (``OUT_JOIN`` / ``OUT_OPEN``; -1 otherwise),
    ``slot``, ``reason`` (index into the stage's reasons), ``hops`` and ``link`` (-1: none)
    and ``f`` (score, topology, text, seconds since the incident's last event, past the
    window)."""

    kind: IntArray
    aid: IntArray
    at: IntArray
    src: IntArray
    ent: IntArray
    about_id: IntArray
    xpath: IntArray
    tmpl: IntArray
    toks: IntArray
    template: list[str]
    tokens: list[frozenset[str]]
    about: list[str]
    typ: list[str]
    code: IntArray
    slot: IntArray
    reason: IntArray
    hops: IntArray
    link: IntArray
    f: FloatArray

    def rows(self, start: int, stop: int) -> list[CoreRow | None]:
        """Placements ``[start, stop)`` as Python values (None: not a placement)."""
        cols = [c[start:stop].tolist() for c in (self.code, self.slot, self.reason, self.hops,
                                                 self.link)]  # fmt: skip
        f = self.f[start:stop].tolist()
        return [
            None if code < 0 else (code, slot, reason, hops, link, *fs)
            for code, slot, reason, hops, link, fs in zip(*cols, f, strict=True)
        ]


class GroupCore:
    """The arrays and interning tables of the batch core for one ``GroupStage``.

    Supported: the stage's configuration without a causality model and without the template
    index (``CandidateIndex`` reads templates only when text alone can reach the threshold);
    ``supported`` says so. Everything else about a notification is decided per notification
    (``K_RARE`` stops the kernel before it).
    """

    # rebuilt from the drafts (``sync``) once what it interned (alarm ids, slots, templates,
    # token sets: never forgotten in between) passes GROWTH times the live state plus FLOOR
    GROWTH = 4
    FLOOR = 1 << 20

    def __init__(self, stage: GroupStage) -> None:
        self._stage = stage
        c = stage.config
        self.supported = stage._causal is None and not stage._index._use_templates
        self._cfg_i = np.array(
            [
                c.max_hops,
                c.max_candidates,
                c.window // _US,
                max(c.window, c.follow_active) // _US,
                int(c.prefer_explained),
                int(c.bridge),
                64,
            ],
            np.int64,
        )
        self._cfg_f = np.array(
            [c.w_topology, c.w_causality, c.w_text, c.region_score, c.threshold], np.float64
        )
        self._levels = c.max_hops + 1
        self._reset()

    def _reset(self) -> None:
        self._ent: dict[str, int] = {}
        self._facts: set[int] = set()
        self._region: dict[str, int] = {}
        self._tmpl: dict[str, int] = {}
        self._token: dict[str, int] = {}
        self._tokset: dict[frozenset[str], int] = {}
        self._source: dict[str, int] = {}
        self._alarm: dict[str, int] = {}
        self._xpath: dict[tuple[str, str], int] = {}
        self._known: dict[str, tuple[int, int]] = {}  # entity -> (id, its own explain path)
        self.slot_of: dict[str, int] = {}
        self.incident_of: list[str | None] = []
        self._pl_beg, self._pl_end = _Ints(), _Ints()
        self._pl_x, self._pl_h = _Ints(), _Ints()
        self._sc_beg, self._sc_end = _Ints(), _Ints()
        self._sc_x, self._sc_level, self._sc_h, self._sc_near = _Ints(), _Ints(), _Ints(), _Ints()
        self._region_of = _Ints(-1)
        self._xp_start, self._xp_x, self._xp_h, self._xp_hub = _Ints(), _Ints(), _Ints(), _Ints()
        self._xp_start.extend([0])
        self._tok_start, self._tok_pool = _Ints(), _Ints()
        self._tok_start.extend([0])
        self._last, self._opened, self._sev = _Ints(), _Ints(), _Ints()
        self._indexed, self._slot_tok, self._tmpl_vec = _Ints(), _Ints(), _Ints(-1)
        self._key_vec, self._reg_vec = _Ints(-1), _Ints(-1)
        self._a_slot, self._a_sev, self._a_counted = _Ints(-1), _Ints(), _Ints(-1)
        self._clearing = _Ints()
        self._lvl_vec, self._rgn_vec, self._act_vec = _Ints(-1), _Ints(-1), _Ints(-1)
        self._pool: IntArray = np.zeros(1 << 16, np.int64)
        self._vs, self._vn, self._vl, self._vc = _Ints(), _Ints(), _Ints(), _Ints()
        self._hk: IntArray = np.full(1 << 12, _EMPTY, np.int64)  # (slot, anchor) -> depth
        self._hv: IntArray = np.zeros(1 << 12, np.int64)
        self._pk: IntArray = np.full(1 << 12, _EMPTY, np.int64)  # (bucket, slot) -> position
        self._pv: IntArray = np.zeros(1 << 12, np.int64)
        self._ctr = np.zeros(8, np.int64)

    def _v(self) -> tuple[IntArray, ...]:
        return (self._pool, self._vs.a, self._vn.a, self._vl.a, self._vc.a, self._ctr)

    def _room(self, n: int) -> None:
        """Room for ``n`` more notifications (or one refresh of that many entries) in every
        array, table and the pool."""
        ctr = self._ctr
        for arr in (self._vs, self._vn, self._vl, self._vc):
            arr.ensure(int(ctr[1]) + 64 * n + 1024)
        margin = 2 * (64 * int(ctr[6]) + 65536)
        if ctr[3] > ctr[2] // 2 or ctr[2] + margin > self._pool.size:
            size = 1 << int(2 * (int(ctr[2] - ctr[3]) + margin)).bit_length()
            self._pool = _compact(self._v(), size)
        for used, hk, hv, name in ((4, self._hk, self._hv, "_h"), (5, self._pk, self._pv, "_p")):
            if int(ctr[used]) + 64 * n > hk.size // 2:
                size = 1 << int(4 * (int(ctr[used]) + 64 * n)).bit_length()
                nk, nv, live = _rehash(hk, hv, size)
                setattr(self, name + "k", nk)
                setattr(self, name + "v", nv)
                ctr[used] = live
        slots = int(ctr[0]) + n + 1
        for arr in (self._last, self._opened, self._sev, self._indexed, self._slot_tok,
                    self._tmpl_vec, self._key_vec, self._reg_vec):  # fmt: skip
            arr.ensure(slots)
        for arr in (self._a_slot, self._a_sev, self._a_counted):
            arr.ensure(len(self._alarm) + 1)
        self._lvl_vec.ensure((len(self._ent) + 1) * self._levels)
        self._act_vec.ensure(len(self._ent) + 1)
        self._rgn_vec.ensure(len(self._region) + 1)
        for arr in (self._pl_beg, self._pl_end, self._sc_beg, self._sc_end, self._region_of):
            arr.ensure(len(self._ent) + 1)
        for arr in (self._pl_x, self._pl_h, self._sc_x, self._sc_level, self._sc_h,
                    self._sc_near, self._xp_start, self._xp_x, self._xp_h, self._xp_hub,
                    self._tok_start, self._tok_pool):  # fmt: skip
            arr.flush()

    # -- interning ------------------------------------------------------------------------

    def _entity(self, e: str) -> int:
        i = self._ent.get(e)
        if i is None:
            i = self._ent[e] = len(self._ent)
        return i

    def _facts_of(self, e: str) -> int:
        """The entity's id with its plan, scan and region registered."""
        i = self._entity(e)
        if i in self._facts:
            return i
        self._facts.add(i)
        index = self._stage._index
        plan, scan, region = index._entity(e)
        for arr in (self._pl_beg, self._pl_end, self._sc_beg, self._sc_end, self._region_of):
            arr.ensure(i + 1)
        xs = [self._entity(x) for x, *_ in plan]
        self._pl_beg.a[i] = self._pl_x.extend(xs)
        self._pl_h.extend([d for _, d, *_ in plan])
        self._pl_end.a[i] = self._pl_x.n
        sx, sl, sh, sn = [], [], [], []
        for x, reads in scan:
            xi = self._entity(x)
            for level, h, near in reads:
                sx.append(xi)
                sl.append(level)
                sh.append(h)
                sn.append(int(near))
        self._sc_beg.a[i] = self._sc_x.extend(sx)
        self._sc_level.extend(sl)
        self._sc_h.extend(sh)
        self._sc_near.extend(sn)
        self._sc_end.a[i] = self._sc_x.n
        self._region_of.a[i] = self._region_id(region)
        return i

    def _region_id(self, r: str) -> int:
        i = self._region.get(r)
        if i is None:
            i = self._region[r] = len(self._region)
        return i

    def _explain(self, about: str, reporter: str) -> int:
        key = (about, reporter)
        i = self._xpath.get(key)
        if i is None:
            path = self._stage._explain_path(about, reporter)
            self._xp_x.extend([self._entity(x) for x, *_ in path])
            self._xp_h.extend([h for _, h, *_ in path])
            self._xp_hub.extend([int(step[4]) for step in path])
            self._xp_start.extend([self._xp_x.n])
            i = self._xpath[key] = len(self._xpath)
        return i

    def _tokens(self, t: frozenset[str]) -> int:
        i = self._tokset.get(t)
        if i is None:
            ids = sorted(self._token.setdefault(w, len(self._token)) for w in t)
            self._tok_pool.extend(ids)
            self._tok_start.extend([self._tok_pool.n])
            i = self._tokset[t] = len(self._tokset)
        return i

    def _template(self, t: str) -> int:
        return self._tmpl.setdefault(t, len(self._tmpl))

    def _src(self, s: str) -> int:
        i = self._source.get(s)
        if i is None:
            i = self._source[s] = len(self._source)
            self._clearing.ensure(i + 1)
        return i

    def _aid(self, a: str) -> int:
        return self._alarm.setdefault(a, len(self._alarm))

    def _slot(self, incident: str) -> int:
        """A slot for an incident the stage holds (``sync``)."""
        i = self.slot_of.get(incident)
        if i is None:
            i = self.slot_of[incident] = int(self._ctr[0])
            self._ctr[0] += 1
            self.incident_of.append(incident)
        return i

    def oversized(self) -> bool:
        """Whether the interning tables have grown past the bound (time for ``sync``)."""
        st = self._stage
        live = len(st._alarm_inc) + len(st._drafts)
        grown = len(self._alarm) + int(self._ctr[0]) + len(self._tmpl) + len(self._tokset)
        return grown > self.GROWTH * live + self.FLOOR

    def bind(self, slot: int, incident: str) -> None:
        """Name the incident the kernel opened in ``slot`` (the stage's id for it)."""
        while len(self.incident_of) <= slot:
            self.incident_of.append(None)
        self.incident_of[slot] = incident
        self.slot_of[incident] = slot

    # -- state ----------------------------------------------------------------------------

    def sync(self) -> None:
        """Rebuild the arrays from the stage: every draft a slot, every bucket in its order."""
        self._reset()
        st = self._stage
        index = st._index
        for d in st._drafts.values():
            self._slot(d.id)
        for x in index._anchor:
            self._entity(x)
        for r in index._by_region:
            self._region_id(r)
        for e in st._active_at:
            self._entity(e)
        for aid in st._alarm_inc:
            self._aid(aid)
        self._room(len(st._drafts) + 1)
        V, P = self._v(), (self._pk, self._pv)
        for s in range(int(self._ctr[0])):
            _new_slot(s, self._tmpl_vec.a, self._key_vec.a, self._reg_vec.a, V)
        levels = self._levels
        for x, lv in index._anchor.items():
            xi = self._ent[x]
            for depth, bucket in enumerate(lv):
                if bucket:
                    slots = np.array([self.slot_of[i] for i in bucket], np.int64)
                    self._room(len(slots))
                    V, P = self._v(), (self._pk, self._pv)
                    _load_bucket(V, P, self._lvl_vec.a, xi * levels + depth, slots)
        for r, bucket in index._by_region.items():
            slots = np.array([self.slot_of[i] for i in bucket], np.int64)
            self._room(2 * len(slots))
            V, P = self._v(), (self._pk, self._pv)
            ri = self._region[r]
            _load_bucket(V, P, self._rgn_vec.a, ri, slots)
            for s in slots:
                _vpush(V, int(self._reg_vec.a[s]), ri)
        for src in st._clearing:
            self._clearing.a[self._src(src)] = 1
        self.refresh(st._drafts)  # scalars, depths, templates, members and active counts

    def deindex(self, incident: str) -> None:
        """The stage took the incident out of its indexes (``tick``): so does the core."""
        s = self.slot_of.get(incident)
        if s is not None:
            self._room(1)
            _deindex_slot(s, self._levels, self._indexed.a, self._key_vec.a, self._reg_vec.a,
                          self._lvl_vec.a, self._rgn_vec.a, self._v(), (self._hk, self._hv),
                          (self._pk, self._pv))  # fmt: skip

    def replay(
        self, incidents: Iterable[str], log: Sequence[tuple[str, str, int]], alarms: Sequence[str]
    ) -> None:
        """After the stage placed a notification itself (a bridge, a demoted or advisory
        alarm, a tie): copy the touched incidents' scalars and templates, replay the index
        entries it made in the order it made them (``CandidateIndex.log``: a new depth leaves
        the old bucket and is appended to the new one, as in the dicts), and the alarms it
        joined or moved."""
        st = self._stage
        for iid in incidents:
            self._scalars(iid)
        self._room(len(log) + len(alarms) + 1)
        slots = np.array([self.slot_of[i] for i, _, _ in log], np.int64)
        xs = np.array(
            [self._region_id(x) if h < 0 else self._entity(x) for _, x, h in log], np.int64
        )
        depths = np.array([h for _, _, h in log], np.int64)
        self._room(len(log) + len(alarms) + 1)
        aids = np.array([self._aid(a) for a in alarms], np.int64)
        inc_of = [st._alarm_inc.get(a) for a in alarms]
        self._room(len(log) + len(alarms) + 1)
        a_slots = np.array([-1 if i is None else self.slot_of[i] for i in inc_of], np.int64)
        sevs = np.array(
            [
                i is not None and a in st._drafts[i].severity_of
                for a, i in zip(alarms, inc_of, strict=True)
            ],
            np.int64,
        )
        counted = np.array(
            [self._entity(st._counted[a]) if a in st._counted else -1 for a in alarms], np.int64
        )
        self._room(len(log) + len(alarms) + 1)
        _replay(slots, xs, depths, aids, a_slots, sevs, counted, self._levels, self._indexed.a,
                self._key_vec.a, self._reg_vec.a, self._a_slot.a, self._a_sev.a,
                self._a_counted.a, self._lvl_vec.a, self._rgn_vec.a, self._act_vec.a,
                self._v(), (self._hk, self._hv), (self._pk, self._pv))  # fmt: skip

    def _scalars(self, iid: str) -> int:
        """Copy an incident's last event, opening, active count, tokens, templates and
        indexed flag into its slot (made if new); -1 if the stage forgot it."""
        d = self._stage._drafts.get(iid)
        s = self.slot_of.get(iid)
        if d is None:
            if s is not None and self._indexed.a[s]:
                self.deindex(iid)
            return -1
        if s is None:
            s = self._slot(iid)
            self._room(1)
            _new_slot(s, self._tmpl_vec.a, self._key_vec.a, self._reg_vec.a, self._v())
            self._indexed.a[s] = 1
        self._last.a[s] = micros(d.last_event)
        self._opened.a[s] = micros(d.opened)
        self._sev.a[s] = len(d.severity_of)
        self._slot_tok.a[s] = self._tokens(d.tokens)
        if self._indexed.a[s] and not d.indexed:
            self.deindex(iid)
        self._indexed.a[s] = int(d.indexed)
        tm = np.array([self._template(t) for t in d.templates], np.int64)
        self._room(len(tm) + 1)
        _add_templates(s, tm, self._tmpl_vec.a, self._v())
        return s

    def refresh(self, incidents: Iterable[str]) -> None:
        """Bring these incidents' slots in step with the stage's drafts after the stage placed
        a notification itself (a bridge, a demoted or advisory alarm, a tie). Only the one
        incident that takes the alarm gains index entries then, each appended to its bucket,
        which is where the stage's dicts put it; the others (bridged ones) only leave."""
        st = self._stage
        for iid in incidents:
            s = self._scalars(iid)
            if s < 0:
                continue
            d = st._drafts[iid]
            xs = np.array([self._entity(x) for x in d.index_keys], np.int64)
            depths = np.array(list(d.index_keys.values()), np.int64)
            tm = np.zeros(0, np.int64)  # copied by ``_scalars``
            rs = np.array(
                [self._region_of.a[self._facts_of(x)] for x, h in d.index_keys.items() if not h],
                np.int64,
            )
            members = list(d.members)
            aids = np.array([self._aid(a) for a in members], np.int64)
            self._room(len(xs) + len(members) + len(tm) + 1)
            sevs = np.array([a in d.severity_of for a in members], np.int64)
            counted = np.array(
                [self._entity(st._counted[a]) if a in st._counted else -1 for a in members],
                np.int64,
            )
            _refresh_slot(s, xs, depths, tm, rs, aids, sevs, counted, self._levels,
                          self._indexed.a, self._tmpl_vec.a, self._key_vec.a, self._reg_vec.a,
                          self._a_slot.a, self._a_sev.a, self._a_counted.a, self._lvl_vec.a,
                          self._rgn_vec.a, self._act_vec.a, self._v(), (self._hk, self._hv),
                          (self._pk, self._pv))  # fmt: skip

    # -- a batch --------------------------------------------------------------------------

    def encode(self, alarms: Sequence[Alarm]) -> CoreBatch:
        """Intern the batch for the kernel (the stage's template cache, what each alarm is
        about, its type), before anything of it is placed. Columns are built as lists and
        converted once (a numpy element write costs as much as a dict look-up)."""
        st = self._stage
        n = len(alarms)
        kind, aid, src = [K_OTHER] * n, [-1] * n, [0] * n
        at, ent, about, xpath, tmpl, toks = [0] * n, [0] * n, [0] * n, [0] * n, [0] * n, [0] * n
        templates: list[str] = [""] * n
        tokens: list[frozenset[str]] = [frozenset()] * n
        abouts: list[str] = [""] * n
        typs: list[str] = [""] * n
        inc_of, placed = st._alarm_inc, set()
        rare_all = not self.supported or bool(st._advisory)
        may_open, type_of, tmpl_of = st.may_open, st._type_of, st._tmpl
        sources, alarm_ids, known = self._source, self._alarm, self._known
        for i, a in enumerate(alarms):
            name = a.alarm_id
            sid = sources.get(a.source)
            src[i] = self._src(a.source) if sid is None else sid
            if name in inc_of:
                if a.cleared_time is not None:
                    kind[i] = K_CLEAR
                    aid[i] = self._aid(name)
                continue
            if name in placed:
                kind[i] = K_CLEAR if a.cleared_time is not None else K_MAYBE
                aid[i] = alarm_ids[name]
                continue
            if a.cleared_time is not None:
                kind[i] = K_CLEAR
                continue
            placed.add(name)
            aid[i] = self._aid(name)
            if rare_all or (may_open is not None and may_open(a) is not None):
                kind[i] = K_RARE
                continue
            kind[i] = K_PLACE
            at[i] = (a.event_time - _EPOCH) // _US
            e = a.managed_object
            ab = st._about(a) if a.additional_info else e
            hit = known.get(e)
            if hit is None:
                hit = known[e] = (self._facts_of(e), self._explain(e, e))
            ent[i] = hit[0]
            if ab == e:
                about[i], xpath[i] = hit
            else:
                about[i] = self._facts_of(ab)
                xpath[i] = self._explain(ab, e)
            template, tok = tmpl_of(a)
            t = self._tmpl.get(template)
            tmpl[i] = self._template(template) if t is None else t
            t = self._tokset.get(tok)
            toks[i] = self._tokens(tok) if t is None else t
            templates[i], tokens[i], abouts[i], typs[i] = template, tok, ab, str(type_of(a))
        self._room(n)
        kinds, aids = np.array(kind, np.int64), np.array(aid, np.int64)
        self._a_slot.a[aids[kinds == K_PLACE]] = -1
        self._a_slot.a[aids[kinds == K_RARE]] = -1
        cols = [np.array(c, np.int64) for c in (at, src, ent, about, xpath, tmpl, toks)]
        return CoreBatch(
            kinds, aids, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6],
            templates, tokens, abouts, typs,
            np.full(n, -1, np.int64), np.full(n, -1, np.int64), np.zeros(n, np.int64),
            np.full(n, -1, np.int64), np.full(n, -1, np.int64), np.zeros((n, 5), np.float64),
        )  # fmt: skip

    def place(self, b: CoreBatch, start: int) -> tuple[int, int]:
        """Run the kernel over ``b`` from ``start``: (where it stopped, why)."""
        while True:
            self._room(b.kind.size - start)
            done, stop = _run(
                b.kind, b.aid, b.at, b.src, b.ent, b.about_id, b.xpath, b.tmpl, b.toks, start,
                self._pl_beg.a, self._pl_end.a, self._pl_x.a, self._pl_h.a,
                self._sc_beg.a, self._sc_end.a, self._sc_x.a, self._sc_level.a, self._sc_h.a,
                self._sc_near.a, self._region_of.a,
                self._xp_start.a, self._xp_x.a, self._xp_h.a, self._xp_hub.a,
                self._tok_start.a, self._tok_pool.a,
                self._last.a, self._opened.a, self._sev.a, self._indexed.a,
                self._slot_tok.a, self._tmpl_vec.a, self._key_vec.a, self._reg_vec.a,
                self._a_slot.a, self._a_sev.a, self._a_counted.a, self._clearing.a,
                self._lvl_vec.a, self._rgn_vec.a, self._act_vec.a,
                self._v(), (self._hk, self._hv), (self._pk, self._pv),
                self._cfg_i, self._cfg_f,
                b.code, b.slot, b.reason, b.hops, b.link, b.f,
            )  # fmt: skip
            if stop != STOP_SPACE:
                return int(done), int(stop)
            start = int(done)

    def run(self, alarms: Sequence[Alarm]) -> tuple[CoreBatch, int, int]:
        """``encode`` and ``place`` from the start (the stage must then process the batch)."""
        b = self.encode(alarms)
        return (b, *self.place(b, 0))


def core_detail(row: CoreRow) -> str:
    """The explanation text of a joining placement as ``GroupStage._best`` words it, up to the
    active-alarm count an incident past the window adds (read from the draft)."""
    _, _, _, hops, link, _, topo, text, dt, ongoing = row
    if ongoing:
        hop_txt = f"{link} hop(s) below an active member"
    elif hops >= 0:
        hop_txt = f"{hops} hop(s) in topology"
    else:
        hop_txt = "same region" if topo else "no topology path"
    return f"{hop_txt}; causality {0.0:.2f}; text {text:.2f}; {dt:.0f}s from last alarm"
