"""The console in a real browser: token sign-in, a live incidents list, an incident page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nocwise.console.data import incident_rows, incident_view, short_time

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from .conftest import Console

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LIVE_TIMEOUT_MS = 30_000


def sign_in(page: Page, console: Console, token: str) -> None:
    page.goto(console.url("/console/login"))
    page.get_by_label("token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def test_a_signed_out_visitor_is_sent_to_the_login_page(page: Page, console: Console) -> None:
    from playwright.sync_api import expect

    page.goto(console.url("/console/"))
    expect(page).to_have_url(re.compile(r"/console/login$"))
    expect(page.get_by_text("Sign in with an API token")).to_be_visible()


def test_a_bad_token_is_rejected_with_a_message(page: Page, console: Console) -> None:
    from playwright.sync_api import expect

    sign_in(page, console, "not-a-token")
    expect(page.get_by_text("unknown or revoked token")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/console/login$"))
    page.goto(console.url("/console/"))
    expect(page).to_have_url(re.compile(r"/console/login$"))


def test_a_token_in_the_link_signs_in_and_an_unknown_incident_says_so(
    page: Page, console: Console
) -> None:
    from playwright.sync_api import expect

    page.goto(console.url(f"/console/login?token={console.tokens['admin']}"))
    expect(page).to_have_url(re.compile(r"/console/$"))
    expect(page.locator("#incidents-table")).to_be_visible()
    page.goto(console.url("/console/incident/INC-unknown"))
    expect(page.get_by_text("no incident INC-unknown")).to_be_visible()


def test_an_incident_appears_live_and_opens_with_its_explanation(
    page: Page, console: Console, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    sign_in(page, console, console.tokens["viewer"])
    expect(page).to_have_url(re.compile(r"/console/$"))
    table = page.locator("#incidents-table")
    expect(table).to_be_visible()
    expect(table.get_by_text("No data available")).to_be_visible()
    assert incident_rows(console.runtime) == []
    page.evaluate("window.nocwiseLoadedOnce = true")  # gone if the page reloads

    played = console.play()  # the fault happens now, after the page has loaded
    rows = table.locator("tbody tr")
    expect(rows.first).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    assert played.result(timeout=60) > 0
    listed = incident_rows(console.runtime)
    assert listed, "the pipeline opened no incident"
    expect(rows).to_have_count(len(listed))
    for r in listed:
        expect(rows.filter(has_text=r["title"])).to_have_count(1)
    assert page.evaluate("window.nocwiseLoadedOnce") is True
    expect(
        page.get_by_text(re.compile(r"^funnel: \d+ events -> \d+ alarms -> \d+ incidents"))
    ).to_be_visible()
    page.screenshot(path=tmp_path / "incidents.png", full_page=True)

    first = listed[0]
    rows.filter(has_text=first["title"]).click()
    expect(page).to_have_url(re.compile(rf"/console/incident/{first['id']}$"))
    view = incident_view(console.runtime, first["id"])
    assert view is not None
    assert view["hypotheses"], "the pipeline ranked no root cause"
    assert view["recommendations"], "the pipeline recommended nothing"
    heading = f"P{view['priority']} · {view['title']}"
    expect(page.get_by_text(heading, exact=True)).to_be_visible()
    expect(page.get_by_text(f"opened {short_time(view['opened'])}", exact=False)).to_be_visible()
    expect(page.get_by_text("Root-cause hypotheses")).to_be_visible()
    for h in view["hypotheses"]:
        text = f"{h['entity_id']} · {h['fault_type']} · {h['probability']:.0%}"
        expect(page.get_by_text(text, exact=True)).to_be_visible()
    expect(page.get_by_text("Recommended remediation")).to_be_visible()
    for r in view["recommendations"]:
        text = f"{r['action']} ({r['confidence']:.0%}, from {r['source']})"
        expect(page.get_by_text(text, exact=True)).to_be_visible()
    members = page.locator("table").last.locator("tbody tr")
    expect(members).to_have_count(len(view["alarm_rows"]))
    for a in view["alarm_rows"]:
        expect(members.filter(has_text=a["entity"]).first).to_be_visible()
    page.screenshot(path=tmp_path / "incident.png", full_page=True)

    page.get_by_role("link", name="nocwise").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    expect(page.locator("#incidents-table tbody tr")).to_have_count(len(listed))
