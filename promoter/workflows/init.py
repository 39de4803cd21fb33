"""`promoter init`: survey an existing environment repository and write a
first promoter.yaml.

Every YAML and JSON file (kustomizations, manifests, Helm values,
HelmReleases, compose files, Jsonnet parameters) is read for image
repositories; a repository counts only where the editors `bump` uses find
it (so a guess never names a file promoter could not edit).
core.repo_survey turns the sightings into environments, services and path
templates; the result is parsed as any promoter.yaml is and checked against
the files before anything is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promoter.adapters.worktree import YAML_SUFFIXES, read_text
from promoter.core.config.loader import parse_config
from promoter.core.config.model import CONFIG_FILENAMES
from promoter.core.edit import find_references
from promoter.core.edit.kustomize import is_kustomization_file
from promoter.core.edit.model import Target
from promoter.core.images import looks_like_reference, parse_reference
from promoter.core.objects import load_all
from promoter.core.repo_survey import Guess, Sighting, guess, render
from promoter.errors import InputError, Problem, PromoterError
from promoter.workflows.validate import check_layout

SKIPPED_DIRS = {".git", ".github", ".gitlab", "node_modules", ".venv", "templates"}
"""Not environment files: VCS and CI metadata, Helm templates (not YAML until rendered)."""
MAX_FILES = 20_000


@dataclass
class Survey:
    text: str
    guess: Guess
    files: int
    """YAML files read."""
    problems: list[Problem]
    """What `config validate` would still report about the guess."""


def _candidates(node: Any, out: set[str]) -> None:
    """Image repositories named anywhere in a loaded document."""
    if isinstance(node, dict):
        image = node.get("image")
        if isinstance(image, str) and looks_like_reference(image):
            out.add(parse_reference(image).repository)
        repository = node.get("repository")
        if isinstance(repository, str) and ("tag" in node or "digest" in node):
            registry = node.get("registry")
            full = f"{registry}/{repository}" if isinstance(registry, str) else repository
            out.add(full)
        images = node.get("images")
        if isinstance(images, list):
            for entry in images:
                if isinstance(entry, dict):
                    name = entry.get("newName") or entry.get("name")
                    if isinstance(name, str):
                        out.add(name)
        for value in node.values():
            _candidates(value, out)
    elif isinstance(node, list):
        for value in node:
            _candidates(value, out)


def _files(root: Path) -> list[Path]:
    found: list[Path] = []
    for here, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(names):
            if name in CONFIG_FILENAMES:
                continue
            if name.endswith((*YAML_SUFFIXES, ".json")) or is_kustomization_file(name):
                path = Path(here) / name
                if path.is_file() and not path.is_symlink():
                    found.append(path)
        if len(found) > MAX_FILES:
            raise InputError(
                f"more than {MAX_FILES} YAML files under {root}",
                hint="run init in the environment repository itself, not a parent directory",
            )
    return found


def sightings_in(root: Path) -> tuple[list[Sighting], int]:
    files = _files(root)
    out = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        try:
            text = read_text(path, root)
            docs = load_all(text, rel)
        except PromoterError:
            continue  # not ours to judge here; `config validate` reads what matters
        repositories: set[str] = set()
        for doc in docs:
            _candidates(doc, repositories)
        for repository in sorted(repositories):
            target = Target(service=repository.rsplit("/", 1)[-1], repository=repository)
            try:
                found = find_references(text, rel, target)
            except PromoterError:
                continue
            if found:
                kustomization = is_kustomization_file(path.name)
                out.append(Sighting(rel, repository, kustomization))
        for chart in sorted({c for doc in docs for c in _chart_names(doc, path.name)}):
            target = Target(service=chart, repository=chart, chart=chart)
            try:
                if find_references(text, rel, target):  # pinned here, with a version
                    out.append(Sighting(rel, chart, chart=True))
            except PromoterError:
                continue
    return out, len(files)


def _chart_names(doc: object, filename: str) -> set[str]:
    """Charts a document pins: a HelmRelease's chart, Chart.yaml's
    dependencies, an Argo CD Application's Helm sources."""
    if not isinstance(doc, dict):
        return set()
    found = doc.get("spec")
    spec: dict[str, Any] = found if isinstance(found, dict) else {}
    if filename == "Chart.yaml":
        listed = doc.get("dependencies")
        deps: list[Any] = listed if isinstance(listed, list) else []
        return {d["name"] for d in deps if isinstance(d, dict) and isinstance(d.get("name"), str)}
    if doc.get("kind") == "HelmRelease":
        block = spec.get("chart")
        inner = block.get("spec") if isinstance(block, dict) else None
        chart = inner.get("chart") if isinstance(inner, dict) else None
        return {chart} if isinstance(chart, str) else set()
    if doc.get("kind") == "Application":
        sources = [spec.get("source"), *(spec.get("sources") or [])]
        return {
            s["chart"] for s in sources if isinstance(s, dict) and isinstance(s.get("chart"), str)
        }
    return set()


def survey(root: Path) -> Survey:
    sightings, files = sightings_in(root)
    if not sightings:
        raise InputError(
            f"found no image references in the {files} YAML/JSON file(s) under {root}",
            hint="run init at the root of the environment repository (kustomize overlays, "
            "manifests, Helm values or compose files with image: fields)",
        )
    g = guess(sightings)
    text = render(g)
    config = parse_config(text, CONFIG_FILENAMES[0])
    problems = check_layout(root, config, None).problems
    return Survey(text, g, files, problems)


def write_config(root: Path, text: str, *, force: bool) -> Path:
    """Write promoter.yaml atomically; refuse to replace one unless `force`."""
    target = root / CONFIG_FILENAMES[0]
    existing = [root / n for n in CONFIG_FILENAMES if (root / n).exists()]
    if existing and not force:
        raise InputError(
            f"{existing[0]} exists already; init does not overwrite it",
            hint="review it with `promoter config validate`, or pass --force to replace it "
            "(--dry-run prints the guess without writing)",
        )
    temporary = target.with_name(f".{target.name}.init-{os.getpid()}")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target
