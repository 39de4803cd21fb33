"""What the agent applied, so it knows what Git removed.

The inventory is a set of object keys; for each key it may also record the
desired hash last applied and the resourceVersion last seen, which lets a
no-change round skip the dry-run (see `drift.needs_check`).

Crash safety comes from the write protocol, not from atomic multi-writes:

1. `before_apply`: write old ∪ desired *before* applying anything, so an
   object created by an apply that then crashes is already tracked.
2. apply; record each object's hash and resourceVersion (`Inventory.with_entry`).
3. prune (only after a fully successful render and apply).
4. `after_prune`: write desired ∪ (whatever could not be pruned), so a
   failed delete is retried next round and nothing is forgotten.

A crash between steps leaves a superset of the truth: never a leak (an
object nobody tracks) and never a lost object.

Stored in a ConfigMap: `data.format` names the format; `data.objects` holds
one line per object, `<key> <hash|-> <resourceVersion|->`, sorted, readable
with `kubectl get cm -o yaml`. ConfigMaps are capped at 1 MiB in total, so
above `PLAIN_LIMIT` the same text is gzipped into `binaryData.objects.gz`
(keys compress well; around 6 000 objects fit in plain text, several times
more compressed). Beyond `MAX_PAYLOAD` the write is refused with a hint
rather than split: split writes would not be atomic.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from promoter.core.applier.errors import InventoryError
from promoter.core.applier.keys import parse_key

FORMAT = "promoter.dev/inventory-v1"
PLAIN_KEY = "objects"
GZIP_KEY = "objects.gz"
PLAIN_LIMIT = 512 * 1024
# The API server rejects ConfigMaps whose data + binaryData exceed 1 MiB;
# keep headroom for `format` and future fields.
MAX_PAYLOAD = 1024 * 1024 - 16 * 1024
LABELS = {
    "app.kubernetes.io/managed-by": "promoter",
    "app.kubernetes.io/component": "inventory",
}
_HASH = re.compile(r"[0-9a-f]{64}")
_NONE = "-"


@dataclass(frozen=True)
class Entry:
    """What we know about one tracked object; None = not known (yet)."""

    hash: str | None = None
    resource_version: str | None = None

    @property
    def recorded(self) -> bool:
        return self.hash is not None or self.resource_version is not None


@dataclass(frozen=True)
class Inventory:
    """Immutable: every operation returns a new inventory."""

    entries: Mapping[str, Entry] = field(default_factory=dict)

    @classmethod
    def of(cls, keys: Iterable[str]) -> Inventory:
        """Keys tracked with nothing recorded about them yet."""
        return cls({key: Entry() for key in keys})

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self.entries)

    def get(self, key: str) -> Entry | None:
        return self.entries.get(key)

    def with_entry(self, key: str, entry: Entry) -> Inventory:
        return Inventory({**self.entries, key: entry})

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.entries))


def union(old: Inventory, new: Inventory) -> Inventory:
    """Every key of both. For a key in both, `new`'s entry wins if it records
    anything; the pair (hash, resourceVersion) is never mixed across sides,
    because only a matching pair proves an object unchanged."""
    entries = dict(old.entries)
    for key, entry in new.entries.items():
        if entry.recorded or key not in entries:
            entries[key] = entry
    return Inventory(entries)


def before_apply(old: Inventory, desired: Iterable[str]) -> Inventory:
    """What to write before applying: old ∪ desired, old records kept."""
    return union(old, Inventory.of(desired))


def after_prune(
    current: Inventory,
    pruned_ok: Iterable[str],
    desired: Iterable[str],
    *,
    abandoned: Iterable[str] = (),
) -> Inventory:
    """What to write after pruning: the desired keys, plus every key that
    was neither pruned (deleted or already gone) nor abandoned.

    `current` is the union written before applying, updated with what the
    apply recorded. `abandoned` are keys prune skipped on purpose (prune
    disabled, another owner, a protected kind): they are no longer ours and
    stay in the cluster untracked. A key that failed to delete is in neither
    set, so it stays tracked and is retried next round. A desired key always
    stays, even if listed as pruned.
    """
    wanted = set(desired)
    dropped = (set(pruned_ok) | set(abandoned)) - wanted
    entries = {k: e for k, e in current.entries.items() if k not in dropped}
    for key in wanted:
        entries.setdefault(key, Entry())
    return Inventory(entries)


def encode(inv: Inventory) -> str:
    """The line format (sorted, so an unchanged inventory is byte-identical
    and the agent can skip the write)."""
    return "".join(
        f"{key} {entry.hash or _NONE} {entry.resource_version or _NONE}\n"
        for key, entry in sorted(inv.entries.items())
    )


def decode(text: str) -> Inventory:
    entries: dict[str, Entry] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(" ")
        if len(fields) != 3:
            raise InventoryError(f"inventory line {number}: expected `key hash rv`: {line!r}")
        key, digest, rv = fields
        try:
            parse_key(key)
        except ValueError as err:
            raise InventoryError(f"inventory line {number}: {err}") from err
        if digest != _NONE and not _HASH.fullmatch(digest):
            raise InventoryError(f"inventory line {number}: not a sha256 hex digest: {digest!r}")
        if key in entries:
            raise InventoryError(f"inventory line {number}: {key} appears twice")
        entries[key] = Entry(
            None if digest == _NONE else digest,
            None if rv == _NONE or not rv else rv,
        )
    return Inventory(entries)


def to_configmap(name: str, namespace: str, inv: Inventory) -> dict[str, Any]:
    """The ConfigMap to server-side apply. InventoryError if it cannot fit."""
    for key, entry in inv.entries.items():
        # A space or newline would corrupt the line format.
        if any(c.isspace() for c in key + (entry.resource_version or "")):
            raise InventoryError(f"cannot store inventory entry with whitespace: {key!r}")
    text = encode(inv)
    raw = text.encode("utf-8")
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(LABELS),
            "annotations": {"promoter.dev/inventory-objects": str(len(inv))},
        },
        "data": {"format": FORMAT},
    }
    if len(raw) <= PLAIN_LIMIT:
        body["data"][PLAIN_KEY] = text
        return body
    # mtime=0: the same inventory always compresses to the same bytes.
    packed = gzip.compress(raw, compresslevel=9, mtime=0)
    if len(packed) > MAX_PAYLOAD:
        raise InventoryError(
            f"inventory of {len(inv)} objects is {len(packed)} bytes compressed, "
            f"over the ConfigMap limit ({MAX_PAYLOAD})",
            hint="split the environment into several agents (one per directory)",
        )
    body["binaryData"] = {GZIP_KEY: base64.b64encode(packed).decode("ascii")}
    return body


def from_configmap(cm: Mapping[str, Any]) -> Inventory:
    """Read an inventory back; InventoryError if it is not one we wrote."""
    data = cm.get("data") or {}
    binary = cm.get("binaryData") or {}
    if not isinstance(data, Mapping) or not isinstance(binary, Mapping):
        raise InventoryError("inventory ConfigMap: data/binaryData are not maps")
    fmt = data.get("format")
    if fmt != FORMAT:
        raise InventoryError(
            f"inventory ConfigMap has format {fmt!r}, expected {FORMAT!r}",
            hint="was it written by a newer promoter, or edited by hand?",
        )
    plain, packed = data.get(PLAIN_KEY), binary.get(GZIP_KEY)
    if (plain is None) == (packed is None):
        raise InventoryError(
            f"inventory ConfigMap must hold exactly one of data.{PLAIN_KEY} "
            f"and binaryData.{GZIP_KEY}"
        )
    if plain is not None:
        if not isinstance(plain, str):
            raise InventoryError(f"inventory ConfigMap: data.{PLAIN_KEY} is not text")
        return decode(plain)
    try:
        text = gzip.decompress(base64.b64decode(str(packed), validate=True)).decode("utf-8")
    except (binascii.Error, OSError, EOFError, UnicodeDecodeError) as err:
        raise InventoryError(
            f"inventory ConfigMap: binaryData.{GZIP_KEY} is corrupt: {err}"
        ) from err
    return decode(text)
