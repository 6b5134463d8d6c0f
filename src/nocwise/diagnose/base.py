"""The root-cause ranker contract: incident + member alarms + nearby changes -> ranked hypotheses.

Invariants: probabilities are in [0, 1], sorted descending and sum to at most 1; every hypothesis
carries evidence; ranking is deterministic and does not depend on the order of the alarms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol

from nocwise.model import Alarm, Change, Hypothesis, Incident


class RootCauseRanker(Protocol):
    """Ranks candidate root-cause entities of an incident."""

    kind: ClassVar[str]

    def rank(
        self, incident: Incident, alarms: Sequence[Alarm], changes: Sequence[Change]
    ) -> list[Hypothesis]:
        """Hypotheses, most probable first."""
        ...
