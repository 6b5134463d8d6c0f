"""Load and validate the YAML config; errors name the offending path.

>>> try:
...     load_settings_from_mapping({"server": {"port": "eighty"}})
... except ConfigError as e:
...     print(e.problems[0])
server.port: Input should be a valid integer, unable to parse string as an integer (got 'eighty')
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from nocwise.config.schema import Settings

_SECRET_WORDS = ("token", "password", "secret", "key", "url")


class ConfigError(ValueError):
    """The configuration is invalid; ``problems`` has one line per problem, path first."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(root)"


def _explain(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        path = _path(loc)
        secret = any(w in path.lower() for w in _SECRET_WORDS)
        shown = "***" if secret else repr(err.get("input"))
        if err["type"] in ("missing", "extra_forbidden", "union_tag_invalid"):
            problems.append(f"{path}: {err['msg']}")
        else:
            problems.append(f"{path}: {err['msg']} (got {shown})")
    return problems


def load_settings_from_mapping(data: Mapping[str, Any], source: str = "<config>") -> Settings:
    """Validate a mapping (as read from YAML) into Settings."""
    try:
        return Settings(**dict(data))
    except ValidationError as exc:
        raise ConfigError(source, _explain(exc)) from exc


def load_settings(path: Path | None = None) -> Settings:
    """Read ``path`` (or defaults alone when None) and validate it."""
    if path is None:
        return load_settings_from_mapping({}, "<defaults>")
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read file: {exc.strerror}"]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(str(path), [f"{where}not valid YAML ({exc})"]) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["(root): expected a mapping of sections"])
    return load_settings_from_mapping(data, str(path))
