"""The pipeline stages of one process, built from the config in one place that reads top to bottom.

Detection turns metric and log anomalies into alarms; correlation turns alarms into incidents;
diagnosis ranks root causes; remediation recommends what fixed the same thing before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from nocwise.config import Settings
from nocwise.correlate.causal import CausalStrength
from nocwise.correlate.causality import AlarmCausalModel
from nocwise.correlate.checkpoint import correlator_from_state, correlator_to_state
from nocwise.correlate.learning import FeedbackCausality, learn_causality
from nocwise.correlate.noise import NoiseModel, actionable_alarm_ids
from nocwise.correlate.pipeline import CorrelateConfig, Correlator, build_correlator
from nocwise.diagnose.topology_ranker import TopologyRanker
from nocwise.model import (
    Alarm,
    Change,
    Entity,
    Incident,
    LogRecord,
    MetricBatch,
    Recommendation,
    Relation,
    RelationKind,
    Series,
    Ticket,
)
from nocwise.remediate.tickets import TicketRecommender
from nocwise.runtime.detection import LogDetection, MetricDetection
from nocwise.topology.graph import DEFAULT_DEPENDENCY, Direction, TopologyGraph

log = logging.getLogger(__name__)


class Stages:
    """Detect -> correlate -> diagnose -> remediate, holding each stage's model state."""

    def __init__(
        self,
        settings: Settings,
        graph: TopologyGraph,
        correlator: Correlator,
        recommender: TicketRecommender,
    ) -> None:
        self.settings = settings
        self.graph = graph
        self.correlator = correlator
        self.ranker = TopologyRanker(graph)
        self.recommender = recommender
        self.noise_model: NoiseModel | None = None
        self.causality: FeedbackCausality | None = None
        self.metric_detection = MetricDetection(predict=settings.pipeline.detection.forecast)
        self.log_detection = LogDetection()

    # -- topology -----------------------------------------------------------------------------

    def set_topology(self, entities: Sequence[Entity], relations: Sequence[Relation]) -> None:
        """Swap in a new topology (inventory sync): correlation keeps its alarms and incidents."""
        self.graph = graph_of(self.settings, entities, relations)
        self.ranker = _ranker(self.graph, entities)
        self.log_detection.set_entities(entities)
        self.rebuild_correlator()

    def rebuild_correlator(self) -> None:
        """A correlator on the current graph and causality, keeping what the old one held."""
        if not self.correlator.open_alarms():
            self.correlator = _correlator(
                self.settings, self.graph, self.noise_model, self.causality
            )
        else:  # keep every alarm, incident and decision; rebuild the graph-based indexes
            state = correlator_to_state(self.correlator)
            self.correlator = correlator_from_state(state, self.graph, self.causality)

    def neighbourhood(self, entity_ids: Iterable[str]) -> set[str]:
        """The entities and what they depend on: where a causal change would have landed."""
        out = set(entity_ids)
        for e in list(out):
            out.update(x for x, _ in self.graph.dependency_path(e, 4))
        return out

    # -- correlation ------------------------------------------------------------------------------

    def correlate(self, alarms: Sequence[Alarm], now: datetime) -> list[Incident]:
        """Feed alarm notifications (event-time order) and return the incidents they changed."""
        ordered = sorted(alarms, key=lambda a: a.changed_time or a.event_time)
        return self.correlator.feed(ordered, now)

    def learn_noise(
        self,
        history: Sequence[Alarm],
        tickets: Sequence[Ticket],
        incidents: Sequence[Incident] = (),
    ) -> NoiseModel:
        """Fit the noise model on past alarms, labelled by tickets and incidents acted on.

        Alarms on a ticket or in an incident an operator acted on are actionable; the rest of
        their type is noise. Open alarms are re-scored as their next notification arrives.
        """
        config = correlate_config(self.settings).noise
        model = NoiseModel.fit(history, actionable_alarm_ids(tickets, incidents), config)
        self.noise_model = model
        self.correlator.use_noise_model(model)
        return model

    def learn_grouping(
        self, history: Sequence[Alarm], votes: Mapping[tuple[str, str], int] | None = None
    ) -> AlarmCausalModel:
        """(Re)train grouping's alarm-type causality on past alarms, then apply operators'
        merge/split votes (see ``correlate.learning``); open incidents are kept."""
        type_field = correlate_config(self.settings).group.type_field
        model = learn_causality(history, self.graph, type_field)
        self.causality = FeedbackCausality(model, votes or {})
        self.rebuild_correlator()
        return model

    def add_changes(self, changes: Sequence[Change]) -> None:
        """Changes open maintenance windows and feed diagnosis."""
        for change in changes:
            self.correlator.add_change(change)

    def merge(self, into_id: str, from_id: str, actor: str) -> list[Incident]:
        """An operator merges ``from_id`` into ``into_id``; kept as grouping feedback."""
        if into_id == from_id:
            raise ValueError("an incident cannot be merged into itself")
        self._live(into_id, from_id)
        merged: list[Incident] = self.correlator.merge(into_id, from_id, actor)
        return merged

    def split(self, incident_id: str, alarm_ids: Sequence[str], actor: str) -> list[Incident]:
        """An operator moves ``alarm_ids`` into a new incident; kept as grouping feedback."""
        self._live(incident_id)
        found = self.correlator.incident(incident_id)
        members = {m.alarm_id for m in found.members} if found else set()
        missing = [a for a in alarm_ids if a not in members]
        if missing:
            raise ValueError(f"not members of {incident_id}: {', '.join(missing[:5])}")
        if len(set(alarm_ids)) >= len(members):
            raise ValueError("a split must leave at least one alarm in the incident")
        split: list[Incident] = self.correlator.split(incident_id, alarm_ids, actor)
        return split

    def _live(self, *incident_ids: str) -> None:
        for iid in incident_ids:
            if self.correlator.incident(iid) is None:
                raise LookupError(iid)

    def tick(self, now: datetime) -> list[Incident]:
        """Fire correlation timers."""
        fired: list[Incident] = self.correlator.tick(now)
        return fired

    def current_incident(self, incident_id: str) -> Incident | None:
        """The correlator's live view of an incident."""
        found: Incident | None = self.correlator.incident(incident_id)
        return found

    def funnel(self) -> dict[str, float]:
        """Alarm and incident counts of the funnel."""
        return {
            k: float(v) for k, v in self.correlator.funnel().items() if isinstance(v, int | float)
        }

    # -- diagnosis and remediation ------------------------------------------------------------

    def diagnose(
        self, incident: Incident, alarms: Sequence[Alarm], changes: Sequence[Change]
    ) -> Incident:
        """Attach ranked hypotheses to an incident."""
        hypotheses = self.ranker.rank(incident, alarms, changes)
        if not hypotheses:
            return incident
        return replace(incident, hypotheses=tuple(hypotheses))

    def recommend(self, incident: Incident, alarms: Sequence[Alarm]) -> list[Recommendation]:
        """Remediation learned from how engineers closed past tickets."""
        return self.recommender.recommend(incident, alarms, self.graph)

    def learn_tickets(self, tickets: Sequence[Ticket]) -> None:
        """(Re)train the recommender on ticket history."""
        self.recommender = TicketRecommender.fit(tickets)

    # -- detection ----------------------------------------------------------------------------

    def detect_metrics(self, batch: MetricBatch, series: Mapping[int, Series]) -> list[Alarm]:
        """Metric anomalies as alarms."""
        return self.metric_detection.process(batch, series)

    def detect_logs(self, records: Sequence[LogRecord]) -> list[Alarm]:
        """Log anomalies as alarms."""
        return self.log_detection.process(records)


def build_stages(
    settings: Settings, entities: Sequence[Entity], relations: Sequence[Relation]
) -> Stages:
    """Wire the stages from the config: the whole pipeline, top to bottom."""
    graph = graph_of(settings, entities, relations)
    stages = Stages(settings, graph, _correlator(settings, graph), TicketRecommender.fit([]))
    stages.ranker = _ranker(graph, entities)
    stages.log_detection.set_entities(entities)
    return stages


def _ranker(graph: TopologyGraph, entities: Sequence[Entity]) -> TopologyRanker:
    """The root-cause ranker, told entity names (alarms name peers by name, not id)."""
    return TopologyRanker(graph, names={e.name: e.id for e in entities if e.name})


def correlate_config(settings: Settings) -> CorrelateConfig:
    """The chain's options; ``group_window_s`` and ``max_hops`` apply unless ``options`` sets
    ``group.window`` / ``group.max_hops`` itself."""
    section = settings.pipeline.correlation
    options: dict[str, Any] = dict(section.options)
    group = dict(options.get("group") or {})
    group.setdefault("window", section.group_window_s)
    group.setdefault("max_hops", section.max_hops)
    options["group"] = group
    return CorrelateConfig.model_validate(options)


def _correlator(
    settings: Settings,
    graph: TopologyGraph,
    noise_model: NoiseModel | None = None,
    causality: CausalStrength | None = None,
) -> Correlator:
    return build_correlator(correlate_config(settings), graph, causality, noise_model)


def graph_of(
    settings: Settings, entities: Sequence[Entity], relations: Sequence[Relation]
) -> TopologyGraph:
    """The topology graph with the dependency reading the config asks for."""
    dependency = dict(DEFAULT_DEPENDENCY)
    if settings.topology.connects == "endpoints_depend_on_source":
        dependency[RelationKind.CONNECTS] = Direction.BACKWARD
    else:
        dependency[RelationKind.CONNECTS] = Direction.FORWARD
    return TopologyGraph(entities, relations, dependency=dependency)
