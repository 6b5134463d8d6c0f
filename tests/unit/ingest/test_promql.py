from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from nocwise.ingest.base import REASONS
from nocwise.ingest.promql import parse_matrix, to_batch
from nocwise.ingest.series_index import SeriesIndex

from .strategies import json_values

MATRIX = {
    "status": "success",
    "data": {
        "resultType": "matrix",
        "result": [
            {
                "metric": {"__name__": "up", "job": "a"},
                "values": [[1767600000, "1"], [1767600015.5, "0"]],
            },
            {"metric": {"job": "b"}, "values": [[1767600000, "NaN"]]},
            {"metric": {"job": "c"}, "values": [[1767600000]]},
        ],
    },
}


def test_matrix_to_batch() -> None:
    r = parse_matrix(json.dumps(MATRIX).encode())
    assert [x.reason for x in r.rejections] == ["bad_value"]
    batch, new = to_batch(r.records, SeriesIndex(), "up")
    assert batch.ts_ms.tolist() == [1767600000000, 1767600015500, 1767600000000]
    assert [s.labels for s in new] == [{"job": "a"}, {"job": "b"}]
    assert new[1].metric == "up"


def test_error_answer_is_fatal() -> None:
    r = parse_matrix(b'{"status": "error", "error": "bad query"}')
    assert r.fatal
    assert "bad query" in r.rejections[0].detail


@given(st.binary(max_size=200))
def test_fuzz_bytes(body: bytes) -> None:
    assert all(x.reason in REASONS for x in parse_matrix(body).rejections)


@given(st.lists(json_values, max_size=4))
def test_fuzz_results(results: list[object]) -> None:
    doc = {"status": "success", "data": {"resultType": "matrix", "result": results}}
    r = parse_matrix(json.dumps(doc).encode())
    assert r.accepted + r.rejected == len(results)
    to_batch(r.records, SeriesIndex())


@given(st.lists(st.tuples(st.floats(), st.floats()), max_size=5))
def test_fuzz_sample_values(samples: list[tuple[float, float]]) -> None:
    doc = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [{"metric": {}, "values": [[t, str(v)] for t, v in samples]}],
        },
    }
    r = parse_matrix(json.dumps(doc).encode())
    assert r.accepted + r.rejected == 1
