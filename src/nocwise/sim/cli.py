"""``nocwise sim``: run a twin scenario to files or over the real protocols to a target."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from nocwise.sim.scenario import SIZES, ScenarioError, load_scenario, parse_duration, scenario_names
from nocwise.sim.twin import Twin, steps_for

app = typer.Typer(help="The digital twin of a CSP network.", no_args_is_help=True)
err = Console(stderr=True)


def parse_speed(text: str) -> float | None:
    """``60x`` -> 60 simulated seconds per real second; ``max`` -> as fast as possible.

    >>> parse_speed("60x"), parse_speed("max")
    (60.0, None)
    """
    t = text.strip().lower()
    if t in {"max", "0", "inf"}:
        return None
    value = float(t.removesuffix("x"))
    if value <= 0:
        raise ValueError(f"speed must be positive or 'max', got {text!r}")
    return value


@app.command("list")
def list_scenarios() -> None:
    """The packaged scenarios."""
    for name in scenario_names():
        sc = load_scenario(name)
        typer.echo(
            f"{name:10s} size={sc.size:6s} duration={sc.duration} faults={len(sc.faults) + (sc.random_faults.count if sc.random_faults else 0)}  {sc.description}"
        )


@app.command()
def run(
    scenario: Annotated[str, typer.Option(help="packaged scenario name or YAML path")] = "demo",
    size: Annotated[str | None, typer.Option(help=f"override the size: {', '.join(SIZES)}")] = None,
    speed: Annotated[
        str, typer.Option(help="simulated seconds per real second, e.g. 60x, or max")
    ] = "max",
    target: Annotated[str | None, typer.Option(help="base URL of a nocwise to send to")] = None,
    out: Annotated[
        Path | None, typer.Option(help="write Parquet/JSONL files to this directory")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="override the scenario seed")] = None,
    duration: Annotated[str | None, typer.Option(help="override the duration, e.g. 2h")] = None,
    token: Annotated[
        str | None, typer.Option(envvar="NOCWISE_TOKEN", help="bearer token for --target")
    ] = None,
    syslog: Annotated[
        str | None, typer.Option(help="host:port for syslog (else logs go as OTLP)")
    ] = None,
    syslog_tcp: Annotated[bool, typer.Option(help="syslog over TCP instead of UDP")] = False,
    snmp: Annotated[
        str | None, typer.Option(help="host:port for SNMPv2c traps (linkDown/linkUp)")
    ] = None,
    history: Annotated[int, typer.Option(help="also write this many past tickets (--out)")] = 0,
) -> None:
    """Run a scenario: to files (--out), to a nocwise (--target), or both."""
    if target is None and out is None:
        raise typer.BadParameter("give --out DIR, --target URL, or both")
    try:
        sc = load_scenario(scenario)
        changes: dict[str, object] = {}
        if size is not None:
            if size not in SIZES:
                raise ScenarioError(f"--size must be one of {sorted(SIZES)}, got {size!r}")
            changes.update(size=size, sites=None)
        if seed is not None:
            changes["seed"] = seed
        if duration is not None:
            changes["duration"] = parse_duration(duration)
        sc = sc.with_overrides(**changes)
        pace = parse_speed(speed)
    except (ScenarioError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    twin = Twin(sc)
    err.print(
        f"scenario {sc.name}: {len(twin.entities)} entities, {len(twin.series)} series, seed {sc.seed}"
    )
    total = steps_for(sc)
    started = time.perf_counter()
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("simulating", total=total)
        if target is None and out is not None:
            from nocwise.sim.writer import write_run

            counts = write_run(
                twin, out, history=history, on_step=lambda n: bar.update(task, completed=n)
            )
            err.print(f"wrote {counts.steps} steps, {counts.samples} samples, {counts.alarms} alarms, "
                      f"{counts.logs} logs to {out} in {time.perf_counter() - started:.1f} s")  # fmt: skip
            return
        assert target is not None
        _send(
            twin,
            target,
            token,
            (syslog, snmp),
            syslog_tcp,
            pace,
            out,
            history,
            lambda n: bar.update(task, completed=n),
        )
    err.print(f"done in {time.perf_counter() - started:.1f} s")


def _send(
    twin: Twin,
    target: str,
    token: str | None,
    addresses: tuple[str | None, str | None],
    tcp: bool,
    pace: float | None,
    out: Path | None,
    history: int,
    progress: object,
) -> None:
    from nocwise.sim.emit import Emitter
    from nocwise.sim.writer import truth_doc

    syslog_addr, snmp_addr = (_address(a) for a in addresses)
    em = Emitter(target, token=token, syslog=syslog_addr, syslog_tcp=tcp, snmp=snmp_addr)
    try:
        em.topology(twin.entities, twin.relations)
        t0 = time.monotonic()
        first = None
        for n, step in enumerate(twin.run(), start=1):
            if first is None:
                first = step.ts
            if pace is not None:
                delay = t0 + (step.ts - first).total_seconds() / pace - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            em.step(twin.series, step)
            if callable(progress):
                progress(n)
    finally:
        em.close()
    err.print(
        f"sent {em.sent.alarms} alarms, {em.sent.samples} samples, {em.sent.logs} logs; refused: {em.sent.refused or 'none'}"
    )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "truth.json").write_text(json.dumps(truth_doc(twin.truth), indent=1))
        if history:
            from nocwise.ingest.codec import to_doc

            with (out / "ticket_history.jsonl").open("w") as fh:
                for t in twin.ticket_history(history):
                    fh.write(json.dumps(to_doc(t)) + "\n")


def _address(text: str | None) -> tuple[str, int] | None:
    """``host:port`` (host defaults to 127.0.0.1)."""
    if not text:
        return None
    host, _, port = text.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        raise typer.BadParameter(f"expected host:port, got {text!r}") from None
