"""Paired check of a detector change on NAB (docs/benchmarks/nab.md, "Trials").

One NAB figure moves by 1-2 points when the settings move by 3 %, so a change is judged over
17 settings: the defaults and 16 draws (seeds 1-16) with every continuous setting (five member
weights, three novelty smoothings, novelty forgetting, half-age, record floor, gate margin
and 1 - gate decay) multiplied by exp(N(0, sigma)). The code under test is whatever
``nocwise`` is on PYTHONPATH; ``--set`` overrides a config field before the draws.

    PYTHONPATH=src python scripts/nab_paired.py run --data ../shared/data/nab --out a.json
    PYTHONPATH=src python scripts/nab_paired.py run ... --set spike.clip=4 --out b.json
    python scripts/nab_paired.py compare a.json b.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
SHORT = {"standard": "std", "reward_low_FP_rate": "lowFP", "reward_low_FN_rate": "lowFN"}


def _override(cfg: dict[str, Any], key: str, raw: str) -> None:
    """Set a dotted config key (``novelty.forget``) to a JSON value."""
    *path, last = key.split(".")
    node = cfg
    for p in path:
        node = node[p]
    node[last] = json.loads(raw)


def settings(
    base: dict[str, Any], gate: tuple[float, int, float], draws: int, sigma: float
) -> list[tuple[dict[str, Any], tuple[float, int, float]]]:
    """The defaults, then one perturbed copy per seed 1..draws."""
    out = [(base, gate)]
    decay, hold, margin = gate
    for seed in range(1, draws + 1):
        rng = np.random.default_rng(seed)
        f = np.exp(rng.normal(0.0, sigma, 13))
        cfg = json.loads(json.dumps(base))
        cfg["weights"] = [w * float(f[i]) for i, w in enumerate(base["weights"])]
        sm = base["novelty"]["smoothing"]
        cfg["novelty"]["smoothing"] = [a * float(f[5 + i]) for i, a in enumerate(sm)]
        cfg["novelty"]["forget"] = base["novelty"]["forget"] * float(f[8])
        cfg["age_half"] = base["age_half"] * float(f[9])
        cfg["record_floor"] = base["record_floor"] * float(f[10])
        g = (1.0 - (1.0 - decay) * float(f[12]), hold, margin * float(f[11]))
        out.append((cfg, g))
    return out


def run(args: argparse.Namespace) -> None:
    from nocwise.bench import nab
    from nocwise.bench import nab_scorer as ns
    from nocwise.detect.metrics.ensemble import EnsembleConfig

    root = nab.nab_root(Path(args.data))
    corpus = nab.load_corpus(root)
    windows = ns.load_windows(root)
    base = EnsembleConfig().model_dump(mode="json")
    for item in args.set or []:
        key, _, raw = item.partition("=")
        _override(base, key, raw)
    gate = (nab.GATE_DECAY, nab.GATE_HOLD, nab.GATE_MARGIN)
    rows = []
    for i, (cfg, (decay, hold, margin)) in enumerate(settings(base, gate, args.draws, args.sigma)):
        t0 = time.process_time()
        config = EnsembleConfig.model_validate(cfg)
        scores = nab.nocwise_scores(corpus, config, decay, hold, margin)
        results = nab.score_detector(corpus, windows, scores)
        row: dict[str, Any] = {p: results[p].normalized for p in PROFILES}
        row["threshold"] = results["standard"].threshold
        row["categories"] = nab.category_scores(results, windows)
        row["files"] = {f: {p: results[p].per_file[f] for p in PROFILES} for f in corpus}
        rows.append(row)
        print(
            f"setting {i:2d}: "
            + " / ".join(f"{row[p]:.2f}" for p in PROFILES)
            + f"  ({time.process_time() - t0:.1f} s CPU)",
            file=sys.stderr,
        )
    Path(args.out).write_text(json.dumps({"set": args.set or [], "rows": rows}))


def _mean_se(d: list[float]) -> tuple[float, float]:
    m = sum(d) / len(d)
    if len(d) < 2:
        return m, math.nan
    var = sum((x - m) ** 2 for x in d) / (len(d) - 1)
    return m, math.sqrt(var / len(d))


def compare(args: argparse.Namespace) -> None:
    a = json.loads(Path(args.base).read_text())["rows"]
    for path in args.other:
        b = json.loads(Path(path).read_text())["rows"]
        n = min(len(a), len(b))
        print(f"{path} vs {args.base} ({n} settings)")
        print("  defaults: " + " / ".join(f"{b[0][p]:.2f}" for p in PROFILES))
        parts = []
        for p in PROFILES:
            d = [b[i][p] - a[i][p] for i in range(n)]
            m, se = _mean_se(d)
            wins = sum(x > 1e-9 for x in d)
            parts.append(f"{SHORT[p]} {m:+.2f} (s.e. {se:.2f}, {wins}/{n} up)")
        print("  paired: " + ", ".join(parts))
        cats = sorted(a[0]["categories"])
        c0 = [b[0]["categories"][c] - a[0]["categories"][c] for c in cats]
        cm = [
            _mean_se([b[i]["categories"][c] - a[i]["categories"][c] for i in range(n)])[0]
            for c in cats
        ]
        names = [c.replace("nab_standard_", "") for c in cats]
        print(
            "  category at defaults: "
            + ", ".join(f"{k} {v:+.1f}" for k, v in zip(names, c0, strict=True))
        )
        print(
            "  category paired mean: "
            + ", ".join(f"{k} {v:+.1f}" for k, v in zip(names, cm, strict=True))
        )
        files = a[0]["files"]
        moved = []
        for f in files:
            d = [b[i]["files"][f]["standard"] - a[i]["files"][f]["standard"] for i in range(n)]
            m = sum(d) / n
            if abs(m) > 0.05:
                moved.append((m, f))
        moved.sort()
        print(
            "  files (paired mean raw standard): "
            + ", ".join(f"{f.split('/')[-1][:28]} {m:+.2f}" for m, f in moved)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="score the 17 settings with the code on PYTHONPATH")
    r.add_argument("--data", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--set", action="append", help="dotted.key=json_value (repeatable)")
    r.add_argument("--draws", type=int, default=16)
    r.add_argument("--sigma", type=float, default=0.03)
    c = sub.add_parser("compare", help="paired differences of runs against a base run")
    c.add_argument("base")
    c.add_argument("other", nargs="+")
    args = parser.parse_args()
    run(args) if args.cmd == "run" else compare(args)


if __name__ == "__main__":
    main()
