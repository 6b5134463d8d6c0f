"""The Prometheus remote_write v1 messages (prometheus/prompb types.proto + remote.proto).

Built from descriptors in code instead of generated ``_pb2`` files: only the fields nocwise reads,
with the upstream field numbers, so the wire format is the upstream one.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import (  # type: ignore[import-untyped]
    descriptor_pb2,
    descriptor_pool,
    message_factory,
)

_F = descriptor_pb2.FieldDescriptorProto


def _file() -> descriptor_pb2.FileDescriptorProto:
    f = descriptor_pb2.FileDescriptorProto(name="nocwise/prompb.proto", package="prometheus")
    f.syntax = "proto3"

    def message(name: str, *fields: tuple[str, int, int, int, str]) -> None:
        m = f.message_type.add(name=name)
        for fname, number, ftype, label, type_name in fields:
            fd = m.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                fd.type_name = type_name

    opt, rep = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED
    message(
        "Sample", ("value", 1, _F.TYPE_DOUBLE, opt, ""), ("timestamp", 2, _F.TYPE_INT64, opt, "")
    )
    message("Label", ("name", 1, _F.TYPE_STRING, opt, ""), ("value", 2, _F.TYPE_STRING, opt, ""))
    message(
        "TimeSeries",
        ("labels", 1, _F.TYPE_MESSAGE, rep, ".prometheus.Label"),
        ("samples", 2, _F.TYPE_MESSAGE, rep, ".prometheus.Sample"),
    )
    message(
        "MetricMetadata",
        ("type", 1, _F.TYPE_INT32, opt, ""),
        ("metric_family_name", 2, _F.TYPE_STRING, opt, ""),
        ("help", 4, _F.TYPE_STRING, opt, ""),
        ("unit", 5, _F.TYPE_STRING, opt, ""),
    )
    message(
        "WriteRequest",
        ("timeseries", 1, _F.TYPE_MESSAGE, rep, ".prometheus.TimeSeries"),
        ("metadata", 3, _F.TYPE_MESSAGE, rep, ".prometheus.MetricMetadata"),
    )
    return f


_pool = descriptor_pool.DescriptorPool()
_pool.Add(_file())

WriteRequest: Any = message_factory.GetMessageClass(
    _pool.FindMessageTypeByName("prometheus.WriteRequest")
)
