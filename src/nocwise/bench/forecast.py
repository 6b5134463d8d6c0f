"""`nocwise bench forecast`: predicted-breach alarms on the digital twin, scored against its
capacity faults.

The twin's metrics are streamed through the predictive-breach stage alone (the same one the
runtime runs). For each capacity_congestion and disk_full fault, its reference time is when one
of its capacity series first reached the threshold during the fault, or the fault's start when
none did. A fault counts as predicted when a predicted-breach alarm was raised on one of its
entity's capacity series within the horizon before that reference time (and after the end of
an earlier fault of the same type on that entity); the lead time runs
from the first such alarm to the reference time. A predicted-breach alarm is false when its
entity had no such fault between the alarm and the horizon after it; false alarms whose series
did reach the threshold within the horizon anyway (a busy hour, another fault) are counted
separately.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from nocwise.bench.options import BenchOptions
from nocwise.bench.report import BenchReport, Progress, now_utc
from nocwise.model import Severity
from nocwise.runtime.detection import PredictiveBreach
from nocwise.sim import Twin, load_scenario
from nocwise.sim.twin import steps_for

FAULT_TYPES = ("capacity_congestion", "disk_full")
OPEN_FAULT = timedelta(hours=6)  # how long a fault without an end is taken to last


@dataclass(frozen=True, slots=True)
class Prediction:
    """A raised predicted-breach alarm."""

    series: int
    entity: str
    ts: datetime
    eta_s: float
    horizon_s: float


def run(options: BenchOptions, progress: Progress) -> BenchReport:
    """Stream the scenario through the predictive stage and score the predictions."""
    name = "demo" if options.quick else "mixed"
    scenario = replace(load_scenario(name), seed=options.seed)
    if options.size != "small":
        scenario = replace(scenario, size=options.size)
    started = now_utc()
    twin = Twin(scenario)
    stage = PredictiveBreach()
    by_id = {s.id: s for s in twin.series}
    predictions: list[Prediction] = []
    peak_alarms = 0  # daily-peak trend alarms: need 10 days of peaks, more than the twin runs
    above_series: list[np.ndarray] = []
    above_ts: list[np.ndarray] = []
    progress.start(f"twin {name}", steps_for(scenario))
    for step in twin.run():
        batch = step.metrics
        for a in stage.process(batch, by_id):
            if a.perceived_severity == Severity.CLEARED or a.changed_time is not None:
                continue
            if a.specific_problem != "predicted breach":
                peak_alarms += 1
                continue
            sid = int(a.additional_info["series_id"])
            row = int(stage.row_of[sid])
            predictions.append(
                Prediction(
                    sid,
                    a.managed_object,
                    a.event_time,
                    float(a.additional_info["eta_s"]),
                    float(stage.horizon_s[row]),
                )
            )
        if len(batch):
            rows = stage.row_of[batch.series]
            cap = rows >= 0
            over = np.zeros(len(batch), dtype=bool)
            over[cap] = batch.values[cap] >= stage.threshold[rows[cap]]
            above_series.append(batch.series[over])
            above_ts.append(batch.ts_ms[over])
        progress.advance()
    truth = twin.truth
    above = _above(above_series, above_ts)
    days = scenario.duration.total_seconds() / 86400.0
    ready_ms = int(scenario.start.timestamp() * 1000 + stage.forecaster.config.warmup_s * 1000)
    summary, items = score(truth.faults, predictions, stage, above, days, ready_ms)
    summary["peak_predictions"] = float(peak_alarms)
    return BenchReport(
        suite="forecast",
        started=started,
        config={
            "scenario": name,
            "seed": options.seed,
            "size": scenario.size,
            "duration_h": scenario.duration.total_seconds() / 3600,
            "every_s": stage.every_ms / 1000,
            "clear_after": stage.clear_after,
            "patience": stage.patience,
            "max_wait_s": stage.max_wait_s,
            "forecaster": _config(stage),
            "open_fault_h": OPEN_FAULT.total_seconds() / 3600,
        },
        summary=summary,
        items=items,
    )


def _config(stage: PredictiveBreach) -> dict[str, Any]:
    cfg = asdict(stage.forecaster.config)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}


def _above(series: list[np.ndarray], ts: list[np.ndarray]) -> dict[int, np.ndarray]:
    """series id -> sorted timestamps (ms) at which it was at or past its threshold."""
    if not series:
        return {}
    s, t = np.concatenate(series), np.concatenate(ts)
    order = np.lexsort((t, s))
    s, t = s[order], t[order]
    cuts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    return {int(s[c]): t[c:e] for c, e in zip(cuts, np.r_[cuts[1:], s.size], strict=True)}


def _first_in(times: np.ndarray | None, lo_ms: int, hi_ms: int) -> int | None:
    if times is None:
        return None
    i = int(np.searchsorted(times, lo_ms))
    return int(times[i]) if i < times.size and times[i] <= hi_ms else None


def score(
    faults: list[Any],
    predictions: list[Prediction],
    stage: PredictiveBreach,
    above: dict[int, np.ndarray],
    days: float,
    ready_ms: int | None = None,
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Recall, lead times and false predictions per simulated day; with ``ready_ms`` (the end
    of the forecaster's warm-up), also the recall over the faults that start after it."""
    capacity = {s.id: s for s in stage.series_of}
    on_entity: dict[str, list[int]] = {}
    for s in stage.series_of:
        on_entity.setdefault(s.entity_id or "", []).append(s.id)
    preds_of: dict[int, list[Prediction]] = {}
    for p in predictions:
        preds_of.setdefault(p.series, []).append(p)
    items: list[dict[str, Any]] = []
    windows: dict[str, list[tuple[int, int]]] = {}
    summary: dict[str, float] = {}
    for kind in FAULT_TYPES:
        leads: list[float] = []
        found = total = breached = ready = ready_found = 0
        previous_end: dict[str, int] = {}  # a prediction before an earlier fault's end is its
        for f in sorted((f for f in faults if f.fault_type == kind), key=lambda f: f.start):
            sids = [i for i in f.series_ids if i in capacity] or on_entity.get(f.root_entity_id, [])
            start = int(f.start.timestamp() * 1000)
            end = int((f.end or f.start + OPEN_FAULT).timestamp() * 1000)
            hits = [t for i in sids if (t := _first_in(above.get(i), start, end)) is not None]
            ref = min(hits) if hits else start
            horizon_ms = max(
                (int(stage.horizon_s[stage.row_of[i]] * 1000) for i in sids), default=0
            )
            windows.setdefault(f.root_entity_id, []).append((start, end))
            since = max(ref - horizon_ms, previous_end.get(f.root_entity_id, ref - horizon_ms))
            previous_end[f.root_entity_id] = end
            early = [
                int(p.ts.timestamp() * 1000)
                for i in sids
                for p in preds_of.get(i, [])
                if since <= p.ts.timestamp() * 1000 < ref
            ]
            lead = (ref - min(early)) / 1000.0 if early else None
            total += 1
            breached += bool(hits)
            if ready_ms is not None and start >= ready_ms:
                ready += 1
                ready_found += lead is not None
            if lead is not None:
                found += 1
                leads.append(lead)
            items.append(
                {
                    "fault_id": f.fault_id,
                    "fault_type": kind,
                    "entity": f.root_entity_id,
                    "capacity_series": len(sids),
                    "breached": bool(hits),
                    "predicted": lead is not None,
                    "lead_time_s": lead,
                }
            )
        summary[f"faults_{kind}"] = float(total)
        summary[f"faults_breached_{kind}"] = float(breached)
        summary[f"forecast_recall_{kind}"] = found / total if total else float("nan")
        if ready_ms is not None:
            summary[f"faults_after_warmup_{kind}"] = float(ready)
            summary[f"forecast_recall_after_warmup_{kind}"] = (
                ready_found / ready if ready else float("nan")
            )
        summary[f"lead_time_median_s_{kind}"] = float(np.median(leads)) if leads else float("nan")
        summary[f"lead_time_p10_s_{kind}"] = (
            float(np.percentile(leads, 10)) if leads else float("nan")
        )
    false = false_real = 0
    for p in predictions:
        t = int(p.ts.timestamp() * 1000)
        h = int(p.horizon_s * 1000)
        if any(lo <= t + h and t <= hi for lo, hi in windows.get(p.entity, [])):
            continue
        false += 1
        false_real += _first_in(above.get(p.series), t, t + h) is not None
    summary["predictions"] = float(len(predictions))
    summary["false_predictions"] = float(false)
    summary["false_predictions_per_day"] = false / days if days else float("nan")
    summary["false_predictions_breached_anyway"] = float(false_real)
    summary["capacity_series"] = float(len(capacity))
    return summary, items
