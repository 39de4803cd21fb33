"""no-downgrade, immutable-tags, allowed-registries, digest-pinned,
image-exists and no-plaintext-secrets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from promoter.core.images import parse_reference
from promoter.core.policy.facts import Facts, Item, ObjectSummary, RegistryFacts
from promoter.core.policy.result import Result
from promoter.core.policy.rules import (
    allowed_registries,
    digest_pinned,
    image_exists,
    immutable_tags,
    no_downgrade,
    no_plaintext_secrets,
)
from promoter.core.policy.settings import AllowedRegistriesOptions, ImmutableTagsOptions, NoOptions

NOW = datetime.fromisoformat("2024-05-03T14:00:00+00:00")
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def item(new: str, current: str | None = None, service: str = "api") -> Item:
    return Item(service, parse_reference(new), parse_reference(current) if current else None)


def facts(*items: Item, **changes: Any) -> Facts:
    fields: dict[str, Any] = {
        "kind": "promotion",
        "target_env": "prod",
        "source_env": "staging",
        "items": items,
        "now": NOW,
    }
    fields.update(changes)
    return Facts(**fields)


def only(results: list[Result]) -> Result:
    assert len(results) == 1, results
    return results[0]


# ----------------------------------------------------------------- no-downgrade


@pytest.mark.parametrize(
    "old,new,status",
    [
        ("1.4.1", "1.4.2", "pass"),
        ("1.4.2", "1.4.2", "pass"),
        ("v1.9.0", "v1.10.0", "pass"),  # numeric, not string, comparison
        ("1.4.2", "1.3.9", "fail"),
        ("1.10.0", "1.9.0", "fail"),
        ("1.4.2", "1.4.2-rc.1", "fail"),  # a pre-release sorts before its release
        ("main-3f2a", "main-9b1c", "warn"),
        ("latest", "1.0.0", "warn"),
    ],
)
def test_no_downgrade(old: str, new: str, status: str) -> None:
    result = only(
        no_downgrade(facts(item(f"ghcr.io/acme/api:{new}", f"ghcr.io/acme/api:{old}")), NoOptions())
    )
    assert (result.rule, result.status, result.subject) == ("no-downgrade", status, "api")


def test_a_downgrade_says_how_to_roll_back_on_purpose() -> None:
    result = only(
        no_downgrade(facts(item("ghcr.io/acme/api:1.3.0", "ghcr.io/acme/api:1.4.2")), NoOptions())
    )
    assert result.reason == "api 1.4.2 → 1.3.0 goes backwards"
    assert "promoter rollback --env prod --service api" in result.fix


def test_rollbacks_may_go_back() -> None:
    downgrade = item("ghcr.io/acme/api:1.3.0", "ghcr.io/acme/api:1.4.2")
    result = only(no_downgrade(facts(downgrade, kind="rollback"), NoOptions()))
    assert result.status == "pass"


def test_no_downgrade_for_new_and_digest_only_services() -> None:
    new = only(no_downgrade(facts(item("ghcr.io/acme/api:1.0.0")), NoOptions()))
    assert (new.status, new.reason) == ("pass", "api is new in prod")
    digest = item(f"ghcr.io/acme/api@{DIGEST_A}", "ghcr.io/acme/api:1.0.0")
    assert only(no_downgrade(facts(digest), NoOptions())).status == "warn"


# ----------------------------------------------------------------- immutable-tags


@pytest.mark.parametrize(
    "tag,status",
    [
        ("1.4.2", "pass"),
        ("latest", "fail"),
        ("LATEST", "fail"),
        ("latest-1.4", "pass"),  # only the whole tag
        ("1.4.2-SNAPSHOT", "fail"),
        ("SNAPSHOT-1", "pass"),  # patterns match the whole tag
        ("main", "fail"),
        ("mainline-2", "pass"),  # 'main|master' does not match the whole tag
    ],
)
def test_immutable_tags(tag: str, status: str) -> None:
    options = ImmutableTagsOptions((".*-SNAPSHOT", "main|master"))
    result = only(immutable_tags(facts(item(f"ghcr.io/acme/api:{tag}")), options))
    assert result.status == status


def test_latest_is_refused_without_patterns_even_with_a_digest() -> None:
    result = only(
        immutable_tags(facts(item(f"ghcr.io/acme/api:latest@{DIGEST_A}")), ImmutableTagsOptions())
    )
    assert result.status == "fail"
    assert result.reason == "api uses the tag 'latest', which moves"


def test_pattern_failures_name_the_pattern_and_digest_only_passes() -> None:
    options = ImmutableTagsOptions(("dev-.*",))
    result = only(immutable_tags(facts(item("ghcr.io/acme/api:dev-42")), options))
    assert result.reason == "api tag 'dev-42' matches the mutable pattern 'dev-.*'"
    assert (
        only(immutable_tags(facts(item(f"ghcr.io/acme/api@{DIGEST_A}")), options)).status == "pass"
    )


# ----------------------------------------------------------------- allowed-registries


@pytest.mark.parametrize(
    "image,status",
    [
        ("ghcr.io/acme/api:1.0", "pass"),
        ("GHCR.io/acme/api:1.0", "pass"),  # host names ignore case
        ("ghcr.io/acme-evil/api:1.0", "fail"),  # prefixes end at a '/'
        ("ghcr.io/acme:1.0", "pass"),
        ("registry.example.com:5000/team/api:1.0", "pass"),
        ("registry.example.com/team/api:1.0", "fail"),  # another port is another registry
        ("nginx:1.25", "pass"),  # docker.io/library/nginx
        ("docker.io/acme/api:1.0", "fail"),
    ],
)
def test_allowed_registries(image: str, status: str) -> None:
    options = AllowedRegistriesOptions(
        ("ghcr.io/acme", "registry.example.com:5000", "docker.io/library")
    )
    result = only(allowed_registries(facts(item(image)), options))
    assert result.status == status, result.reason


def test_a_disallowed_registry_lists_the_prefixes() -> None:
    options = AllowedRegistriesOptions(("ghcr.io/acme",))
    result = only(allowed_registries(facts(item("quay.io/acme/api:1.0")), options))
    assert result.reason == "quay.io/acme/api is not under an allowed prefix (ghcr.io/acme)"
    assert "add its prefix to allowed-registries" in result.fix


# ----------------------------------------------------------------- digest-pinned


def test_digest_pinned() -> None:
    pinned = item(f"ghcr.io/acme/api:1.4.2@{DIGEST_A}")
    loose = item("ghcr.io/acme/worker:2.0.0", service="worker")
    ok, bad = digest_pinned(facts(pinned, loose), NoOptions())
    assert (ok.status, ok.reason) == ("pass", "api is pinned to sha256:aaaaaaaaaaaa…")
    assert bad.status == "fail"
    assert bad.reason == "worker 2.0.0 is not pinned by digest; prod requires @sha256: references"
    assert "--digest sha256:…" in bad.fix


def test_digest_pinned_fix_names_the_digest_the_registry_resolved() -> None:
    loose = item("ghcr.io/acme/api:1.4.2")
    registry = {"api": RegistryFacts(exists=True, digest=DIGEST_B)}
    result = only(digest_pinned(facts(loose, registry=registry), NoOptions()))
    assert f"promoter bump --service api --tag 1.4.2 --digest {DIGEST_B}" in result.fix


# ----------------------------------------------------------------- image-exists


def test_image_exists_passes_with_the_digest() -> None:
    registry = {"api": RegistryFacts(exists=True, digest=DIGEST_A)}
    result = only(
        image_exists(facts(item("ghcr.io/acme/api:1.4.2"), registry=registry), NoOptions())
    )
    assert result.status == "pass"
    assert result.reason == "ghcr.io/acme/api:1.4.2 exists (sha256:aaaaaaaaaaaa…)"


def test_a_missing_tag_fails() -> None:
    registry = {"api": RegistryFacts(exists=False)}
    result = only(
        image_exists(facts(item("ghcr.io/acme/api:9.9.9"), registry=registry), NoOptions())
    )
    assert result.status == "fail"
    assert result.reason == "ghcr.io/acme/api:9.9.9 does not exist in ghcr.io"


def test_a_tag_that_moved_away_from_the_pinned_digest_fails() -> None:
    registry = {"api": RegistryFacts(exists=True, digest=DIGEST_B)}
    pinned = item(f"ghcr.io/acme/api:1.4.2@{DIGEST_A}")
    result = only(image_exists(facts(pinned, registry=registry), NoOptions()))
    assert result.status == "fail"
    assert (
        "now resolves to sha256:bbbbbbbbbbbb…, not the pinned sha256:aaaaaaaaaaaa…" in result.reason
    )


@pytest.mark.parametrize(
    "registry,reason",
    [
        (None, "the registry was not asked about ghcr.io/acme/api:1.4.2"),
        ({}, "the registry was not asked about ghcr.io/acme/api:1.4.2"),
        ({"api": RegistryFacts()}, "the registry was not asked about ghcr.io/acme/api:1.4.2"),
        (
            {"api": RegistryFacts(error="connection refused")},
            "could not look up ghcr.io/acme/api:1.4.2: connection refused",
        ),
    ],
)
def test_an_unreachable_registry_is_an_error_never_a_pass(
    registry: dict[str, RegistryFacts] | None, reason: str
) -> None:
    result = only(
        image_exists(facts(item("ghcr.io/acme/api:1.4.2"), registry=registry), NoOptions())
    )
    assert (result.status, result.reason) == ("error", reason)
    assert "credentials" in result.fix


# ----------------------------------------------------------------- no-plaintext-secrets


def secret(name: str, **kw: Any) -> ObjectSummary:
    return ObjectSummary(kind=kw.pop("kind", "Secret"), name=name, namespace="prod", **kw)


def test_secrets_encrypted_sealed_external_or_empty_pass() -> None:
    objects = (
        secret("sops", has_data=True, sops=True),
        secret("sealed", kind="SealedSecret", api_version="bitnami.com/v1alpha1", has_data=True),
        secret("external", kind="ExternalSecret", api_version="external-secrets.io/v1beta1"),
        secret("empty"),  # e.g. a service-account token Secret filled in by the cluster
        ObjectSummary("Deployment", "api", "prod", api_version="apps/v1"),
        ObjectSummary("ConfigMap", "settings", "prod", has_data=True),
    )
    result = only(no_plaintext_secrets(facts(target_objects=objects), NoOptions()))
    assert (result.status, result.subject) == ("pass", "")
    assert result.reason == "no plaintext Secret among 6 object(s)"


def test_a_secret_with_string_data_fails_per_secret() -> None:
    objects = (
        secret("db", has_data=True, file="apps/api/prod/secret.yaml"),
        secret("ok", has_data=True, sops=True),
        ObjectSummary("Secret", "tls", None, has_data=True),
    )
    results = no_plaintext_secrets(facts(target_objects=objects), NoOptions())
    assert [(r.status, r.subject) for r in results] == [
        ("fail", "Secret prod/db"),
        ("fail", "Secret tls"),
    ]
    assert results[0].reason == (
        "Secret prod/db in apps/api/prod/secret.yaml holds plaintext data in prod"
    )
    assert "SOPS" in results[0].fix and "SealedSecret" in results[0].fix


def test_secrets_not_rendered_are_an_error() -> None:
    result = only(no_plaintext_secrets(facts(target_objects=None), NoOptions()))
    assert result.status == "error"


def test_a_sops_file_with_values_left_in_the_clear_fails() -> None:
    objects = (
        secret(
            "db",
            has_data=True,
            sops=True,
            clear_keys=("stringData.password",),
            file="apps/api/prod/secret.yaml",
        ),
        secret("ok", has_data=True, sops=True),
    )
    (result,) = no_plaintext_secrets(facts(target_objects=objects), NoOptions())
    assert (result.status, result.subject) == ("fail", "Secret prod/db")
    assert result.reason == (
        "Secret prod/db in apps/api/prod/secret.yaml has a sops: block but "
        "stringData.password is not encrypted (edited by hand after encryption?)"
    )
    assert "sops encrypt --in-place apps/api/prod/secret.yaml" in result.fix


def test_the_facts_tell_ciphertext_from_a_hand_edited_value() -> None:
    from promoter.workflows.check import _clear_keys

    encrypted = "ENC[AES256_GCM,data:nUNQ6rk=,iv:/PQQ=,tag:jrWK=,type:str]"
    doc = {"kind": "Secret", "stringData": {"a": encrypted, "b": "hunter2"},
           "data": {"c": encrypted}, "sops": {"mac": encrypted}}  # fmt: skip
    assert _clear_keys(doc) == ("stringData.b",)
