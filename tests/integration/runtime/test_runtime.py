"""Runtime behaviour that spans stages."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nocwise.clock import ManualClock
from nocwise.config import Settings
from nocwise.model import Evidence, Hypothesis, Incident, IncidentState, Member
from nocwise.runtime.runtime import Runtime
from nocwise.store.state.repositories import IncidentRepository

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_a_correlation_update_keeps_the_hypotheses_diagnosis_attached(tmp_path: Path) -> None:
    runtime = Runtime(Settings(data_dir=tmp_path), ManualClock(T0))
    member = Member("a1", "new_incident", T0)
    diagnosed = Incident(
        "INC-1", IncidentState.OPEN, T0, T0, "t", (member,),
        (Hypothesis("pwr-1", "powerProblem", 0.9, (Evidence("coverage", "all"),)),),
    )  # fmt: skip
    later = replace(diagnosed, hypotheses=(), members=(member, Member("a2", "topology", T0)))
    asyncio.run(runtime.save_incidents([diagnosed]))
    asyncio.run(runtime.save_incidents([later]))
    with runtime.db.session() as s:
        found = IncidentRepository(s).get("INC-1")
    assert found is not None
    stored, _ = found
    assert [m.alarm_id for m in stored.members] == ["a1", "a2"]
    assert stored.hypotheses[0].entity_id == "pwr-1"
    runtime.telemetry.close()
    runtime.db.dispose()


def test_an_unavailable_bus_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, bus={"kind": "nats"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"bus\.kind 'nats' is not available"):
        Runtime(settings, ManualClock(T0))
