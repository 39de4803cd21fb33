"""Find, read and validate `promoter.yaml` (through the cache when warm)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from promoter.core.config import cache
from promoter.core.config.model import CONFIG_FILENAMES, Config
from promoter.core.config.parser import ConfigParser
from promoter.core.repo_files import read_repository_file
from promoter.core.yamlnodes import compose_all
from promoter.errors import ConfigError, Problem

DOCS_HINT = "see docs/config.md for every key of promoter.yaml"


def find_config_root(start: str | os.PathLike[str]) -> str:
    """The directory promoter.yaml is in, looking in `start` and then its
    parents up to the enclosing git repository's root, as git finds `.git`.
    `start` itself (as given) when there is none, so the error names it; a
    found parent is given relative to the current directory when it can be."""
    here = os.path.abspath(start)
    while True:
        if any(os.path.lexists(os.path.join(here, n)) for n in CONFIG_FILENAMES):
            break
        parent = os.path.dirname(here)
        if os.path.lexists(os.path.join(here, ".git")) or parent == here:
            return os.fspath(start)  # the repository's (or filesystem's) root: stop
        here = parent
    if here == os.path.abspath(start):
        return os.fspath(start)
    return os.path.relpath(here)


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
    # normpath: `promoter.yaml`, not `./promoter.yaml`, in every message.
    candidates = [os.path.normpath(os.path.join(base, name)) for name in CONFIG_FILENAMES]
    present = [path for path in candidates if os.path.lexists(path)]
    if not present:
        where = shown_as or base
        raise ConfigError(
            [Problem(shown_as or candidates[0], None, f"no promoter.yaml in {where}")],
            hint="create promoter.yaml at the root of the environment repository "
            "(docs/config.md describes the format)"
            if shown_as
            else "run promoter inside the environment repository (promoter.yaml is looked "
            "for up to the git root) or pass --repo DIR; or create promoter.yaml at the root "
            "of the environment repository (docs/config.md describes the format)",
        )
    if len(present) > 1:
        raise ConfigError(
            [Problem(present[1], None, "both promoter.yaml and promoter.yml exist")],
            hint="keep only one of them",
        )
    path = present[0]
    data = read_repository_file(path, base, shown=path if shown_as is None else shown_as)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ConfigError([Problem(path, line, "not valid UTF-8 text")]) from err
    shown = path if shown_as is None else f"{shown_as}:{os.path.basename(path)}"
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
    parser = ConfigParser(filename)
    # The parser reports duplicate keys itself, with the rest of the problems.
    config = parser.parse(compose_all(text, filename, duplicates=False))
    if parser.problems or config is None:
        problems = sorted(parser.problems, key=lambda p: p.line or 0)
        raise ConfigError(problems, hint=DOCS_HINT)
    return config
