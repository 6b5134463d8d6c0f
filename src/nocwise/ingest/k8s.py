"""Kubernetes -> topology: nodes, pods, services and deployments as entities and relations.

:func:`topology_of` is pure: it takes the objects as the API serialises them (camelCase dicts,
``ApiClient.sanitize_for_serialization``) and returns entities and relations:
node ``k8s_node``; pod ``pod`` hosted_on its node; deployment and service ``microservice``;
a deployment contains the pods its ReplicaSets own (by the ``<deployment>-<hash>`` ReplicaSet
name) and a service depends_on the pods its selector matches. :class:`KubernetesCollector` reads
the objects with the official client.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nocwise.ingest.health import HealthBoard, SourceHealth
from nocwise.ingest.sink import Sink
from nocwise.model import Domain, Entity, Relation, RelationKind


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _labels(obj: Mapping[str, Any]) -> dict[str, str]:
    labels = _meta(obj).get("labels")
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _id(kind: str, obj: Mapping[str, Any]) -> str:
    meta = _meta(obj)
    ns = meta.get("namespace")
    return f"k8s/{kind}/{ns}/{meta.get('name')}" if ns else f"k8s/{kind}/{meta.get('name')}"


def topology_of(
    nodes: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    services: Sequence[Mapping[str, Any]],
    deployments: Sequence[Mapping[str, Any]],
) -> tuple[list[Entity], list[Relation]]:
    """The cluster's objects as entities and relations (objects without a name are skipped)."""
    entities: list[Entity] = []
    relations: list[Relation] = []
    for n in nodes:
        if not _meta(n).get("name"):
            continue
        info = (n.get("status") or {}).get("nodeInfo") or {}
        attrs = {
            k: str(info[k]) for k in ("kubeletVersion", "osImage", "architecture") if k in info
        }
        entities.append(
            Entity(_id("node", n), "k8s_node", Domain.IT, str(_meta(n)["name"]), attrs, _labels(n))
        )
    by_ns_pods: dict[str, list[tuple[str, dict[str, str], str]]] = {}
    for p in pods:
        meta = _meta(p)
        if not meta.get("name"):
            continue
        pid = _id("pod", p)
        status = p.get("status") or {}
        attrs = {"namespace": str(meta.get("namespace", "")), "phase": str(status.get("phase", ""))}
        if status.get("podIP"):
            attrs["ip"] = str(status["podIP"])
        entities.append(Entity(pid, "pod", Domain.IT, str(meta["name"]), attrs, _labels(p)))
        node = (p.get("spec") or {}).get("nodeName")
        if node:
            relations.append(Relation(pid, f"k8s/node/{node}", RelationKind.HOSTED_ON))
        owner = next(
            (
                o.get("name", "")
                for o in meta.get("ownerReferences") or []
                if o.get("kind") == "ReplicaSet"
            ),
            "",
        )
        by_ns_pods.setdefault(str(meta.get("namespace", "")), []).append(
            (pid, _labels(p), str(owner))
        )
    for d in deployments:
        meta = _meta(d)
        if not meta.get("name"):
            continue
        did = _id("deployment", d)
        ns, name = str(meta.get("namespace", "")), str(meta["name"])
        replicas = str((d.get("spec") or {}).get("replicas", ""))
        entities.append(
            Entity(
                did,
                "microservice",
                Domain.IT,
                name,
                {"namespace": ns, "replicas": replicas},
                _labels(d),
            )
        )
        for pid, _, owner in by_ns_pods.get(ns, []):
            if owner.rsplit("-", 1)[0] == name:
                relations.append(Relation(did, pid, RelationKind.CONTAINS))
    for s in services:
        meta = _meta(s)
        if not meta.get("name"):
            continue
        sid = _id("service", s)
        ns = str(meta.get("namespace", ""))
        spec = s.get("spec") or {}
        attrs = {
            "namespace": ns,
            "type": str(spec.get("type", "")),
            "clusterIP": str(spec.get("clusterIP", "")),
        }
        entities.append(
            Entity(sid, "microservice", Domain.IT, str(meta["name"]), attrs, _labels(s))
        )
        selector = spec.get("selector") or {}
        if selector:
            for pid, labels, _ in by_ns_pods.get(ns, []):
                if all(labels.get(k) == v for k, v in selector.items()):
                    relations.append(Relation(sid, pid, RelationKind.DEPENDS_ON))
    return entities, relations


class KubernetesCollector:
    """Lists the cluster with the official client and stores its topology."""

    def __init__(
        self,
        sink: Sink,
        health: HealthBoard,
        *,
        kubeconfig: Path | None = None,
        name: str = "kubernetes",
    ) -> None:
        self._sink = sink
        self._health: SourceHealth = health.source(name)
        self._kubeconfig = kubeconfig

    def _list(self) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        client: Any = importlib.import_module("kubernetes.client")
        config: Any = importlib.import_module("kubernetes.config")
        if self._kubeconfig is not None:
            config.load_kube_config(str(self._kubeconfig))
        else:
            try:
                config.load_incluster_config()
            except config.ConfigException:
                config.load_kube_config()
        api = client.ApiClient()
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)

        def plain(items: Any) -> list[Any]:
            return list(api.sanitize_for_serialization(items.items))

        return (
            plain(core.list_node()),
            plain(core.list_pod_for_all_namespaces()),
            plain(core.list_service_for_all_namespaces()),
            plain(apps.list_deployment_for_all_namespaces()),
        )

    async def collect(self, now: Any) -> int:
        """One pass over the cluster; returns the entities and relations stored."""
        nodes, pods, services, deployments = await asyncio.to_thread(self._list)
        entities, relations = topology_of(nodes, pods, services, deployments)
        stored = await self._sink.topology(entities, relations)
        self._health.record(len(entities) + len(relations), [], now)
        return stored
