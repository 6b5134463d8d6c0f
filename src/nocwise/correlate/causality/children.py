"""Per-effect-type slices of the Hawkes covariates: what the structure search fits."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nocwise.correlate.causality.events import AlarmEvents
from nocwise.correlate.causality.excitation import (
    excitation,
    integrated_excitation,
    timestamp_resolution,
)
from nocwise.correlate.causality.search import ChildData


def child_data(
    events: AlarmEvents,
    n_types: int,
    n_devices: int,
    rings: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]],
    decay_s: float,
    include_ties: bool,
) -> list[ChildData]:
    """One :class:`ChildData` per alarm type; baselines are per device that raises the type."""
    ts, typ, dev = events.ts, events.alarm_type, events.device
    raises = np.zeros((n_devices, n_types), dtype=bool)
    raises[dev, typ] = True
    t_end = float(ts.max())
    exposure = max(t_end - float(ts.min()), decay_s)
    tie_width = timestamp_resolution(ts) if include_ties else 0.0
    x = excitation(ts, typ, dev, n_types, n_devices, rings, decay_s, include_ties)
    g = integrated_excitation(
        ts, typ, dev, n_types, n_devices, rings, raises, t_end, decay_s, tie_width
    )
    children = []
    for v in range(n_types):
        rows = np.nonzero(typ == v)[0]
        dev_map = np.cumsum(raises[:, v]) - 1
        children.append(
            ChildData(
                x=np.ascontiguousarray(x[:, rows, :]),
                g=np.ascontiguousarray(g[:, :, v]),
                device=dev_map[dev[rows]].astype(np.int64),
                n_dev=int(raises[:, v].sum()),
                exposure=exposure,
            )
        )
    return children
