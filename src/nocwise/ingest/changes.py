"""Change events -> changes: generic JSON, GitHub, GitLab and Argo CD webhook payloads.

The payload's own shape says what sent it (a ``X-GitHub-Event`` / ``X-Gitlab-Event`` header
value may be passed as ``event`` to disambiguate):
- GitHub ``deployment`` / ``deployment_status`` -> a deployment of the repository (the entity is
  the repository name; ``push`` -> a configuration change, for GitOps repositories);
- GitLab ``object_kind: deployment`` -> a deployment of the project;
- Argo CD notification (``app`` + ``revision``) -> a deployment of the application;
- generic: ``{id, ts, entity_id, kind, version_before, version_after, description}``.
Ids are namespaced by sender, so a redelivered webhook upserts the same change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nocwise.ingest.base import (
    BAD_VALUE,
    MISSING_FIELD,
    Invalid,
    ParseResult,
    Rejection,
    as_list,
    load_json,
    obj,
    parse_time,
    text,
)
from nocwise.model import Change, ChangeKind

_KINDS = {k.value: k for k in ChangeKind} | {
    "deploy": ChangeKind.DEPLOYMENT, "release": ChangeKind.DEPLOYMENT, "rollout": ChangeKind.DEPLOYMENT,
    "config": ChangeKind.CONFIGURATION, "configuration_change": ChangeKind.CONFIGURATION,
    "maintenance_window": ChangeKind.MAINTENANCE,
}  # fmt: skip


def parse(
    body: bytes, content_type: str | None = None, *, now: datetime, event: str | None = None
) -> ParseResult[Change]:
    """A change webhook body (one object or an array) -> changes."""
    del content_type
    try:
        items = as_list(load_json(body))
    except Invalid as exc:
        return ParseResult.reject_all(exc.reason, exc.detail)
    result = ParseResult[Change]()
    for i, item in enumerate(items):
        try:
            result.records.append(change_of(obj(item, "change"), now, event))
        except Invalid as exc:
            result.rejections.append(Rejection(exc.reason, exc.detail, i))
    return result


def change_of(doc: Mapping[str, Any], now: datetime, event: str | None = None) -> Change:
    """One payload as a change; the sender is recognised from the payload's shape."""
    if isinstance(doc.get("deployment"), dict) and isinstance(doc.get("repository"), dict):
        return _github_deployment(doc)
    if event == "push" or (
        "after" in doc and "before" in doc and isinstance(doc.get("repository"), dict)
    ):
        return _github_push(doc, now)
    if doc.get("object_kind") == "deployment":
        return _gitlab(doc, now)
    if "app" in doc and ("revision" in doc or "syncRevision" in doc):
        return _argocd(doc, now)
    return _generic(doc, now)


def _time(doc: Mapping[str, Any], *keys: str, default: datetime) -> datetime:
    for key in keys:
        if doc.get(key) not in (None, ""):
            return parse_time(doc[key], key)
    return default


def _github_deployment(doc: Mapping[str, Any]) -> Change:
    dep = obj(doc["deployment"], "deployment")
    repo = text(obj(doc["repository"], "repository"), "name", required=True)
    status = doc.get("deployment_status")
    when_doc = status if isinstance(status, dict) else dep
    state = text(status, "state") if isinstance(status, dict) else "created"
    env = text(dep, "environment")
    return Change(
        id=f"github:{repo}:{text(dep, 'id', required=True)}",
        ts=_github_time(when_doc, dep),
        entity_id=repo,
        kind=ChangeKind.DEPLOYMENT,
        version_after=text(dep, "sha") or text(dep, "ref"),
        description=f"GitHub deployment to {env or 'default'}: {state}. {text(dep, 'description')}".strip(),
        source="github",
    )


def _github_push(doc: Mapping[str, Any], now: datetime) -> Change:
    repo = text(obj(doc.get("repository"), "repository"), "name", required=True)
    after = text(doc, "after", required=True)
    head = doc.get("head_commit")
    when = _time(head, "timestamp", default=now) if isinstance(head, dict) else now
    message = text(head, "message") if isinstance(head, dict) else ""
    return Change(
        id=f"github:{repo}:push:{after}",
        ts=when,
        entity_id=repo,
        kind=ChangeKind.CONFIGURATION,
        version_before=text(doc, "before"),
        version_after=after,
        description=f"push to {text(doc, 'ref')}: {message}"[:2000],
        source="github",
    )


def _gitlab(doc: Mapping[str, Any], now: datetime) -> Change:
    project = doc.get("project")
    name = (
        text(project, "path_with_namespace") or text(project, "name")
        if isinstance(project, dict)
        else ""
    )
    if not name:
        raise Invalid(MISSING_FIELD, "project.path_with_namespace is required")
    dep_id = text(doc, "deployment_id", required=True)
    return Change(
        id=f"gitlab:{name}:{dep_id}",
        ts=_time(doc, "status_changed_at", default=now),
        entity_id=name,
        kind=ChangeKind.DEPLOYMENT,
        version_after=text(doc, "short_sha") or text(doc, "ref"),
        description=f"GitLab deployment to {text(doc, 'environment') or 'default'}: {text(doc, 'status')}",
        source="gitlab",
    )


def _argocd(doc: Mapping[str, Any], now: datetime) -> Change:
    app = text(doc, "app", required=True)
    revision = text(doc, "revision") or text(doc, "syncRevision")
    if not revision:
        raise Invalid(MISSING_FIELD, "revision is required")
    return Change(
        id=f"argocd:{app}:{revision}",
        ts=_time(doc, "timestamp", "finishedAt", "syncedAt", default=now),
        entity_id=text(doc, "entity_id") or app,
        kind=ChangeKind.DEPLOYMENT,
        version_before=text(doc, "previousRevision"),
        version_after=revision,
        description=f"Argo CD sync {text(doc, 'syncStatus') or text(doc, 'status')}, health {text(doc, 'healthStatus') or 'unknown'}",
        source="argocd",
    )


def _generic(doc: Mapping[str, Any], now: datetime) -> Change:
    entity = text(doc, "entity_id") or text(doc, "entity") or text(doc, "service")
    if not entity:
        raise Invalid(MISSING_FIELD, "entity_id is required (or a GitHub/GitLab/Argo CD payload)")
    word = text(doc, "kind", default="deployment").lower()
    kind = _KINDS.get(word)
    if kind is None:
        raise Invalid(
            BAD_VALUE,
            f"kind must be one of {sorted(k.value for k in ChangeKind)}, got {word[:40]!r}",
        )
    ts = _time(doc, "ts", "timestamp", "time", default=now)
    end = _time(doc, "end", default=ts) if doc.get("end") not in (None, "") else None
    if end is not None and end < ts:
        raise Invalid(BAD_VALUE, "end is before ts")
    source = text(doc, "source", default="api")
    before, after = text(doc, "version_before"), text(doc, "version_after")
    cid = text(doc, "id") or _derived_id(source, entity, kind.value, ts, after)
    return Change(
        id=cid, ts=ts, entity_id=entity, kind=kind, version_before=before, version_after=after,
        description=text(doc, "description"), source=source, end=end,
    )  # fmt: skip


def _derived_id(*parts: object) -> str:
    return "change:" + hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:24]


def _github_time(status: Mapping[str, Any], dep: Mapping[str, Any]) -> datetime:
    for doc in (status, dep):
        for key in ("updated_at", "created_at"):
            if doc.get(key) not in (None, ""):
                return parse_time(doc[key], key)
    raise Invalid(MISSING_FIELD, "deployment.created_at is required")
