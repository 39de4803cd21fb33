"""The Forge protocol: what promotion needs from GitHub, GitLab or a plain
git server, in the tool's own terms. Adapters (github.py with PyGithub,
gitlab.py with python-gitlab, none.py) implement it; the core never imports
a forge library.

API economy is part of the contract: `open_pull_requests(base)` is ONE list
request that serves both "is there already a PR for this branch?" and "which
other promoter PRs compete for the same environment?"; an unchanged sticky
comment costs one list request; team members are fetched once per forge.

The vocabulary is ours, not a forge's: commit status states are
STATUS_STATES, reactions REACTIONS, permissions PERMISSIONS and review states
REVIEW_STATES; adapters translate (GitLab's "failed" is our "failure", its
Maintainer role our "maintain", its "thumbsup" our "+1").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

APPLY_STATUS_CONTEXT = "promoter/apply"
"""The commit status the bundled agent sets on the commit it applied."""
POLICY_STATUS_CONTEXT = "promoter/policy"
"""The commit status `promoter check` sets on a PR's head."""
STATUS_STATES = ("pending", "success", "failure", "error")
"""Commit status states (GitHub's names)."""
STATUS_DESCRIPTION_LIMIT = 140
"""GitHub refuses longer status descriptions (422); adapters shorten them."""
REACTIONS = ("+1", "eyes", "rocket", "confused")
"""Reactions the bot acknowledges commands with (GitHub's names)."""
PERMISSIONS = ("admin", "maintain", "write", "triage", "read", "none")
"""What a user may do in the repository, strongest first (GitHub's roles)."""
REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED")


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
    merged_at: datetime | None = None
    """When it was merged (timezone-aware), if it was."""
    head_committed_at: datetime | None = None
    """When the head commit was made. Neither forge's PR JSON carries it, and
    fetching the commit would cost a request per PR, so adapters leave it None;
    a caller that needs it reads it from git and fills it in with
    dataclasses.replace."""


@dataclass(frozen=True)
class CommentResult:
    """What `upsert_comment` did."""

    id: int
    """The comment's (GitHub) or note's (GitLab) id; 0 when there is no forge."""
    created: bool
    updated: bool
    """False when the comment existed with the same body: nothing was sent."""


@dataclass(frozen=True)
class Approval:
    """One review of a pull request (GitHub) or one approval (GitLab)."""

    user: str
    state: str
    """One of REVIEW_STATES. GitLab only knows approvals: always "APPROVED"."""
    commit_sha: str | None = None
    """The head commit the review was given on (GitHub); None on GitLab, which
    does not say (it can reset approvals on push instead, a project setting)."""
    submitted_at: datetime | None = None
    """Timezone-aware; None when the forge does not say (older GitLab)."""


def permits(have: str, need: str) -> bool:
    """Whether permission `have` is at least `need` (both from PERMISSIONS;
    anything else counts as "none")."""
    rank = {name: len(PERMISSIONS) - i for i, name in enumerate(PERMISSIONS)}
    return rank.get(have, rank["none"]) >= rank.get(need, len(PERMISSIONS) + 1)


def short_description(text: str, limit: int = STATUS_DESCRIPTION_LIMIT) -> str:
    """`text` on one line, cut to `limit` characters with "…" when longer."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


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
    401/403/404) after retrying rate limits and 5xx; ValueError means the
    caller passed something no forge accepts (an unknown state, a comment
    over `max_comment_length`)."""

    name: str
    max_comment_length: int
    """Longest comment body the forge accepts, in characters."""

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

    def get_pull_request(self, number: int) -> PullRequest:
        """One PR/MR by number (GitHub) / iid (GitLab), in any state: one request."""
        ...

    def set_status(
        self,
        sha: str,
        context: str,
        state: str,
        description: str,
        target_url: str | None = None,
    ) -> None:
        """Set commit status `context` on `sha` (state from STATUS_STATES; the
        description is shortened to STATUS_DESCRIPTION_LIMIT): one request.
        Setting the state a status already has is not an error."""
        ...

    def commit_statuses(self, sha: str) -> dict[str, str]:
        """The latest state (from STATUS_STATES) of every status context on
        `sha`: one request per 100 contexts."""
        ...

    def upsert_comment(self, pr: PullRequest, marker: str, body: str) -> CommentResult:
        """The sticky comment: edit the comment whose body contains `marker`
        (which `body` must contain too) if its body differs, else create one; never
        a second one. Lists the comments (one request per 100), then at most one
        write. Prefers a marked comment written by this forge's own user when
        that is known (learnt from a comment it wrote earlier), else the oldest
        marked one. ValueError if `body` lacks `marker` or exceeds
        `max_comment_length` (the caller truncates)."""
        ...

    def sticky_comment(self, pr: PullRequest, marker: str) -> str | None:
        """The body of the comment `upsert_comment` would edit (None: there is
        none): the same listing, no write."""
        ...

    def approvals(self, pr: PullRequest) -> list[Approval]:
        """Submitted reviews (GitHub) / current approvals (GitLab), oldest first:
        one request per 100."""
        ...

    def team_members(self, team: str) -> set[str]:
        """User names in a GitHub team ("org/slug", or a bare slug in the
        repository owner's organisation) or GitLab group (its full path),
        inherited members included. Cached for the forge's lifetime. A team that
        does not exist (or that the token cannot see) is a ForgeError."""
        ...

    def permission(self, user: str) -> str:
        """What `user` may do in the repository, from PERMISSIONS; "none" for an
        unknown user or a non-member."""
        ...

    def add_reaction(self, pr: PullRequest, comment_id: int, kind: str) -> None:
        """React with `kind` (from REACTIONS) to comment `comment_id` on `pr`,
        e.g. to acknowledge a bot command; reacting twice is not an error."""
        ...
