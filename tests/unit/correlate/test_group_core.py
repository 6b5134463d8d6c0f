"""The batch core (``correlate/core``) decides as the Python path does.

The core runs beside ``GroupStage`` (``Shadow``): before the stage processes a batch, the core
places it from its own arrays; every placement it makes must be the stage's, to the incident,
reason, rounded score and explanation text. Where it stops (a notification it leaves to Python:
demoted or advisory alarms, a bridge, an exact tie), the stage handles the batch and the core is
rebuilt from the stage (``sync``), which also checks that rebuilding reproduces the order of
every index bucket. The workloads are the chain-equivalence stream (every kind of
notification, uneven batches, bridges, demoted and flapping alarms) and the throughput stream.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from tests.unit.correlate.test_chain_equivalence import _workload as chain_workload
from tests.unit.correlate.test_chain_equivalence import run_chain

from nocwise.correlate.base import StageOutput
from nocwise.correlate.config import CorrelateConfig
from nocwise.correlate.core import (
    OUT_OPEN,
    STOP_DONE,
    GroupCore,
    _bucket,
    _hdel,
    _hget,
    _hset,
    _insert,
    _leave,
    _rehash,
    core_detail,
)
from nocwise.correlate.group import CORE_REASONS, GroupConfig, GroupStage
from nocwise.correlate.pipeline import build_correlator
from nocwise.correlate.throughput import SETTLE
from nocwise.correlate.throughput import _workload as throughput_workload
from nocwise.model import Alarm


class Shadow:
    """Runs the core before the stage on every batch and checks each decision it made."""

    def __init__(self, stage: GroupStage) -> None:
        self.stage = stage
        self.core = GroupCore(stage)
        self.core.sync()
        self.counts: Counter[str] = Counter()
        self._process: Callable[[Any, datetime], StageOutput] = stage.process
        deindex = stage._index.deindex

        def deindex_both(d: Any) -> None:
            deindex(d)
            self.core.deindex(d.id)

        stage._index.deindex = deindex_both  # type: ignore[method-assign]
        stage.process = self.process  # type: ignore[method-assign]

    def process(self, alarms: list[Alarm], now: datetime) -> StageOutput:
        b, done, stop = self.core.run(alarms)
        out = self._process(alarms, now)
        by_id = {d.alarm_id: d for d in out.decisions}
        for i, row in enumerate(b.rows(0, done)):
            if row is None:
                continue
            self.counts["core"] += 1
            dec = by_id[alarms[i].alarm_id]
            reason = CORE_REASONS[b.reason[i]]
            assert dec.reason == reason, (i, dec)
            ev = dec.evidence[0]
            iid = ev.data["incident_id"]
            if b.code[i] == OUT_OPEN:
                self.core.bind(int(b.slot[i]), iid)
            else:
                assert self.core.incident_of[b.slot[i]] == iid, (i, dec)
            assert ev.data["score"] == round(float(b.f[i, 0]), 4), (i, dec)
            text = "first alarm of the incident" if b.code[i] == OUT_OPEN else core_detail(row)
            assert ev.summary.startswith(f"{reason} -> {iid}: {text}"), (i, ev.summary)
        if stop != STOP_DONE:
            self.counts[f"stop{stop}"] += 1
            self.counts["python"] += sum(1 for d in out.decisions) - sum(
                1 for i in range(done) if b.code[i] >= 0
            )
            self.core.sync()
        return out


def _chain(cfg: CorrelateConfig, seed: int, n: int) -> Counter[str]:
    topo, batches = chain_workload(seed, n)
    corr = build_correlator(cfg, topo)
    shadow = Shadow(corr._group)
    assert shadow.core.supported
    for batch in batches:
        now = batch[-1].event_time
        corr.process(batch, now)
        corr.tick(now)
    return shadow.counts


@pytest.mark.parametrize("seed", [3, 11])
def test_core_decides_as_python_on_the_chain_stream(seed: int) -> None:
    counts = _chain(CorrelateConfig(), seed, 4000)
    assert counts["core"] > 500
    assert counts["stop2"] + counts["stop1"] > 0  # bridges and demoted alarms went to Python


def test_core_decides_as_python_without_bridges_or_preference() -> None:
    cfg = CorrelateConfig(group=GroupConfig(bridge=False, prefer_explained=False, max_hops=2))
    counts = _chain(cfg, 5, 3000)
    assert counts["core"] > 500
    assert counts["stop2"] == 0


def test_core_decides_as_python_on_the_throughput_stream() -> None:
    topo, warm, stream = throughput_workload(4000, 6000, 0)
    corr = build_correlator(CorrelateConfig(), topo)
    shadow = Shadow(corr._group)
    for feed in (warm, stream):
        for i in range(0, len(feed), 500):
            chunk = feed[i : i + 500]
            corr.feed(chunk, chunk[-1].event_time)
            corr.tick(chunk[-1].event_time)
        corr.tick(feed[-1].event_time + SETTLE)
    assert shadow.counts["core"] > 2500


def test_a_rebuilt_core_keeps_the_bucket_order() -> None:
    """After ``sync`` at any point, the core goes on deciding as the stage: the rebuilt
    buckets hold their incidents in the stage's order (newest last)."""
    topo, batches = chain_workload(7, 2500)
    corr = build_correlator(CorrelateConfig(), topo)
    shadow = Shadow(corr._group)
    for k, batch in enumerate(batches):
        now = batch[-1].event_time
        corr.process(batch, now)
        corr.tick(now + timedelta(seconds=k % 3))
        if k % 5 == 0:
            shadow.core.sync()
    assert shadow.counts["core"] > 300


@pytest.mark.parametrize(
    ("seed", "group"),
    [
        (3, GroupConfig(batch_core=True)),
        (11, GroupConfig(batch_core=True)),
        (5, GroupConfig(batch_core=True, bridge=False, prefer_explained=False, max_hops=2)),
        (7, GroupConfig(batch_core=True, demoted_reach=2, hub_fanout=None)),
    ],
)
def test_the_chain_answers_the_same_with_the_batch_core(seed: int, group: GroupConfig) -> None:
    """Everything the chain answers (alarm views with every decision, incidents, final state,
    funnel) is the same with grouping placed by the core and by Python."""
    python = group.model_copy(update={"batch_core": False})
    want = run_chain(seed, 3000, CorrelateConfig(group=python))
    got = run_chain(seed, 3000, CorrelateConfig(group=group))
    assert got == want


def test_the_core_tables_act_as_dicts() -> None:
    """The open-addressing table (set, get, delete, rehash) against a dict, seeded."""
    rng = np.random.default_rng(0)
    hk, hv = np.full(1 << 12, -1, np.int64), np.zeros(1 << 12, np.int64)
    ctr = np.zeros(8, np.int64)
    want: dict[int, int] = {}
    for step in range(20_000):
        k = int(rng.integers(0, 3_000)) * (1 << 32) + int(rng.integers(0, 3))
        if rng.random() < 0.3:
            assert _hdel(hk, hv, k) == want.pop(k, -1)
        else:
            _hset(hk, hv, ctr, 4, k, step)
            want[k] = step
        if ctr[4] > hk.size // 2:
            hk, hv, ctr[4] = _rehash(hk, hv, hk.size * 2)
    assert all(_hget(hk, hv, k, -1) == v for k, v in want.items())
    assert _hget(hk, hv, 5 * (1 << 32) + 7, -1) == -1


def test_a_bucket_keeps_its_order_through_tombstones_and_compaction() -> None:
    """Slots leave (tombstones, then a compaction) and arrive (appended, a full vector moves
    in the pool): the live ones read in arrival order, as a dict's keys."""
    pool = np.zeros(1 << 12, np.int64)
    meta = [np.zeros(64, np.int64) for _ in range(4)]
    ctr = np.zeros(8, np.int64)
    V = (pool, *meta, ctr)
    P = (np.full(1 << 12, -1, np.int64), np.zeros(1 << 12, np.int64))
    table = np.full(4, -1, np.int64)
    want: dict[int, None] = {}
    rng = np.random.default_rng(1)
    for _ in range(600):
        s = int(rng.integers(0, 60))
        if s in want and rng.random() < 0.6:
            _leave(V, P, int(table[0]), s)
            del want[s]
        else:
            _insert(V, P, _bucket(V, table, 0), s)
            want.setdefault(s)
        v = int(table[0])
        pool, vs, vn = V[0], V[1], V[2]
        live = [int(x) for x in pool[vs[v] : vs[v] + vn[v]] if x >= 0]
        assert live == list(want)


def test_the_chain_answers_the_same_when_the_core_is_rebuilt_as_it_grows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The core forgets what it interned by rebuilding from the drafts when its tables outgrow
    the live state; with the bound at its tightest it rebuilds on most batches, and the chain
    still answers as the Python path does."""
    monkeypatch.setattr(GroupCore, "GROWTH", 1)
    monkeypatch.setattr(GroupCore, "FLOOR", 0)
    syncs = 0
    sync = GroupCore.sync

    def counted(self: GroupCore) -> None:
        nonlocal syncs
        syncs += 1
        sync(self)

    monkeypatch.setattr(GroupCore, "sync", counted)
    want = run_chain(13, 2000, CorrelateConfig(group=GroupConfig()))
    got = run_chain(13, 2000, CorrelateConfig(group=GroupConfig(batch_core=True)))
    assert got == want
    assert syncs > 20


def test_the_chain_answers_the_same_with_predictions_held_and_adopted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Predictions (``advisory_sources``) are held by the stage; while any is held the core
    leaves every placement to it (one may adopt them), and the answers stay the Python path's."""
    import tests.unit.correlate.test_chain_equivalence as chain

    workload = chain._workload

    def with_predictions(seed: int, n: int) -> tuple[Any, list[list[Alarm]]]:
        topo, batches = workload(seed, n)
        forecast = [
            [
                replace(a, source="nocwise-forecast") if int(a.alarm_id[1:]) % 9 == 0 else a
                for a in batch
            ]
            for batch in batches
        ]
        return topo, forecast

    monkeypatch.setattr(chain, "_workload", with_predictions)
    seen: Counter[str] = Counter()
    for name in ("_held", "_adopt"):
        method = getattr(GroupStage, name)

        def count(self: GroupStage, *args: Any, _m: Any = method, _n: str = name) -> Any:
            seen[_n] += 1
            return _m(self, *args)

        monkeypatch.setattr(GroupStage, name, count)
    want = run_chain(17, 2500, CorrelateConfig(group=GroupConfig()))
    python = dict(seen)
    got = run_chain(17, 2500, CorrelateConfig(group=GroupConfig(batch_core=True)))
    assert got == want
    assert python["_held"] > 10
    assert python["_adopt"] > 0


def test_a_chain_without_the_core_does_not_load_it() -> None:
    """The core brings numba and LLVM (~60 MB resident): the default chain must not import it."""
    code = (
        "import sys\n"
        "from nocwise.correlate.config import CorrelateConfig\n"
        "from nocwise.correlate.pipeline import build_correlator\n"
        "from nocwise.correlate.synthetic import access_network\n"
        "from nocwise.topology.graph import TopologyGraph\n"
        "build_correlator(CorrelateConfig(), TopologyGraph(*access_network(6)))\n"
        "assert 'nocwise.correlate.core' not in sys.modules, 'core imported'\n"
        "assert 'numba' not in sys.modules, 'numba imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
