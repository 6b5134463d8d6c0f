from __future__ import annotations

from nocwise.ingest.k8s import topology_of
from nocwise.model import Relation, RelationKind

NODE = {
    "metadata": {"name": "worker-1", "labels": {"zone": "a"}},
    "status": {"nodeInfo": {"kubeletVersion": "v1.31"}},
}
POD = {
    "metadata": {
        "name": "amf-7d9f-abcde",
        "namespace": "core",
        "labels": {"app": "amf"},
        "ownerReferences": [{"kind": "ReplicaSet", "name": "amf-7d9f"}],
    },
    "spec": {"nodeName": "worker-1"},
    "status": {"phase": "Running", "podIP": "10.42.0.7"},
}
DEPLOY = {"metadata": {"name": "amf", "namespace": "core"}, "spec": {"replicas": 1}}
SVC = {
    "metadata": {"name": "amf-sbi", "namespace": "core"},
    "spec": {"selector": {"app": "amf"}, "type": "ClusterIP"},
}


def test_objects_become_entities_and_relations() -> None:
    entities, relations = topology_of([NODE], [POD, {"metadata": {}}], [SVC], [DEPLOY])
    assert {(e.id, e.kind) for e in entities} == {
        ("k8s/node/worker-1", "k8s_node"),
        ("k8s/pod/core/amf-7d9f-abcde", "pod"),
        ("k8s/deployment/core/amf", "microservice"),
        ("k8s/service/core/amf-sbi", "microservice"),
    }
    pod = "k8s/pod/core/amf-7d9f-abcde"
    assert set(relations) == {
        Relation(pod, "k8s/node/worker-1", RelationKind.HOSTED_ON),
        Relation("k8s/deployment/core/amf", pod, RelationKind.CONTAINS),
        Relation("k8s/service/core/amf-sbi", pod, RelationKind.DEPENDS_ON),
    }
