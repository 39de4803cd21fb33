"""Forge webhook payloads → `Event`: pure functions of the payload dict.

Understood (everything else is `Ignored`, with the reason):

- GitHub `issue_comment` (action `created`) on a pull request — a comment on
  a plain issue has no `issue.pull_request` key; edits and deletions are
  ignored so editing an old comment never re-runs a command.
- GitHub `pull_request` (`opened`, `synchronize`, `reopened`) → an automatic
  /check. Pull requests from forks are ignored: promoter's own PRs live in the
  repository, and a fork's branch is not ours to evaluate. `closed` with
  `merged: true` → the `promotion.merged` notification.
- GitLab Note Hook on a merge request (notes whose `action` is not `create`,
  and GitLab's system notes, are ignored).
- GitLab Merge Request Hook (`open`, `update`, `reopen`) → an automatic
  /check; merge requests from another project (forks) are ignored. `merge`
  → the `promotion.merged` notification.

The bot's own comments (the sticky comment, or a reply starting with
REPLY_MARKER) are ignored so that it never answers itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from promoter.errors import InputError

REPLY_MARKER = "<!-- promoter:bot -->"
"""First line of every bot reply."""
STICKY_MARKER = "<!-- promoter:sticky -->"
"""Marks the one sticky comment `check` keeps on a PR (see sticky_comment)."""
"""Every reply the bot writes starts with this (hidden in rendered markdown)."""

FORGES = ("github", "gitlab")
_GITHUB_PR_ACTIONS = ("opened", "synchronize", "reopened")
_GITLAB_MR_ACTIONS = ("open", "update", "reopen")


@dataclass(frozen=True)
class Event:
    """One thing that happened on a pull/merge request that the bot acts on."""

    forge: str
    """"github" or "gitlab"."""
    kind: str
    """"comment" (may carry a command) or "pull_request" (run /check)."""
    pr_number: int
    """GitHub PR number / GitLab MR iid."""
    comment_id: int | None
    """The comment's (GitHub) or note's (GitLab) id; None for pull_request events."""
    author: str
    """Who wrote the comment / triggered the pull request event."""
    body: str
    """The comment's text ("" for pull_request events)."""
    action: str
    repo_url: str
    """Clone URL of the repository the event happened in."""
    repository: str
    """OWNER/REPO (GitLab: GROUP/…/PROJECT) as the payload names it."""
    merged: bool = False

    def describe(self) -> str:
        what = "comment" if self.kind == "comment" else f"pull request {self.action}"
        sign = "!" if self.forge == "gitlab" else "#"
        return f"{self.forge} {what} on {sign}{self.pr_number} by {self.author}"


@dataclass(frozen=True)
class Ignored:
    """A payload the bot deliberately does nothing about."""

    reason: str


def detect_forge(payload: Mapping[str, Any]) -> str:
    """ "github" or "gitlab" from the payload's shape; InputError if neither."""
    if "object_kind" in payload:
        return "gitlab"
    if isinstance(payload.get("repository"), Mapping) and (
        "sender" in payload or "action" in payload
    ):
        return "github"
    raise InputError(
        "not a GitHub or GitLab webhook payload",
        hint="give the event file GitHub Actions writes ($GITHUB_EVENT_PATH) or a GitLab "
        "note / merge request hook body",
    )


def parse_event(
    payload: object, *, forge: str | None = None, event_name: str | None = None
) -> Event | Ignored:
    """The event in `payload`. `event_name` is GitHub's event type
    (X-GitHub-Event, $GITHUB_EVENT_NAME) or GitLab's X-Gitlab-Event header
    when known; otherwise the payload's shape decides. Malformed payloads
    (a recognised event missing a field it must have) raise InputError."""
    if not isinstance(payload, Mapping):
        raise InputError("the webhook payload is not a JSON object")
    chosen = forge or detect_forge(payload)
    if chosen == "github":
        return _github(payload, event_name)
    if chosen == "gitlab":
        return _gitlab(payload, event_name)
    raise InputError(f"unknown forge {forge!r}", hint=f"use one of: {', '.join(FORGES)}")


# --- helpers -------------------------------------------------------------------------------


def _obj(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise InputError(f"malformed {where} payload: `{key}` is missing or not an object")
    return value


def _str(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(f"malformed {where} payload: `{key}` is missing or not a string")
    return value


def _int(data: Mapping[str, Any], key: str, where: str) -> int:
    value = data.get(key)
    # bool is an int in Python; a payload saying `"number": true` is malformed.
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InputError(f"malformed {where} payload: `{key}` is missing or not a number")
    return value


def is_own_comment(body: str) -> bool:
    return STICKY_MARKER in body or body.lstrip().startswith(REPLY_MARKER)


# --- GitHub --------------------------------------------------------------------------------


def _github(payload: Mapping[str, Any], event_name: str | None) -> Event | Ignored:
    name = event_name or ("issue_comment" if "comment" in payload and "issue" in payload else "")
    if not name and "pull_request" in payload and not {"comment", "review"} & set(payload):
        name = "pull_request"
    if name not in ("issue_comment", "pull_request", "pull_request_target"):
        return Ignored(f"GitHub event {name or '(unknown type)'!r} is not one the bot handles")
    repo = _obj(payload, "repository", "GitHub")
    repo_url = _str(repo, "clone_url", "GitHub repository")
    repository = _str(repo, "full_name", "GitHub repository")
    action = str(payload.get("action") or "")
    if name == "issue_comment":
        issue = _obj(payload, "issue", "GitHub issue_comment")
        if not issue.get("pull_request"):
            return Ignored("a comment on an issue, not on a pull request")
        if action != "created":
            return Ignored(f"comment {action or 'event'}: only new comments carry commands")
        comment = _obj(payload, "comment", "GitHub issue_comment")
        body = comment.get("body")
        body = body if isinstance(body, str) else ""
        if is_own_comment(body):
            return Ignored("the bot's own comment")
        return Event(
            forge="github",
            kind="comment",
            pr_number=_int(issue, "number", "GitHub issue"),
            comment_id=_int(comment, "id", "GitHub comment"),
            author=_str(_obj(comment, "user", "GitHub comment"), "login", "GitHub user"),
            body=body,
            action=action,
            repo_url=repo_url,
            repository=repository,
        )
    pr = _obj(payload, "pull_request", "GitHub pull_request")
    merged = action == "closed" and bool(pr.get("merged"))
    if action not in _GITHUB_PR_ACTIONS and not merged:
        return Ignored(
            f"pull request {action or 'event'}: only {_GITHUB_PR_ACTIONS} run a check "
            "(and a merge notifies)"
        )
    head_repo = (pr.get("head") or {}).get("repo") or {}
    if str(head_repo.get("full_name") or "").lower() != repository.lower():
        return Ignored("a pull request from a fork: promoter's pull requests are never forks")
    sender = payload.get("sender") if isinstance(payload.get("sender"), Mapping) else {}
    return Event(
        forge="github",
        kind="pull_request",
        pr_number=_int(pr, "number", "GitHub pull_request"),
        comment_id=None,
        author=str((sender or {}).get("login") or ""),
        body="",
        action=action,
        repo_url=repo_url,
        repository=repository,
        merged=merged,
    )


# --- GitLab --------------------------------------------------------------------------------


def _gitlab(payload: Mapping[str, Any], event_name: str | None) -> Event | Ignored:
    kind = payload.get("object_kind")
    if kind not in ("note", "merge_request"):
        shown = kind if isinstance(kind, str) else event_name or "(unknown type)"
        return Ignored(f"GitLab event {shown!r} is not one the bot handles")
    project = _obj(payload, "project", "GitLab")
    repo_url = _str(project, "git_http_url", "GitLab project")
    repository = _str(project, "path_with_namespace", "GitLab project")
    attrs = _obj(payload, "object_attributes", "GitLab")
    user = payload.get("user") if isinstance(payload.get("user"), Mapping) else {}
    author = str((user or {}).get("username") or "")
    if kind == "note":
        if attrs.get("noteable_type") != "MergeRequest":
            return Ignored(f"a note on a {attrs.get('noteable_type') or 'thing'}, not on an MR")
        # GitLab 16.11+ says create/update; older versions only send creations.
        action = str(attrs.get("action") or "create")
        if action != "create":
            return Ignored(f"note {action}: only new notes carry commands")
        if attrs.get("system"):
            return Ignored("a system note")
        body = attrs.get("note")
        body = body if isinstance(body, str) else ""
        if is_own_comment(body):
            return Ignored("the bot's own comment")
        if not author:
            raise InputError("malformed GitLab note payload: `user.username` is missing")
        mr = _obj(payload, "merge_request", "GitLab note")
        return Event(
            forge="gitlab",
            kind="comment",
            pr_number=_int(mr, "iid", "GitLab merge_request"),
            comment_id=_int(attrs, "id", "GitLab note"),
            author=author,
            body=body,
            action=action,
            repo_url=repo_url,
            repository=repository,
        )
    action = str(attrs.get("action") or "")
    if action not in (*_GITLAB_MR_ACTIONS, "merge"):
        return Ignored(
            f"merge request {action or 'event'}: only {_GITLAB_MR_ACTIONS} run a check "
            "(and a merge notifies)"
        )
    source, target = attrs.get("source_project_id"), attrs.get("target_project_id")
    if source is not None and target is not None and source != target:
        return Ignored("a merge request from a fork: promoter's merge requests are never forks")
    return Event(
        forge="gitlab",
        kind="pull_request",
        pr_number=_int(attrs, "iid", "GitLab merge_request"),
        comment_id=None,
        author=author,
        body="",
        action=action,
        repo_url=repo_url,
        repository=repository,
        merged=action == "merge",
    )
