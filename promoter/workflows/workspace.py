"""A clone of the environment repository to work in: blob-less, with full
history (history feeds provenance and rollback), only promoter.yaml checked
out; and the refs of each environment's branch in it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from promoter.adapters.forges.github_app import keep_fresh
from promoter.adapters.git import GitRepo, Identity, auth_environment
from promoter.adapters.scratch import scratch_dir
from promoter.adapters.signing import signing_config
from promoter.core import masking
from promoter.core.config.loader import load_config
from promoter.core.config.model import CONFIG_FILENAMES, Config, Environment
from promoter.core.rehearsal import Rehearsal
from promoter.errors import GitError, InputError

if TYPE_CHECKING:
    from promoter.adapters.notify import Notifier

DEFAULT_IDENTITY = Identity("promoter", "promoter@users.noreply.invalid")


@dataclass
class Workspace:
    """A blob-less clone of the environment repository and what we know of it."""

    repo: GitRepo
    root: Path
    config: Config
    default_branch: str
    identity: Identity
    environ: Mapping[str, str]
    notifier: Notifier | None = None
    """Tells promoter.yaml's `notifications:` targets what the work did."""

    def branch_of(self, env: Environment) -> str:
        return self.config.branch_for(env) or self.default_branch


@contextmanager
def workspace(
    repo_url: str,
    environ: Mapping[str, str],
    identity: Identity = DEFAULT_IDENTITY,
    rehearsal: Rehearsal | None = None,
    notifier: Notifier | None = None,
) -> Iterator[Workspace]:
    """A blob-less clone with full commit history (history feeds provenance
    and rollback) and only promoter.yaml checked out. With a `rehearsal`
    (--dry-run) its pushes are only rehearsed (and nothing is notified)."""
    signing = signing_config(environ)  # a key that cannot sign: exit 2 before any clone
    env_vars = auth_environment(repo_url, dict(environ))
    with scratch_dir("promoter-clone-") as tmp:
        root = Path(tmp) / "repo"
        repo = GitRepo.clone(
            repo_url,
            root,
            branch=None,
            sparse=[f"/{n}" for n in CONFIG_FILENAMES],
            env=env_vars,
            shallow=False,
        )
        repo.rehearsal, repo.signing = rehearsal, signing
        keep_fresh(repo, repo_url, environ)  # a GitHub App's token expires
        shown = masking.strip_credentials(repo_url)[0]
        config = load_config(root, shown_as=shown)
        told = None if rehearsal is not None else notifier
        yield Workspace(repo, root, config, repo.current_branch(), identity, environ, told)


def origin_url(repo_dir: Path) -> str:
    """The push URL behind a local clone (promote works on a fresh clone of it)."""
    status, out, _ = GitRepo(repo_dir).run("remote", "get-url", "origin", check=False)
    if status != 0 or not out.strip():
        raise InputError(
            f"{repo_dir} is not a git clone with an `origin` remote",
            hint="pass --repo-url URL of the environment repository",
        )
    return out.strip()


def unpublished_changes(repo_dir: Path) -> list[str]:
    """Warnings for a local clone whose state is not on the remote: promote
    (and plan, its dry run) read the remote, so these are not part of it."""
    repo = GitRepo(repo_dir)
    warnings = []
    status, out, _ = repo.run("status", "--porcelain", check=False)
    changed = [line for line in out.splitlines() if line.strip()]
    if status == 0 and changed:
        warnings.append(
            f"{repo_dir} has uncommitted changes ({len(changed)} path(s)); they are not "
            "part of this: promote reads the remote"
        )
    status, out, _ = repo.run("rev-list", "--count", "@{upstream}..HEAD", check=False)
    if status == 0 and out.strip().isdigit() and int(out) > 0:
        warnings.append(
            f"{repo_dir} has {int(out)} commit(s) not pushed to origin; they are not part "
            "of this: promote reads the remote"
        )
    return warnings


def env_ref(ws: Workspace, env: Environment) -> str:
    """origin's branch of `env`, freshly fetched, as a ref."""
    branch = ws.branch_of(env)
    if ws.repo.remote_branch(branch) is None:
        raise GitError(
            f"branch {branch!r} of environment {env.name!r} does not exist on the remote",
            hint="create it, or fix the environment's `branch:` in promoter.yaml",
        )
    return f"refs/remotes/origin/{branch}"


@dataclass(frozen=True)
class ReadRef:
    """Which commit of which branch an environment was read from."""

    env: str
    branch: str
    commit: str

    def text(self) -> str:
        return f"{self.env} from {self.branch} at {self.commit[:12]}"

    def to_json(self) -> dict[str, str]:
        return {"env": self.env, "branch": self.branch, "commit": self.commit}


def read_ref(ws: Workspace, env: Environment) -> ReadRef:
    """Fetch `env`'s branch and say which commit it is at."""
    ref = env_ref(ws, env)
    return ReadRef(env.name, ws.branch_of(env), ws.repo.out("rev-parse", ref))
