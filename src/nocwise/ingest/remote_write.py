"""Prometheus remote_write v1 (snappy-compressed protobuf ``WriteRequest``) -> a MetricBatch.

The wire format is walked by a compiled decoder into flat arrays: per series, the byte span of
its labels; per sample, its timestamp and value. A series is then known by the bytes of its
labels (Prometheus sends them sorted, so equal sets encode equally), and only a label set never
seen before is decoded into strings and validated. That keeps the per-sample cost numeric and the
per-series cost one dict lookup.

Rejections are per series (missing ``__name__``, duplicate or empty label names, invalid UTF-8);
a body that is not snappy or not protobuf is rejected whole. Histograms and exemplars are skipped
(v1 float samples only), and NaN values (staleness markers) are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cramjam
import numpy as np
import numpy.typing as npt
from numba import njit

from nocwise.ingest.base import (
    BAD_ENCODING,
    BAD_VALUE,
    MISSING_FIELD,
    TOO_LARGE,
    Invalid,
    Rejection,
)
from nocwise.ingest.remote_write_pb import WriteRequest
from nocwise.ingest.series_index import SeriesIndex
from nocwise.model import MetricBatch, Series

MAX_DECODED = 64 * 1024 * 1024
CONTENT_TYPE = "application/x-protobuf"

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]
MISSING = -(2**62)
UNCACHED = -(2**61)  # ids at or below: rejected label sets not remembered
MAX_CACHED_BAD = 10_000


@dataclass(slots=True)
class Decoded:
    """One write request as arrays. ``label_spans[i]`` is series i's label bytes in ``raw``."""

    raw: bytes
    label_spans: I64  # (n_series, 2): start, stop of the series' label fields
    hashes: U64  # (n_series, 2): two independent 64-bit hashes of those bytes
    counts: I64  # samples per series
    ts_ms: I64
    values: F64
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def samples(self) -> int:
        return int(self.values.shape[0])


def decompress(body: bytes) -> bytes:
    """Snappy block format, as remote_write v1 sends it."""
    try:
        n = cramjam.snappy.decompress_raw_len(body)
        if n > MAX_DECODED:
            raise Invalid(TOO_LARGE, f"decoded body of {n} bytes exceeds {MAX_DECODED}")
        return bytes(cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as exc:
        raise Invalid(BAD_ENCODING, f"not snappy block data: {exc}") from exc


def decode(raw: bytes) -> Decoded:
    """A decompressed WriteRequest -> arrays, or :class:`Invalid` if it is not valid protobuf."""
    buf = np.frombuffer(raw, dtype=np.uint8)
    spans, counts, ts, vals, err = _walk(buf)
    if err >= 0:
        raise Invalid(BAD_ENCODING, f"malformed protobuf at byte {err}")
    return Decoded(raw, spans, _hash_spans(buf, spans), counts, ts, vals)


def parse(body: bytes, content_type: str | None = None) -> Decoded:
    """A request body -> arrays; a whole-body failure is one rejection with no index."""
    del content_type
    try:
        return decode(decompress(body))
    except Invalid as exc:
        empty_i = np.zeros(0, dtype=np.int64)
        return Decoded(
            b"",
            np.zeros((0, 2), dtype=np.int64),
            np.zeros((0, 2), dtype=np.uint64),
            empty_i,
            empty_i,
            np.zeros(0, dtype=np.float64),
            [Rejection(exc.reason, exc.detail, None)],
        )


class RemoteWriteMapper:
    """Turns decoded requests into MetricBatches with stable series ids (stateful: the index).

    Known series are found by a compiled lookup of their label bytes' 128-bit fingerprint, so a
    request of known series costs no Python work per series; only new label sets are decoded.
    """

    def __init__(self, index: SeriesIndex | None = None) -> None:
        self.index = index or SeriesIndex()
        self._table = LabelTable()
        self._bad: list[Rejection] = []  # ids -1, -2, ... of rejected label sets (bounded)
        self._uncached: list[Rejection] = []  # rejections past the bound, for one request

    def to_batch(self, d: Decoded) -> tuple[MetricBatch, list[Series], list[Rejection]]:
        """The batch, the series first seen in it, and per-series rejections (with indices)."""
        ids = self._table.lookup(d.hashes)
        new: list[Series] = []
        rejections = list(d.rejections)
        self._uncached = []
        unknown = np.flatnonzero(ids == MISSING)
        if unknown.size:
            # Learn each new label set once (a request may repeat it), then insert in one call.
            _, first, back = np.unique(
                d.hashes[unknown], axis=0, return_index=True, return_inverse=True
            )
            rows = unknown[first]
            spans = d.label_spans[rows].tolist()
            sids = np.array([self._learn(d.raw[a:b], new) for a, b in spans], dtype=np.int64)
            keep = sids > UNCACHED
            self._table.insert_many(d.hashes[rows[keep]], sids[keep])
            ids[unknown] = sids[back.reshape(-1)]
        for i in np.flatnonzero(ids < 0).tolist():
            sid = int(ids[i])
            bad = self._uncached[UNCACHED - sid] if sid <= UNCACHED else self._bad[-1 - sid]
            rejections.append(Rejection(bad.reason, bad.detail, i))
        series = np.repeat(ids, d.counts)
        batch = MetricBatch(series, d.ts_ms, d.values)
        if rejections and len(batch):
            batch = batch.select(series >= 0)
        if len(batch) > 1 and not _series_time_ordered(batch.series, batch.ts_ms):
            order = np.lexsort((batch.ts_ms, batch.series))
            batch = MetricBatch(batch.series[order], batch.ts_ms[order], batch.values[order])
        return batch, new, rejections

    def _learn(self, key: bytes, new: list[Series]) -> int:
        try:
            labels = _labels(key)
        except Invalid as exc:
            bad = Rejection(exc.reason, exc.detail, None)
            if len(self._bad) >= MAX_CACHED_BAD:  # hostile input must not grow memory
                self._uncached.append(bad)
                return UNCACHED - (len(self._uncached) - 1)
            self._bad.append(bad)
            return -len(self._bad)
        sid, is_new = self.index.resolve(labels)
        if is_new:
            new.append(self.index.series(sid))
        return sid


class LabelTable:
    """An open-addressing hash table: 128-bit label fingerprint -> series id, in numpy arrays."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._k = np.zeros((capacity, 2), dtype=np.uint64)
        self._v = np.full(capacity, MISSING, dtype=np.int64)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def lookup(self, hashes: U64) -> I64:
        return _lookup(self._k, self._v, hashes)

    def get(self, h1: int, h2: int) -> int:
        one = np.array([[h1, h2]], dtype=np.uint64)
        return int(_lookup(self._k, self._v, one)[0])

    def insert(self, h1: int, h2: int, sid: int) -> None:
        self.insert_many(np.array([[h1, h2]], dtype=np.uint64), np.array([sid], dtype=np.int64))

    def insert_many(self, hashes: U64, sids: I64) -> None:
        while 2 * (self._n + len(sids)) > self._v.shape[0]:
            self._grow()
        self._n += _insert_many(self._k, self._v, hashes, sids)

    def _grow(self) -> None:
        old_k, old_v = self._k, self._v
        self._k = np.zeros((2 * old_v.shape[0], 2), dtype=np.uint64)
        self._v = np.full(2 * old_v.shape[0], MISSING, dtype=np.int64)
        for j in np.flatnonzero(old_v != MISSING).tolist():
            _insert(self._k, self._v, old_k[j, 0], old_k[j, 1], int(old_v[j]))


@njit(cache=True)
def _lookup(keys: U64, vals: I64, hashes: U64) -> I64:
    mask = vals.shape[0] - 1
    out = np.empty(hashes.shape[0], dtype=np.int64)
    for i in range(hashes.shape[0]):
        h1, h2 = hashes[i, 0], hashes[i, 1]
        j = np.int64(h1 & np.uint64(mask))
        out[i] = MISSING
        while vals[j] != MISSING:
            if keys[j, 0] == h1 and keys[j, 1] == h2:
                out[i] = vals[j]
                break
            j = (j + 1) & mask
    return out


@njit(cache=True)
def _insert(keys: U64, vals: I64, h1: np.uint64, h2: np.uint64, sid: int) -> bool:
    mask = vals.shape[0] - 1
    j = np.int64(h1 & np.uint64(mask))
    while vals[j] != MISSING:
        if keys[j, 0] == h1 and keys[j, 1] == h2:
            vals[j] = sid
            return False
        j = (j + 1) & mask
    keys[j, 0] = h1
    keys[j, 1] = h2
    vals[j] = sid
    return True


@njit(cache=True)
def _insert_many(keys: U64, vals: I64, hashes: U64, sids: I64) -> int:
    added = 0
    for i in range(hashes.shape[0]):
        if _insert(keys, vals, hashes[i, 0], hashes[i, 1], sids[i]):
            added += 1
    return added


@njit(cache=True)
def _hash_spans(buf: npt.NDArray[np.uint8], spans: I64) -> U64:
    """Two independent 64-bit hashes of each span, a word at a time, finished with splitmix64."""
    out = np.empty((spans.shape[0], 2), dtype=np.uint64)
    p1 = np.uint64(0x9E3779B97F4A7C15)
    p2 = np.uint64(0xC2B2AE3D27D4EB4F)
    for i in range(spans.shape[0]):
        a, b = spans[i, 0], spans[i, 1]
        h1 = np.uint64(b - a)
        h2 = np.uint64(0x165667B19E3779F9) ^ np.uint64(b - a)
        k = a
        while k < b:
            w = np.uint64(0)
            stop = min(k + 8, b)
            for j in range(k, stop):
                w |= np.uint64(buf[j]) << np.uint64(8 * (j - k))
            h1 = ((h1 ^ w) * p1) ^ (h1 >> np.uint64(31))
            h2 = ((h2 + w) * p2) ^ (h2 >> np.uint64(29))
            k = stop
        out[i, 0] = _mix(h1)
        out[i, 1] = _mix(h2 ^ h1)
    return out


@njit(cache=True)
def _mix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _series_time_ordered(series: I64, ts: I64) -> bool:
    """True if every series' samples are already in time order (the usual case: no sort)."""
    order = np.argsort(series, kind="stable")
    s, t = series[order], ts[order]
    return not bool(((s[1:] == s[:-1]) & (t[1:] < t[:-1])).any())


_TimeSeries = WriteRequest().timeseries.add().__class__


def _labels(key: bytes) -> dict[str, str]:
    try:
        ts = _TimeSeries.FromString(key)
        pairs = [(lb.name, lb.value) for lb in ts.labels]
    except Exception as exc:  # the protobuf runtime's DecodeError, or invalid UTF-8
        raise Invalid(BAD_ENCODING, f"labels are not valid protobuf/UTF-8: {exc}") from exc
    labels = dict(pairs)
    if len(labels) != len(pairs):
        raise Invalid(BAD_VALUE, "duplicate label names in one series")
    if "" in labels:
        raise Invalid(BAD_VALUE, "empty label name")
    if not labels.get("__name__"):
        raise Invalid(MISSING_FIELD, "series has no __name__ label")
    return labels


@njit(cache=True, inline="always")
def _varint(buf: npt.NDArray[np.uint8], pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while pos < end and shift < 64:
        b = int(buf[pos])
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
    return -1, -1


@njit(cache=True, inline="always")
def _skip(buf: npt.NDArray[np.uint8], pos: int, end: int, wt: int) -> int:
    if wt == 0:
        _, p = _varint(buf, pos, end)
        return p
    if wt == 1:
        return pos + 8 if pos + 8 <= end else -1
    if wt == 5:
        return pos + 4 if pos + 4 <= end else -1
    if wt == 2:
        n, p = _varint(buf, pos, end)
        if p < 0 or n < 0 or p + n > end:
            return -1
        return p + n
    return -1


@njit(cache=True)
def _walk(
    buf: npt.NDArray[np.uint8],
) -> tuple[I64, I64, I64, F64, int]:
    end = buf.shape[0]
    cap_s = end // 2 + 1
    spans = np.empty((cap_s, 2), dtype=np.int64)
    counts = np.zeros(cap_s, dtype=np.int64)
    ts = np.empty(cap_s, dtype=np.int64)
    vals = np.empty(cap_s, dtype=np.uint64)  # raw IEEE 754 bits, viewed as float64 at the end
    _NO_VALUES = np.empty(0, dtype=np.float64)
    ns = 0
    nv = 0
    pos = 0
    while pos < end:
        tag, pos = _varint(buf, pos, end)
        if pos < 0:
            return spans[:0], counts[:0], ts[:0], _NO_VALUES, end
        fn, wt = tag >> 3, tag & 7
        if fn == 1 and wt == 2:
            n, p = _varint(buf, pos, end)
            if p < 0 or n < 0 or p + n > end:
                return spans[:0], counts[:0], ts[:0], _NO_VALUES, pos
            tend = p + n
            ls, le = -1, -1
            q = p
            while q < tend:
                ftag, q2 = _varint(buf, q, tend)
                if q2 < 0:
                    return spans[:0], counts[:0], ts[:0], _NO_VALUES, q
                ffn, fwt = ftag >> 3, ftag & 7
                if ffn == 2 and fwt == 2:  # Sample
                    sn, sp = _varint(buf, q2, tend)
                    if sp < 0 or sn < 0 or sp + sn > tend:
                        return spans[:0], counts[:0], ts[:0], _NO_VALUES, q2
                    send = sp + sn
                    value = np.uint64(0)
                    stamp = 0
                    r = sp
                    while r < send:
                        stag, r = _varint(buf, r, send)
                        if r < 0:
                            return spans[:0], counts[:0], ts[:0], _NO_VALUES, sp
                        if stag == 9:  # field 1, fixed64 double
                            if r + 8 > send:
                                return spans[:0], counts[:0], ts[:0], _NO_VALUES, r
                            u = np.uint64(0)
                            for k in range(8):
                                u |= np.uint64(buf[r + k]) << np.uint64(8 * k)
                            value = u
                            r += 8
                        elif stag == 16:  # field 2, varint int64
                            v, r = _varint(buf, r, send)
                            if r < 0:
                                return spans[:0], counts[:0], ts[:0], _NO_VALUES, sp
                            stamp = v  # int64 two's complement, as the wire has it
                        else:
                            r = _skip(buf, r, send, stag & 7)
                            if r < 0:
                                return spans[:0], counts[:0], ts[:0], _NO_VALUES, sp
                    if nv >= ts.shape[0]:
                        return spans[:0], counts[:0], ts[:0], _NO_VALUES, sp
                    ts[nv] = stamp
                    vals[nv] = value
                    nv += 1
                    counts[ns] += 1
                    q = send
                else:
                    q3 = _skip(buf, q2, tend, fwt)
                    if q3 < 0:
                        return spans[:0], counts[:0], ts[:0], _NO_VALUES, q2
                    if ffn == 1:  # Label: labels must be one contiguous run
                        if ls < 0:
                            ls = q
                        elif le != q:
                            return spans[:0], counts[:0], ts[:0], _NO_VALUES, q
                        le = q3
                    q = q3
            if ls < 0:
                ls, le = p, p
            spans[ns, 0] = ls
            spans[ns, 1] = le
            ns += 1
            pos = tend
        else:
            pos = _skip(buf, pos, end, wt)
            if pos < 0:
                return spans[:0], counts[:0], ts[:0], _NO_VALUES, end
    return (
        spans[:ns].copy(),
        counts[:ns].copy(),
        ts[:nv].copy(),
        vals[:nv].copy().view(np.float64),
        -1,
    )
