from __future__ import annotations

from typing import Any

import pytest

from promoter.core.applier.errors import RenderEmptyError, RenderInvalidError
from promoter.core.applier.inventory import Inventory
from promoter.core.applier.prune import (
    DEFAULT_OWNER_LABEL,
    PrunePlan,
    check_render,
    prune_candidates,
)
from promoter.core.objects import Obj
from promoter.errors import ExitCode, PromoterError

OURS = {"app.kubernetes.io/managed-by": "promoter"}


def disabled(value: str) -> dict[str, Any]:
    return {"labels": OURS, "annotations": {"promoter.dev/prune": value}}


CM = "/ConfigMap/app/old"
NS = "/Namespace//old"
PVC = "/PersistentVolumeClaim/app/data"
CRD = "apiextensions.k8s.io/CustomResourceDefinition//widgets.example.com"


@pytest.mark.parametrize(
    ("key", "live_meta", "allow", "outcome"),
    [
        pytest.param(CM, {"labels": OURS}, set(), "delete", id="ours"),
        pytest.param(CM, None, set(), "gone", id="already-gone"),
        pytest.param(
            CM,
            {"labels": OURS, "deletionTimestamp": "2026-01-01T00:00:00Z"},
            set(),
            "gone",
            id="being-deleted",
        ),
        pytest.param(
            CM,
            {"labels": {"app.kubernetes.io/managed-by": "Helm"}},
            set(),
            "skip:'Helm'",
            id="other-manager",
        ),
        pytest.param(CM, {}, set(), "skip:label is missing", id="no-labels"),
        pytest.param(CM, disabled("disabled"), set(), "skip:prune disabled", id="disabled"),
        pytest.param(
            CM, disabled(" Disabled "), set(), "skip:prune disabled", id="disabled-any-case"
        ),
        pytest.param(CM, disabled("false"), set(), "skip:prune disabled", id="false"),
        pytest.param(CM, disabled("nope"), set(), "skip:unknown value", id="unknown-value-kept"),
        pytest.param(CM, disabled("enabled"), set(), "delete", id="explicitly-enabled"),
        pytest.param(
            NS, {"labels": OURS}, set(), "skip:Namespace is only pruned", id="namespace-not-allowed"
        ),
        pytest.param(NS, {"labels": OURS}, {"Namespace"}, "delete", id="namespace-allowed"),
        pytest.param(
            PVC, {"labels": OURS}, {"Namespace"}, "skip:PersistentVolumeClaim", id="pvc-not-allowed"
        ),
        pytest.param(PVC, {"labels": OURS}, {"PersistentVolumeClaim"}, "delete", id="pvc-allowed"),
        pytest.param(
            CRD, {"labels": OURS}, set(), "skip:CustomResourceDefinition", id="crd-not-allowed"
        ),
        pytest.param(
            CRD, {"labels": OURS}, {"CustomResourceDefinition"}, "delete", id="crd-allowed"
        ),
        pytest.param(
            NS,
            disabled("disabled"),
            {"Namespace"},
            "skip:prune disabled",
            id="allowed-kind-still-honours-annotation",
        ),
        pytest.param(
            NS, {"labels": {}}, {"Namespace"}, "skip:not ours", id="allowed-kind-still-needs-label"
        ),
        pytest.param(
            "example.com/Namespace/app/x",
            {"labels": OURS},
            set(),
            "delete",
            id="custom-kind-named-namespace",
        ),
    ],
)
def test_prune_rules(
    key: str, live_meta: dict[str, Any] | None, allow: set[str], outcome: str
) -> None:
    live = {} if live_meta is None else {key: live_meta}
    plan = prune_candidates(Inventory.of([key]), [], live, allow_kinds=allow)
    if outcome == "delete":
        assert plan == PrunePlan([key], [], [])
    elif outcome == "gone":
        assert plan == PrunePlan([], [], [key])
    else:
        assert plan.to_delete == [] and plan.gone == []
        ((skipped_key, reason),) = plan.skipped
        assert skipped_key == key
        assert outcome.removeprefix("skip:") in reason


def test_desired_objects_are_never_candidates() -> None:
    plan = prune_candidates(
        {CM, "/Secret/app/s"}, [CM], {CM: {"labels": OURS}, "/Secret/app/s": {"labels": OURS}}
    )
    assert plan.to_delete == ["/Secret/app/s"]


def test_deletes_come_in_reverse_apply_order() -> None:
    keys = [
        CRD,
        NS,
        "/ConfigMap/old/cm",
        "apps/Deployment/old/api",
        "example.com/Widget/old/w",
        "admissionregistration.k8s.io/ValidatingWebhookConfiguration//hook",
        "/Secret/old/late",
    ]
    live: dict[str, dict[str, Any]] = {k: {"labels": OURS} for k in keys}
    live["/Secret/old/late"] = {"labels": OURS, "annotations": {"promoter.dev/wave": "3"}}
    plan = prune_candidates(
        Inventory.of(keys), [], live, allow_kinds={"Namespace", "CustomResourceDefinition"}
    )
    assert plan.to_delete == [
        "/Secret/old/late",
        "admissionregistration.k8s.io/ValidatingWebhookConfiguration//hook",
        "example.com/Widget/old/w",
        "apps/Deployment/old/api",
        "/ConfigMap/old/cm",
        NS,
        CRD,
    ]


def test_configured_owner_label() -> None:
    label = ("promoter.dev/owner", "prod-eu")
    live = {
        "/ConfigMap/a/mine": {"labels": {"promoter.dev/owner": "prod-eu"}},
        "/ConfigMap/a/theirs": {"labels": {"promoter.dev/owner": "prod-us", **OURS}},
    }
    plan = prune_candidates(live.keys(), [], live, owner_label=label)
    assert plan.to_delete == ["/ConfigMap/a/mine"]
    assert [k for k, _ in plan.skipped] == ["/ConfigMap/a/theirs"]
    assert "'prod-us'" in plan.skipped[0][1]
    assert DEFAULT_OWNER_LABEL == ("app.kubernetes.io/managed-by", "promoter")


def test_skipped_are_sorted_by_key() -> None:
    live: dict[str, dict[str, Any]] = {
        k: {"labels": {}} for k in ("/ConfigMap/b/x", "/ConfigMap/a/x", "/Secret/a/x")
    }
    plan = prune_candidates(live.keys(), [], live)
    assert [k for k, _ in plan.skipped] == ["/ConfigMap/a/x", "/ConfigMap/b/x", "/Secret/a/x"]


def o(kind: str, name: str, namespace: str = "app") -> Obj:
    return Obj(
        "v1", kind, namespace, name, {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}
    )


def test_empty_render_is_an_error_unless_allowed() -> None:
    with pytest.raises(RenderEmptyError) as info:
        check_render([], False)
    assert isinstance(info.value, PromoterError)
    assert info.value.exit_code == ExitCode.APPLY
    assert info.value.hint and "allowEmpty" in info.value.hint
    check_render([], allow_empty=True)  # no error


def test_non_empty_render_passes() -> None:
    check_render([o("ConfigMap", "a"), o("ConfigMap", "b"), o("ConfigMap", "a", "other")])


def test_duplicate_objects_are_an_error() -> None:
    with pytest.raises(RenderInvalidError, match="/ConfigMap/app/a") as info:
        check_render([o("ConfigMap", "a"), o("Secret", "s"), o("ConfigMap", "a")], allow_empty=True)
    assert "/Secret/app/s" not in str(info.value)


def test_unnamed_objects_are_an_error() -> None:
    with pytest.raises(RenderInvalidError, match=r"without metadata\.name"):
        check_render([o("Pod", "")])
