"""Pydantic schemas of the API edge, split by direction; converters to and from the model."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from nocwise.model import Alarm, EventType, Severity

T = TypeVar("T")

Text = Annotated[str, Field(max_length=4096)]
Ident = Annotated[str, Field(min_length=1, max_length=255)]


class AlarmIn(BaseModel):
    """An alarm as POSTed in canonical JSON (X.733 / TMF642 field names in snake case)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alarm_id: Ident
    managed_object: Ident
    event_type: EventType
    probable_cause: Annotated[str, Field(min_length=1, max_length=255)]
    perceived_severity: Severity
    event_time: AwareDatetime
    specific_problem: Annotated[str, Field(max_length=255)] = ""
    cleared_time: AwareDatetime | None = None
    additional_text: Text = ""
    additional_info: dict[str, Annotated[str, Field(max_length=4096)]] = Field(default_factory=dict)
    proposed_repair_actions: Text = ""
    root_cause_indicator: bool = False
    service_affecting: bool = False
    planned_outage_indicator: bool = False
    source: Annotated[str, Field(min_length=1, max_length=64)] = "api"
    fingerprint: Annotated[str, Field(max_length=64)] = ""
    labels: dict[str, Annotated[str, Field(max_length=1024)]] = Field(default_factory=dict)

    def to_model(self) -> Alarm:
        """The canonical alarm."""
        return Alarm(
            alarm_id=self.alarm_id,
            managed_object=self.managed_object,
            event_type=self.event_type,
            probable_cause=self.probable_cause,
            perceived_severity=self.perceived_severity,
            event_time=self.event_time,
            specific_problem=self.specific_problem,
            cleared_time=self.cleared_time,
            additional_text=self.additional_text,
            additional_info=self.additional_info,
            proposed_repair_actions=self.proposed_repair_actions,
            root_cause_indicator=self.root_cause_indicator,
            service_affecting=self.service_affecting,
            planned_outage_indicator=self.planned_outage_indicator,
            source=self.source,
            fingerprint=self.fingerprint,
            labels=self.labels,
        )


class AlarmBatchIn(BaseModel):
    """A batch of alarms; a repeated ``batch_id`` is recognised and stores nothing twice."""

    model_config = ConfigDict(extra="forbid")

    batch_id: Ident | None = None
    alarms: list[AlarmIn]


class Rejected(BaseModel):
    """One item that was not accepted, and why."""

    index: int | None
    reason: str
    detail: str


class IngestResult(BaseModel):
    """What a write stored (durably, before this response) and what it refused."""

    accepted: int
    rejected: list[Rejected] = Field(default_factory=list)
    duplicate_batch: bool = False


class AlarmOut(BaseModel):
    """An alarm as stored: its latest state."""

    alarm_id: str
    managed_object: str
    event_type: str
    probable_cause: str
    specific_problem: str
    perceived_severity: str
    event_time: datetime
    raised_time: datetime | None
    changed_time: datetime | None
    cleared_time: datetime | None
    additional_text: str
    additional_info: dict[str, str]
    proposed_repair_actions: str
    trend_indication: str | None
    threshold_info: dict[str, str] | None
    root_cause_indicator: bool
    correlated_notifications: list[str]
    ack_state: str
    ack_user_id: str | None
    ack_time: datetime | None
    comments: list[dict[str, Any]]
    service_affecting: bool
    planned_outage_indicator: bool
    source: str
    fingerprint: str
    labels: dict[str, str]
    incident_id: str | None = None


class Page(BaseModel, Generic[T]):
    """A page of a list."""

    items: list[T]
    total: int
    limit: int
    offset: int


class EvidenceOut(BaseModel):
    """One piece of typed evidence."""

    kind: str
    summary: str
    data: dict[str, Any]


class HypothesisOut(BaseModel):
    """A ranked root-cause hypothesis."""

    entity_id: str
    fault_type: str
    probability: float
    evidence: list[EvidenceOut]
    explanation: str


class MemberOut(BaseModel):
    """An alarm in an incident, with the reason it is there."""

    alarm_id: str
    reason: str
    added: datetime
    detail: str
    score: float
    alarm: AlarmOut | None = None


class ImpactOut(BaseModel):
    """Services and customers affected."""

    services: list[str]
    customers: list[str]
    sla_at_risk: bool
    score: float


class TimelineOut(BaseModel):
    """An event in an incident's life."""

    ts: datetime
    kind: str
    detail: str
    actor: str


class RecommendationOut(BaseModel):
    """A recommended remediation."""

    incident_id: str
    action: str
    confidence: float
    source: str
    runbook: str | None
    evidence: list[EvidenceOut]


class IncidentSummary(BaseModel):
    """An incident in a list."""

    id: str
    state: str
    priority: int
    opened: datetime
    updated: datetime
    title: str
    root_entity_id: str | None
    members: int
    top_hypothesis: HypothesisOut | None
    impact: ImpactOut


class IncidentDetail(BaseModel):
    """An incident with members, hypotheses, recommendations, impact and timeline."""

    id: str
    state: str
    priority: int
    opened: datetime
    updated: datetime
    title: str
    root_entity_id: str | None
    members: list[MemberOut]
    hypotheses: list[HypothesisOut]
    recommendations: list[RecommendationOut]
    impact: ImpactOut
    timeline: list[TimelineOut]


class EntityOut(BaseModel):
    """A topology entity."""

    id: str
    kind: str
    domain: str
    name: str
    attributes: dict[str, str]
    labels: dict[str, str]


class RelationOut(BaseModel):
    """A typed relation."""

    src: str
    dst: str
    kind: str


class TopologyOut(BaseModel):
    """A page of entities and the relations among all entities."""

    entities: list[EntityOut]
    relations: list[RelationOut]
    total_entities: int
    total_relations: int


class Health(BaseModel):
    """Liveness and readiness."""

    status: str
    version: str
    pipeline_error: str | None = None


class TokenIn(BaseModel):
    """A request for a new API token."""

    model_config = ConfigDict(extra="forbid")
    role: Annotated[str, Field(pattern="^(viewer|operator|admin)$")]
    name: Annotated[str, Field(min_length=1, max_length=255)] = "api"


class TokenOut(BaseModel):
    """A created token: the secret is shown this once."""

    id: str
    role: str
    name: str
    token: str | None = None


class AckIn(BaseModel):
    """Acknowledge an alarm or incident."""

    model_config = ConfigDict(extra="forbid")
    comment: Annotated[str, Field(max_length=4096)] = ""


class MergeIn(BaseModel):
    """Merge another incident into this one (the other is closed)."""

    model_config = ConfigDict(extra="forbid")
    from_incident_id: Annotated[str, Field(min_length=1, max_length=128)]
    comment: Annotated[str, Field(max_length=4096)] = ""


class SplitIn(BaseModel):
    """Move some member alarms of this incident into a new incident."""

    model_config = ConfigDict(extra="forbid")
    alarm_ids: Annotated[
        list[Annotated[str, Field(min_length=1)]], Field(min_length=1, max_length=10_000)
    ]
    comment: Annotated[str, Field(max_length=4096)] = ""


class GroupingChangeOut(BaseModel):
    """The incidents an operator's merge or split changed."""

    incident_id: str
    new_incident_id: str | None = None
    changed: list[str]


class FeedbackOut(BaseModel):
    """One operator correction of the grouping, kept for retraining."""

    ts: datetime
    actor: str
    action: str
    incident_ids: list[str]
    alarm_ids: list[str]
