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
F64 = npt.NDArray[np.float64]


@dataclass(slots=True)
class Decoded:
    """One write request as arrays. ``label_spans[i]`` is series i's label bytes in ``raw``."""

    raw: bytes
    label_spans: I64  # (n_series, 2): start, stop of the series' label fields
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
    return Decoded(raw, spans, counts, ts, vals)


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
            empty_i,
            empty_i,
            np.zeros(0, dtype=np.float64),
            [Rejection(exc.reason, exc.detail, None)],
        )


class RemoteWriteMapper:
    """Turns decoded requests into MetricBatches with stable series ids (stateful: the index)."""

    def __init__(self, index: SeriesIndex | None = None) -> None:
        self.index = index or SeriesIndex()
        self._by_bytes: dict[bytes, int] = {}  # label bytes -> id, or -1 - reason slot
        self._bad: list[Rejection] = []

    def to_batch(self, d: Decoded) -> tuple[MetricBatch, list[Series], list[Rejection]]:
        """The batch, the series first seen in it, and per-series rejections (with indices)."""
        n = d.label_spans.shape[0]
        ids = np.empty(n, dtype=np.int64)
        new: list[Series] = []
        rejections = list(d.rejections)
        raw = d.raw
        cache = self._by_bytes
        for i, (a, b) in enumerate(d.label_spans.tolist()):
            key = raw[a:b]
            sid = cache.get(key)
            if sid is None:
                sid = self._learn(key, new)
            if sid < 0:
                bad = self._bad[-1 - sid]
                rejections.append(Rejection(bad.reason, bad.detail, i))
            ids[i] = sid
        series = np.repeat(ids, d.counts)
        keep = series >= 0
        batch = MetricBatch(series, d.ts_ms, d.values)
        if not keep.all():
            batch = batch.select(keep)
        if len(batch) > 1:  # within one series, samples in time order
            order = np.lexsort((batch.ts_ms, batch.series))
            if not (np.diff(order) > 0).all():
                batch = MetricBatch(batch.series[order], batch.ts_ms[order], batch.values[order])
        return batch, new, rejections

    def _learn(self, key: bytes, new: list[Series]) -> int:
        try:
            labels = _labels(key)
        except Invalid as exc:
            self._bad.append(Rejection(exc.reason, exc.detail, None))
            sid = -len(self._bad)
        else:
            sid, is_new = self.index.resolve(labels)
            if is_new:
                new.append(self.index.series(sid))
        if len(self._by_bytes) < 4_000_000:
            self._by_bytes[key] = sid
        return sid


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


@njit(cache=True)
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


@njit(cache=True)
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
    vals = np.empty(cap_s, dtype=np.float64)
    bits = np.empty(1, dtype=np.uint64)
    ns = 0
    nv = 0
    pos = 0
    while pos < end:
        tag, pos = _varint(buf, pos, end)
        if pos < 0:
            return spans[:0], counts[:0], ts[:0], vals[:0], end
        fn, wt = tag >> 3, tag & 7
        if fn == 1 and wt == 2:
            n, p = _varint(buf, pos, end)
            if p < 0 or n < 0 or p + n > end:
                return spans[:0], counts[:0], ts[:0], vals[:0], pos
            tend = p + n
            ls, le = -1, -1
            q = p
            while q < tend:
                ftag, q2 = _varint(buf, q, tend)
                if q2 < 0:
                    return spans[:0], counts[:0], ts[:0], vals[:0], q
                ffn, fwt = ftag >> 3, ftag & 7
                if ffn == 2 and fwt == 2:  # Sample
                    sn, sp = _varint(buf, q2, tend)
                    if sp < 0 or sn < 0 or sp + sn > tend:
                        return spans[:0], counts[:0], ts[:0], vals[:0], q2
                    send = sp + sn
                    value = 0.0
                    stamp = 0
                    r = sp
                    while r < send:
                        stag, r = _varint(buf, r, send)
                        if r < 0:
                            return spans[:0], counts[:0], ts[:0], vals[:0], sp
                        if stag == 9:  # field 1, fixed64 double
                            if r + 8 > send:
                                return spans[:0], counts[:0], ts[:0], vals[:0], r
                            u = np.uint64(0)
                            for k in range(8):
                                u |= np.uint64(buf[r + k]) << np.uint64(8 * k)
                            bits[0] = u
                            value = bits.view(np.float64)[0]
                            r += 8
                        elif stag == 16:  # field 2, varint int64
                            v, r = _varint(buf, r, send)
                            if r < 0:
                                return spans[:0], counts[:0], ts[:0], vals[:0], sp
                            stamp = v  # int64 two's complement, as the wire has it
                        else:
                            r = _skip(buf, r, send, stag & 7)
                            if r < 0:
                                return spans[:0], counts[:0], ts[:0], vals[:0], sp
                    if nv >= ts.shape[0]:
                        return spans[:0], counts[:0], ts[:0], vals[:0], sp
                    ts[nv] = stamp
                    vals[nv] = value
                    nv += 1
                    counts[ns] += 1
                    q = send
                else:
                    q3 = _skip(buf, q2, tend, fwt)
                    if q3 < 0:
                        return spans[:0], counts[:0], ts[:0], vals[:0], q2
                    if ffn == 1:  # Label: labels must be one contiguous run
                        if ls < 0:
                            ls = q
                        elif le != q:
                            return spans[:0], counts[:0], ts[:0], vals[:0], q
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
                return spans[:0], counts[:0], ts[:0], vals[:0], end
    return spans[:ns].copy(), counts[:ns].copy(), ts[:nv].copy(), vals[:nv].copy(), -1
