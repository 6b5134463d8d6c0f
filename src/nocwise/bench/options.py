"""Options shared by every benchmark suite (the flags of `nocwise bench`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """What a suite is asked to do. Suites ignore the options that do not apply to them."""

    data: Path | None = None
    seed: int = 0
    scores_out: Path | None = None
    corrected: bool = False
    size: str = "small"
    quick: bool = False
    peers: bool = True
    scenario: str | None = None  # twin: a packaged scenario name or a YAML path
