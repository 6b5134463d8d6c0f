"""Speed work must not change answers: a seeded stream gives the recorded chain output.

The workload mixes what the chain sees in a storm: raises on cells, gNodeBs, CSRs, links, power
and aggregation routers (so suppression marks symptoms), clears, severity changes, repeats,
stale notifications, acknowledgements, duplicate fingerprints under new ids (dedup), problems
that raise and clear fast (flapping) and planned outages (mute), fed in uneven batches with a
tick after each. Everything the chain returns is digested: every alarm view (alarm state,
decisions with their evidence, incident), every published incident, and the final open alarms,
incidents and funnel. ``chain_reference.json`` holds the digests; a change in any of them is a
change in behaviour. Regenerate it only for an intended behaviour change:
``python tests/unit/correlate/test_chain_equivalence.py``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from nocwise.correlate.base import Decision
from nocwise.correlate.config import CorrelateConfig
from nocwise.correlate.pipeline import build_correlator
from nocwise.correlate.synthetic import access_network, clear_alarm, raise_alarm
from nocwise.correlate.view import ProcessResult
from nocwise.model import Alarm, Severity
from nocwise.model.codec import alarm_to_dict, evidence_to_dict, incident_to_dict
from nocwise.topology.graph import TopologyGraph

REFERENCE = Path(__file__).with_name("chain_reference.json")
CAUSES = ("cellDown", "linkDown", "powerFail", "fanFailure", "syncLoss", "highBER")
SEVS = (Severity.CRITICAL, Severity.MAJOR, Severity.MINOR, Severity.WARNING)


def _workload(seed: int, n: int) -> tuple[TopologyGraph, list[list[Alarm]]]:
    """Batches of notifications in event-time order (a seeded mix of every kind)."""
    rng = np.random.default_rng(seed)
    ents, rels = access_network(40)
    topo = TopologyGraph(ents, rels)
    pool = [e.id for e in ents if e.kind not in ("customer", "cfs", "rfs", "site")]
    t = datetime(2026, 2, 1, tzinfo=UTC)
    open_: list[Alarm] = []
    cleared: list[Alarm] = []
    flappers: list[tuple[str, str]] = []
    out: list[Alarm] = []

    def pick(seq: list[Any]) -> Any:
        return seq[int(rng.integers(len(seq)))]

    for k in range(1, n + 1):
        t += timedelta(milliseconds=int(rng.integers(50, 1500)))
        u = rng.random()
        if u < 0.40 or not open_:
            entity, cause = pick(pool), pick(list(CAUSES))
            a = raise_alarm(
                f"a{k}",
                entity,
                cause,
                t,
                pick(list(SEVS)),
                source=pick(["ems1", "ems2"]),
                text=f"{cause} on {entity} port {int(rng.integers(8))} 10.0.{k % 7}.{k % 5}",
                planned=rng.random() < 0.03,
            )
            if rng.random() < 0.5:
                a = replace(a, specific_problem=str(k % 11), fingerprint="")
            open_.append(a)
            out.append(a)
        elif u < 0.62:
            victim = open_.pop(int(rng.integers(len(open_))))
            c = clear_alarm(victim, t)
            cleared.append(c)
            out.append(c)
        elif u < 0.70:
            i = int(rng.integers(len(open_)))
            changed = replace(open_[i], perceived_severity=pick(list(SEVS)), event_time=t)
            open_[i] = changed
            out.append(changed)
        elif u < 0.74:  # a repeat of the current state, or a stale one
            a = pick(open_)
            late = a.event_time - timedelta(seconds=5) if rng.random() < 0.5 else t
            out.append(replace(a, event_time=late))
        elif u < 0.80:  # acknowledgement of an active or a cleared alarm
            a = pick(open_ + cleared[-50:])
            out.append(a.ack("ops", t) if a.event_time <= t else a)
        elif u < 0.86:  # the same problem under a new id
            a = pick(open_)
            dup = replace(a, alarm_id=f"d{k}", event_time=t, raised_time=t)
            open_.append(dup)
            out.append(dup)
        else:  # a problem that raises and clears fast
            if len(flappers) < 6 or rng.random() < 0.1:
                flappers.append((pick(pool), pick(list(CAUSES))))
            entity, cause = pick(flappers)
            a = raise_alarm(f"f{k}", entity, cause, t, Severity.MAJOR, source="ems1")
            a = replace(a, specific_problem="flap", fingerprint="")
            out.append(a)
            out.append(clear_alarm(a, t + timedelta(milliseconds=10)))
            t += timedelta(milliseconds=10)
    batches: list[list[Alarm]] = []
    i = 0
    while i < len(out):
        size = int(rng.choice([1, 3, 17, 60, 250]))
        batches.append(out[i : i + size])
        i += size
    return topo, batches


def _decision(d: Decision) -> list[Any]:
    return [
        d.stage,
        str(d.reason),
        str(d.verdict),
        d.alarm_id,
        [evidence_to_dict(e) for e in d.evidence],
    ]


def _digest(rows: list[Any]) -> str:
    text = json.dumps(rows, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def run_chain(
    seed: int = 3, n: int = 6000, config: CorrelateConfig | None = None
) -> dict[str, Any]:
    """Digests of everything the chain answered on the seeded workload."""
    topo, batches = _workload(seed, n)
    corr = build_correlator(config or CorrelateConfig(), topo)
    views: list[Any] = []
    incidents: list[Any] = []
    memberships: list[Any] = []
    suppressions: list[Any] = []

    def keep(res: ProcessResult) -> None:
        for v in res.alarms:
            views.append(
                [alarm_to_dict(v.alarm), [_decision(d) for d in v.decisions], v.incident_id]
            )
            memberships.append([v.alarm.alarm_id, v.incident_id])
            suppressions.append([v.alarm.alarm_id, v.suppressed_by, v.is_held, v.noise_score])
        for inc in res.incidents:
            incidents.append(incident_to_dict(inc))

    for b in batches:
        now = b[-1].event_time
        keep(corr.process(b, now))
        for inc in corr.tick(now):
            incidents.append(incident_to_dict(inc))
    final_open = [
        [alarm_to_dict(v.alarm), [_decision(d) for d in v.decisions], v.incident_id]
        for v in corr.open_alarms()
    ]
    final_incidents = [incident_to_dict(i) for i in corr.incidents()]
    return {
        "counts": {
            "batches": len(batches),
            "views": len(views),
            "incident_updates": len(incidents),
            "open_alarms": len(final_open),
            "incidents": len(final_incidents),
        },
        "funnel": {k: v for k, v in corr.funnel().items()},
        "views": _digest(views),
        "incidents": _digest(incidents),
        "memberships": _digest(memberships),
        "suppressions": _digest(suppressions),
        "final_open": _digest(final_open),
        "final_incidents": _digest(final_incidents),
    }


def test_seeded_stream_gives_the_recorded_chain_output() -> None:
    want = json.loads(REFERENCE.read_text())
    got = json.loads(json.dumps(run_chain()))
    assert got["counts"] == want["counts"]
    assert got["funnel"] == want["funnel"]
    for part in (
        "memberships",
        "suppressions",
        "incidents",
        "views",
        "final_open",
        "final_incidents",
    ):
        assert got[part] == want[part], part


if __name__ == "__main__":
    REFERENCE.write_text(json.dumps(run_chain(), indent=1, sort_keys=True) + "\n")
