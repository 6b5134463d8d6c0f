"""A standalone ingest process: the HTTP router plus optional syslog and SNMP listeners over a
:class:`SqliteSink`. The full application mounts the same router; this one serves the crash test,
the throughput benchmark and small deployments that only collect.

    python -m nocwise.ingest.server --db data/ingest.db --port 8080 --syslog-port 5514
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, generate_latest
from starlette.responses import Response

from nocwise.clock import Clock, SystemClock
from nocwise.ingest.health import HealthBoard
from nocwise.ingest.http import Limits, make_router
from nocwise.ingest.series_index import SeriesIndex
from nocwise.ingest.snmp_server import SnmpOptions, SnmpServer
from nocwise.ingest.sqlite_sink import SqliteSink
from nocwise.ingest.syslog_server import SyslogOptions, SyslogServer


def build_app(
    sink: SqliteSink,
    clock: Clock,
    *,
    board: HealthBoard | None = None,
    limits: Limits | None = None,
    syslog: SyslogOptions | None = None,
    snmp: SnmpOptions | None = None,
) -> FastAPI:
    """The ingest app; series ids continue from what the sink already stored."""
    board = board or HealthBoard()
    registry = CollectorRegistry()
    board.register(registry)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        servers: list[SyslogServer | SnmpServer] = []
        if syslog is not None:
            servers.append(SyslogServer(sink, board, clock, syslog))
        if snmp is not None:
            servers.append(SnmpServer(sink, board, clock, snmp))
        for s in servers:
            await s.start()
        try:
            yield
        finally:
            for s in servers:
                await s.stop()

    app = FastAPI(title="nocwise ingest", lifespan=lifespan)
    index = SeriesIndex.restore(sink.series_labels())
    app.include_router(make_router(sink, board, clock, limits=limits, series_index=index))

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type="text/plain; version=0.0.4")

    app.state.health = board
    return app


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m nocwise.ingest.server", description=__doc__)
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--syslog-port", type=int, default=None, help="UDP and TCP")
    p.add_argument("--snmp-port", type=int, default=None)
    p.add_argument("--max-inflight", type=int, default=64)
    p.add_argument(
        "--synchronous", choices=["FULL", "NORMAL"], default="FULL",
        help="SQLite sync: FULL survives power loss, NORMAL only a process crash",
    )  # fmt: skip
    a = p.parse_args(argv)
    # Ingest allocates millions of short-lived records; with the default thresholds the cyclic
    # collector keeps re-walking every long-lived object (series index, caches) as they pile up.
    gc.set_threshold(100_000, 50, 100)
    sink = SqliteSink(a.db, synchronous=a.synchronous)
    app = build_app(
        sink,
        SystemClock(),
        limits=Limits(max_inflight=a.max_inflight),
        syslog=None
        if a.syslog_port is None
        else SyslogOptions(host=a.host, udp_port=a.syslog_port, tcp_port=a.syslog_port),
        snmp=None if a.snmp_port is None else SnmpOptions(host=a.host, port=a.snmp_port),
    )
    try:
        asyncio.run(
            uvicorn.Server(uvicorn.Config(app, a.host, a.port, log_level="warning")).serve()
        )
    finally:
        sink.close()


if __name__ == "__main__":
    main()
