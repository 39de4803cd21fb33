from __future__ import annotations

import base64
import gzip
import hashlib
from typing import Any

import pytest

from promoter.core.applier import inventory as inv_mod
from promoter.core.applier.errors import InventoryError
from promoter.core.applier.inventory import (
    FORMAT,
    Entry,
    Inventory,
    after_prune,
    before_apply,
    encode,
    from_configmap,
    to_configmap,
    union,
)

H1 = hashlib.sha256(b"one").hexdigest()
H2 = hashlib.sha256(b"two").hexdigest()
DEPLOY = "apps/Deployment/app/api"
CM = "/ConfigMap/app/settings"
NS = "/Namespace//app"


def sample() -> Inventory:
    return Inventory({DEPLOY: Entry(H1, "1200"), CM: Entry(H2, None), NS: Entry()})


def big(count: int) -> Inventory:
    return Inventory(
        {
            f"apps/Deployment/team-{i % 50}/service-{i:06d}": Entry(
                hashlib.sha256(str(i).encode()).hexdigest(), str(1_000_000 + i)
            )
            for i in range(count)
        }
    )


def test_configmap_round_trip_keeps_keys_hashes_and_versions() -> None:
    cm = to_configmap("promoter-inventory", "promoter-system", sample())
    assert cm["kind"] == "ConfigMap" and cm["apiVersion"] == "v1"
    assert cm["metadata"]["name"] == "promoter-inventory"
    assert cm["metadata"]["namespace"] == "promoter-system"
    assert cm["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "promoter"
    assert cm["data"]["format"] == FORMAT
    assert "binaryData" not in cm
    assert from_configmap(cm) == sample()


def test_plain_format_is_one_sorted_readable_line_per_object() -> None:
    assert encode(sample()).splitlines() == [
        f"{CM} {H2} -",
        f"{NS} - -",
        f"{DEPLOY} {H1} 1200",
    ]


def test_configmap_is_byte_identical_for_the_same_inventory() -> None:
    # Lets the agent skip writing an unchanged inventory, plain or gzipped.
    reordered = Inventory(dict(reversed(list(sample().entries.items()))))
    assert to_configmap("i", "n", sample()) == to_configmap("i", "n", reordered)
    assert to_configmap("i", "n", big(6000)) == to_configmap("i", "n", big(6000))


def test_a_few_thousand_objects_stay_plain_text() -> None:
    cm = to_configmap("i", "n", big(3000))
    assert "objects" in cm["data"] and "binaryData" not in cm
    assert len(cm["data"]["objects"].encode()) <= inv_mod.PLAIN_LIMIT


def test_large_inventory_is_gzipped_into_binary_data_and_reads_back() -> None:
    large = big(6000)
    assert len(encode(large).encode()) > inv_mod.PLAIN_LIMIT
    cm = to_configmap("i", "n", large)
    assert "objects" not in cm["data"]
    packed = base64.b64decode(cm["binaryData"]["objects.gz"])
    assert packed[4:8] == b"\0\0\0\0"  # gzip MTIME zeroed: same inventory, same bytes
    assert len(packed) <= inv_mod.MAX_PAYLOAD
    assert gzip.decompress(packed).decode() == encode(large)
    assert from_configmap(cm) == large


def test_inventory_too_large_for_a_configmap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inv_mod, "PLAIN_LIMIT", 100)
    monkeypatch.setattr(inv_mod, "MAX_PAYLOAD", 200)
    with pytest.raises(InventoryError, match="over the ConfigMap limit") as info:
        to_configmap("i", "n", big(50))
    assert info.value.hint and "split" in info.value.hint


@pytest.mark.parametrize(
    ("cm", "message"),
    [
        ({"data": {"objects": ""}}, "format None"),
        ({"data": {"format": "promoter.dev/inventory-v9", "objects": ""}}, "inventory-v9"),
        ({"data": {"format": FORMAT}}, "exactly one"),
        (
            {"data": {"format": FORMAT, "objects": ""}, "binaryData": {"objects.gz": "AAAA"}},
            "exactly one",
        ),
        ({"data": {"format": FORMAT, "objects": f"{DEPLOY} {H1}\n"}}, "line 1"),
        ({"data": {"format": FORMAT, "objects": f"{CM} - -\nnot-a-key - -\n"}}, "line 2"),
        ({"data": {"format": FORMAT, "objects": f"{DEPLOY} abc 1\n"}}, "sha256"),
        ({"data": {"format": FORMAT, "objects": f"{CM} - 1\n{CM} - 2\n"}}, "twice"),
        ({"data": {"format": FORMAT}, "binaryData": {"objects.gz": "bm90IGd6aXA="}}, "corrupt"),
        ({"data": {"format": FORMAT}, "binaryData": {"objects.gz": "!!"}}, "corrupt"),
        ({"data": ["format"]}, "not maps"),
    ],
)
def test_unreadable_inventory_is_an_error(cm: dict[str, Any], message: str) -> None:
    with pytest.raises(InventoryError, match=message):
        from_configmap(cm)


def test_blank_lines_are_ignored() -> None:
    cm = {"data": {"format": FORMAT, "objects": f"\n{CM} - 7\n\n"}}
    assert from_configmap(cm) == Inventory({CM: Entry(None, "7")})


def test_whitespace_in_a_stored_value_is_refused() -> None:
    with pytest.raises(InventoryError, match="whitespace"):
        to_configmap("i", "n", Inventory({CM: Entry(H1, "12 34")}))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            {CM: Entry(H1, "1")},
            {DEPLOY: Entry()},
            {CM: Entry(H1, "1"), DEPLOY: Entry()},
            id="disjoint",
        ),
        pytest.param(
            {CM: Entry(H1, "1")},
            {CM: Entry()},
            {CM: Entry(H1, "1")},
            id="empty-new-keeps-old-record",
        ),
        pytest.param(
            {CM: Entry(H1, "1")}, {CM: Entry(H2, "2")}, {CM: Entry(H2, "2")}, id="new-record-wins"
        ),
        pytest.param(
            {CM: Entry(H1, "1")},
            {CM: Entry(H2, None)},
            {CM: Entry(H2, None)},
            id="pair-never-mixed",
        ),
    ],
)
def test_union(old: dict[str, Entry], new: dict[str, Entry], expected: dict[str, Entry]) -> None:
    assert union(Inventory(old), Inventory(new)) == Inventory(expected)


def test_before_apply_tracks_old_and_desired_keeping_records() -> None:
    written = before_apply(Inventory({CM: Entry(H1, "5"), NS: Entry(H2, "6")}), [CM, DEPLOY])
    assert written.keys == {CM, NS, DEPLOY}
    assert written.get(CM) == Entry(H1, "5")
    assert written.get(DEPLOY) == Entry()


@pytest.mark.parametrize(
    ("pruned", "abandoned", "expected"),
    [
        pytest.param({CM, NS}, set(), {DEPLOY}, id="all-pruned"),
        pytest.param({CM}, set(), {DEPLOY, NS}, id="failed-delete-stays-tracked"),
        pytest.param({CM}, {NS}, {DEPLOY}, id="abandoned-dropped"),
        pytest.param({DEPLOY, CM, NS}, set(), {DEPLOY}, id="desired-always-kept"),
        pytest.param(set(), set(), {DEPLOY, CM, NS}, id="nothing-pruned"),
    ],
)
def test_after_prune(pruned: set[str], abandoned: set[str], expected: set[str]) -> None:
    current = Inventory({DEPLOY: Entry(H1, "9"), CM: Entry(H2, "3"), NS: Entry()})
    result = after_prune(current, pruned, [DEPLOY], abandoned=abandoned)
    assert result.keys == expected
    assert result.get(DEPLOY) == Entry(H1, "9")


def test_after_prune_tracks_a_desired_key_missing_from_the_union() -> None:
    assert after_prune(Inventory(), [], [CM]).get(CM) == Entry()


def test_protocol_never_loses_or_leaks_an_object_whatever_step_crashes() -> None:
    """Old round applied {CM, NS}; Git now has {NS, DEPLOY}. At every point
    the stored inventory must cover everything that may exist in the cluster."""
    old = Inventory({CM: Entry(H1, "1"), NS: Entry(H2, "2")})
    cluster = {CM, NS}
    stored = old

    stored = before_apply(old, [NS, DEPLOY])  # written before the first apply
    assert cluster <= stored.keys
    cluster.add(DEPLOY)  # apply created it; a crash here is still tracked
    assert cluster <= stored.keys
    stored = stored.with_entry(DEPLOY, Entry(H1, "10"))
    cluster.discard(CM)  # prune deleted it; a crash now only over-tracks
    assert cluster <= stored.keys
    stored = after_prune(stored, [CM], [NS, DEPLOY])
    assert stored.keys == cluster == {NS, DEPLOY}
    assert stored.get(DEPLOY) == Entry(H1, "10")


def test_inventory_basics() -> None:
    inv = Inventory.of([CM, DEPLOY])
    assert len(inv) == 2 and CM in inv and NS not in inv
    assert list(inv) == sorted([CM, DEPLOY])
    assert inv.get(NS) is None
    assert not Entry().recorded and Entry(None, "1").recorded
