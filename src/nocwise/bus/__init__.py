"""The bus between stages: topics of records; memory in one process, NATS JetStream when scaled out."""

from nocwise.bus.base import TOPICS, Bus, BusFullError
from nocwise.bus.memory import MemoryBus

__all__ = ["TOPICS", "Bus", "BusFullError", "MemoryBus"]
