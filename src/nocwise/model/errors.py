"""Errors raised when a record breaks the canonical model's invariants."""


class InvalidRecordError(ValueError):
    """A record violates an invariant of the canonical model; the message says which."""
