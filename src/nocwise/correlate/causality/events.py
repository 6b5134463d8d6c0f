"""Alarm events as columns, the input every causality learner shares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nocwise.model.errors import InvalidRecordError


@dataclass(frozen=True, slots=True)
class AlarmEvents:
    """Alarm events as columns: ``ts`` (float64), ``alarm_type`` and ``device`` (int64 indices)."""

    ts: npt.NDArray[np.float64]
    alarm_type: npt.NDArray[np.int64]
    device: npt.NDArray[np.int64]

    def __post_init__(self) -> None:
        n = self.ts.shape[0]
        if self.alarm_type.shape != (n,) or self.device.shape != (n,):
            raise InvalidRecordError("ts, alarm_type and device must be 1-D of equal length")
        if n and (self.alarm_type.min() < 0 or self.device.min() < 0):
            raise InvalidRecordError("alarm_type and device must be non-negative indices")
        if n and not np.all(np.isfinite(self.ts)):
            raise InvalidRecordError("timestamps must be finite")

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def head(self, n: int) -> AlarmEvents:
        """The first ``n`` events in time order (a slice for quick runs)."""
        order = np.argsort(self.ts, kind="stable")[:n]
        return AlarmEvents(self.ts[order], self.alarm_type[order], self.device[order])
