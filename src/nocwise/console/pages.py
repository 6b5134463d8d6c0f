"""Console pages: login with a token, a live incidents list and a live incident page."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import FastAPI
from nicegui import app as ui_app
from nicegui import ui
from nicegui.storage import Storage

from nocwise.api.deps import authenticate
from nocwise.console.data import (
    dedup_rows,
    funnel_text,
    incident_rows,
    incident_view,
    setting_rows,
    short_time,
    source_rows,
)
from nocwise.runtime.runtime import Runtime
from nocwise.store.state.repositories import Principal

REFRESH_S = 2.0

# NiceGUI prefixes the mount path (/console) to every absolute target of ui.link and
# ui.navigate.to, so the pages name each other by their paths inside the mount.
HOME = "/"
LOGIN = "/login"
SOURCES = "/sources"
CORRELATION = "/correlation"

_SOURCE_COLUMNS: list[dict[str, object]] = [
    {"name": k, "label": label, "field": k, "align": "left"}
    for k, label in (
        ("source", "Source"), ("received", "Received"), ("rate", "Per second"),
        ("rejected", "Rejected"), ("last_received", "Last received"), ("last_rejection", "Last rejection"),
    )
]  # fmt: skip

_COLUMNS: list[dict[str, object]] = [
    {"name": "priority", "label": "Prio", "field": "priority", "sortable": True},
    {"name": "title", "label": "Incident", "field": "title", "align": "left"},
    {"name": "alarms", "label": "Alarms", "field": "alarms", "sortable": True},
    {"name": "root_cause", "label": "Root cause", "field": "root_cause", "align": "left"},
    {"name": "customers", "label": "Customers", "field": "customers", "sortable": True},
    {"name": "state", "label": "State", "field": "state"},
    {"name": "updated", "label": "Updated", "field": "updated"},
]


def incident_summary(view: dict[str, Any]) -> None:
    """Heading, impact, root-cause hypotheses and remediation of an incident page."""
    ui.label(f"P{view['priority']} · {view['title']}").classes("text-2xl")
    ui.label(
        f"{view['state']} · opened {short_time(view['opened'])} · {len(view['members'])} alarms"
    )
    imp = view["impact"]
    ui.label(
        f"impact: {len(imp['customers'])} customers, {len(imp['services'])} services"
        + (" · SLA at risk" if imp["sla_at_risk"] else "")
    )
    ui.label("Root-cause hypotheses").classes("text-lg mt-4")
    for h in view["hypotheses"]:
        with ui.card().classes("w-full"):
            ui.label(f"{h['entity_id']} · {h['fault_type']} · {h['probability']:.0%}")
            for e in h["evidence"]:
                ui.label(f"– {e['kind']}: {e['summary']}").classes("text-slate-600")
    ui.label("Recommended remediation").classes("text-lg mt-4")
    for r in view["recommendations"]:
        ui.label(f"{r['action']} ({r['confidence']:.0%}, from {r['source']})")


def mount_console(app: FastAPI, runtime: Runtime) -> None:
    """Define the pages and mount NiceGUI at /console on ``app``."""
    # Signed-in tokens live in NiceGUI's per-user storage: keep it in the data directory, not
    # in whatever directory the process happened to start from.
    Storage.path = (runtime.settings.data_dir / "console").resolve()

    def principal() -> Principal | None:
        token = ui_app.storage.user.get("token")
        return authenticate(runtime, token) if isinstance(token, str) else None

    def signed_in() -> bool:
        return principal() is not None

    def header() -> None:
        with ui.header().classes("items-center justify-between bg-slate-800"):
            ui.link("nocwise", HOME).classes("text-white text-xl no-underline")
            with ui.row().classes("items-center gap-6"):
                ui.link("incidents", HOME).classes("text-slate-200 no-underline")
                ui.link("sources", SOURCES).classes("text-slate-200 no-underline")
                ui.link("correlation", CORRELATION).classes("text-slate-200 no-underline")

    @ui.page("/login")
    def login(token: str | None = None) -> None:
        header()
        if token and authenticate(runtime, token) is not None:
            ui_app.storage.user["token"] = token
            # replace, not push: the link with the token must not stay in the browser's history
            ui.run_javascript("window.location.replace('/console/')")
            return
        with ui.card().classes("mx-auto mt-16 w-96"):
            ui.label("Sign in with an API token").classes("text-lg")
            field = ui.input("token", password=True).classes("w-full")
            message = ui.label("").classes("text-red-600")

            def submit() -> None:
                value = (field.value or "").strip()
                if authenticate(runtime, value) is None:
                    message.set_text("unknown or revoked token")
                    return
                ui_app.storage.user["token"] = value
                ui.navigate.to(HOME)

            field.on("keydown.enter", submit)
            ui.button("Sign in", on_click=submit).props("id=sign-in")

    @ui.page("/")
    def incidents() -> None:
        if not signed_in():
            ui.navigate.to(LOGIN)
            return
        header()
        funnel = ui.label("").classes("text-slate-600")
        table = ui.table(columns=_COLUMNS, rows=incident_rows(runtime), row_key="id")
        table.classes("w-full").props("id=incidents-table")
        table.on("rowClick", lambda e: ui.navigate.to(f"/incident/{e.args[1]['id']}"))

        def refresh() -> None:
            rows = incident_rows(runtime)
            if rows != table.rows:  # send the table only when an incident changed
                table.rows = rows
                table.update()
            funnel.set_text(funnel_text(runtime.funnel()))

        refresh()
        ui.timer(REFRESH_S, refresh)

    @ui.page(SOURCES)
    def sources() -> None:
        if not signed_in():
            ui.navigate.to(LOGIN)
            return
        header()
        ui.label("Ingest sources and their health").classes("text-lg")
        table = ui.table(columns=_SOURCE_COLUMNS, rows=[], row_key="source").classes("w-full")

        def refresh() -> None:
            board = app.state.ingest_health
            table.rows = source_rows(board.snapshot(runtime.clock.now()))
            table.update()

        refresh()
        ui.timer(REFRESH_S, refresh)

    @ui.page(CORRELATION)
    def correlation() -> None:
        if not signed_in():
            ui.navigate.to(LOGIN)
            return
        header()
        config = runtime.stages.correlator.config.model_dump(mode="json")
        ui.label("Dedup keys per source").classes("text-lg")
        ui.label("Notifications with the same key are one alarm; the first is the primary.")
        ui.table(
            columns=[
                {"name": k, "label": k.capitalize(), "field": k, "align": "left"}
                for k in ("source", "key")
            ],
            rows=dedup_rows(config),
            row_key="source",
        ).classes("w-full").props("id=dedup-table")
        ui.label("Options of every stage, in chain order").classes("text-lg mt-4")
        ui.table(
            columns=[
                {"name": k, "label": k.capitalize(), "field": k, "align": "left"}
                for k in ("stage", "option", "value")
            ],
            rows=[{**r, "id": f"{r['stage']}.{r['option']}"} for r in setting_rows(config)],
            row_key="id",
            pagination=50,
        ).classes("w-full")

    @ui.page("/incident/{incident_id}")
    def incident(incident_id: str) -> None:
        if not signed_in():
            ui.navigate.to(LOGIN)
            return
        header()
        view = incident_view(runtime, incident_id)
        if view is None:
            ui.label(f"no incident {incident_id}")
            return
        outcome = ui.label("").props("id=grouping-outcome").classes("text-blue-800")
        # The summary and the timeline are redrawn when the incident changes; the member table
        # and the correction controls stay, so an operator's selection and typing survive updates.
        summary = ui.column().classes("w-full")
        ui.label("Alarms and why they are here").classes("text-lg mt-4")
        members = ui.table(
            columns=[
                {"name": k, "label": k, "field": k, "align": "left"}
                for k in ("time", "entity", "cause", "severity", "reason", "detail")
            ],
            rows=view["alarm_rows"],
            row_key="alarm_id",
            selection="multiple",
        ).classes("w-full")
        members.props("id=members-table")
        who = principal()
        if who is not None and who.has("operator"):
            corrections(incident_id, members, who, outcome)
        ui.label("Timeline").classes("text-lg mt-4")
        timeline = ui.column().classes("w-full gap-0")
        shown: list[dict[str, object]] = []

        def render() -> None:
            current = incident_view(runtime, incident_id)
            if current is None or (shown and shown[-1] == current):
                return  # unchanged: keep the page (and where the reader is on it) as it is
            shown[:] = [current]
            if current["alarm_rows"] != members.rows:
                keep = {r["alarm_id"] for r in current["alarm_rows"]}
                members.selected = [r for r in members.selected if r["alarm_id"] in keep]
                members.rows = current["alarm_rows"]
                members.update()
            summary.clear()
            with summary:
                incident_summary(current)
            timeline.clear()
            with timeline:
                for t in current["timeline"][-50:]:
                    ui.label(f"{short_time(t['ts'])} {t['kind']}: {t['detail']}")

        render()
        ui.timer(REFRESH_S * 2, render)

    def corrections(incident_id: str, members: ui.table, who: Principal, outcome: ui.label) -> None:
        """Operators fix the grouping here; each fix is audited and kept for retraining."""
        ui.label("Correct the grouping").classes("text-lg mt-4")
        with ui.row().classes("items-center gap-4"):
            other = ui.input("incident to merge into this one").props("id=merge-from")

            async def merge() -> None:
                source = (other.value or "").strip()
                try:
                    await runtime.merge_incidents(incident_id, source, who.name, who.role)
                except (LookupError, ValueError) as exc:
                    outcome.set_text(f"merge refused: {exc}")
                    return
                outcome.set_text(f"merged {source} into this incident")
                other.set_value("")

            async def split() -> None:
                chosen = [str(r["alarm_id"]) for r in members.selected]
                if not chosen:
                    outcome.set_text("select the alarms to split off first")
                    return
                try:
                    new_id, _ = await runtime.split_incident(
                        incident_id, chosen, who.name, who.role
                    )
                except (LookupError, ValueError) as exc:
                    outcome.set_text(f"split refused: {exc}")
                    return
                ui.navigate.to(f"/incident/{new_id}")

            ui.button("Merge", on_click=merge).props("id=merge")
            ui.button("Split selected alarms off", on_click=split).props("id=split")

    ui.run_with(
        app,
        mount_path="/console",
        title="nocwise",
        storage_secret=secrets.token_hex(32),
        show_welcome_message=False,
        reconnect_timeout=10.0,
    )
