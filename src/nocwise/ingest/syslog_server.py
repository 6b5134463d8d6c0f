"""Syslog receivers over UDP and TCP (RFC 5426 / RFC 6587) that hand records to a Sink.

Messages are parsed as they arrive and written in batches (up to ``max_batch`` records or every
``flush_s``), logs and RFC 5674 alarms alike. Memory is bounded by ``max_pending`` records:
past it a TCP connection stops being read (the sender's socket fills: back-pressure), and UDP
datagrams, which cannot be pushed back, are dropped and counted as overloaded. Neither syslog
transport acknowledges messages, so a write that fails is counted and logged, never retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from nocwise.clock import Clock
from nocwise.ingest import syslog
from nocwise.ingest.base import STORE_FAILED, Invalid, Rejection
from nocwise.ingest.health import HealthBoard, SourceHealth
from nocwise.ingest.sink import Overloaded, Sink
from nocwise.model import LogRecord

log = logging.getLogger("nocwise.ingest.syslog")


@dataclass(frozen=True, slots=True)
class SyslogOptions:
    host: str = "127.0.0.1"
    udp_port: int | None = 5514
    tcp_port: int | None = 5514
    max_batch: int = 5000
    flush_s: float = 0.05
    max_pending: int = 100_000
    max_connections: int = 1000


class SyslogServer:
    """UDP and TCP listeners plus one writer task; ports 0 pick free ports (see the properties)."""

    def __init__(
        self,
        sink: Sink,
        health: HealthBoard,
        clock: Clock,
        options: SyslogOptions | None = None,
        name: str = "syslog",
    ) -> None:
        self.options = options or SyslogOptions()
        self._sink = sink
        self._clock = clock
        self._health: SourceHealth = health.source(name)
        self._pending: list[LogRecord] = []
        self._rejections: list[Rejection] = []
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._writer: asyncio.Task[None] | None = None
        self._connections = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def udp_port(self) -> int | None:
        return None if self._udp is None else int(self._udp.get_extra_info("sockname")[1])

    @property
    def tcp_port(self) -> int | None:
        if self._tcp is None or not self._tcp.sockets:
            return None
        return int(self._tcp.sockets[0].getsockname()[1])

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        o = self.options
        self._writer = asyncio.create_task(self._write_loop(), name="syslog-writer")
        if o.udp_port is not None:
            self._udp, _ = await loop.create_datagram_endpoint(
                lambda: _Udp(self), local_addr=(o.host, o.udp_port)
            )
        if o.tcp_port is not None:
            self._tcp = await asyncio.start_server(self._serve_tcp, o.host, o.tcp_port, limit=2**16)

    async def stop(self) -> None:
        """Stop listening, write what is pending, then stop the writer."""
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
        await self.drain()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    async def drain(self) -> None:
        """Wait until everything received so far has been handed to the sink."""
        while self._pending or self._rejections or not self._idle.is_set():
            self._wake.set()
            await asyncio.sleep(0.01)

    def accept(self, frame: bytes, peer: str) -> bool:
        """Parse one message into the pending batch; False if the batch is full (dropped)."""
        if len(self._pending) >= self.options.max_pending:
            self._health.overloaded += 1
            self._room.clear()
            return False
        try:
            self._pending.append(syslog.parse_message(frame, self._clock.now(), peer))
        except Invalid as exc:
            self._rejections.append(Rejection(exc.reason, exc.detail))
        if len(self._pending) >= self.options.max_batch:
            self._wake.set()
        return True

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._connections >= self.options.max_connections:
            writer.close()
            return
        self._connections += 1
        peer = str((writer.get_extra_info("peername") or ("",))[0])
        framer = syslog.Framer()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                frames, errors = framer.feed(data)
                self._rejections.extend(errors)
                for f in frames:
                    while not self.accept(f, peer):  # full: stop reading until there is room
                        await self._room.wait()
            for f in framer.flush():
                self.accept(f, peer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections -= 1
            writer.close()

    async def _write_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.options.flush_s)
            self._wake.clear()
            if not self._pending and not self._rejections:
                continue
            self._idle.clear()
            batch, self._pending = (
                self._pending[: self.options.max_batch],
                self._pending[self.options.max_batch :],
            )
            rejections, self._rejections = self._rejections, []
            try:
                alarms = syslog.alarms_of(batch)
                await self._sink.logs(batch)
                if alarms.records:
                    await self._sink.alarms(alarms.records)
                self._health.record(len(batch), rejections + alarms.rejections, self._clock.now())
            except Overloaded:
                self._health.overloaded += 1
                self._pending[:0] = batch  # keep it; try again on the next round
                await asyncio.sleep(0.05)
            except Exception:
                log.exception("syslog: writing %d records failed; they are lost", len(batch))
                self._health.record(
                    0,
                    [Rejection(STORE_FAILED, "store write failed")] * len(batch),
                    self._clock.now(),
                )
            finally:
                self._idle.set()
                if len(self._pending) < self.options.max_pending:
                    self._room.set()
                if self._pending:
                    self._wake.set()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: SyslogServer) -> None:
        self._server = server

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        peer = str(addr[0]) if addr else ""
        for line in data.split(b"\n") if b"\n" in data.rstrip(b"\n") else [data.rstrip(b"\r\n")]:
            if line.strip():
                self._server.accept(line.rstrip(b"\r"), peer)
