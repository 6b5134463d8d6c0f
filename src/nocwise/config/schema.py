"""The settings schema: every section frozen, unknown keys refused, alternatives chosen by `kind`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class Section(BaseModel):
    """Base of every config section: immutable and strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ServerConfig(Section):
    """Where the API and console listen."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    max_body_bytes: Annotated[int, Field(ge=1024)] = 10 * 2**20
    public_url: str | None = None


class SqliteStore(Section):
    """Embedded state store (the default)."""

    kind: Literal["sqlite"] = "sqlite"
    path: Path = Path(".nocwise/state.db")


class PostgresStore(Section):
    """PostgreSQL state store for production and scale-out."""

    kind: Literal["postgresql"]
    url: SecretStr = Field(description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db")


StateStoreConfig = Annotated[SqliteStore | PostgresStore, Field(discriminator="kind")]


class TelemetryConfig(Section):
    """The DuckDB file that holds metric samples and logs."""

    path: Path = Path(".nocwise/telemetry.duckdb")
    retention_days: Annotated[int, Field(ge=1)] = 14


class MemoryBus(Section):
    """In-process bus (the embedded default)."""

    kind: Literal["memory"] = "memory"
    max_queue: Annotated[int, Field(ge=1)] = 10_000


class NatsBus(Section):
    """NATS JetStream bus for scale-out."""

    kind: Literal["nats"]
    url: str = "nats://127.0.0.1:4222"
    stream_prefix: str = "nocwise"
    partitions: Annotated[int, Field(ge=1)] = 16


BusConfig = Annotated[MemoryBus | NatsBus, Field(discriminator="kind")]


class AuthConfig(Section):
    """Bearer-token authentication."""

    bootstrap_admin_token: SecretStr | None = Field(
        default=None, description="Seeded as an admin token at start-up if set (e.g. from env)."
    )


class CorrelationConfig(Section):
    """Knobs of the correlation chain; passed through to `nocwise.correlate`."""

    group_window_s: Annotated[float, Field(gt=0)] = Field(
        default=600.0,
        description="Grouping window: an alarm joins an incident with a member this recent.",
    )
    max_hops: Annotated[int, Field(ge=0, le=10)] = Field(
        default=3, description="How far through the topology grouping looks for a shared cause."
    )
    options: dict[str, Any] = Field(default_factory=dict)
    checkpoint_interval_s: Annotated[float, Field(ge=0)] = Field(
        default=60.0,
        description=(
            "How often the correlator's working state (open incidents, flapping history, "
            "operators' merges and splits) is saved under data_dir; it is also saved on stop "
            "and restored on start. 0 saves only on stop."
        ),
    )


class DetectionConfig(Section):
    """Metric and log detection switches."""

    metrics: bool = True
    logs: bool = True
    forecast: bool = Field(
        default=True,
        description=(
            "Predicted-breach alarms for capacity metrics: qualityOfServiceAlarm "
            "'predicted breach' (MINOR/MAJOR, ETA in minutes to hours) and, once a series has "
            "10 days of daily peaks, 'predicted daily peak breach' (MINOR, ETA in days). On "
            "the digital twin: about 4-5 false predictions per simulated day on 559 capacity "
            "series, every disk-full fault after the warm-up foreseen (minutes ahead), "
            "congestion 2 of 9 (about 20 minutes ahead); nothing is predicted in a series' "
            "first 27 hours. A prediction opens no incident of its own: it joins the incident "
            "of its entity, if there is one, or stays in the alarm list (on the mixed twin, "
            "false incidents per day 28.3 off, 28.7 on). Cost: about 5 KB of state per "
            "capacity series and 3-5 % more CPU on the large topology."
        ),
    )


class TopologyConfig(Section):
    """How relations read as dependencies."""

    connects: Literal["endpoints_depend_on_source", "source_depends_on_target"] = Field(
        default="endpoints_depend_on_source",
        description=(
            "A `connects` edge `link -> router` (inventory style, TMF639): the router depends "
            "on the link. Choose source_depends_on_target where feeds write `router -> link`."
        ),
    )


class PipelineConfig(Section):
    """The stages of the in-process pipeline."""

    correlation: CorrelationConfig = CorrelationConfig()
    detection: DetectionConfig = DetectionConfig()
    diagnose: bool = True
    remediate: bool = True


class HttpSource(Section):
    """An HTTP push source (its endpoint is on the API server)."""

    kind: Literal[
        "alertmanager", "remote_write", "otlp", "tmf642", "ves", "changes", "tickets", "topology"
    ]
    name: str | None = None
    enabled: bool = True


class SyslogSource(Section):
    """Syslog over UDP and/or TCP."""

    kind: Literal["syslog"]
    name: str | None = None
    enabled: bool = True
    host: str = "127.0.0.1"
    udp_port: Annotated[int, Field(ge=0, le=65535)] | None = 5514
    tcp_port: Annotated[int, Field(ge=0, le=65535)] | None = 5514


class SnmpUser(Section):
    """An SNMPv3 USM user."""

    name: str
    auth_protocol: Literal["none", "md5", "sha", "sha256", "sha512"] = "sha"
    auth_key: SecretStr | None = None
    priv_protocol: Literal["none", "des", "aes", "aes256"] = "aes"
    priv_key: SecretStr | None = None
    engine_id: str | None = Field(
        default=None,
        pattern="^(0x)?[0-9a-fA-F]{10,64}$",
        description="The sender's authoritative engine id (hex), needed for SNMPv3 traps",
    )


class SnmpSource(Section):
    """SNMP trap / INFORM receiver."""

    kind: Literal["snmp"]
    name: str | None = None
    enabled: bool = True
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 1162
    communities: list[str] = Field(default_factory=lambda: ["public"])
    users: list[SnmpUser] = Field(default_factory=list)
    mib_dirs: list[Path] = Field(default_factory=list)


class PromqlSource(Section):
    """Pull history from a Prometheus-compatible server."""

    kind: Literal["promql"]
    name: str | None = None
    enabled: bool = True
    url: str
    queries: list[str] = Field(default_factory=list)
    step_s: Annotated[float, Field(gt=0)] = 60.0


class KubernetesSource(Section):
    """Discover pods, nodes, services and deployments."""

    kind: Literal["kubernetes"]
    name: str | None = None
    enabled: bool = True
    kubeconfig: Path | None = None
    interval_s: Annotated[float, Field(gt=0)] = 60.0


SourceConfig = Annotated[
    HttpSource | SyslogSource | SnmpSource | PromqlSource | KubernetesSource,
    Field(discriminator="kind"),
]


def _default_sources() -> list[SourceConfig]:
    kinds = ("alertmanager", "remote_write", "otlp", "tmf642", "ves", "changes", "tickets")
    return [HttpSource(kind=k) for k in kinds]


class Settings(BaseSettings):
    """The whole configuration of a nocwise process."""

    model_config = SettingsConfigDict(
        env_prefix="NOCWISE_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    data_dir: Path = Path(".nocwise")
    server: ServerConfig = ServerConfig()
    store: StateStoreConfig = SqliteStore()
    telemetry: TelemetryConfig = TelemetryConfig()
    bus: BusConfig = MemoryBus()
    auth: AuthConfig = AuthConfig()
    pipeline: PipelineConfig = PipelineConfig()
    topology: TopologyConfig = TopologyConfig()
    sources: list[SourceConfig] = Field(default_factory=_default_sources)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment overrides the YAML file (which arrives as init kwargs)."""
        del settings_cls, dotenv_settings, file_secret_settings
        return (env_settings, init_settings)

    def state_url(self) -> str:
        """The SQLAlchemy URL of the state store."""
        if isinstance(self.store, PostgresStore):
            return self.store.url.get_secret_value()
        path = self.store.path
        if not path.is_absolute() and path.parts[:1] == (".nocwise",):
            path = self.data_dir / Path(*path.parts[1:])
        return f"sqlite:///{path}"

    def telemetry_path(self) -> Path:
        """Where the DuckDB telemetry file lives."""
        path = self.telemetry.path
        if not path.is_absolute() and path.parts[:1] == (".nocwise",):
            path = self.data_dir / Path(*path.parts[1:])
        return path
