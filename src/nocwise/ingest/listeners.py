"""The non-HTTP receivers, built from the ``sources`` section of the YAML configuration.

HTTP sources are endpoints on the API server (:func:`nocwise.ingest.http.make_router` with
``kinds``); syslog and SNMP listen on their own sockets and are started here, in the app's
lifespan, with the same sink and health board. PromQL and Kubernetes sources are pulled:
:func:`pullers` returns their connectors for the runtime to schedule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from nocwise.clock import Clock
from nocwise.config.schema import (
    KubernetesSource,
    PromqlSource,
    SnmpSource,
    SourceConfig,
    SyslogSource,
)
from nocwise.ingest.health import HealthBoard
from nocwise.ingest.k8s import KubernetesCollector
from nocwise.ingest.promql import PromqlConnector
from nocwise.ingest.series_index import SeriesIndex
from nocwise.ingest.sink import Sink
from nocwise.ingest.snmp_server import SnmpOptions, SnmpServer, UsmUser
from nocwise.ingest.syslog_server import SyslogOptions, SyslogServer


def syslog_options(src: SyslogSource) -> SyslogOptions:
    return SyslogOptions(host=src.host, udp_port=src.udp_port, tcp_port=src.tcp_port)


def snmp_options(src: SnmpSource) -> SnmpOptions:
    users = [
        UsmUser(
            u.name,
            u.auth_protocol,
            u.auth_key.get_secret_value() if u.auth_key else None,
            u.priv_protocol,
            u.priv_key.get_secret_value() if u.priv_key else None,
            getattr(u, "engine_id", None),
        )
        for u in src.users
    ]
    return SnmpOptions(
        src.host, src.port, tuple(src.communities), tuple(users), tuple(src.mib_dirs)
    )


@dataclass(slots=True)
class Listeners:
    """Started socket receivers; ``stop()`` drains them (pending records reach the sink)."""

    servers: list[SyslogServer | SnmpServer] = field(default_factory=list)

    async def stop(self) -> None:
        for s in self.servers:
            await s.stop()


async def start_listeners(
    sources: Sequence[SourceConfig], sink: Sink, health: HealthBoard, clock: Clock
) -> Listeners:
    """Start a receiver for every enabled syslog and SNMP source (health under its name)."""
    out = Listeners()
    try:
        for src in sources:
            if not src.enabled:
                continue
            if isinstance(src, SyslogSource):
                server: SyslogServer | SnmpServer = SyslogServer(
                    sink, health, clock, syslog_options(src), name=src.name or "syslog"
                )
            elif isinstance(src, SnmpSource):
                server = SnmpServer(sink, health, clock, snmp_options(src), name=src.name or "snmp")
            else:
                continue
            await server.start()
            out.servers.append(server)
    except BaseException:
        await out.stop()
        raise
    return out


@dataclass(frozen=True, slots=True)
class Pullers:
    """Pull sources and how often to run them."""

    promql: list[tuple[PromqlConnector, PromqlSource]]
    kubernetes: list[tuple[KubernetesCollector, KubernetesSource]]


def pullers(
    sources: Sequence[SourceConfig], sink: Sink, health: HealthBoard, index: SeriesIndex
) -> Pullers:
    """Connectors for the enabled PromQL and Kubernetes sources."""
    promql = [
        (PromqlConnector(s.url, sink, health, index, name=s.name or "promql"), s)
        for s in sources
        if isinstance(s, PromqlSource) and s.enabled
    ]
    kube = [
        (KubernetesCollector(sink, health, kubeconfig=s.kubeconfig, name=s.name or "kubernetes"), s)
        for s in sources
        if isinstance(s, KubernetesSource) and s.enabled
    ]
    return Pullers(promql, kube)
