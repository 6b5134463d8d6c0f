"""Send a twin run over the real protocols, as the network's own systems would.

- alarms from Prometheus-style sources -> Alertmanager webhook (payload v4);
  alarms from element managers -> TMF642 Alarm JSON;
- metrics -> Prometheus remote_write (protobuf, snappy);
- logs -> syslog (RFC 5424) over UDP or TCP (octet-counted); or, without a syslog address,
  OTLP/HTTP JSON logs;
- SNMP linkDown/linkUp -> SNMPv2c traps over UDP (from the router's management address) when an
  SNMP address is given, else as syslog/OTLP lines carrying the varbinds;
- spans -> OTLP/HTTP JSON; changes -> the generic change webhook; tickets -> TMF621 JSON;
- topology -> the inventory endpoint (nocwise YAML/JSON shape).

Ids on the wire: the ingest side names a TMF642 alarm ``tmf642:<source>:<alarm_id>`` and an
Alertmanager one ``alertmanager:<alarm_id>``; :func:`wire_alarm_id` gives the same mapping, so the
twin's ground truth can score what the pipeline built from the wire.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cramjam
import httpx

from nocwise.model import (
    Alarm,
    Change,
    Entity,
    LogRecord,
    MetricBatch,
    Relation,
    Series,
    Severity,
    Span,
    Ticket,
)

PROMETHEUS_SOURCES = frozenset({"prometheus"})


def via_of(alarm: Alarm) -> str:
    """Which protocol carries an alarm: ``alertmanager`` or ``tmf642``."""
    return "alertmanager" if alarm.source in PROMETHEUS_SOURCES else "tmf642"


def wire_alarm_id(alarm: Alarm) -> str:
    """The id the ingest side gives the alarm after it crossed the wire."""
    if via_of(alarm) == "alertmanager":
        return f"alertmanager:{alarm.alarm_id}"
    return f"tmf642:{alarm.source}:{alarm.alarm_id}"


def wire_id_of(alarm_id: str) -> str:
    """:func:`wire_alarm_id` from the id alone (twin ids are ``<source>-<number>``).

    >>> wire_id_of("ems-ran-00000003"), wire_id_of("prometheus-00000018")
    ('tmf642:ems-ran:ems-ran-00000003', 'alertmanager:prometheus-00000018')
    """
    source = alarm_id.rsplit("-", 1)[0]
    if source in PROMETHEUS_SOURCES:
        return f"alertmanager:{alarm_id}"
    return f"tmf642:{source}:{alarm_id}"


def _iso(a: Any) -> str | None:
    return None if a is None else a.isoformat().replace("+00:00", "Z")


def tmf642_doc(a: Alarm) -> dict[str, Any]:
    """One alarm as a TMF642 Alarm resource."""
    doc: dict[str, Any] = {
        "id": a.alarm_id,
        "sourceSystemId": a.source,
        "alarmedObject": {
            "id": a.managed_object,
            "@referredType": a.additional_info.get("neType", ""),
        },
        "alarmType": str(a.event_type),
        "perceivedSeverity": a.perceived_severity.value.lower(),
        "probableCause": a.probable_cause,
        "specificProblem": a.specific_problem,
        "state": "cleared" if a.is_cleared else "raised",
        "eventTime": _iso(a.event_time),
        "alarmRaisedTime": _iso(a.raised_time),
        "alarmDetails": a.additional_text,
        "serviceAffecting": a.service_affecting,
        "plannedOutageIndicator": a.planned_outage_indicator,
        "alarmCharacteristic": [{"name": k, "value": v} for k, v in a.additional_info.items()],
    }
    if a.changed_time is not None:
        doc["alarmChangedTime"] = _iso(a.changed_time)
    if a.cleared_time is not None:
        doc["alarmClearedTime"] = _iso(a.cleared_time)
    return doc


_AM_SEVERITY = {Severity.CRITICAL: "critical", Severity.MAJOR: "major", Severity.MINOR: "minor",
                Severity.WARNING: "warning", Severity.INDETERMINATE: "info"}  # fmt: skip


def alertmanager_alert(a: Alarm) -> dict[str, Any]:
    """One alarm as an Alertmanager webhook alert."""
    resolved = a.is_cleared
    sev = _AM_SEVERITY.get(a.perceived_severity, "warning")
    return {
        "status": "resolved" if resolved else "firing",
        "labels": {
            "alertname": a.specific_problem,
            "managed_object": a.managed_object,
            "severity": sev,
            "probable_cause": a.probable_cause,
            "event_type": str(a.event_type),
            "service_affecting": str(a.service_affecting).lower(),
        },
        "annotations": {"summary": a.additional_text},
        "startsAt": _iso(a.raised_time),
        "endsAt": _iso(a.cleared_time) if resolved else "0001-01-01T00:00:00Z",
        "fingerprint": a.alarm_id,
        "generatorURL": "http://prometheus.twin:9090/graph",
    }


def alertmanager_payload(alarms: Sequence[Alarm]) -> dict[str, Any]:
    """A webhook payload (version 4) for a batch of alarms."""
    alerts = [alertmanager_alert(a) for a in alarms]
    firing = any(x["status"] == "firing" for x in alerts)
    return {"version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": "firing" if firing else "resolved",
            "receiver": "nocwise", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://alertmanager.twin:9093", "alerts": alerts}  # fmt: skip


def remote_write_body(series: Sequence[Series], batch: MetricBatch) -> bytes:
    """A snappy-compressed remote_write WriteRequest for one batch."""
    from nocwise.ingest.remote_write_pb import WriteRequest

    req = WriteRequest()
    for sid, ts, v in zip(
        batch.series.tolist(), batch.ts_ms.tolist(), batch.values.tolist(), strict=True
    ):
        s = series[sid]
        t = req.timeseries.add()
        for name, value in (
            ("__name__", s.metric),
            ("entity", s.entity_id or ""),
            *sorted(s.labels.items()),
        ):
            lab = t.labels.add()
            lab.name, lab.value = name, value
        smp = t.samples.add()
        smp.value, smp.timestamp = v, ts
    return bytes(cramjam.snappy.compress_raw(req.SerializeToString()))


_IF_INDEX, _IF_ADMIN, _IF_OPER, _IF_NAME = (
    "1.3.6.1.2.1.2.2.1.1", "1.3.6.1.2.1.2.2.1.7", "1.3.6.1.2.1.2.2.1.8", "1.3.6.1.2.1.31.1.1.1.1",
)  # fmt: skip


def snmp_trap(r: LogRecord, agent_ip: str, uptime_s: float, community: str = "public") -> bytes:
    """An SNMPv2c linkDown/linkUp trap (BER, via pysnmp) for a twin ``snmp`` record."""
    from pyasn1.codec.ber import encoder  # type: ignore[import-untyped]
    from pysnmp.proto import api  # type: ignore[import-untyped]

    v2 = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    a = r.attributes
    idx = a.get("ifIndex", "1")
    pdu = v2.SNMPv2TrapPDU()
    v2.apiTrapPDU.set_defaults(pdu)
    binds = [
        (v2.ObjectIdentifier("1.3.6.1.2.1.1.3.0"), v2.TimeTicks(int(uptime_s * 100) % (1 << 32))),
        (v2.ObjectIdentifier("1.3.6.1.6.3.1.1.4.1.0"), v2.ObjectIdentifier(a["snmpTrapOID"])),
        (v2.ObjectIdentifier(f"{_IF_INDEX}.{idx}"), v2.Integer(int(idx))),
        (v2.ObjectIdentifier(f"{_IF_ADMIN}.{idx}"), v2.Integer(int(a.get("ifAdminStatus", "1")))),
        (v2.ObjectIdentifier(f"{_IF_OPER}.{idx}"), v2.Integer(int(a.get("ifOperStatus", "2")))),
        (v2.ObjectIdentifier(f"{_IF_NAME}.{idx}"), v2.OctetString(a.get("ifName", ""))),
        (v2.ObjectIdentifier("1.3.6.1.6.3.18.1.3.0"), v2.IpAddress(agent_ip)),
    ]
    v2.apiTrapPDU.set_varbinds(pdu, binds)
    msg = v2.Message()
    v2.apiMessage.set_defaults(msg)
    v2.apiMessage.set_community(msg, community)
    v2.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


def syslog_line(r: LogRecord, facility: int = 23) -> bytes:
    """An RFC 5424 line for a log record (SNMP traps carry their varbinds as structured data)."""
    pri = facility * 8 + max(0, min(7, r.severity))
    sd = "-"
    if r.source == "snmp":
        params = " ".join(f'{k}="{v}"' for k, v in sorted(r.attributes.items()))
        sd = f"[snmpTrap@32473 {params}]"
    ts = r.ts.isoformat().replace("+00:00", "Z")
    return f"<{pri}>1 {ts} {r.host or '-'} {r.app or '-'} - - {sd} {r.message}".encode()


def otlp_spans(spans: Sequence[Span]) -> dict[str, Any]:
    """OTLP/JSON ExportTraceServiceRequest."""
    by: dict[str, list[Span]] = {}
    for s in spans:
        by.setdefault(s.service, []).append(s)
    return {"resourceSpans": [
        {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": svc}}]},
         "scopeSpans": [{"scope": {"name": "nocwise-twin"}, "spans": [
             {"traceId": s.trace_id, "spanId": s.span_id, "parentSpanId": s.parent_id or "", "name": s.operation,
              "kind": 2, "startTimeUnixNano": str(int(s.start.timestamp() * 1e9)),
              "endTimeUnixNano": str(int(s.end.timestamp() * 1e9)),
              "status": {"code": {"ok": 1, "error": 2}.get(s.status.value, 0)},
              "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in s.attributes.items()]}
             for s in group]}]}
        for svc, group in by.items()]}  # fmt: skip


def otlp_logs(logs: Sequence[LogRecord]) -> dict[str, Any]:
    """OTLP/JSON ExportLogsServiceRequest (used when no syslog address is given)."""
    sev = {0: 21, 1: 21, 2: 21, 3: 17, 4: 13, 5: 10, 6: 9, 7: 5}
    return {"resourceLogs": [{"resource": {"attributes": []}, "scopeLogs": [{"scope": {"name": "nocwise-twin"}, "logRecords": [
        {"timeUnixNano": str(int(r.ts.timestamp() * 1e9)), "severityNumber": sev.get(r.severity, 9),
         "body": {"stringValue": r.message},
         "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in
                        {"host.name": r.host, "service.name": r.app, "entity_id": r.entity_id or "",
                         "log.source": r.source, **r.attributes}.items()]}
        for r in logs]}]}]}  # fmt: skip


def change_doc(c: Change) -> dict[str, Any]:
    """A change for the generic change webhook."""
    return {"id": c.id, "entity_id": c.entity_id, "kind": c.kind.value, "ts": _iso(c.ts), "end": _iso(c.end),
            "version_before": c.version_before, "version_after": c.version_after,
            "description": c.description, "source": c.source}  # fmt: skip


def tmf621_doc(t: Ticket) -> dict[str, Any]:
    """A ticket as a TMF621 TroubleTicket."""
    rel = [{"id": e, "role": "affected", "@referredType": "Resource"} for e in t.related_entities]
    rel += [{"id": a, "role": "alarm", "@referredType": "Alarm"} for a in t.related_alarms]
    doc: dict[str, Any] = {"@type": "TroubleTicket", "id": t.id, "name": t.name, "description": t.description,
                           "severity": t.severity, "status": t.status.value, "creationDate": _iso(t.created),
                           "externalId": t.external_id, "priority": t.priority, "ticketType": t.ticket_type,
                           "relatedEntity": rel, "note": [{"text": n} for n in t.notes]}  # fmt: skip
    if t.resolved is not None:
        doc["resolutionDate"] = _iso(t.resolved)
        doc["statusChangeReason"] = t.resolution
    return doc


def topology_doc(entities: Sequence[Entity], relations: Sequence[Relation]) -> dict[str, Any]:
    """The inventory in nocwise's own shape."""
    return {
        "entities": [{"id": e.id, "kind": e.kind, "domain": e.domain.value, "name": e.name,
                      "attributes": dict(e.attributes), "labels": dict(e.labels)} for e in entities],
        "relations": [{"src": r.src, "dst": r.dst, "kind": r.kind.value} for r in relations],
    }  # fmt: skip


@dataclass(slots=True)
class Sent:
    """Counts of what went out, and of requests the target refused."""

    alarms: int = 0
    samples: int = 0
    logs: int = 0
    spans: int = 0
    changes: int = 0
    tickets: int = 0
    traps: int = 0
    refused: dict[str, int] = field(default_factory=dict)


class Emitter:
    """Posts steps to a nocwise (or any compatible) endpoint; syslog goes to a socket."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        syslog: tuple[str, int] | None = None,
        syslog_tcp: bool = False,
        snmp: tuple[str, int] | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = client or httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=30.0
        )
        self.syslog = syslog
        self.tcp = syslog_tcp
        self._sock: socket.socket | None = None
        self.snmp = snmp
        self._snmp_sock: socket.socket | None = None
        self._ips: dict[str, str] = {}
        self._t0: float | None = None
        self.sent = Sent()

    def close(self) -> None:
        """Close the HTTP client and the syslog socket."""
        self.client.close()
        for sock in (self._sock, self._snmp_sock):
            if sock is not None:
                sock.close()

    def _post(
        self,
        kind: str,
        path: str,
        body: bytes,
        content_type: str,
        extra: dict[str, str] | None = None,
    ) -> None:
        r = self.client.post(
            path, content=body, headers={"Content-Type": content_type, **(extra or {})}
        )
        if r.status_code >= 300:
            self.sent.refused[kind] = self.sent.refused.get(kind, 0) + 1

    def _json(self, kind: str, path: str, doc: Any) -> None:
        self._post(kind, path, json.dumps(doc).encode(), "application/json")

    def topology(self, entities: Sequence[Entity], relations: Sequence[Relation]) -> None:
        """Send the inventory once, before the first step (and learn the management addresses)."""
        self._ips = {e.id: e.attributes["mgmt_ip"] for e in entities if "mgmt_ip" in e.attributes}
        self._json("topology", "/api/v1/ingest/topology", topology_doc(entities, relations))

    def step(self, series: Sequence[Series], step: Any) -> None:
        """Send everything one twin step produced."""
        am = [a for a in step.alarms if via_of(a) == "alertmanager"]
        tmf = [a for a in step.alarms if via_of(a) == "tmf642"]
        if step.changes:
            self._json("changes", "/api/v1/ingest/changes", [change_doc(c) for c in step.changes])
            self.sent.changes += len(step.changes)
        if len(step.metrics):
            body = remote_write_body(series, step.metrics)
            self._post("remote_write", "/api/v1/write", body, "application/x-protobuf",
                       {"Content-Encoding": "snappy", "X-Prometheus-Remote-Write-Version": "0.1.0"})  # fmt: skip
            self.sent.samples += len(step.metrics)
        if tmf:
            self._json("tmf642", "/api/v1/ingest/tmf642/alarm", [tmf642_doc(a) for a in tmf])
        if am:
            self._json("alertmanager", "/api/v1/ingest/alertmanager", alertmanager_payload(am))
        self.sent.alarms += len(step.alarms)
        if step.logs:
            self._logs(step.logs)
        if step.spans:
            self._json("otlp_traces", "/api/v1/ingest/otlp/v1/traces", otlp_spans(step.spans))
            self.sent.spans += len(step.spans)
        if step.tickets:
            self._json("tickets", "/api/v1/ingest/tickets", [tmf621_doc(t) for t in step.tickets])
            self.sent.tickets += len(step.tickets)

    def _logs(self, logs: Sequence[LogRecord]) -> None:
        if self.snmp is not None:
            logs = self._traps(logs)
        self.sent.logs += len(logs)
        if not logs:
            return
        if self.syslog is None:
            self._json("otlp_logs", "/api/v1/ingest/otlp/v1/logs", otlp_logs(logs))
            return
        if self._sock is None:
            kind = socket.SOCK_STREAM if self.tcp else socket.SOCK_DGRAM
            self._sock = socket.socket(socket.AF_INET, kind)
            if self.tcp:
                self._sock.connect(self.syslog)
        for r in logs:
            line = syslog_line(r)
            assert self._sock is not None
            if self.tcp:
                self._sock.sendall(f"{len(line)} ".encode() + line)
            else:
                self._sock.sendto(line, self.syslog)

    def _traps(self, logs: Sequence[LogRecord]) -> list[LogRecord]:
        """Send SNMP records as traps; returns the other records."""
        assert self.snmp is not None
        if self._snmp_sock is None:
            self._snmp_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rest = []
        for r in logs:
            ip = self._ips.get(r.entity_id or "")
            if r.source != "snmp" or ip is None or "snmpTrapOID" not in r.attributes:
                rest.append(r)
                continue
            t = r.ts.timestamp()
            self._t0 = t if self._t0 is None else self._t0
            self._snmp_sock.sendto(snmp_trap(r, ip, 86_400 + t - self._t0), self.snmp)
            self.sent.traps += 1
        return rest
