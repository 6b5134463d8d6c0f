"""Ingest throughput: records per second per source, end to end into the durable store.

The ingest server runs in its own process (``python -m nocwise.ingest.server``: HTTP router,
syslog listener, SQLite WAL sink with ``synchronous=FULL``); this process generates the load
over loopback. A record counts once its request got a 2xx (remote_write, webhooks: answered
only after commit) or once the server's health shows it stored (syslog, which has no answer).
The two processes share the machine's cores, so the figures include the client's cost.

Peer: Prometheus' own remote-write receiver (``--web.enable-remote-write-receiver``) gets the
same remote_write bodies from the same client.

Sources: remote_write (snappy protobuf, 2,000 samples per request as Prometheus sends by
default, 100,000 distinct series of 8 labels), Alertmanager webhooks (100 alerts per request),
syslog over TCP with octet counting (RFC 5424 lines).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cramjam
import httpx
import numpy as np

from nocwise.bench.options import BenchOptions
from nocwise.bench.report import BenchReport, Progress, now_utc
from nocwise.ingest.remote_write_pb import WriteRequest

TARGETS = {"remote_write": 300_000.0, "syslog": 50_000.0, "alertmanager": 10_000.0}
CONCURRENCY = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def remote_write_bodies(n_requests: int, n_series: int, per_request: int, seed: int) -> list[bytes]:
    """Snappy WriteRequests cycling over ``n_series`` series, one sample per series each."""
    rng = np.random.default_rng(seed)
    t0 = 1_767_225_600_000
    bodies = []
    for r in range(n_requests):
        w = WriteRequest()
        first = (r * per_request) % n_series
        ts = t0 + (r * per_request // n_series) * 15_000
        values = rng.normal(50, 10, per_request)
        for k in range(per_request):
            s = (first + k) % n_series
            series = w.timeseries.add()
            for name, value in (
                ("__name__", f"node_metric_{s % 50}"), ("cluster", f"dc{s % 4}"),
                ("instance", f"host-{s // 50 % 2000}:9100"), ("job", "node"), ("mode", "idle"),
                ("region", "eu-west"), ("shard", str(s % 16)), ("slot", str(s // 100_000)),
            ):  # fmt: skip
                label = series.labels.add()
                label.name, label.value = name, value
            sample = series.samples.add()
            sample.value, sample.timestamp = float(values[k]), ts
        bodies.append(bytes(cramjam.snappy.compress_raw(w.SerializeToString())))
    return bodies


def alertmanager_bodies(n_requests: int, per_request: int) -> list[bytes]:
    import json

    start = datetime(2026, 1, 1, tzinfo=UTC)
    bodies = []
    for r in range(n_requests):
        alerts = []
        for k in range(per_request):
            i = r * per_request + k
            alerts.append(
                {
                    "status": "firing",
                    "labels": {
                        "alertname": f"Alert{i % 37}",
                        "instance": f"ne-{i}",
                        "severity": "major",
                        "region": "north",
                    },
                    "annotations": {"summary": f"problem {i}", "description": "threshold crossed"},
                    "startsAt": (start + timedelta(seconds=i)).isoformat(),
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus/graph",
                    "fingerprint": f"{i:016x}",
                }
            )
        bodies.append(
            json.dumps(
                {"version": "4", "status": "firing", "receiver": "nocwise", "alerts": alerts}
            ).encode()
        )
    return bodies


def syslog_stream(n: int, parts: int = 4) -> list[bytes]:
    """``n`` octet-counted RFC 5424 frames, split into ``parts`` streams (one per connection)."""
    lines = []
    for i in range(n):
        msg = (
            f"<187>1 2026-01-05T10:00:{i % 60:02d}.{i % 1000:03d}Z csr-{i % 500}.net bgpd {1000 + i % 7} "
            f'BGP [origin ip="10.0.{i % 250}.1"] neighbor 10.1.{i % 200}.2 state changed to Idle'
        ).encode()
        lines.append(str(len(msg)).encode() + b" " + msg)
    return [b"".join(lines[k::parts]) for k in range(parts)]


@contextlib.contextmanager
def _process(cmd: list[str], ready_url: str, log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[0]} exited: {log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[0]} not ready")
            time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def _post_all(
    url: str, bodies: list[bytes], headers: dict[str, str], progress: Progress
) -> float:
    """Seconds to get a 2xx for every body, CONCURRENCY keep-alive connections in flight.

    A minimal HTTP/1.1 client on asyncio streams (one write per request, TCP_NODELAY): a
    general-purpose client costs more per request than the server under test.
    """
    parsed = httpx.URL(url)
    host, port, path = parsed.host, parsed.port or 80, parsed.raw_path.decode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                try:
                    body = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
                while True:
                    writer.write(head.encode() + body)
                    status, answer = await _read_response(reader)
                    if status < 300:
                        break
                    if status not in (429, 503):
                        raise RuntimeError(f"{url}: {status} {answer[:300]!r}")
                    await asyncio.sleep(0.01)
                progress.advance()
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - t0


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status = int((await reader.readline()).split()[1])
    length = 0
    chunked = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = b""
    while True:
        size = int((await reader.readline()).strip(), 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, body
        body += chunk[:-2]


async def _syslog_tcp(
    port: int, api: str, streams: list[bytes], n: int, progress: Progress
) -> float:
    def received(doc: list[dict[str, Any]]) -> int:
        return next((int(s["received"]) for s in doc if s["source"] == "syslog"), 0)

    async with httpx.AsyncClient(timeout=10) as client:
        base = received((await client.get(f"{api}/api/v1/ingest/sources")).json())
        t0 = time.perf_counter()

        async def send(chunk: bytes) -> None:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            for i in range(0, len(chunk), 1 << 16):
                w.write(chunk[i : i + (1 << 16)])
                await w.drain()
            w.close()
            await w.wait_closed()

        await asyncio.gather(*(send(s) for s in streams))
        done = base
        while done < base + n:
            await asyncio.sleep(0.02)
            done = received((await client.get(f"{api}/api/v1/ingest/sources")).json())
            if time.perf_counter() - t0 > 120:
                raise RuntimeError(f"syslog: only {done - base} of {n} stored after 120 s")
        progress.advance(n)
        return time.perf_counter() - t0


def run(options: BenchOptions, progress: Progress) -> BenchReport:
    started = now_utc()
    scale = 0.2 if options.quick else 1.0
    rw_requests = int(500 * scale)
    rw_per_request = 2000
    n_series = 100_000
    am_requests = int(1000 * scale)
    am_per_request = 100
    n_syslog = int(500_000 * scale)
    config = {
        "remote_write": {
            "requests": rw_requests,
            "samples_per_request": rw_per_request,
            "series": n_series,
        },
        "alertmanager": {"requests": am_requests, "alerts_per_request": am_per_request},
        "syslog": {"messages": n_syslog, "transport": "tcp octet-counting", "connections": 4},
        "concurrency": CONCURRENCY,
        "store": "SQLite WAL, synchronous=FULL, group commit",
        "seed": options.seed,
        "quick": options.quick,
    }
    progress.start("generating load", None)
    n_first = n_series // rw_per_request
    both = remote_write_bodies(n_first + rw_requests, n_series, rw_per_request, options.seed)
    rw_first, rw = both[:n_first], both[n_first:]
    am = alertmanager_bodies(am_requests, am_per_request)
    stream = syslog_stream(n_syslog)
    summary: dict[str, float] = {}
    peers: dict[str, dict[str, float]] = {}
    items: list[dict[str, Any]] = []
    rw_headers = {
        "Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
        "X-Prometheus-Remote-Write-Version": "0.1.0",
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="nocwise-bench-") as tmp:
        port, syslog_port = _free_port(), _free_port()
        api = f"http://127.0.0.1:{port}"
        cmd = [
            sys.executable, "-m", "nocwise.ingest.server", "--db", f"{tmp}/ingest.db",
            "--port", str(port), "--syslog-port", str(syslog_port),
        ]  # fmt: skip
        with _process(cmd, f"{api}/api/v1/ingest/sources", Path(tmp) / "server.log"):
            # First pass: every series is new (series creation); second: steady state, the
            # figure the target is about (an operator's series set changes slowly).
            progress.start("remote_write: new series", len(rw_first))
            secs = asyncio.run(_post_all(f"{api}/api/v1/write", rw_first, rw_headers, progress))
            summary["remote_write_new_series_per_s"] = len(rw_first) * rw_per_request / secs
            progress.start("remote_write", len(rw))
            secs = asyncio.run(_post_all(f"{api}/api/v1/write", rw, rw_headers, progress))
            summary["remote_write_samples_per_s"] = rw_requests * rw_per_request / secs
            progress.start("alertmanager webhooks", len(am))
            secs = asyncio.run(
                _post_all(
                    f"{api}/api/v1/ingest/alertmanager",
                    am,
                    {"Content-Type": "application/json"},
                    progress,
                )
            )
            summary["alertmanager_alarms_per_s"] = am_requests * am_per_request / secs
            progress.start("syslog tcp", n_syslog)
            secs = asyncio.run(_syslog_tcp(syslog_port, api, stream, n_syslog, progress))
            summary["syslog_messages_per_s"] = n_syslog / secs
        db_mib = sum(f.stat().st_size for f in Path(tmp).glob("ingest.db*")) / 2**20
        summary["store_mib"] = db_mib
        prometheus = shutil.which("prometheus")
        if options.peers and prometheus:
            pport = _free_port()
            cfg = Path(tmp) / "prometheus.yml"
            cfg.write_text("global:\n  scrape_interval: 1h\n")
            pcmd = [
                prometheus, f"--config.file={cfg}", f"--storage.tsdb.path={tmp}/tsdb",
                f"--web.listen-address=127.0.0.1:{pport}", "--web.enable-remote-write-receiver",
            ]  # fmt: skip
            with _process(pcmd, f"http://127.0.0.1:{pport}/-/ready", Path(tmp) / "prometheus.log"):
                url = f"http://127.0.0.1:{pport}/api/v1/write"
                progress.start("peer: prometheus new series", len(rw_first))
                secs = asyncio.run(_post_all(url, rw_first, rw_headers, progress))
                peer = {"remote_write_new_series_per_s": len(rw_first) * rw_per_request / secs}
                progress.start("peer: prometheus remote_write", len(rw))
                secs = asyncio.run(_post_all(url, rw, rw_headers, progress))
                peer["remote_write_samples_per_s"] = rw_requests * rw_per_request / secs
                peers["prometheus"] = peer
    for source, target in TARGETS.items():
        key = {
            "remote_write": "remote_write_samples_per_s",
            "syslog": "syslog_messages_per_s",
            "alertmanager": "alertmanager_alarms_per_s",
        }[source]
        items.append(
            {
                "source": source,
                "records_per_s": round(summary[key]),
                "target": target,
                "meets_target": summary[key] >= target,
            }
        )
    return BenchReport("throughput", started, config, summary, peers, items)
