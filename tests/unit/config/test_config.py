"""Config: one YAML file, validated with the offending path; env overrides YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from nocwise.config import ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "nocwise.yaml"
    p.write_text(text)
    return p


def test_defaults_are_valid() -> None:
    s = load_settings(None)
    assert s.server.port == 8080
    assert s.store.kind == "sqlite"
    assert s.bus.kind == "memory"


def test_wrong_type_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, "server:\n  port: eighty\n"))
    assert e.value.problems[0].startswith("server.port:")


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, "server:\n  prot: 1\n"))
    assert "server.prot" in e.value.problems[0]


def test_kind_selects_the_alternative_and_errors_point_into_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, "sources:\n  - kind: syslog\n    udp_port: 99999\n"))
    assert e.value.problems[0].startswith("sources[0].syslog.udp_port")


def test_unknown_kind_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, "bus:\n  kind: kafka\n"))
    assert "bus" in e.value.problems[0]
    assert "memory" in e.value.problems[0]


def test_secrets_are_not_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, "store:\n  kind: postgresql\n  url: 5\n"))
    assert "5" not in " ".join(e.value.problems).replace("store", "")


def test_bad_yaml_gives_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, "server: [1,\n"))
    assert "line" in e.value.problems[0]


def test_env_overrides_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOCWISE_SERVER__PORT", "9191")
    s = load_settings(write(tmp_path, "server:\n  port: 8181\n"))
    assert s.server.port == 9191


def test_sqlite_path_follows_data_dir(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, f"data_dir: {tmp_path / 'd'}\n"))
    assert s.state_url() == f"sqlite:///{tmp_path / 'd' / 'state.db'}"
