"""The runtime fits the correlator's noise model from stored alarms and tickets."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from nocwise.config import Settings
from nocwise.correlate.synthetic import access_network, raise_alarm
from nocwise.model import Ticket, TicketStatus
from nocwise.runtime.stages import build_stages

M = timedelta(minutes=1)


def test_stages_learn_noise_from_history_and_tickets(t0: datetime, tmp_path: Path) -> None:
    stages = build_stages(Settings(data_dir=tmp_path), *access_network(30))
    history = [
        raise_alarm(f"h{i}", f"s{i % 20}/csr", "fanFailure", t0 - (i + 60) * M) for i in range(50)
    ]
    history.append(raise_alarm("l0", "s3/csr", "linkDown", t0 - 90 * M))
    ticket = Ticket(
        "T1", "link", "", "major", TicketStatus.CLOSED, t0 - 80 * M, related_alarms=("l0",)
    )
    model = stages.learn_noise(history, [ticket])
    assert model.score(history[0])[0] > 0.9
    assert model.score(history[-1])[0] < 0.5
    stages.correlate([raise_alarm("fan", "s1/csr", "fanFailure", t0)], t0)
    stages.correlate([raise_alarm("link", "s9/csr", "linkDown", t0)], t0)
    fired = stages.tick(t0 + M)
    assert [m.alarm_id for i in fired for m in i.members] == ["link"]
    view = stages.correlator.alarm("fan")
    assert view is not None
    assert view.incident_id is None
