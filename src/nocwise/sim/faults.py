"""The fault-type registry: name -> model (14 types over transport, power, core and IT)."""

from __future__ import annotations

from nocwise.sim.fault_base import FaultModel, finish_default
from nocwise.sim.faults_network import MODELS as NETWORK
from nocwise.sim.faults_service import MODELS as SERVICE

FAULT_TYPES: dict[str, FaultModel] = {m.name: m for m in (*NETWORK, *SERVICE)}

__all__ = ["FAULT_TYPES", "FaultModel", "finish_default"]
