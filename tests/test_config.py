"""promoter.yaml: the model, its lookups, validation with file:line, the JSON schema."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from promoter.core.config import (
    applier_entries,
    carry_entries,
    notification_entries,
    render_entries,
    service_entries,
)
from promoter.core.config import fields as config_fields
from promoter.core.config import model as config_model
from promoter.core.config import parser as config_parser
from promoter.core.config.loader import load_config, parse_config
from promoter.core.config.model import (
    CONFIG_FILENAMES,
    Config,
    Environment,
    ForgeSettings,
    HelmKeys,
    Service,
)
from promoter.core.notify import events as notify_events
from promoter.errors import ConfigError, InputError, YamlError

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = ROOT / "promoter" / "schema" / "promoter.schema.json"
DOCS_SCHEMA_PATH = ROOT / "docs" / "promoter.schema.json"

EXAMPLE = """\
version: 1
environments:            # any names, any number; `from` draws the promotion graph
  - name: dev
  - name: staging
    from: dev
  - name: prod-eu
    from: staging
  - name: prod-us
    from: staging
defaults:
  path: apps/{service}/overlays/{env}   # {service} and {env} are substituted
services:
  - name: api
    image: ghcr.io/acme/api             # repository, no tag
  - name: worker
    image: registry.example.com:5000/team/worker
    path: deploy/{env}/worker-values.yaml   # per-service override
    paths: {prod-eu: deploy/eu/worker-values.yaml}   # per-env override
"""

FULL = """\
version: 1
environments:
  - name: dev
    description: every merge lands here
  - name: staging
    from: dev
    branch: env/staging
  - name: prod
    from: staging
    mode: push
    branch: release
defaults:
  path: apps/{service}/{env}
  branch: env/{env}
  mode: pull-request
services:
  - name: api
    image: ghcr.io/acme/api
    imagePolicy: flux-system:api
  - name: billing
    image: docker.io/acme/billing
    path: charts/billing/values-{env}.yaml
    keys:
      tag: app.image.version
      repository: app.image.repo
      registry: global.imageRegistry
      digest: app.image.sha
"""

MINIMAL = """\
version: 1
environments:
  - name: only
services: []
"""

PULL_REQUESTS = """\
version: 1
forge:
  type: github
  apiUrl: https://ghe.example.com/api/v3/
  repository: acme/environments
environments:
  - name: dev
  - name: staging
    from: dev
    mode: pull-request
    reviewers: []
    labels: [needs-qa, "risk: low"]
  - name: prod
    from: staging
    mode: pull-request
    autoMerge: false
    draft: true
    reviewers: [carol]
    teamReviewers: [sre, release-managers]
    assignees:
      - Dave.O
      - ci_bot
defaults:
  path: apps/{service}/{env}
  autoMerge: true
  reviewers: [alice, bob]
  teamReviewers: [platform]
  assignees: [alice]
  labels: [gitops]
services: []
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return [str(p) for p in info.value.problems]


def marked_line(text: str) -> int:
    """The 1-based line carrying the `# <-` marker."""
    lines = [n for n, line in enumerate(text.splitlines(), 1) if "# <-" in line]
    assert len(lines) == 1, "a case must mark exactly one line"
    return lines[0]


def to_data(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema)


# ----------------------------------------------------------------- the example model


def test_example_loads_into_the_model() -> None:
    config = parse_config(EXAMPLE)

    assert config.version == 1
    assert config.file == "promoter.yaml"
    assert config.default_path == "apps/{service}/overlays/{env}"
    assert config.default_branch is None
    assert config.default_mode == "push"
    assert config.environments == (
        Environment("dev", from_=None, branch=None, mode="push", description=None, line=3),
        Environment("staging", from_="dev", line=4),
        Environment("prod-eu", from_="staging", line=6),
        Environment("prod-us", from_="staging", line=8),
    )
    api, worker = config.services
    assert api == Service("api", "ghcr.io/acme/api", line=13)
    assert worker.name == "worker"
    assert worker.image == "registry.example.com:5000/team/worker"
    assert worker.path == "deploy/{env}/worker-values.yaml"
    assert dict(worker.paths) == {"prod-eu": "deploy/eu/worker-values.yaml"}
    assert worker.keys is None
    assert worker.image_policy is None
    assert worker.line == 15


def test_model_is_immutable_and_hashable() -> None:
    config = parse_config(EXAMPLE)
    worker = config.service("worker")

    with pytest.raises(dataclasses.FrozenInstanceError):
        config.version = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        worker.paths["dev"] = "x"  # type: ignore[index]
    assert isinstance(config.environments, tuple)
    assert isinstance(config.services, tuple)
    assert hash(config) == hash(parse_config(EXAMPLE))
    assert config == parse_config(EXAMPLE)


def test_service_copies_the_paths_it_is_given() -> None:
    given = {"dev": "a"}
    service = Service("api", "ghcr.io/acme/api", paths=given)
    given["dev"] = "b"
    assert service.paths["dev"] == "a"


def test_optional_keys_are_read_and_modes_resolved() -> None:
    config = parse_config(FULL)

    dev, staging, prod = config.environments
    assert dev.description == "every merge lands here"
    assert (dev.mode, staging.mode, prod.mode) == ("pull-request", "pull-request", "push")
    assert (dev.branch, staging.branch, prod.branch) == (None, "env/staging", "release")
    assert config.default_branch == "env/{env}"
    assert config.default_mode == "pull-request"
    assert config.service("api").image_policy == "flux-system:api"
    assert config.service("api").keys is None
    assert config.service("billing").keys == HelmKeys(
        tag="app.image.version",
        repository="app.image.repo",
        registry="global.imageRegistry",
        digest="app.image.sha",
    )


def test_helm_keys_need_only_tag() -> None:
    text = FULL.split("    keys:")[0] + "    keys: {tag: image.tag}\n"
    assert parse_config(text).service("billing").keys == HelmKeys(tag="image.tag")


def test_empty_services_list_is_allowed() -> None:
    config = parse_config(MINIMAL)
    assert config.services == ()
    assert [e.name for e in config.environments] == ["only"]


def test_forge_block_is_read() -> None:
    config = parse_config(PULL_REQUESTS)
    assert config.forge == ForgeSettings(
        type="github",
        api_url="https://ghe.example.com/api/v3",  # the trailing slash is dropped
        repository="acme/environments",
        line=2,
    )


def test_forge_defaults_to_detection() -> None:
    assert parse_config(EXAMPLE).forge is None
    assert Config(1, (Environment("dev"),), ()).forge is None

    empty = parse_config(MINIMAL + "forge: {}\n")
    assert empty.forge == ForgeSettings(line=5)
    assert (empty.forge.type, empty.forge.api_url, empty.forge.repository) == (None, None, None)


@pytest.mark.parametrize(
    "block,expected",
    [
        (
            "type: gitlab\n  apiUrl: https://gitlab.example.com",
            ("gitlab", "https://gitlab.example.com", None),
        ),
        ("type: gitlab\n  repository: group/sub/project", ("gitlab", None, "group/sub/project")),
        ("repository: a.b/c-d/e_f", (None, None, "a.b/c-d/e_f")),
        ("type: none", ("none", None, None)),
        ("apiUrl: http://127.0.0.1:8080/api", (None, "http://127.0.0.1:8080/api", None)),
        ("apiUrl: 'https://[::1]:3000'", (None, "https://[::1]:3000", None)),
    ],
)
def test_forge_variants(
    block: str, expected: tuple[str | None, ...], validator: jsonschema.Draft202012Validator
) -> None:
    text = MINIMAL + "forge:\n  " + block + "\n"
    forge = parse_config(text).forge
    assert forge is not None
    assert (forge.type, forge.api_url, forge.repository) == expected
    assert list(validator.iter_errors(to_data(text))) == []


def test_pull_request_settings_precedence() -> None:
    dev, staging, prod = parse_config(PULL_REQUESTS).environments

    # nothing of its own: everything from `defaults`
    assert dev.auto_merge is True
    assert dev.draft is False  # neither sets it: the built-in default
    assert dev.reviewers == ("alice", "bob")
    assert dev.team_reviewers == ("platform",)
    assert dev.assignees == ("alice",)
    assert dev.labels == ("gitops",)
    # an environment's list replaces the default's; `[]` clears it
    assert staging.auto_merge is True
    assert staging.reviewers == ()
    assert staging.labels == ("needs-qa", "risk: low")
    assert staging.assignees == ("alice",)
    # `false` overrides a `true` default
    assert prod.auto_merge is False
    assert prod.draft is True
    assert prod.reviewers == ("carol",)
    assert prod.team_reviewers == ("sre", "release-managers")
    assert prod.assignees == ("Dave.O", "ci_bot")
    assert prod.labels == ("gitops",)


def test_pull_request_settings_default_to_nothing() -> None:
    for env in parse_config(FULL).environments:
        assert (env.auto_merge, env.draft) == (False, False)
        assert (env.reviewers, env.team_reviewers, env.assignees, env.labels) == ((), (), (), ())
    assert Environment("dev") == Environment(
        "dev",
        auto_merge=False,
        draft=False,
        reviewers=(),
        team_reviewers=(),
        assignees=(),
        labels=(),
    )


def test_environment_settings_override_defaults_for_every_key() -> None:
    text = """\
version: 1
environments:
  - name: dev
    autoMerge: false
    draft: false
    reviewers: [x]
    teamReviewers: [y]
    assignees: [z]
    labels: [w]
defaults:
  autoMerge: true
  draft: true
  reviewers: [a]
  teamReviewers: [b]
  assignees: [c]
  labels: [d]
services: []
"""
    env = parse_config(text).environment("dev")
    assert (env.auto_merge, env.draft) == (False, False)
    assert (env.reviewers, env.team_reviewers, env.assignees, env.labels) == (
        ("x",),
        ("y",),
        ("z",),
        ("w",),
    )
    only_defaults = parse_config(text.replace("    ", "    #")).environment("dev")
    assert (only_defaults.auto_merge, only_defaults.draft) == (True, True)
    assert only_defaults.reviewers == ("a",)
    assert only_defaults.team_reviewers == ("b",)
    assert only_defaults.assignees == ("c",)
    assert only_defaults.labels == ("d",)


@pytest.mark.parametrize(
    "word,value",
    [("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False)],
)
def test_yaml_1_2_booleans(word: str, value: bool) -> None:
    text = (
        "version: 1\nenvironments:\n  - name: dev\n"
        f"    draft: {word}\n    autoMerge: {word}\nservices: []\n"
    )
    env = parse_config(text).environment("dev")
    assert (env.draft, env.auto_merge) == (value, value)


def test_labels_up_to_50_characters_with_spaces_and_colons() -> None:
    label = "x" * 49 + "y"
    text = (
        "version: 1\nenvironments:\n  - name: dev\n"
        f"    labels: [{label}, 'needs: a review']\nservices: []\n"
    )
    assert parse_config(text).environment("dev").labels == (label, "needs: a review")


def test_environment_keeps_sequences_as_tuples() -> None:
    env = Environment("dev", reviewers=["a"], team_reviewers=["b"], assignees=["c"], labels=["d"])  # type: ignore[arg-type]
    assert (env.reviewers, env.team_reviewers, env.assignees, env.labels) == (
        ("a",),
        ("b",),
        ("c",),
        ("d",),
    )
    assert hash(env) == hash(
        Environment("dev", reviewers=("a",), team_reviewers=("b",), assignees=("c",), labels=("d",))
    )
    assert hash(parse_config(PULL_REQUESTS)) == hash(parse_config(PULL_REQUESTS))


# ----------------------------------------------------------------- lookups


def test_path_for_precedence_and_substitution() -> None:
    config = parse_config(EXAMPLE)

    assert config.path_for("worker", "prod-eu") == "deploy/eu/worker-values.yaml"  # paths
    assert config.path_for("worker", "prod-us") == "deploy/prod-us/worker-values.yaml"  # path
    assert config.path_for("api", "staging") == "apps/api/overlays/staging"  # defaults
    assert config.path_for(config.service("api"), config.environment("dev")) == (
        "apps/api/overlays/dev"
    )


def test_path_for_without_any_template_is_an_input_error() -> None:
    config = Config(1, (Environment("dev"),), (Service("api", "ghcr.io/acme/api"),))
    with pytest.raises(InputError, match="service 'api' has no path for environment 'dev'"):
        config.path_for("api", "dev")


def test_path_for_unknown_names() -> None:
    config = parse_config(EXAMPLE)
    with pytest.raises(InputError, match="unknown service 'apii'; known: api, worker"):
        config.path_for("apii", "dev")
    with pytest.raises(InputError, match="unknown environment 'qa'"):
        config.path_for("api", "qa")


def test_environment_and_service_lookup() -> None:
    config = parse_config(EXAMPLE)
    assert config.environment("staging").from_ == "dev"
    assert config.service("worker").line == 15

    with pytest.raises(InputError) as info:
        config.environment("stagin")
    assert info.value.message == (
        "unknown environment 'stagin'; known: dev, staging, prod-eu, prod-us"
    )
    assert info.value.hint == "did you mean 'staging'?"

    with pytest.raises(InputError) as info:
        config.service("db")
    assert info.value.message == "unknown service 'db'; known: api, worker"

    with pytest.raises(InputError, match="unknown service 'api'; known: none"):
        parse_config(MINIMAL).service("api")


def test_branch_for() -> None:
    assert parse_config(EXAMPLE).branch_for("prod-eu") is None

    config = parse_config(FULL)
    assert config.branch_for("dev") == "env/dev"  # defaults.branch, {env} substituted
    assert config.branch_for(config.environment("staging")) == "env/staging"
    assert config.branch_for("prod") == "release"
    with pytest.raises(InputError, match="unknown environment"):
        config.branch_for("qa")


def test_downstream() -> None:
    config = parse_config(EXAMPLE)
    assert [e.name for e in config.downstream("dev")] == ["staging"]
    assert [e.name for e in config.downstream("staging")] == ["prod-eu", "prod-us"]
    assert config.downstream(config.environment("prod-us")) == ()
    with pytest.raises(InputError, match="unknown environment 'qa'"):
        config.downstream("qa")


def test_upstream() -> None:
    config = parse_config(EXAMPLE)
    assert config.upstream("dev") is None
    assert config.upstream("staging") == config.environment("dev")
    assert config.upstream(config.environment("prod-us")) == config.environment("staging")
    with pytest.raises(InputError, match="unknown environment 'qa'"):
        config.upstream("qa")


DECLARED_OUT_OF_ORDER = """\
version: 1
environments:
  - name: prod
    from: staging
  - name: hotfix
  - name: staging
    from: dev
  - name: dev
  - name: preview
    from: dev
  - name: hotfix-prod
    from: hotfix
services: []
"""


def test_promotion_order_is_topological_and_stable() -> None:
    assert [e.name for e in parse_config(EXAMPLE).promotion_order()] == [
        "dev",
        "staging",
        "prod-eu",
        "prod-us",
    ]  # already in promotion order: unchanged
    config = parse_config(DECLARED_OUT_OF_ORDER)
    order = [e.name for e in config.promotion_order()]
    assert order == ["hotfix", "dev", "staging", "prod", "preview", "hotfix-prod"]
    assert all(isinstance(e, Environment) for e in config.promotion_order())


def test_promotion_order_of_hand_built_configs() -> None:
    dangling = Config(1, (Environment("b", from_="gone"), Environment("a")), ())
    assert [e.name for e in dangling.promotion_order()] == ["b", "a"]
    cycle = Config(
        1, (Environment("root"), Environment("a", from_="b"), Environment("b", from_="a")), ()
    )
    with pytest.raises(InputError, match="cycle through `from`: a, b"):
        cycle.promotion_order()


# ----------------------------------------------------------------- validation

ENVS = """\
environments:
  - name: dev
  - name: prod
    from: dev
"""

INVALID = {
    "unknown top-level key": (
        "version: 1\n" + ENVS + "services: []\nservice: []  # <-\n",
        ["unknown key 'service'", "did you mean 'services'?", "allowed: version, environments"],
    ),
    "unknown environment key": (
        "version: 1\nenvironments:\n  - name: dev\n  - name: prod\n    form: dev  # <-\n"
        "services: []\n",
        ["environment 'prod': unknown key 'form'", "did you mean 'from'?"],
    ),
    "unknown service key": (
        "version: 1\n" + ENVS + "services:\n  - name: api\n    image: ghcr.io/acme/api\n"
        "    path: x\n    imagepolicy: flux-system:api  # <-\n",
        ["service 'api': unknown key 'imagepolicy'", "did you mean 'imagePolicy'?"],
    ),
    "unknown defaults key": (
        "version: 1\n" + ENVS + "defaults:\n  paht: x  # <-\nservices: []\n",
        ["defaults: unknown key 'paht'", "did you mean 'path'?"],
    ),
    "environments not a list": (
        "version: 1\nenvironments:  # <-\n  dev: {}\nservices: []\n",
        ["environments must be a list, got a mapping"],
    ),
    "services not a list": (
        "version: 1\n" + ENVS + "services: api  # <-\n",
        ["services must be a list, got a string"],
    ),
    "environment entry not a mapping": (
        "version: 1\nenvironments:\n  - dev  # <-\nservices: []\n",
        ["environments[0] must be a mapping, got a string"],
    ),
    "defaults not a mapping": (
        "version: 1\n" + ENVS + "defaults: apps/x  # <-\nservices: []\n",
        ["defaults must be a mapping, got a string"],
    ),
    "name not a string": (
        "version: 1\nenvironments:\n  - name: 123  # <-\nservices: []\n",
        ["environments[0]: name must be a string, got a number (quote it)"],
    ),
    "description null": (
        "version: 1\nenvironments:\n  - name: dev\n    description:  # <-\nservices: []\n",
        ["environment 'dev': description must be a string, got nothing (null)"],
    ),
    "missing version": (
        "environments:  # <-\n  - name: dev\nservices: []\n",
        ["missing required key 'version'"],
    ),
    "unsupported version": (
        "version: 2  # <-\n" + ENVS + "services: []\n",
        ["unsupported version 2; expected version 1"],
    ),
    "version as a string": (
        "version: '1'  # <-\n" + ENVS + "services: []\n",
        ["version must be the number 1, got a string"],
    ),
    "missing environments": (
        "version: 1  # <-\nservices: []\n",
        ["missing required key 'environments'"],
    ),
    "empty environments": (
        "version: 1\nenvironments: []  # <-\nservices: []\n",
        ["environments must list at least one environment"],
    ),
    "missing services": (
        "version: 1  # <-\n" + ENVS,
        ["missing required key 'services'"],
    ),
    "environment without name": (
        "version: 1\nenvironments:\n  - name: dev\n  - from: dev  # <-\nservices: []\n",
        ["environments[1]: missing required key 'name'"],
    ),
    "service without name": (
        "version: 1\n" + ENVS + "services:\n  - image: ghcr.io/acme/api  # <-\n    path: x\n",
        ["services[0]: missing required key 'name'"],
    ),
    "service without image": (
        "version: 1\n" + ENVS + "services:\n  - name: api  # <-\n    path: x\n",
        ["service 'api': missing required key 'image'"],
    ),
    "uppercase environment name": (
        "version: 1\nenvironments:\n  - name: Prod  # <-\nservices: []\n",
        ["name: 'Prod' is not a valid name"],
    ),
    "service name ending in a dash": (
        "version: 1\n" + ENVS + "services:\n  - name: api-  # <-\n    image: ghcr.io/a/b\n"
        "    path: x\n",
        ["name: 'api-' is not a valid name"],
    ),
    "duplicate environment name": (
        "version: 1\nenvironments:\n  - name: dev\n  - name: dev  # <-\nservices: []\n",
        ["duplicate environment name 'dev' (first at line 3)"],
    ),
    "duplicate service name": (
        "version: 1\n" + ENVS + "defaults: {path: x}\nservices:\n"
        "  - name: api\n    image: ghcr.io/acme/api\n"
        "  - name: api  # <-\n    image: ghcr.io/acme/api2\n",
        ["duplicate service name 'api' (first at line 8)"],
    ),
    "duplicate key in an environment": (
        "version: 1\nenvironments:\n  - name: dev\n    name: qa  # <-\nservices: []\n",
        ["environment 'dev': duplicate key 'name' (first at line 3)"],
    ),
    "duplicate top-level key": (
        "version: 1\n" + ENVS + "services: []\nversion: 1  # <-\n",
        ["the top level: duplicate key 'version' (first at line 1)"],
    ),
    "duplicate key in paths": (
        "version: 1\n" + ENVS + "services:\n  - name: api\n    image: ghcr.io/acme/api\n"
        "    path: x\n    paths:\n      dev: a\n      dev: b  # <-\n",
        ["service 'api': paths: duplicate key 'dev'"],
    ),
    "from unknown environment": (
        "version: 1\nenvironments:\n  - name: dev\n  - name: prod\n    from: dve  # <-\n"
        "services: []\n",
        ["environment 'prod': from: unknown environment 'dve'", "did you mean 'dev'?"],
    ),
    "from itself": (
        "version: 1\nenvironments:\n  - name: dev\n    from: dev  # <-\nservices: []\n",
        ["environment 'dev': from: cannot be the environment itself"],
    ),
    "from cycle": (
        "version: 1\nenvironments:\n  - name: dev\n    from: prod  # <-\n"
        "  - name: staging\n    from: dev\n  - name: prod\n    from: staging\nservices: []\n",
        ["environments form a cycle through `from`: dev -> staging -> prod -> dev"],
    ),
    "image with a tag": (
        "version: 1\n" + ENVS + "services:\n  - name: api\n    image: ghcr.io/acme/api:1.0  # <-\n"
        "    path: x\n",
        ["service 'api': image: invalid image repository 'ghcr.io/acme/api:1.0'", "tag"],
    ),
    "image with whitespace": (
        "version: 1\n" + ENVS + "services:\n  - name: api\n    image: 'ghcr.io/acme/ api'  # <-\n"
        "    path: x\n",
        ["service 'api': image: invalid image repository", "whitespace"],
    ),
    "unknown placeholder": (
        "version: 1\n" + ENVS + "defaults:\n  path: apps/{svc}/{env}  # <-\nservices: []\n",
        ["defaults: path: unknown placeholder {svc}", "only {service} and {env}"],
    ),
    "unbalanced braces": (
        "version: 1\n" + ENVS + "services:\n  - name: api\n    image: ghcr.io/acme/api\n"
        "    path: apps/{service/{env}  # <-\n",
        ["service 'api': path: unbalanced braces in 'apps/{service/{env}'"],
    ),
    "absolute path": (
        "version: 1\n" + ENVS + "defaults:\n  path: /etc/{service}  # <-\nservices: []\n",
        ["'/etc/{service}' is absolute"],
    ),
    "path escaping the repository": (
        "version: 1\n" + ENVS + "services:\n  - name: api\n    image: ghcr.io/acme/api\n"
        "    path: apps\n    paths:\n      prod: apps/../../{env}  # <-\n",
        ["service 'api': paths: prod: 'apps/../../{env}' contains '..'"],
    ),
    "paths keyed by an unknown environment": (
        "version: 1\n" + ENVS + "services:\n  - name: api\n    image: ghcr.io/acme/api\n"
        "    path: x\n    paths:\n      prd: y  # <-\n",
        ["service 'api': paths: unknown environment 'prd'", "did you mean 'prod'?"],
    ),
    "service with no path": (
        "version: 1\n" + ENVS + "services:\n  - name: api  # <-\n    image: ghcr.io/acme/api\n",
        ["service 'api' has no path for environment(s) dev, prod", "defaults.path"],
    ),
    "service with a path for some environments only": (
        "version: 1\n" + ENVS + "services:\n  - name: api  # <-\n    image: ghcr.io/acme/api\n"
        "    paths: {dev: a}\n",
        ["service 'api' has no path for environment(s) prod"],
    ),
    "bad environment mode": (
        "version: 1\nenvironments:\n  - name: dev\n    mode: pr  # <-\nservices: []\n",
        ["environment 'dev': mode: must be one of push, pull-request; got 'pr'"],
    ),
    "bad default mode": (
        "version: 1\n" + ENVS + "defaults:\n  mode: merge  # <-\nservices: []\n",
        ["defaults: mode: must be one of push, pull-request; got 'merge'"],
    ),
    "imagePolicy without namespace": (
        "version: 1\n" + ENVS + "services:\n  - name: api\n    image: ghcr.io/acme/api\n"
        "    path: x\n    imagePolicy: flux-system/api  # <-\n",
        ["service 'api': imagePolicy: 'flux-system/api' is not a Flux image policy"],
    ),
    "imagePolicy used twice": (
        "version: 1\n" + ENVS + "defaults: {path: x}\nservices:\n"
        "  - name: api\n    image: ghcr.io/acme/api\n    imagePolicy: flux:api\n"
        "  - name: web\n    image: ghcr.io/acme/web\n    imagePolicy: flux:api  # <-\n",
        ["service 'web': imagePolicy 'flux:api' is already used by service 'api'"],
    ),
    "helm keys without tag": (
        "version: 1\n" + ENVS + "services:\n  - name: api\n    image: ghcr.io/acme/api\n"
        "    path: x\n    keys:  # <-\n      repository: image.repo\n",
        ["service 'api': keys: missing required key 'tag'"],
    ),
    "helm key path with an empty segment": (
        "version: 1\n" + ENVS + "services:\n  - name: api\n    image: ghcr.io/acme/api\n"
        "    path: x\n    keys:\n      tag: app..tag  # <-\n",
        ["service 'api': keys: tag: 'app..tag' is not a dotted key path"],
    ),
    "unknown helm key": (
        "version: 1\n" + ENVS + "services:\n  - name: api\n    image: ghcr.io/acme/api\n"
        "    path: x\n    keys:\n      tag: image.tag\n      digests: image.digest  # <-\n",
        ["service 'api': keys: unknown key 'digests'", "did you mean 'digest'?"],
    ),
    "branch with a space": (
        "version: 1\nenvironments:\n  - name: dev\n    branch: my branch  # <-\nservices: []\n",
        ["environment 'dev': branch: 'my branch' is not a valid git branch name"],
    ),
    "branch with the service placeholder": (
        "version: 1\n" + ENVS + "defaults:\n  branch: env/{service}  # <-\nservices: []\n",
        ["defaults: branch: unknown placeholder {service}", "only {env} is substituted"],
    ),
    "top level is a list": (
        "- version: 1  # <-\n- environments: []\n",
        ["the top level must be a mapping, got a list"],
    ),
    "top level is a scalar": (
        "just text  # <-\n",
        ["the top level must be a mapping, got a string"],
    ),
    "empty file": (
        "# only a comment  # <-\n",
        ["the file is empty"],
    ),
    "two documents": (
        "version: 1\n" + ENVS + "services: []\n---\nversion: 1  # <-\n",
        ["expected one YAML document, found 2"],
    ),
    "non-string key": (
        "version: 1\n" + ENVS + "services: []\n? [a, b]  # <-\n: c\n",
        ["the top level: keys must be strings, got a list"],
    ),
    # -- forge
    "forge not a mapping": (
        MINIMAL + "forge: github  # <-\n",
        ["forge must be a mapping, got a string"],
    ),
    "forge null": (
        MINIMAL + "forge:  # <-\n",
        ["forge must be a mapping, got nothing (null)"],
    ),
    "unknown forge key": (
        MINIMAL + "forge:\n  apiURL: https://x.example  # <-\n",
        [
            "forge: unknown key 'apiURL'",
            "did you mean 'apiUrl'?",
            "(allowed: type, apiUrl, repository, commitMethod)",
        ],
    ),
    "bad forge type": (
        MINIMAL + "forge:\n  type: gitea  # <-\n",
        ["forge: type: must be one of github, gitlab, none; got 'gitea'"],
    ),
    "misspelt forge type": (
        MINIMAL + "forge:\n  type: gitlub  # <-\n",
        ["got 'gitlub'; did you mean 'gitlab'?"],
    ),
    "apiUrl without a scheme": (
        MINIMAL + "forge:\n  apiUrl: ghe.example.com/api/v3  # <-\n",
        ["forge: apiUrl: 'ghe.example.com/api/v3' must start with http:// or https://"],
    ),
    "apiUrl with another scheme": (
        MINIMAL + "forge:\n  apiUrl: ssh://git@ghe.example.com  # <-\n",
        ["must start with http:// or https://"],
    ),
    "apiUrl with credentials": (
        MINIMAL + "forge:\n  apiUrl: https://user:tok@ghe.example.com/api/v3  # <-\n",
        ["forge: apiUrl:", "must not contain credentials"],
    ),
    "apiUrl with a query": (
        MINIMAL + "forge:\n  apiUrl: https://ghe.example.com/api/v3?x=1  # <-\n",
        ["forge: apiUrl:", "is not a URL like https://ghe.example.com/api/v3"],
    ),
    "apiUrl without a host": (
        MINIMAL + "forge:\n  apiUrl: https:///api  # <-\n",
        ["is not a URL like"],
    ),
    "apiUrl not a string": (
        MINIMAL + "forge:\n  apiUrl: [https://x.example]  # <-\n",
        ["forge: apiUrl must be a string, got a list"],
    ),
    "repository with one segment": (
        MINIMAL + "forge:\n  repository: environments  # <-\n",
        ["forge: repository: 'environments' is not a repository slug like 'owner/name'"],
    ),
    "repository ending in .git": (
        MINIMAL + "forge:\n  repository: acme/envs.git  # <-\n",
        ["'acme/envs.git' ends in '.git'"],
    ),
    "repository with a dot segment": (
        MINIMAL + "forge:\n  repository: acme/../envs  # <-\n",
        ["is not a repository slug", "not only dots"],
    ),
    "repository with an empty segment": (
        MINIMAL + "forge:\n  repository: acme//envs  # <-\n",
        ["'acme//envs' is not a repository slug"],
    ),
    "repository with a space": (
        MINIMAL + "forge:\n  repository: acme/my envs  # <-\n",
        ["is not a repository slug"],
    ),
    "repository as a URL": (
        MINIMAL + "forge:\n  repository: https://github.com/acme/envs  # <-\n",
        ["is not a repository slug"],
    ),
    "nested repository on github": (
        MINIMAL + "forge:\n  type: github\n  repository: acme/team/envs  # <-\n",
        ["'acme/team/envs' has 3 parts; a GitHub repository is 'owner/name'"],
    ),
    "apiUrl with type none": (
        MINIMAL + "forge:\n  type: none\n  apiUrl: https://x.example  # <-\n",
        ["forge: apiUrl has no use with type: none"],
    ),
    "repository with type none": (
        MINIMAL + "forge:\n  repository: acme/envs  # <-\n  type: none\n",
        ["forge: repository has no use with type: none"],
    ),
    # -- pull-request settings
    "misspelt autoMerge": (
        "version: 1\nenvironments:\n  - name: dev\n    automerge: true  # <-\nservices: []\n",
        ["environment 'dev': unknown key 'automerge'", "did you mean 'autoMerge'?"],
    ),
    "misspelt defaults key": (
        MINIMAL + "defaults:\n  reviewer: [alice]  # <-\n",
        ["defaults: unknown key 'reviewer'", "did you mean 'reviewers'?"],
    ),
    "autoMerge yes": (
        "version: 1\nenvironments:\n  - name: dev\n    autoMerge: yes  # <-\nservices: []\n",
        [
            "environment 'dev': autoMerge must be true or false, got a string "
            "('yes' is a string in YAML 1.2; write true)"
        ],
    ),
    "draft off in defaults": (
        MINIMAL + "defaults:\n  draft: off  # <-\n",
        ["defaults: draft must be true or false", "('off' is a string in YAML 1.2; write false)"],
    ),
    "autoMerge quoted": (
        "version: 1\nenvironments:\n  - name: dev\n    autoMerge: 'true'  # <-\nservices: []\n",
        ["autoMerge must be true or false, got a string (unquote it)"],
    ),
    "draft as a number": (
        "version: 1\nenvironments:\n  - name: dev\n    draft: 1  # <-\nservices: []\n",
        ["environment 'dev': draft must be true or false, got a number"],
    ),
    "autoMerge null": (
        "version: 1\nenvironments:\n  - name: dev\n    autoMerge:  # <-\nservices: []\n",
        ["autoMerge must be true or false, got nothing (null)"],
    ),
    "reviewers as one string": (
        "version: 1\nenvironments:\n  - name: dev\n    reviewers: alice  # <-\nservices: []\n",
        [
            "environment 'dev': reviewers must be a list of strings, got a string "
            "(write reviewers: [alice])"
        ],
    ),
    "labels as a mapping": (
        MINIMAL + "defaults:\n  labels: {a: b}  # <-\n",
        ["defaults: labels must be a list of strings, got a mapping"],
    ),
    "reviewer as a number": (
        "version: 1\nenvironments:\n  - name: dev\n    reviewers:\n      - alice\n"
        "      - 1234  # <-\nservices: []\n",
        ["environment 'dev': reviewers[1] must be a string, got a number (quote it)"],
    ),
    "reviewer null": (
        "version: 1\nenvironments:\n  - name: dev\n    reviewers:\n      -  # <-\nservices: []\n",
        ["environment 'dev': reviewers[0] must be a string, got nothing (null)"],
    ),
    "empty reviewer": (
        "version: 1\nenvironments:\n  - name: dev\n    reviewers: ['']  # <-\nservices: []\n",
        ["environment 'dev': reviewers[0]: must not be empty"],
    ),
    "reviewer with an at sign": (
        "version: 1\nenvironments:\n  - name: dev\n    reviewers: ['@alice']  # <-\nservices: []\n",
        ["environment 'dev': reviewers[0]: '@alice': write a user name without '@'"],
    ),
    "assignee with a space": (
        "version: 1\nenvironments:\n  - name: dev\n    assignees: [alice smith]  # <-\n"
        "services: []\n",
        ["environment 'dev': assignees[0]: 'alice smith' is not a user name"],
    ),
    "assignee starting with a dash": (
        MINIMAL + "defaults:\n  assignees: [-alice]  # <-\n",
        ["defaults: assignees[0]: '-alice' is not a user name"],
    ),
    "team with its organisation": (
        "version: 1\nenvironments:\n  - name: dev\n    teamReviewers: [acme/sre]  # <-\n"
        "services: []\n",
        ["teamReviewers[0]: 'acme/sre': write the team slug without the organisation (e.g. 'sre')"],
    ),
    "team with an at sign": (
        MINIMAL + "defaults:\n  teamReviewers: ['@sre']  # <-\n",
        ["defaults: teamReviewers[0]: '@sre': write a team slug without '@'"],
    ),
    "duplicate reviewer": (
        "version: 1\nenvironments:\n  - name: dev\n    reviewers:\n      - alice\n"
        "      - bob\n      - alice  # <-\nservices: []\n",
        ["environment 'dev': reviewers: duplicate 'alice' (first at line 5)"],
    ),
    "duplicate label in defaults": (
        MINIMAL + "defaults:\n  labels: [gitops, qa, gitops]  # <-\n",
        ["defaults: labels: duplicate 'gitops' (first at line 6)"],
    ),
    "duplicate team": (
        MINIMAL + "defaults:\n  teamReviewers: [sre, sre]  # <-\n",
        ["defaults: teamReviewers: duplicate 'sre'"],
    ),
    "duplicate assignee ignoring case": (
        "version: 1\nenvironments:\n  - name: dev\n    assignees:\n      - Alice\n"
        "      - alice  # <-\nservices: []\n",
        [
            "environment 'dev': assignees: duplicate 'alice' "
            "(first at line 5 as 'Alice'; case does not count)"
        ],
    ),
    "label with a comma": (
        "version: 1\nenvironments:\n  - name: dev\n    labels: ['a,b']  # <-\nservices: []\n",
        ["environment 'dev': labels[0]: 'a,b' contains a comma (GitLab splits labels on commas)"],
    ),
    "label too long": (
        "version: 1\nenvironments:\n  - name: dev\n    labels: [" + "x" * 51 + "]  # <-\n"
        "services: []\n",
        ["labels[0]:", "is 51 characters long; labels have at most 50"],
    ),
    "label with a trailing space": (
        "version: 1\nenvironments:\n  - name: dev\n    labels: ['qa ']  # <-\nservices: []\n",
        ["labels[0]: 'qa ' has leading/trailing spaces or control characters"],
    ),
    "label with a tab inside": (
        MINIMAL + 'defaults:\n  labels: ["a\\tb"]  # <-\n',
        ["defaults: labels[0]:", "control characters"],
    ),
    "built-in label promoter": (
        "version: 1\nenvironments:\n  - name: dev\n    labels: [Promoter]  # <-\nservices: []\n",
        ["labels[0]: 'Promoter' is reserved: promoter adds 'promoter' and 'env:<name>' itself"],
    ),
    "built-in env label": (
        MINIMAL + "defaults:\n  labels: ['env:prod']  # <-\n",
        ["defaults: labels[0]: 'env:prod' is reserved"],
    ),
}


@pytest.mark.parametrize("text,fragments", INVALID.values(), ids=list(INVALID))
def test_each_problem_is_reported_alone_with_its_line(text: str, fragments: list[str]) -> None:
    problems = problems_of(text)

    assert len(problems) == 1, problems
    assert problems[0].startswith(f"promoter.yaml:{marked_line(text)}: "), problems
    for fragment in fragments:
        assert fragment in problems[0]


def test_empty_text_is_a_problem_at_line_1() -> None:
    assert problems_of("") == [
        "promoter.yaml:1: the file is empty; it needs `version`, `environments` and `services`"
    ]


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = """\
version: 3
environments:
  - name: dev
    mode: fast
  - name: Staging
  - name: prod
    from: qa
defaults:
  path: apps/{app}
services:
  - name: api
    image: ghcr.io/acme/api:latest
    imagepolicy: x
  - name: api
    image: ghcr.io/acme/web
"""
    with pytest.raises(ConfigError) as info:
        parse_config(text, "envs/promoter.yaml")
    error = info.value

    lines = [(p.file, p.line) for p in error.problems]
    assert lines == [("envs/promoter.yaml", n) for n in (1, 4, 5, 7, 9, 12, 13, 14)]
    assert "unsupported version 3" in error.problems[0].message
    assert "mode: must be one of" in error.problems[1].message
    assert "'Staging' is not a valid name" in error.problems[2].message
    assert "unknown environment 'qa'" in error.problems[3].message
    assert "unknown placeholder {app}" in error.problems[4].message
    assert "must not include a tag" in error.problems[5].message
    assert "unknown key 'imagepolicy'" in error.problems[6].message
    assert "duplicate service name 'api'" in error.problems[7].message
    assert str(error).startswith("invalid configuration:\nenvs/promoter.yaml:1: ")
    assert error.hint is not None and "docs/config.md" in error.hint


def test_every_forge_and_pull_request_problem_is_reported() -> None:
    text = """\
version: 1
forge:
  type: none
  apiUrl: ftp://x
environments:
  - name: dev
    autoMerge: yes
    reviewers: [a, '@b', a, 5]
defaults:
  labels: ['x,y', promoter]
services: []
"""
    problems = problems_of(text)
    assert [p.split(": ", 1)[0] for p in problems] == [
        f"promoter.yaml:{n}" for n in (4, 4, 7, 8, 8, 8, 10, 10)
    ]
    assert "must start with http:// or https://" in problems[0]
    assert "apiUrl has no use with type: none" in problems[1]
    assert "'yes' is a string in YAML 1.2" in problems[2]
    assert "reviewers[1]: '@b'" in problems[3]
    assert "duplicate 'a'" in problems[4]
    assert "reviewers[3] must be a string" in problems[5]
    assert "labels[0]: 'x,y' contains a comma" in problems[6]
    assert "labels[1]: 'promoter' is reserved" in problems[7]


def test_problems_in_environments_do_not_cascade_into_services() -> None:
    text = "version: 1\nenvironments: nope\nservices:\n  - name: api\n    image: ghcr.io/a/b\n"
    assert problems_of(text) == ["promoter.yaml:2: environments must be a list, got a string"]


def test_an_invalid_environment_still_counts_as_declared() -> None:
    text = """\
version: 1
environments:
  - name: Dev
    mode: fast
  - name: prod
    from: Dev
defaults: {path: x}
services:
  - name: api
    image: ghcr.io/acme/api
    paths: {Dev: a, prd: b}
"""
    problems = problems_of(text)
    assert [p.split(": ", 1)[0] for p in problems] == [
        "promoter.yaml:3",
        "promoter.yaml:4",
        "promoter.yaml:11",
    ]
    assert "'Dev' is not a valid name" in problems[0]
    assert "must be one of push, pull-request" in problems[1]
    assert "unknown environment 'prd'" in problems[2]


def test_malformed_yaml_raises_the_yaml_error() -> None:
    with pytest.raises(YamlError, match=r"^promoter\.yaml:\d+: malformed YAML"):
        parse_config("version: 1\nenvironments:\n  - name: [dev\n")


# ----------------------------------------------------------------- loading from a repository


def test_load_config_reads_promoter_yaml(tmp_path: Path) -> None:
    (tmp_path / "promoter.yaml").write_text(EXAMPLE, encoding="utf-8")
    config = load_config(tmp_path)
    assert config.file == str(tmp_path / "promoter.yaml")
    assert [e.name for e in config.environments] == ["dev", "staging", "prod-eu", "prod-us"]


def test_load_config_accepts_promoter_yml_and_locates_problems(tmp_path: Path) -> None:
    assert CONFIG_FILENAMES == ("promoter.yaml", "promoter.yml")
    (tmp_path / "promoter.yml").write_text(MINIMAL.replace("only", "Only"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(str(tmp_path))
    assert str(info.value.problems[0]).startswith(f"{tmp_path / 'promoter.yml'}:3: ")


def test_load_config_without_a_file_says_what_to_create(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    hint = info.value.hint or ""
    assert "create promoter.yaml at the root of the environment repository" in hint
    assert "docs/config.md" in hint
    assert "no promoter.yaml" in info.value.message


def test_load_config_refuses_two_files(tmp_path: Path) -> None:
    for name in CONFIG_FILENAMES:
        (tmp_path / name).write_text(MINIMAL, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"both promoter\.yaml and promoter\.yml exist"):
        load_config(tmp_path)


def test_load_config_that_is_not_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "promoter.yaml").mkdir()
    with pytest.raises(InputError, match="is not a regular file"):
        load_config(tmp_path)


def test_load_config_rejects_invalid_utf8_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "promoter.yaml").write_bytes(b"version: 1\nenvironments:\n  - name: d\xe9v\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.problems[0].line == 3
    assert "not valid UTF-8" in info.value.problems[0].message


def test_load_config_skips_a_byte_order_mark(tmp_path: Path) -> None:
    (tmp_path / "promoter.yaml").write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_config(tmp_path).environments[0].name == "only"


# ----------------------------------------------------------------- the JSON schema


def test_schema_copies_are_identical() -> None:
    assert SCHEMA_PATH.read_bytes() == DOCS_SCHEMA_PATH.read_bytes()


def test_schema_is_a_valid_draft_2020_12_schema(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def _objects(node: Any) -> list[dict[str, Any]]:
    """Object schemas, not counting the conditional ones (`if`/`then`)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "properties" in node:
            found.append(node)
        for key, value in node.items():
            if key not in ("if", "then", "else"):
                found.extend(_objects(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_objects(value))
    return found


def test_schema_describes_every_property_and_closes_every_object(schema: dict[str, Any]) -> None:
    objects = _objects(schema)
    # top level, defaults, forge, environment, service, service keys; policies
    # and its option objects (no options, soak, freeze, approvals,
    # immutable-tags, allowed-registries); render, its helm and jsonnet; applier,
    # its promoter (tenancy, decryption), argocd and flux; a notification target;
    # promote and its field entries
    assert len(objects) == 24
    for obj in objects:
        assert obj["additionalProperties"] is False
        for name, prop in obj["properties"].items():
            assert prop.get("description"), name


def test_schema_keys_match_the_loader(schema: dict[str, Any]) -> None:
    defs = schema["$defs"]
    service = defs["service"]["properties"]
    assert tuple(schema["properties"]) == config_parser._TOP_KEYS
    assert tuple(schema["properties"]["defaults"]["properties"]) == config_parser._DEFAULTS_KEYS
    assert tuple(defs["environment"]["properties"]) == config_parser._ENV_KEYS
    assert tuple(service) == service_entries._SERVICE_KEYS
    assert set(service["keys"]["properties"]) == set(service_entries._HELM_KEYS)
    assert service["render"]["$ref"] == "#/$defs/render"
    word, mapping = defs["render"]["oneOf"]
    assert tuple(word["enum"]) == config_model.DIRECTORY_RENDERERS
    render = mapping["properties"]
    assert tuple(render) == render_entries._KINDS
    assert tuple(render["helm"]["properties"]) == render_entries._HELM_KEYS
    assert tuple(render["jsonnet"]["properties"]) == render_entries._JSONNET_KEYS
    word, appliers = defs["applier"]["oneOf"]
    assert word["enum"] == [applier_entries.PROMOTER]
    assert tuple(appliers["properties"]) == config_model.APPLIERS
    tenancy = appliers["properties"]["promoter"]["properties"]
    assert tuple(tenancy) == applier_entries._PROMOTER_KEYS
    argocd = appliers["properties"]["argocd"]["properties"]
    assert tuple(argocd) == applier_entries._ARGOCD_KEYS
    assert argocd["sync"]["enum"] == list(config_model.SYNC_POLICIES)
    assert tuple(appliers["properties"]["flux"]["properties"]) == applier_entries._FLUX_KEYS
    assert defs["mode"]["enum"] == list(config_model.MODES)
    forge = schema["properties"]["forge"]["properties"]
    assert tuple(forge) == config_parser._FORGE_KEYS
    assert forge["type"]["enum"] == list(config_model.FORGE_TYPES)
    assert defs["label"]["maxLength"] == config_model.MAX_LABEL_LENGTH
    assert defs["account"]["pattern"] == f"^{config_fields._ACCOUNT.pattern}$"
    pr_keys = config_parser._PR_KEYS
    assert tuple(defs["environment"]["properties"])[-len(pr_keys) :] == pr_keys
    assert tuple(schema["properties"]["defaults"]["properties"])[-len(pr_keys) :] == pr_keys
    assert defs["name"]["pattern"] == f"^{config_fields.NAME_PATTERN}$"
    promote = defs["promote"]["properties"]
    assert tuple(promote) == carry_entries._PROMOTE_KEYS
    assert tuple(promote["fields"]["items"]["properties"]) == carry_entries._FIELD_KEYS
    assert service["promote"]["$ref"] == "#/$defs/promote"
    target = schema["properties"]["notifications"]["items"]["properties"]
    assert tuple(target) == notification_entries.NOTIFICATION_KEYS
    assert tuple(target["events"]["items"]["enum"]) == notify_events.EVENTS


VALID_TEXTS = {
    "example": EXAMPLE,
    "full": FULL,
    "minimal": MINIMAL,
    "pull requests": PULL_REQUESTS,
    "out of order": DECLARED_OUT_OF_ORDER,
}


@pytest.mark.parametrize("text", VALID_TEXTS.values(), ids=list(VALID_TEXTS))
def test_valid_configs_pass_loader_and_schema(
    text: str, validator: jsonschema.Draft202012Validator
) -> None:
    parse_config(text)
    assert list(validator.iter_errors(to_data(text))) == []


REJECTED_BY_BOTH = [
    "unknown top-level key",
    "unknown environment key",
    "unknown service key",
    "unknown helm key",
    "bad environment mode",
    "bad default mode",
    "uppercase environment name",
    "unsupported version",
    "empty environments",
    "missing services",
    "helm keys without tag",
    "image with a tag",
    "unknown placeholder",
    "absolute path",
    "path escaping the repository",
    "imagePolicy without namespace",
    "branch with a space",
    "forge not a mapping",
    "forge null",
    "unknown forge key",
    "bad forge type",
    "misspelt forge type",
    "apiUrl without a scheme",
    "apiUrl with another scheme",
    "apiUrl with credentials",
    "apiUrl with a query",
    "apiUrl without a host",
    "apiUrl not a string",
    "repository with one segment",
    "repository ending in .git",
    "repository with a dot segment",
    "repository with an empty segment",
    "repository with a space",
    "repository as a URL",
    "nested repository on github",
    "apiUrl with type none",
    "repository with type none",
    "misspelt autoMerge",
    "misspelt defaults key",
    "autoMerge yes",
    "draft off in defaults",
    "autoMerge quoted",
    "draft as a number",
    "autoMerge null",
    "reviewers as one string",
    "labels as a mapping",
    "reviewer as a number",
    "reviewer null",
    "empty reviewer",
    "reviewer with an at sign",
    "assignee with a space",
    "assignee starting with a dash",
    "team with its organisation",
    "team with an at sign",
    "duplicate reviewer",
    "duplicate label in defaults",
    "duplicate team",
    "label with a comma",
    "label too long",
    "label with a trailing space",
    "label with a tab inside",
    "built-in label promoter",
    "built-in env label",
]


def test_every_new_invalid_case_is_checked_against_the_schema() -> None:
    start = list(INVALID).index("forge not a mapping")
    schema_blind = {"duplicate assignee ignoring case"}  # uniqueItems is case-sensitive
    assert set(list(INVALID)[start:]) - schema_blind <= set(REJECTED_BY_BOTH)


def test_schema_cannot_see_case_only_duplicates(validator: jsonschema.Draft202012Validator) -> None:
    text = INVALID["duplicate assignee ignoring case"][0]
    assert problems_of(text)
    assert list(validator.iter_errors(to_data(text))) == []


@pytest.mark.parametrize("case", REJECTED_BY_BOTH)
def test_invalid_configs_are_rejected_by_loader_and_schema(
    case: str, validator: jsonschema.Draft202012Validator
) -> None:
    text = INVALID[case][0]
    assert problems_of(text)
    assert list(validator.iter_errors(to_data(text))) != []


def test_example_in_the_docs_is_valid(validator: jsonschema.Draft202012Validator) -> None:
    doc = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    blocks = doc.split("```yaml\n")[1:]
    assert blocks, "docs/config.md shows at least one promoter.yaml"
    full = [b.split("```")[0] for b in blocks if b.startswith("version:")]
    assert full, "docs/config.md shows a complete promoter.yaml"
    for text in full:
        parse_config(text)
        assert list(validator.iter_errors(to_data(text))) == []
    configs = [parse_config(text) for text in full]
    assert any(c.forge is not None for c in configs), "an example shows a forge block"
    envs = [e for c in configs for e in c.environments]
    for attr in ("auto_merge", "draft", "reviewers", "team_reviewers", "labels", "policies"):
        assert any(getattr(e, attr) for e in envs), f"an example shows {attr}"
