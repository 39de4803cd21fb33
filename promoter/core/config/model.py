"""The model of a validated promoter.yaml: environments, services, the forge
block, and the questions commands ask of them (a service's path in an
environment, an environment's branch, the promotion order).

`promoter.yaml` lives at the root of the environment repository. It names the
environments (and the promotion graph drawn by `from`), where each service's
files live (path templates), and a few per-environment/per-service options.
docs/config.md is the reference; promoter/schema/promoter.schema.json is the
same contract for editors. `loader` reads the file, `parser` validates it
into these frozen dataclasses.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from promoter.core.config.templates import expand_branch, expand_path
from promoter.core.policy.settings import PolicyConfig
from promoter.errors import InputError

if TYPE_CHECKING:
    from promoter.core.carry import CarrySpec  # core.carry reads the editors, which read this

__all__ = [
    "CONFIG_FILENAMES",
    "FORGE_TYPES",
    "MODES",
    "Config",
    "Environment",
    "ForgeSettings",
    "HelmKeys",
    "NotificationTarget",
    "Service",
]

CONFIG_FILENAMES = ("promoter.yaml", "promoter.yml")
SUPPORTED_VERSION = 1
MODES = ("push", "pull-request")
DEFAULT_MODE = "push"
FORGE_TYPES = ("github", "gitlab", "none")
COMMIT_METHODS = ("git", "api")
BUILTIN_LABEL = "promoter"
"""Every promotion PR gets this label and `env:<name>`; neither may be configured."""
MAX_LABEL_LENGTH = 50
"""GitHub's limit on a label name."""
DOCS_HINT = "see docs/config.md for every key of promoter.yaml"


@dataclass(frozen=True)
class HelmRender:
    """`render: {helm: …}`: the service's files are values for a chart.
    Every string may use {service} and {env}."""

    chart: str
    """Repository path of the chart's directory (vendored subcharts in its charts/)."""
    release: str | None = None
    """Release name (default: the service's name)."""
    namespace: str | None = None
    values: tuple[str, ...] | None = None
    """Values files in order, after the chart's values.yaml; None: the
    service's path in the environment."""
    set: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    """Inline values, applied last."""


@dataclass(frozen=True)
class JsonnetRender:
    """`render: {jsonnet: …}`: the service's objects come from a Jsonnet program."""

    main: str
    ext_vars: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    """std.extVar values ({service}/{env} substituted)."""
    tlas: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    """Top-level arguments (strings)."""
    libs: tuple[str, ...] = ()
    """Library search paths, as `jsonnet -J` (the last one wins)."""


DIRECTORY_RENDERERS = ("kustomize", "plain")


@dataclass(frozen=True)
class DirectoryRender:
    """`render: kustomize` or `render: plain`: said outright instead of
    detected, so a path that stops being what it was is an error rather
    than a silent change of renderer."""

    kind: str
    """One of DIRECTORY_RENDERERS."""


RenderSpec = HelmRender | JsonnetRender | DirectoryRender

APPLIERS = ("promoter", "argocd", "flux")
ARGOCD_NAMESPACE = "argocd"
FLUX_NAMESPACE = "flux-system"
SYNC_POLICIES = ("automated", "manual")


@dataclass(frozen=True)
class ArgoCDApplier:
    """`applier: {argocd: …}`: Argo CD applies the environment. Names may use {env}."""

    applications: tuple[str, ...] = ()
    application_set: str | None = None
    """Every Application this ApplicationSet generated counts."""
    namespace: str = ARGOCD_NAMESPACE
    """Where the Application resources live (Argo CD's namespace)."""
    server: str | None = None
    """Argo CD's API (https://argocd.example.com): read there with a token
    ($ARGOCD_AUTH_TOKEN) instead of the Application resources."""
    sync: str = "automated"
    """What `promoter export argocd` writes as the sync policy."""


@dataclass(frozen=True)
class FluxApplier:
    """`applier: {flux: …}`: Flux applies the environment; entries are
    `namespace/name` (namespace default flux-system), {env} substituted."""

    kustomizations: tuple[str, ...] = ()
    helm_releases: tuple[str, ...] = ()


ApplierSpec = ArgoCDApplier | FluxApplier


@dataclass(frozen=True)
class AgentSettings:
    """`applier: {promoter: …}`: the bundled agent in this environment —
    what it may touch, whom it acts as, where its SOPS keys are. Names may
    use {env}. The agent refuses a render that steps outside before
    anything is applied; with `service_account` it impersonates that
    account, so the cluster's RBAC has the last word."""

    namespaces: tuple[str, ...] | None = None
    """Namespaced objects must be in one of these; None: any namespace."""
    cluster_scoped: tuple[str, ...] | None = None
    """Cluster-scoped kinds allowed (`Kind` or `Kind.group`); None: none,
    once `namespaces` is set, else any."""
    service_account: str | None = None
    """`namespace/name` of the account every request is made as."""
    decryption_secret: str | None = None
    """`decryption: {secretRef: name}`: the Secret (in the agent's namespace)
    holding the SOPS keys (`*.agekey`, `*.asc`), as Flux's decryption.secretRef."""


@dataclass(frozen=True)
class Environment:
    """One environment; `mode` and the pull-request settings are already
    resolved against `defaults` (the environment's value, else the default's,
    else the built-in default).

    `branch` is what the entry says (None when absent); use
    `Config.branch_for` for the branch that actually applies.

    The pull-request settings shape every PR/MR promoter opens *into* this
    environment. `labels` are the extra ones: `promoter` and `env:<name>` are
    always added by the promotion code and never appear here.
    """

    name: str
    from_: str | None = None
    branch: str | None = None
    mode: str = DEFAULT_MODE
    description: str | None = None
    line: int = 0
    auto_merge: bool = False
    """GitHub auto-merge / GitLab "merge when the pipeline succeeds"."""
    draft: bool = False
    reviewers: tuple[str, ...] = ()
    """User names."""
    team_reviewers: tuple[str, ...] = ()
    """GitHub team slugs (no organisation); GitLab has no team reviewers."""
    assignees: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    policies: tuple[PolicyConfig, ...] = ()
    """Rules guarding promotions into this environment (defaults merged in),
    in report order; see promoter.core.policy.settings."""
    render: RenderSpec | None = None
    """How this environment's services render unless a service says
    (`defaults.render` merged in); None: detected per path."""
    applier: ApplierSpec | None = None
    """What applies it when not the bundled agent (`defaults.applier`
    merged in); None: promoter's agent and its `promoter/apply` status."""
    agent: AgentSettings | None = None
    """`applier: {promoter: …}`: the bundled agent's settings here (tenancy, decryption)."""

    def __post_init__(self) -> None:
        for name in ("reviewers", "team_reviewers", "assignees", "labels", "policies"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


@dataclass(frozen=True)
class ForgeSettings:
    """The top-level `forge:` block; every field None means "detect"."""

    type: str | None = None
    """`github`, `gitlab` or `none`; None: detect from the remote URL."""
    api_url: str | None = None
    """API base URL (no trailing slash), e.g. `https://ghe.example.com/api/v3`."""
    repository: str | None = None
    """`owner/name` (GitLab: `group/sub/project`); None: from the remote URL."""
    line: int = 0
    commit_method: str = "git"
    """`git` (push) or `api` (GitHub's Git Data API: commits GitHub signs for an App)."""


@dataclass(frozen=True)
class NotificationTarget:
    """One entry of `notifications:`: where to tell, about what."""

    url: str
    """An Apprise URL; `${NAME}` is replaced from the environment when sending."""
    events: tuple[str, ...] = ()
    """Event names (promoter.core.notify.events.EVENTS); empty: every event."""
    environments: tuple[str, ...] = ()
    """Empty: every environment."""
    window: int = 300
    """Seconds in which a long-running process does not repeat a notice."""
    line: int = 0

    def wants(self, event: str, environment: str) -> bool:
        return (not self.events or event in self.events) and (
            not self.environments or environment in self.environments
        )


@dataclass(frozen=True)
class HelmKeys:
    """Dotted Helm value key paths (e.g. `app.image.version`) for odd charts."""

    tag: str
    repository: str | None = None
    registry: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class Service:
    """One service: its image repository (no tag) and where its files live."""

    name: str
    image: str
    path: str | None = None
    paths: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    """Per-environment path templates, keyed by environment name (read-only)."""
    keys: HelmKeys | None = None
    image_policy: str | None = None
    line: int = 0
    render: RenderSpec | None = None
    """How its files become objects in every environment (wins over the
    environment's `render`); None: the environment's, else detected."""
    carry: CarrySpec | None = None
    """`promote:`: files and fields that travel with the version (None: `defaults`')."""
    chart: str | None = None
    """`chart: NAME` instead of `image:`: the version is the chart's, where it is
    pinned (HelmRelease, Chart.yaml dependency, Argo CD Application); `image`
    then holds the chart's name."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "paths", MappingProxyType(dict(self.paths)))


@dataclass(frozen=True)
class Config:
    """A validated promoter.yaml."""

    version: int
    environments: tuple[Environment, ...]
    services: tuple[Service, ...]
    default_path: str | None = None
    default_branch: str | None = None
    default_mode: str = DEFAULT_MODE
    file: str = CONFIG_FILENAMES[0]
    forge: ForgeSettings | None = None
    """The `forge:` block; None when the file has none (detect everything)."""
    notifications: tuple[NotificationTarget, ...] = ()
    default_carry: CarrySpec | None = None
    """`defaults.promote`."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "environments", tuple(self.environments))
        object.__setattr__(self, "services", tuple(self.services))
        object.__setattr__(self, "notifications", tuple(self.notifications))

    def environment(self, name: str) -> Environment:
        """The environment called `name`; InputError listing the known ones."""
        for env in self.environments:
            if env.name == name:
                return env
        raise _unknown("environment", name, [e.name for e in self.environments], self.file)

    def service(self, name: str) -> Service:
        """The service called `name`; InputError listing the known ones."""
        for svc in self.services:
            if svc.name == name:
                return svc
        raise _unknown("service", name, [s.name for s in self.services], self.file)

    def path_for(self, service: Service | str, env: Environment | str) -> str:
        """Repository-relative path of `service` in `env`.

        Precedence: `paths[env]` > the service's `path` > `defaults.path`;
        `{service}` and `{env}` are substituted.
        """
        svc = service if isinstance(service, Service) else self.service(service)
        env_name = env.name if isinstance(env, Environment) else self.environment(env).name
        template = svc.paths.get(env_name)
        if template is None:
            template = svc.path if svc.path is not None else self.default_path
        if template is None:
            raise InputError(
                f"service {svc.name!r} has no path for environment {env_name!r}",
                hint=f"set `path` or `paths` on the service, or `defaults.path`, in {self.file}",
            )
        return expand_path(template, svc.name, env_name)

    def carry_for(self, service: Service) -> CarrySpec:
        """What travels with `service`'s version: its `promote:`, else `defaults.promote`."""
        from promoter.core.carry import CarrySpec

        return service.carry or self.default_carry or CarrySpec()

    def render_for(self, service: Service, env: Environment | str) -> RenderSpec | None:
        """How `service` renders in `env`: the service's `render`, else the
        environment's (with defaults), else None (detected from the path)."""
        environment = env if isinstance(env, Environment) else self.environment(env)
        return service.render if service.render is not None else environment.render

    def branch_for(self, env: Environment | str) -> str | None:
        """The branch holding `env` (`{env}` substituted); None = repository default."""
        environment = env if isinstance(env, Environment) else self.environment(env)
        template = environment.branch if environment.branch is not None else self.default_branch
        return None if template is None else expand_branch(template, environment.name)

    def downstream(self, env: Environment | str) -> tuple[Environment, ...]:
        """Environments promoted from `env` (their `from` is `env`), in file order."""
        name = env.name if isinstance(env, Environment) else self.environment(env).name
        return tuple(e for e in self.environments if e.from_ == name)

    def upstream(self, env: Environment | str) -> Environment | None:
        """The environment `env` is promoted from (its `from`); None for a root."""
        environment = env if isinstance(env, Environment) else self.environment(env)
        return None if environment.from_ is None else self.environment(environment.from_)

    def promotion_order(self) -> tuple[Environment, ...]:
        """Every environment after the one it is promoted from, roots first.

        Stable: among environments whose upstream is already placed, the one
        declared first comes first, so a file written in promotion order keeps
        its order. An upstream that is not declared counts as a root (only a
        hand-built Config can have one); a cycle is an InputError.
        """
        names = {e.name for e in self.environments}
        placed: set[str] = set()
        order: list[Environment] = []
        waiting = list(self.environments)
        while waiting:
            ready = next(
                (
                    e
                    for e in waiting
                    if e.from_ is None or e.from_ in placed or e.from_ not in names
                ),
                None,
            )
            if ready is None:
                cycle = ", ".join(e.name for e in waiting)
                raise InputError(
                    f"environments form a cycle through `from`: {cycle}",
                    hint=f"give one of them no `from` in {self.file}",
                )
            waiting.remove(ready)
            placed.add(ready.name)
            order.append(ready)
        return tuple(order)


MAX_LISTED = 12


def _unknown(what: str, name: str, known: list[str], file: str) -> InputError:
    close = difflib.get_close_matches(name, known, n=1)
    shown = known[:MAX_LISTED]
    listed = ", ".join(shown) if shown else "none"
    if len(known) > len(shown):  # a monorepo has thousands: a list that long helps no one
        listed += f", … ({len(known) - len(shown)} more)"
    hint = f"did you mean {close[0]!r}?" if close else f"{what}s are declared in {file}"
    return InputError(f"unknown {what} {name!r}; known: {listed}", hint=hint)
