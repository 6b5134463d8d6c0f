"""Label sets -> dense integer series ids, stable for the life of the index.

Ids are the rows of every detector's struct-of-arrays state, so they are dense and never reused.
``snapshot()`` / ``restore()`` keep them across restarts.

>>> ix = SeriesIndex()
>>> ix.resolve({"__name__": "up", "job": "a"}), ix.resolve({"job": "a", "__name__": "up"})
((0, True), (0, False))
>>> ix.series(0).metric, len(ix)
('up', 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from nocwise.model import Series

ENTITY_LABELS = ("entity", "entity_id", "instance", "node", "pod", "host")


class SeriesIndex:
    """A dict of frozenset(labels) -> id, plus the :class:`Series` record of each id."""

    def __init__(self) -> None:
        self._ids: dict[frozenset[tuple[str, str]], int] = {}
        self._series: list[Series] = []

    def __len__(self) -> int:
        return len(self._series)

    def resolve(self, labels: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[int, bool]:
        """The id of a label set and whether it is new."""
        pairs = labels.items() if type(labels) is dict or isinstance(labels, Mapping) else labels
        key = frozenset(pairs)
        sid = self._ids.get(key)
        if sid is not None:
            return sid, False
        sid = len(self._series)
        self._ids[key] = sid
        self._series.append(series_of(sid, dict(key)))
        return sid, True

    def series(self, sid: int) -> Series:
        """The series record of an id."""
        return self._series[sid]

    def snapshot(self) -> list[dict[str, str]]:
        """Label sets in id order: the whole index as plain data."""
        return [dict(s.labels) | ({"__name__": s.metric} if s.metric else {}) for s in self._series]

    @classmethod
    def restore(cls, label_sets: Iterable[Mapping[str, str]]) -> SeriesIndex:
        """Rebuild an index from :meth:`snapshot`; ids come back the same."""
        ix = cls()
        for labels in label_sets:
            ix.resolve(labels)
        return ix


def series_of(sid: int, labels: Mapping[str, str]) -> Series:
    """A series record: ``__name__`` is the metric, the first entity-like label the entity."""
    rest = dict(labels)
    rest.pop("__name__", None)
    entity = None
    for k in ENTITY_LABELS:
        if rest.get(k):
            entity = rest[k]
            break
    return Series(sid, labels.get("__name__", ""), rest, entity, rest.get("unit", ""))
