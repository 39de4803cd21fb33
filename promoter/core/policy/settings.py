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

`promoter.core.config.model` walks the YAML with its own reader and calls
`read_policies` with it, so messages look like every other config problem.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import zoneinfo
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from promoter.core.policy.cron import CronError, parse_window
from promoter.core.policy.durations import duration_problem, format_duration, parse_duration
from promoter.core.yamlnodes import MappingNode, Node, ScalarNode

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
    "read_policies",
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

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_FLOAT = "tag:yaml.org,2002:float"
_GROUP = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*")


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


# --------------------------------------------------------------------------- validation

Entries = dict[str, tuple[Node, Node]]


class Reader(Protocol):
    """What `promoter.core.config.model`'s parser offers (see its `_Parser`)."""

    @property
    def problems(self) -> Sequence[object]: ...

    def problem(self, where: Node | int, message: str) -> None: ...

    def mapping(
        self, node: Node, label: str, allowed: Sequence[str] | None, at: Node | int
    ) -> Entries | None: ...

    def string(self, entries: Entries, key: str, label: str) -> str | None: ...

    def string_list(
        self, entries: Entries, key: str, label: str, check: Callable[[str], str | None]
    ) -> tuple[str, ...] | None: ...


_OPTION_KEYS: Mapping[str, tuple[str, ...]] = {
    "soak": ("duration",),
    "freeze": (
        "deny",
        "timezone",
        "overrideLabel",
        "overrideApprovals",
        "overrideUsers",
        "overrideTeams",
    ),
    "approvals": ("count", "users", "teams", "groups"),
    "immutable-tags": ("patterns",),
    "allowed-registries": ("prefixes",),
}
_REQUIRED: Mapping[str, tuple[str, str]] = {
    "soak": ("duration", "soak: {duration: 30m}"),
    "freeze": ("deny", 'freeze: {deny: ["0 15 * * 5 - 0 8 * * 1"], timezone: Europe/Berlin}'),
    "allowed-registries": ("prefixes", "allowed-registries: {prefixes: [ghcr.io/acme]}"),
}


def option_keys(rule: str) -> tuple[str, ...]:
    """Every key a rule's options mapping may hold (for the schema test, too)."""
    return (*_OPTION_KEYS.get(rule, ()), "severity")


def read_policies(
    reader: Reader,
    key_node: Node,
    node: Node,
    label: str,
    *,
    has_source: bool | None,
) -> dict[str, PolicyConfig | None] | None:
    """The rules one `policies:` mapping configures (None: switched off).

    `has_source` is None for `defaults`, else whether the environment has a
    `from` (rules about a source environment make no sense without one).
    Problems go to `reader`; the result is None when the block is not a mapping.
    """
    where = f"{label}: policies"
    entries = reader.mapping(node, where, None, at=key_node)
    if entries is None:
        return None
    found: dict[str, PolicyConfig | None] = {}
    for rule, (rule_key, value) in entries.items():
        if rule not in RULES:
            close = _close(rule, RULES)
            reader.problem(
                rule_key,
                f"{where}: unknown rule {rule!r}{close} (rules: {', '.join(RULES)})",
            )
            continue
        if isinstance(value, ScalarNode) and value.tag == _BOOL:
            if str(value.value).lower() == "false":
                if has_source is None:
                    reader.problem(
                        rule_key,
                        f"{where}: {rule}: false has no use in defaults "
                        "(leave the rule out; environments use false to switch a default off)",
                    )
                else:
                    found[rule] = None
                continue
            value_entries: Entries | None = {}
        elif isinstance(value, ScalarNode) and value.tag == _NULL:
            value_entries = {}
        elif isinstance(value, MappingNode):
            value_entries = reader.mapping(value, f"{where}: {rule}", option_keys(rule), rule_key)
        else:
            reader.problem(
                rule_key,
                f"{where}: {rule} takes a mapping of options ({{}} for none), got {_kind(value)}",
            )
            continue
        if value_entries is None:
            continue
        if has_source is False and rule in NEEDS_SOURCE:
            reader.problem(
                rule_key,
                f"{where}: {rule} checks the environment a version comes from, "
                f"but {label} has no `from`",
            )
            continue
        policy = _options(reader, rule, rule_key, value_entries, f"{where}: {rule}")
        if policy is not None:
            found[rule] = policy
    return found


def _close(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _options(
    reader: Reader, rule: str, at: Node, entries: Entries, label: str
) -> PolicyConfig | None:
    """The rule's PolicyConfig; None (problems reported) when an option is invalid."""
    before = _Counter(reader)
    severity = _choice(reader, entries, "severity", label, SEVERITIES) or "fail"
    required = _REQUIRED.get(rule)
    if required is not None and required[0] not in entries:
        reader.problem(at, f"{label}: missing required option {required[0]!r} (e.g. {required[1]})")
    options: Options
    if rule == "soak":
        text = _checked(reader, entries, "duration", label, duration_problem)
        options = SoakOptions(0 if text is None else parse_duration(text) or 0)
    elif rule == "freeze":
        options = _freeze(reader, entries, label)
    elif rule == "approvals":
        options = ApprovalsOptions(
            count=_integer(reader, entries, "count", label, 1, 1),
            users=_accounts(reader, entries, "users", label),
            teams=_teams(reader, entries, "teams", label),
            groups=reader.string_list(entries, "groups", label, _group_problem) or (),
        )
    elif rule == "immutable-tags":
        patterns = reader.string_list(entries, "patterns", label, _regex_problem)
        options = ImmutableTagsOptions(patterns or ())
    elif rule == "allowed-registries":
        prefixes = reader.string_list(entries, "prefixes", label, _prefix_problem)
        if prefixes == ():
            reader.problem(entries["prefixes"][0], f"{label}: prefixes must not be empty")
        options = AllowedRegistriesOptions(tuple(p.rstrip("/") for p in prefixes or ()))
    else:
        options = NoOptions()
    if before.grew():
        return None
    return PolicyConfig(rule, options, severity, line=_line(at))


def _freeze(reader: Reader, entries: Entries, label: str) -> FreezeOptions:
    deny = reader.string_list(entries, "deny", label, _window_problem)
    if deny == ():
        reader.problem(entries["deny"][0], f"{label}: deny must list at least one window")
    timezone = _checked(reader, entries, "timezone", label, timezone_problem)
    override = _checked(reader, entries, "overrideLabel", label, _label_problem)
    return FreezeOptions(
        deny=tuple(parse_window(w).text for w in deny or ()),
        timezone=timezone or DEFAULT_TIMEZONE,
        override_label=override or DEFAULT_OVERRIDE_LABEL,
        override_approvals=_integer(reader, entries, "overrideApprovals", label, 1, 1),
        override_users=_accounts(reader, entries, "overrideUsers", label),
        override_teams=_teams(reader, entries, "overrideTeams", label),
    )


class _Counter:
    """Did the reader collect new problems since this was made?"""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.start = len(reader.problems)

    def grew(self) -> bool:
        return len(self.reader.problems) > self.start


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _checked(
    reader: Reader, entries: Entries, key: str, label: str, check: Callable[[str], str | None]
) -> str | None:
    if key in entries and isinstance(entries[key][1], ScalarNode):
        value = entries[key][1]
        if value.tag in (_INT, _FLOAT) and key == "duration":
            reader.problem(
                entries[key][0],
                f"{label}: duration {value.value} has no unit; write {value.value}m, "
                f"{value.value}s, ...",
            )
            return None
    text = reader.string(entries, key, label)
    if text is None:
        return None
    problem = check(text)
    if problem is not None:
        reader.problem(entries[key][1], f"{label}: {key}: {problem}")
        return None
    return text


def _choice(
    reader: Reader, entries: Entries, key: str, label: str, choices: Sequence[str]
) -> str | None:
    def check(text: str) -> str | None:
        if text in choices:
            return None
        return f"must be one of {', '.join(choices)}; got {text!r}{_close(text, choices)}"

    return _checked(reader, entries, key, label, check)


def _integer(
    reader: Reader, entries: Entries, key: str, label: str, minimum: int, default: int
) -> int:
    if key not in entries:
        return default
    key_node, value = entries[key]
    if not isinstance(value, ScalarNode) or value.tag != _INT:
        reader.problem(key_node, f"{label}: {key} must be a whole number, got {_kind(value)}")
        return default
    try:
        number = int(str(value.value), 0)
    except ValueError:
        number = int(str(value.value))
    if number < minimum:
        reader.problem(value, f"{label}: {key} must be at least {minimum}, got {number}")
        return default
    return number


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if not isinstance(node, ScalarNode):
        return "a list"
    kinds = {_STR: "a string", _BOOL: "a boolean", _NULL: "nothing (null)", _FLOAT: "a number"}
    return kinds.get(str(node.tag), f"a value tagged {node.tag}")


def _accounts(reader: Reader, entries: Entries, key: str, label: str) -> tuple[str, ...]:
    from promoter.core.config.model import (
        account_problem,  # promoter.core.config.model imports this module
    )

    return reader.string_list(entries, key, label, account_problem) or ()


def _teams(reader: Reader, entries: Entries, key: str, label: str) -> tuple[str, ...]:
    from promoter.core.config.model import team_problem

    return reader.string_list(entries, key, label, team_problem) or ()


def _label_problem(text: str) -> str | None:
    from promoter.core.config.model import label_problem

    return label_problem(text)


# --------------------------------------------------------------------------- value checks


def timezone_problem(text: str) -> str | None:
    """Why `text` is not an IANA time zone name zoneinfo knows, or None."""
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # available_timezones() reads the whole database: only on failure.
        close = _close(text, sorted(zoneinfo.available_timezones()))
        if not close:
            lowered = {z.lower(): z for z in zoneinfo.available_timezones()}
            if text.lower() in lowered:
                close = f"; did you mean {lowered[text.lower()]!r}?"
        return f"{text!r} is not an IANA time zone like 'Europe/Berlin' or 'UTC'{close}"
    return None


def _window_problem(text: str) -> str | None:
    try:
        parse_window(text)
    except CronError as err:
        return str(err)
    return None


def _regex_problem(text: str) -> str | None:
    try:
        re.compile(text)
    except re.error as err:
        return f"{text!r} is not a valid regular expression: {err}"
    return None


def _group_problem(text: str) -> str | None:
    if text.startswith("@"):
        return f"{text!r}: write the group path without '@'"
    if _GROUP.fullmatch(text.rstrip("/")) and not text.endswith("/"):
        return None
    return f"{text!r} is not a GitLab group path like 'acme' or 'acme/sre'"


def _prefix_problem(text: str) -> str | None:
    if "://" in text:
        return f"{text!r}: write the repository prefix without a scheme (e.g. 'ghcr.io/acme')"
    if any(c.isspace() for c in text) or "@" in text:
        return f"{text!r} is not a repository prefix like 'ghcr.io/acme'"
    head, _, rest = text.partition("/")
    if ":" in rest:
        return f"{text!r} includes a tag; a prefix names registries or repositories only"
    if not head or head.startswith((".", "-")):
        return f"{text!r} is not a repository prefix like 'ghcr.io/acme'"
    return None
