"""What tests do to the fake besides HTTP: read and seed objects, drift, health switches.

None of these go over HTTP, so none of them show up in the request log.
"""

from __future__ import annotations

from typing import Any

from . import status
from .catalog import ResourceType
from .fields import path_string
from .store import Cluster, Write


class Switches(Cluster):
    # -- objects, without HTTP (nothing is logged) ------------------------------------

    def _type(self, kind: str, api_version: str | None = None) -> ResourceType:
        if api_version:
            return self.type_for(api_version, kind)
        matches = [rt for rt in self.types() if rt.kind == kind]
        builtin = [rt for rt in matches if not rt.custom]
        chosen = builtin or matches
        if len(chosen) != 1:
            raise LookupError(f"{len(chosen)} resource types serve kind {kind}: pass api_version")
        return chosen[0]

    def get_object(
        self, api_version: str, kind: str, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        with self.lock:
            self.tick()
            rt = self.type_for(api_version, kind)
            obj = self.objects.get(self.key(rt, namespace, name))
            return self.out(rt, obj) if obj is not None else None

    def list_objects(
        self, api_version: str, kind: str, namespace: str | None = None
    ) -> list[dict[str, Any]]:
        with self.lock:
            self.tick()
            rt = self.type_for(api_version, kind)
            return [
                self.out(rt, o)
                for k, o in sorted(self.objects.items())
                if k[:2] == (rt.group, rt.plural) and (namespace is None or k[2] == namespace)
            ]

    def seed(
        self, manifest: dict[str, Any], field_manager: str = "kubectl-create"
    ) -> dict[str, Any]:
        """Create an object as another client would (POST; an Update-operation manager)."""
        with self.lock:
            rt = self.type_for(manifest["apiVersion"], manifest["kind"])
            namespace = (manifest.get("metadata") or {}).get("namespace")
            if rt.namespaced and not namespace:
                namespace = "default"
            result, _ = self.create(rt, namespace, manifest, Write(field_manager, rt.api_version))
            return result

    def apply_manifest(
        self, manifest: dict[str, Any], field_manager: str, force: bool = False
    ) -> dict[str, Any]:
        """Server-side apply as another field manager would."""
        with self.lock:
            rt = self.type_for(manifest["apiVersion"], manifest["kind"])
            meta = manifest.get("metadata") or {}
            namespace = meta.get("namespace") or ("default" if rt.namespaced else None)
            write = Write(field_manager, rt.api_version, force=force)
            result, _ = self.apply(rt, namespace, meta["name"], manifest, write)
            return result

    def edit(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        name: str,
        patch: dict[str, Any],
        field_manager: str = "kubectl-edit",
    ) -> dict[str, Any]:
        """Drift: someone merge-patches the live object (e.g. `kubectl edit`, an HPA)."""
        with self.lock:
            rt = self.type_for(api_version, kind)
            result, _ = self.patch(
                rt, namespace, name, patch, "merge", Write(field_manager, rt.api_version)
            )
            return result

    def remove(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        name: str,
        propagation: str = "Background",
    ) -> None:
        with self.lock:
            rt = self.type_for(api_version, kind)
            self.delete(rt, namespace, name, {"propagationPolicy": propagation})

    def managers(
        self, api_version: str, kind: str, namespace: str | None, name: str
    ) -> dict[str, list[str]]:
        """{manager: [".spec.replicas", ...]}: what each field manager owns (leaves and items).

        Keys are the manager name, suffixed with `/status` for status-subresource entries
        and `(Update)` for Update-operation entries when the same manager also applies."""
        with self.lock:
            rt = self.type_for(api_version, kind)
            entries = self.managed.get(self.key(rt, namespace, name), [])
            names = [e.manager for e in entries]
            owned: dict[str, list[str]] = {}
            for entry in entries:
                label = entry.manager + (f"/{entry.subresource}" if entry.subresource else "")
                if entry.operation == "Update" and names.count(entry.manager) > 1:
                    label += " (Update)"
                owned[label] = sorted(path_string(p) for p in entry.fields)
            return owned

    # -- health switches -------------------------------------------------------------

    def set_status(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        name: str,
        new_status: dict[str, Any],
        manager: str = "kube-controller-manager",
    ) -> dict[str, Any]:
        """Replace an object's status, as its controller would (status subresource)."""
        with self.lock:
            rt = self.type_for(api_version, kind)
            return self.write_status(rt, self.key(rt, namespace, name), new_status, manager)

    def make_ready(
        self, kind: str, namespace: str | None, name: str, api_version: str | None = None
    ) -> dict[str, Any]:
        """Healthy: Deployment/ReplicaSet/StatefulSet/DaemonSet/Rollout rolled out and
        available, Job complete, PVC Bound, Pod running and ready, LoadBalancer Service
        with an ingress address; CRD Established."""
        with self.lock:
            self.tick()
            rt = self._type(kind, api_version)
            if rt.kind == "CustomResourceDefinition" and not rt.custom:
                return self.establish_crd(name)
            key = self.key(rt, namespace, name)
            if key not in self.objects:
                raise LookupError(f"no {rt.kind} {namespace}/{name}")
            return self.write_ready(rt, key, True)

    def make_unready(
        self, kind: str, namespace: str | None, name: str, api_version: str | None = None
    ) -> dict[str, Any]:
        """Back to "observed, pods not ready" (e.g. a Deployment losing availability)."""
        with self.lock:
            rt = self._type(kind, api_version)
            return self.write_ready(rt, self.key(rt, namespace, name), False)

    def make_available(self, namespace: str, name: str) -> dict[str, Any]:
        """The Deployment's current generation is rolled out: Available=True,
        Progressing=True/NewReplicaSetAvailable, observedGeneration and replica counts set."""
        return self.make_ready("Deployment", namespace, name)

    def fail_progress(self, namespace: str, name: str) -> dict[str, Any]:
        """The Deployment's rollout failed: Progressing=False/ProgressDeadlineExceeded."""
        with self.lock:
            rt = self._type("Deployment")
            key = self.key(rt, namespace, name)
            return self.write_status(
                rt, key, status.deployment_failed(self.objects[key], self.now())
            )

    def complete_job(self, namespace: str, name: str) -> dict[str, Any]:
        return self.make_ready("Job", namespace, name)

    def fail_job(self, namespace: str, name: str) -> dict[str, Any]:
        """Job Failed=True/BackoffLimitExceeded."""
        with self.lock:
            rt = self._type("Job")
            key = self.key(rt, namespace, name)
            return self.write_status(rt, key, status.job_failed(self.objects[key], self.now()))

    def bind_pvc(self, namespace: str, name: str) -> dict[str, Any]:
        return self.make_ready("PersistentVolumeClaim", namespace, name)

    def set_load_balancer(
        self, namespace: str, name: str, ingress: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """status.loadBalancer.ingress of a LoadBalancer Service (default 203.0.113.10)."""
        with self.lock:
            rt = self._type("Service")
            key = self.key(rt, namespace, name)
            lb = status.service_status(self.objects[key], True, ingress)
            return self.write_status(rt, key, lb)
