"""A checkpoint of the whole correlator: every stage's snapshot plus the decisions per alarm.

One ``ModelState`` (schema ``nocwise.correlate.correlator``): stage snapshots nest under their
kind, the noise model's arrays are prefixed ``noise.``, and each decision keeps its reason as
the text of its stage's StrEnum, rebuilt on load. Restoring and continuing the stream gives the
same alarms and incidents as never stopping.

Both directions build millions of small acyclic containers with the correlator's own millions
of objects alive beside them; the cyclic collector would walk all of them again and again
during the build (at 10^5 open alarms that was two thirds of a snapshot's time), so it is
paused for the build and resumed after.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from nocwise.collector import collector_paused
from nocwise.correlate.base import Decision, Stage, Verdict
from nocwise.correlate.causal import CausalStrength
from nocwise.correlate.codec import evidence_from_dict, evidence_to_dict
from nocwise.correlate.config import CorrelateConfig
from nocwise.correlate.dedup import DedupReason, DedupStage
from nocwise.correlate.flapping import FlappingReason, FlappingStage
from nocwise.correlate.group import GroupReason, GroupStage
from nocwise.correlate.impact import ImpactRanker
from nocwise.correlate.lifecycle import LifecycleReason, LifecycleStage
from nocwise.correlate.mute import MuteStage
from nocwise.correlate.muter import MuteReason
from nocwise.correlate.noise import NoiseReason, NoiseStage
from nocwise.correlate.pipeline import Correlator
from nocwise.correlate.suppress import SuppressReason, SuppressStage
from nocwise.model import ModelState
from nocwise.topology.graph import TopologyGraph

SCHEMA = "nocwise.correlate.correlator"
REASONS: dict[str, type[StrEnum]] = {
    "lifecycle": LifecycleReason,
    "dedup": DedupReason,
    "flapping": FlappingReason,
    "mute": MuteReason,
    "suppress": SuppressReason,
    "noise": NoiseReason,
    "group": GroupReason,
}


def _decision_to_dict(d: Decision) -> dict[str, Any]:
    return {
        "stage": d.stage,
        "reason": str(d.reason),
        "evidence": [evidence_to_dict(e) for e in d.evidence],
        "alarm_id": d.alarm_id,
        "verdict": str(d.verdict),
    }


def _decision_from_dict(x: dict[str, Any]) -> Decision:
    reason = REASONS[x["stage"]](x["reason"])
    evidence = tuple(evidence_from_dict(e) for e in x["evidence"])
    return Decision(x["stage"], reason, evidence, x["alarm_id"], Verdict(x["verdict"]))


def correlator_to_state(corr: Correlator) -> ModelState:
    """Snapshot every stage and what the correlator keeps per alarm."""
    with collector_paused():
        return _to_state(corr)


def _to_state(corr: Correlator) -> ModelState:
    stages: dict[str, Any] = {}
    arrays = {}
    for stage in corr._stages:
        st = stage.to_state()
        stages[stage.kind] = st.header()
        arrays.update(st.prefixed_arrays(f"{stage.kind}."))
    f = corr._funnel
    f.as_dict()  # settles pending decision counts
    params = {
        "config": corr.config.model_dump(mode="json"),
        "stages": stages,
        "decisions": {
            aid: [_decision_to_dict(d) for d in ds] for aid, ds in corr._decisions.items()
        },
        "noise": dict(corr._noise),
        "inc_noise": dict(corr._inc_noise),
        "funnel": {"events": f.events, "decisions": dict(f.decisions)},
        "now": None if corr._now is None else corr._now.isoformat(),
    }
    return ModelState(SCHEMA, 1, params, arrays)


def correlator_from_state(
    state: ModelState, topology: TopologyGraph, causality: CausalStrength | None = None
) -> Correlator:
    """Rebuild a correlator from :func:`correlator_to_state`."""
    with collector_paused():
        return _from_state(state, topology, causality)


def _from_state(
    state: ModelState, topology: TopologyGraph, causality: CausalStrength | None
) -> Correlator:
    state.expect(SCHEMA, 1)
    p = state.params
    config = CorrelateConfig.model_validate(p["config"])

    def sub(kind: str) -> ModelState:
        return ModelState.nested(p["stages"][kind], state.arrays, f"{kind}.")

    lifecycle = LifecycleStage.from_state(sub("lifecycle"))
    mute = MuteStage.from_state(sub("mute"), topology)
    noise = NoiseStage.from_state(sub("noise"))
    group = GroupStage.from_state(sub("group"), topology, causality)
    stages: list[Stage] = [
        lifecycle,
        DedupStage.from_state(sub("dedup")),
        FlappingStage.from_state(sub("flapping")),
        mute,
        SuppressStage.from_state(sub("suppress"), topology),
        noise,
        group,
    ]
    corr = Correlator(
        config, stages, lifecycle, mute, noise, group, ImpactRanker(config.impact, topology)
    )
    corr._decisions = {
        aid: [_decision_from_dict(x) for x in ds] for aid, ds in p["decisions"].items()
    }
    corr._noise = {k: float(v) for k, v in p["noise"].items()}
    corr._inc_noise = {k: float(v) for k, v in p["inc_noise"].items()}
    corr._funnel.events = int(p["funnel"]["events"])
    corr._funnel.decisions.update({k: int(v) for k, v in p["funnel"]["decisions"].items()})
    corr._now = None if p["now"] is None else datetime.fromisoformat(p["now"])
    return corr
