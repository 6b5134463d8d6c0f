"""Property tests of the whole chain on random notification streams."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from nocwise.correlate.config import CorrelateConfig
from nocwise.correlate.flapping import FlappingConfig
from nocwise.correlate.pipeline import build_correlator
from nocwise.correlate.synthetic import access_network, raise_alarm
from nocwise.model import AckState, Severity
from nocwise.topology.graph import TopologyGraph

TOPO = TopologyGraph(*access_network(4))
START = datetime(2026, 3, 1, tzinfo=UTC)
ENTITIES = ["s0/cell0", "s0/gnb", "s0/csr", "s1/cell1", "s1/link", "s3/power", "off-inventory"]
CAUSES = ["linkDown", "cellDown", "powerFail"]
_SEV = [Severity.CRITICAL, Severity.MAJOR, Severity.MINOR, Severity.CLEARED]

op = st.tuples(
    st.integers(0, 7),  # alarm number
    st.sampled_from(ENTITIES),
    st.sampled_from(CAUSES),
    st.sampled_from(_SEV),
    st.booleans(),  # acknowledged
    st.booleans(),  # planned outage
    st.integers(0, 90),  # seconds since the previous notification
)


@settings(max_examples=60, deadline=None)
@given(st.lists(op, max_size=60), st.integers(1, 7))
def test_the_chain_keeps_its_invariants(
    ops: list[tuple[int, str, str, Severity, bool, bool, int]], batch: int
) -> None:
    corr = build_correlator(CorrelateConfig(flapping=FlappingConfig(max_transitions=3)), TOPO)
    at = START
    notes = []
    for n, entity, cause, sev, ack, planned, gap in ops:
        at += timedelta(seconds=gap)
        a = raise_alarm(
            f"a{n}",
            entity,
            cause,
            at,
            Severity.MAJOR if sev is Severity.CLEARED else sev,
            planned=planned,
        )
        if sev is Severity.CLEARED:
            a = replace(a, perceived_severity=Severity.CLEARED, cleared_time=at)
        if ack:
            a = replace(a, ack_state=AckState.ACKNOWLEDGED, ack_user_id="ops", ack_time=at)
        notes.append(a)
    for i in range(0, len(notes), batch):
        chunk = notes[i : i + batch]
        now = chunk[-1].event_time
        res = corr.process(chunk, now)
        seen = {v.alarm.alarm_id: v for v in res.alarms}
        for a in chunk:
            if a.is_cleared:  # a clear is never lost: the alarm is cleared in the list
                assert seen[a.alarm_id].alarm.is_cleared
        for v in res.alarms:
            for d in v.decisions:
                assert d.evidence
        corr.tick(now + timedelta(seconds=30))
    incidents = corr.incidents()
    owner: dict[str, str] = {}
    for inc in incidents:
        ids = [m.alarm_id for m in inc.members]
        assert len(ids) == len(set(ids))
        for aid in ids:
            assert aid not in owner  # an alarm is in one incident at most
            owner[aid] = inc.id
        assert inc.root_entity_id is not None
    for v in corr.open_alarms():
        assert v.alarm.is_active
        if v.incident_id is not None and v.incident_id in {i.id for i in incidents}:
            assert owner.get(v.alarm.alarm_id) == v.incident_id
    f = corr.funnel()
    assert f["events"] == len(notes)
    assert int(f["incidents"]) <= int(f["grouped"]) <= int(f["alarms"])
