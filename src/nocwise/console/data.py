"""What the console pages show, read from the stores; no UI code here so it is testable alone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from nocwise.model import codec
from nocwise.runtime.runtime import Runtime
from nocwise.store.state.repositories import AlarmRepository, IncidentRepository


def incident_rows(runtime: Runtime, limit: int = 200) -> list[dict[str, Any]]:
    """Rows of the incidents table, ranked by priority and impact."""
    with runtime.db.session() as s:
        incidents, _ = IncidentRepository(s).list(limit=limit)
    rows = []
    for i in incidents:
        top = i.hypotheses[0] if i.hypotheses else None
        rows.append(
            {
                "id": i.id,
                "priority": f"P{i.priority}",
                "state": i.state.value,
                "title": i.title,
                "alarms": len(i.members),
                "root_cause": f"{top.entity_id} ({top.probability:.0%})" if top else "-",
                "customers": len(i.impact.customers),
                "updated": i.updated.strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
    return rows


def incident_view(runtime: Runtime, incident_id: str) -> dict[str, Any] | None:
    """Everything the incident page shows."""
    with runtime.db.session() as s:
        found = IncidentRepository(s).get(incident_id)
        if found is None:
            return None
        incident, recs = found
        alarms = AlarmRepository(s).get_many(m.alarm_id for m in incident.members)
    d = codec.incident_to_dict(incident)
    d["recommendations"] = [codec.recommendation_to_dict(r) for r in recs]
    d["alarm_rows"] = [
        {
            "alarm_id": m.alarm_id,
            "entity": alarms[m.alarm_id].managed_object if m.alarm_id in alarms else "?",
            "cause": alarms[m.alarm_id].probable_cause if m.alarm_id in alarms else "?",
            "severity": alarms[m.alarm_id].perceived_severity.value
            if m.alarm_id in alarms
            else "?",
            "time": alarms[m.alarm_id].event_time.strftime("%H:%M:%S")
            if m.alarm_id in alarms
            else "",
            "reason": m.reason,
            "detail": m.detail,
        }
        for m in incident.members[:500]
    ]
    return d


def funnel_text(funnel: Mapping[str, float]) -> str:
    """The funnel in one line a person reads: the counts that shrink, then the reduction.

    >>> funnel_text({"events": 120.0, "alarms": 40.0, "grouped": 40.0, "incidents": 2.0,
    ...              "reduction": 0.983, "alarms_per_incident": 20.0, "decisions.x": 3.0})
    'funnel: 120 events -> 40 alarms -> 2 incidents (98.3% reduction)'
    >>> funnel_text({})
    'funnel: nothing yet'
    """
    counts = [f"{int(funnel[k])} {k}" for k in ("events", "alarms", "incidents") if k in funnel]
    if not counts:
        return "funnel: nothing yet"
    text = "funnel: " + " -> ".join(counts)
    if funnel.get("events"):
        text += f" ({funnel.get('reduction', 0.0):.1%} reduction)"
    return text


def short_time(iso: str) -> str:
    """An ISO timestamp as a person reads it on the page (to the second, UTC).

    >>> short_time("2026-01-05T00:01:01.177000+00:00")
    '2026-01-05 00:01:01 UTC'
    >>> short_time("2026-01-05T02:01:01+02:00")
    '2026-01-05 00:01:01 UTC'
    """
    when = datetime.fromisoformat(iso)
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def source_rows(snapshot: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the sources table from the ingest health board's snapshot.

    >>> source_rows([{"source": "syslog", "received": 3, "rate_per_s": 0.05,
    ...               "rejected": {"bad_frame": 1}, "last_received": None, "last_rejection": None}])
    [{'source': 'syslog', 'received': 3, 'rate': '0.05', 'rejected': 'bad_frame: 1', 'last_received': '-', 'last_rejection': '-'}]
    """
    rows = []
    for h in snapshot:
        last = h.get("last_rejection")
        rows.append(
            {
                "source": h["source"],
                "received": h["received"],
                "rate": f"{h.get('rate_per_s', 0.0):.2f}",
                "rejected": ", ".join(f"{k}: {v}" for k, v in sorted(h["rejected"].items())) or "0",
                "last_received": h.get("last_received") or "-",
                "last_rejection": f"{last['reason']}: {last['detail']}" if last else "-",
            }
        )
    return rows


def dedup_rows(config: Mapping[str, Any]) -> list[dict[str, str]]:
    """The dedup key of each source (the default first), from the chain's config as JSON.

    >>> dedup_rows({"dedup": {"key": ["fingerprint"], "key_by_source": {"ems": ["managed_object",
    ...     "probable_cause"]}}})
    [{'source': '(every other source)', 'key': 'fingerprint'}, {'source': 'ems', 'key': 'managed_object + probable_cause'}]
    """
    dedup = config.get("dedup", {})
    rows = [{"source": "(every other source)", "key": " + ".join(dedup.get("key", []))}]
    for source, key in sorted(dedup.get("key_by_source", {}).items()):
        rows.append({"source": source, "key": " + ".join(key)})
    return rows


def setting_rows(config: Mapping[str, Any]) -> list[dict[str, str]]:
    """One row per option of each stage, in chain order (dedup keys have their own table).

    >>> setting_rows({"flapping": {"kind": "flapping", "window": "PT10M", "max_transitions": 6},
    ...               "dedup": {"kind": "dedup", "key": ["fingerprint"]}, "max_decisions": 32})
    [{'stage': 'flapping', 'option': 'window', 'value': 'PT10M'}, {'stage': 'flapping', 'option': 'max_transitions', 'value': '6'}]
    """
    rows = []
    for stage, options in config.items():
        if not isinstance(options, dict) or stage == "dedup":
            continue
        for option, value in options.items():
            if option != "kind":
                rows.append({"stage": stage, "option": option, "value": _text(value)})
    return rows


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) or "-"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items()) or "-"
    return "-" if value is None else str(value)
