"""Label matchers as Alertmanager writes them (``=``, ``!=``, ``=~``, ``!~``), over alarm fields.

A matcher's ``name`` is an alarm field (``managed_object``, ``probable_cause``, ``source``...) or
``labels.<name>``; regular expressions are anchored, as in Alertmanager.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from nocwise.model import Alarm


class Matcher(BaseModel):
    """One condition on one alarm field.

    >>> from datetime import UTC, datetime
    >>> from nocwise.model import Alarm, EventType, Severity
    >>> a = Alarm("a", "cell-7", EventType.COMMUNICATIONS, "linkDown", Severity.MAJOR,
    ...           datetime(2026, 1, 1, tzinfo=UTC))
    >>> Matcher(name="managed_object", op="=~", value="cell-.*").matches(a)
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    value: str
    op: Literal["=", "!=", "=~", "!~"] = "="

    @model_validator(mode="after")
    def _regex_compiles(self) -> Matcher:
        if self.op in ("=~", "!~"):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error", FutureWarning)  # e.g. "[[": meaning will change
                    re.compile(self.value)
            except (re.error, FutureWarning) as exc:
                raise ValueError(
                    f"matcher {self.name}{self.op} has an invalid regex: {exc}"
                ) from exc
        return self

    @cached_property
    def _regex(self) -> re.Pattern[str]:
        return re.compile(f"(?:{self.value})\\Z")

    def field_value(self, a: Alarm) -> str:
        """The alarm's value for this matcher's field ("" when absent)."""
        if self.name.startswith("labels."):
            return a.labels.get(self.name.removeprefix("labels."), "")
        value = getattr(a, self.name, "")
        return "" if value is None else str(value)

    def matches(self, a: Alarm) -> bool:
        v = self.field_value(a)
        if self.op == "=":
            return v == self.value
        if self.op == "!=":
            return v != self.value
        hit = self._regex.match(v) is not None
        return hit if self.op == "=~" else not hit


def match_all(matchers: Sequence[Matcher], a: Alarm) -> bool:
    """All matchers hold (an empty list matches everything)."""
    return all(m.matches(a) for m in matchers)
