"""The GitLab client under `GitLabForge`: python-gitlab over our ForgeSession
(auth, retries, user agent), error conversion in our wording, user-id
look-ups (cached), and merge requests in the tool's own terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import gitlab
from gitlab.exceptions import GitlabError

from promoter import USER_AGENT
from promoter.adapters.forges.api_forge import ApiForge
from promoter.adapters.forges.common import (
    parse_time,
    unique,
)
from promoter.adapters.forges.failures import Wording, status_error
from promoter.adapters.forges.session import RetryPolicy, build_session
from promoter.core import masking
from promoter.core.forge import (
    ForgeResult,
    PullRequest,
)
from promoter.errors import ForgeError

WORDING = Wording(
    forge="GitLab",
    repo_word="project",
    token_variables="PROMOTER_FORGE_TOKEN or GITLAB_TOKEN",
    scopes="the `api` scope and at least the Developer role",
)
_DRAFT = re.compile(r"^\s*(?:draft:|\[draft\]|\(draft\))\s*", re.IGNORECASE)
_STATES = {"opened": "open", "merged": "merged", "closed": "closed", "locked": "closed"}
# GitLab: "Note is too long (maximum is 1000000 characters)".
MAX_COMMENT_LENGTH = 1_000_000


def permission_of(access_level: int) -> str:
    if access_level >= 50:
        return "admin"
    if access_level >= 40:
        return "maintain"
    if access_level >= 30:
        return "write"
    if access_level >= 10:
        return "read"
    return "none"


def strip_draft(title: str) -> str:
    return _DRAFT.sub("", title, count=1)


def merge_request(data: dict[str, Any]) -> PullRequest:
    author = data.get("author") or {}
    labels = data.get("labels") or []
    head = str(data["source_branch"])
    if data.get("source_project_id") != data.get("target_project_id"):
        # A fork's MR: prefix the source project so it never passes for one
        # of our branches and gets updated or closed.
        head = f"{data.get('source_project_id')}:{head}"
    return PullRequest(
        number=int(data["iid"]),
        url=str(data.get("web_url") or ""),
        head=head,
        base=str(data["target_branch"]),
        title=str(data.get("title") or ""),
        body=str(data.get("description") or ""),
        state=_STATES.get(str(data.get("state")), str(data.get("state"))),
        # `work_in_progress` is the pre-14 name of `draft`.
        draft=bool(data.get("draft", data.get("work_in_progress", False))),
        labels=tuple(label if isinstance(label, str) else label["name"] for label in labels),
        author=author.get("username"),
        head_sha=data.get("sha"),
        merged_at=parse_time(data.get("merged_at")),
    )


class GitLabClient(ApiForge):
    """A GitLab project. `url`: the instance root (https://gitlab.com or a
    self-managed https://gitlab.example.com); python-gitlab adds /api/v4."""

    name = "gitlab"
    wording = WORDING
    library_error = GitlabError
    max_comment_length = MAX_COMMENT_LENGTH

    def __init__(
        self,
        project: str,
        token: str,
        *,
        url: str = "https://gitlab.com",
        policy: RetryPolicy | None = None,
    ) -> None:
        masking.register(token)
        self.repository = project
        self.url = url.rstrip("/")
        self._session = build_session(
            forge="GitLab", api_url=self.url, auth_headers={"PRIVATE-TOKEN": token}, policy=policy
        )
        self._gitlab = gitlab.Gitlab(
            url=self.url,
            session=self._session,
            user_agent=USER_AGENT,
            retry_transient_errors=False,  # ForgeSession retries
            # Follow pagination links on our configured host even when the
            # instance's external_url is set differently (proxies).
            keep_base_url=True,
        )
        self._project = self._gitlab.projects.get(project, lazy=True)  # no request
        self._user_ids: dict[str, int | None] = {}
        self._groups: dict[str, set[str]] = {}
        self._me: str | None = None
        """Our own username, once a note we wrote told us (GET /user would
        cost a request per run)."""

    def _error(
        self,
        err: GitlabError,
        doing: str,
        *,
        subject: str | None = None,
        needs: str | None = None,
    ) -> ForgeError:
        return status_error(
            WORDING,
            err.response_code,
            str(err.error_message or ""),
            doing=doing,
            repo=self.repository,
            attempts=self._session.policy.attempts,
            subject=subject,
            needs=needs,
        )

    def _user_id(self, username: str) -> int | None:
        name = username.lstrip("@")
        if name not in self._user_ids:
            users = self._call(
                f"look up user {name}",
                lambda: self._gitlab.users.list(username=name, get_all=False),
            )
            self._user_ids[name] = int(users[0].id) if users else None
        return self._user_ids[name]

    def _users(self, names: Iterable[str], role: str, result: ForgeResult) -> dict[str, int]:
        """username → id for `names`; unknown ones become warnings."""
        found: dict[str, int] = {}
        for name in unique(n.lstrip("@") for n in names):
            user_id = self._user_id(name)
            if user_id is None:
                result.warnings.append(f"no GitLab user {name}; not added as {role}")
            else:
                found[name] = user_id
        return found

    def _learn(self, note: Any) -> None:
        if isinstance(note, dict):
            author = (note.get("author") or {}).get("username")
            if author:
                self._me = str(author)
