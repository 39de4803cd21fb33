"""GitHub (github.com and Enterprise Server) through PyGithub.

Request economy (see promoter/core/forge.py): the repository object is lazy (no GET), and
pull requests we act on are PyGithub objects built from what we already know
(number, URLs) instead of fetched. Opening a promotion PR costs: 1 list +
1 create + 1 labels + 1 reviewers + 1 assignees + 1 GraphQL auto-merge; an
unchanged re-run costs only the list.

On update we send title/body only if they differ and add only missing labels.
Reviewers, assignees, draft state and auto-merge are set when the PR is opened
and left alone afterwards: re-requesting a review re-pings people who already
reviewed, and a human may have changed them on purpose.

For `promoter check` and the bot, requests per call: get_pull_request 1,
set_status 1, commit_statuses 1 (per 100 contexts), upsert_comment 1 list per
100 comments + at most 1 write (an unchanged comment: the list only),
approvals 1 per 100 reviews, team_members 1 per 100 members and team (then
cached), permission 1, add_reaction 1. Where PyGithub would fetch an object
first (a commit before posting its status) or drops a field we need (the
role name of a permission), we call its requester directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from github import GithubException
from github.PullRequest import PullRequest as GhPullRequest
from github.Team import Team

from promoter.adapters.forges.common import (
    Marked,
    check_reaction,
    check_state,
    check_sticky,
    parse_time,
    pick_sticky,
    same_text,
    unique,
)
from promoter.adapters.forges.failures import network_error
from promoter.adapters.forges.github_client import (
    READ_ORG_SCOPES,
    WORDING,
    error_detail,
    graphql_errors,
    normalise_body,
)
from promoter.adapters.forges.github_commits import GitDataCommits
from promoter.core import masking
from promoter.core.forge import (
    PERMISSIONS,
    STATUS_STATES,
    Approval,
    CommentResult,
    ForgeResult,
    PullRequest,
    PullRequestSpec,
    short_description,
)
from promoter.errors import ForgeError

T = TypeVar("T")


class GitHubForge(GitDataCommits):
    """The Forge protocol on a GitHub repository."""

    # -- Forge --------------------------------------------------------------

    def open_pull_requests(self, base: str) -> list[PullRequest]:
        def fetch() -> list[PullRequest]:
            return [self._convert(raw) for raw in self._repo.get_pulls(state="open", base=base)]

        return self._call(f"list pull requests into {base}", fetch)

    def create_pull_request(self, spec: PullRequestSpec) -> ForgeResult:
        doing = f"open a pull request from {spec.head} into {spec.base}"
        try:
            raw = self._repo.create_pull(
                base=spec.base, head=spec.head, title=spec.title, body=spec.body, draft=spec.draft
            )
        except GithubException as err:
            if err.status == 422 and "already exists" in error_detail(err):
                return self._adopt_existing(spec)
            raise self._error(err, doing) from err
        except requests.RequestException as err:
            raise network_error(WORDING, err, doing=doing) from err
        pr = self._convert(raw)
        result = ForgeResult(pr, created=True, updated=False)
        result.actions.append(f"opened pull request #{pr.number}: {pr.url}")
        handle = self._handle(pr.number, raw.node_id)
        labels = unique(spec.labels)
        if labels:
            self._call(f"label #{pr.number}", lambda: handle.add_to_labels(*labels))
            pr = replace(pr, labels=tuple(labels))
            result.actions.append(f"labelled #{pr.number}: {', '.join(labels)}")
        self._request_reviews(handle, spec, result)
        self._assign(handle, spec, result)
        if spec.auto_merge:
            self._enable_auto_merge(handle, result)
        result.pull_request = pr
        return result

    def update_pull_request(self, pr: PullRequest, spec: PullRequestSpec) -> ForgeResult:
        result = ForgeResult(pr, created=False, updated=False)
        handle = self._handle(pr.number)
        changes: dict[str, Any] = {}
        if pr.title != spec.title:
            changes["title"] = spec.title
        if normalise_body(pr.body) != normalise_body(spec.body):
            changes["body"] = spec.body
        if changes:
            self._call(f"update #{pr.number}", lambda: handle.edit(**changes))
            pr = replace(pr, title=spec.title, body=spec.body)
            result.actions.append(f"updated {' and '.join(changes)} of #{pr.number}")
        have = {label.casefold() for label in pr.labels}
        missing = [label for label in unique(spec.labels) if label.casefold() not in have]
        if missing:
            self._call(f"label #{pr.number}", lambda: handle.add_to_labels(*missing))
            pr = replace(pr, labels=(*pr.labels, *missing))
            result.actions.append(f"labelled #{pr.number}: {', '.join(missing)}")
        result.updated = bool(changes or missing)
        result.pull_request = pr
        return result

    def close_pull_request(self, pr: PullRequest, comment: str) -> None:
        handle = self._handle(pr.number)
        self._call(f"comment on #{pr.number}", lambda: handle.create_issue_comment(comment))
        self._call(f"close #{pr.number}", lambda: handle.edit(state="closed"))

    def comment(self, pr: PullRequest, body: str) -> None:
        handle = self._handle(pr.number)
        self._call(f"comment on #{pr.number}", lambda: handle.create_issue_comment(body))

    def get_pull_request(self, number: int) -> PullRequest:
        # get_pull is lazy; converting reads its fields: one GET.
        return self._call(
            f"read pull request #{number}",
            lambda: self._convert(self._repo.get_pull(number)),
            subject=f"pull request #{number} in {self.repository}",
        )

    def set_status(
        self,
        sha: str,
        context: str,
        state: str,
        description: str,
        target_url: str | None = None,
    ) -> None:
        data: dict[str, Any] = {
            "state": check_state(state),
            "context": context,
            "description": short_description(description),
        }
        if target_url:
            data["target_url"] = target_url
        # Re-posting a state GitHub already has simply adds an entry: no error.
        self._call(
            f"set status {context} on {sha[:12]}",
            lambda: self._api("POST", f"/statuses/{sha}", data=data),
            needs="`repo:status` (classic token) or `statuses: write` (fine-grained / App)",
        )

    def commit_statuses(self, sha: str) -> dict[str, str]:
        def fetch() -> dict[str, str]:
            found: dict[str, str] = {}
            page = 1
            while True:
                # The combined status already holds the latest state per
                # context; it pages its `statuses` (30 unless asked for more).
                parameters: dict[str, Any] = {"per_page": 100}
                if page > 1:
                    parameters["page"] = page
                answer = self._api("GET", f"/commits/{sha}/status", parameters=parameters)
                statuses = answer.get("statuses") or []
                for item in statuses:
                    state = str(item.get("state"))
                    found.setdefault(
                        str(item["context"]), state if state in STATUS_STATES else "error"
                    )
                if not statuses or len(found) >= int(answer.get("total_count") or 0):
                    return found
                page += 1

        return self._call(f"read the statuses of {sha[:12]}", fetch)

    def _sticky(self, pr: PullRequest, marker: str) -> Marked | None:
        handle = self._handle(pr.number)

        def marked() -> Iterator[Marked]:
            # Issue comments come oldest first; pages are fetched as we go.
            for raw in handle.get_issue_comments():
                if marker in (raw.body or ""):
                    author = raw.user.login if raw.user is not None else None
                    yield Marked(raw.id, author, raw.body or "")

        return self._call(
            f"list the comments on #{pr.number}", lambda: pick_sticky(marked(), self._me)
        )

    def sticky_comment(self, pr: PullRequest, marker: str) -> str | None:
        found = self._sticky(pr, marker)
        return None if found is None else found.body

    def upsert_comment(self, pr: PullRequest, marker: str, body: str) -> CommentResult:
        check_sticky(marker, body, self.max_comment_length, "GitHub")
        handle = self._handle(pr.number)
        found = self._sticky(pr, marker)
        if found is None:
            made = self._call(f"comment on #{pr.number}", lambda: handle.create_issue_comment(body))
            self._learn(made)
            return CommentResult(made.id, created=True, updated=False)
        if same_text(found.body, body):
            return CommentResult(found.id, created=False, updated=False)
        comment = self._comment(found.id)
        self._call(f"edit comment {found.id} on #{pr.number}", lambda: comment.edit(body))
        self._learn(comment)
        return CommentResult(found.id, created=False, updated=True)

    def approvals(self, pr: PullRequest) -> list[Approval]:
        handle = self._handle(pr.number)

        def fetch() -> list[Approval]:
            out = []
            for review in handle.get_reviews():
                if review.state == "PENDING":  # a draft review, not given yet
                    continue
                out.append(
                    Approval(
                        # A deleted account shows as null; GitHub calls it "ghost".
                        user=review.user.login if review.user is not None else "ghost",
                        state=review.state,
                        commit_sha=review.commit_id,
                        submitted_at=parse_time(review.submitted_at),
                    )
                )
            return out

        return self._call(f"list the reviews of #{pr.number}", fetch)

    def team_members(self, team: str) -> set[str]:
        org, slug = self._team_name(team)
        key = f"{org}/{slug}".casefold()
        if key not in self._teams:
            url = f"{self.api_url}/orgs/{org}/teams/{slug}"
            handle = Team(self._github.requester, attributes={"url": url}, completed=True)
            self._teams[key] = self._call(
                f"list the members of team {org}/{slug}",
                lambda: {user.login for user in handle.get_members()},
                subject=f"team {org}/{slug}",
                needs=READ_ORG_SCOPES,
            )
        return set(self._teams[key])

    def permission(self, user: str) -> str:
        login = quote(user.lstrip("@"), safe="")
        try:
            answer = self._call(
                f"read the permission of {user}",
                lambda: self._api("GET", f"/collaborators/{login}/permission"),
            )
        except ForgeError as err:
            if isinstance(err.__cause__, GithubException) and err.__cause__.status == 404:
                return "none"  # no such user
            raise
        # `permission` folds maintain into write and triage into read;
        # `role_name` keeps them (custom roles fall back to their base).
        role = str(answer.get("role_name") or "")
        if role in PERMISSIONS:
            return role
        base = str(answer.get("permission") or "none")
        return base if base in PERMISSIONS else "none"

    def add_reaction(self, pr: PullRequest, comment_id: int, kind: str) -> None:
        content = check_reaction(kind)  # GitHub's names are ours
        comment = self._comment(comment_id)
        # 201 when new, 200 when we had reacted so already: both fine.
        self._call(
            f"react to comment {comment_id} on #{pr.number}",
            lambda: comment.create_reaction(content),
            subject=f"comment {comment_id} in {self.repository}",
        )

    # -- decorations after create: failures there warn, the PR exists -------

    def _request_reviews(
        self, handle: GhPullRequest, spec: PullRequestSpec, result: ForgeResult
    ) -> None:
        users = unique(name.lstrip("@") for name in spec.reviewers)
        # GitHub wants a team's slug alone; people write "org/team" or "@org/team".
        teams = unique(team.lstrip("@").rsplit("/", 1)[-1] for team in spec.team_reviewers)
        if not users and not teams:
            return
        kwargs: dict[str, Any] = {}
        if users:
            kwargs["reviewers"] = users
        if teams:
            kwargs["team_reviewers"] = teams
        who = ", ".join([*users, *(f"team {t}" for t in teams)])
        problem = self._tolerating_422(
            f"request reviews on #{handle.number}", lambda: handle.create_review_request(**kwargs)
        )
        if problem is not None:
            result.warnings.append(f"could not request review from {who}: {problem}")
        else:
            result.actions.append(f"requested review from {who}")

    def _assign(self, handle: GhPullRequest, spec: PullRequestSpec, result: ForgeResult) -> None:
        users = unique(name.lstrip("@") for name in spec.assignees)
        if not users:
            return
        problem = self._tolerating_422(
            f"assign #{handle.number}", lambda: handle.add_to_assignees(*users)
        )
        if problem is not None:
            result.warnings.append(f"could not assign {', '.join(users)}: {problem}")
            return
        # GitHub silently drops people who may not be assigned (non-collaborators).
        assigned = {a.login.casefold() for a in (handle.assignees or [])}
        dropped = [u for u in users if u.casefold() not in assigned]
        kept = [u for u in users if u.casefold() in assigned]
        if kept:
            result.actions.append(f"assigned {', '.join(kept)}")
        if dropped:
            result.warnings.append(
                f"GitHub did not assign {', '.join(dropped)} (not a collaborator of "
                f"{self.repository}?)"
            )

    def _enable_auto_merge(self, handle: GhPullRequest, result: ForgeResult) -> None:
        number = handle.number
        try:
            handle.enable_automerge(merge_method="SQUASH")
        except GithubException as err:
            problem = graphql_errors(err)
            if problem is None:
                raise self._error(err, f"enable auto-merge on #{number}") from err
            lowered = problem.lower()
            if "not allowed" in lowered:
                why = (
                    f"{self.repository} does not allow auto-merge (Settings → General → "
                    "Allow auto-merge)"
                )
            elif "clean status" in lowered:
                why = "nothing is left to wait for (no pending required checks)"
            else:
                why = masking.mask(problem)
            result.warnings.append(f"auto-merge not enabled on #{number}: {why}; merge it by hand")
            return
        except requests.RequestException as err:
            raise network_error(WORDING, err, doing=f"enable auto-merge on #{number}") from err
        result.actions.append(f"enabled auto-merge (squash) on #{number}")

    def _adopt_existing(self, spec: PullRequestSpec) -> ForgeResult:
        """Someone opened the same PR between our list and our create (two
        pipelines racing): update theirs instead of failing."""
        for pr in self.open_pull_requests(spec.base):
            if pr.head == spec.head:
                result = self.update_pull_request(pr, spec)
                result.actions.insert(0, f"pull request #{pr.number} already existed")
                return result
        raise ForgeError(
            f"GitHub says a pull request from {spec.head} already exists, but none into "
            f"{spec.base} is open",
            hint=f"close or retarget the other pull request from {spec.head}",
        )
