"""Stateful fakes of the GitHub and GitLab REST APIs on `responses`.

Each fake keeps pull/merge requests, labels, reviewers, assignees and
comments in memory and answers like the real service (field names and types
as documented; 422 "A pull request already exists for owner:branch." /
409 "Another open merge request already exists" for duplicates; 404 for
another repository; 401 for a wrong token; GitHub's Link / GitLab's X-Page
pagination), so a promotion can run twice and see its PR updated rather
than duplicated. Every request is logged.

    with github_fake(repo="acme/env", token="ghp_x") as gh:   # or gitlab_fake(...)
        forge = make_forge("github", "https://github.com/acme/env.git", environ=...)
        ...
        assert gh.request_count == 6
        assert sent(gh.rsps)[0] == ("GET", "https://api.github.com:443/repos/…", None)
        assert gh.open_pulls("staging")[0]["labels"][0]["name"] == "promoter"

For tests: `add_pull(...)` / `add_mr(...)` seed existing ones, `merge(n)`
merges as a person would, `open_pulls()` / `open_mrs()`, `pulls` / `mrs`,
`comments` / `notes` (dicts keyed by number), `calls` (Call records),
`request_count`, `reset_log()`, `fail(status, body, headers=, times=,
method=, path=)` queues canned failures (rate limits, 5xx, 403 …) served
before routing; `token=` makes other credentials get 401;
FakeGitHub(allow_auto_merge=False, collaborators={…}) and
FakeGitLab(has_pipeline=False, users={name: id}) model repository settings;
`branch_sha=` maps a head branch to its sha (None: no such branch).

For checks and the bot: commit statuses per sha (`statuses`, seeded with
`add_status(...)`; GitLab refuses to re-post a pending status with its
400 "Cannot transition status via :enqueue from :pending"), comments / notes
with ids that can be edited (`add_comment(...)` / `add_note(...)` seed
other people's, `edits` counts edits), reviews / approvals
(`add_review(number, user, state, commit_id, submitted_at)` /
`approve(iid, user)`), teams / groups (FakeGitHub(teams={"org/sre": {"alice"}}),
FakeGitLab(groups={"acme/sre": {"alice"}})), permissions
(FakeGitHub(permissions={"bob": "read"}): others are unknown users, 404;
FakeGitLab(members={"bob": 20}): access levels; others are not members) and
reactions / award emoji (`reactions`, `award_emoji`: dicts keyed by comment
id). Comment bodies over the real limits are refused as the forges do.

The fakes answer every URL under their API root (any method), so create the
RequestsMock with `assert_all_requests_are_fired=False` (the helpers do), and
register no other mock under that root (`responses` drops a registration
when two match one request). Other hosts are not mocked:
`rsps.add_passthru("http://127.0.0.1")` lets loopback servers through.
To skip real back-off sleeps in end-to-end runs:
`monkeypatch.setattr(promoter.adapters.forges.session, "sleep", SleepRecorder())`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import responses

JSON = dict[str, Any]
Reply = tuple[int, dict[str, str], str]
CREATED_AT = "2026-01-01T00:00:00Z"


@dataclass
class Call:
    """One request a fake received."""

    method: str
    url: str
    path: str
    """Path below the API root, still percent-encoded (e.g. /projects/acme%2Fenv/…)."""
    query: dict[str, str]
    json: Any
    headers: dict[str, str]


@dataclass
class Failure:
    status: int
    body: Any
    headers: dict[str, str]
    times: int
    method: str | None
    path: re.Pattern[str] | None


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., Reply]


def _url_regex(url: str) -> str:
    """A regex for `url` that also matches it with its default port spelled
    out (PyGithub requests https://api.github.com:443/…)."""
    parts = urlsplit(url)
    default = {"https": "443", "http": "80"}[parts.scheme]
    port = "" if parts.port else f"(?::{default})?"
    return re.escape(f"{parts.scheme}://{parts.netloc}") + port + re.escape(parts.path)


def fake_sha(*parts: object) -> str:
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()


def _reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    out = {"Content-Type": "application/json"}
    out.update(headers or {})
    return status, out, "" if body is None else json.dumps(body)


class _Fake:
    """Routing, logging, failure injection and token checks shared by both fakes."""

    def __init__(
        self,
        rsps: responses.RequestsMock,
        api_root: str,
        token: str | None,
        aliases: dict[str, str] | None = None,
    ) -> None:
        """aliases: URLs outside api_root served as if they were the given path
        (GitHub Enterprise's GraphQL endpoint is /api/graphql, beside /api/v3).
        One registration per method: `responses` pops registrations when two
        of them match the same request."""
        self.rsps = rsps
        self.api_root = api_root.rstrip("/")
        self.token = token
        self.aliases = {urlsplit(u).path: path for u, path in (aliases or {}).items()}
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.routes: list[_Route] = []
        alternatives = [_url_regex(self.api_root) + r"(?:[/?].*)?"]
        alternatives += [_url_regex(u) + r"(?:\?.*)?" for u in (aliases or {})]
        pattern = re.compile("(?:" + "|".join(alternatives) + ")$")
        for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
            rsps.add_callback(method, pattern, callback=self._dispatch)

    # -- for tests ------------------------------------------------------------

    @property
    def request_count(self) -> int:
        return len(self.calls)

    def reset_log(self) -> None:
        self.calls.clear()

    def fail(
        self,
        status: int,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next `times` matching requests with `status` (before routing).
        `path` is a regex searched in the path below the API root."""
        self.failures.append(
            Failure(
                status,
                body if body is not None else {"message": f"fake failure {status}"},
                dict(headers or {}),
                times,
                method.upper() if method else None,
                re.compile(path) if path else None,
            )
        )

    # -- plumbing -------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Callable[..., Reply]) -> None:
        self.routes.append(_Route(method, re.compile(pattern + "$"), handler))

    def authorised(self, headers: dict[str, str]) -> bool:
        raise NotImplementedError

    def unauthorised(self) -> Reply:
        raise NotImplementedError

    def not_found(self) -> Reply:
        raise NotImplementedError

    def _dispatch(self, request: Any) -> Reply:
        parts = urlsplit(request.url)
        root_path = urlsplit(self.api_root).path
        path = self.aliases.get(parts.path) or parts.path[len(root_path) :] or "/"
        body: Any = None
        if request.body:
            raw = request.body.decode() if isinstance(request.body, bytes) else request.body
            try:
                body = json.loads(raw)
            except ValueError:
                body = {k: v[0] for k, v in parse_qs(raw).items()}
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        # Links the service sends back name the host without a default port.
        netloc = re.sub(r":(443|80)$", "", parts.netloc)
        canonical = f"{parts.scheme}://{netloc}{parts.path}" + (
            f"?{parts.query}" if parts.query else ""
        )
        headers = dict(request.headers)
        method = request.method.upper()
        self.calls.append(Call(method, request.url, path, query, body, headers))
        for failure in self.failures:
            if failure.method and failure.method != method:
                continue
            if failure.path and not failure.path.search(path):
                continue
            failure.times -= 1
            if failure.times <= 0:
                self.failures.remove(failure)
            return _reply(failure.status, failure.body, failure.headers)
        if not self.authorised(headers):
            return self.unauthorised()
        for route in self.routes:
            match = route.pattern.match(path)
            if route.method == method and match:
                return route.handler(*match.groups(), query=query, body=body, url=canonical)
        return self.not_found()


def _page(items: list[JSON], query: dict[str, str], default: int) -> tuple[list[JSON], int, int]:
    per_page = max(1, min(100, int(query.get("per_page", default))))
    page = max(1, int(query.get("page", 1)))
    last = max(1, -(-len(items) // per_page))
    return items[(page - 1) * per_page : page * per_page], page, last


def _link(url: str, query: dict[str, str], page: int, last: int) -> str:
    base = url.split("?", 1)[0]
    rels = []
    if page < last:
        rels.append(("next", page + 1))
    rels.append(("last", last))
    if page > 1:
        rels += [("first", 1), ("prev", page - 1)]
    return ", ".join(f'<{base}?{urlencode({**query, "page": n})}>; rel="{rel}"' for rel, n in rels)


# ---------------------------------------------------------------------------
# GitHub


class FakeGitHub(_Fake):
    """github.com (api_url https://api.github.com) or GitHub Enterprise Server
    (api_url https://HOST/api/v3, GraphQL at https://HOST/api/graphql)."""

    def __init__(
        self,
        rsps: responses.RequestsMock,
        *,
        repo: str = "acme/env",
        api_url: str = "https://api.github.com",
        token: str | None = None,
        login: str = "promoter-bot",
        allow_auto_merge: bool = True,
        collaborators: set[str] | None = None,
        branch_sha: Callable[[str], str | None] | None = None,
        teams: dict[str, set[str]] | None = None,
        permissions: dict[str, str] | None = None,
    ) -> None:
        """collaborators: if given, others cannot be requested as reviewers
        (422) and are silently not assigned, as on GitHub. branch_sha: head
        branch → sha (None: no such branch → 422 on create); default: made up.
        teams: "org/slug" → member logins. permissions: login → role (admin,
        maintain, write, triage, read, none); logins not listed do not exist."""
        host = urlsplit(api_url)
        if host.netloc == "api.github.com":
            self.web_root = "https://github.com"
            aliases = {}
        else:
            self.web_root = f"{host.scheme}://{host.netloc}"
            aliases = {f"{self.web_root}/api/graphql": "/graphql"}
        super().__init__(rsps, api_url, token, aliases)
        self.repo = repo
        self.login = login
        self.allow_auto_merge = allow_auto_merge
        self.collaborators = collaborators
        self.branch_sha = branch_sha or (lambda branch: fake_sha(repo, branch))
        self.pulls: dict[int, JSON] = {}
        self.comments: dict[int, list[JSON]] = {}
        self.teams = {k.lower(): set(v) for k, v in (teams or {}).items()}
        self.permissions = dict(permissions or {})
        self.statuses: dict[str, list[JSON]] = {}
        """sha → statuses, oldest first (GitHub keeps every one posted)."""
        self.reviews: dict[int, list[JSON]] = {}
        self.reactions: dict[int, list[JSON]] = {}
        """comment id → reactions."""
        self.edits: dict[int, int] = {}
        """comment id → times edited."""
        self._next_number = 1
        self._next_id = 1
        self.route("POST", "/graphql", self._graphql)
        r = r"/repos/([^/]+/[^/]+)"
        self.route("GET", rf"{r}/pulls", self._list)
        self.route("POST", rf"{r}/pulls", self._create)
        self.route("GET", rf"{r}/pulls/(\d+)", self._get)
        self.route("PATCH", rf"{r}/pulls/(\d+)", self._patch)
        self.route("POST", rf"{r}/pulls/(\d+)/requested_reviewers", self._request_reviewers)
        self.route("PUT", rf"{r}/pulls/(\d+)/merge", self._merge)
        self.route("POST", rf"{r}/issues/(\d+)/labels", self._add_labels)
        self.route("POST", rf"{r}/issues/(\d+)/assignees", self._add_assignees)
        self.route("GET", rf"{r}/issues/(\d+)/comments", self._list_comments)
        self.route("POST", rf"{r}/issues/(\d+)/comments", self._add_comment)
        self.route("PATCH", rf"{r}/issues/comments/(\d+)", self._edit_comment)
        self.route("POST", rf"{r}/issues/comments/(\d+)/reactions", self._react)
        self.route("POST", rf"{r}/statuses/([^/]+)", self._create_status)
        self.route("GET", rf"{r}/commits/([^/]+)/status", self._combined_status)
        self.route("GET", rf"{r}/pulls/(\d+)/reviews", self._list_reviews)
        self.route("GET", rf"{r}/collaborators/([^/]+)/permission", self._permission)
        self.route("GET", r"/orgs/([^/]+)/teams/([^/]+)/members", self._team_members)

    # -- for tests ------------------------------------------------------------

    def add_pull(
        self,
        head: str,
        base: str,
        *,
        title: str = "Promote",
        body: str = "",
        labels: tuple[str, ...] = (),
        draft: bool = False,
        state: str = "open",
        user: str | None = None,
        fork: str | None = None,
    ) -> JSON:
        """Seed an existing pull request (as if opened earlier); `fork`: the
        owner of the fork its head branch lives in."""
        pr = self._new_pull(head, base, title, body, draft, user or self.login)
        if fork:
            name = self.repo.split("/")[1]
            pr["head"]["label"] = f"{fork}:{head}"
            pr["head"]["repo"] = {"full_name": f"{fork}/{name}", "name": name}
        pr["labels"] = [self._label(name) for name in labels]
        if state != "open":
            pr["state"] = "closed"
            pr["closed_at"] = CREATED_AT
            if state == "merged":
                pr["merged_at"] = CREATED_AT
        return pr

    def open_pulls(self, base: str | None = None) -> list[JSON]:
        return [
            p
            for p in self.pulls.values()
            if p["state"] == "open" and (base is None or p["base"]["ref"] == base)
        ]

    def merge(self, number: int) -> None:
        """Merge a pull request as a person would in the web UI."""
        pr = self.pulls[number]
        pr.update(state="closed", merged_at=CREATED_AT, closed_at=CREATED_AT)

    def label_names(self, number: int) -> list[str]:
        return [label["name"] for label in self.pulls[number]["labels"]]

    def add_comment(self, number: int, body: str, *, user: str | None = None) -> JSON:
        """Seed a comment on pull request `number` (by `user`, default: us)."""
        self._next_id += 1
        comment = self._comment_json(number, self._next_id, body, user or self.login)
        self.comments.setdefault(number, []).append(comment)
        return comment

    def add_review(
        self,
        number: int,
        user: str,
        state: str = "APPROVED",
        commit_id: str | None = None,
        submitted_at: str | None = CREATED_AT,
    ) -> JSON:
        """Seed a review; commit_id defaults to the PR's current head sha.
        state PENDING: a draft review (no submitted_at, as on GitHub)."""
        pr = self.pulls[number]
        self._next_id += 1
        review = {
            "id": self._next_id,
            "node_id": f"PRR_{self._next_id}",
            "user": self._user(user),
            "body": "",
            "state": state,
            "html_url": f"{pr['html_url']}#pullrequestreview-{self._next_id}",
            "pull_request_url": pr["url"],
            "author_association": "MEMBER",
            "_links": {"html": {"href": pr["html_url"]}, "pull_request": {"href": pr["url"]}},
            "submitted_at": None if state == "PENDING" else submitted_at,
            "commit_id": commit_id or pr["head"]["sha"],
        }
        self.reviews.setdefault(number, []).append(review)
        return review

    def add_status(
        self, sha: str, context: str, state: str, description: str = "", creator: str = "ci"
    ) -> JSON:
        """Seed a commit status, as another tool (`creator`) would post it."""
        self._next_id += 1
        status = {
            "url": f"{self.api_root}/repos/{self.repo}/statuses/{sha}",
            "avatar_url": None,
            "id": self._next_id,
            "node_id": f"SC_{self._next_id}",
            "state": state,
            "description": description or None,
            "target_url": None,
            "context": context,
            "created_at": CREATED_AT,
            "updated_at": CREATED_AT,
            "creator": self._user(creator),
        }
        self.statuses.setdefault(sha, []).append(status)
        return status

    def latest_statuses(self, sha: str) -> dict[str, JSON]:
        """context → the latest status posted for it on `sha`."""
        return {s["context"]: s for s in self.statuses.get(sha, [])}

    # -- shapes ---------------------------------------------------------------

    def _user(self, login: str) -> JSON:
        return {
            "login": login,
            "id": abs(hash(login)) % 10_000_000,
            "node_id": f"U_{login}",
            "type": "Bot" if login.endswith("[bot]") else "User",
            "site_admin": False,
            "html_url": f"{self.web_root}/{login}",
            "url": f"{self.api_root}/users/{login}",
        }

    def _label(self, name: str) -> JSON:
        self._next_id += 1
        return {
            "id": self._next_id,
            "node_id": f"LA_{self._next_id}",
            "url": f"{self.api_root}/repos/{self.repo}/labels/{name}",
            "name": name,
            "color": "ededed",
            "default": False,
            "description": None,
        }

    def _new_pull(
        self, head: str, base: str, title: str, body: str | None, draft: bool, user: str
    ) -> JSON:
        n = self._next_number
        self._next_number += 1
        owner = self.repo.split("/")[0]
        api = f"{self.api_root}/repos/{self.repo}"
        repo_json = {"full_name": self.repo, "name": self.repo.split("/")[1], "url": api}
        pr: JSON = {
            "url": f"{api}/pulls/{n}",
            "id": 100_000 + n,
            "node_id": f"PR_kwDOfake{n:04d}",
            "html_url": f"{self.web_root}/{self.repo}/pull/{n}",
            "diff_url": f"{self.web_root}/{self.repo}/pull/{n}.diff",
            "issue_url": f"{api}/issues/{n}",
            "comments_url": f"{api}/issues/{n}/comments",
            "number": n,
            "state": "open",
            "locked": False,
            "title": title,
            "user": self._user(user),
            "body": body,
            "labels": [],
            "milestone": None,
            "created_at": CREATED_AT,
            "updated_at": CREATED_AT,
            "closed_at": None,
            "merged_at": None,
            "merge_commit_sha": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": {
                "label": f"{owner}:{head}",
                "ref": head,
                "sha": self.branch_sha(head) or fake_sha(head),
                "user": self._user(owner),
                "repo": repo_json,
            },
            "base": {
                "label": f"{owner}:{base}",
                "ref": base,
                "sha": fake_sha(self.repo, base),
                "user": self._user(owner),
                "repo": repo_json,
            },
            "author_association": "MEMBER",
            "auto_merge": None,
            "draft": draft,
        }
        self.pulls[n] = pr
        return pr

    def _issue(self, pr: JSON) -> JSON:
        keys = ("url", "id", "node_id", "number", "state", "title", "body", "user", "labels")
        issue = {k: pr[k] for k in keys}
        issue["url"] = pr["issue_url"]
        issue.update(
            assignee=pr["assignee"],
            assignees=pr["assignees"],
            html_url=pr["html_url"],
            pull_request={"url": pr["url"], "html_url": pr["html_url"]},
        )
        return issue

    # -- routes ---------------------------------------------------------------

    def authorised(self, headers: dict[str, str]) -> bool:
        if self.token is None:
            return True
        return headers.get("Authorization") in (f"Bearer {self.token}", f"token {self.token}")

    def unauthorised(self) -> Reply:
        return _reply(
            401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}
        )

    def not_found(self) -> Reply:
        return _reply(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})

    def _ours(self, repo: str) -> bool:
        return repo.lower() == self.repo.lower()

    def _pull(self, repo: str, number: str) -> JSON | None:
        return self.pulls.get(int(number)) if self._ours(repo) else None

    def _list(self, repo: str, *, query: dict[str, str], url: str, **_: Any) -> Reply:
        if not self._ours(repo):
            return self.not_found()
        state = query.get("state", "open")
        items = sorted(self.pulls.values(), key=lambda p: -p["number"])
        items = [
            p
            for p in items
            if (state == "all" or p["state"] == state)
            and ("base" not in query or p["base"]["ref"] == query["base"])
            and ("head" not in query or p["head"]["label"] == query["head"])
        ]
        chunk, page, last = _page(items, query, 30)
        headers = {"Link": _link(url, query, page, last)} if last > 1 else {}
        return _reply(200, chunk, headers)

    def _create(self, repo: str, *, body: JSON, **_: Any) -> Reply:
        if not self._ours(repo):
            return self.not_found()
        head, base = body.get("head", ""), body.get("base", "")
        owner = self.repo.split("/")[0]
        if not body.get("title") or not head or not base:
            return _invalid("missing_field", "title" if not body.get("title") else "head")
        if self.branch_sha(head) is None:
            return _invalid("invalid", "head")
        for pr in self.open_pulls(base):
            if pr["head"]["ref"] == head:
                return _reply(
                    422,
                    {
                        "message": "Validation Failed",
                        "errors": [
                            {
                                "resource": "PullRequest",
                                "code": "custom",
                                "message": f"A pull request already exists for {owner}:{head}.",
                            }
                        ],
                        "documentation_url": DOCS,
                        "status": "422",
                    },
                )
        pr = self._new_pull(
            head, base, body["title"], body.get("body"), bool(body.get("draft")), self.login
        )
        return _reply(201, pr, {"Location": pr["url"]})

    def _get(self, repo: str, number: str, **_: Any) -> Reply:
        pr = self._pull(repo, number)
        return _reply(200, pr) if pr else self.not_found()

    def _patch(self, repo: str, number: str, *, body: JSON, **_: Any) -> Reply:
        pr = self._pull(repo, number)
        if pr is None:
            return self.not_found()
        for key in ("title", "body"):
            if key in body:
                pr[key] = body[key]
        if "base" in body:
            pr["base"]["ref"] = body["base"]
        if body.get("state") == "closed" and pr["merged_at"] is None:
            pr.update(state="closed", closed_at=CREATED_AT)
        elif body.get("state") == "open" and pr["merged_at"] is None:
            pr.update(state="open", closed_at=None)
        return _reply(200, pr)

    def _request_reviewers(self, repo: str, number: str, *, body: JSON, **_: Any) -> Reply:
        pr = self._pull(repo, number)
        if pr is None:
            return self.not_found()
        users = list(body.get("reviewers") or [])
        teams = list(body.get("team_reviewers") or [])
        if pr["user"]["login"] in users:
            return _reply(
                422,
                {
                    "message": "Review cannot be requested from pull request author.",
                    "documentation_url": DOCS,
                    "status": "422",
                },
            )
        if self.collaborators is not None and any(u not in self.collaborators for u in users):
            return _reply(
                422,
                {
                    "message": "Reviews may only be requested from collaborators. One or more "
                    "of the users or teams you specified is not a collaborator of the "
                    f"{self.repo} repository.",
                    "documentation_url": DOCS,
                    "status": "422",
                },
            )
        known = {u["login"] for u in pr["requested_reviewers"]}
        pr["requested_reviewers"] += [self._user(u) for u in users if u not in known]
        slugs = {t["slug"] for t in pr["requested_teams"]}
        pr["requested_teams"] += [
            {"name": t, "slug": t, "id": abs(hash(t)) % 10_000} for t in teams if t not in slugs
        ]
        return _reply(201, pr)

    def _merge(self, repo: str, number: str, **_: Any) -> Reply:
        pr = self._pull(repo, number)
        if pr is None:
            return self.not_found()
        if pr["state"] != "open":
            return _reply(405, {"message": "Pull Request is not mergeable", "status": "405"})
        self.merge(pr["number"])
        sha = fake_sha("merge", pr["number"])
        pr["merge_commit_sha"] = sha
        return _reply(
            200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}
        )

    def _add_labels(self, repo: str, number: str, *, body: Any, **_: Any) -> Reply:
        pr = self._pull(repo, number)
        if pr is None:
            return self.not_found()
        names = body.get("labels", []) if isinstance(body, dict) else list(body or [])
        have = {label["name"].lower() for label in pr["labels"]}
        for name in names:
            if name.lower() not in have:  # GitHub creates unknown labels on the fly
                pr["labels"].append(self._label(name))
                have.add(name.lower())
        return _reply(200, pr["labels"])

    def _add_assignees(self, repo: str, number: str, *, body: JSON, **_: Any) -> Reply:
        pr = self._pull(repo, number)
        if pr is None:
            return self.not_found()
        have = {a["login"] for a in pr["assignees"]}
        for login in body.get("assignees", []):
            # GitHub silently skips people who cannot be assigned.
            if login not in have and (self.collaborators is None or login in self.collaborators):
                pr["assignees"].append(self._user(login))
                have.add(login)
        pr["assignee"] = pr["assignees"][0] if pr["assignees"] else None
        return _reply(201, self._issue(pr))

    def _comment_json(
        self, number: int, comment_id: int, body: str, user: str | None = None
    ) -> JSON:
        return {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "url": f"{self.api_root}/repos/{self.repo}/issues/comments/{comment_id}",
            "html_url": f"{self.web_root}/{self.repo}/pull/{number}#issuecomment-{comment_id}",
            "issue_url": f"{self.api_root}/repos/{self.repo}/issues/{number}",
            "body": body,
            "user": self._user(user or self.login),
            "created_at": CREATED_AT,
            "updated_at": CREATED_AT,
            "author_association": "MEMBER",
            "reactions": {
                "url": f"{self.api_root}/repos/{self.repo}/issues/comments/{comment_id}/reactions",
                "total_count": 0,
            },
        }

    def _list_comments(
        self, repo: str, number: str, *, query: dict[str, str], url: str, **_: Any
    ) -> Reply:
        if self._pull(repo, number) is None:
            return self.not_found()
        chunk, page, last = _page(self.comments.get(int(number), []), query, 30)
        return _reply(200, chunk, {"Link": _link(url, query, page, last)} if last > 1 else {})

    def _add_comment(self, repo: str, number: str, *, body: JSON, **_: Any) -> Reply:
        if self._pull(repo, number) is None:
            return self.not_found()
        if not body.get("body"):
            return _invalid("missing_field", "body")
        if len(body["body"]) > GITHUB_COMMENT_LIMIT:
            return _too_long("IssueComment")
        self._next_id += 1
        comment = self._comment_json(int(number), self._next_id, body["body"])
        self.comments.setdefault(int(number), []).append(comment)
        return _reply(201, comment)

    def _find_comment(self, repo: str, comment_id: str) -> JSON | None:
        for comments in self.comments.values() if self._ours(repo) else []:
            for comment in comments:
                if comment["id"] == int(comment_id):
                    return comment
        return None

    def _edit_comment(self, repo: str, comment_id: str, *, body: JSON, **_: Any) -> Reply:
        comment = self._find_comment(repo, comment_id)
        if comment is None:
            return self.not_found()
        if len(body.get("body") or "") > GITHUB_COMMENT_LIMIT:
            return _too_long("IssueComment")
        comment["body"] = body["body"]
        comment["updated_at"] = "2026-01-02T00:00:00Z"
        self.edits[comment["id"]] = self.edits.get(comment["id"], 0) + 1
        return _reply(200, comment)

    def _react(self, repo: str, comment_id: str, *, body: JSON, **_: Any) -> Reply:
        comment = self._find_comment(repo, comment_id)
        if comment is None:
            return self.not_found()
        content = (body or {}).get("content")
        if content not in GITHUB_REACTIONS:
            return _invalid("invalid", "content")
        reactions = self.reactions.setdefault(comment["id"], [])
        for reaction in reactions:
            if reaction["content"] == content and reaction["user"]["login"] == self.login:
                return _reply(200, reaction)  # GitHub: already there, 200 not 201
        self._next_id += 1
        reaction = {
            "id": self._next_id,
            "node_id": f"REA_{self._next_id}",
            "user": self._user(self.login),
            "content": content,
            "created_at": CREATED_AT,
        }
        reactions.append(reaction)
        comment["reactions"]["total_count"] = len(reactions)
        return _reply(201, reaction)

    def _create_status(self, repo: str, sha: str, *, body: JSON, **_: Any) -> Reply:
        if not self._ours(repo):
            return self.not_found()
        if not re.fullmatch(r"[0-9a-f]{40}", sha):
            return _reply(
                422,
                {"message": f"No commit found for SHA: {sha}", "documentation_url": DOCS},
            )
        body = body or {}
        if body.get("state") not in ("error", "failure", "pending", "success"):
            return _invalid("invalid", "state")
        if len(body.get("description") or "") > 140:
            return _reply(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [
                        {
                            "resource": "Status",
                            "code": "custom",
                            "field": "description",
                            "message": "description is too long (maximum is 140 characters)",
                        }
                    ],
                    "documentation_url": DOCS,
                    "status": "422",
                },
            )
        status = self.add_status(
            sha,
            body.get("context") or "default",
            body["state"],
            body.get("description") or "",
            creator=self.login,
        )
        status["target_url"] = body.get("target_url")
        return _reply(201, status)

    def _combined_status(
        self, repo: str, ref: str, *, query: dict[str, str], url: str, **_: Any
    ) -> Reply:
        if not self._ours(repo):
            return self.not_found()
        latest = sorted(self.latest_statuses(ref).values(), key=lambda s: -s["id"])
        states = {s["state"] for s in latest}
        if states & {"error", "failure"}:
            combined = "failure"
        elif "pending" in states or not latest:
            combined = "pending"
        else:
            combined = "success"
        chunk, page, last = _page(latest, query, 30)
        api = f"{self.api_root}/repos/{self.repo}"
        answer = {
            "state": combined,
            "statuses": chunk,
            "sha": ref,
            "total_count": len(latest),
            "repository": {"full_name": self.repo, "url": api},
            "commit_url": f"{api}/commits/{ref}",
            "url": f"{api}/commits/{ref}/status",
        }
        return _reply(200, answer, {"Link": _link(url, query, page, last)} if last > 1 else {})

    def _list_reviews(
        self, repo: str, number: str, *, query: dict[str, str], url: str, **_: Any
    ) -> Reply:
        if self._pull(repo, number) is None:
            return self.not_found()
        chunk, page, last = _page(self.reviews.get(int(number), []), query, 30)
        return _reply(200, chunk, {"Link": _link(url, query, page, last)} if last > 1 else {})

    def _permission(self, repo: str, login: str, **_: Any) -> Reply:
        login = unquote(login)
        if not self._ours(repo) or login not in self.permissions:
            return self.not_found()
        role = self.permissions[login]
        # `permission` is the legacy base role; `role_name` the full one.
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        if legacy not in ("admin", "write", "read", "none"):
            legacy = "read"  # a custom role, based on read here
        user = {**self._user(login), "permissions": {}, "role_name": role}
        return _reply(200, {"permission": legacy, "role_name": role, "user": user})

    def _team_members(
        self, org: str, slug: str, *, query: dict[str, str], url: str, **_: Any
    ) -> Reply:
        members = self.teams.get(f"{org}/{slug}".lower())
        if members is None:
            return self.not_found()
        users = [self._user(login) for login in sorted(members)]
        chunk, page, last = _page(users, query, 30)
        return _reply(200, chunk, {"Link": _link(url, query, page, last)} if last > 1 else {})

    def _graphql(self, *, body: JSON, **_: Any) -> Reply:
        payload = body or {}
        query = payload.get("query", "")
        if "enablePullRequestAutoMerge" not in query:
            return _reply(200, {"errors": [{"message": "fake: unsupported GraphQL query"}]})
        data = payload["variables"]["input"]
        pr = next((p for p in self.pulls.values() if p["node_id"] == data["pullRequestId"]), None)
        if pr is None:
            return _graphql_error(
                "NOT_FOUND",
                f"Could not resolve to a node with the global id of '{data['pullRequestId']}'",
            )
        if not self.allow_auto_merge:
            return _graphql_error(
                "UNPROCESSABLE", "Pull request Auto merge is not allowed for this repository"
            )
        if pr["state"] != "open":
            return _graphql_error(
                "UNPROCESSABLE", "Pull request is not in the correct state to enable auto-merge"
            )
        pr["auto_merge"] = {
            "enabled_by": self._user(self.login),
            "merge_method": data.get("mergeMethod", "MERGE").lower(),
            "commit_title": None,
            "commit_message": None,
        }
        actor = {"login": self.login, "avatarUrl": "", "resourcePath": f"/{self.login}", "url": ""}
        return _reply(
            200,
            {"data": {"enablePullRequestAutoMerge": {"actor": actor, "clientMutationId": None}}},
        )


DOCS = "https://docs.github.com/rest"
GITHUB_COMMENT_LIMIT = 65_536
GITHUB_REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")


def _too_long(resource: str) -> Reply:
    return _reply(
        422,
        {
            "message": "Validation Failed",
            "errors": [
                {
                    "resource": resource,
                    "code": "custom",
                    "field": "body",
                    "message": f"body is too long (maximum is {GITHUB_COMMENT_LIMIT} characters)",
                }
            ],
            "documentation_url": DOCS,
            "status": "422",
        },
    )


def _invalid(code: str, fieldname: str) -> Reply:
    return _reply(
        422,
        {
            "message": "Validation Failed",
            "errors": [{"resource": "PullRequest", "code": code, "field": fieldname}],
            "documentation_url": DOCS,
            "status": "422",
        },
    )


def _graphql_error(kind: str, message: str) -> Reply:
    return _reply(
        200,
        {
            "data": {"enablePullRequestAutoMerge": None},
            "errors": [
                {
                    "type": kind,
                    "path": ["enablePullRequestAutoMerge"],
                    "locations": [{"line": 1, "column": 58}],
                    "message": message,
                }
            ],
        },
    )


# ---------------------------------------------------------------------------
# GitLab

_DRAFT = re.compile(r"^\s*(?:draft:|\[draft\]|\(draft\))", re.IGNORECASE)


class FakeGitLab(_Fake):
    """gitlab.com (url https://gitlab.com) or a self-managed instance; the API
    lives at URL/api/v4."""

    def __init__(
        self,
        rsps: responses.RequestsMock,
        *,
        project: str = "acme/env",
        url: str = "https://gitlab.com",
        token: str | None = None,
        username: str = "promoter-bot",
        users: dict[str, int] | None = None,
        has_pipeline: bool = True,
        project_id: int = 42,
        branch_sha: Callable[[str], str | None] | None = None,
        groups: dict[str, set[str]] | None = None,
        members: dict[str, int] | None = None,
    ) -> None:
        """users: username → id known to the instance (besides `username`).
        has_pipeline: False makes `merge_when_pipeline_succeeds` answer 405.
        groups: full group path → usernames. members: username → the access
        level (50 owner … 10 guest) in the project, inherited ones included.
        Users named in groups or members are made known to the instance."""
        super().__init__(rsps, f"{url.rstrip('/')}/api/v4", token)
        self.url = url.rstrip("/")
        self.project = project
        self.project_id = project_id
        self.username = username
        self.users = {username: 1, **(users or {})}
        self.groups = {k.lower(): set(v) for k, v in (groups or {}).items()}
        self.members = dict(members or {})
        for name in sorted({*self.members, *(u for g in self.groups.values() for u in g)}):
            self.users.setdefault(name, 100 + len(self.users))
        self.has_pipeline = has_pipeline
        self.branch_sha = branch_sha or (lambda branch: fake_sha(project, branch))
        self.mrs: dict[int, JSON] = {}
        self.notes: dict[int, list[JSON]] = {}
        self.statuses: dict[str, list[JSON]] = {}
        """sha → commit statuses, oldest first (retried ones included)."""
        self.approvals: dict[int, list[JSON]] = {}
        """iid → approved_by entries."""
        self.award_emoji: dict[int, list[JSON]] = {}
        """note id → award emoji."""
        self.edits: dict[int, int] = {}
        """note id → times edited."""
        self._next_iid = 1
        self._next_id = 1
        p = r"/projects/([^/]+)/merge_requests"
        self.route("GET", p, self._list)
        self.route("POST", p, self._create)
        self.route("GET", rf"{p}/(\d+)", self._get)
        self.route("PUT", rf"{p}/(\d+)", self._update)
        self.route("PUT", rf"{p}/(\d+)/merge", self._merge)
        self.route("GET", rf"{p}/(\d+)/notes", self._list_notes)
        self.route("POST", rf"{p}/(\d+)/notes", self._add_note)
        self.route("PUT", rf"{p}/(\d+)/notes/(\d+)", self._edit_note)
        self.route("POST", rf"{p}/(\d+)/notes/(\d+)/award_emoji", self._award)
        self.route("GET", rf"{p}/(\d+)/approvals", self._approvals)
        self.route("POST", r"/projects/([^/]+)/statuses/([^/]+)", self._create_status)
        self.route("GET", r"/projects/([^/]+)/repository/commits/([^/]+)/statuses", self._statuses)
        self.route("GET", r"/projects/([^/]+)/members/all/(\d+)", self._member)
        self.route("GET", r"/groups/([^/]+)/members/all", self._group_members)
        self.route("GET", r"/users", self._users)

    # -- for tests ------------------------------------------------------------

    def add_mr(
        self,
        source: str,
        target: str,
        *,
        title: str = "Promote",
        description: str = "",
        labels: tuple[str, ...] = (),
        state: str = "opened",
        author: str | None = None,
        source_project_id: int | None = None,
    ) -> JSON:
        """Seed an existing merge request (as if opened earlier);
        `source_project_id`: a fork's id, for an MR from a fork."""
        mr = self._new_mr(source, target, title, description, list(labels), author or self.username)
        mr["state"] = state
        if source_project_id is not None:
            mr["source_project_id"] = source_project_id
        return mr

    def open_mrs(self, target: str | None = None) -> list[JSON]:
        return [
            m
            for m in self.mrs.values()
            if m["state"] == "opened" and (target is None or m["target_branch"] == target)
        ]

    def merge(self, iid: int) -> None:
        self.mrs[iid].update(
            state="merged", merged_at=CREATED_AT, merged_by=self._user(self.username)
        )

    def add_note(
        self, iid: int, body: str, *, author: str | None = None, system: bool = False
    ) -> JSON:
        """Seed a note on merge request `iid` (by `author`, default: us);
        system: one of GitLab's own ("added 1 commit")."""
        self._next_id += 1
        note = self._note_json(iid, self._next_id, body, author or self.username)
        note["system"] = system
        self.notes.setdefault(iid, []).append(note)
        return note

    def approve(self, iid: int, user: str, approved_at: str | None = CREATED_AT) -> None:
        """`user` approves merge request `iid` (approved_at None: an older
        GitLab that does not say when)."""
        self.users.setdefault(user, 100 + len(self.users))
        entry: JSON = {"user": self._user(user)}
        if approved_at is not None:
            entry["approved_at"] = approved_at
        self.approvals.setdefault(iid, []).append(entry)

    def add_status(
        self, sha: str, name: str, status: str, description: str = "", ref: str = "main"
    ) -> JSON:
        """Seed a commit status, as a pipeline job or another tool would."""
        self._next_id += 1
        entry = {
            "id": self._next_id,
            "sha": sha,
            "ref": ref,
            "status": status,
            "name": name,
            "target_url": None,
            "description": description or None,
            "created_at": CREATED_AT,
            "started_at": None,
            "finished_at": None,
            "allow_failure": False,
            "coverage": None,
            "pipeline_id": 1,
            "author": self._user(self.username),
        }
        self.statuses.setdefault(sha, []).append(entry)
        return entry

    def latest_statuses(self, sha: str) -> dict[str, JSON]:
        """name → the latest status with that name on `sha`."""
        return {s["name"]: s for s in self.statuses.get(sha, [])}

    # -- shapes ---------------------------------------------------------------

    def _user(self, username: str) -> JSON:
        uid = self.users.get(username, 0)
        return {
            "id": uid,
            "username": username,
            "name": username.title(),
            "state": "active",
            "locked": False,
            "avatar_url": None,
            "web_url": f"{self.url}/{username}",
        }

    def _by_id(self, ids: list[int]) -> list[JSON]:
        names = {uid: name for name, uid in self.users.items()}
        return [self._user(names[i]) for i in ids if i in names]

    def _new_mr(
        self,
        source: str,
        target: str,
        title: str,
        description: str | None,
        labels: list[str],
        author: str,
    ) -> JSON:
        iid = self._next_iid
        self._next_iid += 1
        draft = bool(_DRAFT.match(title))
        mr: JSON = {
            "id": 9000 + iid,
            "iid": iid,
            "project_id": self.project_id,
            "title": title,
            "description": description,
            "state": "opened",
            "created_at": CREATED_AT,
            "updated_at": CREATED_AT,
            "merged_by": None,
            "merge_user": None,
            "merged_at": None,
            "closed_by": None,
            "closed_at": None,
            "target_branch": target,
            "source_branch": source,
            "user_notes_count": 0,
            "upvotes": 0,
            "downvotes": 0,
            "author": self._user(author),
            "assignees": [],
            "assignee": None,
            "reviewers": [],
            "source_project_id": self.project_id,
            "target_project_id": self.project_id,
            "labels": labels,
            "draft": draft,
            "work_in_progress": draft,
            "milestone": None,
            "merge_when_pipeline_succeeds": False,
            "merge_status": "can_be_merged",
            "detailed_merge_status": "mergeable",
            "sha": self.branch_sha(source) or fake_sha(source),
            "merge_commit_sha": None,
            "squash_commit_sha": None,
            "discussion_locked": None,
            "should_remove_source_branch": None,
            "force_remove_source_branch": False,
            "reference": f"!{iid}",
            "references": {
                "short": f"!{iid}",
                "relative": f"!{iid}",
                "full": f"{self.project}!{iid}",
            },
            "web_url": f"{self.url}/{self.project}/-/merge_requests/{iid}",
            "squash": False,
            "has_conflicts": False,
            "blocking_discussions_resolved": True,
        }
        self.mrs[iid] = mr
        return mr

    # -- routes ---------------------------------------------------------------

    def authorised(self, headers: dict[str, str]) -> bool:
        if self.token is None:
            return True
        return (
            headers.get("PRIVATE-TOKEN") == self.token
            or headers.get("Authorization") == f"Bearer {self.token}"
        )

    def unauthorised(self) -> Reply:
        return _reply(401, {"message": "401 Unauthorized"})

    def not_found(self) -> Reply:
        return _reply(404, {"message": "404 Not Found"})

    def _ours(self, project: str) -> bool:
        name = unquote(project)
        return name.lower() == self.project.lower() or name == str(self.project_id)

    def _mr(self, project: str, iid: str) -> JSON | None:
        return self.mrs.get(int(iid)) if self._ours(project) else None

    def _project_missing(self) -> Reply:
        return _reply(404, {"message": "404 Project Not Found"})

    def _list(self, project: str, *, query: dict[str, str], url: str, **_: Any) -> Reply:
        if not self._ours(project):
            return self._project_missing()
        state = query.get("state", "all")
        items = sorted(self.mrs.values(), key=lambda m: -m["iid"])
        items = [
            m
            for m in items
            if (state == "all" or m["state"] == state)
            and ("target_branch" not in query or m["target_branch"] == query["target_branch"])
            and ("source_branch" not in query or m["source_branch"] == query["source_branch"])
        ]
        chunk, page, last = _page(items, query, 20)
        per_page = max(1, min(100, int(query.get("per_page", 20))))
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(items)),
            "X-Total-Pages": str(last),
            "X-Next-Page": str(page + 1) if page < last else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
            "Link": _link(url, query, page, last),
        }
        return _reply(200, chunk, headers)

    def _create(self, project: str, *, body: JSON, **_: Any) -> Reply:
        if not self._ours(project):
            return self._project_missing()
        missing = [k for k in ("source_branch", "target_branch", "title") if not body.get(k)]
        if missing:
            return _reply(400, {"error": f"{missing[0]} is missing"})
        source, target = body["source_branch"], body["target_branch"]
        if self.branch_sha(source) is None:
            return _reply(422, {"message": ["Source branch does not exist"]})
        for mr in self.open_mrs():
            if mr["source_branch"] == source and mr["target_branch"] == target:
                return _reply(
                    409,
                    {
                        "message": [
                            "Another open merge request already exists for this source "
                            f"branch: !{mr['iid']}"
                        ]
                    },
                )
        labels = body.get("labels") or []
        if isinstance(labels, str):
            labels = [name.strip() for name in labels.split(",") if name.strip()]
        mr = self._new_mr(
            source, target, body["title"], body.get("description"), labels, self.username
        )
        mr["assignees"] = self._by_id(body.get("assignee_ids") or [])
        mr["assignee"] = mr["assignees"][0] if mr["assignees"] else None
        mr["reviewers"] = self._by_id(body.get("reviewer_ids") or [])
        return _reply(201, mr)

    def _get(self, project: str, iid: str, **_: Any) -> Reply:
        mr = self._mr(project, iid)
        if mr is None:
            return self.not_found()
        return _reply(
            200,
            {**mr, "head_pipeline": {"id": 1, "status": "running"} if self.has_pipeline else None},
        )

    def _update(self, project: str, iid: str, *, body: JSON, **_: Any) -> Reply:
        mr = self._mr(project, iid)
        if mr is None:
            return self.not_found()
        if "title" in body:
            mr["title"] = body["title"]
            mr["draft"] = mr["work_in_progress"] = bool(_DRAFT.match(body["title"]))
        if "description" in body:
            mr["description"] = body["description"]
        if "target_branch" in body:
            mr["target_branch"] = body["target_branch"]

        def names(value: Any) -> list[str]:
            if isinstance(value, str):
                return [n.strip() for n in value.split(",") if n.strip()]
            return list(value or [])

        if "labels" in body:
            mr["labels"] = names(body["labels"])
        for name in names(body.get("add_labels")):
            if name not in mr["labels"]:
                mr["labels"].append(name)
        drop = set(names(body.get("remove_labels")))
        mr["labels"] = [n for n in mr["labels"] if n not in drop]
        if "assignee_ids" in body:
            mr["assignees"] = self._by_id(body["assignee_ids"])
            mr["assignee"] = mr["assignees"][0] if mr["assignees"] else None
        if "reviewer_ids" in body:
            mr["reviewers"] = self._by_id(body["reviewer_ids"])
        event = body.get("state_event")
        if event == "close" and mr["state"] == "opened":
            mr.update(state="closed", closed_at=CREATED_AT, closed_by=self._user(self.username))
        elif event == "reopen" and mr["state"] == "closed":
            mr.update(state="opened", closed_at=None, closed_by=None)
        return _reply(200, mr)

    def _merge(self, project: str, iid: str, *, body: JSON | None, **_: Any) -> Reply:
        mr = self._mr(project, iid)
        if mr is None:
            return self.not_found()
        body = body or {}
        if mr["state"] != "opened":
            return _reply(405, {"message": "405 Method Not Allowed"})
        if body.get("merge_when_pipeline_succeeds") or body.get("auto_merge"):
            if not self.has_pipeline:
                return _reply(405, {"message": "405 Method Not Allowed"})
            mr["merge_when_pipeline_succeeds"] = True
            mr["detailed_merge_status"] = "ci_still_running"
            return _reply(200, mr)
        self.merge(mr["iid"])
        return _reply(200, mr)

    def _note_json(self, iid: int, note_id: int, body: str, author: str | None = None) -> JSON:
        return {
            "id": note_id,
            "type": None,
            "body": body,
            "author": self._user(author or self.username),
            "created_at": CREATED_AT,
            "updated_at": CREATED_AT,
            "system": False,
            "noteable_id": 9000 + iid,
            "noteable_type": "MergeRequest",
            "noteable_iid": iid,
            "project_id": self.project_id,
            "resolvable": False,
            "confidential": False,
            "internal": False,
        }

    def _list_notes(
        self, project: str, iid: str, *, query: dict[str, str], url: str, **_: Any
    ) -> Reply:
        if self._mr(project, iid) is None:
            return self.not_found()
        notes = list(self.notes.get(int(iid), []))
        if query.get("sort", "desc") == "desc":  # GitLab's default: newest first
            notes.reverse()
        return _paged(notes, query, url)

    def _add_note(self, project: str, iid: str, *, body: JSON, **_: Any) -> Reply:
        mr = self._mr(project, iid)
        if mr is None:
            return self.not_found()
        if not (body or {}).get("body"):
            return _reply(400, {"error": "body is missing"})
        if len(body["body"]) > GITLAB_NOTE_LIMIT:
            return _note_too_long()
        self._next_id += 1
        note = self._note_json(int(iid), self._next_id, body["body"])
        self.notes.setdefault(int(iid), []).append(note)
        mr["user_notes_count"] += 1
        return _reply(201, note)

    def _note(self, project: str, iid: str, note_id: str) -> JSON | None:
        for note in self.notes.get(int(iid), []) if self._ours(project) else []:
            if note["id"] == int(note_id):
                return note
        return None

    def _edit_note(self, project: str, iid: str, note_id: str, *, body: JSON, **_: Any) -> Reply:
        note = self._note(project, iid, note_id)
        if note is None:
            return self.not_found()
        if len((body or {}).get("body") or "") > GITLAB_NOTE_LIMIT:
            return _note_too_long()
        note["body"] = body["body"]
        note["updated_at"] = "2026-01-02T00:00:00.000Z"
        self.edits[note["id"]] = self.edits.get(note["id"], 0) + 1
        return _reply(200, note)

    def _award(self, project: str, iid: str, note_id: str, *, body: JSON, **_: Any) -> Reply:
        note = self._note(project, iid, note_id)
        if note is None:
            return _reply(404, {"message": "404 Note Not Found"})
        name = (body or {}).get("name")
        if not name:
            return _reply(400, {"error": "name is missing"})
        awards = self.award_emoji.setdefault(note["id"], [])
        if any(a["name"] == name and a["user"]["username"] == self.username for a in awards):
            # What GitLab answers a repeated award (not_found! with the
            # validation message).
            return _reply(404, {"message": "404 Award Emoji Name has already been taken Not Found"})
        self._next_id += 1
        award = {
            "id": self._next_id,
            "name": name,
            "user": self._user(self.username),
            "created_at": CREATED_AT,
            "updated_at": CREATED_AT,
            "awardable_id": note["id"],
            "awardable_type": "Note",
        }
        awards.append(award)
        return _reply(201, award)

    def _approvals(self, project: str, iid: str, **_: Any) -> Reply:
        mr = self._mr(project, iid)
        if mr is None:
            return self.not_found()
        approved_by = self.approvals.get(mr["iid"], [])
        keys = ("id", "iid", "project_id", "title", "description", "state", "created_at")
        return _reply(
            200,
            {
                **{k: mr[k] for k in keys},
                "updated_at": mr["updated_at"],
                "merge_status": mr["merge_status"],
                "approved": bool(approved_by),
                "approvals_required": 0,
                "approvals_left": 0,
                "require_password_to_approve": False,
                "approved_by": approved_by,
                "suggested_approvers": [],
                "approvers": [],
                "approver_groups": [],
                "user_has_approved": any(
                    a["user"]["username"] == self.username for a in approved_by
                ),
                "user_can_approve": True,
                "approval_rules_left": [],
                "has_approval_rules": False,
                "merge_request_approvers_available": False,
                "multiple_approval_rules_available": False,
            },
        )

    def _create_status(self, project: str, sha: str, *, body: JSON, **_: Any) -> Reply:
        if not self._ours(project):
            return self._project_missing()
        body = body or {}
        state = body.get("state")
        events = {
            "pending": "enqueue",
            "running": "run",
            "success": "succeed",
            "failed": "drop",
            "canceled": "cancel",
            "skipped": "skip",
        }
        if state not in events:
            return _reply(400, {"error": "state does not have a valid value"})
        if not re.fullmatch(r"[0-9a-f]{40}", sha):
            return _reply(404, {"message": "404 References Not Found"})
        name = body.get("name") or body.get("context") or "default"
        # GitLab reuses a pending/running status of the same name and moves
        # it through its state machine; a finished one is kept and a new one
        # made. pending→pending and running→running are not transitions.
        current = next(
            (
                s
                for s in reversed(self.statuses.get(sha, []))
                if s["name"] == name and s["status"] in ("pending", "running")
            ),
            None,
        )
        if current is not None:
            if current["status"] == state or (
                state == "pending" and current["status"] == "running"
            ):
                event = events[state]
                return _reply(
                    400,
                    {
                        "message": f"Cannot transition status via :{event} from "
                        f":{current['status']} (Reason(s): Status cannot transition via "
                        f'"{event}")'
                    },
                )
            entry = current
            entry["status"] = state
        else:
            entry = self.add_status(sha, name, state, ref=body.get("ref") or "main")
        entry["description"] = body.get("description")
        entry["target_url"] = body.get("target_url")
        return _reply(201, entry)

    def _statuses(
        self, project: str, sha: str, *, query: dict[str, str], url: str, **_: Any
    ) -> Reply:
        if not self._ours(project):
            return self._project_missing()
        items = self.statuses.get(sha, [])
        if query.get("all") not in ("true", "1"):
            items = sorted(self.latest_statuses(sha).values(), key=lambda s: s["id"])
        return _paged(items, query, url)

    def _member(self, project: str, user_id: str, **_: Any) -> Reply:
        if not self._ours(project):
            return self._project_missing()
        names = {uid: name for name, uid in self.users.items()}
        name = names.get(int(user_id))
        if name is None or name not in self.members:
            return _reply(404, {"message": "404 Not found"})
        return _reply(
            200,
            {
                **self._user(name),
                "access_level": self.members[name],
                "created_at": CREATED_AT,
                "expires_at": None,
                "membership_state": "active",
            },
        )

    def _group_members(self, group: str, *, query: dict[str, str], url: str, **_: Any) -> Reply:
        members = self.groups.get(unquote(group).lower())
        if members is None:
            return _reply(404, {"message": "404 Group Not Found"})
        items = [
            {**self._user(name), "access_level": 30, "membership_state": "active"}
            for name in sorted(members)
        ]
        return _paged(items, query, url)

    def _users(self, *, query: dict[str, str], **_: Any) -> Reply:
        name = query.get("username")
        if name is None:
            return _reply(200, [self._user(n) for n in self.users])
        match = [self._user(n) for n in self.users if n.lower() == name.lower()]
        return _reply(200, match)


GITLAB_NOTE_LIMIT = 1_000_000


def _note_too_long() -> Reply:
    return _reply(
        400, {"message": {"note": [f"is too long (maximum is {GITLAB_NOTE_LIMIT} characters)"]}}
    )


def _paged(items: list[JSON], query: dict[str, str], url: str) -> Reply:
    """A GitLab list answer: X-* pagination headers and a Link header (which
    python-gitlab follows)."""
    chunk, page, last = _page(items, query, 20)
    per_page = max(1, min(100, int(query.get("per_page", 20))))
    headers = {
        "X-Page": str(page),
        "X-Per-Page": str(per_page),
        "X-Total": str(len(items)),
        "X-Total-Pages": str(last),
        "X-Next-Page": str(page + 1) if page < last else "",
        "X-Prev-Page": str(page - 1) if page > 1 else "",
        "Link": _link(url, query, page, last),
    }
    return _reply(200, chunk, headers)


# ---------------------------------------------------------------------------
# Context helpers


def sent(rsps: responses.RequestsMock) -> list[tuple[str, str, Any]]:
    """(METHOD, URL, JSON body) of every request `rsps` saw, in order: what
    tests assert. URLs are as sent (PyGithub spells out :443)."""
    out: list[tuple[str, str, Any]] = []
    for call in rsps.calls:
        request = call.request
        body = request.body
        if isinstance(body, bytes):
            body = body.decode()
        out.append((str(request.method), str(request.url), json.loads(body) if body else None))
    return out


@contextmanager
def github_fake(**kwargs: Any) -> Iterator[FakeGitHub]:
    """A RequestsMock with a FakeGitHub installed; kwargs go to FakeGitHub."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeGitHub(rsps, **kwargs)


@contextmanager
def gitlab_fake(**kwargs: Any) -> Iterator[FakeGitLab]:
    """A RequestsMock with a FakeGitLab installed; kwargs go to FakeGitLab."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeGitLab(rsps, **kwargs)


@dataclass
class SleepRecorder:
    """A stand-in for time.sleep that records instead of sleeping."""

    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
