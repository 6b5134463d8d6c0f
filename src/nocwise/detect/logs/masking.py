"""Masking: replace the variable tokens of a log message (addresses, ids, numbers) by placeholders.

One ordered list of rules serves every source: the first rule that matches at a position wins,
and all rules run as a single compiled alternation, so a message is scanned once. Rules know the
tokens of telecom and IT logs: IPv4/IPv6 with prefixes and ports, MAC addresses, interface names
(``GigabitEthernet0/0/1``, ``xe-0/0/0.0``, ``1/1/c1/1``), IMSI/IMEI/MSISDN, cell and node ids,
UUIDs, hex, URLs, paths, timestamps inside messages and numbers with units.

Placeholders are ``<NAME>`` (upper case), and no rule matches inside a placeholder, so masking is
idempotent: ``mask(mask(x)) == mask(x)``.

>>> m = Masker()
>>> m.mask("Accepted password for root from 10.0.0.7 port 22 ssh2")
'Accepted password for root from <IP> port <NUM> ssh2'
>>> m.mask("Interface GigabitEthernet0/0/1, changed state to down")
'Interface <IF>, changed state to down'
>>> m.mask("attach imsi=208930000000001 cell 0x1f2e")
'attach imsi=<IMSI> cell <CELL>'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["DEFAULT_RULES", "PLACEHOLDER_RE", "MaskRule", "Masker"]

PLACEHOLDER_RE = re.compile(r"<[A-Z][A-Z0-9_]*>|<\*>")
"""What a placeholder looks like (typed ``<IP>`` or the generic ``<*>``)."""

_E = r"(?![A-Za-z0-9<])"
_HEX4 = r"[0-9A-Fa-f]{1,4}"

STARTS: dict[str, str] = {
    "digit": "0-9",
    "hexletter": "A-Fa-f",
    "letter": "G-Zg-z",
    "punct": r"!-/:-@\[-`{-~",
}
"""Classes of a rule's first character; the masker only tries a rule where its class is."""


@dataclass(frozen=True, slots=True)
class MaskRule:
    """A named pattern and the placeholder that replaces what it matches.

    Patterns should use non-capturing groups; they must not match inside a placeholder
    (``<...>``) nor across a line break. A ``boundary`` rule is only tried where the previous
    character is not an ASCII letter, digit or ``>`` (one shared check, far faster than each rule
    looking behind); a rule that may start right after a letter or digit sets
    ``boundary=False``. ``starts`` names the classes of its first character (:data:`STARTS`);
    a wrong class makes the rule miss, so leave all four when unsure.
    """

    name: str
    pattern: str
    placeholder: str = ""
    boundary: bool = True
    starts: tuple[str, ...] = ("digit", "hexletter", "letter", "punct")

    @property
    def token(self) -> str:
        """The placeholder text (``<NAME>`` unless given)."""
        return self.placeholder or f"<{self.name.upper()}>"


_D, _H, _L, _P = "digit", "hexletter", "letter", "punct"

DEFAULT_RULES: tuple[MaskRule, ...] = (
    MaskRule("url", r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>]+", starts=(_H, _L)),
    MaskRule(
        "uuid",
        r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}" + _E,
        starts=(_D, _H),
    ),
    MaskRule(
        "ts",
        r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?" + _E,
        starts=(_D,),
    ),
    MaskRule(
        "ts",
        r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),? )?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov"
        r"|Dec) {1,2}\d{1,2},? (?:\d{4} )?\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?: \d{4})?" + _E,
        starts=(_H, _L),
    ),
    MaskRule("time", r"\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?" + _E, starts=(_D,)),
    MaskRule("mac", r"(?:[0-9A-Fa-f]{2}[:\-]){5}[0-9A-Fa-f]{2}" + _E, starts=(_D, _H)),
    MaskRule("mac", r"[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}" + _E, starts=(_D, _H)),
    MaskRule(
        "ip",
        r"(?:(?<![^\s=(\[,])/|[A-Za-z][\w.\-]*/)?(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?::\d{1,5})?(?![A-Za-z0-9.<])",
        starts=(_D, _H, _L, _P),
    ),
    MaskRule(
        "ip",
        r"(?<!:)(?:"
        + rf"(?:{_HEX4}:){{7}}{_HEX4}"
        + rf"|(?:{_HEX4}:){{1,6}}:(?:{_HEX4}(?::{_HEX4}){{0,5}})?"
        + rf"|::(?:{_HEX4}(?::{_HEX4}){{0,6}})"
        + r")(?:%\w+)?(?:/\d{1,3})?(?![A-Za-z0-9:<])",
        starts=(_D, _H, _P),
    ),
    MaskRule(
        "if",
        r"(?:GigabitEthernet|TenGigabitEthernet|TwentyFiveGigE|FortyGigabitEthernet"
        r"|HundredGigE|TenGigE|FastEthernet|Ethernet|Bundle-Ether|Port-channel|Serial|Tunnel"
        r"|Loopback|Vlan|Gi|Te|Fa|Hu|Eth|Po)\d+(?:/\d+)*(?:[.:]\d+)?" + _E,
        starts=(_H, _L),
    ),
    MaskRule(
        "if",
        r"(?:ge|xe|et|ae|fe|so|gr|lt|irb|reth)-?\d+(?:/\d+)+(?:\.\d+)?" + _E,
        starts=(_H, _L),
    ),
    MaskRule("if", r"\d+/\d+/(?:c\d+/)?\d+(?:\.\d+)?" + _E, starts=(_D,)),
    MaskRule("imsi", r"(?i:(?<=imsi[-=: ]))\d{6,15}" + _E, starts=(_D,)),
    MaskRule("imei", r"(?i:(?<=imei[-=: ]))\d{14,16}" + _E, starts=(_D,)),
    MaskRule("msisdn", r"(?i:(?<=msisdn[-=: ]))\+?\d{6,15}" + _E, starts=(_D, _P)),
    MaskRule(
        "cell",
        r"(?i:(?<=cell[-=: _])|(?<=cellid[-=: ])|(?<=\b[en]ci[-=: ])|(?<=cgi[-=: ]))"
        r"(?:\d+(?:-\d+)*|0x[0-9A-Fa-f]+)" + _E,
        starts=(_D,),
    ),
    MaskRule(
        "node",
        r"(?:eNB|gNB|eNodeB|gNodeB|NodeB|RNC|BSC|BTS|MME|AMF|SMF|UPF|SGW|PGW)[-_]?\d+" + _E,
        starts=(_H, _L),
    ),
    MaskRule(
        "host",
        r"(?<![\w.\-])(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+"
        r"(?:com|net|org|edu|gov|mil|int|info|biz|io|cloud|local|lan|internal|[a-z]{2})"
        r"(?![\w.\-<])",
        starts=(_D, _H, _L),
    ),
    MaskRule("hex", r"0[xX][0-9A-Fa-f]+" + _E, starts=(_D,)),
    MaskRule(
        "path",
        r"(?<![\w.<>/\-])(?:~|\.{1,2})?(?:/+[\w.\-@+~%*]+){2,}/?(?:\?[^\s\"'<>]*)?",
        starts=(_P,),
    ),
    MaskRule(
        "path",
        r"(?<![^\s=(\[,'\"])[A-Za-z]:\\[^\s,;\"'<>|]*|(?<![^\s=(\[,'\"])/[\w.\-@+~%*]+/?"
        r"(?=[\s,;)\]'\"]|$)",
        starts=(_H, _L, _P),
    ),
    MaskRule(
        "bool", r"(?:true|false|True|False|TRUE|FALSE|null|NULL|None|nil)" + _E, starts=(_H, _L)
    ),
    MaskRule(
        "id",
        r"(?<![\w.\-/])[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*?_[-+]?\d\w*(?![\w\-<])",
        starts=(_H, _L),
    ),
    MaskRule(
        "hex",
        r"(?=[0-9A-Fa-f]*[0-9])(?=[0-9A-Fa-f]*[A-Fa-f])[0-9A-Fa-f]{8,}" + _E,
        starts=(_D, _H),
    ),
    MaskRule("size", r"\d+(?:\.\d+)? (?:[KMGTP]i?B|B)" + _E, starts=(_D,)),
    MaskRule(
        "size",
        r"\d+(?:\.\d+)?(?:ms|us|µs|ns|s|sec|secs|min|h|[KMGT]i?B|kB|B|[KMG]?bps|dBm|dB"
        r"|[KMG]?Hz|%)" + _E,
        starts=(_D,),
    ),
    MaskRule("num", r"(?<![A-Za-z0-9/])(?<!\d\.)[-+]?\d+(?:[._:\-]\d+)*" + _E, starts=(_D, _P)),
)
"""The one rule list nocwise uses for every source (order matters: first match wins)."""


class Masker:
    """Applies an ordered rule list in one regex pass.

    At one position the first rule that matches wins; boundary rules are tried before the
    others (``boundary=False``), which are tried everywhere.

    Weak at: variables with no lexical shape (user names, host names without digits); those are
    left to the template miner, which learns them from position.
    """

    __slots__ = ("_names", "_regex", "_rules", "_tokens")

    def __init__(self, rules: Sequence[MaskRule] = DEFAULT_RULES, *, placeholder: str = "") -> None:
        """``placeholder`` replaces every typed placeholder (e.g. ``"<*>"``) when given."""
        self._rules = tuple(rules)
        # Boundary rules share one guard that consumes the character before the match (a
        # sentinel newline stands before the text): a pattern that starts with a character
        # class lets the engine skip through words in C. Then one lookahead per first-character
        # class picks the few rules that can start there, in their given order.
        self._tokens: dict[int, str] = {}
        self._names: dict[int, str] = {}
        index = 1
        branches: list[str] = []
        for cls, chars in STARTS.items():
            alts = []
            for rule in self._rules:
                if rule.boundary and cls in rule.starts:
                    alts.append(f"({rule.pattern})")
                    self._tokens[index] = placeholder or rule.token
                    self._names[index] = rule.name
                    index += 1 + re.compile(rule.pattern).groups
            if alts:
                branches.append(f"(?=[{chars}])(?:{'|'.join(alts)})")
        free = []
        for rule in self._rules:
            if not rule.boundary:
                free.append(f"({rule.pattern})")
                self._tokens[index] = placeholder or rule.token
                self._names[index] = rule.name
                index += 1 + re.compile(rule.pattern).groups
        parts = ([f"[^A-Za-z0-9>](?:{'|'.join(branches)})"] if branches else []) + free
        self._regex = re.compile("|".join(parts)) if parts else None

    @property
    def rules(self) -> tuple[MaskRule, ...]:
        """The rules, in the order they are tried."""
        return self._rules

    def _replace(self, m: re.Match[str]) -> str:
        index = m.lastindex or 0
        token = self._tokens[index]
        return token if m.start(index) == m.start() else m.group()[0] + token

    def mask(self, text: str) -> str:
        """The text with every masked span replaced by its placeholder."""
        if self._regex is None:
            return text
        return self._regex.sub(self._replace, "\n" + text)[1:]

    def mask_many(self, texts: Sequence[str]) -> list[str]:
        """Mask a batch in one regex pass over the joined text (same result as :meth:`mask`)."""
        if self._regex is None or not texts:
            return list(texts)
        joined = "\n".join(texts)
        if joined.count("\n") == len(texts) - 1:
            out = self._regex.sub(self._replace, "\n" + joined)[1:].split("\n")
            if len(out) == len(texts):
                return out
        return [self.mask(t) for t in texts]

    def spans(self, text: str) -> list[tuple[str, int, int]]:
        """``(rule name, start, end)`` of every masked span: the typed parameters of a message."""
        if self._regex is None:
            return []
        names = self._names
        return [
            (names[i], m.start(i) - 1, m.end() - 1)
            for m in self._regex.finditer("\n" + text)
            if (i := m.lastindex or 0)
        ]
