"""The `nocwise` command as a user runs it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nocwise.cli import app

runner = CliRunner()


def test_config_check_accepts_a_valid_file(tmp_path: Path) -> None:
    f = tmp_path / "ok.yaml"
    f.write_text("server:\n  port: 9000\n")
    result = runner.invoke(app, ["config", "check", str(f)])
    assert result.exit_code == 0
    assert "is valid" in " ".join(result.output.split())


def test_config_check_names_the_offending_path(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("server:\n  port: eighty\npipeline:\n  diagnose: maybe\n")
    result = runner.invoke(app, ["config", "check", str(f)])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "server.port" in text
    assert "pipeline.diagnose" in text


def test_token_create_prints_a_secret_that_is_stored_hashed(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'nw'}\n")
    result = runner.invoke(app, ["token", "create", "--role", "operator", "-c", str(cfg)])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("nw_")
    db = (tmp_path / "nw" / "state.db").read_bytes()
    assert secret.encode() not in db
    listed = runner.invoke(app, ["token", "list", "-c", str(cfg)])
    assert "operator" in listed.output


def test_token_create_refuses_an_unknown_role(tmp_path: Path) -> None:
    result = runner.invoke(app, ["token", "create", "--role", "root"])
    assert result.exit_code == 2


def test_bench_names_the_suites_when_one_is_unknown() -> None:
    result = runner.invoke(app, ["bench", "nope"])
    assert result.exit_code == 2
    assert "available" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@pytest.mark.integration
def test_headless_demo_finds_every_fault_with_its_root_cause_first(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    cmd = [
        sys.executable,
        "-m",
        "nocwise.cli",
        "demo",
        "--headless",
        "--seconds",
        "60",
        "--speed",
        "600",
        "--json",
        str(out),
        "--port",
        str(_free_port()),
        "--data-dir",
        str(tmp_path / "nw"),
    ]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(out.read_text())
    faults = summary["faults_injected"]
    assert len(faults) >= 3
    assert summary["pipeline_error"] is None
    assert all(f["incident_id"] for f in faults)
    assert summary["root_cause_top1_correct"] == len(faults), faults


@pytest.mark.integration
def test_serve_answers_health_and_accepts_alarms_with_a_cli_token(tmp_path: Path) -> None:
    import httpx

    port = _free_port()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'nw'}\nlog_level: WARNING\n")
    created = runner.invoke(app, ["token", "create", "--role", "operator", "-c", str(cfg)])
    token = created.stdout.strip().splitlines()[-1]
    cmd = [sys.executable, "-m", "nocwise.cli", "serve", "-c", str(cfg), "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        body = {
            "alarm_id": "a1",
            "managed_object": "csr-1",
            "event_type": "communicationsAlarm",
            "probable_cause": "linkDown",
            "perceived_severity": "MAJOR",
            "event_time": "2026-01-01T00:00:00Z",
        }
        headers = {"Authorization": f"Bearer {token}"}
        r = httpx.post(f"{base}/api/v1/alarms", json=body, headers=headers, timeout=10)
        assert r.status_code == 200, r.text
        listed = httpx.get(f"{base}/api/v1/alarms", headers=headers, timeout=10).json()
        assert listed["total"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        assert proc.stderr is not None
        proc.stderr.close()
