"""Header parsers: syslog, router, Log4j and Loghub log_format strings; never raise."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nocwise.detect.logs.headers import (
    AutoHeaderParser,
    Log4jParser,
    LogFormatParser,
    Rfc3164Parser,
    Rfc5424Parser,
    RouterParser,
)


def test_rfc5424_fields_and_content() -> None:
    h = Rfc5424Parser().parse(
        '<165>1 2003-10-11T22:14:15.003Z host1 evntslog - ID47 [exampleSDID@32473 iut="3"] hello'
    )
    assert h is not None
    assert (h.fields["pri"], h.fields["host"], h.fields["app"], h.fields["msgid"]) == (
        "165",
        "host1",
        "evntslog",
        "ID47",
    )
    assert h.content == "hello"


def test_rfc3164_with_and_without_pid() -> None:
    h = Rfc3164Parser().parse("<13>Oct 11 22:14:15 router1 sshd[123]: Accepted password")
    assert h is not None
    assert (h.fields["app"], h.fields["procid"], h.content) == ("sshd", "123", "Accepted password")
    h2 = Rfc3164Parser().parse("Jun  9 06:06:20 combo kernel: Linux version 2.6.5")
    assert h2 is not None
    assert (h2.fields["app"], h2.content) == ("kernel", "Linux version 2.6.5")


def test_router_message() -> None:
    h = RouterParser().parse("000123: *Mar  1 18:46:11: %LINK-3-UPDOWN: Interface Gi0/1, changed")
    assert h is not None
    assert (h.fields["facility"], h.fields["severity"], h.fields["mnemonic"]) == (
        "LINK",
        "3",
        "UPDOWN",
    )
    assert h.content == "Interface Gi0/1, changed"


def test_log4j_line() -> None:
    h = Log4jParser().parse("2015-10-18 18:01:47,978 INFO [main] org.apache.App: Created it")
    assert h is not None
    assert (h.fields["level"], h.fields["thread"], h.fields["logger"], h.content) == (
        "INFO",
        "main",
        "org.apache.App",
        "Created it",
    )


def test_auto_keeps_unknown_lines_as_content() -> None:
    h = AutoHeaderParser().parse("just a message\r\n")
    assert (h.format, h.content, h.fields) == ("raw", "just a message", {})


def test_log_format_optional_groups() -> None:
    p = LogFormatParser("<Month> <Date> <Time> <Level> <Component>(\\[<PID>\\])?: <Content>")
    h = p.parse("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown")
    assert h is not None
    assert (h.fields["PID"], h.content) == ("19939", "check pass; user unknown")
    assert p.parse("no header here") is None


def test_log_format_reproduces_loghub_content(shared_data: Path) -> None:
    root = shared_data / "loghub2k"
    formats = json.loads((root / "formats.json").read_text())
    for system, spec in formats.items():
        parser = LogFormatParser(spec["log_format"])
        raw = (root / system / f"{system}_2k.log").read_text(encoding="utf-8").splitlines()
        with (root / system / f"{system}_2k.log_structured.csv").open(newline="") as fh:
            truth = [r["Content"] for r in csv.DictReader(fh)]
        got = [h.content if (h := parser.parse(x)) else None for x in raw[:300]]
        assert got == truth[:300], system


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_parsers_never_raise(line: str) -> None:
    h = AutoHeaderParser().parse(line)
    assert isinstance(h.content, str)
    LogFormatParser("<Date> <Time> <Level> <Component>: <Content>").parse(line)


@pytest.mark.parametrize("fmt", ["<Content>", "\\[<Time>\\] \\[<Level>\\] <Content>"])
def test_log_format_without_header_fields(fmt: str) -> None:
    h = LogFormatParser(fmt).parse("[Sun Dec 04 04:47:44 2005] [notice] ok" if "[" in fmt else "x")
    assert h is not None
    assert h.content in {"ok", "x"}
