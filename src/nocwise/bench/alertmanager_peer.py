"""A real Prometheus Alertmanager as the grouping peer of `nocwise bench twin`.

The twin's alarms are replayed into a stock Alertmanager process (the Debian
``prometheus-alertmanager`` package) configured as an operator would: one route with
``group_by: [region, alertname]``, Alertmanager's default timers (``group_wait`` 30 s,
``group_interval`` 5 m, ``repeat_interval`` 4 h) and one webhook receiver with ``send_resolved``.
Alertmanager runs on wall-clock time, so the replay is compressed: every alarm is posted at its
event time divided by ``speed`` (`auto_speed`: up to 1000, a simulated minute in 60 ms; a storm
slows it towards 10), every timer is scaled by the same factor, and a quiet gap is cut short once every pending flush has happened. Whatever
falls due together goes out in one request, so a storm arrives as batches.

An incident is what a paging tool keyed on the webhook's ``groupKey`` makes of the
notifications (PagerDuty's ``dedup_key`` works this way): it opens with a group's first firing
notification and closes with a notification whose status is ``resolved``; the next firing
notification of the same group opens a new one. Alertmanager knows an alert by its label set, so
an alarm belongs to the incident of the first notification that carries its label set after it
was raised: a re-raised alarm whose alert never left the group is, to the receiver, the alert it
already has. Alarms never notified (raised and cleared between two flushes) are in no incident
and score as singletons.

Weak at: the compression of time makes timer edges approximate (a flush may land a few
milliseconds before or after an alert that would have fallen on the other side in real time, and
more so on a loaded machine), and a severity change of an open alarm is not replayed (the label set, hence the alert, keeps the
first severity). Alertmanager has no root-cause ranking, so only grouping, compression, detection
and false incidents are scored.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from nocwise.model import Alarm, Entity, Relation
from nocwise.sim.scoring import (
    PredictedIncident,
    compression,
    detection,
    false_incidents_per_day,
    incident_ari,
)
from nocwise.sim.truth import GroundTruth
from nocwise.topology.graph import TopologyGraph

__all__ = [
    "AlertmanagerMissingError",
    "alertmanager_version",
    "auto_speed",
    "run_alertmanager_peer",
]

DEFAULT_BINARY = "/usr/bin/prometheus-alertmanager"
GROUP_BY: tuple[str, ...] = ("region", "alertname")
_BATCH = 500


class AlertmanagerMissingError(RuntimeError):
    """The Alertmanager binary is not installed; the peer cannot run."""


def alertmanager_version(binary: str = DEFAULT_BINARY) -> str:
    """The version ``binary --version`` prints (``0.25.0``)."""
    path = _resolve(binary)
    out = subprocess.run(
        [path, "--version"], capture_output=True, text=True, timeout=30, check=True
    )
    first = (out.stdout or out.stderr).splitlines()[0]
    # "alertmanager, version 0.25.0 (branch: debian/sid, revision: 0.25.0-1+b4)"
    return first.split("version", 1)[1].split()[0] if "version" in first else first.strip()


def run_alertmanager_peer(
    alarms: Sequence[Alarm],
    entities: Sequence[Entity],
    truth: GroundTruth,
    duration: timedelta,
    *,
    binary: str = DEFAULT_BINARY,
    relations: Sequence[Relation] = (),
    group_by: Sequence[str] = GROUP_BY,
    speed: float | None = None,
    group_wait: timedelta = timedelta(seconds=30),
    group_interval: timedelta = timedelta(minutes=5),
    repeat_interval: timedelta = timedelta(hours=4),
) -> dict[str, float]:
    """Replay ``alarms`` through a real Alertmanager and score its groups against ``truth``.

    ``relations`` give the region label (the nearest upstream site or aggregation ring); without
    them every entity is its own region. ``speed`` (simulated seconds per real second) defaults
    to `auto_speed`. Raises `AlertmanagerMissingError` without the binary.
    """
    path = _resolve(binary)
    graph = TopologyGraph(entities, relations)
    replay = _Replay.build(alarms, graph)
    if speed is None:
        speed = auto_speed([p[0] for p in replay.posts], group_interval)
    scale = 1.0 / speed
    timers = {
        "group_wait": _ms(group_wait, scale),
        "group_interval": _ms(group_interval, scale),
        "repeat_interval": _ms(repeat_interval, scale),
    }
    cap = group_wait + group_interval * 1.5  # a quiet gap after which nothing is pending
    with tempfile.TemporaryDirectory(prefix="nocwise-am-peer-") as tmp, _Collector() as hook:
        config = Path(tmp) / "alertmanager.yml"
        config.write_text(_config(hook.url, group_by, timers))
        with _alertmanager(path, config, Path(tmp)) as (proc, url):
            t0 = time.perf_counter()
            posted, requests, post_s, groups_at_end = _drive(replay, url, hook, speed, cap)
            seconds = time.perf_counter() - t0
            received = list(hook.received)
            failed = _failed_notifications(url)
            peak_rss_mib = _peak_rss_mib(proc.pid)  # the replay's peak, before the burst
            burst = _burst(replay, url)
    predicted = _incidents(received, replay.ready)
    notified = {a for inc in predicted for a in inc.alarm_ids}
    out = {
        "ari": incident_ari(predicted, truth),
        "compression": compression(len(replay.alias), len(predicted)),
        "false_incidents_per_day": false_incidents_per_day(predicted, truth, duration),
        "alarms": float(len(replay.alias)),
        "alarms_notified": float(len(notified)),
        "incidents": float(len(predicted)),
        "notifications": float(len(received)),
        "notifications_failed": failed,
        "groups_at_end": float(groups_at_end),
        "alerts_posted": float(posted),
        "alerts_per_s": burst,
        "replay_post_ms": 1000 * post_s / max(requests, 1),
        "peak_rss_mib": peak_rss_mib,
        "seconds": seconds,
        "speed": speed,
    }
    for ft, d in detection(predicted, truth).items():
        out[f"detection_rate.{ft}"] = d["rate"]
        out[f"detection_delay_s.{ft}"] = d["delay_s"]
    return out


def auto_speed(
    times: Sequence[datetime],
    window: timedelta,
    *,
    max_rate: float = 100.0,
    bounds: tuple[float, float] = (10.0, 1000.0),
) -> float:
    """The fastest replay that keeps the busiest ``window`` under ``max_rate`` posts per second.

    Alertmanager and the webhook fall behind a fast storm, and a late flush misses short alarms.
    On the storm scenario the alarms never paged went 803 -> 393 -> 342 -> 304 (of 4,653) at
    1000x, 100x, 20x and 8x: the figures settle once the busiest stretch is near 100 posts/s.

    >>> from datetime import UTC, datetime, timedelta
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> auto_speed([t] * 3000, timedelta(minutes=5)), auto_speed([t] * 3, timedelta(minutes=5))
    (10.0, 1000.0)
    """
    ts = sorted(times)
    busiest, j = 0, 0
    for i, t in enumerate(ts):  # two pointers over sorted times
        while ts[j] < t - window:
            j += 1
        busiest = max(busiest, i - j + 1)
    if busiest == 0:
        return bounds[1]
    return min(max(max_rate * window.total_seconds() / busiest, bounds[0]), bounds[1])


# -- the replay ---------------------------------------------------------------------------------


_Key = tuple[tuple[str, str], ...]  # an alert's sorted labels: Alertmanager's identity of it


@dataclass
class _Replay:
    """Alertmanager posts in event-time order, with the alarms that share one alert."""

    posts: list[tuple[datetime, bool, str, dict[str, str]]]  # (sim time, firing, id, labels)
    alias: dict[str, str] = field(default_factory=dict)  # alarm_id -> id the alert carries
    # alarm_id -> (posts made once it is raised, its label set): what ties it to notifications
    ready: dict[str, tuple[int, _Key]] = field(default_factory=dict)

    @classmethod
    def build(cls, alarms: Sequence[Alarm], graph: TopologyGraph) -> _Replay:
        raised: dict[str, tuple[datetime, Alarm]] = {}
        cleared: dict[str, datetime] = {}
        for a in alarms:
            if a.alarm_id not in raised:
                raised[a.alarm_id] = (a.raised_time or a.event_time, a)
            if a.cleared_time is not None:
                cleared.setdefault(a.alarm_id, a.cleared_time)
        events = [(t, 0, i) for i, (t, _) in raised.items()]
        events += [(max(t, raised[i][0]), 1, i) for i, t in cleared.items()]
        events.sort()
        out = cls([])
        active: dict[_Key, list[str]] = {}
        key_of: dict[str, _Key] = {}
        for t, kind, alarm_id in events:
            if kind == 0:
                labels = _labels(raised[alarm_id][1], graph)
                key = tuple(sorted(labels.items()))
                ids = active.setdefault(key, [])
                ids.append(alarm_id)
                out.alias[alarm_id] = ids[0]
                key_of[alarm_id] = key
                if len(ids) == 1:
                    out.posts.append((t, True, alarm_id, labels))
                out.ready[alarm_id] = (len(out.posts), key)
            else:
                key = key_of[alarm_id]
                ids = active[key]
                ids.remove(alarm_id)
                if not ids:
                    out.posts.append((t, False, out.alias[alarm_id], dict(key)))
                    del active[key]
        return out


def _labels(a: Alarm, graph: TopologyGraph) -> dict[str, str]:
    mo = a.managed_object
    return {
        "alertname": a.probable_cause or "unknown",
        "instance": mo,
        "severity": a.perceived_severity.value.lower(),
        "region": graph.region(mo) if mo in graph else mo,
    }


def _drive(
    replay: _Replay, url: str, hook: _Collector, speed: float, cap: timedelta
) -> tuple[int, int, float, int]:
    """Post in compressed time; returns (alerts, requests, seconds posting, groups at the end).

    Each post is due at its event time divided by ``speed``, with quiet gaps cut to ``cap``;
    whatever is due when the loop wakes goes out in one request (a storm becomes a batch).
    """
    due: list[float] = []
    clock = 0.0
    for n, (t, *_) in enumerate(replay.posts):
        gap = (t - replay.posts[n - 1][0]) if n else timedelta(0)
        clock += min(gap, cap).total_seconds() / speed
        due.append(clock)
    started_at: dict[str, str] = {}
    posted, requests, post_s, i = 0, 0, 0.0, 0
    begin = time.monotonic()
    with httpx.Client(base_url=url, timeout=60) as client:
        while i < len(replay.posts):
            time.sleep(max(0.0, begin + due[i] - time.monotonic()))
            late = time.monotonic() - begin
            hook.anchor(replay.posts[i][0], begin + due[i], speed)
            body: list[dict[str, Any]] = []
            while i < len(replay.posts) and due[i] <= late and len(body) < _BATCH:
                _, firing, alarm_id, labels = replay.posts[i]
                now = _iso(datetime.now(UTC))
                alert: dict[str, Any] = {"labels": labels, "annotations": {"alarm_id": alarm_id}}
                if firing:
                    started_at[alarm_id] = now
                    alert["startsAt"] = now
                else:
                    alert["startsAt"] = started_at.get(alarm_id, now)
                    alert["endsAt"] = now
                body.append(alert)
                i += 1
            hook.sent = i  # a notification may carry this batch before the request returns
            sent = time.perf_counter()
            client.post("/api/v2/alerts", json=body).raise_for_status()
            post_s += time.perf_counter() - sent
            posted += len(body)
            requests += 1
        time.sleep(cap.total_seconds() / speed + 0.5)  # pending flushes and webhooks in flight
        groups = client.get("/api/v2/alerts/groups").json()
    return posted, requests, post_s, len(groups)


def _failed_notifications(url: str) -> float:
    """Webhook deliveries Alertmanager gave up on (a lost notification loses its alarms)."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("alertmanager_notifications_failed_total{")
    )


def _burst(replay: _Replay, url: str, n: int = 5000) -> float:
    """Ingest rate: ``n`` new firing alerts (the replay's label sets, numbered), in batches."""
    labels = [lab for _, firing, _, lab in replay.posts if firing]
    if not labels:
        return 0.0
    now = _iso(datetime.now(UTC))
    body = [
        {"labels": {**labels[k % len(labels)], "burst": str(k)}, "startsAt": now} for k in range(n)
    ]
    with httpx.Client(base_url=url, timeout=60) as client:
        t = time.perf_counter()
        for i in range(0, len(body), _BATCH):
            client.post("/api/v2/alerts", json=body[i : i + _BATCH]).raise_for_status()
        return len(body) / (time.perf_counter() - t)


def _incidents(
    received: Sequence[tuple[datetime, int, Mapping[str, Any]]],
    ready: Mapping[str, tuple[int, _Key]],
) -> list[PredictedIncident]:
    """Notifications -> incidents, one per open..resolved run of a group key.

    ``received`` is (sim time, posts made before it arrived, webhook body). An alarm joins the
    incident of the first notification that carries its label set after it was raised: a
    re-raised alarm whose alert never left the group is, to the receiver, the same alert.
    """
    waiting: dict[_Key, list[tuple[int, str]]] = {}
    for alarm_id, (n, key) in ready.items():
        waiting.setdefault(key, []).append((n, alarm_id))
    for q in waiting.values():
        q.sort(reverse=True)  # pop() takes the earliest
    members: dict[str, list[str]] = {}
    opened: dict[str, datetime] = {}
    open_of: dict[str, str] = {}
    for at, sent, note in received:
        group = str(note.get("groupKey", ""))
        inc = open_of.get(group)
        if inc is None:
            inc = f"am-{len(members) + 1}"
            open_of[group], members[inc], opened[inc] = inc, [], at
        for alert in note.get("alerts", []):
            q = waiting.get(tuple(sorted(alert.get("labels", {}).items())), [])
            while q and q[-1][0] <= sent:
                members[inc].append(q.pop()[1])
        if note.get("status") == "resolved":
            del open_of[group]
    return [
        PredictedIncident(inc, frozenset(ids), opened[inc]) for inc, ids in members.items() if ids
    ]


# -- the process and the webhook ----------------------------------------------------------------


def _resolve(binary: str) -> str:
    path = shutil.which(binary) or (binary if Path(binary).is_file() else None)
    if path is None:
        raise AlertmanagerMissingError(
            f"Alertmanager binary {binary!r} not found "
            "(Debian package prometheus-alertmanager; scripts/install-test-deps.sh installs it)"
        )
    return path


def _ms(d: timedelta, scale: float) -> str:
    return f"{max(1, round(d.total_seconds() * scale * 1000))}ms"


def _config(hook_url: str, group_by: Sequence[str], timers: Mapping[str, str]) -> str:
    doc = {
        # alerts posted without endsAt stay firing until the replay resolves them
        "global": {"resolve_timeout": "8760h"},
        "route": {"receiver": "collector", "group_by": list(group_by), **timers},
        "receivers": [
            {
                "name": "collector",
                "webhook_configs": [{"url": hook_url, "send_resolved": True, "max_alerts": 0}],
            }
        ],
    }
    return json.dumps(doc, indent=2)  # JSON is YAML


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _alertmanager(
    path: str, config: Path, tmp: Path
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Alertmanager on a free loopback port, gossip off, state in ``tmp``; always stopped."""
    port = _free_port()
    log = tmp / "alertmanager.log"
    cmd = [
        path,
        f"--config.file={config}",
        f"--storage.path={tmp / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
        "--log.level=warn",
    ]
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"alertmanager exited: {log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"alertmanager not ready after 30 s: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield proc, url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _peak_rss_mib(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # a storm flushes hundreds of groups at once
    daemon_threads = True


class _Collector:
    """A loopback HTTP server that keeps every webhook body, stamped with replayed sim time."""

    def __init__(self) -> None:
        self.received: list[tuple[datetime, int, Mapping[str, Any]]] = []
        self.sent = 0  # posts Alertmanager has accepted so far
        self._lock = threading.Lock()
        self._anchor = (datetime(1970, 1, 1, tzinfo=UTC), time.monotonic(), 1.0)
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                collector._keep(json.loads(body or b"{}"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def anchor(self, sim: datetime, mono: float, speed: float) -> None:
        """From now on, real ``mono`` maps to ``sim``; ``speed`` sim seconds per real second."""
        with self._lock:
            self._anchor = (sim, mono, speed)

    def _keep(self, note: Mapping[str, Any]) -> None:
        with self._lock:
            sim, mono, speed = self._anchor
            at = sim + timedelta(seconds=(time.monotonic() - mono) * speed)
            self.received.append((at, self.sent, note))

    def __enter__(self) -> _Collector:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
