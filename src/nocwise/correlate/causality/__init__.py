"""Alarm-type causality learned from alarm history, used to group alarms into incidents."""

from nocwise.correlate.causality.events import AlarmEvents
from nocwise.correlate.causality.model import AlarmCausalConfig, AlarmCausalModel

__all__ = ["AlarmCausalConfig", "AlarmCausalModel", "AlarmEvents"]
