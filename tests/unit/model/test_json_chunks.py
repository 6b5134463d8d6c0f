"""The pieced JSON encoder gives exactly ``json.dumps(value, sort_keys=True)``."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from nocwise.model.json_chunks import json_chunks
from nocwise.model.state import ModelState

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3), inner, max_size=6)
        | st.dictionaries(st.integers(), inner, max_size=3)
    ),
    max_leaves=40,
)


@settings(max_examples=300)
@given(values, st.integers(min_value=1, max_value=40))
def test_pieces_join_to_json_dumps(value: Any, piece_chars: int) -> None:
    assert "".join(json_chunks(value, piece_chars)) == json.dumps(value, sort_keys=True)


def test_no_piece_is_much_longer_than_asked_however_deep_the_bulk_sits() -> None:
    rows = [{"id": i, "text": "y" * 50} for i in range(5000)]
    small = {"a": 1, "b": [1, 2]}
    value = {"params": {"config": small, "stages": {"group": {"alarms": rows}}}, "schema": "s"}
    pieces = list(json_chunks(value, piece_chars=1000))
    assert "".join(pieces) == json.dumps(value, sort_keys=True)
    assert max(len(p) for p in pieces) <= 2000


def test_a_large_state_is_written_without_one_long_hold_on_the_interpreter() -> None:
    rows = {f"a{i}": {"id": i, "text": "x" * 200, "tags": list(range(20))} for i in range(60_000)}
    state = ModelState("big", 1, {"alarms": rows})
    whole = time.perf_counter()
    json.dumps(state.header(), sort_keys=True)
    whole = time.perf_counter() - whole
    gaps: list[float] = []
    done = threading.Event()

    def probe() -> None:
        last = time.perf_counter()
        while not done.is_set():
            time.sleep(0.0005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    t = threading.Thread(target=probe)
    t.start()
    blob = state.to_bytes()
    done.set()
    t.join()
    assert ModelState.from_bytes(blob).params == json.loads(json.dumps(state.params))
    assert max(gaps) < whole / 2  # one dumps of it all would stall the probe for `whole`
