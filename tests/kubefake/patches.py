"""Non-apply PATCH bodies: JSON merge patch, (simplified) strategic merge patch, JSON patch."""

from __future__ import annotations

import copy
from typing import Any

from .fields import MISSING, find_item, item_key, list_type


class PatchError(ValueError):
    pass


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any, names: tuple[str, ...] = ()) -> Any:
    """Merge patch, except lists with a merge key (containers by name, ...) merge by item.

    Supports the `$patch: delete` item directive; other `$` directives are dropped.
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        path = (*names, key)
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and list_type(path, custom=False)[0] == "map":
            result[key] = _merge_list(result.get(key, MISSING), value, path)
        else:
            result[key] = strategic_merge_patch(result.get(key), value, path)
    return result


def _merge_list(live: Any, patch: list[Any], names: tuple[str, ...]) -> list[Any]:
    keys = list_type(names, custom=False)[1]
    items = copy.deepcopy(live) if isinstance(live, list) else []
    for index, item in enumerate(patch):
        try:
            key = item_key(item, keys, f".{'.'.join(names)}[{index}]")
        except ValueError as err:
            raise PatchError(str(err)) from err
        found = find_item(items, key)
        if item.get("$patch") == "delete":
            if found is not None:
                del items[found]
        elif found is None:
            items.append(strategic_merge_patch({}, item, names))
        else:
            items[found] = strategic_merge_patch(items[found], item, names)
    return items


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str]) -> Any:
    current = doc
    for part in parts[:-1]:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise PatchError(f"path does not exist: /{'/'.join(parts)}")
    return current


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 add/remove/replace/test/copy/move."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid operation {op!r}")
        parts = _pointer(op["path"])
        if op["op"] in ("copy", "move"):
            source = _pointer(op.get("from", ""))
            value = _get(doc, source)
            if op["op"] == "move":
                doc = _remove(doc, source)
            doc = _add(doc, parts, copy.deepcopy(value))
        elif op["op"] == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif op["op"] == "remove":
            doc = _remove(doc, parts)
        elif op["op"] == "replace":
            doc = _remove(doc, parts)
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif op["op"] == "test":
            if _get(doc, parts) != op.get("value"):
                raise PatchError(f"test failed at {op['path']}")
        else:
            raise PatchError(f"unknown operation {op['op']!r}")
    return doc


def _get(doc: Any, parts: list[str]) -> Any:
    if not parts:
        return doc
    parent = _parent(doc, parts)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise PatchError(f"path does not exist: /{'/'.join(parts)}")


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _parent(doc, parts)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise PatchError(f"invalid index {last!r}")
    else:
        raise PatchError(f"cannot add at /{'/'.join(parts)}")
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    _get(doc, parts)
    parent = _parent(doc, parts)
    if isinstance(parent, dict):
        del parent[parts[-1]]
    else:
        del parent[int(parts[-1])]
    return doc
