"""Muting: silences, maintenance windows (also from change tickets), planned outage, inhibition."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from nocwise.correlate.base import Verdict
from nocwise.correlate.inhibit import InhibitRule
from nocwise.correlate.maintenance import MaintenanceWindow
from nocwise.correlate.matchers import Matcher
from nocwise.correlate.mute import MuteConfig, MuteReason, MuteStage
from nocwise.correlate.silence import Silence
from nocwise.correlate.synthetic import clear_alarm, raise_alarm
from nocwise.model import Change, ChangeKind
from nocwise.topology.graph import TopologyGraph

M = timedelta(minutes=1)


def silence(t0: datetime, **kw: object) -> Silence:
    base: dict[str, object] = {
        "id": "sil-1",
        "matchers": (Matcher(name="managed_object", op="=~", value="s1/.*"),),
        "start": t0,
        "end": t0 + 30 * M,
        "created_by": "alice",
        "comment": "fibre works",
    }
    base.update(kw)
    return Silence.model_validate(base)


def test_a_silence_mutes_matching_alarms_and_records_who_and_why(t0: datetime) -> None:
    stage = MuteStage()
    stage.add_silence(silence(t0))
    hit, miss = (
        raise_alarm("a", "s1/csr", "linkDown", t0 + M),
        raise_alarm("b", "s2/csr", "linkDown", t0 + M),
    )
    out = stage.process([hit, miss], t0 + M)
    assert out.passed == [miss]
    (d,) = out.decisions
    assert d.reason is MuteReason.SILENCED
    assert d.verdict is Verdict.HOLD
    assert d.evidence[0].data["by_ids"] == "sil-1"
    assert d.evidence[0].data["actor"] == "alice"
    assert d.evidence[0].data["why"] == "fibre works"


def test_clears_of_muted_alarms_pass(t0: datetime) -> None:
    stage = MuteStage()
    stage.add_silence(silence(t0))
    a = raise_alarm("a", "s1/csr", "linkDown", t0 + M)
    stage.process([a], t0 + M)
    out = stage.process([clear_alarm(a, t0 + 2 * M)], t0 + 2 * M)
    assert [x.alarm_id for x in out.passed] == ["a"]
    assert out.decisions[0].reason is MuteReason.MUTED_ALARM_CLEARED
    assert stage.held() == 0


def test_an_expired_silence_releases_on_tick(t0: datetime) -> None:
    stage = MuteStage()
    stage.add_silence(silence(t0))
    a = raise_alarm("a", "s1/csr", "linkDown", t0 + M)
    stage.process([a], t0 + M)
    assert stage.tick(t0 + 2 * M).passed == []
    stage.silences.expire("sil-1")
    out = stage.tick(t0 + 3 * M)
    assert out.passed == [a]
    assert out.decisions[0].reason is MuteReason.UNMUTED


def test_a_maintenance_change_mutes_the_entity_and_its_dependents_until_it_ends(
    t0: datetime, topo: TopologyGraph
) -> None:
    stage = MuteStage(MuteConfig(maintenance_depth=2), topo)
    change = Change(
        "CHG-7",
        t0,
        "s1/csr",
        ChangeKind.MAINTENANCE,
        description="IOS upgrade",
        source="cab",
        end=t0 + 60 * M,
    )
    window = stage.add_change(change)
    assert window is not None
    assert window.change_id == "CHG-7"
    on_csr = raise_alarm("a", "s1/csr", "linkDown", t0 + M)
    on_cell = raise_alarm("b", "s1/cell0", "cellDown", t0 + M)
    upstream = raise_alarm("c", "s1/link", "lossOfSignal", t0 + M)
    out = stage.process([on_csr, on_cell, upstream], t0 + M)
    assert out.passed == [upstream]  # the link is upstream of the csr, not covered
    assert {d.reason for d in out.decisions} == {MuteReason.MAINTENANCE_WINDOW}
    assert out.decisions[0].evidence[0].data["by_ids"] == "mw-CHG-7"
    assert out.decisions[0].evidence[0].data["actor"] == "cab"
    released = stage.tick(t0 + 60 * M)
    assert {a.alarm_id for a in released.passed} == {"a", "b"}  # outlived the maintenance


def test_alarms_raised_after_the_window_are_not_muted(t0: datetime) -> None:
    stage = MuteStage()
    stage.add_window(
        MaintenanceWindow(id="w", entity_ids=("s1/csr",), start=t0, end=t0 + M, created_by="ops")
    )
    out = stage.process([raise_alarm("a", "s1/csr", "linkDown", t0 + 2 * M)], t0 + 2 * M)
    assert len(out.passed) == 1


def test_non_maintenance_changes_open_no_window(t0: datetime) -> None:
    assert MuteStage().add_change(Change("c", t0, "s1/csr", ChangeKind.DEPLOYMENT)) is None


def test_planned_outage_indicator_mutes_until_the_source_withdraws_it(t0: datetime) -> None:
    stage = MuteStage()
    a = raise_alarm("a", "s1/csr", "linkDown", t0, planned=True)
    out = stage.process([a], t0)
    assert out.decisions[0].reason is MuteReason.PLANNED_OUTAGE
    unplanned = raise_alarm("a", "s1/csr", "linkDown", t0 + M)
    again = stage.process([unplanned], t0 + M)
    assert again.passed == [unplanned]
    assert again.decisions[0].reason is MuteReason.UNMUTED


@pytest.mark.parametrize(
    ("target_site", "muted"),
    [pytest.param("s1", True, id="same-site"), pytest.param("s2", False, id="other-site")],
)
def test_inhibition_rules_mute_targets_sharing_equal_labels(
    t0: datetime, target_site: str, muted: bool
) -> None:
    from dataclasses import replace

    rule = InhibitRule(
        name="power-inhibits-radio",
        source=(Matcher(name="probable_cause", value="powerSupplyFailure"),),
        target=(Matcher(name="probable_cause", value="cellDown"),),
        equal=("labels.site",),
    )
    stage = MuteStage(MuteConfig(inhibit_rules=(rule,)))
    src = replace(raise_alarm("p", "s1/power", "powerSupplyFailure", t0), labels={"site": "s1"})
    tgt = replace(
        raise_alarm("c", f"{target_site}/cell0", "cellDown", t0), labels={"site": target_site}
    )
    out = stage.process([src, tgt], t0)
    assert (tgt not in out.passed) is muted
    if muted:
        assert out.decisions[0].reason is MuteReason.INHIBITED
        assert out.decisions[0].evidence[0].data["by_ids"] == "p"
        stage.process([clear_alarm(src, t0 + M)], t0 + M)
        assert stage.tick(t0 + M).passed == [tgt]


def test_state_round_trip_keeps_silences_windows_and_held_alarms(
    t0: datetime, topo: TopologyGraph
) -> None:
    stage = MuteStage(None, topo)
    stage.add_silence(silence(t0))
    stage.add_window(
        MaintenanceWindow(id="w", entity_ids=("s2/csr",), start=t0, end=t0 + M, created_by="ops")
    )
    stage.process([raise_alarm("a", "s1/csr", "linkDown", t0 + M)], t0 + M)
    copy = MuteStage.from_state(stage.to_state(), topo)
    assert copy.held() == 1
    nxt = [raise_alarm("b", "s1/gnb", "x", t0 + 2 * M), raise_alarm("c", "s3/gnb", "x", t0 + 2 * M)]
    assert copy.process(nxt, t0 + 2 * M) == stage.process(nxt, t0 + 2 * M)
    assert copy.tick(t0 + 31 * M).passed == stage.tick(t0 + 31 * M).passed
