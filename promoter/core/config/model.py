"""promoter.yaml -> a typed, validated, frozen model.

`promoter.yaml` lives at the root of the environment repository. It names the
environments (and the promotion graph drawn by `from`), where each service's
files live (path templates), and a few per-environment/per-service options.
docs/config.md is the reference; promoter/schema/promoter.schema.json is the
same contract for editors.

Validation collects *every* problem, each located as `file:line`, and raises
one ConfigError; a config that parses is internally consistent (names unique,
`from` acyclic, every service has a path in every environment).

Booleans follow YAML 1.2 (the only version this loader speaks): `true` and
`false` are booleans; `yes`, `no`, `on`, `off` are strings, and a string where
a boolean belongs is a problem, never silently read as one.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from promoter.core.images import parse_repository
from promoter.core.policy.settings import PolicyConfig, merge_policies, read_policies
from promoter.core.yamlnodes import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    compose_all,
    get,
    line_of,
    scalar,
)
from promoter.errors import ConfigError, FileSystemError, ImageRefError, InputError, Problem

__all__ = [
    "CONFIG_FILENAMES",
    "FORGE_TYPES",
    "MODES",
    "Config",
    "Environment",
    "ForgeSettings",
    "HelmKeys",
    "Service",
    "load_config",
    "parse_config",
]

CONFIG_FILENAMES = ("promoter.yaml", "promoter.yml")
SUPPORTED_VERSION = 1
MODES = ("push", "pull-request")
DEFAULT_MODE = "push"
FORGE_TYPES = ("github", "gitlab", "none")
BUILTIN_LABEL = "promoter"
"""Every promotion PR gets this label and `env:<name>`; neither may be configured."""
MAX_LABEL_LENGTH = 50
"""GitHub's limit on a label name."""
DOCS_HINT = "see docs/config.md for every key of promoter.yaml"

NAME_PATTERN = r"[a-z0-9]([a-z0-9._-]*[a-z0-9])?"
_NAME = re.compile(NAME_PATTERN)
"""Environment and service names: they end up in branch names and paths."""
_KEY_PATH = re.compile(r"[^.\s]+(\.[^.\s]+)*")
_IMAGE_POLICY = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?:[a-z0-9]([a-z0-9.-]*[a-z0-9])?")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_BAD_REF_CHARS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
_API_URL = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[^\s/?#@:\[\]]+)(:[0-9]{1,5})?(/[^\s?#]*)?")
_REPO_SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")
_ACCOUNT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
"""User names and team slugs (GitHub and GitLab both fit)."""

_PR_KEYS = ("autoMerge", "draft", "reviewers", "teamReviewers", "assignees", "labels")
_TOP_KEYS = ("version", "environments", "defaults", "services", "forge")
_ENV_KEYS = ("name", "from", "branch", "mode", "description", "policies", *_PR_KEYS)
_DEFAULTS_KEYS = ("path", "branch", "mode", "policies", *_PR_KEYS)
_FORGE_KEYS = ("type", "apiUrl", "repository")
_SERVICE_KEYS = ("name", "image", "path", "paths", "keys", "imagePolicy")
_HELM_KEYS = ("repository", "registry", "tag", "digest")

_STR = "tag:yaml.org,2002:str"
_TAG_KINDS = {
    _STR: "a string",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:null": "nothing (null)",
    "tag:yaml.org,2002:timestamp": "a date",
}
_BOOL = "tag:yaml.org,2002:bool"
_YAML11_BOOLS = ("yes", "no", "y", "n", "on", "off")

_T = TypeVar("_T")


# --------------------------------------------------------------------------- model


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "environments", tuple(self.environments))
        object.__setattr__(self, "services", tuple(self.services))

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
        return template.replace("{service}", svc.name).replace("{env}", env_name)

    def branch_for(self, env: Environment | str) -> str | None:
        """The branch holding `env` (`{env}` substituted); None = repository default."""
        environment = env if isinstance(env, Environment) else self.environment(env)
        template = environment.branch if environment.branch is not None else self.default_branch
        return None if template is None else template.replace("{env}", environment.name)

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


# --------------------------------------------------------------------------- loading


def load_config(
    repo_dir: str | os.PathLike[str],
    *,
    shown_as: str | None = None,
    services: Iterable[str] | None = None,
    images: Iterable[str] | None = None,
) -> Config:
    """Read and validate `<repo_dir>/promoter.yaml` (or `promoter.yml`).

    `shown_as` replaces the directory in messages (a bump's temporary clone
    means nothing to the user; the repository URL does). `services` and
    `images` (canonical repositories) say which services the caller needs:
    from a warm cache only those are loaded, so `config.services` may hold
    just them. Without a cache entry the whole file is parsed as usual.
    """
    base = os.fspath(repo_dir)
    candidates = [os.path.join(base, name) for name in CONFIG_FILENAMES]
    present = [path for path in candidates if os.path.lexists(path)]
    if not present:
        where = shown_as or base
        raise ConfigError(
            [Problem(shown_as or candidates[0], None, f"no promoter.yaml in {where}")],
            hint="create promoter.yaml at the root of the environment repository "
            "(docs/config.md describes the format)",
        )
    if len(present) > 1:
        raise ConfigError(
            [Problem(present[1], None, "both promoter.yaml and promoter.yml exist")],
            hint="keep only one of them",
        )
    path = present[0]
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as err:
        raise FileSystemError(
            f"cannot read {path}: {err.strerror or err}",
            hint="check that it is a readable file",
        ) from err
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ConfigError([Problem(path, line, "not valid UTF-8 text")]) from err
    shown = path if shown_as is None else f"{shown_as}:{os.path.basename(path)}"
    from promoter.core.config import cache  # imports this module: import late

    cached = cache.load(data, shown, services, images)
    if cached is not None:
        return cached
    config = parse_config(text, shown)
    cache.store(data, shown, config)
    return config


def parse_config(text: str, filename: str = "promoter.yaml") -> Config:
    """Validate the text of a promoter.yaml; ConfigError lists every problem.

    Malformed YAML raises the YamlError of `compose_all` instead.
    """
    parser = _Parser(filename)
    config = parser.parse(compose_all(text, filename))
    if parser.problems or config is None:
        problems = sorted(parser.problems, key=lambda p: p.line or 0)
        raise ConfigError(problems, hint=DOCS_HINT)
    return config


# --------------------------------------------------------------------------- validation


def _kind(node: Node | None) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, ScalarNode):
        tag = str(node.tag)
        return _TAG_KINDS.get(tag, f"a value tagged {tag}")
    return "nothing"


def _raw_name(item: Node) -> str | None:
    """The entry's `name` if it is a string (valid or not)."""
    node = get(item, "name")
    return scalar(node) if node is not None and node.tag == _STR else None


def _entry_label(item: Node, what: str, index: int) -> str:
    """`service 'api'` when the entry has a valid name, else `services[3]`."""
    name = _raw_name(item)
    if name is not None and name_problem(name) is None:
        return f"{what} {name!r}"
    return f"{what}s[{index}]"


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def template_problem(text: str, allowed: Sequence[str]) -> str | None:
    """Why `text` is not a valid path template (placeholders `allowed`), or None."""
    if not text.strip():
        return "must not be empty"
    for name in _PLACEHOLDER.findall(text):
        if name not in allowed:
            known = " and ".join(f"{{{a}}}" for a in allowed)
            verb = "is" if len(allowed) == 1 else "are"
            return f"unknown placeholder {{{name}}} in {text!r}; only {known} {verb} substituted"
    rest = _PLACEHOLDER.sub("", text)
    if "{" in rest or "}" in rest:
        return f"unbalanced braces in {text!r}"
    return None


def path_problem(text: str) -> str | None:
    """Why path template `text` is invalid, or None."""
    problem = template_problem(text, ("service", "env"))
    if problem is not None:
        return problem
    if text.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", text):
        return f"{text!r} is absolute; paths are relative to the repository root"
    if ".." in re.split(r"[/\\]", text):
        return f"{text!r} contains '..'; paths must stay inside the repository"
    return None


def name_problem(text: str) -> str | None:
    if _NAME.fullmatch(text):
        return None
    return (
        f"{text!r} is not a valid name (lowercase letters, digits, '.', '_', '-'; "
        "starting and ending with a letter or digit)"
    )


def forge_type_problem(text: str) -> str | None:
    if text in FORGE_TYPES:
        return None
    return f"must be one of {', '.join(FORGE_TYPES)}; got {text!r}{_suggest(text, FORGE_TYPES)}"


def api_url_problem(text: str) -> str | None:
    """Why `text` is not an http(s) API base URL, or None."""
    if not text.startswith(("http://", "https://")):
        return f"{text!r} must start with http:// or https://"
    if "@" in text.split("/", 3)[2]:
        return f"{text!r} must not contain credentials; promoter reads tokens from the environment"
    if _API_URL.fullmatch(text):
        return None
    return (
        f"{text!r} is not a URL like https://ghe.example.com/api/v3 "
        "(a host, an optional port and path; no spaces, query or fragment)"
    )


def repository_problem(text: str) -> str | None:
    """Why `text` is not an `owner/name` (or GitLab `group/sub/project`) slug, or None."""
    segments = text.split("/")
    if text.endswith(".git"):
        return f"{text!r} ends in '.git'; write the slug without it"
    if len(segments) < 2:
        return (
            f"{text!r} is not a repository slug like 'owner/name' (or GitLab 'group/sub/project')"
        )
    for segment in segments:
        if not _REPO_SEGMENT.fullmatch(segment) or not segment.strip("."):
            return (
                f"{text!r} is not a repository slug: each '/'-separated part is letters, "
                "digits, '_', '.', '-' (and not only dots)"
            )
    return None


def account_problem(text: str, what: str = "a user name") -> str | None:
    """Why `text` is not a user name / team slug, or None."""
    if text.startswith("@"):
        return f"{text!r}: write {what} without '@'"
    if _ACCOUNT.fullmatch(text):
        return None
    return (
        f"{text!r} is not {what} (letters, digits, '_', '.', '-'; "
        "starting with a letter, digit or '_')"
    )


def team_problem(text: str) -> str | None:
    if "/" in text:
        return (
            f"{text!r}: write the team slug without the organisation "
            f"(e.g. {text.rsplit('/', 1)[-1]!r})"
        )
    return account_problem(text, "a team slug")


def label_problem(text: str) -> str | None:
    """Why `text` cannot be an extra PR label, or None."""
    if "," in text:
        return f"{text!r} contains a comma (GitLab splits labels on commas)"
    if len(text) > MAX_LABEL_LENGTH:
        return f"{text!r} is {len(text)} characters long; labels have at most {MAX_LABEL_LENGTH}"
    if text != text.strip() or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return f"{text!r} has leading/trailing spaces or control characters"
    if text.casefold() == BUILTIN_LABEL or text.casefold().startswith("env:"):
        return f"{text!r} is reserved: promoter adds {BUILTIN_LABEL!r} and 'env:<name>' itself"
    return None


def mode_problem(text: str) -> str | None:
    return None if text in MODES else f"must be one of {', '.join(MODES)}; got {text!r}"


def image_policy_problem(text: str) -> str | None:
    if _IMAGE_POLICY.fullmatch(text):
        return None
    return f"{text!r} is not a Flux image policy of the form 'namespace:name'"


def key_path_problem(text: str) -> str | None:
    if _KEY_PATH.fullmatch(text):
        return None
    return f"{text!r} is not a dotted key path like 'image.tag'"


def branch_problem(text: str) -> str | None:
    """Why branch template `text` (placeholder `{env}`) is not a valid branch, or None."""
    problem = template_problem(text, ("env",))
    if problem is not None:
        return problem
    name = text.replace("{env}", "x")
    bad = (
        _BAD_REF_CHARS.search(name)
        or name.startswith(("-", "/", "."))
        or name.endswith(("/", ".", ".lock"))
        or any(s in name for s in ("..", "//", "@{", "/.", ".lock/"))
        or name == "@"
    )
    if bad:
        return f"{text!r} is not a valid git branch name"
    return None


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


def _first(value: _T | None, fallback: _T | None, default: _T) -> _T:
    if value is not None:
        return value
    return fallback if fallback is not None else default


class _Parser:
    """Walks the node graph once, building the model and collecting problems."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.declared: list[str] | None = None
        """Every environment name written in the file, valid or not (None: no list)."""

    def problem(self, where: Node | int, message: str) -> None:
        line = where if isinstance(where, int) else line_of(where)
        self.problems.append(Problem(self.file, line, message))

    # -- generic shapes

    def mapping(
        self, node: Node, label: str, allowed: Sequence[str] | None, at: Node | int
    ) -> dict[str, tuple[Node, Node]] | None:
        """Entries of a mapping node; reports wrong type, duplicate and unknown keys."""
        if not isinstance(node, MappingNode):
            self.problem(at, f"{label} must be a mapping, got {_kind(node)}")
            return None
        entries: dict[str, tuple[Node, Node]] = {}
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, f"{label}: keys must be strings, got {_kind(key_node)}")
                continue
            key = str(key_node.value)
            if key in seen:
                self.problem(
                    key_node, f"{label}: duplicate key {key!r} (first at line {seen[key]})"
                )
                continue
            seen[key] = line_of(key_node)
            if allowed is not None and key not in allowed:
                self.problem(
                    key_node,
                    f"{label}: unknown key {key!r}{_suggest(key, allowed)} "
                    f"(allowed: {', '.join(allowed)})",
                )
                continue
            entries[key] = (key_node, value_node)
        return entries

    def string(self, entries: dict[str, tuple[Node, Node]], key: str, label: str) -> str | None:
        """The non-empty string under `key`, None if absent or (reported) invalid."""
        if key not in entries:
            return None
        key_node, value = entries[key]
        if not isinstance(value, ScalarNode) or value.tag != _STR:
            quote = " (quote it)" if isinstance(value, ScalarNode) and value.value else ""
            self.problem(key_node, f"{label}: {key} must be a string, got {_kind(value)}{quote}")
            return None
        text = str(value.value)
        if not text.strip():
            self.problem(key_node, f"{label}: {key} must not be empty")
            return None
        return text

    def checked(
        self,
        entries: dict[str, tuple[Node, Node]],
        key: str,
        label: str,
        check: Callable[[str], str | None],
    ) -> str | None:
        """A string under `key` that passes `check` (which returns a problem or None)."""
        text = self.string(entries, key, label)
        if text is None:
            return None
        problem = check(text)
        if problem is not None:
            self.problem(entries[key][1], f"{label}: {key}: {problem}")
            return None
        return text

    def boolean(self, entries: dict[str, tuple[Node, Node]], key: str, label: str) -> bool | None:
        """The YAML 1.2 boolean under `key`, None if absent or (reported) invalid."""
        if key not in entries:
            return None
        key_node, value = entries[key]
        if isinstance(value, ScalarNode) and value.tag == _BOOL:
            return str(value.value).lower() == "true"
        extra = ""
        if isinstance(value, ScalarNode) and value.tag == _STR:
            text = str(value.value)
            if text.lower() in ("true", "false"):
                extra = " (unquote it)"
            elif text.lower() in _YAML11_BOOLS:
                word = "true" if text.lower() in ("yes", "y", "on") else "false"
                extra = f" ({text!r} is a string in YAML 1.2; write {word})"
        self.problem(key_node, f"{label}: {key} must be true or false, got {_kind(value)}{extra}")
        return None

    def string_list(
        self,
        entries: dict[str, tuple[Node, Node]],
        key: str,
        label: str,
        check: Callable[[str], str | None],
    ) -> tuple[str, ...] | None:
        """The list of distinct, non-empty strings passing `check` under `key`.

        None if absent or (reported) invalid. Duplicates ignore case, as
        GitHub and GitLab do for user names, team slugs and labels.
        """
        if key not in entries:
            return None
        key_node, node = entries[key]
        if not isinstance(node, SequenceNode):
            extra = ""
            if isinstance(node, ScalarNode) and node.tag == _STR and node.value:
                extra = f" (write {key}: [{node.value}])"
            self.problem(
                key_node, f"{label}: {key} must be a list of strings, got {_kind(node)}{extra}"
            )
            return None
        result: list[str] = []
        seen: dict[str, tuple[str, int]] = {}
        ok = True
        for index, item in enumerate(node.value):
            where = f"{label}: {key}[{index}]"
            if not isinstance(item, ScalarNode) or item.tag != _STR:
                quote = " (quote it)" if isinstance(item, ScalarNode) and item.value else ""
                self.problem(item, f"{where} must be a string, got {_kind(item)}{quote}")
                ok = False
                continue
            text = str(item.value)
            problem = "must not be empty" if not text.strip() else check(text)
            if problem is not None:
                self.problem(item, f"{where}: {problem}")
                ok = False
                continue
            folded = text.casefold()
            if folded in seen:
                first, first_line = seen[folded]
                spelled = "" if first == text else f" as {first!r}; case does not count"
                self.problem(
                    item,
                    f"{label}: {key}: duplicate {text!r} (first at line {first_line}{spelled})",
                )
                ok = False
                continue
            seen[folded] = (text, line_of(item))
            result.append(text)
        return tuple(result) if ok else None

    def pull_request_keys(
        self, entries: dict[str, tuple[Node, Node]], label: str
    ) -> _PullRequestKeys:
        return _PullRequestKeys(
            auto_merge=self.boolean(entries, "autoMerge", label),
            draft=self.boolean(entries, "draft", label),
            reviewers=self.string_list(entries, "reviewers", label, account_problem),
            team_reviewers=self.string_list(entries, "teamReviewers", label, team_problem),
            assignees=self.string_list(entries, "assignees", label, account_problem),
            labels=self.string_list(entries, "labels", label, label_problem),
        )

    def policies(
        self, entries: dict[str, tuple[Node, Node]], label: str, *, has_source: bool | None
    ) -> dict[str, PolicyConfig | None]:
        """The rules a `policies:` block sets (None: switched off); {} when absent."""
        if "policies" not in entries:
            return {}
        key_node, node = entries["policies"]
        return read_policies(self, key_node, node, label, has_source=has_source) or {}

    def name(self, entries: dict[str, tuple[Node, Node]], label: str, at: Node) -> str | None:
        if "name" not in entries:
            self.problem(at, f"{label}: missing required key 'name'")
            return None
        return self.checked(entries, "name", label, name_problem)

    # -- document

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
        )

    def version(self, top: dict[str, tuple[Node, Node]], root: Node) -> int | None:
        if "version" not in top:
            self.problem(
                root, f"missing required key 'version' (use `version: {SUPPORTED_VERSION}`)"
            )
            return None
        key_node, value = top["version"]
        if not isinstance(value, ScalarNode) or value.tag != "tag:yaml.org,2002:int":
            self.problem(
                key_node, f"version must be the number {SUPPORTED_VERSION}, got {_kind(value)}"
            )
            return None
        if value.value.strip() != str(SUPPORTED_VERSION):
            self.problem(
                value,
                f"unsupported version {value.value}; expected version {SUPPORTED_VERSION}",
            )
            return None
        return SUPPORTED_VERSION

    def defaults(self, top: dict[str, tuple[Node, Node]]) -> _Defaults:
        if "defaults" not in top:
            return _Defaults()
        key_node, node = top["defaults"]
        entries = self.mapping(node, "defaults", _DEFAULTS_KEYS, at=key_node)
        if entries is None:
            return _Defaults(path_ok=False)
        path = self.checked(entries, "path", "defaults", path_problem)
        return _Defaults(
            path=path,
            branch=self.checked(entries, "branch", "defaults", branch_problem),
            mode=self.checked(entries, "mode", "defaults", mode_problem) or DEFAULT_MODE,
            path_ok=path is not None or "path" not in entries,
            pull_request=self.pull_request_keys(entries, "defaults"),
            policies=merge_policies((), self.policies(entries, "defaults", has_source=None)),
        )

    # -- forge

    def forge(self, top: dict[str, tuple[Node, Node]]) -> ForgeSettings | None:
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
        )

    # -- environments

    def environments(
        self, top: dict[str, tuple[Node, Node]], root: Node, defaults: _Defaults
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
            self.problem(key_node, f"environments must be a list, got {_kind(node)}")
            return None
        if not node.value:
            self.problem(key_node, "environments must list at least one environment")
            return None
        self.declared = list(dict.fromkeys(filter(None, map(_raw_name, node.value))))
        envs: list[Environment] = []
        from_nodes: dict[str, Node] = {}
        name_lines: dict[str, int] = {}
        ok = True
        for index, item in enumerate(node.value):
            label = _entry_label(item, "environment", index)
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
                    f"{env.from_!r}{_suggest(env.from_, declared)} (known: {', '.join(declared)})",
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

    def services(
        self,
        top: dict[str, tuple[Node, Node]],
        root: Node,
        default_path: str | None,
        default_path_ok: bool,
    ) -> list[Service] | None:
        if "services" not in top:
            self.problem(root, "missing required key 'services' (`services: []` for none yet)")
            return None
        key_node, node = top["services"]
        if not isinstance(node, SequenceNode):
            self.problem(key_node, f"services must be a list, got {_kind(node)}")
            return None
        env_names = self.declared
        services: list[Service] = []
        name_lines: dict[str, int] = {}
        policy_owner: dict[str, str] = {}
        ok = True
        for index, item in enumerate(node.value):
            label = _entry_label(item, "service", index)
            entries = self.mapping(item, label, _SERVICE_KEYS, at=item)
            if entries is None:
                ok = False
                continue
            count = len(self.problems)
            name = self.name(entries, label, item)
            if name is not None:
                if name in name_lines:
                    self.problem(
                        entries["name"][1],
                        f"duplicate service name {name!r} (first at line {name_lines[name]})",
                    )
                else:
                    name_lines[name] = line_of(item)
            image = self.image(entries, label, item)
            path = self.checked(entries, "path", label, path_problem)
            paths = self.paths(entries, label, env_names)
            keys = self.helm_keys(entries, label)
            policy = self.checked(entries, "imagePolicy", label, image_policy_problem)
            if policy is not None and name is not None:
                if policy in policy_owner:
                    self.problem(
                        entries["imagePolicy"][1],
                        f"{label}: imagePolicy {policy!r} is already used by service "
                        f"{policy_owner[policy]!r}",
                    )
                else:
                    policy_owner[policy] = name
            if default_path is None and default_path_ok and "path" not in entries:
                missing = [e for e in env_names or () if paths is not None and e not in paths]
                if missing:
                    self.problem(
                        item,
                        f"{label} has no path for environment(s) {', '.join(missing)}: "
                        "set `path` or `paths` on the service, or `defaults.path`",
                    )
            if len(self.problems) > count or name is None or image is None or paths is None:
                ok = False
                continue
            services.append(
                Service(
                    name=name,
                    image=image,
                    path=path,
                    paths=paths,
                    keys=keys,
                    image_policy=policy,
                    line=line_of(item),
                )
            )
        return services if ok else None

    def image(self, entries: dict[str, tuple[Node, Node]], label: str, at: Node) -> str | None:
        if "image" not in entries:
            self.problem(at, f"{label}: missing required key 'image' (a repository, no tag)")
            return None
        text = self.string(entries, "image", label)
        if text is None:
            return None
        try:
            return parse_repository(text)
        except ImageRefError as err:
            self.problem(entries["image"][1], f"{label}: image: {err.message}")
            return None

    def paths(
        self, entries: dict[str, tuple[Node, Node]], label: str, env_names: list[str] | None
    ) -> dict[str, str] | None:
        """Per-environment paths ({} when absent), None when (reported) invalid."""
        if "paths" not in entries:
            return {}
        key_node, node = entries["paths"]
        sub = self.mapping(node, f"{label}: paths", None, at=key_node)
        if sub is None:
            return None
        result: dict[str, str] = {}
        ok = True
        for env, (env_key, _) in sub.items():
            if env_names is not None and env not in env_names:
                self.problem(
                    env_key,
                    f"{label}: paths: unknown environment {env!r}{_suggest(env, env_names)} "
                    f"(known: {', '.join(env_names)})",
                )
                ok = False
                continue
            text = self.checked(sub, env, f"{label}: paths", path_problem)
            if text is None:
                ok = False
                continue
            result[env] = text
        return result if ok else None

    def helm_keys(self, entries: dict[str, tuple[Node, Node]], label: str) -> HelmKeys | None:
        if "keys" not in entries:
            return None
        key_node, node = entries["keys"]
        sub_label = f"{label}: keys"
        sub = self.mapping(node, sub_label, _HELM_KEYS, at=key_node)
        if sub is None:
            return None
        found = {k: self.checked(sub, k, sub_label, key_path_problem) for k in _HELM_KEYS}
        if "tag" not in sub:
            self.problem(key_node, f"{sub_label}: missing required key 'tag'")
        tag = found["tag"]
        if tag is None:
            return None
        return HelmKeys(
            tag=tag,
            repository=found["repository"],
            registry=found["registry"],
            digest=found["digest"],
        )
