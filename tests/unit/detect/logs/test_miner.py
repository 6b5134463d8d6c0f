"""Online template miner: matching, evolution, state, batch API and fuzzing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nocwise.detect.logs.miner import TemplateMiner, TemplateMinerConfig
from nocwise.detect.logs.template import template_regex, tokenize
from nocwise.model.errors import InvalidRecordError
from nocwise.model.state import ModelState

SSH = [
    "Failed password for root from 10.0.0.1 port 22 ssh2",
    "Failed password for admin from 10.0.0.2 port 2222 ssh2",
    "session opened for user root by (uid=0)",
    "Failed password for guest from 10.0.0.3 port 22 ssh2",
    "session closed for user root",
    "Failed password for test from 10.0.0.4 port 22 ssh2",
    "Failed password for oracle from 10.0.0.5 port 22 ssh2",
]


def test_learn_masks_values_and_returns_params() -> None:
    m = TemplateMiner()
    r = m.learn("Interface GigabitEthernet0/0/1 changed state to down")
    assert (r.template, r.change, r.params) == (
        "Interface <*> changed state to down",
        "created",
        ["GigabitEthernet0/0/1"],
    )
    again = m.learn("Interface xe-0/0/0.0 changed state to down")
    assert (again.template_id, again.change) == (r.template_id, "none")
    assert m.count(r.template_id) == 2


def test_word_values_become_variables_after_enough_evidence() -> None:
    m = TemplateMiner()
    ids = [m.learn(x).template_id for x in SSH]
    final = m.resolve(ids)
    failed = {int(final[i]) for i, x in enumerate(SSH) if x.startswith("Failed")}
    assert len(failed) == 1
    assert m.template(failed.pop()) == "Failed password for <*> from <*> port <*> ssh2"
    assert len(set(final.tolist())) == 3


def test_few_word_values_stay_apart() -> None:
    m = TemplateMiner()
    a = m.learn("VM Started (Lifecycle Event)").template_id
    b = m.learn("VM Paused (Lifecycle Event)").template_id
    assert a != b


def test_merges_are_recorded_and_old_ids_relabelled() -> None:
    m = TemplateMiner()
    ids = [m.learn(x).template_id for x in SSH]
    merged = [e for e in m.history() if e["kind"] == "merged"]
    assert merged
    for e in merged:
        assert m.resolve([e["id"]])[0] == e["into"]
        assert e["id"] not in m.templates()
    assert set(m.resolve(ids).tolist()) <= set(m.templates())
    versions = [e["version"] for e in m.history()]
    assert versions == sorted(versions)
    assert versions[-1] == m.version
    assert m.history(since=m.version) == []


def test_match_is_read_only() -> None:
    m = TemplateMiner()
    for x in SSH:
        m.learn(x)
    before = m.to_state().to_bytes()
    assert m.match("Failed password for bob from 10.9.9.9 port 1 ssh2") is not None
    assert m.match("completely new message") is None
    assert m.to_state().to_bytes() == before


def test_learn_batch_agrees_with_learn() -> None:
    lines = SSH * 3 + ["a b c", "a b d"]
    one = TemplateMiner()
    single = one.resolve([one.learn(x).template_id for x in lines])
    many = TemplateMiner()
    batch = many.learn_batch(lines)
    assert batch.dtype == np.int64
    assert many.resolve(batch).tolist() == single.tolist()
    assert many.count(int(batch[0])) == one.count(int(single[0]))
    assert many.learn_batch([]).shape == (0,)


def test_state_round_trip_keeps_behaviour() -> None:
    m = TemplateMiner(TemplateMinerConfig(evidence_values=3))
    for x in SSH:
        m.learn(x)
    back = TemplateMiner.from_state(ModelState.from_bytes(m.to_state().to_bytes()))
    assert back.templates() == m.templates()
    assert back.config == m.config
    assert back.history() == m.history()
    probe = "Failed password for zed from 1.1.1.1 port 5 ssh2"
    assert back.learn(probe).template_id == m.learn(probe).template_id


def test_bad_state_is_refused() -> None:
    with pytest.raises(InvalidRecordError):
        TemplateMiner.from_state(ModelState("other", 1))
    state = TemplateMiner().to_state()
    broken = ModelState(
        state.schema, state.version, {**state.params, "tokens": [["x"]]}, state.arrays
    )
    with pytest.raises(InvalidRecordError):
        TemplateMiner.from_state(broken)


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="evidence_values"):
        TemplateMinerConfig(evidence_values=1)


def test_cache_is_bounded() -> None:
    m = TemplateMiner(TemplateMinerConfig(cache_size=2))
    ids = m.learn_batch([f"event {w}" for w in ("a", "b", "c", "d", "a")])
    assert ids[0] == ids[4]


_WORDS = st.sampled_from(["user", "root", "admin", "from", "port", "failed", "ok", "=", ":", "(x)"])
_VALUES = st.one_of(
    st.integers(0, 10**6).map(str),
    st.ip_addresses(v=4).map(str),
    st.sampled_from(["eth0", "xe-0/0/1.0", "0x1f", "blk_-42", "/a/b/c"]),
)
_LINES = st.lists(st.one_of(_WORDS, _VALUES), min_size=1, max_size=8).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(st.lists(_LINES, min_size=1, max_size=30))
def test_a_template_always_matches_the_lines_it_learned(lines: list[str]) -> None:
    m = TemplateMiner()
    ids = m.learn_batch(lines)
    for line, tid in zip(lines, m.resolve(ids).tolist(), strict=True):
        assert template_regex(tokenize(m.template(tid))).fullmatch(line) is not None
        r = m.match(line)
        assert r is not None
        assert r.template_id == tid


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=80), st.binary(max_size=80)), max_size=10))
def test_never_raises_on_arbitrary_input(lines: list[str | bytes]) -> None:
    m = TemplateMiner()
    for x in lines:
        r = m.learn(x)
        assert r.template_id in m.templates() or r.template_id in m.resolve([r.template_id])
        m.match(x)
    m.learn_batch(lines)


def test_values_of_one_kind_widen_at_once_and_others_do_not() -> None:
    m = TemplateMiner()
    a = m.learn("login on ssh2 port 22 done").template_id
    r = m.learn("login on ssh7 port 23 done")
    assert (r.template_id, r.change) == (a, "updated")
    b = m.learn("fan ( 10 20 **** ) ok").template_id
    assert m.learn("fan ( 10 20 30 ) ok").template_id != b
    assert m.learn("link up on ee0 now").template_id != m.learn("link up on alt0 now").template_id


def test_words_seen_as_values_widen_their_slot_at_once_and_no_other() -> None:
    m = TemplateMiner()
    for user in ("root", "guest", "test", "news", "cyrus"):
        m.learn(f"session closed for user {user}")
    a = m.learn("session opened for user root by uid 0").template_id
    r = m.learn("session opened for user news by uid 0")
    assert (r.template_id, r.change) == (a, "updated")
    assert r.template == "session opened for user <*> by uid <*>"
    # ``user=root`` is another slot: the words seen after ``for user`` need their own evidence
    b = m.learn("authentication failure; rhost=10.0.0.1 user=root").template_id
    r = m.learn("authentication failure; rhost=10.0.0.2 user=guest")
    assert (r.template_id != b, r.change) == (True, "created")


def test_words_varying_in_two_events_need_less_evidence_than_one_events_states() -> None:
    m = TemplateMiner()
    states = [m.learn(f"VM {s} (Lifecycle Event)").template_id for s in ("Started", "Paused")]
    states += [m.learn(f"VM {s} (Lifecycle Event)").template_id for s in ("Resumed", "Stopped")]
    assert len(set(m.resolve(states).tolist())) == 4  # four states of one event stay apart
    users = ("cyrus", "news", "test")
    opened = [m.learn(f"session opened for user {u} by (uid=0)").template_id for u in users]
    assert len(set(opened)) == 3
    closed = [m.learn(f"session closed for user {u}").template_id for u in users]
    final = m.resolve(opened + closed)
    assert len(set(final.tolist())) == 2  # the same three words vary in two events: a variable
    assert m.template(int(final[0])) == "session opened for user <*> by (uid=<*>)"
    assert m.template(int(final[-1])) == "session closed for user <*>"


def test_leading_word_and_several_free_positions_need_more_evidence() -> None:
    m = TemplateMiner(TemplateMinerConfig(evidence_values=2))
    ids = [m.learn(f"{d} startup succeeded").template_id for d in ("cupsd", "sshd", "ntpd")]
    assert len(set(m.resolve(ids).tolist())) == 3
    assert m.learn("xinetd startup succeeded").template == "<*> startup succeeded"
    pairs = [("NEW", "RUNNING"), ("RUNNING", "DONE"), ("DONE", "GONE")]
    ids = [m.learn(f"moved from {a} to {b}").template_id for a, b in pairs]
    assert len(set(m.resolve(ids).tolist())) == 3


def test_templates_made_before_values_were_known_merge_later() -> None:
    m = TemplateMiner()
    users = ("cyrus", "news", "test", "root")
    opened = [m.learn(f"session opened for user {u} by (uid=0)").template_id for u in users[:3]]
    assert len(set(opened)) == 3  # three word values: not yet a variable
    for u in users:
        m.learn(f"session closed for user {u}")
    final = m.resolve(opened)
    assert len(set(final.tolist())) == 1
    assert m.template(int(final[0])) == "session opened for user <*> by (uid=<*>)"
    assert any(e["kind"] == "merged" and e["into"] == int(final[0]) for e in m.history())


def test_variables_stretch_over_values_of_other_token_counts() -> None:
    m = TemplateMiner()
    a = m.learn("en0: BSSID changed to 5c:50:15:4c:18:13").template_id
    r = m.learn("en0: BSSID changed to 5c:a0:15:4c:18:ed")
    assert (r.template_id, r.change) == (a, "none")
    s = m.learn("en0: Supported channels 1 2 3 4 5 6").template_id
    assert m.learn("en0: Supported channels 1 2 3 36 40 44 48 52").template_id == s
    assert m.match("en0: Supported channels 7 8 9 10 11 12 13 14 15") is not None
    # a variable does not take in plain words beside its value
    assert m.learn("en0: BSSID changed to 5c:50:15:4c:18:13 and back").template_id != a


def test_dotted_names_under_one_namespace_are_not_event_names() -> None:
    m = TemplateMiner()
    tail = ": job told me to run; ignoring."
    jobs = ("com.acme.heartbeat", "com.acme.sync.daily", "com.acme.update", "com.acme.harvest")
    jobs += ("com.acme.backup",)
    ids = m.resolve([m.learn(j + tail).template_id for j in jobs])
    assert len(set(ids.tolist())) == 1
    leading = [m.learn(w + " startup succeeded").template_id for w in ("cupsd", "sshd", "xfs")]
    assert len(set(m.resolve(leading).tolist())) == 3


def test_a_list_of_masked_values_stretches_one_variable() -> None:
    m = TemplateMiner()
    a = m.learn("ask 10.0.0.1:50010 to delete blk_-1").template_id
    assert m.learn("ask 10.0.0.2:50010 to delete blk_-1 blk_2 blk_3 blk_-4").template_id == a
    assert m.learn("ask 10.0.0.2:50010 to delete blk_-1 and more").template_id != a


def test_a_stretched_template_is_checked_before_its_masked_text_is_reused() -> None:
    m = TemplateMiner()
    a = m.learn("open 5: done").template_id
    assert m.learn("open http://a: done").template_id == a  # the URL took the ":"
    lines = ["open http://b done", "open http://c: done"]
    ids = [m.learn(x).template_id for x in lines]
    assert ids[0] != a  # same masked text, but the template's ":" is not in the line
    for line, tid in zip(lines, ids, strict=True):
        assert template_regex(tokenize(m.template(tid))).fullmatch(line) is not None


def test_words_inside_a_compound_value_are_pieces_of_it() -> None:
    m = TemplateMiner()
    a = m.learn("skip file [2017-07-03_13,48,39.362458]-CCIOReporter-002.xml, ok").template_id
    r = m.learn("skip file [2017-07-03_16,05,51.031703]-AirPortBrcm4360_Logs-003.txt, ok")
    assert (r.template_id, r.template) == (a, "skip file [<*>, ok")
    assert r.params == ["2017-07-03_16,05,51.031703]-AirPortBrcm4360_Logs-003.txt"]
    # the chunk's head stays, and a word beside a single value is a word of its own
    b = m.learn("capture reason = AuthFail:sts:5_rsn:0").template
    assert b == "capture reason = AuthFail:sts:<*>"
    assert m.learn("capture reason = AssocFail:sts:5_rsn:0").template != b
    c = m.learn("interrupt caused by icbi.........0").template_id
    assert m.learn("interrupt caused by dcbf.........0").template_id != c


def test_state_keeps_the_pending_evidence_of_slots() -> None:
    m = TemplateMiner()
    for u in ("cyrus", "news", "test"):
        m.learn(f"session opened for user {u} by (uid=0)")
    back = TemplateMiner.from_state(ModelState.from_bytes(m.to_state().to_bytes()))
    for miner in (m, back):
        for u in ("cyrus", "news", "test"):
            miner.learn(f"session closed for user {u}")
    assert back.templates() == m.templates()
    assert len(m.templates()) == 2


def test_one_key_with_values_of_different_positions_does_not_raise() -> None:
    m = TemplateMiner()
    lines = ["p q r", "p s t"] + [f"p 10.0.0.{i} {w}" for i, w in enumerate("uvwxyz")]
    ids = m.resolve([m.learn(x).template_id for x in lines])
    for line, tid in zip(lines, ids.tolist(), strict=True):
        assert template_regex(tokenize(m.template(tid))).fullmatch(line) is not None
