"""What the twin puts on the wire is what nocwise's own ingest reads back; files are complete."""

from __future__ import annotations

import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pyarrow.parquet as pq

from nocwise.ingest import alertmanager, changes, otlp, remote_write, syslog, tickets, tmf642
from nocwise.sim import Twin, load_scenario
from nocwise.sim.emit import (
    Emitter,
    alertmanager_payload,
    change_doc,
    otlp_spans,
    remote_write_body,
    syslog_line,
    tmf621_doc,
    tmf642_doc,
    via_of,
    wire_alarm_id,
    wire_id_of,
)
from nocwise.sim.writer import write_run


def _demo_steps(minutes: int = 30) -> tuple[Twin, list]:
    twin = Twin(load_scenario("demo").with_overrides(duration=timedelta(minutes=minutes)))
    return twin, list(twin.run())


def test_alarms_round_trip_through_tmf642_and_alertmanager() -> None:
    _, steps = _demo_steps()
    alarms = [a for s in steps for a in s.alarms]
    tmf = [a for a in alarms if via_of(a) == "tmf642"]
    am = [a for a in alarms if via_of(a) == "alertmanager"]
    assert tmf
    assert am
    got = tmf642.parse(json.dumps([tmf642_doc(a) for a in tmf]).encode())
    assert got.rejected == 0
    assert [g.alarm_id for g in got.records] == [wire_alarm_id(a) for a in tmf]
    assert [g.is_cleared for g in got.records] == [a.is_cleared for a in tmf]
    assert [g.managed_object for g in got.records] == [a.managed_object for a in tmf]
    assert all(wire_id_of(a.alarm_id) == wire_alarm_id(a) for a in alarms)
    got = alertmanager.parse(json.dumps(alertmanager_payload(am)).encode())
    assert got.rejected == 0
    assert [g.alarm_id for g in got.records] == [wire_alarm_id(a) for a in am]


def test_metrics_logs_spans_changes_tickets_round_trip() -> None:
    twin, steps = _demo_steps()
    batch = steps[3].metrics
    dec = remote_write.parse(remote_write_body(twin.series, batch), "application/x-protobuf")
    assert dec.samples == len(batch)
    logs = [r for s in steps for r in s.logs]
    parsed = syslog.parse(b"\n".join(syslog_line(r) for r in logs), now=steps[-1].ts)
    assert parsed.rejected == 0
    assert [p.message for p in parsed.records] == [r.message for r in logs]
    spans = [x for s in steps for x in s.spans]
    assert otlp.parse_traces(
        json.dumps(otlp_spans(spans)).encode(), "application/json"
    ).accepted == len(spans)
    chs = [c for s in steps for c in s.changes]
    assert changes.parse(
        json.dumps([change_doc(c) for c in chs]).encode(), "application/json", now=steps[-1].ts
    ).accepted == len(chs)
    hist = twin.ticket_history(20)
    assert (
        tickets.parse(
            json.dumps([tmf621_doc(t) for t in hist]).encode(), "application/json"
        ).accepted
        == 20
    )


class _Capture(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Capture.seen.append((self.path, body))
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        del args


def test_emitter_posts_every_kind_and_sends_syslog_over_udp() -> None:
    server = HTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(2)
    try:
        twin, steps = _demo_steps(12)
        em = Emitter(f"http://127.0.0.1:{server.server_port}", syslog=udp.getsockname())
        em.topology(twin.entities, twin.relations)
        for s in steps:
            em.step(twin.series, s)
        em.close()
        paths = {p for p, _ in _Capture.seen}
        assert {"/api/v1/ingest/topology", "/api/v1/write", "/api/v1/ingest/tmf642/alarm", "/api/v1/ingest/changes",
                "/api/v1/ingest/otlp/v1/traces"} <= paths  # fmt: skip
        assert em.sent.refused == {}
        line = udp.recv(65535)
        assert line.startswith(b"<")
    finally:
        server.shutdown()
        server.server_close()
        udp.close()


def test_write_run_files(tmp_path: Path) -> None:
    twin = Twin(load_scenario("demo").with_overrides(duration=timedelta(minutes=20)))
    counts = write_run(twin, tmp_path, history=50)
    table = pq.read_table(tmp_path / "metrics.parquet")
    assert table.num_rows == counts.samples
    assert table.column_names == ["series", "ts_ms", "value"]
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert len(truth["faults"]) == 3
    alarms = [json.loads(x) for x in (tmp_path / "alarms.jsonl").read_text().splitlines()]
    assert len(alarms) == counts.alarms
    fault_ids = {a for f in truth["faults"] for a in f["alarm_ids"]}
    assert fault_ids <= {a["alarm_id"] for a in alarms}
    assert len((tmp_path / "ticket_history.jsonl").read_text().splitlines()) == 50


def test_snmp_traps_read_back_as_link_alarms_on_the_router_address() -> None:
    from pyasn1.codec.ber import decoder
    from pysnmp.proto import api

    from nocwise.ingest.snmp import records_of
    from nocwise.sim import FaultSpec, NoiseSpec, Scenario
    from nocwise.sim.emit import snmp_trap

    sc = Scenario("t", duration=timedelta(minutes=10), noise=NoiseSpec(level=0.0),
                  faults=(FaultSpec("fibre_cut", timedelta(minutes=1), None, "lnk-ring-r001-2"),))  # fmt: skip
    twin = Twin(sc)
    traps = [r for s in twin.run() for r in s.logs if r.source == "snmp"]
    assert len(traps) == 2
    v2 = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    for r in traps:
        ip = twin.entities[twin.topology.index[r.entity_id]].attributes["mgmt_ip"]
        msg, _ = decoder.decode(snmp_trap(r, ip, 100.0), asn1Spec=v2.Message())
        binds = [
            (str(o), v.prettyPrint()) for o, v in v2.apiPDU.get_varbinds(v2.apiMessage.get_pdu(msg))
        ]
        _, alarm = records_of(binds, "192.0.2.1", r.ts)
        assert alarm is not None
        assert alarm.managed_object == f"{ip}/{r.attributes['ifName']}"
        assert not alarm.is_cleared


def test_emitter_sends_traps_over_udp() -> None:
    from nocwise.sim import FaultSpec, NoiseSpec, Scenario

    server = HTTPServer(("127.0.0.1", 0), _Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(2)
    try:
        sc = Scenario("t", duration=timedelta(minutes=5), noise=NoiseSpec(level=0.0),
                      faults=(FaultSpec("fibre_cut", timedelta(minutes=1), None, "lnk-ring-r001-2"),))  # fmt: skip
        twin = Twin(sc)
        em = Emitter(f"http://127.0.0.1:{server.server_port}", snmp=udp.getsockname())
        em.topology(twin.entities, twin.relations)
        for s in twin.run():
            em.step(twin.series, s)
        em.close()
        assert em.sent.traps == 2
        assert udp.recv(65535)[0] == 0x30  # a BER SEQUENCE: an SNMP message
    finally:
        server.shutdown()
        server.server_close()
        udp.close()
