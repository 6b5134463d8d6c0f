"""Alarm text reduced to a template: numbers, addresses and ids masked, tokens kept as a set.

Drain-style masking (``drain3/masking.py``) without the tree: two alarms with the same template
are the same kind of message; otherwise their token sets are compared with Jaccard.
"""

from __future__ import annotations

import re

from nocwise.model import Alarm

# one pass: IPv4[:port] | MAC | hex ids | any run of digits (alternatives tried in this order).
# Every alternative starts on a digit or a-f; the lookahead says so up front, which lets the
# engine skip other positions without trying the four alternatives there (twice as fast, same
# matches).
_MASK = re.compile(
    r"(?=[\da-f])(?:"
    r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"
    r"|\b(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}\b"
    r"|\b0x[0-9a-f]+\b|\b[0-9a-f]{8,}\b"
    r"|\d+"
    r")"
)
_SPLIT = re.compile(r"[^\w<>*]+")


def template_of(text: str) -> str:
    """The masked, lower-cased text.

    >>> template_of("Link eth0/1 down on 10.0.0.7, errors=42")
    'link eth<*>/<*> down on <*>, errors=<*>'
    """
    return _MASK.sub("<*>", text.lower())


def tokens_of(template: str) -> frozenset[str]:
    """The template's words (masks dropped)."""
    return frozenset(w for w in _SPLIT.split(template) if w and w != "<*>")


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b|, 0 for two empty sets (the union's size from the sizes: one set
    built, not two)."""
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


class TemplateCache:
    """Template and tokens per distinct alarm text; bounded by clearing when full.

    Texts that differ only in masked numbers share a template, so the tokens are kept per
    template too: one token set per kind of message, not per text. A text seen for the first
    time is masked word by word from a cache of masked words: no alternative of the mask
    matches a space, and a space is a word boundary just as the ends of the text are, so
    masking the space-separated words one by one gives ``template_of`` exactly. Alarm texts
    are mostly the same few words (causes, entity names, units) around fresh numbers, so a
    new text costs a few dictionary look-ups instead of a regular-expression pass.
    """

    def __init__(self, max_size: int = 200_000) -> None:
        self._cache: dict[tuple[str, str, str], tuple[str, frozenset[str]]] = {}
        self._tokens: dict[str, frozenset[str]] = {}
        self._words: dict[str, str] = {}  # lower-cased word -> masked
        self._max = max_size

    def __call__(self, a: Alarm) -> tuple[str, frozenset[str]]:
        key = (a.probable_cause, a.specific_problem, a.additional_text)
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) >= self._max:
                self._cache.clear()
            t = self.template(" ".join(key))
            toks = self._tokens.get(t)
            if toks is None:
                if len(self._tokens) >= self._max:
                    self._tokens.clear()
                toks = self._tokens[t] = tokens_of(t)
            hit = self._cache[key] = (t, toks)
        return hit

    def template(self, text: str) -> str:
        """``template_of(text)``, word by word through the cache of masked words."""
        words = self._words
        out: list[str] = []
        for w in text.lower().split(" "):
            m = words.get(w)
            if m is None:
                if w.isdecimal():  # one run of digits: masked whole, not worth keeping
                    out.append("<*>")
                    continue
                if len(words) >= self._max:
                    words.clear()
                m = words[w] = _MASK.sub("<*>", w)
            out.append(m)
        return " ".join(out)
