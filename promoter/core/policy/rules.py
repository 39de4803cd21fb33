"""The built-in rules: one pure function per rule, `(facts, options) -> [Result]`.

Per-item rules return one Result per service the proposal changes; the
others return one Result for the whole proposal. A rule never raises for
missing facts: it returns `error` (which fails the check). The history rules
live in `upstream`, the approval and freeze rules in `review`; this module
holds the image and manifest rules and the name -> function table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from promoter.core.policy.facts import Facts, Item
from promoter.core.policy.result import ERROR, FAIL, PASS, WARN, Result
from promoter.core.policy.review import approvals, freeze
from promoter.core.policy.settings import AllowedRegistriesOptions, ImmutableTagsOptions, NoOptions
from promoter.core.policy.upstream import healthy_upstream, order, soak, version
from promoter.core.versions import is_downgrade

__all__ = [
    "RULE_FUNCTIONS",
    "Rule",
    "allowed_registries",
    "approvals",
    "digest_pinned",
    "freeze",
    "healthy_upstream",
    "image_exists",
    "immutable_tags",
    "no_downgrade",
    "no_plaintext_secrets",
    "order",
    "soak",
]

Rule = Callable[[Facts, Any], list[Result]]
ALWAYS_MUTABLE = "latest"


def _short(digest: str) -> str:
    return f"{digest[:19]}…"


# --------------------------------------------------------------------------- no-downgrade


def no_downgrade(facts: Facts, options: NoOptions) -> list[Result]:
    """Versions (semver precedence) must not go backwards, unless the PR is a
    rollback (whose version the order rule checks against target history)."""
    if facts.kind == "rollback":
        return [Result("no-downgrade", PASS, "", "rollbacks may go back to an earlier version")]
    return [_no_downgrade(facts, item) for item in facts.items]


def _no_downgrade(facts: Facts, item: Item) -> Result:
    rule, svc = "no-downgrade", item.service
    if item.current is None:
        return Result(rule, PASS, svc, f"{svc} is new in {facts.target_env}")
    old, new = item.current.tag, item.new.tag
    if old is None or new is None:
        return Result(
            rule,
            WARN,
            svc,
            f"{svc} {version(item.current)} → {version(item.new)}: a digest-only reference "
            "has no version to compare",
            "promote tagged references to have versions compared",
        )
    verdict = is_downgrade(old, new)
    if verdict is None:
        return Result(
            rule,
            WARN,
            svc,
            f"{svc} {old} → {new}: these tags are not versions that can be compared",
            "use semantic version tags (1.4.2) to have downgrades caught",
        )
    if verdict:
        return Result(
            rule,
            FAIL,
            svc,
            f"{svc} {old} → {new} goes backwards",
            f"promote a version newer than {old}, or roll back on purpose: "
            f"promoter rollback --env {facts.target_env} --service {svc}",
        )
    return Result(rule, PASS, svc, f"{svc} {old} → {new} does not go backwards")


# --------------------------------------------------------------------------- immutable-tags


def immutable_tags(facts: Facts, options: ImmutableTagsOptions) -> list[Result]:
    """Refuse `latest` and tags matching a configured pattern in full.

    The tag is refused even with a digest next to it: a reader of the
    environment sees the tag, and `latest` tells them nothing."""
    return [_immutable(options, item) for item in facts.items]


def _immutable(options: ImmutableTagsOptions, item: Item) -> Result:
    rule, svc, tag = "immutable-tags", item.service, item.new.tag
    if tag is None:
        return Result(rule, PASS, svc, f"{svc} is pinned by digest only")
    fix = f"promote an immutable tag of {svc} (a version like 1.4.2, or a digest)"
    if tag.casefold() == ALWAYS_MUTABLE:
        return Result(rule, FAIL, svc, f"{svc} uses the tag '{tag}', which moves", fix)
    for pattern in options.patterns:
        if re.fullmatch(pattern, tag):
            return Result(
                rule, FAIL, svc, f"{svc} tag '{tag}' matches the mutable pattern '{pattern}'", fix
            )
    return Result(rule, PASS, svc, f"{svc} tag '{tag}' is not a moving tag")


# --------------------------------------------------------------------------- allowed-registries


def allowed_registries(facts: Facts, options: AllowedRegistriesOptions) -> list[Result]:
    """The repository (as written, or fully qualified: `docker.io/library/x`)
    starts with an allowed prefix, at a `/` boundary (`ghcr.io/acme` allows
    `ghcr.io/acme/api`, not `ghcr.io/acme-evil/api`)."""
    return [_allowed(options, item) for item in facts.items]


def _prefix_matches(prefix: str, repository: str) -> bool:
    host, _, path = prefix.partition("/")
    wanted = f"{host.lower()}/{path}" if path else host.lower()
    return repository == wanted or repository.startswith(wanted + "/")


def _allowed(options: AllowedRegistriesOptions, item: Item) -> Result:
    rule, svc = "allowed-registries", item.service
    written = item.new.repository
    host, _, path = written.partition("/")
    names = {item.new.canonical, f"{host.lower()}/{path}" if path else written}
    for prefix in options.prefixes:
        if any(_prefix_matches(prefix, name) for name in names):
            return Result(rule, PASS, svc, f"{written} is under the allowed prefix '{prefix}'")
    return Result(
        rule,
        FAIL,
        svc,
        f"{written} is not under an allowed prefix ({', '.join(options.prefixes)})",
        "publish the image to an allowed registry, or add its prefix to "
        "allowed-registries in promoter.yaml",
    )


# --------------------------------------------------------------------------- digest-pinned


def digest_pinned(facts: Facts, options: NoOptions) -> list[Result]:
    """Every new reference carries `@sha256:…`."""
    results = []
    for item in facts.items:
        svc = item.service
        if item.new.digest is not None:
            results.append(
                Result("digest-pinned", PASS, svc, f"{svc} is pinned to {_short(item.new.digest)}")
            )
            continue
        known = (facts.registry or {}).get(svc)
        digest = known.digest if known is not None and known.digest else "sha256:…"
        results.append(
            Result(
                "digest-pinned",
                FAIL,
                svc,
                f"{svc} {version(item.new)} is not pinned by digest; "
                f"{facts.target_env} requires @sha256: references",
                f"pin the digest where the version enters and promote again "
                f"(promoter bump --service {svc} --tag {item.new.tag} --digest {digest})",
            )
        )
    return results


# --------------------------------------------------------------------------- image-exists


def image_exists(facts: Facts, options: NoOptions) -> list[Result]:
    """The new reference exists in its registry; a pinned digest must still
    be what the tag resolves to."""
    return [_exists(facts, item) for item in facts.items]


def _exists(facts: Facts, item: Item) -> Result:
    rule, svc, ref = "image-exists", item.service, str(item.new)
    known = None if facts.registry is None else facts.registry.get(svc)
    retry = "check the registry's availability and credentials, then run /check again"
    if known is None or (known.exists is None and known.error is None):
        return Result(rule, ERROR, svc, f"the registry was not asked about {ref}", retry)
    if known.error is not None:
        return Result(rule, ERROR, svc, f"could not look up {ref}: {known.error}", retry)
    if not known.exists:
        return Result(
            rule,
            FAIL,
            svc,
            f"{ref} does not exist in {item.new.registry}",
            "push the image first, or fix the tag",
        )
    pinned, resolved = item.new.digest, known.digest
    if item.new.tag is not None and pinned and resolved and pinned != resolved:
        return Result(
            rule,
            FAIL,
            svc,
            f"{item.new.repository}:{item.new.tag} now resolves to {_short(resolved)}, "
            f"not the pinned {_short(pinned)} (the tag was pushed again)",
            "find out why the tag moved; promote the digest you mean to ship",
        )
    digest = f" ({_short(resolved)})" if resolved else ""
    return Result(rule, PASS, svc, f"{ref} exists{digest}")


# --------------------------------------------------------------------------- no-plaintext-secrets


def no_plaintext_secrets(facts: Facts, options: NoOptions) -> list[Result]:
    """No core `v1` Secret with `data`/`stringData` unless its file is
    SOPS-encrypted. SealedSecret, ExternalSecret and empty Secrets are fine."""
    rule = "no-plaintext-secrets"
    if facts.target_objects is None:
        return [
            Result(
                rule,
                ERROR,
                "",
                f"{facts.target_env}'s manifests were not rendered",
                "fix the render error shown elsewhere in this check, then run /check again",
            )
        ]
    results = []
    for obj in facts.target_objects:
        if obj.kind != "Secret" or obj.api_version != "v1" or not obj.has_data:
            continue
        if obj.sops and not obj.clear_keys:
            continue
        name = f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name
        where = f" in {obj.file}" if obj.file else ""
        if obj.sops:
            results.append(
                Result(
                    rule,
                    FAIL,
                    f"Secret {name}",
                    f"Secret {name}{where} has a sops: block but {', '.join(obj.clear_keys)} "
                    f"{'is' if len(obj.clear_keys) == 1 else 'are'} not encrypted "
                    "(edited by hand after encryption?)",
                    f"re-encrypt it: sops encrypt --in-place {obj.file or 'FILE'} "
                    "(edit encrypted files with `sops edit`)",
                )
            )
            continue
        results.append(
            Result(
                rule,
                FAIL,
                f"Secret {name}",
                f"Secret {name}{where} holds plaintext data in {facts.target_env}",
                "encrypt the file with SOPS, or use a SealedSecret or ExternalSecret",
            )
        )
    if results:
        return results
    count = len(facts.target_objects)
    return [Result(rule, PASS, "", f"no plaintext Secret among {count} object(s)")]


RULE_FUNCTIONS: Mapping[str, Rule] = {
    "order": order,
    "soak": soak,
    "healthy-upstream": healthy_upstream,
    "no-downgrade": no_downgrade,
    "immutable-tags": immutable_tags,
    "allowed-registries": allowed_registries,
    "digest-pinned": digest_pinned,
    "image-exists": image_exists,
    "no-plaintext-secrets": no_plaintext_secrets,
    "freeze": freeze,
    "approvals": approvals,
}
"""Rule name (as in promoter.yaml) -> function; keys equal settings.RULES."""
