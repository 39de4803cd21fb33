"""The `policies:` block of promoter.yaml: which rules guard promotions into
an environment, with typed, validated options per rule.

```yaml
environments:
  - name: prod
    from: staging
    policies:
      no-downgrade: {}
      soak: {duration: 30m}
      freeze: {deny: ["0 15 * * 5 - 0 8 * * 1"], timezone: Europe/Berlin}
      approvals: {count: 2, teams: [sre]}
defaults:
  policies:
    immutable-tags: {}      # every environment, unless it sets its own
```

`defaults.policies` applies to every environment; an environment's entry for
a rule replaces the default's options for that rule, and `rule: false`
switches a default rule off there. Every rule also takes `severity: warn`
(report, never block). docs/config.md is the reference.

`settings_reader` reads the block with the same `NodeReader` as the rest of
promoter.yaml, so its messages look like every other config problem.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from promoter.core.policy.durations import format_duration

__all__ = [
    "RULES",
    "SEVERITIES",
    "AllowedRegistriesOptions",
    "ApprovalsOptions",
    "FreezeOptions",
    "ImmutableTagsOptions",
    "NoOptions",
    "Options",
    "PolicyConfig",
    "SoakOptions",
    "merge_policies",
]

RULES = (
    "order",
    "soak",
    "healthy-upstream",
    "no-downgrade",
    "immutable-tags",
    "allowed-registries",
    "digest-pinned",
    "image-exists",
    "no-plaintext-secrets",
    "freeze",
    "approvals",
)
"""Every built-in rule, in the order reports list them."""
SEVERITIES = ("fail", "warn")
NEEDS_SOURCE = ("order", "soak", "healthy-upstream")
"""Rules about the environment a version comes from."""
DEFAULT_OVERRIDE_LABEL = "freeze-override"
DEFAULT_TIMEZONE = "UTC"


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class NoOptions:
    """order, healthy-upstream, no-downgrade, digest-pinned, image-exists,
    no-plaintext-secrets: nothing to configure."""


@dataclass(frozen=True)
class SoakOptions:
    seconds: int
    """How long a version must have run in the source environment."""

    @property
    def text(self) -> str:
        return format_duration(self.seconds)


@dataclass(frozen=True)
class FreezeOptions:
    deny: tuple[str, ...]
    """Windows `"<cron> - <cron>"` (validated; parse with cron.parse_window)."""
    timezone: str = DEFAULT_TIMEZONE
    """IANA time zone the crons are read in, e.g. `Europe/Berlin`."""
    override_label: str = DEFAULT_OVERRIDE_LABEL
    override_approvals: int = 1
    """Current approvals (not the author's) the override label needs."""
    override_users: tuple[str, ...] = ()
    override_teams: tuple[str, ...] = ()
    """Who may approve an override; both empty: anyone but the author."""


@dataclass(frozen=True)
class ApprovalsOptions:
    count: int = 1
    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    """GitHub team slugs (without the organisation)."""
    groups: tuple[str, ...] = ()
    """GitLab group paths (`acme/sre`)."""


@dataclass(frozen=True)
class ImmutableTagsOptions:
    patterns: tuple[str, ...] = ()
    """Regular expressions a tag must not match in full; `latest` always is refused."""


@dataclass(frozen=True)
class AllowedRegistriesOptions:
    prefixes: tuple[str, ...]
    """Repository prefixes (`ghcr.io/acme`), matched at a `/` boundary."""


Options = (
    NoOptions
    | SoakOptions
    | FreezeOptions
    | ApprovalsOptions
    | ImmutableTagsOptions
    | AllowedRegistriesOptions
)
OPTION_TYPES: Mapping[str, type[Options]] = {
    **dict.fromkeys(RULES, NoOptions),
    "soak": SoakOptions,
    "freeze": FreezeOptions,
    "approvals": ApprovalsOptions,
    "immutable-tags": ImmutableTagsOptions,
    "allowed-registries": AllowedRegistriesOptions,
}


@dataclass(frozen=True)
class PolicyConfig:
    """One rule switched on for an environment."""

    rule: str
    options: Options = NoOptions()
    severity: str = "fail"
    """`fail`: a failing result fails the check; `warn`: it is only reported."""
    line: int = 0
    """Where the rule is configured (the environment's or `defaults`' entry)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "line": self.line,
            "options": dataclasses.asdict(self.options),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PolicyConfig:
        rule = str(data["rule"])
        options: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data["options"].items()
        }
        return cls(rule, OPTION_TYPES[rule](**options), str(data["severity"]), int(data["line"]))


def merge_policies(
    defaults: Iterable[PolicyConfig], own: Mapping[str, PolicyConfig | None]
) -> tuple[PolicyConfig, ...]:
    """The environment's rules: its own entries, else the defaults' (None = off)."""
    merged = {p.rule: p for p in defaults}
    for rule, policy in own.items():
        if policy is None:
            merged.pop(rule, None)
        else:
            merged[rule] = policy
    return tuple(sorted(merged.values(), key=lambda p: RULES.index(p.rule)))
