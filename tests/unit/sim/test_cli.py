"""`nocwise sim` commands: list, run to files, run to a target."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from nocwise.sim.cli import app, parse_speed

runner = CliRunner()


def test_list_names_the_packaged_scenarios() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    assert all(name in result.stdout for name in ("demo", "storm", "mixed"))


def test_run_to_files(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["run", "--scenario", "demo", "--duration", "15m", "--out", str(tmp_path), "--seed", "3"],
    )
    assert result.exit_code == 0, result.output
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert [f["fault_type"] for f in truth["faults"]] == [
        "fibre_cut",
        "bad_deployment",
        "site_power_failure",
    ]


def test_run_needs_a_destination_and_valid_overrides() -> None:
    assert runner.invoke(app, ["run"]).exit_code != 0
    assert runner.invoke(app, ["run", "--out", "/tmp/x", "--size", "huge"]).exit_code != 0


class _Sink(BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        _Sink.paths.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        del args


def test_run_to_a_target(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        result = runner.invoke(
            app,
            ["run", "--duration", "4m", "--target", url, "--speed", "max", "--out", str(tmp_path)],
        )
        assert result.exit_code == 0, result.output
    finally:
        server.shutdown()
        server.server_close()
    assert "/api/v1/write" in _Sink.paths
    assert "/api/v1/ingest/otlp/v1/logs" in _Sink.paths  # no syslog address: logs go as OTLP
    assert (tmp_path / "truth.json").exists()


def test_parse_speed() -> None:
    assert parse_speed("120x") == 120.0
    assert parse_speed("max") is None
    with pytest.raises(ValueError, match="speed"):
        parse_speed("-1x")
