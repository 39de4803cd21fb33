"""The `policies:` key of promoter.yaml: model, defaults, validation with
file:line, the JSON schema, the config cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from promoter.core.config.loader import load_config, parse_config
from promoter.core.config.model import Environment
from promoter.core.policy.durations import format_duration, format_utc, parse_duration
from promoter.core.policy.settings import (
    RULES,
    AllowedRegistriesOptions,
    ApprovalsOptions,
    FreezeOptions,
    ImmutableTagsOptions,
    NoOptions,
    PolicyConfig,
    SoakOptions,
)
from promoter.core.policy.settings_reader import option_keys
from promoter.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "promoter" / "schema" / "promoter.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

CONFIG = """\
version: 1
environments:
  - name: dev
    policies: {approvals: false}
  - name: staging
    from: dev
  - name: prod
    from: staging
    policies:
      no-downgrade: {}
      soak: {duration: 1h30m}
      freeze:
        deny: ["0 15 * * 5 - 0 8 * * 1", "0  22 * * *   -   0 6 * * *"]
        timezone: Europe/Berlin
        overrideApprovals: 2
        overrideUsers: [carol]
        overrideTeams: [sre]
      approvals: {count: 2, teams: [sre], users: [dave], groups: [acme/sre]}
      immutable-tags: {patterns: ['.*-SNAPSHOT'], severity: fail}
      allowed-registries: {prefixes: [ghcr.io/acme/, registry.example.com:5000]}
      order:
      digest-pinned: true
defaults:
  policies:
    approvals: {}
    immutable-tags: {patterns: ['main-.*'], severity: warn}
    image-exists: {}
services: []
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return [str(p) for p in info.value.problems]


def to_data(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def rules_of(env: Environment) -> list[str]:
    return [p.rule for p in env.policies]


# ----------------------------------------------------------------- the model


def test_policies_are_read_with_typed_options_and_lines() -> None:
    prod = parse_config(CONFIG).environment("prod")
    by_rule = {p.rule: p for p in prod.policies}

    assert by_rule["soak"] == PolicyConfig("soak", SoakOptions(5400), "fail", line=11)
    assert by_rule["soak"].options.text == "1h30m"  # type: ignore[union-attr]
    assert by_rule["freeze"].options == FreezeOptions(
        deny=("0 15 * * 5 - 0 8 * * 1", "0 22 * * * - 0 6 * * *"),  # normalised spacing
        timezone="Europe/Berlin",
        override_label="freeze-override",
        override_approvals=2,
        override_users=("carol",),
        override_teams=("sre",),
    )
    assert by_rule["approvals"].options == ApprovalsOptions(
        count=2, users=("dave",), teams=("sre",), groups=("acme/sre",)
    )
    assert by_rule["immutable-tags"] == PolicyConfig(
        "immutable-tags", ImmutableTagsOptions((".*-SNAPSHOT",)), "fail", line=19
    )
    assert by_rule["allowed-registries"].options == AllowedRegistriesOptions(
        ("ghcr.io/acme", "registry.example.com:5000")  # a trailing '/' is dropped
    )
    # An empty value and `true` mean "on, with the default options".
    assert by_rule["order"] == PolicyConfig("order", NoOptions(), line=21)
    assert by_rule["digest-pinned"] == PolicyConfig("digest-pinned", NoOptions(), line=22)


def test_policies_come_in_report_order() -> None:
    prod = parse_config(CONFIG).environment("prod")
    assert rules_of(prod) == [r for r in RULES if r in rules_of(prod)]
    assert rules_of(prod) == [
        "order",
        "soak",
        "no-downgrade",
        "immutable-tags",
        "allowed-registries",
        "digest-pinned",
        "image-exists",
        "freeze",
        "approvals",
    ]


def test_defaults_apply_unless_the_environment_sets_or_switches_off_the_rule() -> None:
    config = parse_config(CONFIG)
    dev, staging, prod = config.environments

    # staging sets nothing: every default, as written in defaults
    assert rules_of(staging) == ["immutable-tags", "image-exists", "approvals"]
    immutable = staging.policies[0]
    assert immutable.severity == "warn"
    assert immutable.options == ImmutableTagsOptions(("main-.*",))
    assert immutable.line == 26
    assert staging.policies[2].options == ApprovalsOptions(count=1)
    # dev switches approvals off
    assert rules_of(dev) == ["immutable-tags", "image-exists"]
    # prod's own entry replaces the default's options entirely
    prod_rules = {p.rule: p for p in prod.policies}
    assert prod_rules["immutable-tags"].options == ImmutableTagsOptions((".*-SNAPSHOT",))
    assert prod_rules["immutable-tags"].severity == "fail"
    assert prod_rules["approvals"].options.count == 2  # type: ignore[union-attr]
    assert prod_rules["image-exists"].line == 27  # inherited


def test_no_policies_means_none() -> None:
    text = "version: 1\nenvironments:\n  - name: dev\nservices: []\n"
    assert parse_config(text).environment("dev").policies == ()
    assert Environment("dev").policies == ()


def test_switching_off_a_rule_defaults_do_not_set_is_harmless() -> None:
    text = "version: 1\nenvironments:\n  - name: dev\n    policies: {soak: false}\nservices: []\n"
    assert parse_config(text).environment("dev").policies == ()


def test_environments_with_policies_stay_hashable_and_comparable() -> None:
    assert parse_config(CONFIG) == parse_config(CONFIG)
    assert hash(parse_config(CONFIG)) == hash(parse_config(CONFIG))
    env = Environment("dev", policies=[PolicyConfig("order")])  # type: ignore[arg-type]
    assert env.policies == (PolicyConfig("order"),)


def test_policy_config_json_round_trip() -> None:
    for policy in parse_config(CONFIG).environment("prod").policies:
        data = json.loads(json.dumps(policy.to_json()))
        assert PolicyConfig.from_json(data) == policy


def test_cached_config_keeps_policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMOTER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PROMOTER_NO_CACHE", raising=False)
    services = "".join(
        f"  - name: svc{i:04d}\n    image: ghcr.io/acme/svc{i:04d}\n" for i in range(1500)
    )
    text = CONFIG.replace("services: []\n", "services:\n" + services).replace(
        "defaults:\n", "defaults:\n  path: apps/{service}/{env}\n"
    )
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "promoter.yaml").write_text(text)

    fresh = load_config(repo)
    assert list((tmp_path / "cache").glob("config-*.jsonl")), "the file is big enough to cache"
    cached = load_config(repo)
    assert cached == fresh
    assert cached.environment("prod").policies == fresh.environment("prod").policies
    assert len(cached.environment("prod").policies) == 9


# ----------------------------------------------------------------- durations


@pytest.mark.parametrize(
    "text,seconds",
    [
        ("90s", 90),
        ("30m", 1800),
        ("2h", 7200),
        ("1d", 86400),
        ("1h30m", 5400),
        ("1d2h3m4s", 93784),
        ("0h45m", 2700),
    ],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "30", "m", "30 m", "30min", "1m1h", "1h1h", "-5m", "1.5h"])
def test_malformed_durations(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    "seconds,text",
    [(0, "0s"), (45, "45s"), (725, "12m5s"), (5400, "1h30m"), (3605, "1h"), (93784, "1d2h")],
)
def test_format_duration(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_utc_rounds_a_wait_until_time_up() -> None:
    from datetime import datetime

    assert format_utc(datetime.fromisoformat("2024-05-03T16:31:01+02:00")) == (
        "2024-05-03 14:32 UTC"
    )
    assert format_utc(datetime.fromisoformat("2024-05-03T14:32:00+00:00")) == (
        "2024-05-03 14:32 UTC"
    )


# ----------------------------------------------------------------- validation

HEAD = "version: 1\nenvironments:\n  - name: dev\n  - name: prod\n    from: dev\n"


def env_policies(block: str) -> str:
    """A config whose prod environment has `policies:` + block (indented 6)."""
    body = "".join(f"      {line}\n" for line in block.splitlines())
    return HEAD + "    policies:\n" + body + "services: []\n"


# case -> (text, fragments, the JSON schema rejects it too)
INVALID: dict[str, tuple[str, list[str], bool]] = {
    "unknown rule": (
        env_policies("no-downgrad: {}  # <-"),
        [
            "environment 'prod': policies: unknown rule 'no-downgrad'",
            "did you mean 'no-downgrade'?",
            "(rules: order, soak, healthy-upstream",
        ],
        True,
    ),
    "policies not a mapping": (
        HEAD + "    policies: [soak]  # <-\nservices: []\n",
        ["environment 'prod': policies must be a mapping, got a list"],
        True,
    ),
    "rule options a string": (
        env_policies("soak: 30m  # <-"),
        ["policies: soak takes a mapping of options ({} for none), got a string"],
        True,
    ),
    "unknown option": (
        env_policies("soak: {duration: 30m, time: 1h}  # <-"),
        ["policies: soak: unknown key 'time'", "allowed: duration, severity"],
        True,
    ),
    "missing duration": (
        env_policies("soak: {}  # <-"),
        ["policies: soak: missing required option 'duration' (e.g. soak: {duration: 30m})"],
        True,
    ),
    "duration without unit": (
        env_policies("soak: {duration: 30}  # <-"),
        ["policies: soak: duration 30 has no unit; write 30m, 30s"],
        True,
    ),
    "malformed duration": (
        env_policies("soak:\n  duration: 30 min  # <-"),
        ["policies: soak: duration: '30 min' is not a duration like 30m"],
        True,
    ),
    "zero duration": (
        env_policies("soak: {duration: 0m}  # <-"),
        ["policies: soak: duration: '0m' is zero"],
        False,
    ),
    "bad severity": (
        env_policies("order: {severity: warning}  # <-"),
        ["policies: order: severity: must be one of fail, warn; got 'warning'; did you mean"],
        True,
    ),
    "freeze without deny": (
        env_policies("freeze: {timezone: UTC}  # <-"),
        ["policies: freeze: missing required option 'deny'"],
        True,
    ),
    "freeze empty deny": (
        env_policies("freeze: {deny: []}  # <-"),
        ["policies: freeze: deny must list at least one window"],
        True,
    ),
    "freeze deny not a list": (
        env_policies("freeze: {deny: '0 15 * * 5 - 0 8 * * 1'}  # <-"),
        ["policies: freeze: deny must be a list of strings, got a string"],
        True,
    ),
    "freeze window without end": (
        env_policies("freeze:\n  deny:\n    - 0 15 * * 5  # <-"),
        ["policies: freeze: deny[0]: '0 15 * * 5' is not a window '<cron> - <cron>'"],
        True,
    ),
    "freeze bad cron field": (
        env_policies("freeze:\n  deny:\n    - 0 15 * * 5 - 0 24 * * 1  # <-"),
        ["policies: freeze: deny[0]: hour: 24 is out of range 0-23"],
        False,
    ),
    "freeze window that never starts": (
        env_policies("freeze:\n  deny:\n    - 0 0 30 2 * - 0 1 * * *  # <-"),
        ["deny[0]: '0 0 30 2 *' never matches"],
        False,
    ),
    "unknown time zone": (
        env_policies(
            "freeze:\n  deny: ['0 15 * * 5 - 0 8 * * 1']\n  timezone: Europe/berlin  # <-"
        ),
        [
            "policies: freeze: timezone: 'Europe/berlin' is not an IANA time zone",
            "did you mean 'Europe/Berlin'?",
        ],
        False,
    ),
    "time zone path trick": (
        env_policies("freeze:\n  deny: ['0 15 * * 5 - 0 8 * * 1']\n  timezone: ../etc/x  # <-"),
        ["timezone: '../etc/x' is not an IANA time zone"],
        False,
    ),
    "reserved override label": (
        env_policies(
            "freeze:\n  deny: ['0 15 * * 5 - 0 8 * * 1']\n  overrideLabel: 'env:prod'  # <-"
        ),
        ["policies: freeze: overrideLabel: 'env:prod' is reserved"],
        True,
    ),
    "override approvals zero": (
        env_policies("freeze:\n  deny: ['0 15 * * 5 - 0 8 * * 1']\n  overrideApprovals: 0  # <-"),
        ["policies: freeze: overrideApprovals must be at least 1, got 0"],
        True,
    ),
    "approvals count zero": (
        env_policies("approvals: {count: 0}  # <-"),
        ["policies: approvals: count must be at least 1, got 0"],
        True,
    ),
    "approvals count a string": (
        env_policies("approvals: {count: two}  # <-"),
        ["policies: approvals: count must be a whole number, got a string"],
        True,
    ),
    "approvals team with organisation": (
        env_policies("approvals: {teams: [acme/sre]}  # <-"),
        ["policies: approvals: teams[0]: 'acme/sre': write the team slug without"],
        True,
    ),
    "approvals user with at sign": (
        env_policies("approvals: {users: ['@alice']}  # <-"),
        ["policies: approvals: users[0]: '@alice': write a user name without '@'"],
        True,
    ),
    "approvals bad group": (
        env_policies("approvals: {groups: ['acme//sre']}  # <-"),
        ["policies: approvals: groups[0]: 'acme//sre' is not a GitLab group path"],
        True,
    ),
    "bad regex": (
        env_policies("immutable-tags: {patterns: ['(']}  # <-"),
        ["policies: immutable-tags: patterns[0]: '(' is not a valid regular expression"],
        False,  # the schema's "format: regex" is an annotation only
    ),
    "no prefixes": (
        env_policies("allowed-registries: {prefixes: []}  # <-"),
        ["policies: allowed-registries: prefixes must not be empty"],
        True,
    ),
    "missing prefixes": (
        env_policies("allowed-registries: {}  # <-"),
        ["policies: allowed-registries: missing required option 'prefixes'"],
        True,
    ),
    "prefix with a scheme": (
        env_policies("allowed-registries: {prefixes: ['https://ghcr.io/acme']}  # <-"),
        ["prefixes[0]: 'https://ghcr.io/acme': write the repository prefix without a scheme"],
        True,
    ),
    "prefix with a tag": (
        env_policies("allowed-registries: {prefixes: ['ghcr.io/acme/api:1.0']}  # <-"),
        ["prefixes[0]: 'ghcr.io/acme/api:1.0' includes a tag"],
        True,
    ),
    "source rule on a first environment": (
        "version: 1\nenvironments:\n  - name: dev\n    policies:\n"
        "      soak: {duration: 30m}  # <-\nservices: []\n",
        [
            "environment 'dev': policies: soak checks the environment a version comes from, "
            "but environment 'dev' has no `from`"
        ],
        True,
    ),
    "false in defaults": (
        HEAD + "defaults:\n  policies:\n    approvals: false  # <-\nservices: []\n",
        ["defaults: policies: approvals: false has no use in defaults"],
        True,
    ),
    "unknown rule in defaults": (
        HEAD + "defaults:\n  policies:\n    aprovals: {}  # <-\nservices: []\n",
        ["defaults: policies: unknown rule 'aprovals'; did you mean 'approvals'?"],
        True,
    ),
    "duplicate rule": (
        env_policies("soak: {duration: 1m}\nsoak: {duration: 2m}  # <-"),
        ["policies: duplicate key 'soak' (first at line 7)"],
        False,  # a YAML loader keeps the last one; the schema never sees two
    ),
}


def marked_line(text: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if "# <-" in line]
    assert len(lines) == 1, "a case must mark exactly one line"
    return lines[0]


@pytest.mark.parametrize("text,fragments,schema_too", INVALID.values(), ids=list(INVALID))
def test_each_policy_problem_is_reported_alone_with_its_line(
    text: str, fragments: list[str], schema_too: bool
) -> None:
    problems = problems_of(text)

    assert len(problems) == 1, problems
    assert problems[0].startswith(f"promoter.yaml:{marked_line(text)}: "), problems
    for fragment in fragments:
        assert fragment in problems[0]


@pytest.mark.parametrize(
    "case", [case for case, (_, _, schema_too) in INVALID.items() if schema_too]
)
def test_the_schema_rejects_them_too(case: str) -> None:
    text = INVALID[case][0]
    assert list(VALIDATOR.iter_errors(to_data(text))) != []


def test_every_policy_problem_is_reported_at_once() -> None:
    text = """\
version: 1
environments:
  - name: dev
    policies:
      soak: {duration: 30m}
  - name: prod
    from: dev
    policies:
      soak: {duration: soon, severity: loud}
      approvals: {count: 0, teams: [acme/sre]}
      freeze: {deny: ["* * *"], timezone: Mars/Olympus}
services: []
"""
    problems = problems_of(text)
    assert [p.split(": ", 1)[0] for p in problems] == [
        f"promoter.yaml:{n}" for n in (5, 9, 9, 10, 10, 11, 11)
    ]
    assert "has no `from`" in problems[0]
    assert "severity: must be one of fail, warn" in problems[1]
    assert "'soon' is not a duration" in problems[2]
    assert "count must be at least 1" in problems[3]
    assert "'acme/sre'" in problems[4]
    assert "is not a window" in problems[5]
    assert "'Mars/Olympus' is not an IANA time zone" in problems[6]


def test_an_invalid_policy_makes_the_config_invalid_not_the_rule_silently_off() -> None:
    with pytest.raises(ConfigError):
        parse_config(env_policies("approvals: {count: 0}"))


# ----------------------------------------------------------------- the JSON schema


def test_valid_policies_pass_the_schema() -> None:
    parse_config(CONFIG)
    assert list(VALIDATOR.iter_errors(to_data(CONFIG))) == []


def test_schema_lists_every_rule_and_its_options() -> None:
    defs = SCHEMA["$defs"]
    rules = defs["policies"]["properties"]
    assert tuple(rules) == RULES
    for rule, prop in rules.items():
        (options_ref,) = [s["$ref"] for s in prop["anyOf"] if "$ref" in s]
        options = defs[options_ref.rsplit("/", 1)[-1]]
        assert tuple(options["properties"]) == option_keys(rule), rule
        assert options["additionalProperties"] is False
    assert defs["policySeverity"]["enum"] == ["fail", "warn"]


def test_schema_forbids_source_rules_without_from() -> None:
    text = "version: 1\nenvironments:\n  - name: dev\n    policies: {order: {}}\nservices: []\n"
    assert list(VALIDATOR.iter_errors(to_data(text))) != []
    switched_off = text.replace("{order: {}}", "{order: false}")
    parse_config(switched_off)
    assert list(VALIDATOR.iter_errors(to_data(switched_off))) == []
