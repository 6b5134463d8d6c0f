from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from nocwise.ingest import changes
from nocwise.ingest.base import REASONS
from nocwise.model import ChangeKind

from .conftest import Client
from .strategies import json_values

NOW = datetime(2026, 1, 5, tzinfo=UTC)
GITHUB = {
    "action": "created",
    "deployment_status": {"state": "success", "created_at": "2026-01-05T09:00:00Z"},
    "deployment": {
        "id": 42,
        "sha": "a1b2c3",
        "ref": "main",
        "environment": "production",
        "created_at": "2026-01-05T08:59:00Z",
    },
    "repository": {"name": "smf-config", "full_name": "telco/smf-config"},
}
GITLAB = {
    "object_kind": "deployment",
    "status": "success",
    "status_changed_at": "2026-01-05 10:00:00 +0100",
    "deployment_id": 15,
    "environment": "staging",
    "project": {"path_with_namespace": "core/upf"},
    "short_sha": "279484c0",
}
ARGO = {
    "app": "amf",
    "revision": "9f0e",
    "syncStatus": "Synced",
    "healthStatus": "Healthy",
    "timestamp": "2026-01-05T11:00:00Z",
}


def test_each_sender_is_recognised() -> None:
    body = json.dumps(
        [
            GITHUB,
            GITLAB,
            ARGO,
            {"entity_id": "router-1", "kind": "configuration", "ts": "2026-01-05T12:00:00Z"},
        ]
    )
    r = changes.parse(body.encode(), now=NOW)
    assert r.rejections == []
    gh, gl, argo, gen = r.records
    assert (gh.id, gh.entity_id, gh.version_after, gh.source) == (
        "github:smf-config:42",
        "smf-config",
        "a1b2c3",
        "github",
    )
    assert gh.ts == datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert (gl.id, gl.kind, gl.ts.hour) == ("gitlab:core/upf:15", ChangeKind.DEPLOYMENT, 9)
    assert (argo.id, argo.entity_id) == ("argocd:amf:9f0e", "amf")
    assert gen.kind is ChangeKind.CONFIGURATION
    assert gen.id.startswith("change:")
    assert changes.parse(body.encode(), now=NOW).records[3].id == gen.id


def test_generic_without_entity_is_rejected() -> None:
    r = changes.parse(b'{"kind": "deployment"}', now=NOW)
    assert [x.reason for x in r.rejections] == ["missing_field"]


def test_endpoint_upserts_redelivered_webhooks(client: Client, sink: object) -> None:
    from nocwise.ingest.sqlite_sink import SqliteSink

    assert isinstance(sink, SqliteSink)
    for _ in range(2):
        r = client.post(
            "/api/v1/ingest/changes", json=GITHUB, headers={"X-GitHub-Event": "deployment_status"}
        )
        assert r.status_code == 200
    assert sink.count("changes") == 1


@given(st.binary(max_size=200))
def test_fuzz_bytes(body: bytes) -> None:
    assert all(x.reason in REASONS for x in changes.parse(body, now=NOW).rejections)


@given(
    st.sampled_from([GITHUB, GITLAB, ARGO, {"entity_id": "x"}]),
    st.dictionaries(
        st.text(max_size=12)
        | st.sampled_from(["ts", "kind", "deployment", "repository", "revision", "project", "end"]),
        json_values,
        max_size=4,
    ),
)
def test_fuzz_fields(base: dict[str, object], extra: dict[str, object]) -> None:
    r = changes.parse(json.dumps(base | extra).encode(), now=NOW)
    assert r.accepted + r.rejected == 1
    assert all(x.reason in REASONS and x.detail for x in r.rejections)
