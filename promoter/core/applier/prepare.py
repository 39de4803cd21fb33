"""Turn rendered objects into what the agent applies.

- Namespaced objects without a namespace get the default one (as kubectl
  does); cluster-scoped objects lose a stray `metadata.namespace`, so their
  key matches what the server returns. Whether a kind is namespaced comes
  from discovery, or — for kinds whose CRD is in the same render and may
  not be served yet — from that CRD's `spec.scope`.
- The owner label is stamped on every object: prune only ever deletes
  objects that carry it.
- The desired hash is taken after both, over exactly the applied body.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from promoter.core.applier.drift import desired_hash
from promoter.core.applier.errors import UnknownKindError
from promoter.core.applier.keys import CRD, group_of
from promoter.core.applier.prune import DEFAULT_OWNER_LABEL
from promoter.core.objects import Obj

# (api_version, kind) -> namespaced?
ScopeLookup = Callable[[str, str], bool]


def crd_scopes(objs: Sequence[Obj]) -> dict[tuple[str, str], bool]:
    """(group, kind) -> namespaced, for the custom kinds the render defines."""
    scopes: dict[tuple[str, str], bool] = {}
    for obj in objs:
        if (group_of(obj.api_version), obj.kind) != CRD:
            continue
        spec = obj.body.get("spec") or {}
        names = spec.get("names") or {}
        if isinstance(spec, dict) and isinstance(names, dict) and names.get("kind"):
            scopes[(str(spec.get("group", "")), str(names["kind"]))] = (
                spec.get("scope", "Namespaced") == "Namespaced"
            )
    return scopes


def prepare(
    objs: Sequence[Obj],
    namespaced: ScopeLookup,
    default_namespace: str,
    owner_label: tuple[str, str] = DEFAULT_OWNER_LABEL,
) -> list[Obj]:
    """Copies of `objs` with namespace defaults and the owner label.

    UnknownKindError (listing every unknown kind at once) when the cluster
    serves a kind neither it nor the render's CRDs define.
    """
    local = crd_scopes(objs)
    cache: dict[tuple[str, str], bool] = {}
    unknown: list[str] = []
    out: list[Obj] = []
    for obj in objs:
        gk = (group_of(obj.api_version), obj.kind)
        scoped = cache.get((obj.api_version, obj.kind))
        if scoped is None:
            if gk in local:
                scoped = local[gk]
            else:
                try:
                    scoped = namespaced(obj.api_version, obj.kind)
                except UnknownKindError:
                    unknown.append(f"{obj.kind} ({obj.api_version})")
                    continue
            cache[(obj.api_version, obj.kind)] = scoped
        out.append(_stamp(obj, scoped, default_namespace, owner_label))
    if unknown:
        raise UnknownKindError(
            "the cluster does not serve: " + ", ".join(sorted(set(unknown))),
            hint="install the CRDs (in this render or before), or fix apiVersion/kind in Git",
        )
    return out


def _copy(value: Any) -> Any:
    # Parsed YAML is plain dicts, lists and scalars: several times faster
    # than copy.deepcopy, which matters once per object per round.
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _stamp(obj: Obj, scoped: bool, default_ns: str, owner: tuple[str, str]) -> Obj:
    body: dict[str, Any] = _copy(obj.body)
    meta = body.get("metadata")
    if not isinstance(meta, dict):
        meta = body["metadata"] = {}
    if scoped:
        meta["namespace"] = meta.get("namespace") or default_ns
    else:
        meta.pop("namespace", None)
    labels = meta.get("labels")
    if not isinstance(labels, dict):
        labels = meta["labels"] = {}
    labels[owner[0]] = owner[1]
    namespace = str(meta.get("namespace") or "")
    return Obj(obj.api_version, obj.kind, namespace, obj.name, body, obj.source)


def hashes(objs: Sequence[Obj]) -> dict[str, str]:
    return {obj.key: desired_hash(obj) for obj in objs}
