"""`promoter init`'s guesses, from where images were seen in a repository:
which path names an environment, which image is which service, what path
template holds a service in every environment, and the promotion order.
Pure: the files were read (and each sighting confirmed by the editors that
`bump` uses) by promoter.workflows.init.

Environments are found from directory names after `overlays/`, `envs/`,
`environments/`, `clusters/` or `env/`, and from names people give stages
(`dev`, `staging`, `prod`, `prod-eu`, …) anywhere in a path, file names
included (`values-prod.yaml`). The promotion order follows the usual order
of those names (dev → test → staging → prod); names of one rank (`prod-eu`,
`prod-us`) are promoted in parallel from the rank before.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

__all__ = ["Guess", "Sighting", "guess", "render"]

ENV_PARENTS = {"overlays", "envs", "environments", "clusters", "env", "environment", "stages"}
STAGES = [
    ("local",),
    ("dev", "develop", "development", "sandbox"),
    ("int", "integration", "test", "testing", "qa", "ci"),
    ("uat", "stage", "staging", "preprod", "pre-prod", "perf"),
    ("canary",),
    ("prod", "production", "live"),
]
RANK = {name: rank for rank, names in enumerate(STAGES) for name in names}


@dataclass(frozen=True)
class Sighting:
    path: str
    """The file, relative to the repository root (POSIX)."""
    repository: str
    """The image repository it references (no tag), or the chart's name."""
    kustomization: bool = False
    chart: bool = False
    """A Helm chart's pinned version (HelmRelease, Chart.yaml, Argo CD Application)."""


@dataclass
class ServiceGuess:
    name: str
    image: str
    path: str | None
    """Template with {env} (and {service}); None: the defaults' path."""
    paths: dict[str, str] = field(default_factory=dict)
    """Environments whose path does not follow the template."""
    seen: int = 0
    chart: bool = False
    """`image` is a Helm chart's name: written as `chart:`."""


@dataclass
class Guess:
    environments: list[tuple[str, list[str]]]
    """(environment, the environments it is promoted from), in order."""
    default_path: str | None
    services: list[ServiceGuess]
    unplaced: list[str]
    """`repository (file)` sightings in no environment (bases, shared files)."""


def _rank(env: str) -> int | None:
    if env in RANK:
        return RANK[env]
    head = re.split(r"[-_.]", env, maxsplit=1)[0]
    return RANK.get(head)


def environment_of(path: str) -> str | None:
    """The environment a file belongs to, from its directories or its name."""
    parts = PurePosixPath(path).parts
    for parent, child in itertools.pairwise(parts):
        if parent in ENV_PARENTS and child != parts[-1]:
            return child
    for part in reversed(parts[:-1]):
        if _rank(part) is not None:
            return part
    stem = PurePosixPath(path).stem
    for word in re.split(r"[-_.]", stem):
        if _rank(word) is not None and word in RANK:
            return word
    return None


def _place(sighting: Sighting, env: str) -> str:
    """What `path` of the service is, in this environment: the file when the
    environment is in its name, else its directory."""
    path = PurePosixPath(sighting.path)
    # A directory path reads only its YAML files: a JSON file is named itself.
    if path.suffix == ".json" or (
        env in re.split(r"[-_.]", path.stem) and not sighting.kustomization
    ):
        return str(path)
    return str(path.parent)


def _template(path: str, service: str, env: str) -> str:
    out = re.sub(rf"(?<![A-Za-z0-9]){re.escape(env)}(?![A-Za-z0-9])", "{env}", path)
    return re.sub(rf"(?<![A-Za-z0-9{{]){re.escape(service)}(?![A-Za-z0-9}}])", "{service}", out)


def _service_name(repository: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", repository.rsplit("/", 1)[-1].lower()).strip("-") or "app"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def _order(envs: set[str]) -> list[tuple[str, list[str]]]:
    """Ranked stages in order, each from the last environment of the rank
    before; names of no known rank stand alone (no `from`) for a person to
    place."""
    ranked = sorted((e for e in envs if _rank(e) is not None), key=lambda e: (_rank(e), e))
    out: list[tuple[str, list[str]]] = []
    previous: list[str] = []
    current: list[str] = []
    current_rank: int | None = None
    for env in ranked:
        if _rank(env) != current_rank:
            previous, current, current_rank = current or previous, [], _rank(env)
        out.append((env, previous[-1:]))
        current.append(env)
    return out + [(env, []) for env in sorted(envs) if _rank(env) is None]


CHART_KEY = "chart:"


def _key(s: Sighting) -> str:
    """Charts and images apart: a chart may share its name with an image."""
    return CHART_KEY + s.repository if s.chart else s.repository


def guess(sightings: list[Sighting]) -> Guess:
    placed: dict[str, dict[str, set[str]]] = {}  # repository -> env -> paths
    later = []
    for s in sightings:
        env = environment_of(s.path)
        if env is None:
            later.append(s)
            continue
        placed.setdefault(_key(s), {}).setdefault(env, set()).add(_place(s, env))
    # A second look: `deploy/eu/…` is prod-eu's when prod-eu is known and is
    # the only environment ending in `eu`, and the service lacks it.
    known = {env for by_env in placed.values() for env in by_env}
    suffixes: dict[str, list[str]] = {}
    for env in known:
        head, _, tail = env.partition("-")
        if tail and _rank(head) is not None:
            suffixes.setdefault(tail, []).append(env)
    unplaced = []
    for s in later:
        parts = PurePosixPath(s.path).parts[:-1]
        named = [suffixes[p][0] for p in parts if len(suffixes.get(p, [])) == 1]
        by_env = placed.get(_key(s), {})
        if len(named) == 1 and named[0] not in by_env:
            by_env.setdefault(named[0], set()).add(str(PurePosixPath(s.path).parent))
            placed[_key(s)] = by_env
        else:
            unplaced.append(f"{s.repository} ({s.path})")
    names: set[str] = set()
    services = []
    for key in sorted(placed):
        repository = key.removeprefix(CHART_KEY)
        name = _service_name(repository, names)
        names.add(name)
        per_env = {env: min(paths, key=len) for env, paths in placed[key].items()}
        templates: dict[str, list[str]] = {}
        for env, path in per_env.items():
            templates.setdefault(_template(path, name, env), []).append(env)
        common = max(templates, key=lambda t: (len(templates[t]), "{env}" in t))
        exceptions = {e: per_env[e] for t, envs in templates.items() if t != common for e in envs}
        chart = key.startswith(CHART_KEY)
        services.append(
            ServiceGuess(name, repository, common, exceptions, seen=len(per_env), chart=chart)
        )
    counts: dict[str, int] = {}
    for svc in services:
        if svc.path:
            counts[svc.path] = counts.get(svc.path, 0) + 1
    default = max(counts, key=lambda t: counts[t]) if counts else None
    if default is not None and (counts[default] < 2 or "{service}" not in default):
        default = None  # a default only when it really is shared
    for svc in services:
        if svc.path == default:
            svc.path = None
    every = {env for by_env in placed.values() for env in by_env}
    return Guess(_order(every), default, services, sorted(set(unplaced)))


def _yaml(text: str) -> str:
    """A scalar safe to write unquoted, else double-quoted."""
    if re.fullmatch(r"[A-Za-z0-9_./{}:@-]+", text) and not text.startswith(("{", "@")):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(g: Guess) -> str:
    """A commented promoter.yaml for the guess."""
    lines = [
        "# Written by `promoter init` from the images it found in this repository.",
        "# Review it (the promotion order especially), then: promoter config validate",
        "version: 1",
        "environments:            # promoted in this order; `from` draws the graph",
    ]
    for env, sources in g.environments:
        lines.append(f"  - name: {_yaml(env)}")
        if sources:
            lines.append(f"    from: {_yaml(sources[0])}")
    if g.default_path:
        lines += ["defaults:", f"  path: {_yaml(g.default_path)}"]
    lines.append("services:")
    for s in g.services:
        kind = "chart" if s.chart else "image"
        lines += [f"  - name: {_yaml(s.name)}", f"    {kind}: {_yaml(s.image)}"]
        if s.path:
            lines.append(f"    path: {_yaml(s.path)}")
        if s.paths:
            pairs = ", ".join(f"{_yaml(e)}: {_yaml(p)}" for e, p in sorted(s.paths.items()))
            lines.append(f"    paths: {{{pairs}}}")
    if g.unplaced:
        lines.append("# Seen outside any environment (not services of their own):")
        lines += [f"#   {u}" for u in g.unplaced]
    return "\n".join(lines) + "\n"
