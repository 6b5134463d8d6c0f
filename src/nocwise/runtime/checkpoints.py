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

from nocwise.collector import collector_paused
from nocwise.correlate.checkpoint import correlator_from_state, correlator_to_state
from nocwise.correlate.config import CorrelateConfig
from nocwise.correlate.learning import FeedbackCausality
from nocwise.correlate.pipeline import Correlator
from nocwise.model import ModelState
from nocwise.topology.graph import TopologyGraph

log = logging.getLogger(__name__)


class CorrelatorCheckpoints:
    """One checkpoint file, replaced atomically (write, fsync, rename)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "correlator.zip"
        self.causality_path = folder / "grouping_causality.zip"

    def save(self, correlator: Correlator, causality: FeedbackCausality | None = None) -> int:
        """Write the correlator's state (and grouping's learned causality); bytes written."""
        with collector_paused():  # the state is built, written and freed before it resumes
            written = _write(self.path, correlator_to_state(correlator).to_bytes())
        if causality is not None:
            written += _write(self.causality_path, causality.to_state().to_bytes())
        return written

    def load_causality(self) -> FeedbackCausality | None:
        """Grouping's learned causality as last trained, or None (unreadable ones are logged)."""
        if not self.causality_path.exists():
            return None
        try:
            return FeedbackCausality.from_state(
                ModelState.from_bytes(self.causality_path.read_bytes())
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("learned grouping causality %s unusable (%s)", self.causality_path, exc)
            return None

    def load(
        self,
        graph: TopologyGraph,
        config: CorrelateConfig,
        causality: FeedbackCausality | None = None,
    ) -> Correlator | None:
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
            return correlator_from_state(state, graph, causality)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning(
                "checkpoint %s unusable (%s): rebuilding from stored alarms", self.path, exc
            )
            return None


def _write(path: Path, blob: bytes) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("wb") as f:
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    return len(blob)
