"""Alarm text templates, matchers and key functions."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nocwise.correlate.keys import key_function
from nocwise.correlate.matchers import Matcher
from nocwise.correlate.synthetic import raise_alarm
from nocwise.correlate.text import TemplateCache, jaccard, template_of, tokens_of


@given(st.text(max_size=200))
def test_templates_have_no_digits_and_are_stable(text: str) -> None:
    t = template_of(text)
    assert not any(c in "0123456789" for c in t)
    assert template_of(t) == t


# the mask as it was before the lookahead that lets the engine skip positions quickly
_PLAIN_MASK = re.compile(
    r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"
    r"|\b(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}\b"
    r"|\b0x[0-9a-f]+\b|\b[0-9a-f]{8,}\b"
    r"|\d+"
)
_PIECES = st.sampled_from(
    [
        "10.0.0.7",
        "10.0.0.7:830",
        "aa:bb:cc:dd:ee:0f",
        "0a-1b-2c-3d-4e-5f",
        "0x1f2e",
        "deadbeef01",
        "cafe",
        "eth0/1",
        "٣٤",
        "x12y",
        " ",
        "/",
        ".",
        ":",
        "-",
        "_",
        "Link",
        "Σ",
        "é9",
        "<*>",
    ]
)


@given(st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=12))
def test_the_mask_matches_as_without_the_lookahead(parts: list[str]) -> None:
    text = "".join(parts).lower()
    assert template_of(text) == _PLAIN_MASK.sub("<*>", text)


def test_the_cache_shares_one_token_set_per_template() -> None:
    cache = TemplateCache()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    a = raise_alarm("A1", "s1/cell0", "linkDown", t0, text="linkDown unit 31")
    b = raise_alarm("A2", "s2/cell0", "linkDown", t0, text="linkDown unit 32")
    (ta, ka), (tb, kb) = cache(a), cache(b)
    assert ta == tb
    assert ka is kb
    assert ka == tokens_of(ta)
    assert "unit" in ka


def test_numbers_addresses_and_ids_are_masked_alike() -> None:
    a = template_of("BGP peer 10.0.0.1 down, session 0x1f2e, 3 retries")
    b = template_of("BGP peer 192.168.7.254 down, session 0xdead, 12 retries")
    assert a == b
    assert jaccard(tokens_of(a), tokens_of(b)) == 1.0
    assert jaccard(frozenset(), tokens_of(a)) == 0.0


@given(
    st.frozensets(st.text(max_size=3), max_size=8), st.frozensets(st.text(max_size=3), max_size=8)
)
def test_jaccard_is_the_shared_share_of_the_union(a: frozenset[str], b: frozenset[str]) -> None:
    want = len(a & b) / len(a | b) if a and b else 0.0
    assert jaccard(a, b) == want


@pytest.mark.parametrize(
    ("op", "value", "hit"),
    [
        pytest.param("=", "s1/csr", True, id="equal"),
        pytest.param("!=", "s1/csr", False, id="not-equal"),
        pytest.param("=~", "s1/.*", True, id="regex"),
        pytest.param("=~", "s1", False, id="regex-is-anchored"),
        pytest.param("!~", "s2/.*", True, id="not-regex"),
    ],
)
def test_matchers_follow_alertmanager_semantics(
    t0: datetime, op: str, value: str, hit: bool
) -> None:
    m = Matcher.model_validate({"name": "managed_object", "op": op, "value": value})
    assert m.matches(raise_alarm("a", "s1/csr", "linkDown", t0)) is hit


def test_matchers_read_labels(t0: datetime) -> None:
    from dataclasses import replace

    a = replace(raise_alarm("a", "s1/csr", "linkDown", t0), labels={"vendor": "acme"})
    assert Matcher(name="labels.vendor", value="acme").matches(a)
    assert not Matcher(name="labels.missing", value="x").matches(a)


def test_key_functions_read_fields_labels_and_info(t0: datetime) -> None:
    from dataclasses import replace

    a = replace(
        raise_alarm("a", "s1/csr", "linkDown", t0), labels={"l": "1"}, additional_info={"i": "2"}
    )
    assert (
        key_function(["probable_cause", "labels.l", "additional_info.i"])(a) == "linkDown\x1f1\x1f2"
    )
    assert key_function(["fingerprint"])(a) == a.fingerprint


def test_an_invalid_regex_is_refused_at_construction() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="invalid regex"):
        Matcher(name="managed_object", op="=~", value="s1/(")


@given(st.text(max_size=30), st.sampled_from(["=", "!=", "=~", "!~"]), st.text(max_size=30))
def test_matchers_either_refuse_or_answer(value: str, op: str, field_value: str) -> None:
    from dataclasses import replace

    from pydantic import ValidationError

    from nocwise.correlate.synthetic import raise_alarm as mk

    try:
        m = Matcher.model_validate({"name": "labels.x", "op": op, "value": value})
    except ValidationError:
        return
    a = replace(mk("a", "e", "c", datetime(2026, 1, 1, tzinfo=UTC)), labels={"x": field_value})
    assert isinstance(m.matches(a), bool)


@given(st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=12))
def test_the_cache_masks_word_by_word_exactly_as_the_whole_text(parts: list[str]) -> None:
    cache = TemplateCache(max_size=4)  # small: the word cache is also cleared on the way
    text = "".join(parts)
    assert cache.template(text) == template_of(text)
    assert cache.template(text.upper()) == template_of(text.upper())
