"""Noise: scores learned from history, with reasons; chatty alarms demoted, never dropped."""

from __future__ import annotations

from datetime import datetime, timedelta

from nocwise.correlate.noise import NoiseConfig, NoiseModel, NoiseReason, NoiseStage, noise_score
from nocwise.correlate.synthetic import clear_alarm, raise_alarm
from nocwise.model import Alarm, ModelState

H = timedelta(hours=1)


def history(t0: datetime) -> tuple[list[Alarm], set[str]]:
    """fanFailure never mattered; linkDown mostly did; highTemperature on one site raised hourly."""
    alarms: list[Alarm] = []
    actionable: set[str] = set()
    for i in range(40):
        alarms.append(raise_alarm(f"fan{i}", f"s{i}/csr", "fanFailure", t0 + i * H))
        link = raise_alarm(f"link{i}", f"s{i}/csr", "linkDown", t0 + i * H)
        alarms.append(link)
        if i % 10:
            actionable.add(link.alarm_id)
    for i in range(48 * 3):
        alarms.append(
            raise_alarm(f"temp{i}", "s9/gnb", "highTemperature", t0 + i * timedelta(minutes=20))
        )
    return alarms, actionable


def test_scores_follow_past_actionability(t0: datetime) -> None:
    model = NoiseModel.fit(*history(t0))
    fan, fan_reason, _ = model.score(raise_alarm("x", "s1/csr", "fanFailure", t0))
    link, link_reason, ev = model.score(raise_alarm("y", "s1/csr", "linkDown", t0))
    assert fan > 0.9
    assert fan_reason is NoiseReason.LOW_ACTIONABILITY
    assert link < 0.2
    assert link_reason is NoiseReason.ACTIONABLE_TYPE
    assert ev.data["seen"] == 40
    assert ev.data["actionable"] == 36


def test_chatty_fingerprints_are_demoted_and_unseen_types_get_the_prior(t0: datetime) -> None:
    model = NoiseModel.fit(*history(t0))
    score, reason, _ = model.score(raise_alarm("t", "s9/gnb", "highTemperature", t0))
    assert reason is NoiseReason.LOW_ACTIONABILITY or reason is NoiseReason.CHATTY
    assert score >= 0.9
    new, new_reason, _ = model.score(raise_alarm("n", "s1/csr", "neverSeen", t0))
    assert new == 0.5
    assert new_reason is NoiseReason.UNSEEN_TYPE


def test_learning_online_equals_fitting_on_history(t0: datetime) -> None:
    alarms, actionable = history(t0)
    fitted = NoiseModel.fit(alarms, actionable)
    online = NoiseModel()
    for a in alarms:
        online.learn(a, a.alarm_id in actionable)
    probe = [raise_alarm("p", "s1/csr", c, t0) for c in ("fanFailure", "linkDown")]
    assert fitted.scores(probe).tolist() == online.scores(probe).tolist()


def test_the_stage_scores_every_active_alarm_and_drops_none(t0: datetime) -> None:
    stage = NoiseStage(NoiseConfig(), NoiseModel.fit(*history(t0)))
    a = raise_alarm("x", "s1/csr", "fanFailure", t0)
    out = stage.process([a, clear_alarm(a, t0 + H)], t0)
    assert out.passed == [a, clear_alarm(a, t0 + H)]
    (d,) = out.decisions
    assert d.passes
    assert noise_score(d) is not None
    assert noise_score(d) > 0.9  # type: ignore[operator]


def test_the_stage_gives_the_models_score_for_known_and_unseen_types(t0: datetime) -> None:
    model = NoiseModel.fit(*history(t0))
    stage = NoiseStage(NoiseConfig(), model)
    probe = [
        raise_alarm(f"p{i}", f"s{i}/csr", cause, t0)
        for i, cause in enumerate(("fanFailure", "linkDown", "neverSeen", "alsoNew", "fanFailure"))
    ]
    for a, d in zip(probe, stage.process(probe, t0).decisions, strict=True):
        _, reason, ev = model.score(a)
        assert (d.alarm_id, d.reason, d.evidence) == (a.alarm_id, reason, (ev,))


def test_feedback_changes_the_score(t0: datetime) -> None:
    stage = NoiseStage()
    a = raise_alarm("x", "s1/csr", "fanFailure", t0)
    before = noise_score(stage.process([a], t0).decisions[0])
    for _ in range(5):
        stage.learn(a, actionable=True)
    after = noise_score(stage.process([a], t0).decisions[0])
    assert before is not None
    assert after is not None
    assert after < before


def test_model_state_round_trips_through_bytes(t0: datetime) -> None:
    model = NoiseModel.fit(*history(t0))
    copy = NoiseModel.from_state(ModelState.from_bytes(model.to_state().to_bytes()))
    probe = [
        raise_alarm("p", "s9/gnb", c, t0) for c in ("fanFailure", "linkDown", "highTemperature")
    ]
    assert copy.scores(probe).tolist() == model.scores(probe).tolist()
    stage = NoiseStage(NoiseConfig(), model)
    assert NoiseStage.from_state(stage.to_state()).process(probe, t0) == stage.process(probe, t0)


def test_actionable_labels_come_from_tickets_and_acted_on_incidents(t0: datetime) -> None:
    from nocwise.correlate.noise import actionable_alarm_ids
    from nocwise.model import Incident, IncidentState, Member, Ticket, TicketStatus, TimelineEntry

    def inc(iid: str, members: list[str], timeline: tuple[TimelineEntry, ...] = ()) -> Incident:
        return Incident(
            iid,
            IncidentState.OPEN,
            t0,
            t0,
            "x",
            tuple(Member(m, "topology", t0) for m in members),
            timeline=timeline,
        )

    ticket = Ticket(
        "T1", "fibre cut", "", "major", TicketStatus.RESOLVED, t0, related_alarms=("a1",)
    )
    acked = inc("I2", ["b1", "b2"], (TimelineEntry(t0, "acknowledged", "by ops", "ops"),))
    auto_only = inc("I3", ["c1"], (TimelineEntry(t0, "opened", "opened", "nocwise"),))
    via_ticket = inc("I4", ["a1", "a2"])
    assert actionable_alarm_ids([ticket], [acked, auto_only, via_ticket]) == {
        "a1",
        "a2",
        "b1",
        "b2",
    }
