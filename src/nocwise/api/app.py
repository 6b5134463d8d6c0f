"""The application factory: everything is built here from settings and a clock, nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from nocwise import __version__
from nocwise.api import errors
from nocwise.api.deps import Viewer, get_runtime, require_role
from nocwise.api.errors import problem
from nocwise.api.routers import alarms, grouping, incidents, system
from nocwise.clock import Clock, SystemClock
from nocwise.config import Settings
from nocwise.ingest.health import HealthBoard
from nocwise.ingest.http import make_router
from nocwise.ingest.listeners import start_listeners
from nocwise.ingest.series_index import SeriesIndex
from nocwise.runtime.runtime import Runtime
from nocwise.runtime.sink import RuntimeSink


def create_app(
    settings: Settings,
    clock: Clock | None = None,
    runtime: Runtime | None = None,
    console: bool = False,
) -> FastAPI:
    """An app with its own runtime (stores, bus, pipeline), started and stopped by the lifespan."""
    clock = clock or SystemClock()
    rt = runtime or Runtime(settings, clock)

    health = HealthBoard()
    health.register(rt.metrics.registry)
    sink = RuntimeSink(rt)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await rt.start()
        listeners = await start_listeners(settings.sources, sink, health, clock)
        try:
            yield
        finally:
            await listeners.stop()
            await rt.stop()

    app = FastAPI(
        title="nocwise",
        version=__version__,
        description="AIOps for telecom operators: alarms in, a few explained incidents out.",
        lifespan=lifespan,
    )
    app.state.runtime = rt
    app.state.settings = settings
    errors.install(app)
    max_body = settings.server.max_body_bytes

    @app.middleware("http")
    async def limit_body(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body:
            return problem(413, "Payload too large", f"the body exceeds {max_body} bytes")
        return await call_next(request)

    app.state.ingest_health = health
    http_kinds = {s.kind for s in settings.sources if s.enabled}
    series_index = SeriesIndex.restore(rt.telemetry.series_label_sets())
    app.include_router(
        make_router(
            sink,
            health,
            clock,
            dependencies=[cast(Any, require_role("operator"))],
            kinds=http_kinds,
            series_index=series_index,
        )
    )
    app.include_router(system.router)
    app.include_router(alarms.router)
    app.include_router(grouping.router)  # before incidents: /feedback is not an incident id
    app.include_router(incidents.router)

    @app.get("/metrics", tags=["system"], include_in_schema=True)
    def metrics(request: Request, principal: Viewer) -> Response:
        """nocwise's own metrics in the Prometheus text format."""
        del principal
        registry = get_runtime(request).metrics.registry
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/api/v1/sources", tags=["system"])
    def sources(request: Request, principal: Viewer) -> list[dict[str, Any]]:
        """Every ingest source's health: last received, counts, rejects by reason."""
        del principal
        board: HealthBoard = request.app.state.ingest_health
        return board.snapshot(get_runtime(request).clock.now())

    if console:
        from nocwise.console.pages import mount_console

        mount_console(app, rt)
    return app
