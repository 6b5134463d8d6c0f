"""Templates: the token view of a masked message, and what a match returns.

A message is cut into tokens that keep every character: whitespace runs, single delimiters
(``= : , ; ( ) [ ] { } " ' |``), placeholders (``<*>``) and the words between them. A template is
the same token tuple with ``<*>`` at its variable positions, so joining its tokens gives the
template text and a line's parameters are read back with one compiled regex.

>>> tokenize("user=<*> port 22")
('user', '=', '<*>', ' ', 'port', ' ', '22')
>>> template_regex(("user", "=", "<*>")).fullmatch("user=root").groups()
('root',)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["WILDCARD", "Change", "MatchResult", "is_word", "template_regex", "tokenize"]

WILDCARD = "<*>"
_DELIMS = "=:,;()[]{}\"'|"
_TOKEN_RE = re.compile(r"\s+|<\*>|[=:,;()\[\]{}\"'|]|[^\s=:,;()\[\]{}\"'|<]+|<")

Change = Literal["none", "created", "updated", "merged"]
"""What learning a line did: matched as is, made a template, widened one, or merged several."""


def tokenize(masked: str) -> tuple[str, ...]:
    """Tokens of a masked message; ``"".join(tokenize(s)) == s`` always holds."""
    return tuple(_TOKEN_RE.findall(masked))


def is_word(token: str) -> bool:
    """True for tokens that carry meaning (not whitespace nor a single delimiter)."""
    return not (token.isspace() or (len(token) == 1 and token in _DELIMS))


def template_regex(tokens: tuple[str, ...]) -> re.Pattern[str]:
    """A regex whose groups are the parameters of a raw line of this template."""
    parts: list[str] = []
    for tok in tokens:
        if tok == WILDCARD:
            parts.append("(.*?)")
        elif tok.isspace():
            parts.append(r"\s+")
        else:
            parts.append("(.*?)".join(re.escape(p) for p in tok.split(WILDCARD)))
    return re.compile("".join(parts), re.DOTALL)


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The template a line belongs to, its parameters, and what learning it changed."""

    template_id: int
    template: str
    params: list[str] = field(default_factory=list)
    change: Change = "none"
