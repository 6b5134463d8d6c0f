"""`nocwise bench smd`: multivariate per-entity detection on the SMD / ASD layout.

``--data DIR`` holds ``train/<entity>.txt[.gz]``, ``test/…``, ``test_label/…`` and
``interpretation_label/…`` (rows of comma-separated floats; labels one 0/1 per line;
interpretation lines ``start-end:d1,d2,…`` with 1-based KPI indices). SMD writes ``end``
exclusive and ASD inclusive: the reading that matches more runs of the point labels is used.

Each entity is fitted unsupervised on ``train`` and then streams ``test`` through
``update`` (each row is scored before it is learned, so the online adaptation only ever uses
rows already seen); labels are read only to evaluate. Metrics per entity, then their mean over
entities:

- ``f1_own``: F1 of the detector's own alarms (threshold learned from training scores, raised
  by the detector's score gate from test rows already scored; no labels);
- ``f1_best``: best F1 over all thresholds, point-wise (an oracle, for comparison);
- ``f1_pa``: best F1 with point adjustment (a hit anywhere in a segment counts the whole
  segment); it inflates figures and is reported only to compare with the literature;
- ``auc_pr`` (average precision) and ``roc_auc``;
- ``hitrate_100`` / ``hitrate_150``: over every labelled anomalous point that has an
  interpretation line with KPIs G, the share of G among the top ``int(P·|G|)`` KPIs of the
  contribution ranking (Su et al., KDD 2019), averaged over points.

Peers: ``pca`` (mean/std standardisation, PCA at 90 % variance, squared reconstruction error;
ranking by per-KPI squared residual) and ``iforest`` (scikit-learn defaults; no ranking). Their
``f1_own`` uses the same rule: the 0.99 quantile of their training scores.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from nocwise.bench.options import BenchOptions
from nocwise.bench.report import BenchReport, Progress, now_utc
from nocwise.detect.metrics.multivariate import MultivariateDetector

Array = npt.NDArray[np.float64]
Labels = npt.NDArray[np.int8]

DETECTOR: dict[str, Any] = {}  # default MultivariateDetector settings: one config for all data
PEER_PCA_VARIANCE = 0.9
PEER_ALARM_QUANTILE = 0.99  # the same rule as the detector's default
METRICS = ("f1_own", "f1_best", "f1_pa", "auc_pr", "roc_auc", "hitrate_100", "hitrate_150")

_SEGMENT = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*:\s*(\d+(?:\s*,\s*\d+)*)\s*,?\s*$")


@dataclass(frozen=True, slots=True)
class Segment:
    """One interpretation line: rows ``start .. stop-1`` and 0-based KPI indices."""

    start: int
    stop: int
    kpis: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity's data, as read from the layout."""

    name: str
    train: Array
    test: Array
    labels: Labels
    interpretation: tuple[tuple[int, int, tuple[int, ...]], ...]  # raw (start, end, 1-based)


def run(options: BenchOptions, progress: Progress) -> BenchReport:
    """Fit, score and evaluate every entity under ``options.data``."""
    if options.data is None:
        raise ValueError("bench smd needs --data DIR (train/, test/, test_label/ …)")
    root = Path(options.data)
    names = entity_names(root)
    if options.quick:
        names = names[:2]
    started = now_utc()
    entities = [load_entity(root, n) for n in names]
    inclusive = end_is_inclusive(entities)
    config: dict[str, Any] = {
        "data": str(root),
        "entities": names,
        "seed": options.seed,
        "detector": MultivariateDetector(seed=options.seed, **DETECTOR).to_state().params,
        "interpretation_end": "inclusive" if inclusive else "exclusive",
        "hitrate": "mean over labelled points with an interpretation line; top int(P*|G|) KPIs",
        "peers": {
            "pca": {"standardise": "train mean/std (0 -> 1)", "variance": PEER_PCA_VARIANCE},
            "iforest": {"sklearn": "defaults", "random_state": options.seed},
        },
        "peer_alarm": {"rule": "quantile of training scores", "quantile": PEER_ALARM_QUANTILE},
    }
    items: list[dict[str, Any]] = []
    per_peer: dict[str, list[dict[str, float]]] = {"pca": [], "iforest": []}
    progress.start("smd entities", len(entities))
    for ent in entities:
        segments = [
            to_segment(s, e, k, inclusive=inclusive, n_kpis=ent.test.shape[1])
            for s, e, k in ent.interpretation
        ]
        det = MultivariateDetector(seed=options.seed, **DETECTOR).fit(ent.train)
        out = det.update(ent.test)
        row: dict[str, Any] = {
            "entity": ent.name,
            "train_rows": int(ent.train.shape[0]),
            "test_rows": int(ent.test.shape[0]),
            "kpis": int(ent.test.shape[1]),
            "anomaly_rate": float(ent.labels.mean()),
            "components": det.n_components,
        }
        row |= evaluate(ent.labels, out.scores, out.alarms, out.contributions, segments)
        if options.peers:
            for peer, (scores, alarms, contrib) in peer_scores(ent, options.seed).items():
                m = evaluate(ent.labels, scores, alarms, contrib, segments)
                per_peer[peer].append(m)
                row |= {f"{peer}_{k}": v for k, v in m.items()}
        if options.scores_out is not None:
            write_scores(options.scores_out, ent.name, out.scores, ent.labels)
        items.append(row)
        progress.advance()
    summary = _mean_metrics(items)
    peers = {p: _mean_metrics(rows) for p, rows in per_peer.items() if rows}
    return BenchReport("smd", started, config, summary, peers, items)


# -- data -------------------------------------------------------------------------------------


def entity_names(root: Path) -> list[str]:
    """Entities are the files of ``test_label/``, in name order."""
    folder = root / "test_label"
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} not found: expected the SMD/ASD layout")
    return sorted(_stem(p) for p in folder.iterdir() if p.name.endswith((".txt", ".txt.gz")))


def load_entity(root: Path, name: str) -> Entity:
    """Read one entity's train, test, labels and interpretation lines."""
    train = read_matrix(_find(root / "train", name))
    test = read_matrix(_find(root / "test", name))
    labels = np.asarray(read_matrix(_find(root / "test_label", name)).ravel() > 0.5, np.int8)
    if labels.shape[0] != test.shape[0] or train.shape[1] != test.shape[1]:
        raise ValueError(f"{name}: train {train.shape}, test {test.shape}, labels {labels.shape}")
    interp: tuple[tuple[int, int, tuple[int, ...]], ...] = ()
    folder = root / "interpretation_label"
    if folder.is_dir() and any(folder.glob(name + ".txt*")):
        interp = tuple(parse_interpretation(_read_text(_find(folder, name))))
    return Entity(name, train, test, labels, interp)


def read_matrix(path: Path) -> Array:
    """Rows of comma-separated floats (plain or gzip) as a 2-D float array."""
    rows = [line for line in _read_text(path).splitlines() if line.strip()]
    if not rows:
        raise ValueError(f"{path} is empty")
    return np.asarray([[float(v) for v in r.split(",")] for r in rows], dtype=np.float64)


def parse_interpretation(text: str) -> Iterator[tuple[int, int, tuple[int, ...]]]:
    """Yield ``(start, end, kpis)`` per line ``start-end:d1,d2,…``; KPIs stay 1-based.

    >>> list(parse_interpretation("15849-16368:1,9,10\\n"))
    [(15849, 16368, (1, 9, 10))]
    """
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        m = _SEGMENT.match(line)
        if m is None:
            raise ValueError(f"interpretation line {number} is not 'start-end:d1,d2,…': {line!r}")
        start, end = int(m.group(1)), int(m.group(2))
        if end < start:
            raise ValueError(f"interpretation line {number} ends before it starts: {line!r}")
        kpis = tuple(int(d) for d in m.group(3).replace(" ", "").split(","))
        yield start, end, kpis


def to_segment(
    start: int, end: int, kpis: tuple[int, ...], *, inclusive: bool, n_kpis: int
) -> Segment:
    """A raw interpretation line as a half-open segment with 0-based, in-range KPIs."""
    stop = end + 1 if inclusive else end
    return Segment(start, stop, tuple(sorted({k - 1 for k in kpis if 1 <= k <= n_kpis})))


def end_is_inclusive(entities: list[Entity]) -> bool:
    """Whether ``end`` is inclusive: the reading under which more lines equal a label run."""
    votes = 0
    for ent in entities:
        runs = set(label_runs(ent.labels))
        for start, end, _ in ent.interpretation:
            votes += int((start, end + 1) in runs) - int((start, end) in runs)
    return votes > 0


def label_runs(labels: Labels) -> list[tuple[int, int]]:
    """Half-open ``(start, stop)`` of each run of 1s.

    >>> label_runs(np.array([0, 1, 1, 0, 1], dtype=np.int8))
    [(1, 3), (4, 5)]
    """
    edges = np.diff(np.concatenate([[0], labels.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


# -- peers ------------------------------------------------------------------------------------


def peer_scores(
    ent: Entity, seed: int
) -> dict[str, tuple[Array, npt.NDArray[np.bool_], Array | None]]:
    """Scores, alarms and (where there is one) per-KPI ranking basis of the two peers."""
    mean = ent.train.mean(axis=0)
    std = ent.train.std(axis=0)
    std[std == 0.0] = 1.0
    a = (ent.train - mean) / std
    b = (ent.test - mean) / std
    pca = PCA(PEER_PCA_VARIANCE, svd_solver="full").fit(a)
    res_a = (a - pca.inverse_transform(pca.transform(a))) ** 2
    res_b = (b - pca.inverse_transform(pca.transform(b))) ** 2
    pca_thr = float(np.quantile(res_a.sum(axis=1), PEER_ALARM_QUANTILE))
    forest = IsolationForest(random_state=seed).fit(a)
    if_a = -forest.score_samples(a)
    if_b = -forest.score_samples(b)
    if_thr = float(np.quantile(if_a, PEER_ALARM_QUANTILE))
    pca_b = res_b.sum(axis=1)
    return {
        "pca": (pca_b, pca_b >= pca_thr, res_b),
        "iforest": (if_b, if_b >= if_thr, None),
    }


# -- metrics ----------------------------------------------------------------------------------


def evaluate(
    labels: Labels,
    scores: Array,
    alarms: npt.NDArray[np.bool_],
    contributions: Array | None,
    segments: list[Segment],
) -> dict[str, float]:
    """All metrics of one entity (hit rates only when there is a ranking)."""
    out = {
        "f1_own": f1_score(labels, alarms),
        "f1_best": best_f1(labels, scores),
        "f1_pa": best_f1(labels, point_adjust(labels, scores)),
        "auc_pr": float(average_precision_score(labels, scores)) if labels.any() else np.nan,
        "roc_auc": float(roc_auc_score(labels, scores))
        if 0 < labels.sum() < labels.size
        else np.nan,
    }
    if contributions is not None:
        out["hitrate_100"] = hit_rate(contributions, labels, segments, 1.0)
        out["hitrate_150"] = hit_rate(contributions, labels, segments, 1.5)
    return out


def f1_score(labels: Labels, alarms: npt.NDArray[np.bool_]) -> float:
    """Point-wise F1 of boolean alarms.

    >>> f1_score(np.array([0, 1, 1, 0], np.int8), np.array([False, True, False, True]))
    0.5
    """
    tp = float(np.sum(alarms & (labels == 1)))
    fp = float(np.sum(alarms & (labels == 0)))
    fn = float(np.sum(~alarms & (labels == 1)))
    return 0.0 if tp == 0.0 else 2.0 * tp / (2.0 * tp + fp + fn)


def best_f1(labels: Labels, scores: Array) -> float:
    """The best point-wise F1 over all thresholds on ``scores``."""
    if not labels.any():
        return float("nan")
    precision, recall, _ = precision_recall_curve(labels, scores)
    f1 = 2.0 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(f1.max())


def point_adjust(labels: Labels, scores: Array) -> Array:
    """Scores under point adjustment: each labelled segment takes its maximum score, so at any
    threshold a segment is flagged whole as soon as one of its points is.

    >>> point_adjust(np.array([0, 1, 1, 0], np.int8), np.array([0.5, 0.1, 0.9, 0.2])).tolist()
    [0.5, 0.9, 0.9, 0.2]
    """
    out = np.asarray(scores, dtype=np.float64).copy()
    for start, stop in label_runs(labels):
        out[start:stop] = out[start:stop].max()
    return out


def hit_rate(contributions: Array, labels: Labels, segments: list[Segment], p: float) -> float:
    """HitRate@P: mean over labelled points of |top int(P·|G|) KPIs ∩ G| / |G|.

    >>> c = np.array([[0.0, 3.0, 1.0], [2.0, 0.0, 1.0]])
    >>> hit_rate(c, np.array([1, 1], np.int8), [Segment(0, 2, (1, 2))], 1.0)
    0.75
    """
    ranking = np.argsort(-contributions, axis=1, kind="stable")
    hits: list[Array] = []
    for seg in segments:
        if not seg.kpis:
            continue
        rows = np.arange(seg.start, min(seg.stop, labels.shape[0]))
        rows = rows[labels[rows] == 1]
        if rows.size == 0:
            continue
        top = ranking[rows, : max(1, int(p * len(seg.kpis)))]
        hits.append(np.isin(top, seg.kpis).sum(axis=1) / len(seg.kpis))
    return float(np.concatenate(hits).mean()) if hits else float("nan")


def _mean_metrics(rows: list[dict[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name in METRICS:
        values = [float(r[name]) for r in rows if name in r]
        finite = [v for v in values if np.isfinite(v)]
        if finite:
            out[name] = float(np.mean(finite))
    return out


def write_scores(folder: Path, name: str, scores: Array, labels: Labels) -> None:
    """One CSV per entity: ``score,label`` per test row."""
    folder.mkdir(parents=True, exist_ok=True)
    table = np.column_stack([scores, labels.astype(np.float64)])
    np.savetxt(
        folder / f"{name}.csv", table, delimiter=",", header="score,label", comments="", fmt="%.6g"
    )


# -- files ------------------------------------------------------------------------------------


def _stem(path: Path) -> str:
    name = path.name
    return name[: -len(".txt.gz")] if name.endswith(".txt.gz") else name[: -len(".txt")]


def _find(folder: Path, name: str) -> Path:
    for candidate in (folder / f"{name}.txt", folder / f"{name}.txt.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{folder}/{name}.txt[.gz] not found")


def _read_text(path: Path) -> str:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return fh.read()
    return path.read_text(encoding="utf-8")
