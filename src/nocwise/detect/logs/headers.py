"""Header parsing: split a raw log line into header fields and the message content.

Kept apart from templating: the miner only ever sees ``content``. Parsers exist for RFC 5424
and RFC 3164 syslog, Cisco/Juniper-style router messages (``%FAC-SEV-MNEMONIC:``), Log4j-style
lines (``date time LEVEL [thread] logger: message``) and any Loghub ``log_format`` string
(``<Date> <Time> <Level> <Component>: <Content>``). :class:`AutoHeaderParser` tries them in
order and falls back to the whole line as content, so no line is ever dropped.

>>> p = LogFormatParser("<Date> <Time> <Level> <Component>: <Content>")
>>> h = p.parse("17/06/09 20:10:40 INFO executor.Executor: Running task 0.0")
>>> h.fields["Level"], h.content
('INFO', 'Running task 0.0')
>>> AutoHeaderParser().parse("<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47 - 'su root' failed").fields["app"]
'su'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "AutoHeaderParser",
    "Header",
    "HeaderParser",
    "Log4jParser",
    "LogFormatParser",
    "Rfc3164Parser",
    "Rfc5424Parser",
    "RouterParser",
]


@dataclass(frozen=True, slots=True)
class Header:
    """Header fields (as found, strings) and the message content; ``format`` names the parser."""

    content: str
    fields: dict[str, str] = field(default_factory=dict)
    format: str = "raw"


class HeaderParser(Protocol):
    """Turns a raw line into a :class:`Header`, or None when the line is not in its format."""

    name: str

    def parse(self, line: str) -> Header | None: ...


class _RegexParser:
    """A parser that is one anchored regex with named groups, one of them ``content``."""

    name = "regex"
    _regex: re.Pattern[str]

    def parse(self, line: str) -> Header | None:
        m = self._regex.match(line.strip("\r\n"))
        if m is None:
            return None
        groups = {k: v for k, v in m.groupdict().items() if v is not None}
        content = groups.pop("content", "")
        return Header(content, groups, self.name)


class LogFormatParser(_RegexParser):
    """Loghub/logparser ``log_format``: ``<Field>`` is a field, the text between is a regex.

    Runs of spaces match ``\\s+``; the line is stripped first; ``<Content>`` is the message.
    """

    name = "log_format"

    def __init__(self, log_format: str) -> None:
        self.log_format = log_format
        parts = re.split(r"(<[^<>]+>)", log_format)
        regex = ""
        for part in parts:
            if part.startswith("<") and part.endswith(">") and len(part) > 2:
                name = part[1:-1]
                group = "content" if name == "Content" else name
                regex += f"(?P<{group}>.*?)"
            else:
                regex += re.sub(" +", r"\\s+", part)
        self._regex = re.compile("^" + regex + "$", re.DOTALL)

    def parse(self, line: str) -> Header | None:
        return super().parse(line.strip())


class Rfc5424Parser(_RegexParser):
    """RFC 5424: ``<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`` (``-`` for absent)."""

    name = "rfc5424"
    _regex = re.compile(
        r"^<(?P<pri>\d{1,3})>(?P<version>\d{1,2}) (?P<timestamp>\S+) (?P<host>\S+) (?P<app>\S+)"
        r" (?P<procid>\S+) (?P<msgid>\S+) (?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (?P<content>.*))?$",
        re.DOTALL,
    )


class Rfc3164Parser(_RegexParser):
    """RFC 3164 (BSD syslog): ``[<PRI>]Mmm dd hh:mm:ss HOST TAG[PID]: MSG``."""

    name = "rfc3164"
    _regex = re.compile(
        r"^(?:<(?P<pri>\d{1,3})>)?(?P<timestamp>[A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}:\d{2})"
        r" (?P<host>\S+) (?P<app>[^\s:\[]+)(?:\[(?P<procid>[^\]]*)\])?: ?(?P<content>.*)$",
        re.DOTALL,
    )


class RouterParser(_RegexParser):
    """Cisco IOS/NX-OS and similar: ``[seq:] [*]timestamp: %FAC-SEV-MNEMONIC: message``."""

    name = "router"
    _regex = re.compile(
        r"^(?:(?P<seq>\d+): )?(?:[*.]?(?P<timestamp>[^%]*?): )?"
        r"%(?P<facility>[A-Z0-9_\-]+)-(?P<severity>[0-7])-(?P<mnemonic>[A-Z0-9_\-]+): ?"
        r"(?P<content>.*)$",
        re.DOTALL,
    )


class Log4jParser(_RegexParser):
    """Log4j/Logback defaults: ``date time [thread] LEVEL logger - msg`` or ``date time LEVEL ...``."""

    name = "log4j"
    _regex = re.compile(
        r"^(?P<timestamp>\d{2,4}[-/]\d{2}[-/]\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?)\s+"
        r"(?:\[(?P<thread>[^\]]*)\]\s+)?(?P<level>TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL)\s+"
        r"(?:\[(?P<thread2>[^\]]*)\]\s+)?(?P<logger>[\w.$]+)(?:\s*[:-]\s+|:\s*)(?P<content>.*)$",
        re.DOTALL,
    )

    def parse(self, line: str) -> Header | None:
        header = super().parse(line)
        if header is not None and "thread2" in header.fields:
            header.fields["thread"] = header.fields.pop("thread2")
        return header


class AutoHeaderParser:
    """Tries each parser in order; a line none of them knows is all content."""

    name = "auto"

    def __init__(self, parsers: tuple[HeaderParser, ...] | None = None) -> None:
        self.parsers: tuple[HeaderParser, ...] = parsers or (
            Rfc5424Parser(),
            RouterParser(),
            Rfc3164Parser(),
            Log4jParser(),
        )

    def parse(self, line: str) -> Header:
        for parser in self.parsers:
            header = parser.parse(line)
            if header is not None:
                return header
        return Header(line.strip("\r\n"))
