"""Health, topology, funnel, tokens and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from nocwise import __version__
from nocwise.api.deps import Admin, RuntimeDep, Viewer
from nocwise.api.schemas import EntityOut, Health, TokenIn, TokenOut, TopologyOut
from nocwise.model import codec
from nocwise.store.state.repositories import AuditLog, TokenRepository, TopologyRepository

router = APIRouter(prefix="/api/v1", tags=["system"])


@router.get("/health", response_model=Health)
def health(runtime: RuntimeDep) -> Health:
    """Liveness for load balancers and probes: the one endpoint without a token; it says nothing
    beyond up/degraded and the version."""
    status = "degraded" if runtime.last_error else "ok"
    return Health(status=status, version=__version__)


@router.get("/topology", response_model=TopologyOut)
def topology(
    runtime: RuntimeDep,
    principal: Viewer,
    kind: str | None = None,
    domain: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TopologyOut:
    """Entities (filtered, paginated) and the relations among the returned entities."""
    del principal
    with runtime.db.session() as s:
        repo = TopologyRepository(s)
        entities = repo.entities(kind, domain, limit, offset)
        ids = {e.id for e in entities}
        relations = [r for r in repo.relations() if r.src in ids or r.dst in ids]
        n_e, n_r = repo.count()
    return TopologyOut.model_validate(
        {
            "entities": [EntityOut.model_validate(codec.entity_to_dict(e)) for e in entities],
            "relations": [codec.relation_to_dict(r) for r in relations],
            "total_entities": n_e,
            "total_relations": n_r,
        }
    )


@router.get("/funnel")
def funnel(runtime: RuntimeDep, principal: Viewer) -> dict[str, Any]:
    """Events -> alarms -> incidents. compression = 1 - incidents / alarms."""
    del principal
    f = runtime.funnel()
    return {"funnel": f, "formula": "compression = 1 - incidents / alarms (after dedup)"}


@router.get("/correlation")
def correlation(runtime: RuntimeDep, principal: Viewer) -> dict[str, Any]:
    """The correlation chain's stages in order and the options each runs with (dedup keys per
    source, flapping, maintenance, suppression, noise, grouping, impact)."""
    del principal
    config = runtime.stages.correlator.config.model_dump(mode="json")
    stages = [k for k, v in config.items() if isinstance(v, dict) and "kind" in v]
    return {"stages": stages, "config": config}


@router.post("/correlation/retrain")
async def retrain_grouping(
    runtime: RuntimeDep,
    principal: Admin,
    days: Annotated[float, Query(gt=0, le=365)] = 30.0,
) -> dict[str, int]:
    """Retrain grouping's alarm-type causality on the stored alarms of the last ``days``, with
    operators' merges and splits applied; open incidents are kept (admin)."""
    summary = await runtime.retrain_grouping(days)
    detail = ", ".join(f"{k}={v}" for k, v in summary.items())
    runtime.audit(principal.name, principal.role, "correlation.retrain", "grouping", detail)
    return summary


@router.post("/tokens", response_model=TokenOut, status_code=201)
def create_token(body: TokenIn, runtime: RuntimeDep, principal: Admin) -> TokenOut:
    """Create an API token (admin); the secret is in this response only."""
    with runtime.db.session() as s:
        token_id, secret = TokenRepository(s).create(body.role, body.name, runtime.clock.now())
    runtime.audit(principal.name, principal.role, "token.create", token_id, body.role)
    return TokenOut(id=token_id, role=body.role, name=body.name, token=secret)


@router.get("/audit")
def audit(
    runtime: RuntimeDep,
    principal: Admin,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The audit log (admin) and whether its hash chain is intact."""
    del principal
    with runtime.db.session() as s:
        log = AuditLog(s)
        entries = log.entries(limit, offset)
        intact = log.verify()
    return {
        "intact": intact,
        "entries": [
            {
                "ts": e.ts.isoformat(),
                "actor": e.actor,
                "role": e.role,
                "action": e.action,
                "target": e.target,
                "detail": e.detail,
                "hash": e.hash,
            }
            for e in entries
        ],
    }
