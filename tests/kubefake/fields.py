"""Field paths, list semantics and merging: a small structured-merge-diff.

A field path is a tuple of fieldsV1 elements: `f:<name>` (map or struct
field), `k:{"name":"app"}` (item of an associative list, identified by its
key fields), `v:"x"` (member of a set list). The real API server takes list
semantics from OpenAPI schemas; this fake uses a table of the well-known
built-in lists (containers by name, ports by containerPort+protocol, ...),
treats every other list as atomic, and every list of a custom resource as
atomic (the fake does not read CRD schemas).
"""

from __future__ import annotations

import copy
import json
from typing import Any, Final

Path = tuple[str, ...]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
KEY_DEFAULTS = {"protocol": "TCP"}

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
_MAP_LISTS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "conditions": ("type",),
    "webhooks": ("name",),
}


class FieldError(ValueError):
    """The object cannot be expressed as a field set (e.g. a list item without its key)."""


def list_type(names: tuple[str, ...], custom: bool) -> tuple[str, tuple[str, ...]]:
    """("map", keys) | ("set", ()) | ("atomic", ()) for the list at the field-name path."""
    if names == ("metadata", "finalizers"):
        return "set", ()
    if names == ("metadata", "ownerReferences"):
        return "map", ("uid",)
    if custom or not names or names[0] == "metadata":
        return "atomic", ()
    last = names[-1]
    parent = names[-2] if len(names) > 1 else ""
    if last == "ports":
        if parent in CONTAINER_LISTS:
            return "map", ("containerPort", "protocol")
        if names == ("spec", "ports"):
            return "map", ("port", "protocol")
        return "atomic", ()
    if last in _MAP_LISTS:
        return "map", _MAP_LISTS[last]
    return "atomic", ()


def item_key(item: Any, keys: tuple[str, ...], where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise FieldError(f"{where}: expected an object in an associative list")
    key = {}
    for name in keys:
        value = item.get(name, KEY_DEFAULTS.get(name))
        if value is None:
            raise FieldError(
                f'{where}: associative list with keys has an element that omits key field "{name}"'
            )
        key[name] = value
    return key


def key_element(key: dict[str, Any]) -> str:
    return "k:" + json.dumps(key, sort_keys=True, separators=(",", ":"))


def value_element(value: Any) -> str:
    return "v:" + json.dumps(value, separators=(",", ":"))


def is_node(path: Path) -> bool:
    """An associative-list item: owning it means owning its existence, not a value."""
    return bool(path) and path[-1].startswith("k:")


def paths_of(value: Any, custom: bool, names: tuple[str, ...] = (), prefix: Path = ()) -> set[Path]:
    """Leaves (scalars, empty maps, atomic lists, set members) and list items of `value`."""
    out: set[Path] = set()
    _walk(value, custom, names, prefix, out)
    return out


def _walk(value: Any, custom: bool, names: tuple[str, ...], prefix: Path, out: set[Path]) -> None:
    if isinstance(value, dict):
        if not value and prefix:
            out.add(prefix)
        for name, child in value.items():
            if child is not None:
                _walk(child, custom, (*names, name), (*prefix, f"f:{name}"), out)
        return
    if isinstance(value, list):
        kind, keys = list_type(names, custom)
        if kind == "map":
            seen: set[str] = set()
            for index, item in enumerate(value):
                element = key_element(item_key(item, keys, f".{'.'.join(names)}[{index}]"))
                if element in seen:
                    raise FieldError(f".{'.'.join(names)}: duplicate entries for key {element[2:]}")
                seen.add(element)
                node = (*prefix, element)
                out.add(node)
                _walk_item(item, custom, names, node, out)
            return
        if kind == "set" and all(not isinstance(v, dict | list) for v in value):
            out.update((*prefix, value_element(v)) for v in value)
            return
    out.add(prefix)


def _walk_item(
    item: dict[str, Any], custom: bool, names: tuple[str, ...], node: Path, out: set[Path]
) -> None:
    for name, child in item.items():
        if child is not None:
            _walk(child, custom, (*names, name), (*node, f"f:{name}"), out)


def find_item(items: list[Any], key: dict[str, Any]) -> int | None:
    for index, item in enumerate(items):
        if isinstance(item, dict) and all(
            item.get(k, KEY_DEFAULTS.get(k)) == v for k, v in key.items()
        ):
            return index
    return None


def value_at(obj: Any, path: Path) -> Any:
    current = obj
    for element in path:
        kind, text = element[:2], element[2:]
        if kind == "f:":
            if not isinstance(current, dict) or current.get(text) is None:
                return MISSING
            current = current[text]
        elif kind == "k:":
            if not isinstance(current, list):
                return MISSING
            index = find_item(current, json.loads(text))
            if index is None:
                return MISSING
            current = current[index]
        elif kind == "v:":
            member = json.loads(text)
            if not isinstance(current, list) or member not in current:
                return MISSING
            current = member
        else:
            return MISSING
    return current


def remove_at(obj: Any, path: Path, keep: set[Path] | None = None) -> bool:
    """Remove the field, item or member at `path`.

    Maps left empty by the removal are removed too, up to the top-level field,
    unless their path is in `keep` (someone owns the empty map).
    """
    if not path:
        return False
    parent = value_at(obj, path[:-1])
    kind, text = path[-1][:2], path[-1][2:]
    removed = False
    if kind == "f:" and isinstance(parent, dict) and text in parent:
        del parent[text]
        removed = True
    elif kind == "k:" and isinstance(parent, list):
        index = find_item(parent, json.loads(text))
        if index is not None:
            del parent[index]
            removed = True
    elif kind == "v:" and isinstance(parent, list):
        member = json.loads(text)
        if member in parent:
            parent.remove(member)
            removed = True
    parent_path = path[:-1]
    if (
        removed
        and len(parent_path) > 1
        and isinstance(parent, dict)
        and not parent
        and parent_path not in (keep or set())
        and not is_node(parent_path)
    ):
        remove_at(obj, parent_path, keep)
    return removed


def is_key_field(path: Path) -> bool:
    """A key field of an associative-list item: it stays as long as the item does."""
    return (
        len(path) > 1
        and path[-2].startswith("k:")
        and path[-1].startswith("f:")
        and path[-1][2:] in json.loads(path[-2][2:])
    )


def merge(live: Any, applied: Any, custom: bool, names: tuple[str, ...] = ()) -> Any:
    """`applied` merged into `live` with apply semantics (nulls in `applied` are dropped)."""
    if isinstance(applied, dict):
        result = copy.deepcopy(live) if isinstance(live, dict) else {}
        for name, child in applied.items():
            if child is None:
                continue
            result[name] = merge(result.get(name, MISSING), child, custom, (*names, name))
        return result
    if isinstance(applied, list):
        kind, keys = list_type(names, custom)
        if kind == "map":
            items = copy.deepcopy(live) if isinstance(live, list) else []
            for index, item in enumerate(applied):
                key = item_key(item, keys, f".{'.'.join(names)}[{index}]")
                found = find_item(items, key)
                if found is None:
                    items.append(merge(MISSING, item, custom, names))
                else:
                    items[found] = merge(items[found], item, custom, names)
            return items
        if kind == "set":
            members = list(live) if isinstance(live, list) else []
            members.extend(v for v in applied if v not in members)
            return members
        return [merge(MISSING, v, custom, names) if isinstance(v, dict) else v for v in applied]
    return copy.deepcopy(applied)


def encode(paths: set[Path]) -> dict[str, Any]:
    """A fieldsV1 document for a set of paths (`.` marks an owned node that has children)."""
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for element in path:
            node = node.setdefault(element, {})
    for path in paths:
        node = tree
        for element in path:
            node = node[element]
        if node and "." not in node:
            node["."] = {}
    return _sorted(tree)


def _sorted(tree: dict[str, Any]) -> dict[str, Any]:
    return {k: _sorted(tree[k]) for k in sorted(tree)}


def decode(fields: dict[str, Any], prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    for element, child in fields.items():
        if element == ".":
            out.add(prefix)
        elif not child:
            out.add((*prefix, element))
        else:
            out |= decode(child, (*prefix, element))
    return out


def path_string(path: Path) -> str:
    """`.spec.template.spec.containers[name="app"].image`, as structured-merge-diff prints it."""
    text = ""
    for element in path:
        kind, rest = element[:2], element[2:]
        if kind == "f:":
            text += f".{rest}"
        elif kind == "k:":
            key = json.loads(rest)
            text += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(key.items())) + "]"
        else:
            text += f"[={rest}]"
    return text
