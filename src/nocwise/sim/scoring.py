"""Scores of a pipeline's output against the twin's ground truth.

- incident membership: adjusted Rand index of predicted vs true groups (every noise alarm is its
  own class; an alarm in no predicted incident is its own predicted class);
- compression: ``1 - incidents / alarms``;
- root cause, read from the incident holding most of a fault's alarms: hit@k (the primary root in
  the top k), AC@k (share of the fault's root entities in the top k, out of ``min(k, #roots)``)
  and Avg@k (mean of AC@1..k);
- detection: per fault type, the share of faults matched by an incident and the delay from onset;
- false incidents per simulated day: incidents whose alarms are mostly not from any fault;
- optionally, :func:`credit_duplicates` before ARI: an alarm raised again under the same
  fingerprint while the first is active counts where the first is (as Alertmanager's label sets
  count for its peer); the bench reports ARI with and without it.

>>> round(compression(100, 7), 2)
0.93
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sklearn.metrics import adjusted_rand_score

from nocwise.model import Alarm, Incident
from nocwise.sim.truth import GroundTruth

if TYPE_CHECKING:
    from nocwise.sim.twin import Twin

_END = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PredictedIncident:
    """What a pipeline said: an incident's alarms, when it opened, its ranked root candidates."""

    id: str
    alarm_ids: frozenset[str]
    opened: datetime
    root_candidates: Sequence[str] = field(default_factory=tuple)


def from_incidents(incidents: Iterable[Incident]) -> list[PredictedIncident]:
    """nocwise incidents as predictions: members, opening time, hypotheses by probability."""
    out = []
    for inc in incidents:
        ranked = [h.entity_id for h in sorted(inc.hypotheses, key=lambda h: -h.probability)]
        if inc.root_entity_id and inc.root_entity_id not in ranked:
            ranked.insert(0, inc.root_entity_id)
        out.append(
            PredictedIncident(
                inc.id, frozenset(m.alarm_id for m in inc.members), inc.opened, ranked
            )
        )
    return out


def credit_duplicates(
    predicted: Sequence[PredictedIncident], alarms: Iterable[Alarm]
) -> list[PredictedIncident]:
    """Put each duplicate in no incident into the incident of the alarm it duplicates.

    A duplicate is an alarm raised while an earlier alarm with the same fingerprint (source,
    managed object, type, probable cause, specific problem) is still active: a pipeline that
    deduplicates shows that problem once, under the earlier alarm. The Alertmanager peer is
    scored the same way, since Alertmanager knows an alert by its label set. ``alarms`` are
    notifications in any order (raises, changes and clears).
    """
    raised: dict[str, Alarm] = {}
    cleared: dict[str, datetime] = {}
    for a in alarms:
        first = raised.get(a.alarm_id)
        if first is None or a.event_time < first.event_time:
            raised[a.alarm_id] = a
        if a.cleared_time is not None:
            cleared[a.alarm_id] = a.cleared_time
    primary_of: dict[str, str] = {}
    active: dict[str, list[str]] = {}  # fingerprint -> its alarms, oldest first
    for a in sorted(raised.values(), key=lambda x: (x.event_time, x.alarm_id)):
        same = active.setdefault(a.fingerprint, [])
        same[:] = [x for x in same if cleared.get(x, _END) > a.event_time]
        if same:
            primary_of[a.alarm_id] = primary_of.get(same[0], same[0])
        same.append(a.alarm_id)
    inc_of = {aid: i for i, p in enumerate(predicted) for aid in p.alarm_ids}
    extra: dict[int, set[str]] = {}
    for dup, prim in primary_of.items():
        if dup not in inc_of and prim in inc_of:
            extra.setdefault(inc_of[prim], set()).add(dup)
    return [
        replace(p, alarm_ids=p.alarm_ids | extra[i]) if i in extra else p
        for i, p in enumerate(predicted)
    ]


def incident_ari(
    predicted: Iterable[PredictedIncident],
    truth: GroundTruth,
    alarm_ids: Iterable[str] | None = None,
) -> float:
    """Adjusted Rand index over ``alarm_ids`` (default: every alarm the truth knows)."""
    true_of = dict(truth.incident_of())
    universe = (
        list(alarm_ids)
        if alarm_ids is not None
        else sorted(set(true_of) | set(truth.noise_alarm_ids))
    )
    pred_of: dict[str, str] = {}
    for inc in predicted:
        for a in inc.alarm_ids:
            pred_of.setdefault(a, inc.id)
    if len(universe) < 2:
        return 1.0
    t = [true_of.get(a, f"noise:{a}") for a in universe]
    p = [pred_of.get(a, f"alone:{a}") for a in universe]
    return float(adjusted_rand_score(t, p))


def compression(n_alarms: int, n_incidents: int) -> float:
    """``1 - incidents / alarms`` (0 when there were no alarms)."""
    return 0.0 if n_alarms <= 0 else 1.0 - n_incidents / n_alarms


def match_faults(
    predicted: Iterable[PredictedIncident], truth: GroundTruth
) -> dict[str, list[PredictedIncident]]:
    """fault_id -> the incidents whose largest share of alarms comes from that fault.

    A tie goes to the fault id that sorts first, so the answer does not depend on the order in
    which a set of alarm ids iterates (that order changes with ``PYTHONHASHSEED``).
    """
    of = truth.incident_of()
    out: dict[str, list[PredictedIncident]] = {}
    for inc in predicted:
        c = Counter(of[a] for a in inc.alarm_ids if a in of)
        if c:
            fault_id = min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            out.setdefault(fault_id, []).append(inc)
    return out


def hit_at_k(predicted: Iterable[PredictedIncident], truth: GroundTruth, k: int) -> float:
    """Share of faults whose primary root entity is in the top ``k`` of a matched incident."""
    return _rank_score(predicted, truth, k, primary=True)


def ac_at_k(predicted: Iterable[PredictedIncident], truth: GroundTruth, k: int) -> float:
    """AC@k: per fault, root entities found in the top ``k`` over ``min(k, #roots)``; averaged."""
    return _rank_score(predicted, truth, k, primary=False)


def avg_at_k(predicted: Iterable[PredictedIncident], truth: GroundTruth, k: int) -> float:
    """Avg@k: the mean of AC@1 .. AC@k."""
    preds = list(predicted)
    return sum(ac_at_k(preds, truth, j) for j in range(1, k + 1)) / k


def primary_incident(
    predicted: Iterable[PredictedIncident], truth: GroundTruth
) -> dict[str, PredictedIncident]:
    """fault_id -> the incident holding most of its alarms (ties: the one opened first).

    Root-cause scores read this incident's ranking only, so a pipeline cannot score by scattering
    alarms into many incidents and hoping one of them names the root.
    """
    out: dict[str, tuple[int, float, PredictedIncident]] = {}
    for f in truth.faults:
        if not f.alarm_ids:
            continue
        for inc in predicted:
            n = len(inc.alarm_ids & f.alarm_ids)
            if n == 0:
                continue
            key = (n, -inc.opened.timestamp())
            best = out.get(f.fault_id)
            if best is None or key > best[:2]:
                out[f.fault_id] = (n, -inc.opened.timestamp(), inc)
    return {k: v[2] for k, v in out.items()}


def _rank_score(
    predicted: Iterable[PredictedIncident], truth: GroundTruth, k: int, *, primary: bool
) -> float:
    faults = [f for f in truth.faults if f.alarm_ids]
    if not faults:
        return 0.0
    main = primary_incident(list(predicted), truth)
    total = 0.0
    for f in faults:
        inc = main.get(f.fault_id)
        if inc is None:
            continue
        roots = {f.root_entity_id} if primary else (set(f.root_entity_ids) or {f.root_entity_id})
        total += len(set(inc.root_candidates[:k]) & roots) / min(k, len(roots))
    return total / len(faults)


def detection(
    predicted: Iterable[PredictedIncident], truth: GroundTruth
) -> dict[str, dict[str, float]]:
    """Per fault type: ``rate`` (share detected) and ``delay_s`` (mean onset -> first incident)."""
    matched = match_faults(predicted, truth)
    per: dict[str, list[float | None]] = {}
    for f in truth.faults:
        if not f.alarm_ids:
            continue
        incs = matched.get(f.fault_id, [])
        delay = min((i.opened - f.start) / timedelta(seconds=1) for i in incs) if incs else None
        per.setdefault(f.fault_type, []).append(delay)
    out = {}
    for ft, ds in sorted(per.items()):
        hits = [d for d in ds if d is not None]
        out[ft] = {
            "rate": len(hits) / len(ds),
            "delay_s": sum(hits) / len(hits) if hits else float("nan"),
        }
    return out


def false_incidents_per_day(
    predicted: Iterable[PredictedIncident], truth: GroundTruth, duration: timedelta
) -> float:
    """Incidents where fault alarms are not the majority, per simulated day."""
    of = truth.incident_of()
    n = sum(1 for inc in predicted if sum(a in of for a in inc.alarm_ids) * 2 <= len(inc.alarm_ids))
    return n / max(duration / timedelta(days=1), 1e-9)


def summary(
    predicted: Sequence[PredictedIncident], truth: GroundTruth, n_alarms: int, duration: timedelta
) -> Mapping[str, float]:
    """All headline figures, flat (for a bench report)."""
    det = detection(predicted, truth)
    out = {
        "ari": incident_ari(predicted, truth),
        "compression": compression(n_alarms, len(predicted)),
        "hit@1": hit_at_k(predicted, truth, 1),
        "hit@3": hit_at_k(predicted, truth, 3),
        "ac@1": ac_at_k(predicted, truth, 1),
        "ac@3": ac_at_k(predicted, truth, 3),
        "avg@5": avg_at_k(predicted, truth, 5),
        "false_incidents_per_day": false_incidents_per_day(predicted, truth, duration),
    }
    for ft, d in det.items():
        out[f"detection_rate.{ft}"] = d["rate"]
        out[f"detection_delay_s.{ft}"] = d["delay_s"]
    return out


def score_twin(
    twin: Twin, incidents: Iterable[Incident], *, alarm_id: Callable[[str], str] | None = None
) -> Mapping[str, float]:
    """:func:`summary` for a finished twin run and the incidents a pipeline built from it.

    ``alarm_id`` renames the truth's alarm ids first (e.g. :func:`nocwise.sim.emit.wire_id_of`
    when the run went over the wire).
    """
    truth = twin.truth if alarm_id is None else twin.truth.mapped(alarm_id)
    n_alarms = sum(len(f.alarm_ids) for f in truth.faults) + len(truth.noise_alarm_ids)
    return summary(from_incidents(incidents), truth, n_alarms, twin.scenario.duration)
