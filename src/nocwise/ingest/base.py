"""What every parser returns: the records it could map and a reason for each one it could not.

A parser never raises on bad input. Whatever it cannot map becomes a :class:`Rejection` with a
reason code from a small closed vocabulary, and the valid rest of the batch is kept.

>>> r = ParseResult[int]([1], [Rejection("bad_json", "line 2", 1)])
>>> r.accepted, r.rejected, r.fatal
(1, 1, False)
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import orjson

T = TypeVar("T")

# The closed vocabulary of rejection reasons (label values of the rejected-records counter).
BAD_ENCODING = "bad_encoding"  # not decodable at all: snappy, protobuf, UTF-8
BAD_JSON = "bad_json"
BAD_SHAPE = "bad_shape"  # decodable, but not the structure the protocol defines
MISSING_FIELD = "missing_field"
BAD_VALUE = "bad_value"  # a field holds a value outside its domain
BAD_TIME = "bad_time"
BAD_FRAME = "bad_frame"
UNSUPPORTED = "unsupported"  # valid for the protocol, not something nocwise maps
TOO_LARGE = "too_large"
STORE_FAILED = "store_failed"  # read fine, but the store refused it (logged with the error)

REASONS: frozenset[str] = frozenset(
    {
        BAD_ENCODING, BAD_JSON, BAD_SHAPE, MISSING_FIELD, BAD_VALUE, BAD_TIME, BAD_FRAME,
        UNSUPPORTED, TOO_LARGE, STORE_FAILED,
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Rejection:
    """One input item that was not accepted. ``index`` is its position in the batch, if any."""

    reason: str
    detail: str
    index: int | None = None


@dataclass(slots=True)
class ParseResult(Generic[T]):
    """Records mapped from one request body, and what was rejected with the reasons."""

    records: list[T] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return len(self.records)

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    @property
    def fatal(self) -> bool:
        """Nothing could be read: the whole body was rejected (a 4xx, not a partial success)."""
        return not self.records and any(r.index is None for r in self.rejections)

    @classmethod
    def reject_all(cls, reason: str, detail: str) -> ParseResult[T]:
        """The whole body is unreadable."""
        return cls([], [Rejection(reason, detail, None)])


class Invalid(Exception):
    """Raised inside a parser for one item; the parser turns it into a :class:`Rejection`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def load_json(body: bytes) -> Any:
    """Strict RFC 8259 JSON (no NaN, integers within 64 bits), or :class:`Invalid` with reason
    ``bad_json`` (also for absurd nesting)."""
    try:
        return orjson.loads(body)
    except (ValueError, RecursionError) as exc:
        raise Invalid(BAD_JSON, f"not valid JSON: {str(exc)[:200]}") from exc


def as_list(doc: Any) -> list[Any]:
    """A JSON array, or a single object read as a one-item array."""
    return doc if isinstance(doc, list) else [doc]


def obj(value: Any, what: str) -> Mapping[str, Any]:
    """A JSON object or :class:`Invalid`."""
    if not isinstance(value, dict):
        raise Invalid(BAD_SHAPE, f"{what} must be an object, got {type(value).__name__}")
    return value


def text(doc: Mapping[str, Any], key: str, *, required: bool = False, default: str = "") -> str:
    """A string field; numbers and booleans are accepted as their text."""
    value = doc.get(key)
    if value is None or value == "":
        if required:
            raise Invalid(MISSING_FIELD, f"{key} is required")
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    raise Invalid(BAD_VALUE, f"{key} must be a string, got {type(value).__name__}")


def str_map(value: Any, what: str) -> dict[str, str]:
    """A flat string map (labels, annotations); nested values are kept as compact JSON."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(BAD_SHAPE, f"{what} must be an object")
    out: dict[str, str] = {}
    for k, v in value.items():
        out[str(k)] = v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
    return out


def parse_time(value: Any, what: str) -> datetime:
    """RFC 3339 / ISO 8601 text (``Z`` allowed) or epoch seconds/milliseconds, as aware UTC."""
    try:
        if isinstance(value, bool):
            raise ValueError("a boolean is not a time")
        if isinstance(value, int | float):
            seconds = value / 1000 if abs(value) > 1e11 else value
            return datetime.fromtimestamp(seconds, UTC)
        if not isinstance(value, str) or not value:
            raise ValueError("expected a timestamp string")
        with contextlib.suppress(ValueError):  # the common case: plain RFC 3339
            fast = datetime.fromisoformat(value)
            if fast.tzinfo is not None:
                return fast.astimezone(UTC)
        s = value.strip()
        if s.endswith(("Z", "z")):
            s = s[:-1] + "+00:00"
        # Python < 3.12 fromisoformat accepts at most 6 fractional digits: truncate nanoseconds.
        dot = s.find(".")
        if dot != -1:
            end = dot + 1
            while end < len(s) and s[end].isdigit():
                end += 1
            if end - dot - 1 > 6:
                s = s[: dot + 7] + s[end:]
        t = datetime.fromisoformat(s)
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        return t.astimezone(UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise Invalid(BAD_TIME, f"{what}: {str(value)[:80]!r} is not a valid time") from exc
