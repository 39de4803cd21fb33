"""promoter.yaml's node graph -> the validated model, every problem at once.

A config that parses is internally consistent: names unique, `from`
acyclic, every service has a path in every environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from promoter.core.carry import CarrySpec
from promoter.core.config.applier_entries import ApplierEntries
from promoter.core.config.fields import (
    account_problem,
    api_url_problem,
    forge_type_problem,
    label_problem,
    mode_problem,
    repository_problem,
    suggest,
    team_problem,
)
from promoter.core.config.model import (
    COMMIT_METHODS,
    DEFAULT_MODE,
    SUPPORTED_VERSION,
    AgentSettings,
    ApplierSpec,
    Config,
    Environment,
    ForgeSettings,
    RenderSpec,
)
from promoter.core.config.notification_entries import NotificationEntries
from promoter.core.config.reader import (
    INT,
    Entries,
    entry_label,
    kind_of,
    raw_name,
)
from promoter.core.config.service_entries import ServiceEntries
from promoter.core.config.templates import branch_problem, path_problem
from promoter.core.policy.settings import PolicyConfig, merge_policies
from promoter.core.policy.settings_reader import read_policies
from promoter.core.yamlnodes import Node, ScalarNode, SequenceNode, line_of

_PR_KEYS = ("autoMerge", "draft", "reviewers", "teamReviewers", "assignees", "labels")
_TOP_KEYS = ("version", "environments", "defaults", "services", "forge", "notifications")
_ENV_KEYS = (
    "name",
    "from",
    "branch",
    "mode",
    "description",
    "policies",
    "render",
    "applier",
    *_PR_KEYS,
)
_DEFAULTS_KEYS = (
    "path", "branch", "mode", "policies", "render", "applier", "promote", *_PR_KEYS,
)  # fmt: skip
_FORGE_KEYS = ("type", "apiUrl", "repository", "commitMethod")

_T = TypeVar("_T")


def _commit_method_problem(text: str) -> str | None:
    if text in COMMIT_METHODS:
        return None
    return f"must be one of {', '.join(COMMIT_METHODS)}; got {text!r}"


@dataclass(frozen=True)
class _PullRequestKeys:
    """The pull-request settings one mapping writes (None: not written/invalid)."""

    auto_merge: bool | None = None
    draft: bool | None = None
    reviewers: tuple[str, ...] | None = None
    team_reviewers: tuple[str, ...] | None = None
    assignees: tuple[str, ...] | None = None
    labels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class _Defaults:
    """The `defaults:` block as parsed."""

    path: str | None = None
    branch: str | None = None
    mode: str = DEFAULT_MODE
    path_ok: bool = True
    """`path` was absent or valid (False: services must not report a missing path)."""
    pull_request: _PullRequestKeys = _PullRequestKeys()
    policies: tuple[PolicyConfig, ...] = ()
    render: RenderSpec | None = None
    applier: ApplierSpec | None = None
    agent: AgentSettings | None = None
    carry: CarrySpec | None = None


def _first(value: _T | None, fallback: _T | None, default: _T) -> _T:
    if value is not None:
        return value
    return fallback if fallback is not None else default


class ConfigParser(ServiceEntries, ApplierEntries, NotificationEntries):
    """Walks the node graph once, building the model and collecting problems."""

    def __init__(self, file: str) -> None:
        super().__init__(file)
        self.declared: list[str] | None = None
        """Every environment name written in the file, valid or not (None: no list)."""

    def pull_request_keys(self, entries: Entries, label: str) -> _PullRequestKeys:
        return _PullRequestKeys(
            auto_merge=self.boolean(entries, "autoMerge", label),
            draft=self.boolean(entries, "draft", label),
            reviewers=self.string_list(entries, "reviewers", label, account_problem),
            team_reviewers=self.string_list(entries, "teamReviewers", label, team_problem),
            assignees=self.string_list(entries, "assignees", label, account_problem),
            labels=self.string_list(entries, "labels", label, label_problem),
        )

    def policies(
        self, entries: Entries, label: str, *, has_source: bool | None
    ) -> dict[str, PolicyConfig | None]:
        """The rules a `policies:` block sets (None: switched off); {} when absent."""
        if "policies" not in entries:
            return {}
        key_node, node = entries["policies"]
        return read_policies(self, key_node, node, label, has_source=has_source) or {}

    def parse(self, docs: list[Node]) -> Config | None:
        if not docs:
            self.problem(1, "the file is empty; it needs `version`, `environments` and `services`")
            return None
        if len(docs) > 1:
            self.problem(docs[1], f"expected one YAML document, found {len(docs)}")
        root = docs[0]
        top = self.mapping(root, "the top level", _TOP_KEYS, at=1)
        if top is None:
            return None
        version = self.version(top, root)
        defaults = self.defaults(top)
        environments = self.environments(top, root, defaults)
        services = self.services(top, root, defaults.path, defaults.path_ok)
        forge = self.forge(top)
        notifications = self.notifications(top)
        self.check_notification_environments(self.declared or [])
        if version is None or environments is None or services is None:
            return None
        return Config(
            version=version,
            environments=tuple(environments),
            services=tuple(services),
            default_path=defaults.path,
            default_branch=defaults.branch,
            default_mode=defaults.mode,
            file=self.file,
            forge=forge,
            notifications=notifications,
            default_carry=defaults.carry,
        )

    def version(self, top: Entries, root: Node) -> int | None:
        if "version" not in top:
            self.problem(
                root, f"missing required key 'version' (use `version: {SUPPORTED_VERSION}`)"
            )
            return None
        key_node, value = top["version"]
        if not isinstance(value, ScalarNode) or value.tag != INT:
            self.problem(
                key_node, f"version must be the number {SUPPORTED_VERSION}, got {kind_of(value)}"
            )
            return None
        if value.value.strip() != str(SUPPORTED_VERSION):
            self.problem(
                value,
                f"unsupported version {value.value}; expected version {SUPPORTED_VERSION}",
            )
            return None
        return SUPPORTED_VERSION

    def defaults(self, top: Entries) -> _Defaults:
        if "defaults" not in top:
            return _Defaults()
        key_node, node = top["defaults"]
        entries = self.mapping(node, "defaults", _DEFAULTS_KEYS, at=key_node)
        if entries is None:
            return _Defaults(path_ok=False)
        path = self.checked(entries, "path", "defaults", path_problem)
        _, applier, agent = self.applier_spec(entries, "defaults")
        return _Defaults(
            path=path,
            branch=self.checked(entries, "branch", "defaults", branch_problem),
            mode=self.checked(entries, "mode", "defaults", mode_problem) or DEFAULT_MODE,
            path_ok=path is not None or "path" not in entries,
            pull_request=self.pull_request_keys(entries, "defaults"),
            policies=merge_policies((), self.policies(entries, "defaults", has_source=None)),
            render=self.render_spec(entries, "defaults")[1],
            applier=applier,
            agent=agent,
            carry=self.carry_spec(entries, "defaults"),
        )

    # -- forge

    def forge(self, top: Entries) -> ForgeSettings | None:
        if "forge" not in top:
            return None
        key_node, node = top["forge"]
        entries = self.mapping(node, "forge", _FORGE_KEYS, at=key_node)
        if entries is None:
            return None
        type_ = self.checked(entries, "type", "forge", forge_type_problem)
        api_url = self.checked(entries, "apiUrl", "forge", api_url_problem)
        repository = self.checked(entries, "repository", "forge", repository_problem)
        if type_ == "none":
            for key in ("apiUrl", "repository"):
                if key in entries:
                    self.problem(
                        entries[key][0],
                        f"forge: {key} has no use with type: none "
                        "(a plain git remote has no API); remove it",
                    )
        method = self.checked(entries, "commitMethod", "forge", _commit_method_problem)
        if method == "api" and type_ in ("gitlab", "none"):
            self.problem(
                entries["commitMethod"][1],
                f"forge: commitMethod: api is GitHub's Git Data API; with type: {type_} "
                "commits are pushed (remove it, or use commitMethod: git)",
            )
        if type_ == "github" and repository is not None and repository.count("/") != 1:
            self.problem(
                entries["repository"][1],
                f"forge: repository: {repository!r} has {repository.count('/') + 1} parts; "
                "a GitHub repository is 'owner/name' (nested groups are GitLab only)",
            )
        return ForgeSettings(
            type=type_,
            api_url=None if api_url is None else api_url.rstrip("/"),
            repository=repository,
            line=line_of(key_node),
            commit_method=method or "git",
        )

    # -- environments

    def environments(
        self, top: Entries, root: Node, defaults: _Defaults
    ) -> list[Environment] | None:
        """Valid environments, or None when the section is unusable.

        None also when any entry is invalid; cross-checks still run on the
        valid ones so that every problem is reported.
        """
        if "environments" not in top:
            self.problem(root, "missing required key 'environments'")
            return None
        key_node, node = top["environments"]
        if not isinstance(node, SequenceNode):
            self.problem(key_node, f"environments must be a list, got {kind_of(node)}")
            return None
        if not node.value:
            self.problem(key_node, "environments must list at least one environment")
            return None
        self.declared = list(dict.fromkeys(filter(None, map(raw_name, node.value))))
        envs: list[Environment] = []
        from_nodes: dict[str, Node] = {}
        name_lines: dict[str, int] = {}
        ok = True
        for index, item in enumerate(node.value):
            label = entry_label(item, "environment", index)
            entries = self.mapping(item, label, _ENV_KEYS, at=item)
            if entries is None:
                ok = False
                continue
            count = len(self.problems)
            name = self.name(entries, label, item)
            from_ = self.string(entries, "from", label)
            branch = self.checked(entries, "branch", label, branch_problem)
            mode = self.checked(entries, "mode", label, mode_problem)
            description = self.string(entries, "description", label)
            pr = self.pull_request_keys(entries, label)
            policies = self.policies(entries, label, has_source="from" in entries)
            render = self.render_spec(entries, label)[1]
            _, applier, agent = self.applier_spec(entries, label)
            ok = ok and len(self.problems) == count
            if name is None:
                continue
            if name in name_lines:
                self.problem(
                    entries["name"][1],
                    f"duplicate environment name {name!r} (first at line {name_lines[name]})",
                )
                ok = False
                continue
            name_lines[name] = line_of(item)
            if from_ is not None:
                from_nodes[name] = entries["from"][1]
            fallback = defaults.pull_request
            env = Environment(
                name=name,
                from_=from_,
                branch=branch,
                mode=mode or defaults.mode,
                description=description,
                line=line_of(item),
                auto_merge=_first(pr.auto_merge, fallback.auto_merge, False),
                draft=_first(pr.draft, fallback.draft, False),
                reviewers=_first(pr.reviewers, fallback.reviewers, ()),
                team_reviewers=_first(pr.team_reviewers, fallback.team_reviewers, ()),
                assignees=_first(pr.assignees, fallback.assignees, ()),
                labels=_first(pr.labels, fallback.labels, ()),
                policies=merge_policies(defaults.policies, policies),
                render=render if render is not None else defaults.render,
                applier=applier if "applier" in entries else defaults.applier,
                agent=agent if "applier" in entries else defaults.agent,
            )
            envs.append(env)
        ok = self.graph(envs, from_nodes) and ok
        return envs if ok else None

    def graph(self, envs: list[Environment], from_nodes: dict[str, Node]) -> bool:
        """Check `from` references and cycles; True when the graph is sound."""
        names = [e.name for e in envs]
        declared = self.declared or names
        ok = True
        parent: dict[str, str] = {}
        for env in envs:
            if env.from_ is None:
                continue
            at = from_nodes[env.name]
            if env.from_ == env.name:
                self.problem(
                    at, f"environment {env.name!r}: from: cannot be the environment itself"
                )
                ok = False
            elif env.from_ not in declared:
                self.problem(
                    at,
                    f"environment {env.name!r}: from: unknown environment "
                    f"{env.from_!r}{suggest(env.from_, declared)} (known: {', '.join(declared)})",
                )
                ok = False
            elif env.from_ in names:
                parent[env.name] = env.from_
        done: set[str] = set()
        for start in names:
            chain: list[str] = []
            current: str | None = start
            while current is not None and current not in done and current not in chain:
                chain.append(current)
                current = parent.get(current)
            done.update(chain)
            if current is None or current not in chain:
                continue
            # Walking `from` goes against the promotion flow: reverse it, and
            # start at the member that comes first in the file.
            cycle = chain[chain.index(current) :][::-1]
            first = min(cycle, key=names.index)
            at_index = cycle.index(first)
            cycle = cycle[at_index:] + cycle[:at_index]
            self.problem(
                from_nodes[first],
                f"environments form a cycle through `from`: {' -> '.join([*cycle, first])}",
            )
            ok = False
        return ok

    # -- services
