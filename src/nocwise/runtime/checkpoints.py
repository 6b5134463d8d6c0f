"""The correlator's state on disk, so that a restart continues the same incidents.

Alarms are durable in the state store the moment they are acknowledged to a source, but the
correlator's working state (open incidents, flapping history, operators' merges and splits,
decisions per alarm) lives in memory. The runtime saves it here periodically and on stop, and
restores it on start. A checkpoint taken under other correlation options is not restored:
those options would silently be replaced by the old ones, so the runtime rebuilds from the
stored open alarms instead.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from nocwise.correlate.checkpoint import correlator_from_state, correlator_to_state
from nocwise.correlate.config import CorrelateConfig
from nocwise.correlate.pipeline import Correlator
from nocwise.model import ModelState
from nocwise.topology.graph import TopologyGraph

log = logging.getLogger(__name__)


class CorrelatorCheckpoints:
    """One checkpoint file, replaced atomically (write, fsync, rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def save(self, correlator: Correlator) -> int:
        """Write the correlator's state; returns the number of bytes written."""
        blob = correlator_to_state(correlator).to_bytes()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        with tmp.open("wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.path)
        return len(blob)

    def load(self, graph: TopologyGraph, config: CorrelateConfig) -> Correlator | None:
        """The saved correlator, or None when there is none or it cannot be used (logged)."""
        if not self.path.exists():
            return None
        try:
            state = ModelState.from_bytes(self.path.read_bytes())
            saved = CorrelateConfig.model_validate(state.params["config"])
            if saved != config:
                log.warning(
                    "correlation options changed since the checkpoint %s: rebuilding from the "
                    "stored open alarms",
                    self.path,
                )
                return None
            return correlator_from_state(state, graph)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning(
                "checkpoint %s unusable (%s): rebuilding from stored alarms", self.path, exc
            )
            return None
