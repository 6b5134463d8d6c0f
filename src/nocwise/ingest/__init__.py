"""Ingestion: every source's wire format mapped once, at the edge, onto the canonical model.

Layers, each knowing only the one to its right: receivers (HTTP routers in ``http``, the
``syslog_server`` and ``snmp_server`` listeners, the ``promql`` and ``k8s`` pullers, ``files``
replay) -> pure parsers (``parse(body, ...) -> ParseResult``, no I/O: ``remote_write``,
``alertmanager``, ``otlp``, ``syslog``, ``snmp``, ``tmf642``, ``ves``, ``tickets``,
``inventory``, ``changes``) -> a durable :class:`~nocwise.ingest.sink.Sink`
(``sqlite_sink.SqliteSink`` standalone, the state store in the application).
Per-source health (``health``) counts what arrived and every rejection by reason.
"""
