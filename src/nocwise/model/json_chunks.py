"""JSON text of a large value in pieces, byte-identical to ``json.dumps(value, sort_keys=True)``.

One ``json.dumps`` of a correlator checkpoint (100,000 open alarms: about 200 MB of JSON) is a
single C call that holds the GIL for 10-20 s, and every API request waits behind it while the
checkpoint thread runs. Encoding it in pieces of a few hundred entries keeps each call short,
so the event loop gets the interpreter between them, and lets the caller stream the text into
its file instead of holding it whole.

>>> import json
>>> v = {"b": [1, 2.5, None], "a": {"x": "y"}}
>>> "".join(json_chunks(v, slice_len=1)) == json.dumps(v, sort_keys=True)
True
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

SLICE_LEN = 256  # entries encoded per call: ~0.5 MB for a stored alarm each, a few ms
MAX_DEPTH = 4  # containers this deep are encoded whole


def json_chunks(value: Any, slice_len: int = SLICE_LEN, depth: int = 0) -> Iterator[str]:
    """Pieces whose concatenation is ``json.dumps(value, sort_keys=True)``.

    A container with more than ``slice_len`` entries is encoded a slice at a time; a smaller one
    near the top is opened and its entries visited (a few keys may hold the big lists).
    """
    if depth >= MAX_DEPTH or not isinstance(value, dict | list | tuple):
        yield json.dumps(value, sort_keys=True)
    elif isinstance(value, dict):
        yield from _dict_chunks(value, slice_len, depth)
    else:
        yield from _list_chunks(value, slice_len, depth)


def _dict_chunks(value: dict[Any, Any], slice_len: int, depth: int) -> Iterator[str]:
    if not value or not all(isinstance(k, str) for k in value):
        yield json.dumps(value, sort_keys=True)  # json's own rules for other key types
        return
    keys = sorted(value)
    yield "{"
    if len(keys) > slice_len:
        for i in range(0, len(keys), slice_len):
            part = {k: value[k] for k in keys[i : i + slice_len]}
            yield ("" if i == 0 else ", ") + json.dumps(part, sort_keys=True)[1:-1]
    else:
        for i, k in enumerate(keys):
            yield ("" if i == 0 else ", ") + json.dumps(k) + ": "
            yield from json_chunks(value[k], slice_len, depth + 1)
    yield "}"


def _list_chunks(value: list[Any] | tuple[Any, ...], slice_len: int, depth: int) -> Iterator[str]:
    if not value:
        yield "[]"
        return
    yield "["
    if len(value) > slice_len:
        for i in range(0, len(value), slice_len):
            part = list(value[i : i + slice_len])
            yield ("" if i == 0 else ", ") + json.dumps(part, sort_keys=True)[1:-1]
    else:
        for i, v in enumerate(value):
            if i:
                yield ", "
            yield from json_chunks(v, slice_len, depth + 1)
    yield "]"
