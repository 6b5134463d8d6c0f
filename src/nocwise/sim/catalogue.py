"""The fault types the twin knows, the entity kinds they start on, and the remediation that
fixes each one (the label a recommender should learn)."""

from __future__ import annotations

REMEDIATION: dict[str, str] = {
    "fibre_cut": "dispatch_fibre_repair",
    "site_power_failure": "dispatch_power_technician",
    "optical_degradation": "replace_optic",
    "router_cpu_overload": "restart_process",
    "adjacency_loss": "reset_routing_adjacency",
    "upf_memory_leak": "restart_nf",
    "amf_overload": "scale_out_nf",
    "dns_ddos": "enable_ddos_mitigation",
    "bad_deployment": "rollback_deployment",
    "db_slow_queries": "kill_slow_queries",
    "certificate_expiry": "renew_certificate",
    "disk_full": "clean_up_disk",
    "misconfiguration": "rollback_configuration",
    "capacity_congestion": "add_capacity",
}

ROOT_KINDS: dict[str, tuple[str, ...]] = {
    "fibre_cut": ("link",),
    "site_power_failure": ("power",),
    "optical_degradation": ("link",),
    "router_cpu_overload": ("agg_router", "core_router"),
    "adjacency_loss": ("agg_router", "core_router"),
    "upf_memory_leak": ("upf",),
    "amf_overload": ("amf",),
    "dns_ddos": ("dns",),
    "bad_deployment": ("microservice",),
    "db_slow_queries": ("database",),
    "certificate_expiry": ("microservice", "nrf"),
    "disk_full": ("k8s_node", "database"),
    "misconfiguration": ("agg_router", "csr"),
    "capacity_congestion": ("cell", "link"),
}

CLOSURE_CODE: dict[str, str] = {
    "dispatch_fibre_repair": "FIBRE REPAIRED",
    "dispatch_power_technician": "POWER RESTORED ON SITE",
    "replace_optic": "HW REPLACED - OPTIC/SFP",
    "restart_process": "PROCESS RESTARTED",
    "reset_routing_adjacency": "ROUTING SESSION RESET",
    "restart_nf": "NF RESTARTED",
    "scale_out_nf": "CAPACITY SCALED OUT",
    "enable_ddos_mitigation": "DDOS MITIGATION APPLIED",
    "rollback_deployment": "SW ROLLBACK",
    "kill_slow_queries": "DB QUERY TERMINATED / TUNED",
    "renew_certificate": "CERTIFICATE RENEWED",
    "clean_up_disk": "DISK SPACE FREED",
    "rollback_configuration": "CONFIG ROLLED BACK",
    "add_capacity": "CAPACITY UPGRADE",
}
"""Remediation -> the closure code an engineer picks when resolving a ticket."""
