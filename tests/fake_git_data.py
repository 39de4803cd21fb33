"""GitHub's Git Data API on the GitHub fake, acting on a real bare
repository: what `forge: {commitMethod: api}` uses. Trees, commits and ref
updates are made with git's plumbing in that repository, so a later
`git fetch` sees them as it would on GitHub, and answered as GitHub does:

- `POST /git/trees` (`base_tree`, entries with `content`, or `sha: null` to
  delete), `POST /git/commits` (`message`, `tree`, `parents`; author and
  committer default to the App's bot, and the commit is marked verified:
  GitHub signs commits an App makes through the API);
- `GET /git/ref/heads/{branch}` (404 when absent), `POST /git/refs`
  (422 "Reference already exists"), `PATCH /git/refs/heads/{branch}`
  (`force: false` and not a fast-forward: 422 "Update is not a fast
  forward"; the update itself is a compare-and-swap on the ref);
- `GET /commits/{sha}` carries `commit.verification`.

    with github_fake(repo="acme/env") as gh:
        data = GitData(gh, remote.path)
        ...
        assert data.verified == {sha, …}
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fakeforge import FakeGitHub, _reply

BOT = ("promoter-app[bot]", "4242+promoter-app[bot]@users.noreply.github.com")


class GitData:
    def __init__(self, gh: FakeGitHub, bare: Path) -> None:
        self.gh, self.bare = gh, bare
        self.hooks: dict[str, Callable[[], None]] = {}
        """Run once before the next "tree" or "update" is handled: someone
        else's push landing in between, for the no-lost-update tests."""
        self.verified: set[str] = set()
        self.ref_updates: list[tuple[str, str, bool]] = []
        """(ref, sha, force) of every accepted update or creation."""
        r = r"/repos/([^/]+/[^/]+)"
        gh.route("POST", rf"{r}/git/trees", self._tree)
        gh.route("POST", rf"{r}/git/commits", self._commit)
        gh.route("GET", rf"{r}/git/ref/(heads/.+)", self._get_ref)
        gh.route("POST", rf"{r}/git/refs", self._create_ref)
        gh.route("PATCH", rf"{r}/git/refs/(heads/.+)", self._update_ref)
        gh.route("GET", rf"{r}/commits/([0-9a-f]{{40}})", self._get_commit)

    def git(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(["git", *args], cwd=self.bare, input=input, capture_output=True,
                              env={**os.environ, **(env or {})}, check=False)  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(done.stderr.decode())
        return done.stdout.decode().strip()

    def _ours(self, repo: str) -> bool:
        return repo.lower() == self.gh.repo.lower()

    def _sha(self, ref: str) -> str | None:
        try:
            return self.git("rev-parse", "--verify", "--quiet", f"refs/{ref}")
        except RuntimeError:
            return None

    def _ref_json(self, ref: str, sha: str) -> dict[str, Any]:
        url = f"{self.gh.api_root}/repos/{self.gh.repo}/git/refs/{ref}"
        return {"ref": f"refs/{ref}", "url": url, "object": {"sha": sha, "type": "commit"}}

    def _hook(self, name: str) -> None:
        hook = self.hooks.pop(name, None)
        if hook is not None:
            hook()

    # -- routes -----------------------------------------------------------------------

    def _tree(self, repo: str, *, body: dict[str, Any], **_: Any) -> Any:
        if not self._ours(repo):
            return self.gh.not_found()
        self._hook("tree")
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if body.get("base_tree"):
                self.git("read-tree", body["base_tree"], env=env)
            for entry in body.get("tree", []):
                if entry.get("sha", "") is None and "content" not in entry:
                    self.git("update-index", "--force-remove", "--", entry["path"], env=env)
                    continue
                blob = self.git("hash-object", "-w", "--stdin", input=entry["content"].encode())
                self.git("update-index", "--add", "--cacheinfo",
                         f"{entry['mode']},{blob},{entry['path']}", env=env)  # fmt: skip
            tree = self.git("write-tree", env=env)
        return _reply(201, {"sha": tree, "url": f"{self.gh.api_root}/repos/{repo}/git/trees/{tree}",
                            "tree": [], "truncated": False})  # fmt: skip

    def _commit(self, repo: str, *, body: dict[str, Any], **_: Any) -> Any:
        if not self._ours(repo):
            return self.gh.not_found()
        name, email = BOT
        env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
               "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}  # fmt: skip
        parents = [a for p in body.get("parents", []) for a in ("-p", p)]
        sha = self.git("commit-tree", body["tree"], *parents, "-m", body["message"], env=env)
        self.verified.add(sha)
        return _reply(201, self._commit_json(repo, sha, body))

    def _commit_json(self, repo: str, sha: str, body: dict[str, Any]) -> dict[str, Any]:
        name, email = BOT
        person = {"name": name, "email": email, "date": "2026-01-01T00:00:00Z"}
        return {
            "sha": sha, "node_id": f"C_{sha[:10]}",
            "url": f"{self.gh.api_root}/repos/{repo}/git/commits/{sha}",
            "html_url": f"{self.gh.web_root}/{repo}/commit/{sha}",
            "author": person, "committer": person, "message": body.get("message", ""),
            "tree": {"sha": body.get("tree", ""), "url": ""},
            "parents": [{"sha": p, "url": ""} for p in body.get("parents", [])],
            "verification": {"verified": sha in self.verified, "reason": "valid"
                             if sha in self.verified else "unsigned", "signature": None,
                             "payload": None},
        }  # fmt: skip

    def _get_ref(self, repo: str, ref: str, **_: Any) -> Any:
        sha = self._sha(ref) if self._ours(repo) else None
        return _reply(200, self._ref_json(ref, sha)) if sha else self.gh.not_found()

    def _create_ref(self, repo: str, *, body: dict[str, Any], **_: Any) -> Any:
        if not self._ours(repo):
            return self.gh.not_found()
        ref = body["ref"].removeprefix("refs/")
        if self._sha(ref) is not None:
            return _reply(422, {"message": "Reference already exists", "status": "422"})
        self.git("update-ref", f"refs/{ref}", body["sha"], "0" * 40)
        self.ref_updates.append((ref, body["sha"], False))
        return _reply(201, self._ref_json(ref, body["sha"]))

    def _update_ref(self, repo: str, ref: str, *, body: dict[str, Any], **_: Any) -> Any:
        if not self._ours(repo):
            return self.gh.not_found()
        self._hook("update")
        current = self._sha(ref)
        if current is None:
            return _reply(422, {"message": "Reference does not exist", "status": "422"})
        sha, force = body["sha"], bool(body.get("force"))
        if not force:
            try:
                self.git("merge-base", "--is-ancestor", current, sha)
            except RuntimeError:
                return _reply(422, {"message": "Update is not a fast forward", "status": "422"})
        self.git("update-ref", f"refs/{ref}", sha, current)
        self.ref_updates.append((ref, sha, force))
        return _reply(200, self._ref_json(ref, sha))

    def _get_commit(self, repo: str, sha: str, **_: Any) -> Any:
        if not self._ours(repo):
            return self.gh.not_found()
        try:
            message = self.git("log", "-1", "--format=%B", sha)
            tree = self.git("rev-parse", f"{sha}^{{tree}}")
        except RuntimeError:
            return _reply(422, {"message": f"No commit found for SHA: {sha}", "status": "422"})
        git_commit = self._commit_json(repo, sha, {"message": message, "tree": tree})
        return _reply(200, {"sha": sha, "commit": git_commit, "html_url": git_commit["html_url"]})
