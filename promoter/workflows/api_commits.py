"""`forge: {commitMethod: api}`: the commits promoter made in its clone are
made again through GitHub's Git Data API (adapters/forges/github_commits.py)
instead of pushed, one API commit per local commit, same files, same
message, so GitHub signs them for the App. The local commits stay the
source of truth for what changed: the edit code is the same for both
methods."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from promoter.adapters.git import GitRepo
from promoter.core.config.model import Config
from promoter.core.forge import Forge
from promoter.errors import InputError


class CommitsByApi(Protocol):
    def create_commit(
        self, parent: str, base_tree: str, files: dict[str, str | None], message: str
    ) -> str: ...
    def move_branch(
        self, branch: str, sha: str, *, expected: str | None, force: bool = False
    ) -> str | None: ...


def api_committer(config: Config, make: Callable[[], Forge] | None) -> CommitsByApi | None:
    """The forge to commit through when promoter.yaml says `commitMethod: api`
    (`make` builds it only then)."""
    if config.forge is None or config.forge.commit_method != "api":
        return None
    forge = make() if make is not None else None
    if forge is None or not hasattr(forge, "create_commit"):
        name = "no forge" if forge is None else f"the {forge.name} forge"
        raise InputError(
            f"forge: commitMethod: api needs GitHub's API, and this run has {name}",
            hint="use forge: {type: github, commitMethod: api} with a GitHub App or token, "
            "or commitMethod: git",
        )
    return forge  # type: ignore[return-value]  # GitHubForge has both methods


def publish(
    repo: GitRepo, api: CommitsByApi, branch: str, base: str, *, expected: str | None, force: bool
) -> tuple[str | None, str]:
    """Make the commits `base..HEAD` through the API and move `branch` to the
    last one: (why the branch could not move — it moved under us — or None,
    the last commit's sha)."""
    parent = base
    for commit in repo.out("rev-list", "--reverse", f"{base}..HEAD").split():
        files: dict[str, str | None] = {}
        changes = repo.out("diff-tree", "--no-commit-id", "--name-status", "-r", "--no-renames",
                           commit)  # fmt: skip
        for line in changes.splitlines():
            status, _, path = line.partition("\t")
            files[path] = None if status == "D" else _text(repo, commit, path)
        message = repo.out("log", "-1", "--format=%B", commit)
        # The API's tree is this parent's tree plus the same changes: the
        # local parent's tree, since the local base is the remote's tip.
        tree = repo.out("rev-parse", f"{commit}^^{{tree}}")
        parent = api.create_commit(parent, tree, files, message)
    return api.move_branch(branch, parent, expected=expected, force=force), parent


def _text(repo: GitRepo, commit: str, path: str) -> str:
    spec = f"{commit}:{path}"
    data = repo.run_bytes("cat-file", "blob", spec)
    if len(data) + 1 == int(repo.out("cat-file", "-s", spec)):
        data += b"\n"  # the runner strips one trailing newline, as GitPython does
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(
            f"{path} is not UTF-8 text; commitMethod: api sends files as text",
            hint="use commitMethod: git for this repository",
        ) from None
