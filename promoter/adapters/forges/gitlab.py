"""GitLab (gitlab.com and self-managed) through python-gitlab.

Request economy (see promoter/core/forge.py): the project object is lazy (no GET); labels,
assignees and reviewers travel in the create call itself, which needs user
ids: one `GET /users?username=` per name, cached for the forge's lifetime.
Opening a promotion MR costs 1 list + N user look-ups + 1 create (+ 1 merge
call for auto-merge); an unchanged re-run costs only the list.

GitLab has no draft flag on create: a draft is a title starting "Draft:".
On update we compare titles without that prefix and keep the MR's current
draft state (a human may have marked it ready). Title, description and
missing labels (`add_labels`) go in one PUT, and only when something differs;
reviewers, assignees and auto-merge are set when the MR is opened only.

For `promoter check` and the bot, requests per call: get_pull_request 1,
set_status 1, commit_statuses 1 (per 100 names), upsert_comment 1 list per
100 notes + at most 1 write (an unchanged note: the list only), approvals 1,
team_members 1 per 100 members and group (then cached), permission 1 + the
user look-up (cached), add_reaction 1.

Translations: our status "failure" and "error" are GitLab's "failed"; GitLab's
"running" is our "pending" and its "canceled"/"skipped" our "error". Access
levels become permissions: Owner (50) admin, Maintainer (40) maintain,
Developer (30) write, Planner/Reporter/Guest (15/20/10) read, Minimal (5) none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, TypeVar

import requests
from gitlab.exceptions import GitlabError

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
from promoter.adapters.forges.gitlab_client import (
    WORDING,
    GitLabClient,
    merge_request,
    permission_of,
    strip_draft,
)
from promoter.core import masking
from promoter.core.forge import (
    Approval,
    CommentResult,
    ForgeResult,
    PullRequest,
    PullRequestSpec,
    short_description,
)
from promoter.errors import ForgeError

T = TypeVar("T")


_TO_GITLAB_STATUS = {
    "pending": "pending",
    "success": "success",
    "failure": "failed",
    "error": "failed",
}
_FROM_GITLAB_STATUS = {
    "created": "pending",
    "waiting_for_resource": "pending",
    "preparing": "pending",
    "pending": "pending",
    "running": "pending",
    "success": "success",
    "failed": "failure",
    "canceled": "error",
    "skipped": "error",
    "manual": "pending",
    "scheduled": "pending",
}
_NO_TRANSITION = re.compile(r"Cannot transition status via :\w+ from :(\w+)")
_EMOJI = {"+1": "thumbsup", "eyes": "eyes", "rocket": "rocket", "confused": "confused"}
_READ_GROUP = "a role in the group (or the group must be public) and the `read_api` scope"


class GitLabForge(GitLabClient):
    """The Forge protocol on a GitLab project."""

    # -- Forge --------------------------------------------------------------

    def open_pull_requests(self, base: str) -> list[PullRequest]:
        def fetch() -> list[PullRequest]:
            found = self._project.mergerequests.list(
                state="opened", target_branch=base, per_page=100, iterator=True
            )
            return [merge_request(mr.attributes) for mr in found]

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
        labels = unique(spec.labels)
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
        pr = merge_request(mr.attributes)
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
        missing = [label for label in unique(spec.labels) if label.casefold() not in have]
        if missing:
            changes["add_labels"] = ",".join(missing)
        if not changes:
            return result
        data = self._call(
            f"update !{pr.number}",
            lambda: self._project.mergerequests.update(pr.number, changes),
        )
        if isinstance(data, dict) and "iid" in data:
            result.pull_request = merge_request(data)
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

    def get_pull_request(self, number: int) -> PullRequest:
        return self._call(
            f"read merge request !{number}",
            lambda: merge_request(self._project.mergerequests.get(number).attributes),
            subject=f"merge request !{number} in {self.repository}",
        )

    def set_status(
        self,
        sha: str,
        context: str,
        state: str,
        description: str,
        target_url: str | None = None,
    ) -> None:
        wanted = _TO_GITLAB_STATUS[check_state(state)]
        data: dict[str, Any] = {
            "state": wanted,
            "name": context,
            "description": short_description(description),
        }
        if target_url:
            data["target_url"] = target_url
        commit = self._project.commits.get(sha, lazy=True)
        doing = f"set status {context} on {sha[:12]}"
        try:
            commit.statuses.create(data)
        except GitlabError as err:
            # GitLab keeps one pending/running status per name and refuses to
            # move it into the state it is in: 400 "Cannot transition status
            # via :enqueue from :pending". Re-posting is how a re-run says
            # "still pending", so the same state (running counts as pending)
            # is success; any other refused transition is an error.
            match = _NO_TRANSITION.search(str(err.error_message or ""))
            if err.response_code == 400 and match:
                current = _FROM_GITLAB_STATUS.get(match.group(1))
                if current is not None and _TO_GITLAB_STATUS[current] == wanted:
                    return
            raise self._error(err, doing) from err
        except requests.RequestException as err:
            raise network_error(WORDING, err, doing=doing) from err

    def commit_statuses(self, sha: str) -> dict[str, str]:
        commit = self._project.commits.get(sha, lazy=True)

        def fetch() -> dict[str, str]:
            # Without all=true GitLab lists only the latest status per name.
            found: dict[str, str] = {}
            for status in commit.statuses.list(per_page=100, iterator=True):
                state = _FROM_GITLAB_STATUS.get(str(status.status), "error")
                found[str(status.name)] = state
            return found

        return self._call(f"read the statuses of {sha[:12]}", fetch)

    def _sticky(self, pr: PullRequest, marker: str) -> Marked | None:
        mr = self._project.mergerequests.get(pr.number, lazy=True)

        def marked() -> Iterator[Marked]:
            # Oldest first (GitLab's default is newest first); system notes
            # ("added 1 commit") are GitLab's own and never ours.
            for note in mr.notes.list(per_page=100, sort="asc", iterator=True):
                data = note.attributes
                text = str(data.get("body") or "")
                if data.get("system") or marker not in text:
                    continue
                author = (data.get("author") or {}).get("username")
                yield Marked(int(data["id"]), author, text)

        return self._call(
            f"list the notes on !{pr.number}", lambda: pick_sticky(marked(), self._me)
        )

    def sticky_comment(self, pr: PullRequest, marker: str) -> str | None:
        found = self._sticky(pr, marker)
        return None if found is None else found.body

    def upsert_comment(self, pr: PullRequest, marker: str, body: str) -> CommentResult:
        check_sticky(marker, body, self.max_comment_length, "GitLab")
        mr = self._project.mergerequests.get(pr.number, lazy=True)
        found = self._sticky(pr, marker)
        if found is None:
            note = self._call(f"comment on !{pr.number}", lambda: mr.notes.create({"body": body}))
            self._learn(note.attributes)
            return CommentResult(int(note.id), created=True, updated=False)
        if same_text(found.body, body):
            return CommentResult(found.id, created=False, updated=False)
        answer = self._call(
            f"edit note {found.id} on !{pr.number}",
            lambda: mr.notes.update(found.id, {"body": body}),
        )
        self._learn(answer)
        return CommentResult(found.id, created=False, updated=True)

    def approvals(self, pr: PullRequest) -> list[Approval]:
        """Who approved, as GitLab reports it now. GitLab names no commit
        (commit_sha None), and only newer versions say when (`approved_at`);
        a project set to "remove all approvals when commits are added" has
        already dropped approvals of older commits."""
        mr = self._project.mergerequests.get(pr.number, lazy=True)
        state = self._call(f"read the approvals of !{pr.number}", lambda: mr.approvals.get())
        out = []
        for entry in state.attributes.get("approved_by") or []:
            user = (entry.get("user") or {}).get("username")
            if user:
                out.append(
                    Approval(
                        user=str(user),
                        state="APPROVED",
                        commit_sha=None,
                        submitted_at=parse_time(entry.get("approved_at")),
                    )
                )
        return out

    def team_members(self, team: str) -> set[str]:
        path = team.strip().lstrip("@").strip("/")
        if not path:
            raise ValueError(f"not a GitLab group: {team!r}")
        key = path.casefold()
        if key not in self._groups:
            group = self._gitlab.groups.get(path, lazy=True)

            def fetch() -> set[str]:
                # members/all: direct, inherited and invited-group members.
                members = group.members_all.list(per_page=100, iterator=True)
                return {str(m.username) for m in members}

            self._groups[key] = self._call(
                f"list the members of group {path}",
                fetch,
                subject=f"group {path}",
                needs=_READ_GROUP,
            )
        return set(self._groups[key])

    def permission(self, user: str) -> str:
        user_id = self._user_id(user)
        if user_id is None:
            return "none"
        try:
            member = self._call(
                f"read the role of {user}", lambda: self._project.members_all.get(user_id)
            )
        except ForgeError as err:
            if isinstance(err.__cause__, GitlabError) and err.__cause__.response_code == 404:
                return "none"  # not a member of the project or its groups
            raise
        return permission_of(int(member.attributes.get("access_level") or 0))

    def add_reaction(self, pr: PullRequest, comment_id: int, kind: str) -> None:
        name = _EMOJI[check_reaction(kind)]
        mr = self._project.mergerequests.get(pr.number, lazy=True)
        note = mr.notes.get(comment_id, lazy=True)
        doing = f"react to note {comment_id} on !{pr.number}"
        try:
            note.awardemojis.create({"name": name})
        except GitlabError as err:
            # GitLab answers a repeated award with 404 "Award Emoji Name has
            # already been taken": the reaction is there, which is all we want.
            if err.response_code == 404 and "already been taken" in str(err.error_message):
                return
            raise self._error(err, doing, subject=f"note {comment_id} on !{pr.number}") from err
        except requests.RequestException as err:
            raise network_error(WORDING, err, doing=doing) from err

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
            detail = masking.mask(str(err.error_message or ""))
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
