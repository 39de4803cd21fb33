"""`forge: {commitMethod: api}`: commits made through GitHub's Git Data API
instead of `git push`, so that GitHub signs them and marks them Verified
for the App that made them (as Argo CD Image Updater's `api` method and
Kargo's github-push do).

A commit is a tree on top of its parent's (only the changed files are
sent) and a commit object; the branch moves by a ref update that is never
forced for a bump — GitHub refuses one that is not a fast-forward, and the
caller re-applies its edit on the new tip, as after a rejected push. A
promotion branch, rebuilt from its environment's tip, is forced, but only
while it is still at the commit the caller last saw (the lease).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promoter.adapters.forges.github_client import GitHubClient
from promoter.core import masking
from promoter.errors import ForgeError

FILE_MODE = "100644"


class GitDataCommits(GitHubClient):
    def create_commit(
        self, parent: str, base_tree: str, files: Mapping[str, str | None], message: str
    ) -> str:
        """A commit of `files` (path → new text; None: deleted) on `parent`,
        whose tree is `base_tree`; its sha. The branch does not move."""
        entries: list[dict[str, Any]] = [
            {"path": path, "mode": FILE_MODE, "type": "blob", "content": text}
            if text is not None
            else {"path": path, "mode": FILE_MODE, "type": "blob", "sha": None}
            for path, text in sorted(files.items())
        ]
        tree = self._call(
            f"create a tree on {parent[:12]}",
            lambda: self._api("POST", "/git/trees", data={"base_tree": base_tree, "tree": entries}),
            needs="`contents: write`",
        )
        commit = self._call(
            f"create a commit on {parent[:12]}",
            lambda: self._api(
                "POST",
                "/git/commits",
                # No author or committer: GitHub makes the App's bot both and signs it.
                data={"message": message, "tree": tree["sha"], "parents": [parent]},
            ),
            needs="`contents: write`",
        )
        return str(commit["sha"])

    def branch_tip(self, branch: str) -> str | None:
        try:
            answer = self._call(
                f"read branch {branch}", lambda: self._api("GET", f"/git/ref/heads/{branch}")
            )
        except ForgeError as err:
            if "404" in str(err) or "not found" in str(err).lower():
                return None
            raise
        return str(answer["object"]["sha"])

    def move_branch(
        self, branch: str, sha: str, *, expected: str | None, force: bool = False
    ) -> str | None:
        """Point `branch` at `sha`. None when it moved; why not when the branch
        moved under us (not a fast-forward, or no longer at `expected`, or it
        appeared when `expected` is None): the caller re-applies and retries."""
        if expected is None:
            refused = self._tolerating_422(
                f"create branch {branch}",
                lambda: self._api(
                    "POST", "/git/refs", data={"ref": f"refs/heads/{branch}", "sha": sha}
                ),
            )
            return None if refused is None else f"branch {branch} appeared meanwhile: {refused}"
        if force:
            tip = self.branch_tip(branch)
            if tip != expected:
                return f"branch {branch} is at {(tip or 'nothing')[:12]}, not {expected[:12]}"
        refused = self._tolerating_422(
            f"move branch {branch}",
            lambda: self._api(
                "PATCH", f"/git/refs/heads/{branch}", data={"sha": sha, "force": force}
            ),
        )
        return None if refused is None else masking.mask(f"{branch}: {refused}")
