"""Reading the `policies:` block of promoter.yaml into `PolicyConfig`s, with
the same `NodeReader` (and so the same `file:line` messages) as the rest of
the file. The rules and their options are in `settings`.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Mapping, Sequence

from promoter.core.config.fields import account_problem, label_problem, suggest, team_problem
from promoter.core.config.reader import BOOL, FLOAT, INT, NULL, Entries, NodeReader, kind_of
from promoter.core.policy.cron import CronError, parse_window
from promoter.core.policy.durations import duration_problem, parse_duration
from promoter.core.policy.settings import (
    DEFAULT_OVERRIDE_LABEL,
    DEFAULT_TIMEZONE,
    NEEDS_SOURCE,
    RULES,
    SEVERITIES,
    AllowedRegistriesOptions,
    ApprovalsOptions,
    FreezeOptions,
    ImmutableTagsOptions,
    NoOptions,
    Options,
    PolicyConfig,
    SoakOptions,
)
from promoter.core.yamlnodes import MappingNode, Node, ScalarNode, line_of

_GROUP = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*")

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
    reader: NodeReader,
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
            close = suggest(rule, RULES)
            reader.problem(
                rule_key,
                f"{where}: unknown rule {rule!r}{close} (rules: {', '.join(RULES)})",
            )
            continue
        if isinstance(value, ScalarNode) and value.tag == BOOL:
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
        elif isinstance(value, ScalarNode) and value.tag == NULL:
            value_entries = {}
        elif isinstance(value, MappingNode):
            value_entries = reader.mapping(value, f"{where}: {rule}", option_keys(rule), rule_key)
        else:
            reader.problem(
                rule_key,
                f"{where}: {rule} takes a mapping of options ({{}} for none), got {kind_of(value)}",
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


def _options(
    reader: NodeReader, rule: str, at: Node, entries: Entries, label: str
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
    return PolicyConfig(rule, options, severity, line=line_of(at))


def _freeze(reader: NodeReader, entries: Entries, label: str) -> FreezeOptions:
    deny = reader.string_list(entries, "deny", label, _window_problem)
    if deny == ():
        reader.problem(entries["deny"][0], f"{label}: deny must list at least one window")
    timezone = _checked(reader, entries, "timezone", label, timezone_problem)
    override = _checked(reader, entries, "overrideLabel", label, label_problem)
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

    def __init__(self, reader: NodeReader) -> None:
        self.reader = reader
        self.start = len(reader.problems)

    def grew(self) -> bool:
        return len(self.reader.problems) > self.start


def _checked(
    reader: NodeReader, entries: Entries, key: str, label: str, check: Callable[[str], str | None]
) -> str | None:
    """`reader.checked`, with a hint for a duration written without a unit."""
    if key == "duration" and key in entries and isinstance(entries[key][1], ScalarNode):
        value = entries[key][1]
        if value.tag in (INT, FLOAT):
            reader.problem(
                entries[key][0],
                f"{label}: duration {value.value} has no unit; write {value.value}m, "
                f"{value.value}s, ...",
            )
            return None
    return reader.checked(entries, key, label, check)


def _choice(
    reader: NodeReader, entries: Entries, key: str, label: str, choices: Sequence[str]
) -> str | None:
    def check(text: str) -> str | None:
        if text in choices:
            return None
        return f"must be one of {', '.join(choices)}; got {text!r}{suggest(text, choices)}"

    return _checked(reader, entries, key, label, check)


def _integer(
    reader: NodeReader, entries: Entries, key: str, label: str, minimum: int, default: int
) -> int:
    if key not in entries:
        return default
    key_node, value = entries[key]
    if not isinstance(value, ScalarNode) or value.tag != INT:
        reader.problem(key_node, f"{label}: {key} must be a whole number, got {kind_of(value)}")
        return default
    try:
        number = int(str(value.value), 0)
    except ValueError:
        number = int(str(value.value))
    if number < minimum:
        reader.problem(value, f"{label}: {key} must be at least {minimum}, got {number}")
        return default
    return number


def _accounts(reader: NodeReader, entries: Entries, key: str, label: str) -> tuple[str, ...]:
    return reader.string_list(entries, key, label, account_problem) or ()


def _teams(reader: NodeReader, entries: Entries, key: str, label: str) -> tuple[str, ...]:
    return reader.string_list(entries, key, label, team_problem) or ()


# --------------------------------------------------------------------------- value checks


def timezone_problem(text: str) -> str | None:
    """Why `text` is not an IANA time zone name zoneinfo knows, or None."""
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # available_timezones() reads the whole database: only on failure.
        close = suggest(text, sorted(zoneinfo.available_timezones()))
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
