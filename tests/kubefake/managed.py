"""metadata.managedFields: who owns which field, and apply conflicts.

Modelled on the API server's field manager:

* An **Apply** (server-side apply) replaces the manager's field set with the
  fields of its applied configuration. Fields it owned before and no longer
  applies are removed from the object unless another manager owns them.
  Changing a field another manager owns is a conflict (409) unless forced,
  in which case ownership moves to the applier. Applying the value a field
  already has makes the ownership shared.
* An **Update** (POST/PUT/merge patch) gives the writer every field whose
  value it changed (defaults included, as decoding defaults them) and takes
  those fields away from everyone else; it never conflicts.
* Entries are keyed by (manager, operation, subresource); an entry whose
  time does not move when its field set is unchanged, so a no-op apply does
  not change the object.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError
from .fields import MISSING, Path, encode, is_key_field, is_node, path_string, remove_at, value_at


@dataclass
class Entry:
    manager: str
    operation: str
    """"Apply" or "Update"."""
    api_version: str
    time: str
    fields: set[Path] = field(default_factory=set)
    subresource: str = ""

    def same(self, manager: str, operation: str, subresource: str) -> bool:
        return (self.manager, self.operation, self.subresource) == (manager, operation, subresource)

    def render(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": encode(self.fields),
        }
        if self.subresource:
            entry["subresource"] = self.subresource
        return entry

    def copy(self) -> Entry:
        return Entry(
            self.manager,
            self.operation,
            self.api_version,
            self.time,
            set(self.fields),
            self.subresource,
        )


@dataclass(frozen=True)
class Conflict:
    manager: str
    operation: str
    api_version: str
    time: str
    subresource: str
    path: Path

    def who(self) -> str:
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == "Update":
            text += f" using {self.api_version} at {self.time}"
        return text


def conflict_error(conflicts: list[Conflict]) -> ApiError:
    """409 worded like k8s.io/apiserver's NewConflictError."""
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f"conflict with {c.who()}",
            "field": path_string(c.path),
        }
        for c in conflicts
    ]
    if len(conflicts) == 1:
        message = (
            f"Apply failed with 1 conflict: conflict with {conflicts[0].who()}: "
            f"{path_string(conflicts[0].path)}"
        )
    else:
        lines: list[str] = []
        for who in sorted({c.who() for c in conflicts}):
            lines.append(f"conflicts with {who}:")
            lines.extend(f"- {path_string(c.path)}" for c in conflicts if c.who() == who)
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, message, reason="Conflict", details={"causes": causes})


def copy_entries(entries: Iterable[Entry]) -> list[Entry]:
    return [e.copy() for e in entries]


def remove_unowned(obj: dict[str, Any], dropped: set[Path], keep: set[Path]) -> None:
    """Remove the fields an applier stopped applying, unless `keep` (someone) still holds them."""
    for path in sorted(dropped, key=len):
        if is_key_field(path) or any(p[: len(path)] == path for p in keep):
            continue
        remove_at(obj, path, keep)


def find_conflicts(
    applied: set[Path], live: dict[str, Any] | None, result: dict[str, Any], others: list[Entry]
) -> list[Conflict]:
    conflicts = []
    for path in sorted(applied):
        if is_node(path):
            continue
        before = value_at(live, path) if live is not None else MISSING
        if before == value_at(result, path):
            continue
        for entry in others:
            if path in entry.fields:
                conflicts.append(
                    Conflict(
                        entry.manager,
                        entry.operation,
                        entry.api_version,
                        entry.time,
                        entry.subresource,
                        path,
                    )
                )
    return conflicts


def record_apply(
    entries: list[Entry],
    manager: str,
    api_version: str,
    subresource: str,
    applied: set[Path],
    conflicts: list[Conflict],
    now: str,
) -> list[Entry]:
    """Ownership after a (successful or forced) apply; `entries` are copies to edit."""
    for conflict in conflicts:  # force=true: the applier takes these over
        for entry in entries:
            if entry.same(conflict.manager, conflict.operation, conflict.subresource):
                entry.fields.discard(conflict.path)
    own = next((e for e in entries if e.same(manager, "Apply", subresource)), None)
    if own is None:
        entries.append(Entry(manager, "Apply", api_version, now, set(applied), subresource))
    elif own.fields != applied or own.api_version != api_version:
        own.fields, own.api_version, own.time = set(applied), api_version, now
    return entries


def record_update(
    entries: list[Entry],
    manager: str,
    api_version: str,
    subresource: str,
    old: dict[str, Any] | None,
    new: dict[str, Any],
    new_paths: set[Path],
    now: str,
) -> list[Entry]:
    """Ownership after a non-apply write: the writer takes every field it changed."""
    changed = set()
    for path in new_paths:
        before = value_at(old, path) if old is not None else MISSING
        if is_node(path):
            if before is MISSING:
                changed.add(path)
        elif before != value_at(new, path):
            changed.add(path)
    if not changed:
        return entries
    for entry in entries:
        if not entry.same(manager, "Update", subresource):
            entry.fields -= {p for p in changed if not is_node(p)}
    own = next((e for e in entries if e.same(manager, "Update", subresource)), None)
    if own is None:
        entries.append(Entry(manager, "Update", api_version, now, changed, subresource))
    else:
        own.fields |= changed
        own.api_version, own.time = api_version, now
    return entries


def prune(entries: list[Entry], obj: dict[str, Any]) -> list[Entry]:
    """Forget fields that no longer exist; drop managers left with nothing."""
    kept = []
    for entry in entries:
        entry.fields = {p for p in entry.fields if value_at(obj, p) is not MISSING}
        if entry.fields:
            kept.append(entry)
    return kept


def render(entries: list[Entry]) -> list[dict[str, Any]]:
    return [e.render() for e in entries]
