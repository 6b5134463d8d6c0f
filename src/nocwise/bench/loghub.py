"""Loghub-2k log parsing: grouping accuracy, parsing accuracy and speed, beside drain3.

Layout: ``DIR/<System>/<System>_2k.log_structured.csv`` (``Content``, ``EventTemplate``), or with
``--corrected`` the ``*_structured_corrected.csv`` files of Khan et al. (ICSE 2022).

- **GA** (grouping accuracy, Zhu et al. ICSE-SEIP 2019): a line counts when the set of lines in
  its predicted group is exactly the set of lines with its true template.
- **PA** (parsing accuracy): a line counts when its final template equals its true template
  after every placeholder (``<*>``, ``<NUM>``, ``<:IP:>``) becomes ``<*>``, adjacent ones
  collapse to one and whitespace runs become one space.
- **lines/s**: a stream of at least 100,000 lines per system, made by repeating its lines with
  every digit replaced by a seeded random digit, learned from scratch by each parser.

Every parser reads the same ``Content`` lines once, in file order, and is scored on its final
state (ids handed out earlier are re-labelled through the miner's recorded merges; drain3
clusters are never merged, and their final template is used as Drain's reference code does).
Peers: ``drain3`` (its defaults) and ``drain3_masked`` (the masking list of drain3's
``examples/drain3.ini``, other settings default).
"""

from __future__ import annotations

import csv
import math
import re
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nocwise.bench.options import BenchOptions
from nocwise.bench.report import BenchReport, Progress, now_utc
from nocwise.detect.logs.miner import TemplateMiner, TemplateMinerConfig

__all__ = [
    "DRAIN3_EXAMPLE_MASKING",
    "grouping_accuracy",
    "normalise_template",
    "parsing_accuracy",
    "run",
    "speed_stream",
]

STREAM_LINES = 100_000
BATCH = 4096

# drain3 examples/drain3.ini [MASKING] (the peer's own example configuration).
DRAIN3_EXAMPLE_MASKING: tuple[tuple[str, str], ...] = (
    (r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)", "ID"),
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
    (r"(?<=executed cmd )(\".+?\")", "CMD"),
)

_PLACEHOLDER = re.compile(r"<:[A-Z][A-Z0-9_]*:>|<[A-Z][A-Z0-9_]*>|<\*>")
_RUN = re.compile(r"(?:<\*>)+")
_SPACE = re.compile(r"\s+")

# parser name -> (learn all lines, return final group ids and final templates per line)
Parser = Callable[[Sequence[str]], tuple[npt.NDArray[np.int64], list[str]]]


def normalise_template(template: str) -> str:
    """Every placeholder becomes ``<*>``, adjacent ones collapse, whitespace runs become one.

    >>> normalise_template("a <NUM><:IP:>  b <*>")
    'a <*> b <*>'
    """
    t = _PLACEHOLDER.sub("<*>", template)
    return _SPACE.sub(" ", _RUN.sub("<*>", t)).strip()


def grouping_accuracy(pred: npt.ArrayLike, truth: Sequence[str]) -> float:
    """Share of lines whose predicted group is exactly the set of lines of their true template.

    >>> grouping_accuracy([0, 0, 1, 2], ["a", "a", "b", "b"])
    0.5
    """
    p = np.asarray(pred, dtype=np.int64)
    if p.size == 0:
        return float("nan")
    _, t = np.unique(np.asarray(truth, dtype=object), return_inverse=True)
    pairs = np.unique(np.stack([p, t.astype(np.int64)], axis=1), axis=0)
    truths_per_pred = np.bincount(pairs[:, 0], minlength=int(p.max()) + 1)
    preds_per_truth = np.bincount(pairs[:, 1], minlength=int(t.max()) + 1)
    ok = (truths_per_pred[p] == 1) & (preds_per_truth[t] == 1)
    return float(ok.mean())


def parsing_accuracy(pred: Sequence[str], truth: Sequence[str]) -> float:
    """Share of lines whose normalised template equals the normalised truth."""
    if not truth:
        return float("nan")
    cache: dict[str, str] = {}

    def norm(s: str) -> str:
        r = cache.get(s)
        if r is None:
            r = cache[s] = normalise_template(s)
        return r

    return sum(norm(a) == norm(b) for a, b in zip(pred, truth, strict=True)) / len(truth)


def speed_stream(lines: Sequence[str], n: int, seed: int) -> list[str]:
    """At least ``n`` lines: ``lines`` repeated, every digit replaced by a seeded random digit."""
    if not lines:
        return []
    reps = math.ceil(n / len(lines))
    text = "\n".join(list(lines) * reps)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).copy()
    digits = (codes >= 48) & (codes <= 57)
    rng = np.random.default_rng(seed)
    codes[digits] = rng.integers(48, 58, size=int(digits.sum()), dtype=np.uint32)
    out = codes.tobytes().decode("utf-32-le").split("\n")
    return out if len(out) == len(lines) * reps else (list(lines) * reps)


def _nocwise(config: TemplateMinerConfig) -> Parser:
    def parse(lines: Sequence[str]) -> tuple[npt.NDArray[np.int64], list[str]]:
        miner = TemplateMiner(config)
        ids = [miner.learn_batch(lines[i : i + BATCH]) for i in range(0, len(lines), BATCH)]
        final = miner.resolve(np.concatenate(ids)) if ids else np.zeros(0, dtype=np.int64)
        texts = {int(t): miner.template(int(t)) for t in np.unique(final)}
        return final, [texts[int(t)] for t in final]

    return parse


def _drain3(masked: bool) -> Parser:
    def parse(lines: Sequence[str]) -> tuple[npt.NDArray[np.int64], list[str]]:
        miner = _drain3_miner(masked)
        ids = np.fromiter(
            (miner.add_log_message(x)["cluster_id"] for x in lines),
            dtype=np.int64,
            count=len(lines),
        )
        texts = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
        return ids, [texts[int(i)] for i in ids]

    return parse


def _drain3_miner(masked: bool) -> Any:
    from drain3 import TemplateMiner as Drain3Miner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig as Drain3Config

    cfg = Drain3Config()
    cfg.profiling_enabled = False
    if masked:
        cfg.masking_instructions = [MaskingInstruction(p, w) for p, w in DRAIN3_EXAMPLE_MASKING]
        cfg.mask_prefix, cfg.mask_suffix = "<:", ":>"
    return Drain3Miner(config=cfg)


def _drain3_settings() -> dict[str, Any]:
    from drain3.template_miner_config import TemplateMinerConfig as Drain3Config

    cfg = Drain3Config()
    return {
        "sim_th": cfg.drain_sim_th,
        "depth": cfg.drain_depth,
        "max_children": cfg.drain_max_children,
        "max_clusters": cfg.drain_max_clusters,
        "extra_delimiters": list(cfg.drain_extra_delimiters),
    }


def _speed(parser: Parser, stream: Sequence[str]) -> float:
    start = time.perf_counter()
    parser(stream)
    elapsed = time.perf_counter() - start
    return len(stream) / elapsed if elapsed > 0 else float("nan")


def _read(path: Path) -> tuple[list[str], list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [r["Content"] for r in rows], [r["EventTemplate"] for r in rows]


def _systems(data: Path, corrected: bool) -> list[tuple[str, Path]]:
    suffix = "_2k.log_structured_corrected.csv" if corrected else "_2k.log_structured.csv"
    found = []
    for d in sorted(p for p in data.iterdir() if p.is_dir()):
        f = d / f"{d.name}{suffix}"
        if f.is_file():
            found.append((d.name, f))
    return found


def _summary(rows: list[dict[str, Any]], prefix: str) -> dict[str, float]:
    ga = [r[f"{prefix}ga"] for r in rows]
    pa = [r[f"{prefix}pa"] for r in rows]
    speed = [r[f"{prefix}lines_per_s"] for r in rows]
    return {
        "ga_mean": float(np.mean(ga)),
        "ga_min": float(np.min(ga)),
        "pa_mean": float(np.mean(pa)),
        "lines_per_s_median": float(statistics.median(speed)),
    }


def run(options: BenchOptions, progress: Progress) -> BenchReport:
    """Score nocwise and the drain3 peers on every system found under ``options.data``."""
    if options.data is None:
        raise ValueError("loghub needs --data DIR (the loghub-2k folder)")
    started = now_utc()
    systems = _systems(options.data, options.corrected)
    if options.quick:
        systems = systems[:3]
    if not systems:
        raise ValueError(f"no <System>/<System>_2k.log_structured*.csv under {options.data}")
    config = TemplateMinerConfig()
    parsers: dict[str, Parser] = {"nocwise": _nocwise(config)}
    if options.peers:
        parsers["drain3"] = _drain3(masked=False)
        parsers["drain3_masked"] = _drain3(masked=True)
    n_stream = 10_000 if options.quick else STREAM_LINES
    rows: list[dict[str, Any]] = []
    progress.start("loghub systems", len(systems))
    for name, path in systems:
        content, truth = _read(path)
        stream = speed_stream(content, n_stream, options.seed)
        row: dict[str, Any] = {"system": name, "lines": len(content), "stream_lines": len(stream)}
        for pname, parser in parsers.items():
            ids, templates = parser(content)
            prefix = "" if pname == "nocwise" else f"{pname}_"
            row[f"{prefix}ga"] = grouping_accuracy(ids, truth)
            row[f"{prefix}pa"] = parsing_accuracy(templates, truth)
            row[f"{prefix}templates"] = len(set(ids.tolist()))
            row[f"{prefix}lines_per_s"] = _speed(parser, stream)
        rows.append(row)
        progress.advance()
    report = BenchReport(
        suite="loghub",
        started=started,
        config={
            "data": str(options.data),
            "corrected": options.corrected,
            "seed": options.seed,
            "quick": options.quick,
            "systems": [s for s, _ in systems],
            "stream_lines_min": n_stream,
            "batch": BATCH,
            "nocwise": config.model_dump(mode="json", exclude={"rules"})
            | {"rules": [r.name for r in config.rules]},
            "drain3": _drain3_settings() if options.peers else None,
            "drain3_masked_masking": [w for _, w in DRAIN3_EXAMPLE_MASKING],
        },
        summary=_summary(rows, ""),
        items=rows,
    )
    for pname in parsers:
        if pname != "nocwise":
            report.peers[pname] = _summary(rows, f"{pname}_")
    return report
