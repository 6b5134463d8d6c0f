"""A real Alertmanager posts firing and resolved webhooks to nocwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from .conftest import Served, free_port, need, running, wait_for

pytestmark = pytest.mark.integration


def test_firing_then_resolved(served: Served, tmp_path: Path) -> None:
    am = need("prometheus-alertmanager")
    port = free_port()
    cfg = tmp_path / "alertmanager.yml"
    cfg.write_text(
        f"""
route:
  receiver: nocwise
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: nocwise
    webhook_configs:
      - url: "{served.url}/api/v1/ingest/alertmanager"
        send_resolved: true
"""
    )
    cmd = [
        am,
        f"--config.file={cfg}",
        f"--storage.path={tmp_path / 'am'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    api = f"http://127.0.0.1:{port}/api/v2/alerts"
    start = datetime.now(UTC) - timedelta(seconds=5)
    alert = {
        "labels": {
            "alertname": "BGPPeerDown",
            "instance": "core-rtr-1",
            "severity": "critical",
            "peer": "10.0.0.2",
        },
        "annotations": {
            "summary": "BGP session to 10.0.0.2 down",
            "runbook_url": "https://runbooks/bgp",
        },
        "startsAt": start.isoformat(),
    }
    with running(cmd, f"http://127.0.0.1:{port}/-/ready", tmp_path / "am.log"):
        assert httpx.post(api, json=[alert]).status_code == 200
        wait_for(lambda: served.sink.count("alarms") == 1, 30, "the firing alarm")
        (doc,) = served.sink.alarm_docs()
        assert doc["perceived_severity"] == "CRITICAL"
        assert doc["managed_object"] == "core-rtr-1"
        assert doc["probable_cause"] == "BGPPeerDown"
        assert doc["additional_text"] == "BGP session to 10.0.0.2 down"
        assert doc["proposed_repair_actions"] == "https://runbooks/bgp"
        assert doc["labels"]["peer"] == "10.0.0.2"
        assert doc["alarm_id"].startswith("alertmanager:")

        resolved = dict(alert, endsAt=(datetime.now(UTC) - timedelta(seconds=1)).isoformat())
        assert httpx.post(api, json=[resolved]).status_code == 200

        def cleared() -> bool:
            docs = served.sink.alarm_docs()
            return len(docs) == 1 and docs[0]["cleared_time"] is not None

        wait_for(cleared, 30, "the resolved notification to clear the alarm")
        assert served.sink.alarm_docs()[0]["perceived_severity"] == "CLEARED"
