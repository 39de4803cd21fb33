"""The Forge protocol: what promotion needs from GitHub, GitLab or a plain
git server, in the tool's own terms. Adapters (github.py with PyGithub,
gitlab.py with python-gitlab, none.py) implement it; the core never imports
a forge library.

API economy is part of the contract: `open_pull_requests(base)` is ONE list
request that serves both "is there already a PR for this branch?" and "which
other promoter PRs compete for the same environment?".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class PullRequest:
    """A pull request (GitHub) or merge request (GitLab), as we see it."""

    number: int
    """GitHub number / GitLab iid."""
    url: str
    head: str
    """Source branch name (no refs/heads/)."""
    base: str
    """Target branch name."""
    title: str
    body: str
    state: str
    """"open", "closed" or "merged"."""
    draft: bool = False
    labels: tuple[str, ...] = ()
    author: str | None = None
    head_sha: str | None = None


@dataclass(frozen=True)
class PullRequestSpec:
    """What a promotion PR should look like; create or bring an existing one
    up to date with it."""

    head: str
    base: str
    title: str
    body: str
    draft: bool = False
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    """User names."""
    team_reviewers: tuple[str, ...] = ()
    """GitHub team slugs (GitLab: ignored; use group members as reviewers)."""
    assignees: tuple[str, ...] = ()
    auto_merge: bool = False
    """GitHub auto-merge (squash) / GitLab merge when the pipeline succeeds."""


@dataclass
class ForgeResult:
    """What an upsert did, for the report (and the request-count benchmark)."""

    pull_request: PullRequest
    created: bool
    updated: bool
    actions: list[str] = field(default_factory=list)
    """What was done, one line each ("opened pull request #12: URL", "labelled …")."""
    warnings: list[str] = field(default_factory=list)
    """What could not be done but does not fail the promotion (auto-merge not
    allowed, a reviewer who cannot be requested, …): show them to the user."""


class Forge(Protocol):
    """A code-review host. Every method raises promoter.errors.ForgeError
    (with a message about the token's scope or the repository name for
    401/403/404) after retrying rate limits and 5xx."""

    name: str

    def open_pull_requests(self, base: str) -> list[PullRequest]:
        """Open PRs/MRs targeting `base` (one list request, paginated only past 100)."""
        ...

    def create_pull_request(self, spec: PullRequestSpec) -> ForgeResult:
        """Open a PR/MR with labels, reviewers, assignees and auto-merge as the spec says."""
        ...

    def update_pull_request(self, pr: PullRequest, spec: PullRequestSpec) -> ForgeResult:
        """Bring `pr` up to date with `spec`: title/body only if they differ, missing
        labels only; sends nothing when nothing differs."""
        ...

    def close_pull_request(self, pr: PullRequest, comment: str) -> None:
        """Comment why, then close (used for superseded promotions)."""
        ...

    def comment(self, pr: PullRequest, body: str) -> None: ...
