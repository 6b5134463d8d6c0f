"""SNMP trap / INFORM receiver (v1, v2c, v3 USM) on pysnmp's asyncio engine.

Unlike pysnmp's stock ``NotificationReceiver``, an INFORM is answered only after its records
are stored by the sink, so a sender that gets no answer (store down, process killed) resends it.
Traps carry no acknowledgement; their records are written the same way. OIDs are named from the
built-in table in :mod:`nocwise.ingest.snmp` and from compiled pysnmp MIB modules found in
``mib_dirs`` (``*.py`` as produced by pysmi's ``mibdump``).

For SNMPv3 traps (not INFORMs) the sender's authoritative engine id must be configured per user
(``engine_id``, hex); INFORMs use the receiver's own engine id and need none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pysnmp.carrier.asyncio.dgram import udp  # type: ignore[import-untyped]
from pysnmp.entity import config, engine  # type: ignore[import-untyped]
from pysnmp.proto import rfc3411  # type: ignore[import-untyped]
from pysnmp.proto.api import v1, v2c  # type: ignore[import-untyped]
from pysnmp.proto.proxy import rfc2576  # type: ignore[import-untyped]
from pysnmp.smi import builder, view  # type: ignore[import-untyped]

from nocwise.clock import Clock
from nocwise.ingest import snmp
from nocwise.ingest.base import Invalid, Rejection
from nocwise.ingest.health import HealthBoard, SourceHealth
from nocwise.ingest.sink import Overloaded, Sink

log = logging.getLogger("nocwise.ingest.snmp")

_AUTH = {
    "none": config.USM_AUTH_NONE, "md5": config.USM_AUTH_HMAC96_MD5,
    "sha": config.USM_AUTH_HMAC96_SHA, "sha224": config.USM_AUTH_HMAC128_SHA224,
    "sha256": config.USM_AUTH_HMAC192_SHA256, "sha384": config.USM_AUTH_HMAC256_SHA384,
    "sha512": config.USM_AUTH_HMAC384_SHA512,
}  # fmt: skip
_PRIV = {
    "none": config.USM_PRIV_NONE, "des": config.USM_PRIV_CBC56_DES,
    "3des": config.USM_PRIV_CBC168_3DES, "aes": config.USM_PRIV_CFB128_AES,
    "aes192": config.USM_PRIV_CFB192_AES, "aes256": config.USM_PRIV_CFB256_AES,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class UsmUser:
    """An SNMPv3 user; ``engine_id`` (hex) is the trap sender's, needed for v3 traps."""

    name: str
    auth_protocol: str = "sha"
    auth_key: str | None = None
    priv_protocol: str = "aes"
    priv_key: str | None = None
    engine_id: str | None = None


@dataclass(frozen=True, slots=True)
class SnmpOptions:
    host: str = "127.0.0.1"
    port: int = 1162
    communities: Sequence[str] = ("public",)
    users: Sequence[UsmUser] = ()
    mib_dirs: Sequence[Path] = field(default_factory=tuple)


class MibNamer:
    """OID -> ``MODULE::name.index``: the built-in table first, then the loaded MIB modules."""

    def __init__(self, mib_dirs: Sequence[Path] = ()) -> None:
        self._builder = builder.MibBuilder()
        modules = []
        for d in mib_dirs:
            self._builder.add_mib_sources(builder.DirMibSource(str(d)))
            modules += [p.stem for p in Path(d).glob("*.py") if not p.stem.startswith("_")]
        self._builder.load_modules("SNMPv2-MIB", *modules)
        self._view = view.MibViewController(self._builder)
        self._cache: dict[str, str] = {}

    def __call__(self, oid: str) -> str:
        name = self._cache.get(oid)
        if name is not None:
            return name
        name = snmp.builtin_name(oid)
        if name == oid:
            with contextlib.suppress(Exception):  # pysnmp raises its own error for unknown OIDs
                arcs = tuple(int(a) for a in oid.split("."))
                found, _label, suffix = self._view.get_node_name_by_oid(arcs)
                module, sym, _ = self._view.get_node_location(found)
                name = f"{module}::{sym}" + ("." + ".".join(map(str, suffix)) if suffix else "")
        if len(self._cache) < 100_000:
            self._cache[oid] = name
        return name


class SnmpServer:
    """Receives notifications on UDP and writes them through the sink."""

    def __init__(
        self,
        sink: Sink,
        health: HealthBoard,
        clock: Clock,
        options: SnmpOptions | None = None,
        name: str = "snmp",
    ) -> None:
        self.options = options or SnmpOptions()
        self._sink = sink
        self._clock = clock
        self._health: SourceHealth = health.source(name)
        self._namer = MibNamer(self.options.mib_dirs)
        self._engine: Any = None
        self._sock: socket.socket | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._peer = ""
        self._community = ""

    @property
    def port(self) -> int | None:
        return None if self._sock is None else int(self._sock.getsockname()[1])

    async def start(self) -> None:
        o = self.options
        eng = engine.SnmpEngine()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((o.host, o.port))
        config.add_transport(
            eng, udp.DOMAIN_NAME, udp.UdpTransport().open_server_mode(sock=self._sock)
        )
        for i, community in enumerate(o.communities):
            config.add_v1_system(eng, f"area-{i}", community)
        for u in o.users:
            config.add_v3_user(
                eng,
                u.name,
                _AUTH[u.auth_protocol] if u.auth_key else config.USM_AUTH_NONE,
                u.auth_key,
                _PRIV[u.priv_protocol] if u.priv_key else config.USM_PRIV_NONE,
                u.priv_key,
                securityEngineId=v2c.OctetString(hexValue=u.engine_id) if u.engine_id else None,
            )
        eng.observer.register_observer(self._observe, "rfc3412.receiveMessage:request")
        eng.observer.register_observer(self._observe_community, "rfc2576.processIncomingMsg")
        eng.message_dispatcher.register_context_engine_id(b"", _PDU_TYPES, self._process_pdu)
        self._engine = eng

    async def stop(self) -> None:
        """Wait for notifications in flight to be stored, then close the socket."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._engine is not None:
            self._engine.close_dispatcher()
            self._engine = None
        self._sock = None

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _observe(self, eng: Any, point: str, variables: dict[str, Any], ctx: Any) -> None:
        addr = variables.get("transportAddress")
        self._peer = str(addr[0]) if addr else ""

    def _observe_community(self, eng: Any, point: str, variables: dict[str, Any], ctx: Any) -> None:
        self._community = str(variables.get("communityName", ""))

    def _process_pdu(
        self, eng: Any, mp_model: Any, sec_model: Any, sec_name: Any, sec_level: Any,
        ctx_engine_id: Any, ctx_name: Any, pdu_version: Any, pdu: Any, max_size: Any, state_ref: Any,
    ) -> None:  # fmt: skip
        orig = pdu
        if mp_model == 0:
            pdu = rfc2576.v1_to_v2(pdu, snmpTrapCommunity=self._community)
        varbinds = [(str(o), _text(v)) for o, v in v2c.apiPDU.get_varbinds(pdu)]
        security = f"v{'1' if mp_model == 0 else '2c' if mp_model == 1 else '3'}:{sec_name}"
        confirmed = pdu.tagSet in rfc3411.CONFIRMED_CLASS_PDUS

        def respond() -> None:
            rsp = v2c.apiPDU.get_response(pdu)
            v2c.apiPDU.set_error_status(rsp, "noError")
            v2c.apiPDU.set_error_index(rsp, 0)
            v2c.apiPDU.set_varbinds(rsp, v2c.apiPDU.get_varbinds(pdu))
            if mp_model == 0:
                rsp = rfc2576.v2_to_v1(rsp, orig)
            with contextlib.suppress(Exception):  # the sender will simply retry
                eng.message_dispatcher.return_response_pdu(
                    eng, mp_model, sec_model, sec_name, sec_level, ctx_engine_id, ctx_name,
                    pdu_version, rsp, max_size, state_ref, {},
                )  # fmt: skip

        task = asyncio.get_running_loop().create_task(
            self._store(varbinds, self._peer, security, respond if confirmed else None)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _store(
        self, varbinds: list[tuple[str, str]], peer: str, security: str, ack: Any
    ) -> None:
        now = self._clock.now()
        try:
            record, alarm = snmp.records_of(varbinds, peer, now, self._namer, security)
        except Invalid as exc:
            self._health.record(0, [Rejection(exc.reason, exc.detail)], now)
            if ack is not None:
                ack()  # a well-formed INFORM that we cannot map is still delivered: no resend
            return
        try:
            await self._sink.logs([record])
            if alarm is not None:
                await self._sink.alarms([alarm])
        except Overloaded:
            self._health.overloaded += 1
            return  # no answer: an INFORM sender resends
        except Exception:
            log.exception("snmp: storing a notification from %s failed", peer)
            return
        self._health.record(1, [], now)
        if ack is not None:
            ack()


_PDU_TYPES = (v1.TrapPDU.tagSet, v2c.SNMPv2TrapPDU.tagSet, v2c.InformRequestPDU.tagSet)


def _text(value: Any) -> str:
    try:
        if isinstance(value, v2c.OctetString):
            raw = bytes(value)
            try:
                decoded = raw.decode("utf-8")
            except UnicodeDecodeError:
                return raw.hex()
            return decoded if decoded.isprintable() else raw.hex()
        return str(value.prettyPrint())
    except Exception:
        return repr(value)
