"""Inhibition as Alertmanager defines it: an active source alarm mutes matching targets that
share the values of the ``equal`` fields (``inhibit/inhibit.go``). Topology-aware suppression
lives in ``suppress.py``; this is the label-only rule for sources without topology.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from nocwise.correlate.keys import key_function
from nocwise.correlate.matchers import Matcher, match_all
from nocwise.correlate.muter import MuteReason, MuteVerdict
from nocwise.model import Alarm


class InhibitRule(BaseModel):
    """Targets matching ``target`` are muted while a ``source`` alarm with equal fields is active."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()


class InhibitMuter:
    """Per rule: equal-key -> active source alarm ids, kept current by ``observe``."""

    def __init__(self, rules: tuple[InhibitRule, ...]) -> None:
        self._rules = rules
        self._keys = [key_function(r.equal) if r.equal else (lambda a: "") for r in rules]
        self._sources: list[dict[str, set[str]]] = [{} for _ in rules]
        self._of: dict[str, list[tuple[int, str]]] = {}  # source alarm -> (rule, key)
        self.version = 0

    def observe(self, alarm: Alarm) -> None:
        aid = alarm.alarm_id
        if alarm.cleared_time is not None:  # by id: a clear may not repeat the labels
            for i, key in self._of.pop(aid, ()):
                ids = self._sources[i].get(key)
                if ids is not None:
                    ids.discard(aid)
                    if not ids:
                        del self._sources[i][key]
                self.version += 1
            return
        for i, rule in enumerate(self._rules):
            if not match_all(rule.source, alarm):
                continue
            key = self._keys[i](alarm)
            ids = self._sources[i].setdefault(key, set())
            if aid not in ids:
                ids.add(aid)
                self._of.setdefault(aid, []).append((i, key))

    def mutes(self, alarm: Alarm, now: datetime) -> MuteVerdict | None:
        for i, rule in enumerate(self._rules):
            ids = self._sources[i].get(self._keys[i](alarm))
            if not ids or not match_all(rule.target, alarm):
                continue
            by = tuple(sorted(ids - {alarm.alarm_id}))
            if by:
                return MuteVerdict(
                    MuteReason.INHIBITED,
                    by,
                    f"rule:{rule.name}",
                    f"inhibited by rule {rule.name}",
                    None,
                )
        return None
