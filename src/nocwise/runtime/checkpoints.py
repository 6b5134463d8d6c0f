"""The correlator's state on disk, so that a restart continues the same incidents.

Alarms are durable in the state store the moment they are acknowledged to a source, but the
correlator's working state (open incidents, flapping history, operators' merges and splits,
decisions per alarm) lives in memory. The runtime saves it here periodically and on stop, and
restores it on start. A checkpoint taken under other correlation options is not restored:
those options would silently be replaced by the old ones, so the runtime rebuilds from the
stored open alarms instead.

The periodic save runs in a forked child process (:meth:`CorrelatorCheckpoints.save_in_child`),
as a database's background snapshot does. Building and writing the state of 100,000 open
alarms costs 5-15 s of CPU; in a thread of the service it shares the interpreter with the API,
and every request that gives the GIL away (each SQLite call) waits up to a switch interval to
get it back, and correlation has to wait for the reader to finish. The child reads its own
copy-on-write image of the correlator as it was at the fork, so the service only pays for the
fork (tens of ms) and correlation goes on at once. Where ``os.fork`` does not exist the save
runs in this process.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import warnings
from dataclasses import dataclass
from pathlib import Path

from nocwise.collector import collector_paused
from nocwise.correlate.checkpoint import correlator_from_state, correlator_to_state
from nocwise.correlate.config import CorrelateConfig
from nocwise.correlate.learning import FeedbackCausality
from nocwise.correlate.pipeline import Correlator
from nocwise.model import ModelState
from nocwise.topology.graph import TopologyGraph

log = logging.getLogger(__name__)

CAN_FORK = hasattr(os, "fork")


@dataclass(slots=True)
class ChildSave:
    """A checkpoint being written by a child process; :meth:`wait` blocks (call it off the
    event loop)."""

    pid: int
    report_fd: int
    killed: bool = False

    def kill(self) -> None:
        """Stop the child (on stop, a save of the newer state follows); the file it was
        writing is never read and the last whole checkpoint stays. :meth:`wait` still reaps it."""
        self.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def wait(self) -> ChildResult:
        """Wait for the child to exit; what it wrote, or why it failed."""
        with os.fdopen(self.report_fd, "rb") as f:
            report = f.read().decode(errors="replace")
        try:
            _, status, usage = os.wait4(self.pid, 0)
        except ChildProcessError:  # reaped by someone else's SIGCHLD handler: the report says
            return ChildResult(*_parse(report), 0.0, 0.0)
        code = os.waitstatus_to_exitcode(status)
        cpu_s = usage.ru_utime + usage.ru_stime
        peak_mb = usage.ru_maxrss / 1024.0
        written, error = _parse(report)
        if code != 0 and error is None:
            error = f"checkpoint process exited with {code}"
        return ChildResult(written, error, cpu_s, peak_mb)


@dataclass(frozen=True, slots=True)
class ChildResult:
    """Bytes written, an error (None when it succeeded), the child's CPU seconds and peak
    resident memory (pages shared with the service included)."""

    written: int
    error: str | None
    cpu_s: float
    peak_mb: float


def _parse(report: str) -> tuple[int, str | None]:
    """The child's report line: bytes written, or the error (a child that died wrote none)."""
    if report.startswith("ok "):
        return int(report[3:]), None
    return 0, report or "the checkpoint process died before it reported"


class CorrelatorCheckpoints:
    """One checkpoint file, replaced atomically (write, fsync, rename): a reader sees the old
    file or the new one, never a partly written one."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "correlator.zip"
        self.causality_path = folder / "grouping_causality.zip"
        self.fork = CAN_FORK  # periodic saves in a child process (False: in this one)

    def save(self, correlator: Correlator, causality: FeedbackCausality | None = None) -> int:
        """Write the correlator's state (and grouping's learned causality); bytes written."""
        with collector_paused():  # the state is built, written and freed before it resumes
            written = _write(self.path, correlator_to_state(correlator).to_bytes())
        if causality is not None:
            written += _write(self.causality_path, causality.to_state().to_bytes())
        return written

    def save_in_child(
        self, correlator: Correlator, causality: FeedbackCausality | None = None
    ) -> ChildSave:
        """Fork; the child saves its image of the correlator as it is now and exits.

        Call it from the thread that changes the correlator (the event loop), so that the
        image is between two changes; the caller may change the correlator as soon as this
        returns. The child touches nothing but the correlator and the checkpoint files, and
        leaves by ``os._exit`` (no cleanup of the parent's stores, threads or buffers)."""
        read_fd, write_fd = os.pipe()
        with warnings.catch_warnings():  # 3.12+ warns about forking a threaded process;
            warnings.simplefilter("ignore", DeprecationWarning)  # the child uses no lock
            pid = os.fork()  # another thread may hold
        if pid == 0:  # pragma: no cover - the child's coverage is not collected
            code = 1
            try:
                os.close(read_fd)
                code, report = _child_save(self, correlator, causality)
                os.write(write_fd, report.encode())
            finally:
                os._exit(code)
        os.close(write_fd)
        return ChildSave(pid, read_fd)

    def load_causality(self) -> FeedbackCausality | None:
        """Grouping's learned causality as last trained, or None (unreadable ones are logged)."""
        if not self.causality_path.exists():
            return None
        try:
            return FeedbackCausality.from_state(
                ModelState.from_bytes(self.causality_path.read_bytes())
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("learned grouping causality %s unusable (%s)", self.causality_path, exc)
            return None

    def load(
        self,
        graph: TopologyGraph,
        config: CorrelateConfig,
        causality: FeedbackCausality | None = None,
    ) -> Correlator | None:
        """The saved correlator, or None when there is none or it cannot be used (logged)."""
        if not self.path.exists():
            return None
        try:
            state = ModelState.from_bytes(self.path.read_bytes())
            saved = CorrelateConfig.model_validate(state.params["config"])
            if saved != config:
                log.warning(
                    "correlation options changed since the checkpoint %s: rebuilding from the "
                    "stored open alarms",
                    self.path,
                )
                return None
            return correlator_from_state(state, graph, causality)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning(
                "checkpoint %s unusable (%s): rebuilding from stored alarms", self.path, exc
            )
            return None


def _child_save(
    checkpoints: CorrelatorCheckpoints,
    correlator: Correlator,
    causality: FeedbackCausality | None,
) -> tuple[int, str]:  # pragma: no cover - runs in the forked child
    """Save in the child: exit code and report line for the parent.

    The collector stays off (a collection would walk, and so copy, every page of the image).
    The child runs at the lowest priority: on a busy host a save at the service's priority took
    a core from API requests (p99 up 2-3x while it ran). Signals meant for the service are not
    the child's to handle: an interrupt is left to the parent, which ends this save before
    its own final one."""
    gc.disable()
    os.nice(19)  # the service's threads come first; the save takes whatever CPU is left
    try:
        signal.set_wakeup_fd(-1)  # the parent's event loop listens on it
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread of the child: nothing was inherited to undo
        pass
    try:
        return 0, f"ok {checkpoints.save(correlator, causality)}"
    except BaseException as exc:  # reported to the parent, which logs it
        return 1, f"checkpoint failed in the child: {exc!r}"


def _write(path: Path, blob: bytes) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("wb") as f:
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    return len(blob)
