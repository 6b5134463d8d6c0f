"""Entity mentions: a log line that names a known entity is evidence about that entity too.

A router without power logs nothing; each of its neighbours logs one line that names it ("IS-IS
lost L2 adjacency to csr-0053", "neighbor agg-r001-3"). Router logs name their peers by host or
system name, interface descriptions name the far end, and application logs name the upstream that
failed ("upstream customer-db returned 503"). :class:`MentionIndex` finds which lines of a batch
name which known entity, so that log detection can count the line on that entity as well.

Names are matched as whole tokens, case-insensitively. A token is a run of ASCII letters, digits
and hyphens (the characters of a host name); every other character separates tokens, so an FQDN,
``TO_csr-0053`` or ``csr-0053:Te0/1`` yield the host name. The whole batch is handled at once,
in C: joined, lower-cased and translated (separators to spaces) as bytes, split into tokens and
intersected with the set of known names; most batches name nobody and stop there. Each name found
is then located with ``bytes.find`` of `` name `` and its offsets mapped to lines with one
``searchsorted``. A name of several tokens (``site 0035``) is looked for the same way, with one
space for each separator, when its longest token is in the batch.

What is a name: each entity's id, its name and host-name attributes (:data:`NAME_ATTRIBUTES`),
with an FQDN's first label. A name of letters only (``billing``, ``core``) or shorter than three
characters is a word, not evidence, and is ignored; so is a name two entities share.

Weak at: names written differently from the inventory (``to-csr-0053`` is one token, a loopback
address instead of the name; addresses are not indexed, they are reused across VRFs and labs);
names with non-ASCII characters (not indexed); a multi-token name written with other separators
than in the inventory (``site, 0035``).

>>> from nocwise.model.topology import Domain, Entity
>>> idx = MentionIndex.of([Entity("csr-0053", "csr", Domain.TRANSPORT),
...                        Entity("agg-1", "agg_router", Domain.TRANSPORT, "AGG-R001-3")])
>>> rows, ids = idx.find(["lost adjacency to CSR-0053", "ntp ok", "neighbor agg-r001-3 down"])
>>> rows.tolist(), ids
([0, 2], ['csr-0053', 'agg-1'])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from nocwise.model.topology import Entity

IntArray = npt.NDArray[np.int64]

#: Entity attributes that hold another name a log line may use for it.
NAME_ATTRIBUTES = ("hostname", "host_name", "sys_name", "sysName", "fqdn")
_MIN_CHARS = 3
_LINE_END = 0  # joins the batch's lines (NUL inside a line is read as a separator)
_KEEP = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-")
_TABLE = bytes(
    (c + 32 if 65 <= c <= 90 else c) if (c + 32 if 65 <= c <= 90 else c) in _KEEP else 32
    for c in range(256)
)


def _is_name(form: str) -> bool:
    """Long enough, ASCII, and not a plain word: a digit or a hyphen in it."""
    return len(form) >= _MIN_CHARS and form.isascii() and not form.replace(" ", "").isalpha()


def name_forms(entity: Entity) -> set[str]:
    """The lower-cased names a log line may use for ``entity``."""
    raw = [entity.id, entity.name, *(entity.attributes.get(k, "") for k in NAME_ATTRIBUTES)]
    forms = {f.strip().lower() for f in raw if f.strip()}
    forms |= {f.split(".", 1)[0] for f in forms if "." in f}
    return {f for f in forms if _is_name(f)}


def _tokens_of(form: str) -> bytes:
    """A name as it reads in translated text: its tokens joined by one space each."""
    return form.encode("ascii").translate(_TABLE).strip()


class MentionIndex:
    """Known entity names -> entity id, and the batch lookup of which lines name whom."""

    def __init__(self, names: dict[str, str] | None = None) -> None:
        self.names: dict[bytes, str] = {}
        for form, entity in (names or {}).items():
            if form.isascii() and _tokens_of(form):
                self.names[_tokens_of(form)] = entity
        self.tokens = frozenset(n for n in self.names if b" " not in n)
        self.phrases: dict[bytes, list[bytes]] = {}  # longest token -> names of several tokens
        for n in self.names:
            if b" " in n:
                self.phrases.setdefault(max(n.split(), key=len), []).append(n)

    @classmethod
    def of(cls, entities: Iterable[Entity]) -> MentionIndex:
        """The index of every unambiguous name of ``entities``."""
        owner: dict[str, str] = {}
        shared: set[str] = set()
        for e in entities:
            for form in name_forms(e):
                if owner.setdefault(form, e.id) != e.id:
                    shared.add(form)
        return cls({n: e for n, e in owner.items() if n not in shared})

    def __len__(self) -> int:
        return len(self.names)

    def entity_of(self, name: str) -> str | None:
        """The entity id a name stands for, if it is a known name."""
        form = name.strip().lower()
        return self.names.get(_tokens_of(form)) if form.isascii() else None

    def find(self, lines: Sequence[str]) -> tuple[IntArray, list[str]]:
        """``(rows, entity_ids)``: line ``rows[k]`` names entity ``entity_ids[k]``; each pair
        once, in line order."""
        if not lines or not self.names:
            return np.zeros(0, np.int64), []
        raw = "\0".join(lines).encode("utf-8", "replace")
        ends = np.flatnonzero(np.frombuffer(raw, np.uint8) == _LINE_END)
        if ends.size != len(lines) - 1:  # a line holds the joiner: a separator there
            raw = "\0".join(x.replace("\0", " ") for x in lines).encode("utf-8", "replace")
            ends = np.flatnonzero(np.frombuffer(raw, np.uint8) == _LINE_END)
        text = b" " + raw.translate(_TABLE) + b" "  # offsets in ``text`` are one past ``raw``'s
        present = set(text.split())
        hits = list(self.tokens.intersection(present))
        for token in self.phrases.keys() & present:
            hits += self.phrases[token]
        at: list[int] = []
        who: list[str] = []
        for name in hits:
            needle, i = b" " + name + b" ", text.find(b" " + name + b" ")
            while i >= 0:
                at.append(i)
                who.append(self.names[name])
                i = text.find(needle, i + 1)
        if not at:
            return np.zeros(0, np.int64), []
        line = np.searchsorted(ends, np.asarray(at, np.int64), "left")
        pairs = sorted(dict.fromkeys(zip(line.tolist(), who, strict=True)))
        return np.asarray([r for r, _ in pairs], np.int64), [e for _, e in pairs]
