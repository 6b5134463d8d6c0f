"""The digital twin of a CSP: topology, telemetry, faults, tickets and ground truth.

>>> from nocwise.sim import Twin, load_scenario
>>> twin = Twin(load_scenario("demo"))
>>> len(twin.entities) > 150
True
"""

from nocwise.sim.faults import FAULT_TYPES
from nocwise.sim.scenario import (
    FaultSpec,
    NoiseSpec,
    Scenario,
    ScenarioError,
    load_scenario,
    scenario_names,
)
from nocwise.sim.truth import FaultTruth, GroundTruth
from nocwise.sim.twin import Step, Twin

__all__ = [
    "FAULT_TYPES",
    "FaultSpec",
    "FaultTruth",
    "GroundTruth",
    "NoiseSpec",
    "Scenario",
    "ScenarioError",
    "Step",
    "Twin",
    "load_scenario",
    "scenario_names",
]
