from __future__ import annotations

import math

import cramjam
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from nocwise.ingest import remote_write as rw
from nocwise.ingest.base import REASONS
from nocwise.ingest.remote_write_pb import WriteRequest


def body(series: list[tuple[dict[str, str], list[tuple[int, float]]]]) -> bytes:
    w = WriteRequest()
    for labels, samples in series:
        ts = w.timeseries.add()
        for k, v in sorted(labels.items()):
            lb = ts.labels.add()
            lb.name, lb.value = k, v
        for t, v in samples:
            s = ts.samples.add()
            s.timestamp, s.value = t, v
    return bytes(cramjam.snappy.compress_raw(w.SerializeToString()))


def test_decodes_series_and_samples_into_a_batch() -> None:
    m = rw.RemoteWriteMapper()
    b = body(
        [
            ({"__name__": "up", "job": "a"}, [(1000, 1.0), (2000, math.nan)]),
            ({"__name__": "up", "job": "b"}, [(1000, 0.0)]),
            ({"__name__": "up", "job": "a"}, [(3000, -5.5)]),
        ]
    )
    batch, new, rej = m.to_batch(rw.parse(b))
    assert rej == []
    assert [s.labels for s in new] == [{"job": "a"}, {"job": "b"}]
    assert batch.series.tolist() == [0, 0, 1, 0]
    assert batch.ts_ms.tolist() == [1000, 2000, 1000, 3000]
    assert np.isnan(batch.values[1])
    assert batch.values[3] == -5.5
    batch2, new2, _ = m.to_batch(rw.parse(b))
    assert new2 == []
    assert batch2.series.tolist() == batch.series.tolist()


def test_negative_and_large_timestamps_round_trip() -> None:
    m = rw.RemoteWriteMapper()
    batch, _, _ = m.to_batch(rw.parse(body([({"__name__": "x"}, [(-5, 1.0), (2**62, 2.0)])])))
    assert batch.ts_ms.tolist() == [-5, 2**62]


def test_bad_series_are_rejected_alone() -> None:
    m = rw.RemoteWriteMapper()
    b = body([({"job": "no-name"}, [(1, 1.0)]), ({"__name__": "ok"}, [(1, 2.0)])])
    batch, _, rej = m.to_batch(rw.parse(b))
    assert batch.values.tolist() == [2.0]
    assert [(r.reason, r.index) for r in rej] == [("missing_field", 0)]


def test_not_snappy_is_fatal() -> None:
    d = rw.parse(b"\x10abc")
    assert d.samples == 0
    assert d.rejections[0].reason == "bad_encoding"
    assert d.rejections[0].index is None


@given(st.binary(max_size=300))
def test_fuzz_raw_protobuf_never_raises(raw: bytes) -> None:
    m = rw.RemoteWriteMapper()
    d = rw.parse(bytes(cramjam.snappy.compress_raw(raw)))
    batch, _, rej = m.to_batch(d)
    assert all(r.reason in REASONS and r.detail for r in rej)
    assert len(batch) <= d.samples


@given(st.binary(max_size=200))
def test_fuzz_body_never_raises(raw: bytes) -> None:
    d = rw.parse(raw)
    assert all(r.reason in REASONS for r in d.rejections)


@given(
    st.lists(
        st.tuples(
            st.dictionaries(
                st.sampled_from(["__name__", "a", "b", ""]), st.text(max_size=5), max_size=3
            ),
            st.lists(st.tuples(st.integers(-(2**63), 2**63 - 1), st.floats()), max_size=3),
        ),
        max_size=6,
    )
)
def test_fuzz_valid_protobuf_every_sample_kept_or_series_rejected(
    series: list[tuple[dict[str, str], list[tuple[int, float]]]],
) -> None:
    m = rw.RemoteWriteMapper()
    d = rw.parse(body(series))
    batch, _, rej = m.to_batch(d)
    bad = {r.index for r in rej}
    expected = sum(len(s) for i, (_, s) in enumerate(series) if i not in bad)
    assert len(batch) == expected
    assert all(r.reason in REASONS for r in rej)


def test_rejected_label_sets_past_the_bound_are_not_remembered() -> None:
    m = rw.RemoteWriteMapper()
    rw_mod = rw
    old = rw_mod.MAX_CACHED_BAD
    rw_mod.MAX_CACHED_BAD = 2
    try:
        bad = [({"job": f"j{i}"}, [(1, 1.0)]) for i in range(5)]
        _, _, rej = m.to_batch(rw.parse(body([*bad, ({"__name__": "ok"}, [(1, 2.0)])])))
        assert [r.index for r in rej] == [0, 1, 2, 3, 4]
        batch, _, rej2 = m.to_batch(rw.parse(body(bad)))
        assert len(rej2) == 5
        assert len(batch) == 0
    finally:
        rw_mod.MAX_CACHED_BAD = old
