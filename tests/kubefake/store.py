"""The fake's API semantics, without HTTP: objects, versions, apply, delete.

`Cluster` holds every object in memory keyed by (group, resource, namespace,
name), shared by all served versions of a type (like a CRD with conversion
strategy None: only apiVersion differs). Every method runs under `lock`.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import defaults, managed, patches
from .catalog import BUILTINS, ROLLOUT, ResourceType, crd_types
from .errors import (
    ApiError,
    already_exists,
    bad_request,
    cause,
    invalid,
    modified,
    not_found,
    status_body,
)
from .fields import FieldError, merge, paths_of
from .selectors import (
    SelectorError,
    fields_match,
    labels_match,
    parse_field_selector,
    parse_label_selector,
)
from .status import TRACKED, controller_status

Key = tuple[str, str, str, str]
"""(group, plural, namespace or "", name)"""

RESET_METADATA = (
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
)
"""Metadata the server owns: never taken from a request body, never in a field set."""
CONTROLLER = "kube-controller-manager"
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
PROPAGATION = ("Orphan", "Background", "Foreground")


@dataclass
class Write:
    """How a write was asked for."""

    manager: str
    api_version: str
    dry_run: bool = False
    force: bool | None = None
    subresource: str = ""


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        obj["metadata"] = meta
    return meta


class Cluster:
    def __init__(
        self,
        *,
        strict_namespaces: bool = True,
        auto_ready: bool | float = False,
        crd_delay: float | None = 0.1,
        argo_rollouts: bool = True,
        nodes: int = 1,
        clock: Callable[[], datetime] | None = None,
        namespaces: tuple[str, ...] = SYSTEM_NAMESPACES,
    ) -> None:
        self.lock = threading.RLock()
        self.strict_namespaces = strict_namespaces
        self.auto_ready = auto_ready
        self.crd_delay = crd_delay
        self.nodes = nodes
        self._clock = clock or (lambda: datetime.now(UTC))
        self.objects: dict[Key, dict[str, Any]] = {}
        self.managed: dict[Key, list[managed.Entry]] = {}
        self.resource_version = 0
        self.allocator = defaults.Allocator()
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        self._crd_types: dict[str, list[ResourceType]] = {}
        self._pending_crds: dict[str, float | None] = {}
        self._pending_ready: dict[Key, float] = {}
        for rt in (*BUILTINS, *((ROLLOUT,) if argo_rollouts else ())):
            self._types[(rt.group, rt.version, rt.plural)] = rt
        system = Write("kube-apiserver", "v1")
        for name in namespaces:
            self.create(self.type_for("v1", "Namespace"), None, _namespace(name), system)

    # -- time and types ------------------------------------------------------------

    def now(self) -> str:
        return self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def types(self) -> list[ResourceType]:
        return list(self._types.values())

    def resource_type(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._types.get((group, version, plural))

    def type_for(self, api_version: str, kind: str) -> ResourceType:
        group, _, version = api_version.rpartition("/")
        for rt in self._types.values():
            if (rt.group, rt.version, rt.kind) == (group, version, kind):
                return rt
        raise LookupError(f"no resource type serves {api_version} {kind}")

    def _type_of_key(self, key: Key) -> ResourceType | None:
        return next((rt for rt in self._types.values() if (rt.group, rt.plural) == key[:2]), None)

    def key(self, rt: ResourceType, namespace: str | None, name: str) -> Key:
        return (rt.group, rt.plural, (namespace or "") if rt.namespaced else "", name)

    def out(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        result = copy.deepcopy(obj)
        result["apiVersion"], result["kind"] = rt.api_version, rt.kind
        return result

    # -- timed transitions ---------------------------------------------------------

    def tick(self) -> None:
        """Run what is due: CRDs becoming Established, delayed auto-ready statuses."""
        moment = time.monotonic()
        for name, deadline in list(self._pending_crds.items()):
            if deadline is not None and deadline <= moment:
                self.establish_crd(name)
        for key, deadline in list(self._pending_ready.items()):
            if deadline <= moment:
                del self._pending_ready[key]
                rt = self._type_of_key(key)
                if key in self.objects and rt is not None:
                    self.write_ready(rt, key, True)

    def write_ready(self, rt: ResourceType, key: Key, ready: bool) -> dict[str, Any]:
        obj = self.objects[key]
        status = controller_status(rt.kind, obj, ready, self.now(), self.nodes)
        if status is None:
            raise ValueError(f"the fake has no status model for {rt.kind}")
        return self.write_status(rt, key, status)

    def write_status(
        self, rt: ResourceType, key: Key, status: dict[str, Any], manager: str = CONTROLLER
    ) -> dict[str, Any]:
        """A controller's status update (PUT .../status), outside of any request."""
        live = self.objects.get(key)
        if live is None:
            raise not_found(rt.group, rt.plural, key[3])
        body = copy.deepcopy(live)
        body["status"] = copy.deepcopy(status)
        result, _ = self.update(
            rt, key[2], key[3], body, Write(manager, rt.api_version, subresource="status")
        )
        return result

    # -- reads -----------------------------------------------------------------------

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        obj = self.objects.get(self.key(rt, namespace, name))
        if obj is None:
            raise not_found(rt.group, rt.plural, name)
        return self.out(rt, obj)

    def list_items(
        self,
        rt: ResourceType,
        namespace: str | None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> dict[str, Any]:
        try:
            requirements = parse_label_selector(label_selector)
            terms = parse_field_selector(field_selector, rt.kind)
        except SelectorError as err:
            raise bad_request(f"unable to parse requirement: {err}") from err
        start: tuple[str, str] | None = None
        if continue_token:
            try:
                token = json.loads(base64.urlsafe_b64decode(continue_token.encode()))
                start = (token["ns"], token["name"])
            except (ValueError, KeyError, TypeError) as err:
                raise bad_request("continue key is not valid") from err
        keys = sorted(
            k
            for k in self.objects
            if k[:2] == (rt.group, rt.plural) and (namespace is None or k[2] == namespace)
        )
        matched = []
        for key in keys:
            if start is not None and (key[2], key[3]) <= start:
                continue
            obj = self.objects[key]
            if labels_match(requirements, obj["metadata"].get("labels")) and fields_match(
                terms, obj
            ):
                matched.append(key)
        metadata: dict[str, Any] = {"resourceVersion": str(self.resource_version)}
        if limit and len(matched) > limit:
            last = matched[limit - 1]
            token_bytes = json.dumps({"ns": last[2], "name": last[3], "rv": self.resource_version})
            metadata["continue"] = base64.urlsafe_b64encode(token_bytes.encode()).decode()
            metadata["remainingItemCount"] = len(matched) - limit
            matched = matched[:limit]
        items = []
        for key in matched:
            item = self.out(rt, self.objects[key])
            if not rt.custom:  # built-in LIST items carry no apiVersion/kind on the wire
                item.pop("apiVersion")
                item.pop("kind")
            items.append(item)
        return {
            "kind": f"{rt.kind}List",
            "apiVersion": rt.api_version,
            "metadata": metadata,
            "items": items,
        }

    # -- request checks ------------------------------------------------------------

    def _check_body(
        self, rt: ResourceType, namespace: str | None, name: str | None, body: Any, apply: bool
    ) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("the body of the request must be an object")
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if apply and (not api_version or not kind):
            raise bad_request(
                f"invalid object type: {api_version or ''}, Kind={kind or ''}: apply requires "
                "apiVersion and kind"
            )
        if api_version and api_version != rt.api_version:
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({rt.api_version})"
            )
        if kind and kind != rt.kind:
            raise bad_request(
                f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
            )
        meta = body.get("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if name is not None and meta.get("name") not in (None, name):
            raise bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the "
                f"URL ({name})"
            )
        if apply and not meta.get("name"):
            raise bad_request("metadata.name is required for apply")
        if rt.namespaced and meta.get("namespace") not in (None, "", namespace):
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        return body

    def _check_namespace(self, rt: ResourceType, namespace: str | None, name: str) -> None:
        if not rt.namespaced:
            return
        ns = self.objects.get(("", "namespaces", "", namespace or ""))
        if ns is None:
            if self.strict_namespaces:
                raise not_found("", "namespaces", namespace or "")
            return
        if ns["metadata"].get("deletionTimestamp"):
            message = (
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated"
            )
            raise ApiError(
                403,
                f'{rt.label} "{name}" is forbidden: {message}',
                reason="Forbidden",
                details={
                    "name": name,
                    "group": rt.group,
                    "kind": rt.plural,
                    "causes": [
                        {
                            "reason": "NamespaceTerminating",
                            "message": message,
                            "field": "metadata.namespace",
                        }
                    ],
                },
            )

    def _precondition(self, rt: ResourceType, live: dict[str, Any], body: dict[str, Any]) -> None:
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        if wanted and wanted != live["metadata"].get("resourceVersion"):
            raise modified(rt.group, rt.plural, live["metadata"]["name"])

    # -- the write pipeline --------------------------------------------------------

    def _tracked(self, rt: ResourceType, obj: dict[str, Any], subresource: str) -> dict[str, Any]:
        """The part of an object field managers can own."""
        view = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        meta = {k: v for k, v in (view.get("metadata") or {}).items() if k not in RESET_METADATA}
        if meta:
            view["metadata"] = meta
        else:
            view.pop("metadata", None)
        if subresource == "status":
            return {"status": view["status"]} if "status" in view else {}
        if rt.status:
            view.pop("status", None)
        return view

    def _paths(self, rt: ResourceType, obj: dict[str, Any], subresource: str) -> set[Any]:
        try:
            return paths_of(self._tracked(rt, obj, subresource), rt.custom)
        except FieldError as err:
            name = (obj.get("metadata") or {}).get("name", "")
            raise invalid(rt.group, rt.kind, name, [cause("", str(err))]) from err

    def _prepare(
        self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any], write: Write
    ) -> dict[str, Any]:
        """Server-owned metadata, status reset, defaults, validation, immutability, generation."""
        if write.subresource == "status":
            assert old is not None
            status = new.get("status")
            new = copy.deepcopy(old)
            new.pop("status", None)
            if status is not None:
                new["status"] = status
        elif rt.status:
            new.pop("status", None)
            if old is not None and "status" in old:
                new["status"] = copy.deepcopy(old["status"])
        meta = _meta(new)
        for field in RESET_METADATA:
            if field not in ("name", "namespace"):
                meta.pop(field, None)
        if old is not None:
            for field in RESET_METADATA:
                if field in old["metadata"] and field not in ("resourceVersion", "managedFields"):
                    meta[field] = old["metadata"][field]
        else:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = self.now()
            if not rt.namespaced:
                meta.pop("namespace", None)
        new["apiVersion"], new["kind"] = rt.api_version, rt.kind
        defaults.default(rt, new, old, self.allocator)
        defaults.validate(rt, new)
        if rt.kind == "CustomResourceDefinition" and not rt.custom:
            _validate_crd(new)
        if old is not None:
            defaults.immutable(rt, old, new)
        if rt.generation:
            before = old["metadata"].get("generation", 1) if old is not None else 0
            changed = old is None or _spec_view(rt, old) != _spec_view(rt, new)
            meta["generation"] = before + 1 if changed else before
        return new

    def _commit(
        self,
        rt: ResourceType,
        key: Key,
        old: dict[str, Any] | None,
        new: dict[str, Any],
        entries: list[managed.Entry],
        write: Write,
    ) -> tuple[dict[str, Any], int]:
        now = self.now()
        meta = new["metadata"]
        if write.subresource != "status" and self._controllers_react(rt, old, new):
            ready = self.auto_ready is True
            status = controller_status(rt.kind, new, ready, now, self.nodes)
            if status is not None:
                before = copy.deepcopy(new)
                new["status"] = status
                entries = managed.record_update(
                    entries,
                    CONTROLLER,
                    rt.api_version,
                    "status",
                    before,
                    new,
                    paths_of({"status": status}, rt.custom),
                    now,
                )
                delay = self.auto_ready
                if not isinstance(delay, bool) and delay > 0 and not write.dry_run:
                    self._pending_ready[key] = time.monotonic() + float(delay)
        if rt.kind == "CustomResourceDefinition" and not rt.custom and old is None:
            new["status"] = _crd_status(new, established=False, now=now)
        entries = managed.prune(entries, new)
        if entries:
            meta["managedFields"] = managed.render(entries)
        else:
            meta.pop("managedFields", None)
        if old is not None and meta.get("deletionTimestamp") and not meta.get("finalizers"):
            if not write.dry_run:  # the last finalizer is gone: the object goes
                self._remove(key, "Background")
            return self.out(rt, new), 200
        unchanged = old is not None and _without_version(old) == _without_version(new)
        if unchanged:
            return self.out(rt, old), 200  # type: ignore[arg-type]
        if write.dry_run:
            if old is not None:
                meta["resourceVersion"] = old["metadata"]["resourceVersion"]
            return self.out(rt, new), 201 if old is None else 200
        self.resource_version += 1
        meta["resourceVersion"] = str(self.resource_version)
        self.objects[key] = new
        self.managed[key] = entries
        if rt.kind == "CustomResourceDefinition" and not rt.custom:
            self._crd_written(new, created=old is None)
        return self.out(rt, self.objects[key]), 201 if old is None else 200

    def _controllers_react(
        self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any]
    ) -> bool:
        if rt.kind not in TRACKED or (rt.custom and rt.kind != "Rollout"):
            return False
        if old is None:
            return True
        if rt.generation:
            return bool(old["metadata"].get("generation") != new["metadata"].get("generation"))
        if rt.kind == "Service":
            return bool((old.get("spec") or {}).get("type") != (new.get("spec") or {}).get("type"))
        return False

    # -- writes ------------------------------------------------------------------------

    def create(
        self, rt: ResourceType, namespace: str | None, body: Any, write: Write
    ) -> tuple[dict[str, Any], int]:
        body = copy.deepcopy(self._check_body(rt, namespace, None, body, apply=False))
        meta = _meta(body)
        name = meta.get("name")
        if not name and meta.get("generateName"):
            name = f"{meta['generateName']}{secrets.token_hex(3)[:5]}"
        if not name:
            raise invalid(
                rt.group,
                rt.kind,
                "",
                [cause("metadata.name", "Required value", "FieldValueRequired")],
            )
        meta["name"] = name
        if rt.namespaced:
            meta["namespace"] = namespace
        self._check_namespace(rt, namespace, name)
        key = self.key(rt, namespace, name)
        if key in self.objects:
            raise already_exists(rt.group, rt.plural, name)
        new = self._prepare(rt, None, body, write)
        entries = managed.record_update(
            [],
            write.manager,
            write.api_version,
            "",
            None,
            new,
            self._paths(rt, new, ""),
            self.now(),
        )
        return self._commit(rt, key, None, new, entries, write)

    def update(
        self, rt: ResourceType, namespace: str | None, name: str, body: Any, write: Write
    ) -> tuple[dict[str, Any], int]:
        body = copy.deepcopy(self._check_body(rt, namespace, name, body, apply=False))
        key = self.key(rt, namespace, name)
        live = self.objects.get(key)
        if live is None:
            raise not_found(rt.group, rt.plural, name)
        self._precondition(rt, live, body)
        meta = _meta(body)
        meta["name"] = name
        new = self._prepare(rt, live, body, write)
        entries = managed.record_update(
            managed.copy_entries(self.managed.get(key, [])),
            write.manager,
            write.api_version,
            write.subresource,
            live,
            new,
            self._paths(rt, new, write.subresource),
            self.now(),
        )
        return self._commit(rt, key, live, new, entries, write)

    def patch(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        patch: Any,
        patch_type: str,
        write: Write,
    ) -> tuple[dict[str, Any], int]:
        """A non-apply patch: "merge", "strategic" or "json"."""
        live = self.objects.get(self.key(rt, namespace, name))
        if live is None:
            raise not_found(rt.group, rt.plural, name)
        current = self.out(rt, live)
        try:
            if patch_type == "merge":
                patched = patches.merge_patch(current, patch)
            elif patch_type == "strategic":
                patched = patches.strategic_merge_patch(current, patch)
            else:
                patched = patches.json_patch(current, patch)
        except patches.PatchError as err:
            raise ApiError(422, str(err)) from err
        if isinstance(patch, dict):
            self._precondition(rt, live, patch)
        if isinstance(patched, dict):
            _meta(patched).pop("resourceVersion", None)
        return self.update(rt, namespace, name, patched, write)

    def apply(
        self, rt: ResourceType, namespace: str | None, name: str, body: Any, write: Write
    ) -> tuple[dict[str, Any], int]:
        """Server-side apply (PATCH application/apply-patch+yaml)."""
        if not write.manager:
            raise ApiError(
                422,
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                "is required for apply patch",
                reason="Invalid",
            )
        body = self._check_body(rt, namespace, name, body, apply=True)
        key = self.key(rt, namespace, name)
        live = self.objects.get(key)
        if live is None:
            if write.subresource:
                raise not_found(rt.group, rt.plural, name)
            self._check_namespace(rt, namespace, name)
        else:
            self._precondition(rt, live, body)
        config = self._tracked(rt, body, write.subresource)
        applied = self._paths(rt, body, write.subresource)
        entries = managed.copy_entries(self.managed.get(key, []))
        own = next((e for e in entries if e.same(write.manager, "Apply", write.subresource)), None)
        others = [e for e in entries if e is not own]
        keep = set(applied).union(*(e.fields for e in others))
        if live is not None:
            base = copy.deepcopy(live)
        else:
            base = {"apiVersion": rt.api_version, "kind": rt.kind, "metadata": {"name": name}}
            if rt.namespaced:
                base["metadata"]["namespace"] = namespace
        managed.remove_unowned(base, (own.fields if own else set()) - applied, keep)
        try:
            merged = merge(base, config, rt.custom)
        except FieldError as err:
            raise invalid(rt.group, rt.kind, name, [cause("", str(err))]) from err
        new = self._prepare(rt, live, merged, write)
        conflicts = managed.find_conflicts(applied, live, new, others)
        if conflicts and not write.force:
            raise managed.conflict_error(conflicts)
        entries = managed.record_apply(
            entries,
            write.manager,
            write.api_version,
            write.subresource,
            applied,
            conflicts,
            self.now(),
        )
        return self._commit(rt, key, live, new, entries, write)

    # -- deletes ---------------------------------------------------------------------

    def delete(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        options: dict[str, Any] | None = None,
        dry_run: bool = False,
    ) -> tuple[dict[str, Any], int]:
        options = options or {}
        key = self.key(rt, namespace, name)
        live = self.objects.get(key)
        if live is None:
            raise not_found(rt.group, rt.plural, name)
        meta = live["metadata"]
        preconditions = options.get("preconditions") or {}
        for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
            wanted = preconditions.get(field)
            if wanted and wanted != meta.get(field):
                raise ApiError(
                    409,
                    f"Precondition failed: {label} in precondition: {wanted}, {label} in object "
                    f"meta: {meta.get(field)}",
                )
        policy = options.get("propagationPolicy") or "Background"
        if policy not in PROPAGATION:
            raise bad_request(f"propagationPolicy: Unsupported value: {policy!r}")
        if dry_run:
            return self._deleted_status(rt, live), 200
        if rt.kind == "Namespace" and not rt.custom:
            self._terminate_namespace(name)
            remaining = self.objects.get(key)
            return self.out(rt, remaining or live), 200
        if meta.get("finalizers"):
            self._mark_deleted(rt, key)
            return self.out(rt, self.objects[key]), 200
        self._remove(key, policy)
        return self._deleted_status(rt, live), 200

    def delete_collection(
        self,
        rt: ResourceType,
        namespace: str | None,
        label_selector: str | None,
        field_selector: str | None,
        options: dict[str, Any] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        listed = self.list_items(rt, namespace, label_selector, field_selector)
        for item in listed["items"]:
            meta = item["metadata"]
            if self.key(rt, meta.get("namespace"), meta["name"]) in self.objects:
                self.delete(rt, meta.get("namespace"), meta["name"], options, dry_run)
        return listed

    def _deleted_status(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        details = {
            "name": obj["metadata"]["name"],
            "kind": rt.plural,
            "uid": obj["metadata"]["uid"],
        }
        if rt.group:
            details["group"] = rt.group
        return status_body(200, None, "", details) | {"status": "Success"}

    def _mark_deleted(self, rt: ResourceType, key: Key) -> None:
        obj = self.objects[key]
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            return
        meta["deletionTimestamp"] = self.now()
        meta["deletionGracePeriodSeconds"] = 0
        if rt.generation:
            meta["generation"] = meta.get("generation", 1) + 1
        self.resource_version += 1
        meta["resourceVersion"] = str(self.resource_version)

    def _remove(self, key: Key, policy: str) -> None:
        obj = self.objects.pop(key)
        self.managed.pop(key, None)
        self._pending_ready.pop(key, None)
        self.resource_version += 1
        if key[:2] == ("apiextensions.k8s.io", "customresourcedefinitions"):
            self._crd_removed(obj)
        self._collect_garbage(obj["metadata"]["uid"], policy)
        if key[2]:
            self._finish_namespace(key[2])

    def _delete_key(self, key: Key, policy: str) -> None:
        rt = self._type_of_key(key)
        if key not in self.objects:
            return
        if rt is not None and self.objects[key]["metadata"].get("finalizers"):
            self._mark_deleted(rt, key)
        else:
            self._remove(key, policy)

    def _collect_garbage(self, uid: str, policy: str) -> None:
        """ownerReferences: dependents of a deleted owner go too (or are orphaned)."""
        live_uids = {o["metadata"]["uid"] for o in self.objects.values()}
        for key, obj in list(self.objects.items()):
            refs = obj["metadata"].get("ownerReferences") or []
            if not any(isinstance(r, dict) and r.get("uid") == uid for r in refs):
                continue
            rest = [r for r in refs if isinstance(r, dict) and r.get("uid") != uid]
            if policy == "Orphan" or any(r.get("uid") in live_uids for r in rest):
                if rest:
                    obj["metadata"]["ownerReferences"] = rest
                else:
                    del obj["metadata"]["ownerReferences"]
                self.resource_version += 1
                obj["metadata"]["resourceVersion"] = str(self.resource_version)
            else:
                self._delete_key(key, "Background")

    def _terminate_namespace(self, name: str) -> None:
        key: Key = ("", "namespaces", "", name)
        ns = self.objects[key]
        if not ns["metadata"].get("deletionTimestamp"):
            ns["metadata"]["deletionTimestamp"] = self.now()
            ns["metadata"]["deletionGracePeriodSeconds"] = 0
            ns.setdefault("status", {})["phase"] = "Terminating"
            self.resource_version += 1
            ns["metadata"]["resourceVersion"] = str(self.resource_version)
        for content in [k for k in self.objects if k[2] == name]:
            self._delete_key(content, "Background")
        self._finish_namespace(name)

    def _finish_namespace(self, name: str) -> None:
        key: Key = ("", "namespaces", "", name)
        ns = self.objects.get(key)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        if not any(k[2] == name for k in self.objects):
            self._remove(key, "Background")

    # -- CustomResourceDefinitions -------------------------------------------------

    def _crd_written(self, crd: dict[str, Any], created: bool) -> None:
        name = crd["metadata"]["name"]
        if created:
            if self.crd_delay is not None and self.crd_delay <= 0:
                self.establish_crd(name)
            else:
                delay = self.crd_delay
                self._pending_crds[name] = None if delay is None else time.monotonic() + delay
        elif name in self._crd_types:
            self._register(crd)

    def establish_crd(self, name: str) -> dict[str, Any]:
        """Serve the CRD's kinds and set Established=True (what the CRD controller does)."""
        key: Key = ("apiextensions.k8s.io", "customresourcedefinitions", "", name)
        self._pending_crds.pop(name, None)
        crd = self.objects.get(key)
        if crd is None:
            raise not_found("apiextensions.k8s.io", "customresourcedefinitions", name)
        self._register(crd)
        rt = self.type_for("apiextensions.k8s.io/v1", "CustomResourceDefinition")
        status = _crd_status(crd, established=True, now=self.now())
        return self.write_status(rt, key, status, manager="kube-apiserver")

    def _register(self, crd: dict[str, Any]) -> None:
        self._unregister(crd["metadata"]["name"])
        served = crd_types(crd)
        self._crd_types[crd["metadata"]["name"]] = served
        for rt in served:
            self._types[(rt.group, rt.version, rt.plural)] = rt

    def _unregister(self, name: str) -> None:
        for rt in self._crd_types.pop(name, []):
            self._types.pop((rt.group, rt.version, rt.plural), None)

    def _crd_removed(self, crd: dict[str, Any]) -> None:
        name = crd["metadata"]["name"]
        self._pending_crds.pop(name, None)
        spec = crd.get("spec") or {}
        group, plural = spec.get("group", ""), (spec.get("names") or {}).get("plural", "")
        for key in [k for k in self.objects if k[:2] == (group, plural)]:
            self.objects.pop(key)
            self.managed.pop(key, None)
        self._unregister(name)


def _namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def _spec_view(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    skip = {"apiVersion", "kind", "metadata"} | ({"status"} if rt.status else set())
    return {k: v for k, v in obj.items() if k not in skip}


def _without_version(obj: dict[str, Any]) -> dict[str, Any]:
    view = dict(obj)
    view["metadata"] = {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}
    return view


def _validate_crd(crd: dict[str, Any]) -> None:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    name = crd["metadata"]["name"]
    causes = []
    expected = f"{names.get('plural', '')}.{spec.get('group', '')}"
    if name != expected:
        causes.append(
            cause(
                "metadata.name",
                f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group',
            )
        )
    for field in ("plural", "kind"):
        if not names.get(field):
            causes.append(cause(f"spec.names.{field}", "Required value", "FieldValueRequired"))
    versions = [v for v in spec.get("versions") or [] if isinstance(v, dict)]
    if not versions:
        causes.append(cause("spec.versions", "Required value", "FieldValueRequired"))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        causes.append(
            cause(
                "spec.versions",
                "Invalid value: must have exactly one version marked as storage version",
            )
        )
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(
            cause(
                "spec.scope",
                'Unsupported value: supported values: "Cluster", "Namespaced"',
                "FieldValueNotSupported",
            )
        )
    if causes:
        raise invalid("apiextensions.k8s.io", "CustomResourceDefinition", name, causes)


def _crd_status(crd: dict[str, Any], established: bool, now: str) -> dict[str, Any]:
    spec = crd.get("spec") or {}
    storage = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
    previous = ((crd.get("status") or {}).get("storedVersions")) or []
    stored = list(dict.fromkeys([*previous, *storage]))

    def condition(kind: str, ok: bool, reason: str, message: str) -> dict[str, Any]:
        return {
            "type": kind,
            "status": "True" if ok else "False",
            "lastTransitionTime": now,
            "reason": reason,
            "message": message,
        }

    return {
        "conditions": [
            condition("NamesAccepted", True, "NoConflicts", "no conflicts found"),
            condition(
                "Established",
                established,
                "InitialNamesAccepted" if established else "Installing",
                "the initial names have been accepted"
                if established
                else "the CRD is being installed",
            ),
        ],
        "acceptedNames": copy.deepcopy(spec.get("names") or {}),
        "storedVersions": stored,
    }
