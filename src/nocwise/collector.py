"""The cyclic garbage collector's settings for a long-running nocwise process.

The pipeline allocates several small objects per record. With Python's default thresholds the
collector re-walks every live alarm, decision and incident again and again (at 100,000 open
alarms about a third of correlation's CPU time). The chain creates no reference cycles (a unit
test checks it), so what it drops is freed by reference counting; the collector only has to
run less often. Start-up objects live as long as the process and are frozen out of its scans.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

SERVICE_GC_THRESHOLDS = (100_000, 50, 100)


def tune_collector_for_service() -> None:
    """Raise the thresholds (call before building the application)."""
    gc.set_threshold(*SERVICE_GC_THRESHOLDS)


def freeze_startup_objects() -> None:
    """Keep everything built so far out of every later scan (call once start-up is done)."""
    gc.freeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for a bulk build of acyclic data, restored after (nests).

    Drop what was built before leaving: millions of objects still alive when collection
    resumes are all walked by the first young collection, a stall of a few hundred ms for
    every thread (a checkpoint of 100,000 open alarms)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
