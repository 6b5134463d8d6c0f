"""A real nocwise server (API + console) on a free port, and Debian's Chromium driven by Playwright.

The server runs uvicorn on its own event loop in a background thread; the test thread reaches
the runtime through that loop, so pipeline work happens exactly as in `nocwise serve`.
NiceGUI keeps global state, so there is one server per test module.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
import uvicorn

from nocwise.api.app import create_app
from nocwise.clock import ManualClock
from nocwise.config import Settings
from nocwise.model import Series
from nocwise.runtime.replay import replay, settle
from nocwise.runtime.runtime import Runtime
from nocwise.sim import FaultSpec, NoiseSpec, Scenario, Step, Twin
from nocwise.store.state.repositories import TokenRepository

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_ENV = "NOCWISE_SKIP_BROWSER"

T = TypeVar("T")


def _scenario() -> Scenario:
    """One fibre cut on a single-homed access link, no noise: one incident, a few minutes long."""
    return Scenario(
        "console-e2e",
        seed=1,
        duration=timedelta(minutes=6),
        faults=(
            FaultSpec("fibre_cut", timedelta(minutes=1), timedelta(minutes=30), "lnk-acc-0001-a"),
        ),
        noise=NoiseSpec(level=0.0),
    )


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1 (free port) from a thread with its own event loop."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, name="nocwise-e2e-server", daemon=True)
        self.port = 0

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.serve())
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
            self.loop.close()

    def start(self, timeout_s: float = 30.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the nocwise server did not start")
            time.sleep(0.05)
        self.port = int(self.server.servers[0].sockets[0].getsockname()[1])

    def call(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        """Run ``coro`` on the server's loop; the returned future gives its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self, timeout_s: float = 20.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout_s)
        if self.thread.is_alive():
            raise RuntimeError("the nocwise server thread did not stop")


@dataclass
class Console:
    """The running server, its runtime and the tokens a person signs in with."""

    base: str
    runtime: Runtime
    clock: ManualClock
    tokens: dict[str, str]
    server: LiveServer
    twin: Twin
    steps: Iterator[Step]
    plays: list[Future[int]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def play(self, steps: int | None = None) -> Future[int]:
        """Feed the twin's next ``steps`` steps (all that are left, then settle, for None) into
        the pipeline on the server's loop; returns at once, the future gives the steps fed."""
        part = _Slice(self.twin.series, itertools.islice(self.steps, steps))

        async def run() -> int:
            fed = await replay(part, self.runtime, self.clock)  # type: ignore[arg-type]
            if steps is None:
                await settle(self.runtime, self.clock)
            return fed

        played = self.server.call(run())
        self.plays.append(played)
        return played


@dataclass
class _Slice:
    """Part of one twin run, shaped as :func:`replay` reads a twin (``run()`` and ``series``)."""

    series: list[Series]
    steps: Iterator[Step]

    def run(self) -> Iterator[Step]:
        return self.steps


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    data_dir = tmp_path_factory.mktemp("console-e2e")
    scenario = _scenario()
    twin = Twin(scenario)
    clock = ManualClock(scenario.start)
    # a 30 s group_wait, so the incident is published while its fault is still alarming and the
    # page can be seen following it (the default waits 60 s)
    options = {"group": {"group_wait": "PT30S"}}
    settings = Settings.model_validate(
        {"data_dir": data_dir / "nw", "pipeline": {"correlation": {"options": options}}}
    )
    runtime = Runtime(settings, clock)
    tokens = {}
    with runtime.db.session() as s:
        repo = TokenRepository(s)
        for role in ("viewer", "operator", "admin"):
            tokens[role] = repo.create(role, f"e2e-{role}", clock.now())[1]
    server = LiveServer(create_app(settings, clock, runtime, console=True))
    server.start()
    console: Console | None = None
    try:
        server.call(runtime.ingest_topology(twin.entities, twin.relations)).result(60)
        runtime.stages.learn_tickets(twin.ticket_history(n=2000))
        base = f"http://127.0.0.1:{server.port}"
        console = Console(base, runtime, clock, tokens, server, twin, twin.run())
        yield console
    finally:
        for played in console.plays if console else ():
            played.cancel()  # a test that failed half-way leaves no task behind on the loop
            with contextlib.suppress(BaseException):
                played.result(timeout=30)
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium under Playwright; missing is a failure unless NOCWISE_SKIP_BROWSER=1."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: browser tests skipped")
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: run scripts/install-browser.sh "
            f"(or set {SKIP_ENV}=1 to skip the browser tests)"
        )
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        pw.stop()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    """A fresh browser context (no cookies, so signed out) with one page, closed afterwards."""
    del console  # started after the browser, so a skipped browser starts no server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()
