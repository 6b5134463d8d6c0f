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
FIRST_STEPS = 3  # the twin's first minutes: its fault has raised enough alarms for an incident


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

    page.goto(console.url("/console/login"))
    page.goto(console.url(f"/console/login?token={console.tokens['admin']}"))
    expect(page).to_have_url(re.compile(r"/console/$"))
    expect(page.locator("#incidents-table")).to_be_visible()
    page.go_back()  # the link with the token was replaced in the history, not kept
    expect(page).to_have_url(re.compile(r"/console/login$"))
    page.go_forward()
    expect(page).to_have_url(re.compile(r"/console/$"))
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

    # The fault starts now, after the page has loaded: the first minutes of it open an incident.
    assert console.play(FIRST_STEPS).result(timeout=60) == FIRST_STEPS
    listed = incident_rows(console.runtime)
    assert listed, "the pipeline opened no incident"
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(listed), timeout=LIVE_TIMEOUT_MS)
    for r in listed:
        expect(rows.filter(has_text=r["title"])).to_have_count(1)
    assert page.evaluate("window.nocwiseLoadedOnce") is True
    funnel = page.get_by_text(re.compile(r"^funnel: \d+ events -> \d+ alarms -> \d+ incidents"))
    expect(funnel).to_be_visible()
    page.screenshot(path=tmp_path / "incidents.png", full_page=True)

    first = listed[0]
    rows.filter(has_text=first["title"]).click()
    expect(page).to_have_url(re.compile(rf"/console/incident/{first['id']}$"))
    early = incident_view(console.runtime, first["id"])
    assert early is not None
    members = page.locator("table").last.locator("tbody tr")
    expect(members).to_have_count(len(early["alarm_rows"]))
    page.evaluate("window.nocwiseLoadedOnce = true")

    # The rest of the fault: more alarms join the open incident, and its page follows.
    assert console.play().result(timeout=60) > 0
    view = incident_view(console.runtime, first["id"])
    assert view is not None
    assert len(view["alarm_rows"]) > len(early["alarm_rows"]), "no alarm joined the incident"
    expect(members).to_have_count(len(view["alarm_rows"]), timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("window.nocwiseLoadedOnce") is True
    for a in view["alarm_rows"]:
        expect(members.filter(has_text=a["entity"]).first).to_be_visible()
    heading = f"P{view['priority']} · {view['title']}"
    expect(page.get_by_text(heading, exact=True)).to_be_visible()
    expect(page.get_by_text(f"opened {short_time(view['opened'])}", exact=False)).to_be_visible()
    assert view["hypotheses"], "the pipeline ranked no root cause"
    expect(page.get_by_text("Root-cause hypotheses")).to_be_visible()
    for h in view["hypotheses"]:
        text = f"{h['entity_id']} · {h['fault_type']} · {h['probability']:.0%}"
        expect(page.get_by_text(text, exact=True)).to_be_visible()
    assert view["recommendations"], "the pipeline recommended nothing"
    expect(page.get_by_text("Recommended remediation")).to_be_visible()
    for r in view["recommendations"]:
        text = f"{r['action']} ({r['confidence']:.0%}, from {r['source']})"
        expect(page.get_by_text(text, exact=True)).to_be_visible()
    page.screenshot(path=tmp_path / "incident.png", full_page=True)

    page.get_by_role("link", name="nocwise").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    final = incident_rows(console.runtime)
    expect(table.locator("tbody tr")).to_have_count(len(final))
    for r in final:
        expect(table.locator("tbody tr").filter(has_text=r["title"])).to_have_count(1)


def test_an_operator_splits_an_alarm_off_and_merges_it_back(page: Page, console: Console) -> None:
    from playwright.sync_api import expect

    console.play().result(timeout=60)  # the scenario to its end (a no-op if already played)
    listed = [r for r in incident_rows(console.runtime) if r["state"] != "closed"]
    first = max(listed, key=lambda r: int(r["alarms"]))
    assert int(first["alarms"]) >= 2, "the split needs an incident of two alarms or more"
    sign_in(page, console, console.tokens["operator"])
    expect(page).to_have_url(re.compile(r"/console/$"))
    page.goto(console.url(f"/console/incident/{first['id']}"))
    members = page.locator("#members-table tbody tr")
    expect(members).to_have_count(int(first["alarms"]))
    members.first.locator(".q-checkbox").click()
    page.locator("#split").click()
    expect(page).not_to_have_url(re.compile(rf"/console/incident/{first['id']}$"))
    new_id = page.url.rsplit("/", 1)[-1]
    expect(page.locator("#members-table tbody tr")).to_have_count(1)
    expect(page.get_by_text("operator_split").first).to_be_visible()

    page.goto(console.url(f"/console/incident/{first['id']}"))
    page.get_by_label("incident to merge into this one").fill(new_id)
    page.locator("#merge").click()
    expect(page.locator("#grouping-outcome")).to_have_text(f"merged {new_id} into this incident")
    expect(page.locator("#members-table tbody tr")).to_have_count(int(first["alarms"]))
    actions = [f.action for f in console.runtime.stages.correlator.feedback()]
    assert actions[-2:] == ["split", "merge"]


def test_the_correlation_page_lists_dedup_keys_and_stage_options(
    page: Page, console: Console
) -> None:
    from playwright.sync_api import expect

    sign_in(page, console, console.tokens["viewer"])
    expect(page).to_have_url(re.compile(r"/console/$"))
    page.get_by_role("link", name="correlation").click()
    expect(page).to_have_url(re.compile(r"/console/correlation$"))
    dedup = page.locator("#dedup-table tbody tr")
    expect(dedup.filter(has_text="(every other source)")).to_contain_text("fingerprint")
    expect(page.get_by_text("Options of every stage, in chain order")).to_be_visible()
    expect(page.get_by_role("cell", name="max_transitions", exact=True)).to_be_visible()
