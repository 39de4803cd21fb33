"""No forge: a plain git server (file://, a bare repository over SSH, …).

There is no API to open pull requests with, so promotion pushes its branch
and tells the user what to merge:

- `open_pull_requests` returns [] (nothing to update, nothing to supersede);
- `create_pull_request` returns a ForgeResult whose PullRequest has number 0
  and url "", `created=False`, and one action: merge HEAD into BASE by hand;
- `update_pull_request`, `close_pull_request` and `comment` do nothing (they
  are only ever called with pull requests a forge returned, and we return none).

For checks and the bot there is nothing to talk to either:
- `get_pull_request` raises ForgeError (no pull request can exist);
- `set_status`, `add_reaction` do nothing; `upsert_comment` posts nothing and
  returns CommentResult(0, created=False, updated=False) (its arguments are
  still checked, so a caller's bug shows without a forge too);
- `commit_statuses`, `approvals`, `team_members` are empty: a rule needing
  an approval or a green upstream status cannot pass without a forge;
- `permission` is "none" for everybody: nobody can command a bot that has
  no forge to read commands from.

It sends no request and needs no token.
"""

from __future__ import annotations

from promoter.adapters.forges.common import check_reaction, check_state, check_sticky
from promoter.core.forge import (
    Approval,
    CommentResult,
    ForgeResult,
    PullRequest,
    PullRequestSpec,
)
from promoter.errors import InputError


class NoForge:
    name = "none"
    request_count = 0
    # GitHub's, the smaller forge limit, so text sized for "none" fits either
    # (a literal: importing github.py would import PyGithub).
    max_comment_length = 65_536

    def __init__(self, repo_url: str = "") -> None:
        self.repo_url = repo_url

    def open_pull_requests(self, base: str) -> list[PullRequest]:
        return []

    def create_pull_request(self, spec: PullRequestSpec) -> ForgeResult:
        pr = PullRequest(
            number=0,
            url="",
            head=spec.head,
            base=spec.base,
            title=spec.title,
            body=spec.body,
            state="open",
            draft=spec.draft,
            labels=tuple(spec.labels),
        )
        # Runnable as written in any clone, however old: fetch first, refuse
        # to move a base branch that has local commits, push only the base.
        action = (
            f"no forge API for this remote: merge branch {spec.head} into {spec.base} yourself "
            f"(git fetch origin {spec.base} {spec.head} && git checkout {spec.base} && "
            f"git merge --ff-only origin/{spec.base} && "
            f"git merge --no-ff origin/{spec.head} -m 'Merge {spec.head}' && "
            f"git push origin {spec.base})"
        )
        return ForgeResult(pr, created=False, updated=False, actions=[action])

    def update_pull_request(self, pr: PullRequest, spec: PullRequestSpec) -> ForgeResult:
        return ForgeResult(pr, created=False, updated=False)

    def close_pull_request(self, pr: PullRequest, comment: str) -> None:
        return None

    def comment(self, pr: PullRequest, body: str) -> None:
        return None

    def get_pull_request(self, number: int) -> PullRequest:
        # Asking a plain git remote for a pull request is a usage mistake.
        raise InputError(
            f"no forge API for this remote: there is no pull request #{number} to read",
            hint="set forge: github or gitlab (and forge.repository) in promoter.yaml",
        )

    def set_status(
        self,
        sha: str,
        context: str,
        state: str,
        description: str,
        target_url: str | None = None,
    ) -> None:
        check_state(state)

    def commit_statuses(self, sha: str) -> dict[str, str]:
        return {}

    def upsert_comment(self, pr: PullRequest, marker: str, body: str) -> CommentResult:
        check_sticky(marker, body, self.max_comment_length, "the plain remote")
        return CommentResult(0, created=False, updated=False)

    def sticky_comment(self, pr: PullRequest, marker: str) -> str | None:
        return None

    def approvals(self, pr: PullRequest) -> list[Approval]:
        return []

    def team_members(self, team: str) -> set[str]:
        return set()

    def permission(self, user: str) -> str:
        return "none"

    def add_reaction(self, pr: PullRequest, comment_id: int, kind: str) -> None:
        check_reaction(kind)
