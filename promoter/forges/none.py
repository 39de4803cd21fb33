"""No forge: a plain git server (file://, a bare repository over SSH, …).

There is no API to open pull requests with, so promotion pushes its branch
and tells the user what to merge:

- `open_pull_requests` returns [] (nothing to update, nothing to supersede);
- `create_pull_request` returns a ForgeResult whose PullRequest has number 0
  and url "", `created=False`, and one action: merge HEAD into BASE by hand;
- `update_pull_request`, `close_pull_request` and `comment` do nothing (they
  are only ever called with pull requests a forge returned, and we return none).

It sends no request and needs no token.
"""

from __future__ import annotations

from promoter.forges.base import ForgeResult, PullRequest, PullRequestSpec


class NoForge:
    name = "none"
    request_count = 0

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
        action = (
            f"no forge API for this remote: merge branch {spec.head} into {spec.base} yourself "
            f"(git checkout {spec.base} && git merge --no-ff origin/{spec.head} && git push)"
        )
        return ForgeResult(pr, created=False, updated=False, actions=[action])

    def update_pull_request(self, pr: PullRequest, spec: PullRequestSpec) -> ForgeResult:
        return ForgeResult(pr, created=False, updated=False)

    def close_pull_request(self, pr: PullRequest, comment: str) -> None:
        return None

    def comment(self, pr: PullRequest, body: str) -> None:
        return None
