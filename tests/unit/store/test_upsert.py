"""``upsert``: one statement per table and column set, no cyclic garbage per batch."""

from __future__ import annotations

import gc

from sqlalchemy import Column, Integer, MetaData, String, Table, select

from nocwise.store.state.db import Database, make_engine, upsert

_META = MetaData()
_T = Table(
    "t", _META, Column("id", String, primary_key=True), Column("n", Integer), Column("s", String)
)


def _db() -> Database:
    db = Database(make_engine("sqlite:///:memory:"))
    _META.create_all(db.engine)
    return db


def _rows(k: int, n: int = 200) -> list[dict[str, object]]:
    return [{"id": f"a{i}", "n": i + k, "s": f"s{k}"} for i in range(n)]


def test_upsert_inserts_then_updates_or_keeps() -> None:
    db = _db()
    with db.session() as s:
        upsert(s, _T, _rows(0), ["id"])
        upsert(s, _T, _rows(5, 10), ["id"])
        upsert(
            s,
            _T,
            [{"id": "a1", "n": -1, "s": "kept?"}, {"id": "b", "n": 7, "s": "new"}],
            ["id"],
            update=False,
        )
    with db.session() as s:
        got = {r.id: (r.n, r.s) for r in s.execute(select(_T))}
    assert len(got) == 201
    assert got["a1"] == (6, "s5")  # updated by the second call, left by the third
    assert got["a150"] == (150, "s0")
    assert got["b"] == (7, "new")


def test_upsert_leaves_no_cyclic_garbage() -> None:
    """A statement with the rows as VALUES left objects in reference cycles on every batch
    (190 per five batches of 500 rows here), which the cyclic collector had to walk."""
    db = _db()
    with db.session() as s:
        upsert(s, _T, _rows(0, 500), ["id"])
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        for k in range(5):
            with db.session() as s:
                upsert(s, _T, _rows(k, 500), ["id"])
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()
