"""The GitHub client under `GitHubForge`: PyGithub routed through our
ForgeSession (auth, retries, user agent), error conversion in our wording,
and PyGithub objects built from what we already know instead of fetched.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from github import Github, GithubException
from github.IssueComment import IssueComment
from github.PullRequest import PullRequest as GhPullRequest
from github.Requester import HTTPSRequestsConnectionClass

from promoter import USER_AGENT
from promoter.adapters.forges.api_forge import ApiForge
from promoter.adapters.forges.common import (
    parse_time,
)
from promoter.adapters.forges.failures import Wording, status_error
from promoter.adapters.forges.session import RetryPolicy, build_session
from promoter.core import masking
from promoter.core.forge import (
    PullRequest,
)
from promoter.errors import ForgeError

T = TypeVar("T")

# GitHub: "Body is too long (maximum is 65536 characters)".
MAX_COMMENT_LENGTH = 65_536
READ_ORG_SCOPES = "`read:org` (classic token) or `members: read` (fine-grained token / GitHub App)"

WORDING = Wording(
    forge="GitHub",
    repo_word="repository",
    token_variables="PROMOTER_FORGE_TOKEN or GITHUB_TOKEN",
    scopes=(
        "the `repo` scope (classic token), or `pull_requests: write` and `issues: write` "
        "(fine-grained token / GitHub App)"
    ),
)


class _Connection(HTTPSRequestsConnectionClass):
    """PyGithub's connection, but over our ForgeSession (auth, retries, UA)."""

    def __init__(
        self,
        session: requests.Session,
        scheme: str,
        host: str,
        port: int | None = None,
        strict: bool = False,
        timeout: int | None = None,
        retry: object = None,
        pool_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        # Deliberately not calling super().__init__: it builds a session of its own.
        self.session = session
        self.protocol = scheme
        self.host = host
        self.port = port if port else (443 if scheme == "https" else 80)
        self.timeout = timeout
        self.verify = kwargs.get("verify", True)
        self.retry = 0
        self.pool_size = pool_size or requests.adapters.DEFAULT_POOLSIZE

    def close(self) -> None:
        """The forge owns the session; PyGithub must not close it under us."""


def _route_through(github: Github, session: requests.Session, scheme: str) -> None:
    """Make `github`'s requester use `session`. PyGithub has no public hook for
    this (its connection classes make their own sessions), so we replace the
    per-requester connection class; a test fails if this stops taking effect."""
    requester = github.requester
    attribute = "_Requester__connectionClass"
    if not hasattr(requester, attribute):  # pragma: no cover - PyGithub internals changed
        raise RuntimeError("unsupported PyGithub version: cannot install promoter's session")
    setattr(requester, attribute, functools.partial(_Connection, session, scheme))


def error_detail(err: GithubException) -> str:
    data = err.data if isinstance(err.data, dict) else {}
    parts = [str(data.get("message") or err.message or "")]
    for item in data.get("errors") or []:
        if isinstance(item, dict) and item.get("message"):
            parts.append(str(item["message"]))
        elif isinstance(item, str):
            parts.append(item)
    return "; ".join(p for p in parts if p)


def graphql_errors(err: GithubException) -> str | None:
    """The messages of a GraphQL error answer (PyGithub raises those as 400)."""
    data = err.data if isinstance(err.data, dict) else {}
    errors = data.get("errors")
    if err.status == 400 and isinstance(errors, list) and errors:
        return "; ".join(
            str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
        )
    return None


def normalise_body(text: str | None) -> str:
    # GitHub stores bodies edited in the web UI with CRLF line ends.
    return (text or "").replace("\r\n", "\n")


class GitHubClient(ApiForge):
    """A GitHub repository's API. `api_url`: https://api.github.com, or
    https://HOST/api/v3 for GitHub Enterprise Server."""

    name = "github"
    wording = WORDING
    library_error = GithubException
    max_comment_length = MAX_COMMENT_LENGTH

    def __init__(
        self,
        repository: str,
        token: str | Callable[[], str],
        *,
        api_url: str = "https://api.github.com",
        policy: RetryPolicy | None = None,
    ) -> None:
        """`token`: a fixed token, or a function returning the current one (a
        GitHub App's installation token, refreshed before it expires)."""
        self.repository = repository
        self.api_url = api_url.rstrip("/")

        def headers() -> dict[str, str]:
            return {"Authorization": f"Bearer {token() if callable(token) else token}"}

        self._session = build_session(
            forge="GitHub", api_url=self.api_url, auth_headers=headers, policy=policy
        )
        self._github = Github(
            base_url=self.api_url,
            user_agent=USER_AGENT,
            timeout=int(self._session.policy.timeout[1]),
            per_page=100,
            retry=None,  # ForgeSession retries
            # PyGithub would sleep 0.25 s before every request and 1 s before
            # every write; a promotion makes a handful, and 403s are retried.
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=True,
        )
        _route_through(self._github, self._session, self.api_url.split("://", 1)[0])
        self._repo = self._github.get_repo(repository)  # lazy: no request
        self._teams: dict[str, set[str]] = {}
        self._me: str | None = None
        """Our own login, once a comment we wrote told us (GET /user would cost
        a request, and fails for GitHub App installation tokens)."""

    def _api(
        self,
        method: str,
        path: str,
        *,
        parameters: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> Any:
        """One REST call below the repository's URL, through PyGithub's requester
        (so our session, and PyGithub's exceptions for _call to translate)."""
        _, answer = self._github.requester.requestJsonAndCheck(
            method, f"{self._repo.url}{path}", parameters=parameters, input=data
        )
        return answer

    def _tolerating_422(self, doing: str, action: Callable[[], object]) -> str | None:
        """Run `action`; a 422 (GitHub refused the data) comes back as its text."""
        try:
            self._call(doing, action)
        except ForgeError as err:
            cause = err.__cause__
            if isinstance(cause, GithubException) and cause.status == 422:
                return masking.mask(error_detail(cause))
            raise
        return None

    def _error(
        self,
        err: GithubException,
        doing: str,
        *,
        subject: str | None = None,
        needs: str | None = None,
    ) -> ForgeError:
        return status_error(
            WORDING,
            err.status,
            error_detail(err),
            doing=doing,
            repo=self.repository,
            attempts=self._session.policy.attempts,
            subject=subject,
            needs=needs,
        )

    def _handle(self, number: int, node_id: str | None = None) -> GhPullRequest:
        """A PyGithub PR object for `number` without fetching it."""
        url = f"{self._repo.url}/pulls/{number}"
        attributes: dict[str, Any] = {
            "url": url,
            "issue_url": f"{self._repo.url}/issues/{number}",
            "number": number,
        }
        if node_id:
            attributes["node_id"] = node_id
        return GhPullRequest(self._github.requester, attributes=attributes, completed=True)

    def _convert(self, raw: GhPullRequest) -> PullRequest:
        state = raw.state
        if raw.merged_at is not None:
            state = "merged"
        head = raw.head.ref
        head_repo = raw.head.repo
        if head_repo is None or head_repo.full_name.lower() != self.repository.lower():
            # A fork's PR: name its head "owner:branch" (GitHub's label) so it
            # never passes for one of our branches and gets updated or closed.
            head = raw.head.label
        return PullRequest(
            number=raw.number,
            url=raw.html_url,
            head=head,
            base=raw.base.ref,
            title=raw.title,
            body=raw.body or "",
            state=state,
            draft=bool(raw.draft),
            labels=tuple(label.name for label in raw.labels),
            author=raw.user.login if raw.user is not None else None,
            head_sha=raw.head.sha,
            merged_at=parse_time(raw.merged_at),
        )

    def _comment(self, comment_id: int) -> IssueComment:
        """A PyGithub comment object for `comment_id` without fetching it."""
        url = f"{self._repo.url}/issues/comments/{comment_id}"
        return IssueComment(
            self._github.requester, attributes={"url": url, "id": comment_id}, completed=True
        )

    def _learn(self, comment: IssueComment) -> None:
        if comment.user is not None:
            self._me = comment.user.login

    def _team_name(self, team: str) -> tuple[str, str]:
        name = team.strip().lstrip("@")
        org, _, slug = name.rpartition("/")
        org = org or self.repository.split("/")[0]
        if not slug or "/" in org:
            raise ValueError(f"not a GitHub team: {team!r} (use ORG/SLUG or SLUG)")
        return org, slug
