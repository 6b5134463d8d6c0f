"""Ingestion: every source's wire format mapped once, at the edge, onto the canonical model.

Layers, each knowing only the one to its right: receivers (HTTP routers, syslog and SNMP
servers) -> pure parsers (``parse(body, ...) -> ParseResult``, no I/O) -> :class:`Sink` (durable).
"""
