"""The only module that talks to git (through GitPython's command runner).

Tokens are handed to git as an HTTP header through `GIT_CONFIG_*`
environment variables of the child process, so they never land in
`.git/config`, in a remote URL, or in anything we print.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass
from pathlib import Path

from git.cmd import Git

from promoter import secrets
from promoter.errors import GitError

NETWORK_TIMEOUT_S = 600
TOKEN_VARIABLES = ("PROMOTER_GIT_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN")

# git's words for "the branch moved under you": a plain non-fast-forward, and
# the ref-lock races a server reports when two pushes land at once.
_REJECTED = re.compile(
    r"\[rejected\]|non-fast-forward|fetch first|failed to update ref|cannot lock ref|"
    r"\[remote rejected\].*(?:lock|update ref)|stale info",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Identity:
    name: str
    email: str


def auth_environment(url: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Child-process variables that authenticate git over HTTPS, if a token is set.

    Username defaults suit the forges: `oauth2` for GitLab tokens,
    `x-access-token` otherwise; `PROMOTER_GIT_USERNAME` overrides.
    """
    environ = dict(os.environ if environ is None else environ)
    env = {"GIT_TERMINAL_PROMPT": "0"}
    if not url.startswith(("http://", "https://")):
        return env
    _, url_user, url_password = secrets.strip_credentials(url)
    token = url_password
    source = None
    if token is None:
        for name in TOKEN_VARIABLES:
            if environ.get(name):
                token, source = environ[name], name
                break
    if not token:
        return env
    secrets.register(token)
    user = environ.get("PROMOTER_GIT_USERNAME") or url_user
    if not user:
        user = "oauth2" if source == "GITLAB_TOKEN" else "x-access-token"
    basic = base64.b64encode(f"{user}:{token}".encode()).decode()
    secrets.register(basic)
    count = int(environ.get("GIT_CONFIG_COUNT", "0") or 0)
    env.update(
        {
            "GIT_CONFIG_COUNT": str(count + 1),
            f"GIT_CONFIG_KEY_{count}": "http.extraHeader",
            f"GIT_CONFIG_VALUE_{count}": f"Authorization: Basic {basic}",
        }
    )
    return env


class GitRepo:
    """A working tree, driven by git commands with our environment."""

    def __init__(self, path: Path, env: dict[str, str] | None = None) -> None:
        self.path = path
        self.env = env or {}

    def run(
        self,
        *args: str,
        timeout: int | None = None,
        check: bool = True,
        doing: str | None = None,
    ) -> tuple[int, str, str]:
        cmd = ["git", *args]
        status, out, err = Git(str(self.path)).execute(
            cmd,
            with_extended_output=True,
            with_exceptions=False,
            env=self.env,
            kill_after_timeout=timeout,
        )
        if check and status != 0:
            what = doing or f"`git {args[0]}`"
            detail = secrets.mask(str(err).strip()) or f"exit status {status}"
            raise GitError(f"{what} failed: {detail}", hint=_hint(str(err)))
        return int(status), str(out), str(err)

    def out(self, *args: str) -> str:
        return self.run(*args)[1]

    @classmethod
    def clone(
        cls, url: str, dest: Path, *, branch: str | None, sparse: list[str], env: dict[str, str]
    ) -> GitRepo:
        """A shallow, blob-less, sparse clone: the cost of a bump does not grow
        with the size or history of the environment repository."""
        clean_url, _, _ = secrets.strip_credentials(url)
        args = ["clone", "--quiet", "--depth", "1", "--filter=blob:none", "--no-checkout"]
        if branch:
            args += ["--branch", branch]
        dest.parent.mkdir(parents=True, exist_ok=True)
        repo = cls(dest.parent, env)
        repo.run(
            *args,
            "--",
            clean_url,
            str(dest),
            timeout=NETWORK_TIMEOUT_S,
            doing=f"cloning {clean_url}" + (f" (branch {branch})" if branch else ""),
        )
        repo = cls(dest, env)
        repo.run("sparse-checkout", "set", "--no-cone", *sparse)
        repo.run("checkout", "--quiet")
        return repo

    def set_sparse(self, patterns: list[str]) -> None:
        self.run("sparse-checkout", "set", "--no-cone", *patterns)

    def current_branch(self) -> str:
        return self.out("rev-parse", "--abbrev-ref", "HEAD")

    def head(self) -> str:
        return self.out("rev-parse", "HEAD")

    def fetch_reset(self, branch: str) -> str:
        """Move to the remote's newest `branch` tip, dropping local work."""
        self.run(
            "fetch",
            "--quiet",
            "--depth",
            "1",
            "origin",
            f"+refs/heads/{branch}:refs/remotes/origin/{branch}",
            timeout=NETWORK_TIMEOUT_S,
            doing=f"fetching branch {branch!r}",
        )
        self.run("checkout", "--quiet", "-B", branch, f"refs/remotes/origin/{branch}")
        self.run("reset", "--quiet", "--hard", f"refs/remotes/origin/{branch}")
        return self.head()

    def commit(self, paths: list[str], message: str, author: Identity) -> str:
        self.run("add", "--sparse", "--", *paths)
        env_id = [
            "-c",
            f"user.name={author.name}",
            "-c",
            f"user.email={author.email}",
        ]
        self.run(*env_id, "commit", "--quiet", "--no-verify", "-m", message)
        return self.head()

    def push(self, branch: str) -> bool:
        """Push HEAD to `branch`; False when rejected because the branch moved."""
        status, out, err = self.run(
            "push",
            "--porcelain",
            "origin",
            f"HEAD:refs/heads/{branch}",
            timeout=NETWORK_TIMEOUT_S,
            check=False,
        )
        if status == 0:
            return True
        # --porcelain puts the per-ref verdict ("[rejected] (fetch first)") on stdout.
        if _REJECTED.search(out) or _REJECTED.search(err):
            return False
        detail = secrets.mask(f"{out.strip()}\n{err.strip()}".strip())
        raise GitError(f"pushing to branch {branch!r} failed: {detail}", hint=_hint(err))


def _hint(stderr: str) -> str | None:
    text = stderr.lower()
    if "authentication failed" in text or "could not read username" in text or " 401" in text:
        return (
            "set PROMOTER_GIT_TOKEN (or GITHUB_TOKEN / GITLAB_TOKEN) to a token with write access"
        )
    if " 403" in text or "permission to" in text or "denied" in text:
        return "the token or key lacks write access to this repository"
    if ("remote branch" in text and "not found" in text) or "couldn't find remote ref" in text:
        return "check --branch or the environment's `branch:` in promoter.yaml"
    if "not found" in text or "does not appear to be a git repository" in text:
        return "check the repository URL (--repo-url) and that the token can see it"
    if "could not resolve host" in text or "connection refused" in text:
        return "the git server is unreachable from here"
    return None
