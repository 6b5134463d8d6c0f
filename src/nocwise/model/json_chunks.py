"""JSON text of a large value in pieces, byte-identical to ``json.dumps(value, sort_keys=True)``.

One ``json.dumps`` of a correlator checkpoint (100,000 open alarms: about 200 MB of JSON) is a
single C call that holds the GIL for 10-20 s, and every API request waits behind it while the
checkpoint thread runs. Encoding it in pieces of at most a few hundred kB keeps each call short,
so the event loop gets the interpreter between them, and lets the caller stream the text into
its file instead of holding it whole.

>>> import json
>>> v = {"b": [1, 2.5, None], "a": {"x": "y"}}
>>> "".join(json_chunks(v, piece_chars=4)) == json.dumps(v, sort_keys=True)
True
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

PIECE_CHARS = 256_000  # aim of one encoding call: a few ms of the interpreter
MAX_ENTRIES = 4096  # entries encoded by one call at most, however small
FEW = 16  # a container this small is opened entry by entry: one of a few keys may hold the bulk


def json_chunks(value: Any, piece_chars: int = PIECE_CHARS) -> Iterator[str]:
    """Pieces whose concatenation is ``json.dumps(value, sort_keys=True)``.

    A container of a few entries is opened entry by entry (a state's header has a handful of
    keys, one of which holds nearly everything). A larger one is encoded a run of entries at
    a time: a run starts at one entry and grows (at most doubling) while its pieces stay under
    ``piece_chars``, and a lone entry that is a container is opened the same way. Runs assume
    the entries of a large container are alike in size; one far larger than its neighbours
    (a storm incident among small ones) is encoded with its run.
    """
    if isinstance(value, dict) and value and all(isinstance(k, str) for k in value):
        yield from _dict_chunks(value, piece_chars)
    elif isinstance(value, list | tuple) and value:
        yield from _list_chunks(value, piece_chars)
    else:  # a scalar, an empty container, or keys json converts by its own rules
        yield json.dumps(value, sort_keys=True)


def _is_open_container(v: Any) -> bool:
    return isinstance(v, dict | list | tuple) and len(v) > 0


def _next_run(run: int, chars: int, piece_chars: int, entries: int) -> int:
    """Entries in the next run: at most double, scaled to the average size of the last; one
    at a time in a container of a few entries."""
    if entries <= FEW:
        return 1
    per_entry = max(1, chars // run)
    return max(1, min(2 * run, piece_chars // per_entry, MAX_ENTRIES))


def _dict_chunks(value: dict[str, Any], piece_chars: int) -> Iterator[str]:
    keys = sorted(value)
    yield "{"
    i, run = 0, 1
    while i < len(keys):
        sep = "" if i == 0 else ", "
        if run == 1 and _is_open_container(value[keys[i]]):
            chars = 0
            yield sep + json.dumps(keys[i]) + ": "
            for piece in json_chunks(value[keys[i]], piece_chars):
                chars += len(piece)
                yield piece
        else:
            run = min(run, len(keys) - i)
            text = json.dumps({k: value[k] for k in keys[i : i + run]}, sort_keys=True)[1:-1]
            chars = len(text)
            yield sep + text
        i += run
        run = _next_run(run, chars, piece_chars, len(keys))
    yield "}"


def _list_chunks(value: list[Any] | tuple[Any, ...], piece_chars: int) -> Iterator[str]:
    yield "["
    i, run = 0, 1
    while i < len(value):
        sep = "" if i == 0 else ", "
        if run == 1 and _is_open_container(value[i]):
            chars = 0
            yield sep
            for piece in json_chunks(value[i], piece_chars):
                chars += len(piece)
                yield piece
        else:
            run = min(run, len(value) - i)
            text = json.dumps(list(value[i : i + run]), sort_keys=True)[1:-1]
            chars = len(text)
            yield sep + text
        i += run
        run = _next_run(run, chars, piece_chars, len(value))
    yield "]"
