"""GitLab (gitlab.com and self-managed) through python-gitlab.

Request economy (see base.py): the project object is lazy (no GET); labels,
assignees and reviewers travel in the create call itself, which needs user
ids: one `GET /users?username=` per name, cached for the forge's lifetime.
Opening a promotion MR costs 1 list + N user look-ups + 1 create (+ 1 merge
call for auto-merge); an unchanged re-run costs only the list.

GitLab has no draft flag on create: a draft is a title starting "Draft:".
On update we compare titles without that prefix and keep the MR's current
draft state (a human may have marked it ready). Title, description and
missing labels (`add_labels`) go in one PUT, and only when something differs;
reviewers, assignees and auto-merge are set when the MR is opened only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

import gitlab
import requests
from gitlab.exceptions import GitlabError

from promoter import secrets
from promoter.errors import ForgeError
from promoter.forges.base import ForgeResult, PullRequest, PullRequestSpec
from promoter.forges.failures import Wording, network_error, status_error
from promoter.forges.http import USER_AGENT, RetryPolicy, build_session

T = TypeVar("T")

WORDING = Wording(
    forge="GitLab",
    repo_word="project",
    token_variables="PROMOTER_FORGE_TOKEN or GITLAB_TOKEN",
    scopes="the `api` scope and at least the Developer role",
)

_DRAFT = re.compile(r"^\s*(?:draft:|\[draft\]|\(draft\))\s*", re.IGNORECASE)
_STATES = {"opened": "open", "merged": "merged", "closed": "closed", "locked": "closed"}


def strip_draft(title: str) -> str:
    return _DRAFT.sub("", title, count=1)


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            out.append(item)
    return out


def _convert(data: dict[str, Any]) -> PullRequest:
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
    )


class GitLabForge:
    """A GitLab project. `url`: the instance root (https://gitlab.com or a
    self-managed https://gitlab.example.com); python-gitlab adds /api/v4."""

    name = "gitlab"

    def __init__(
        self,
        project: str,
        token: str,
        *,
        url: str = "https://gitlab.com",
        policy: RetryPolicy | None = None,
    ) -> None:
        secrets.register(token)
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

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far (retries included)."""
        return self._session.request_count

    # -- helpers ------------------------------------------------------------

    def _call(self, doing: str, action: Callable[[], T]) -> T:
        try:
            return action()
        except GitlabError as err:
            raise self._error(err, doing) from err
        except requests.RequestException as err:
            raise network_error(WORDING, err, doing=doing) from err

    def _error(self, err: GitlabError, doing: str) -> ForgeError:
        return status_error(
            WORDING,
            err.response_code,
            str(err.error_message or ""),
            doing=doing,
            repo=self.repository,
            attempts=self._session.policy.attempts,
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
        for name in _unique(n.lstrip("@") for n in names):
            user_id = self._user_id(name)
            if user_id is None:
                result.warnings.append(f"no GitLab user {name}; not added as {role}")
            else:
                found[name] = user_id
        return found

    # -- Forge --------------------------------------------------------------

    def open_pull_requests(self, base: str) -> list[PullRequest]:
        def fetch() -> list[PullRequest]:
            found = self._project.mergerequests.list(
                state="opened", target_branch=base, per_page=100, iterator=True
            )
            return [_convert(mr.attributes) for mr in found]

        return self._call(f"list merge requests into {base}", fetch)

    def create_pull_request(self, spec: PullRequestSpec) -> ForgeResult:
        result = ForgeResult(
            PullRequest(0, "", spec.head, spec.base, spec.title, spec.body, "open"),
            created=True,
            updated=False,
        )
        data: dict[str, Any] = {
            "source_branch": spec.head,
            "target_branch": spec.base,
            "title": f"Draft: {spec.title}" if spec.draft else spec.title,
            "description": spec.body,
        }
        labels = _unique(spec.labels)
        if labels:
            data["labels"] = ",".join(labels)
        assignees = self._users(spec.assignees, "assignee", result)
        if assignees:
            data["assignee_ids"] = list(assignees.values())
        reviewers = self._users(spec.reviewers, "reviewer", result)
        if reviewers:
            data["reviewer_ids"] = list(reviewers.values())
        if spec.team_reviewers:
            result.warnings.append(
                "GitLab has no team reviewers; ignored "
                f"{', '.join(spec.team_reviewers)} (list the people as reviewers)"
            )
        doing = f"open a merge request from {spec.head} into {spec.base}"
        try:
            mr = self._project.mergerequests.create(data)
        except GitlabError as err:
            if err.response_code == 409:  # "Another open merge request already exists …"
                adopted = self._adopt_existing(spec)
                adopted.warnings[:0] = result.warnings
                return adopted
            raise self._error(err, doing) from err
        except requests.RequestException as err:
            raise network_error(WORDING, err, doing=doing) from err
        pr = _convert(mr.attributes)
        result.pull_request = pr
        result.actions.append(f"opened merge request !{pr.number}: {pr.url}")
        if labels:
            result.actions.append(f"labelled !{pr.number}: {', '.join(labels)}")
        if assignees:
            result.actions.append(f"assigned {', '.join(assignees)}")
        if reviewers:
            result.actions.append(f"requested review from {', '.join(reviewers)}")
        if spec.auto_merge:
            self._enable_auto_merge(pr, result)
        return result

    def update_pull_request(self, pr: PullRequest, spec: PullRequestSpec) -> ForgeResult:
        result = ForgeResult(pr, created=False, updated=False)
        changes: dict[str, Any] = {}
        if strip_draft(pr.title) != spec.title:
            # Keep the MR's own draft state: someone may have marked it ready.
            changes["title"] = f"Draft: {spec.title}" if pr.draft else spec.title
        if pr.body.replace("\r\n", "\n") != spec.body.replace("\r\n", "\n"):
            changes["description"] = spec.body
        have = {label.casefold() for label in pr.labels}
        missing = [label for label in _unique(spec.labels) if label.casefold() not in have]
        if missing:
            changes["add_labels"] = ",".join(missing)
        if not changes:
            return result
        data = self._call(
            f"update !{pr.number}",
            lambda: self._project.mergerequests.update(pr.number, changes),
        )
        if isinstance(data, dict) and "iid" in data:
            result.pull_request = _convert(data)
        else:
            result.pull_request = replace(
                pr,
                title=changes.get("title", pr.title),
                body=changes.get("description", pr.body),
                labels=(*pr.labels, *missing),
            )
        result.updated = True
        what = [k for k in ("title", "description") if k in changes]
        if what:
            result.actions.append(f"updated {' and '.join(what)} of !{pr.number}")
        if missing:
            result.actions.append(f"labelled !{pr.number}: {', '.join(missing)}")
        return result

    def close_pull_request(self, pr: PullRequest, comment: str) -> None:
        self.comment(pr, comment)
        self._call(
            f"close !{pr.number}",
            lambda: self._project.mergerequests.update(pr.number, {"state_event": "close"}),
        )

    def comment(self, pr: PullRequest, body: str) -> None:
        mr = self._project.mergerequests.get(pr.number, lazy=True)
        self._call(f"comment on !{pr.number}", lambda: mr.notes.create({"body": body}))

    # -- internals ----------------------------------------------------------

    def _enable_auto_merge(self, pr: PullRequest, result: ForgeResult) -> None:
        mr = self._project.mergerequests.get(pr.number, lazy=True)
        try:
            answer = mr.merge(merge_when_pipeline_succeeds=True)
        except GitlabError as err:
            code = err.response_code
            if code == 401 or code is None or code >= 500:
                raise self._error(err, f"set auto-merge on !{pr.number}") from err
            # 405/406/422: no pipeline (yet), conflicts, or not allowed to merge.
            why = "GitLab has no pipeline for it to wait for" if code == 405 else ""
            detail = secrets.mask(str(err.error_message or ""))
            result.warnings.append(
                f"auto-merge not set on !{pr.number} ({code} {detail}){': ' + why if why else ''}"
                "; merge it by hand when ready"
            )
            return
        except requests.RequestException as err:
            raise network_error(WORDING, err, doing=f"set auto-merge on !{pr.number}") from err
        if answer.get("state") == "merged":
            # Newer GitLab merges at once when no pipeline exists and none is required.
            result.pull_request = replace(result.pull_request, state="merged")
            result.warnings.append(f"GitLab merged !{pr.number} at once (no pipeline to wait for)")
        else:
            result.actions.append(f"set !{pr.number} to merge when the pipeline succeeds")

    def _adopt_existing(self, spec: PullRequestSpec) -> ForgeResult:
        """Another run opened the same MR between our list and our create."""
        for pr in self.open_pull_requests(spec.base):
            if pr.head == spec.head:
                result = self.update_pull_request(pr, spec)
                result.actions.insert(0, f"merge request !{pr.number} already existed")
                return result
        raise ForgeError(
            f"GitLab says a merge request from {spec.head} already exists, but none into "
            f"{spec.base} is open",
            hint=f"close or retarget the other merge request from {spec.head}",
        )
