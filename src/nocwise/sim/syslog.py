"""Network-element log lines in IOS-XR-, Junos- and SR OS-like formats, and application logs.

Each function returns ``(message, app, severity)``; the message is the syslog MSG part as the
vendor writes it, so a log parser sees the same variety it meets in a real network.

>>> from datetime import UTC, datetime
>>> msg, app, sev = router_line("juniper-junos", "agg-1", datetime(2026, 1, 5, tzinfo=UTC), "link_down", port=3)
>>> msg.startswith("SNMP_TRAP_LINK_DOWN"), app, sev
(True, 'mib2d', 4)
"""

from __future__ import annotations

from datetime import datetime


def _ifname(vendor: str, port: int) -> str:
    slot, p = divmod(port, 36)
    if vendor.startswith("cisco"):
        return f"TenGigE0/{slot}/0/{p}"
    if vendor.startswith("juniper"):
        return f"xe-{slot}/0/{p}"
    return f"{slot + 1}/1/{p + 1}"


def ifname(vendor: str, port: int) -> str:
    """The interface name a vendor would use for port ``port``."""
    return _ifname(vendor, port)


def _xr(ts: datetime, proc: str, pid: int, tag: str, text: str) -> str:
    stamp = ts.strftime("%b %d %H:%M:%S.") + f"{ts.microsecond // 1000:03d}"
    return f"RP/0/RSP0/CPU0:{stamp} UTC: {proc}[{pid}]: %{tag} : {text}"


def _sr(seq: int, ts: datetime, sev: str, app: str, code: int, text: str) -> str:
    stamp = ts.strftime("%Y/%m/%d %H:%M:%S.") + f"{ts.microsecond // 10000:02d}"
    return f"{seq} {stamp} UTC {sev}: {app} #{code} Base {text}"


def router_line(
    vendor: str, host: str, ts: datetime, event: str, **kw: object
) -> tuple[str, str, int]:
    """One log line for ``event`` on a router of ``vendor`` (see the event names below)."""
    port = int(str(kw.get("port", 1)))
    peer = str(kw.get("peer", "10.0.0.1"))
    user = str(kw.get("user", "noc"))
    value = str(kw.get("value", ""))
    seq = int(str(kw.get("seq", 1)))
    ifn = _ifname(vendor, port)
    if vendor.startswith("cisco"):
        table = {
            "link_down": (
                "ifmgr",
                227,
                "PKT_INFRA-LINK-3-UPDOWN",
                f"Interface {ifn}, changed state to Down",
                3,
            ),
            "link_up": (
                "ifmgr",
                227,
                "PKT_INFRA-LINK-3-UPDOWN",
                f"Interface {ifn}, changed state to Up",
                3,
            ),
            "isis_down": (
                "isis",
                1010,
                "ROUTING-ISIS-5-ADJCHANGE",
                f"Adjacency to {peer} ({ifn}) (L2) Down, Interface state down",
                5,
            ),
            "isis_up": (
                "isis",
                1010,
                "ROUTING-ISIS-5-ADJCHANGE",
                f"Adjacency to {peer} ({ifn}) (L2) Up, New adjacency",
                5,
            ),
            "bgp_down": (
                "bgp",
                1052,
                "ROUTING-BGP-5-ADJCHANGE",
                f"neighbor {peer} Down - BGP Notification sent, hold time expired (VRF: default) (AS: 65000)",
                5,
            ),
            "bgp_up": (
                "bgp",
                1052,
                "ROUTING-BGP-5-ADJCHANGE",
                f"neighbor {peer} Up (VRF: default) (AS: 65000)",
                5,
            ),
            "crc": (
                "pfm_node_rp",
                318,
                "PLATFORM-PFM-3-CRC_ERRORS",
                f"Interface {ifn}: input CRC errors {value} in last interval",
                3,
            ),
            "optic_low": (
                "optics_driver",
                412,
                "PKT_INFRA-FM-4-FAULT_MINOR",
                f"ALARM_MINOR :OPTICS RX POWER LANE-0 LOW ALARM :DECLARE :{ifn}: rx power {value} dBm",
                4,
            ),
            "cpu_high": (
                "wdsysmon",
                440,
                "HA-HA_WD-4-CPU_HOG_1",
                f"Process {value or 'bgp'} pid 1052 hogging CPU, total CPU {kw.get('cpu', 97)}%",
                4,
            ),
            "commit": (
                "config",
                65740,
                "MGBL-CONFIG-6-DB_COMMIT",
                f"Configuration committed by user '{user}'. Use 'show configuration commit changes {1000000000 + seq}' to view the changes.",
                6,
            ),
            "login": (
                "sshd",
                1203,
                "SECURITY-SSHD-6-INFO_SUCCESS",
                f"Successfully authenticated user '{user}' from '10.254.{seq % 200}.{port}' on 'vty0'(cipher 'aes128-ctr', mac 'hmac-sha2-256')",
                6,
            ),
            "ntp": (
                "ntpd",
                289,
                "IP-NTP-5-SYNC_LOSS",
                "Synchronization lost : 10.254.0.123 : The association was removed",
                5,
            ),
            "lldp": (
                "lldp",
                351,
                "L2-LLDP-6-NEW_NEIGHBOUR",
                f"New LLDP neighbour {peer} on {ifn}",
                6,
            ),
        }
        proc, pid, tag, text, sev = table.get(event, table["lldp"])
        return _xr(ts, proc, pid, tag, text), proc, sev
    if vendor.startswith("juniper"):
        jt = {
            "link_down": (
                "mib2d",
                f"SNMP_TRAP_LINK_DOWN: ifIndex {500 + port}, ifAdminStatus up(1), ifOperStatus down(2), ifName {ifn}",
                4,
            ),
            "link_up": (
                "mib2d",
                f"SNMP_TRAP_LINK_UP: ifIndex {500 + port}, ifAdminStatus up(1), ifOperStatus up(1), ifName {ifn}",
                6,
            ),
            "isis_down": (
                "rpd",
                f"RPD_ISIS_ADJDOWN: IS-IS lost L2 adjacency to {peer} on {ifn}.0, reason: Interface Down",
                4,
            ),
            "isis_up": ("rpd", f"RPD_ISIS_ADJUP: IS-IS new L2 adjacency to {peer} on {ifn}.0", 6),
            "bgp_down": (
                "rpd",
                f"BGP_IO_ERROR_CLOSE_SESSION: BGP peer {peer} (Internal AS 65000) changed state from Established to Idle (event HoldTime)",
                4,
            ),
            "bgp_up": (
                "rpd",
                f"RPD_BGP_NEIGHBOR_STATE_CHANGED: BGP peer {peer} (Internal AS 65000) changed state from OpenConfirm to Established (event RecvKeepAlive)",
                6,
            ),
            "crc": ("fpc0", f"PFE_FW_SYSLOG: {ifn} input errors: CRC/Align errors {value}", 3),
            "optic_low": (
                "chassisd",
                f"CHASSISD_SNMP_TRAP7: SNMP trap generated: Rx power low warning set (jnxDomCurrentRxLaserPower {value} dBm, ifName {ifn})",
                4,
            ),
            "cpu_high": (
                "eventd",
                f"SYSTEM_ABNORMAL_SHUTDOWN: Routing Engine CPU utilization {kw.get('cpu', 97)}% exceeds threshold, top process {value or 'rpd'}",
                4,
            ),
            "commit": (
                "mgd",
                f"UI_COMMIT: User '{user}' requested 'commit' operation (comment: change {seq})",
                6,
            ),
            "login": (
                "sshd",
                f"Accepted publickey for {user} from 10.254.{seq % 200}.{port} port {40000 + seq % 20000} ssh2",
                6,
            ),
            "ntp": ("xntpd", "NTP Server 10.254.0.123 is Unreachable", 4),
            "lldp": ("lldpd", f"LLDP_NEIGHBOR_UP: LLDP neighbor up on {ifn}: {peer}", 6),
        }
        app, text, sev = jt.get(event, jt["lldp"])
        return text, app, sev
    st = {
        "link_down": ("MINOR", "SNMP", 2004, f'{ifn} "Interface {ifn} is not operational"', 4),
        "link_up": ("MINOR", "SNMP", 2005, f'{ifn} "Interface {ifn} is operational"', 5),
        "isis_down": (
            "WARNING",
            "ISIS",
            2002,
            f'VR:  1 ISIS (0) "Adjacency status changed to down for {ifn}, level 2, neighbor {peer}"',
            4,
        ),
        "isis_up": (
            "WARNING",
            "ISIS",
            2002,
            f'VR:  1 ISIS (0) "Adjacency status changed to up for {ifn}, level 2, neighbor {peer}"',
            5,
        ),
        "bgp_down": (
            "MINOR",
            "BGP",
            2002,
            f'Peer 1: {peer} "Base BGP Peer 1: {peer}: moved from higher state ESTABLISHED to lower state IDLE due to event HOLD TIMER EXPIRED"',
            4,
        ),
        "bgp_up": (
            "MINOR",
            "BGP",
            2001,
            f'Peer 1: {peer} "Base BGP Peer 1: {peer}: moved into higher state ESTABLISHED"',
            5,
        ),
        "crc": (
            "MAJOR",
            "PORT",
            2219,
            f'{ifn} "CRC error rate {value} exceeds threshold on port {ifn}"',
            3,
        ),
        "optic_low": (
            "MINOR",
            "PORT",
            2207,
            f'{ifn} "Rx optical power {value} dBm below low warning threshold"',
            4,
        ),
        "cpu_high": (
            "MAJOR",
            "SYSTEM",
            2052,
            f'CPU "CPU usage {kw.get("cpu", 97)}% above rising threshold, top task {value or "BGP"}"',
            3,
        ),
        "commit": (
            "INFO",
            "SYSTEM",
            2006,
            f'CONFIG "Configuration modified by {user} (commit {seq})"',
            6,
        ),
        "login": (
            "INFO",
            "USER",
            2010,
            f'cli user login "User {user} from 10.254.{seq % 200}.{port} logged in"',
            6,
        ),
        "ntp": ("MINOR", "NTP", 2009, '"NTP server 10.254.0.123 unreachable"', 4),
        "lldp": ("INFO", "LLDP", 2001, f'{ifn} "LLDP remote peer {peer} added"', 6),
    }
    level, app, code, text, sev = st.get(event, st["lldp"])
    return _sr(seq, ts, level, app, code, text), app.lower(), sev


BENIGN_ROUTER_EVENTS = ("login", "ntp", "lldp", "commit")

_APP_INFO = (
    "GET /api/v1/{res}/{n} 200 {ms}ms",
    "POST /api/v1/{res} 201 {ms}ms",
    "cache refresh completed for {res} in {ms}ms",
    "processed batch of {n} {res} events",
)
_APP_ERROR = {
    "deployment": (
        'ERROR Unhandled exception in /api/v1/{res}: java.lang.NullPointerException: Cannot invoke "{res}Dto.getId()" because "dto" is null',
        "ERROR 500 Internal Server Error POST /api/v1/{res} after {ms}ms (version {version})",
        "WARN retrying request to {res} (attempt {n}/3)",
    ),
    "database": (
        "WARN slow query on {db}: SELECT * FROM {res} WHERE customer_id = $1 took {ms}ms",
        "ERROR timeout acquiring connection from pool for {db} after {ms}ms",
    ),
    "dns": (
        "ERROR getaddrinfo EAI_AGAIN {res}.bss.svc.cluster.local",
        "WARN DNS lookup for {db} took {ms}ms",
    ),
    "certificate": (
        "ERROR javax.net.ssl.SSLHandshakeException: PKIX path validation failed: java.security.cert.CertificateExpiredException: NotAfter: {version}",
        "ERROR TLS handshake with {res} failed: certificate has expired",
    ),
    "disk": (
        "ERROR write failed: No space left on device (errno 28) path=/var/lib/{res}",
        "FATAL could not write WAL segment: No space left on device",
    ),
    "upstream": (
        "ERROR upstream {res} returned 503 Service Unavailable after {ms}ms",
        "WARN circuit breaker OPEN for {res}",
    ),
}


def app_line(kind: str, service: str, rnd: int, **kw: object) -> tuple[str, int]:
    """An application log line: ``kind`` is ``info`` or one of the error families above."""
    res = service.removeprefix("svc-").replace("-", "_")
    fmt = {"res": str(kw.get("res", res)), "n": rnd % 997, "ms": 20 + rnd % 4000,
           "db": str(kw.get("db", "db")), "version": str(kw.get("version", ""))}  # fmt: skip
    if kind == "info":
        return _APP_INFO[rnd % len(_APP_INFO)].format(**fmt), 6
    lines = _APP_ERROR[kind]
    text = lines[rnd % len(lines)].format(**fmt)
    return text, 3 if text.startswith(("ERROR", "FATAL")) else 4
