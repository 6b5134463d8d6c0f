"""What grouping needs from a learned alarm-type causality model: one method.

``nocwise.correlate.causality`` learns such a model from alarm history; grouping only depends on
this protocol, so any model (or a fixed expert table) can stand in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class CausalStrength(Protocol):
    """How strongly alarms of ``cause_type`` trigger alarms of ``effect_type``, in [0, 1]."""

    def strength(self, cause_type: str, effect_type: str) -> float: ...


class TableCausality:
    """A fixed table of strengths, e.g. an expert's list of "A causes B".

    >>> TableCausality({("powerFail", "linkDown"): 0.9}).strength("powerFail", "linkDown")
    0.9
    """

    def __init__(self, table: Mapping[tuple[str, str], float]) -> None:
        self._table = dict(table)

    def strength(self, cause_type: str, effect_type: str) -> float:
        return self._table.get((cause_type, effect_type), 0.0)


class CachedCausality:
    """Memoises strengths (the model is asked about the same type pairs all storm long)."""

    def __init__(self, model: CausalStrength) -> None:
        self._model = model
        self._cache: dict[tuple[str, str], float] = {}

    def either_way(self, a: str, b: str) -> float:
        """The stronger of a -> b and b -> a: grouping does not care who caused whom."""
        key = (a, b) if a <= b else (b, a)
        hit = self._cache.get(key)
        if hit is None:
            s = max(self._model.strength(a, b), self._model.strength(b, a))
            hit = self._cache[key] = min(1.0, max(0.0, float(s)))
        return hit
