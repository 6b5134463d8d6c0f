"""The digital twin of a CSP: topology, telemetry, faults, tickets and ground truth.

``Twin(load_scenario(name))`` builds a seeded network (``topology``), its series
(``telemetry``), schedules faults (``faults_network``, ``faults_service``) and background
(``noise``) on a discrete-event core (``engine``), and yields one :class:`Step` per scenario step.
``twin.truth`` is the ledger the benchmarks score against (``scoring``); ``writer`` puts a run in
files, ``emit`` sends it over the real protocols, ``cli`` is ``nocwise sim``.

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
from nocwise.sim.truth import AnomalyWindow, FaultTruth, GroundTruth
from nocwise.sim.twin import Step, Twin

__all__ = [
    "FAULT_TYPES",
    "AnomalyWindow",
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
