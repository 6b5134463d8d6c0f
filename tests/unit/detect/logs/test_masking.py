"""Masking rules: telco and IT tokens, rule order, idempotence and batch equivalence."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nocwise.detect.logs.masking import DEFAULT_RULES, PLACEHOLDER_RE, Masker, MaskRule

CASES = [
    ("from 10.1.2.3 port 22", "from <IP> port <NUM>"),
    ("route 10.0.0.0/8 via 192.168.1.1:179", "route <IP> via <IP>"),
    ("peer /10.250.19.102:50010 up", "peer <IP> up"),
    ("nbr fe80::1%eth0 and 2001:db8::/32", "nbr <IP> and <IP>"),
    ("mac aa:bb:cc:dd:ee:ff and 0011.2233.4455", "mac <MAC> and <MAC>"),
    ("Interface GigabitEthernet0/0/1 down", "Interface <IF> down"),
    ("ifd xe-0/0/0.0 and port 1/1/c1/1", "ifd <IF> and port <IF>"),
    ("Te1/0/24 flap", "<IF> flap"),
    ("imsi-208930000000001 attach", "imsi-<IMSI> attach"),
    ("IMEI:490154203237518 seen", "IMEI:<IMEI> seen"),
    ("msisdn=+33612345678 ok", "msisdn=<MSISDN> ok"),
    ("cell 1234 on eNB-4711", "cell <CELL> on <NODE>"),
    ("vm 70c1714b-c11b-4c88-b300-239afe1f5ff8 up", "vm <UUID> up"),
    ("at 0x00e462c0 iar 001064fc", "at <HEX> iar <HEX>"),
    ("GET http://a.b/c?d=1 done", "GET <URL> done"),
    ("open /var/log/messages failed", "open <PATH> failed"),
    ("spec /ws/* and rack /default-rack", "spec <PATH> and rack <PATH>"),
    ("core C:\\Windows\\cbscore.dll loaded", "core <PATH> loaded"),
    ("enabled: true, next = NULL", "enabled: <BOOL>, next = <BOOL>"),
    ("server msra-sa-41/10.190.173.170:8030 up", "server <IP> up"),
    ("at 2024-05-01T10:11:12.5Z and 10:11:12", "at <TS> and <TIME>"),
    ("at Sun Jul 24 02:38:22 2005 ok", "at <TS> ok"),
    ("took 12ms, 5.2 KB, 40%", "took <SIZE>, <SIZE>, <SIZE>"),
    ("host node1.example.com is up", "host <HOST> is up"),
    ("block blk_-1608999687919862906 ok", "block <ID> ok"),
    ("ssh2 HTTP/1.1 jk2_init() core.114", "ssh2 HTTP/1.1 jk2_init() core.<NUM>"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_default_rules_mask_telco_and_it_tokens(text: str, expected: str) -> None:
    assert Masker().mask(text) == expected


def test_rules_are_ordered_first_match_wins() -> None:
    number_first = Masker([MaskRule("num", r"\d+"), MaskRule("ip", r"\d+\.\d+\.\d+\.\d+")])
    ip_first = Masker([MaskRule("ip", r"\d+\.\d+\.\d+\.\d+"), MaskRule("num", r"\d+")])
    assert number_first.mask("1.2.3.4") == "<NUM>.<NUM>.<NUM>.<NUM>"
    assert ip_first.mask("1.2.3.4") == "<IP>"


def test_rules_with_their_own_groups_map_to_the_right_placeholder() -> None:
    m = Masker([MaskRule("pair", r"(a)(b)"), MaskRule("num", r"(\d)+", "<N>")])
    assert m.mask("ab 12") == "<PAIR> <N>"
    assert [s[0] for s in m.spans("ab 12")] == ["pair", "num"]


def test_a_single_placeholder_can_replace_every_type() -> None:
    assert Masker(placeholder="<*>").mask("from 10.1.2.3 port 22") == "from <*> port <*>"


def test_no_rules_leaves_text_alone() -> None:
    assert Masker([]).mask("x 1") == "x 1"
    assert Masker([]).mask_many(["a 1"]) == ["a 1"]


def test_mask_many_equals_mask_even_with_line_breaks_inside() -> None:
    m = Masker()
    lines = ["a 1", "b\n2", "", "c 10.0.0.1"]
    assert m.mask_many(lines) == [m.mask(x) for x in lines]
    assert m.mask_many([]) == []


def test_spans_give_typed_parameters() -> None:
    assert Masker().spans("from 10.1.2.3 port 22") == [("ip", 5, 13), ("num", 19, 21)]


def test_default_placeholders_look_like_placeholders() -> None:
    assert all(PLACEHOLDER_RE.fullmatch(r.token) for r in DEFAULT_RULES)


_LOGGY = st.text(
    alphabet=st.sampled_from(list("0123456789abcdefABCDEF:./-_=x ,()[]<>*%+GgiEt\n\\CnulTrs")),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=60), _LOGGY))
@example("/0%0")
def test_masking_is_idempotent(text: str) -> None:
    m = Masker()
    once = m.mask(text)
    assert m.mask(once) == once


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=30), _LOGGY), max_size=8))
def test_mask_many_matches_mask(lines: list[str]) -> None:
    m = Masker()
    assert m.mask_many(lines) == [m.mask(x) for x in lines]
