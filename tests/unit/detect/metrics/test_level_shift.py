"""Level-shift member: the resolution floor stops identical bursts on a flat series escalating."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nocwise.detect.metrics.level_shift import LevelShiftConfig, LevelShiftDetector
from nocwise.model.metrics import MetricBatch
from nocwise.model.state import ModelState

STEP_MS = 300_000
BURSTS = range(100, 1500, 100)


def on_off() -> MetricBatch:
    """Exactly 0, with the same pair of 20s every 100 samples (NAB's spike-density shape)."""
    values = np.zeros(1500)
    for b in BURSTS:
        values[b] = values[b + 6] = 20.0
    return MetricBatch.of(np.zeros(1500), np.arange(1500) * STEP_MS, values)


def burst_z(resolution: float) -> npt.NDArray[np.float64]:
    det = LevelShiftDetector(LevelShiftConfig(resolution=resolution))
    z = det.raw(on_off(), learn=True)
    return np.asarray([z[b] for b in BURSTS][1:])  # the first burst comes before any quantum


def test_identical_bursts_on_a_flat_series_do_not_escalate() -> None:
    without, with_floor = burst_z(0.0), burst_z(0.03)
    assert without[-1] > 100 * without[0]  # the collapsed scale: z doubles every burst
    assert with_floor[-1] < 2 * with_floor[0]
    assert np.all(np.isfinite(with_floor))
    assert with_floor.min() > 3.0  # still a clear shift


def test_the_floor_leaves_continuous_values_alone() -> None:
    rng = np.random.default_rng(7)
    values = 50 + rng.normal(0, 2, 3000)
    values[2000:] += 8  # a level shift
    batch = MetricBatch.of(np.zeros(3000), np.arange(3000) * STEP_MS, values)
    base = LevelShiftDetector(LevelShiftConfig(resolution=0.0)).raw(batch, learn=True)
    floor = LevelShiftDetector().raw(batch, learn=True)
    # the quantum is the smallest step seen: a few samples in it is still a share of the noise
    np.testing.assert_allclose(floor[:200], base[:200], rtol=1e-2)
    np.testing.assert_allclose(floor[200:], base[200:], rtol=1e-3)
    assert floor[2010] > 5.0


def test_the_quantum_of_counts_is_one() -> None:
    rng = np.random.default_rng(3)
    counts = rng.poisson(4.0, 500).astype(np.float64)
    det = LevelShiftDetector()
    det.learn(MetricBatch.of(np.zeros(500), np.arange(500) * STEP_MS, counts))
    assert det.to_state().arrays["step"][0, 0] == 1.0
    assert det.to_state().arrays["last"][0, 0] == counts[-1]


def test_a_v1_snapshot_is_migrated_with_the_floor_off_until_relearned() -> None:
    batch = on_off()
    head, tail = batch.select(np.arange(1500) < 1000), batch.select(np.arange(1500) >= 1000)
    det = LevelShiftDetector()
    det.learn(head)
    state = det.to_state()
    arrays = {k: v for k, v in state.arrays.items() if k not in {"last", "step"}}
    old = LevelShiftDetector.from_state(ModelState(state.schema, 1, state.params, arrays))
    assert old.to_state().version == 2
    assert np.isnan(old.to_state().arrays["last"]).all()
    assert not old.to_state().arrays["step"].any()
    old.learn(tail)
    assert old.to_state().arrays["step"][0, 0] == 20.0
