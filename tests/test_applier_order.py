from __future__ import annotations

import random
import re
from typing import Any

import pytest

from promoter.core.applier.errors import WaveError
from promoter.core.applier.order import (
    WAVE_ANNOTATION,
    apply_order,
    kind_rank,
    prune_key_order,
    prune_order,
    wave_of,
)
from promoter.core.objects import Obj
from promoter.errors import ExitCode, PromoterError


def obj(api_version: str, kind: str, name: str, namespace: str = "", wave: Any = None) -> Obj:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if wave is not None:
        meta["annotations"] = {WAVE_ANNOTATION: wave}
    return Obj(
        api_version,
        kind,
        namespace,
        name,
        {"apiVersion": api_version, "kind": kind, "metadata": meta},
    )


CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")
NS = ("v1", "Namespace")


def keys(batches: list[list[Obj]]) -> list[list[str]]:
    return [[o.key for o in batch] for batch in batches]


def test_empty_render_has_no_batches() -> None:
    assert apply_order([]) == []


def test_kinds_follow_crds_namespaces_then_helm_order_then_custom_then_webhooks() -> None:
    expected = [
        (*CRD, "widgets.example.com", ""),
        (*NS, "app", ""),
        ("v1", "ServiceAccount", "sa", "app"),
        ("v1", "Secret", "s", "app"),
        ("v1", "ConfigMap", "cm", "app"),
        ("storage.k8s.io/v1", "StorageClass", "fast", ""),
        ("v1", "PersistentVolume", "pv", ""),
        ("v1", "PersistentVolumeClaim", "data", "app"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", "cr", ""),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "crb", ""),
        ("rbac.authorization.k8s.io/v1", "Role", "r", "app"),
        ("rbac.authorization.k8s.io/v1", "RoleBinding", "rb", "app"),
        ("v1", "Service", "api", "app"),
        ("apps/v1", "DaemonSet", "agent", "app"),
        ("v1", "Pod", "one", "app"),
        ("apps/v1", "ReplicaSet", "rs", "app"),
        ("apps/v1", "Deployment", "api", "app"),
        ("apps/v1", "StatefulSet", "db", "app"),
        ("batch/v1", "Job", "migrate", "app"),
        ("batch/v1", "CronJob", "nightly", "app"),
        ("networking.k8s.io/v1", "Ingress", "web", "app"),
        # Custom resources, by key; one called Service is not the core Service.
        ("example.com/v1", "Widget", "w", "app"),
        ("serving.knative.dev/v1", "Service", "fn", "app"),
        ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "m", ""),
        ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "v", ""),
    ]
    objs = [obj(a, k, n, ns) for a, k, n, ns in expected]
    shuffled = objs[:]
    random.Random(7).shuffle(shuffled)
    batches = apply_order(shuffled)
    assert [b[0].kind for b in batches[:2]] == ["CustomResourceDefinition", "Namespace"]
    assert len(batches) == 3  # CRDs, Namespaces, wave 0
    assert [o.key for o in batches[2]] == [o.key for o in objs[2:]]


@pytest.mark.parametrize(
    ("objects", "expected"),
    [
        pytest.param(
            [
                obj(*CRD, "late.example.com", wave="5"),
                obj(*NS, "late", wave="3"),
                obj("v1", "ConfigMap", "zero", "late"),
                obj("apps/v1", "Deployment", "early", "late", wave="-1"),
            ],
            [
                ["apiextensions.k8s.io/CustomResourceDefinition//late.example.com"],
                ["/Namespace//late"],
                ["apps/Deployment/late/early"],
                ["/ConfigMap/late/zero"],
            ],
            id="crds-and-namespaces-lead-whatever-their-wave",
        ),
        pytest.param(
            [
                obj("v1", "ConfigMap", "later", "a", wave="1"),
                obj("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "hook"),
                obj("example.com/v1", "Widget", "w", "a"),
                obj("apps/v1", "Deployment", "d", "a"),
            ],
            [
                [
                    "apps/Deployment/a/d",
                    "example.com/Widget/a/w",
                    "admissionregistration.k8s.io/ValidatingWebhookConfiguration//hook",
                ],
                ["/ConfigMap/a/later"],
            ],
            id="webhooks-last-within-their-wave-not-after-later-waves",
        ),
        pytest.param(
            [
                obj("v1", "ConfigMap", "b", "x", wave="+2"),
                obj("v1", "ConfigMap", "a", "x", wave="002"),
                obj("v1", "Secret", "c", "x", wave="2"),
                obj("v1", "ConfigMap", "d", "x", wave="-10"),
            ],
            [["/ConfigMap/x/d"], ["/Secret/x/c", "/ConfigMap/x/a", "/ConfigMap/x/b"]],
            id="same-wave-spelled-differently-is-one-batch-kind-then-key",
        ),
    ],
)
def test_waves(objects: list[Obj], expected: list[list[str]]) -> None:
    assert keys(apply_order(objects)) == expected


def test_order_is_independent_of_input_order() -> None:
    objs = [
        obj("v1", "ConfigMap", name, ns, wave=w)
        for name, ns, w in [("b", "x", None), ("a", "x", None), ("a", "w", "1"), ("c", "x", "1")]
    ] + [
        obj(*NS, "x"),
        obj(*NS, "w"),
        obj("example.com/v1", "B", "b"),
        obj("example.com/v1", "A", "z"),
    ]
    first = keys(apply_order(objs))
    rng = random.Random(1)
    for _ in range(20):
        rng.shuffle(objs)
        assert keys(apply_order(objs)) == first
    assert first[0] == ["/Namespace//w", "/Namespace//x"]
    assert first[1] == ["/ConfigMap/x/a", "/ConfigMap/x/b", "example.com/A//z", "example.com/B//b"]


@pytest.mark.parametrize("value", ["abc", "1.5", "", " 1", "1 ", "0x10", "--1", 1, True])
def test_invalid_wave_is_an_error_naming_the_object(value: Any) -> None:
    bad = obj("apps/v1", "Deployment", "api", "app", wave=value)
    with pytest.raises(WaveError, match="apps/Deployment/app/api") as info:
        apply_order([obj("v1", "ConfigMap", "fine", "app"), bad])
    assert isinstance(info.value, ValueError)
    assert info.value.message.startswith("apps/Deployment/app/api: annotation promoter.dev/wave")
    assert isinstance(info.value, PromoterError) and info.value.exit_code == ExitCode.APPLY
    assert info.value.hint


def test_invalid_wave_on_a_crd_is_still_an_error() -> None:
    with pytest.raises(WaveError, match=re.escape("CustomResourceDefinition//w.example.com")):
        apply_order([obj(*CRD, "w.example.com", wave="first")])


def test_every_invalid_wave_is_reported_at_once() -> None:
    with pytest.raises(WaveError) as info:
        apply_order(
            [
                obj("v1", "ConfigMap", "a", "x", wave="one"),
                obj("v1", "Secret", "b", "x", wave="two"),
            ]
        )
    assert "/ConfigMap/x/a" in str(info.value) and "/Secret/x/b" in str(info.value)


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        (None, 0),
        ({}, 0),
        ({"other": "x"}, 0),
        ({WAVE_ANNOTATION: "-3"}, -3),
        ({WAVE_ANNOTATION: "+4"}, 4),
    ],
)
def test_wave_of(annotations: dict[str, str] | None, expected: int) -> None:
    assert wave_of(annotations, "k") == expected


def test_prune_order_is_the_apply_order_reversed() -> None:
    objs = [
        obj(*CRD, "w.example.com"),
        obj(*NS, "app"),
        obj("v1", "ConfigMap", "cm", "app"),
        obj("apps/v1", "Deployment", "d", "app"),
        obj("example.com/v1", "Widget", "w", "app", wave="1"),
        obj("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "m"),
    ]
    applied = [o.key for batch in apply_order(objs) for o in batch]
    pruned = [o.key for batch in prune_order(objs) for o in batch]
    assert pruned == applied[::-1]
    assert pruned[0] == "example.com/Widget/app/w"
    assert pruned[-2:] == [
        "/Namespace//app",
        "apiextensions.k8s.io/CustomResourceDefinition//w.example.com",
    ]


def test_prune_key_order_uses_live_waves_and_tolerates_bad_ones() -> None:
    order = prune_key_order(
        ["/ConfigMap/a/early", "/ConfigMap/a/late", "/ConfigMap/a/bad", "/Namespace//a"],
        {
            "/ConfigMap/a/early": {WAVE_ANNOTATION: "-1"},
            "/ConfigMap/a/late": {WAVE_ANNOTATION: "2"},
            "/ConfigMap/a/bad": {WAVE_ANNOTATION: "soon"},  # treated as wave 0
        },
    )
    assert order == ["/ConfigMap/a/late", "/ConfigMap/a/bad", "/ConfigMap/a/early", "/Namespace//a"]


@pytest.mark.parametrize(
    ("group", "kind", "before", "after"),
    [
        ("", "Secret", ("", "ServiceAccount"), ("apps", "Deployment")),
        (
            "example.com",
            "Widget",
            ("networking.k8s.io", "Ingress"),
            ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ),
        (
            "discovery.k8s.io",
            "EndpointSlice",
            ("apps", "Deployment"),
            ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ),
    ],
)
def test_kind_rank(group: str, kind: str, before: tuple[str, str], after: tuple[str, str]) -> None:
    assert kind_rank(*before) < kind_rank(group, kind) < kind_rank(*after)
