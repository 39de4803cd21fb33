"""Where the agent's desired state comes from: a working tree given with
--repo (read as it is), or a clone of the environment's branch kept between
rounds (shallow, blob-less; `git ls-remote` each round, fetched only when
the commit moved)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Protocol

from promoter.adapters.forges.github_app import keep_fresh
from promoter.adapters.git import NETWORK_TIMEOUT_S, GitRepo, auth_environment
from promoter.core.config.loader import load_config
from promoter.core.config.model import CONFIG_FILENAMES
from promoter.errors import GitError, InputError

log = logging.getLogger("promoter.applier")


class Source(Protocol):
    pristine: bool
    """True when the checkout is exactly its revision (nothing edits it), so
    a rendering can be remembered by the commit."""

    @property
    def root(self) -> Path:
        """Where the checkout is (valid after the first `update`)."""
        ...

    def update(self) -> tuple[Path, str | None]:
        """(checkout directory, revision) of the newest desired state."""
        ...


class LocalSource:
    """A working tree given with --repo: read as it is, never fetched."""

    pristine = False  # someone may be editing it: HEAD does not say what is on disk

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def root(self) -> Path:
        return self.path

    def update(self) -> tuple[Path, str | None]:
        if not self.path.is_dir():
            raise InputError(f"{self.path} is not a directory")
        status, out, _ = GitRepo(self.path).run("rev-parse", "HEAD", check=False)
        return self.path, (out.strip() if status == 0 and out.strip() else None)


class GitSource:
    """A remote, cloned once into `workdir` and moved forward by fetches."""

    pristine = True  # reset to the fetched commit; only promoter touches it

    def __init__(
        self,
        url: str,
        workdir: Path,
        env: str,
        *,
        branch: str | None = None,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.url = url
        self.dest = workdir / "repo"
        self.env = env
        self.branch = branch
        self.environ = environ
        self.git_env = auth_environment(url, environ)
        self.repo: GitRepo | None = None
        self.revision: str | None = None
        self.fetches = 0

    @property
    def root(self) -> Path:
        return self.dest

    def update(self) -> tuple[Path, str | None]:
        if self.repo is None:
            self._clone()
        else:
            tip = self._remote_tip()
            if tip != self.revision:
                self._fetch()
        return self.dest, self.revision

    def _clone(self) -> None:
        # Shallow and blob-less: only the tip's files are downloaded. The
        # whole tree is checked out because kustomize overlays reach outside
        # the environment's own paths (`../../base`).
        if self.dest.exists():  # a clone that failed half-way last round
            shutil.rmtree(self.dest)
        repo = GitRepo.clone(
            self.url, self.dest, branch=self.branch, sparse=["/*"], env=self.git_env
        )
        keep_fresh(repo, self.url, self.environ)  # the agent runs for days; App tokens do not
        self.fetches += 1
        # The environment may live on its own branch (promoter.yaml `branch:`).
        branch = self.branch or _env_branch(self.dest, self.env) or repo.current_branch()
        if branch != repo.current_branch():
            repo.fetch_reset(branch)
            self.fetches += 1
        # Only now: a half-done clone is redone from scratch next round.
        self.repo, self.branch, self.revision = repo, branch, repo.head()

    def _remote_tip(self) -> str:
        assert self.repo is not None and self.branch is not None
        ref = f"refs/heads/{self.branch}"
        out = self.repo.run(
            "ls-remote", "origin", ref, timeout=NETWORK_TIMEOUT_S, doing=f"polling {ref}"
        )[1]
        for line in out.splitlines():
            sha, _, name = line.partition("\t")
            if name == ref:
                return sha
        raise GitError(
            f"branch {self.branch!r} is gone from {self.url}",
            hint="check the environment's branch in promoter.yaml (or --branch)",
        )

    def _fetch(self) -> None:
        assert self.repo is not None and self.branch is not None
        self.revision = self.repo.fetch_reset(self.branch)
        self.fetches += 1


def _env_branch(root: Path, env: str) -> str | None:
    if not any((root / name).is_file() for name in CONFIG_FILENAMES):
        return None
    return load_config(root).branch_for(env)
