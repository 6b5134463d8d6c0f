"""The `nocwise` command: serve, demo, config, token, bench, sim."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nocwise.config import ConfigError, Settings, load_settings

app = typer.Typer(
    name="nocwise",
    help="AIOps for telecom operators: alarms in, a few explained incidents out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Validate and show configuration.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(token_app, name="token")

out = Console()
err = Console(stderr=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file (default: built-in defaults)"),
]


def _settings(path: Path | None, **overrides: Any) -> Settings:
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        err.print(f"[red]invalid configuration[/red] in {exc.source}:")
        for problem in exc.problems:
            err.print(f"  - {problem}")
        raise typer.Exit(2) from exc
    if overrides:
        data = settings.model_dump(mode="python")
        for dotted, value in overrides.items():
            section, key = dotted.split(".")
            data[section][key] = value
        settings = Settings(**data)
    return settings


@config_app.command("check")
def config_check(file: Annotated[Path, typer.Argument(help="The YAML file to check")]) -> None:
    """Validate a config file; every problem is reported with its path."""
    try:
        settings = load_settings(file)
    except ConfigError as exc:
        err.print(f"[red]✗ {exc.source} is invalid[/red]")
        for problem in exc.problems:
            err.print(f"  - {problem}")
        raise typer.Exit(1) from exc
    out.print(f"[green]✓ {file} is valid[/green]")
    out.print(
        f"  state store: {settings.store.kind}, bus: {settings.bus.kind}, "
        f"sources: {', '.join(s.kind for s in settings.sources)}"
    )


@config_app.command("show")
def config_show(config: ConfigOpt = None) -> None:
    """Print the effective configuration (secrets masked)."""
    settings = _settings(config)
    out.print_json(settings.model_dump_json())


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="viewer, operator or admin")] = "viewer",
    name: Annotated[str, typer.Option(help="Who or what the token is for")] = "cli",
    config: ConfigOpt = None,
) -> None:
    """Create an API token; the secret is printed once and stored only as a hash."""
    from nocwise.clock import SystemClock
    from nocwise.store.state.db import Database, make_engine
    from nocwise.store.state.migrate import upgrade
    from nocwise.store.state.repositories import ROLES, AuditLog, TokenRepository

    if role not in ROLES:
        err.print(f"[red]role must be one of {', '.join(ROLES)}[/red], got {role!r}")
        raise typer.Exit(2)
    settings = _settings(config)
    db = Database(make_engine(settings.state_url()))
    upgrade(db.engine)
    now = SystemClock().now()
    with db.session() as s:
        token_id, secret = TokenRepository(s).create(role, name, now)
        AuditLog(s).append(now, "cli", "admin", "token.create", token_id, role)
    db.dispose()
    err.print(f"token {token_id} ({role}, {name}); keep the secret, it is not shown again:")
    print(secret)


@token_app.command("list")
def token_list(config: ConfigOpt = None) -> None:
    """List tokens (never their secrets)."""
    from nocwise.store.state.db import Database, make_engine
    from nocwise.store.state.migrate import upgrade
    from nocwise.store.state.repositories import TokenRepository

    settings = _settings(config)
    db = Database(make_engine(settings.state_url()))
    upgrade(db.engine)
    table = Table("id", "name", "role", "created", "revoked")
    with db.session() as s:
        for tid, name, role, created, revoked in TokenRepository(s).list():
            table.add_row(tid, name, role, created.isoformat(timespec="seconds"), str(revoked))
    db.dispose()
    out.print(table)


@token_app.command("revoke")
def token_revoke(token_id: str, config: ConfigOpt = None) -> None:
    """Revoke a token by id."""
    from nocwise.clock import SystemClock
    from nocwise.store.state.db import Database, make_engine
    from nocwise.store.state.migrate import upgrade
    from nocwise.store.state.repositories import AuditLog, TokenRepository

    settings = _settings(config)
    db = Database(make_engine(settings.state_url()))
    upgrade(db.engine)
    with db.session() as s:
        ok = TokenRepository(s).revoke(token_id)
        if ok:
            AuditLog(s).append(SystemClock().now(), "cli", "admin", "token.revoke", token_id)
    db.dispose()
    if not ok:
        err.print(f"[red]no token {token_id}[/red]")
        raise typer.Exit(1)
    out.print(f"revoked {token_id}")


@app.command()
def serve(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(help="Listen address (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default 8080)")] = None,
) -> None:
    """Run the API, the console and the pipeline in one process."""
    import uvicorn

    from nocwise.api.app import create_app
    from nocwise.collector import freeze_startup_objects, tune_collector_for_service

    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["server.host"] = host
    if port is not None:
        overrides["server.port"] = port
    settings = _settings(config, **overrides)
    tune_collector_for_service()  # a less eager collector doubles ingest throughput
    application = create_app(settings, console=True)
    freeze_startup_objects()
    err.print(
        f"nocwise on http://{settings.server.host}:{settings.server.port} "
        f"(console /console, API docs /docs)"
    )
    uvicorn.run(
        application,
        host=settings.server.host,
        port=settings.server.port,
        log_level=settings.log_level.lower(),
    )


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Listen port")] = 8080,
    scenario: Annotated[str, typer.Option(help="Twin scenario name or YAML path")] = "demo",
    seed: Annotated[int, typer.Option(help="Seed of the twin")] = 7,
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second")] = 60.0,
    headless: Annotated[bool, typer.Option(help="No console; stop after --seconds")] = False,
    seconds: Annotated[float, typer.Option(help="How long to run (headless)")] = 60.0,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write a summary here")] = None,
    data_dir: Annotated[Path, typer.Option(help="Embedded stores go here")] = Path(".nocwise"),
) -> None:
    """Run nocwise on a seeded digital-twin scenario with embedded stores under ./.nocwise/."""
    from nocwise.collector import tune_collector_for_service
    from nocwise.runtime.demo import run_demo

    tune_collector_for_service()
    summary = run_demo(
        host=host,
        port=port,
        scenario=scenario,
        seed=seed,
        speed=speed,
        headless=headless,
        seconds=seconds,
        data_dir=data_dir,
        say=_say,
    )
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(summary, indent=2, default=str) + "\n")
        err.print(f"summary written to {json_out}")
    found = summary.get("root_cause_top1_correct", 0)
    err.print(
        f"faults injected: {len(summary.get('faults_injected', []))}, incidents: "
        f"{len(summary.get('incidents', []))}, root cause ranked first: {found}"
    )


def _say(text: str) -> None:
    """Plain lines on stderr: URLs and tokens must never be wrapped by the terminal width."""
    print(text, file=sys.stderr, flush=True)


class _RichProgress:
    def __init__(self, progress: Progress) -> None:
        self._p = progress
        self._task: Any = None

    def start(self, label: str, total: int | None) -> None:
        if self._task is not None:
            self._p.update(self._task, visible=False)
        self._task = self._p.add_task(label, total=total)

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._p.advance(self._task, n)


@app.command()
def bench(
    suite: Annotated[
        str,
        typer.Argument(
            help="Suite: nab, smd, loghub, hdfs, alarms, twin, twin_logs, throughput, forecast, demo"
        ),
    ],
    data: Annotated[Path | None, typer.Option(help="Data folder of the suite")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report here")] = None,
    seed: Annotated[int, typer.Option(help="Seed for every random choice")] = 0,
    scores_out: Annotated[Path | None, typer.Option(help="NAB: write result files here")] = None,
    corrected: Annotated[bool, typer.Option(help="Loghub: use the corrected templates")] = False,
    size: Annotated[str, typer.Option(help="Twin: small or large")] = "small",
    quick: Annotated[bool, typer.Option(help="A shorter run (smoke test)")] = False,
    peers: Annotated[bool, typer.Option(help="Also run the peers side by side")] = True,
    scenario: Annotated[
        str | None, typer.Option(help="Twin: scenario name or YAML path (default mixed)")
    ] = None,
) -> None:
    """Measure a suite; `--json FILE` writes the report (suite, machine, config, summary, peers, items)."""
    from nocwise.bench.options import BenchOptions
    from nocwise.bench.registry import UnknownSuiteError, load

    try:
        runner = load(suite)
    except UnknownSuiteError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if data is not None and not data.exists():
        err.print(f"[red]--data {data} does not exist[/red]")
        raise typer.Exit(2)
    options = BenchOptions(
        data=data,
        seed=seed,
        scores_out=scores_out,
        corrected=corrected,
        size=size,
        quick=quick,
        peers=peers,
        scenario=scenario,
    )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        report = runner(options, _RichProgress(progress))
    table = Table("metric", "nocwise", *report.peers.keys(), title=f"bench {suite}")
    for metric, value in report.summary.items():
        peer_values = [_fmt(p.get(metric)) for p in report.peers.values()]
        table.add_row(metric, _fmt(value), *peer_values)
    out.print(table)
    if json_out is not None:
        report.write(json_out)
        err.print(f"report written to {json_out}")


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _mount_sim() -> None:
    try:
        from nocwise.sim.cli import app as sim_app
    except ImportError:  # the twin's CLI is optional in minimal installs
        return
    app.add_typer(sim_app, name="sim", help="Run the digital twin of a CSP network.")


_mount_sim()


def main() -> None:
    """Entry point of the `nocwise` script."""
    app()


if __name__ == "__main__":
    main()
    sys.exit(0)

__all__ = ["app", "main"]
