"""A forge for `--dry-run`: reads go to the real forge (open pull requests,
statuses, approvals, permissions), so the rehearsal makes the same
decisions the real run would; writes are noted in a Rehearsal instead of
sent. Arguments are still checked as the real forges check them."""

from __future__ import annotations

from promoter.adapters.forges.common import check_reaction, check_state, check_sticky
from promoter.core.forge import (
    Approval,
    CommentResult,
    Forge,
    ForgeResult,
    PullRequest,
    PullRequestSpec,
)
from promoter.core.rehearsal import Rehearsal


class RehearsalForge:
    def __init__(self, inner: Forge, rehearsal: Rehearsal) -> None:
        self.inner = inner
        self.rehearsal = rehearsal
        self.name = inner.name
        self.max_comment_length = inner.max_comment_length

    # --- reads: the real forge -----------------------------------------------------

    def open_pull_requests(self, base: str) -> list[PullRequest]:
        return self.inner.open_pull_requests(base)

    def get_pull_request(self, number: int) -> PullRequest:
        return self.inner.get_pull_request(number)

    def commit_statuses(self, sha: str) -> dict[str, str]:
        return self.inner.commit_statuses(sha)

    def approvals(self, pr: PullRequest) -> list[Approval]:
        return self.inner.approvals(pr)

    def sticky_comment(self, pr: PullRequest, marker: str) -> str | None:
        return self.inner.sticky_comment(pr, marker)

    def team_members(self, team: str) -> set[str]:
        return self.inner.team_members(team)

    def permission(self, user: str) -> str:
        return self.inner.permission(user)

    # --- writes: noted ---------------------------------------------------------------

    def create_pull_request(self, spec: PullRequestSpec) -> ForgeResult:
        if self.inner.name == "none":
            # A plain git remote opens nothing: its answer is the merge hint.
            result = self.inner.create_pull_request(spec)
            for action in result.actions:
                self.rehearsal.note("merge_by_hand", f"leave {spec.head}: {action}")
            return result
        self.rehearsal.note(
            "open_pull_request",
            f"open a {self.name} pull request {spec.head} → {spec.base}: {spec.title}",
            head=spec.head,
            base=spec.base,
            title=spec.title,
            labels=list(spec.labels),
            draft=spec.draft,
        )
        pr = PullRequest(0, "", spec.head, spec.base, spec.title, spec.body, "open", spec.draft)
        return ForgeResult(pr, created=True, updated=False)

    def update_pull_request(self, pr: PullRequest, spec: PullRequestSpec) -> ForgeResult:
        differs = (pr.title, pr.body) != (spec.title, spec.body) or not set(spec.labels) <= set(
            pr.labels
        )
        if differs:
            self.rehearsal.note(
                "update_pull_request",
                f"update #{pr.number} ({pr.url}): {spec.title}",
                number=pr.number,
                title=spec.title,
            )
        return ForgeResult(pr, created=False, updated=differs)

    def close_pull_request(self, pr: PullRequest, comment: str) -> None:
        self.rehearsal.note(
            "close_pull_request", f"close #{pr.number}: {comment}", number=pr.number
        )

    def comment(self, pr: PullRequest, body: str) -> None:
        self.rehearsal.note("comment", f"comment on #{pr.number}:", number=pr.number, body=body)

    def set_status(
        self,
        sha: str,
        context: str,
        state: str,
        description: str,
        target_url: str | None = None,
    ) -> None:
        check_state(state)
        self.rehearsal.note(
            "set_status",
            f"set status {context}={state} on {sha[:12]}: {description}",
            sha=sha,
            context=context,
            state=state,
            description=description,
        )

    def upsert_comment(self, pr: PullRequest, marker: str, body: str) -> CommentResult:
        check_sticky(marker, body, self.max_comment_length, self.name)
        self.rehearsal.note(
            "upsert_comment",
            f"write the sticky comment on #{pr.number} ({len(body)} characters):",
            number=pr.number,
            body=body,
        )
        return CommentResult(0, created=False, updated=False)

    def add_reaction(self, pr: PullRequest, comment_id: int, kind: str) -> None:
        check_reaction(kind)
        self.rehearsal.note(
            "add_reaction",
            f"react {kind} to comment {comment_id} on #{pr.number}",
            number=pr.number,
            comment_id=comment_id,
            kind=kind,
        )
