"""The only module that talks to git (GitPython starts the processes).

Tokens are handed to git as an HTTP header through `GIT_CONFIG_*`
environment variables of the child process, so they never land in
`.git/config`, in a remote URL, or in anything we print.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from promoter.adapters.git_hints import hint_for as _hint
from promoter.core import masking
from promoter.core.rehearsal import Rehearsal
from promoter.errors import GitError, InputError

log = logging.getLogger("promoter.git")

NETWORK_TIMEOUT_S = 600
STOP_GRACE_S = 1.0
"""How long a stopped git may take to clean up before it is killed."""
TOKEN_VARIABLES = ("PROMOTER_GIT_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN")

# The per-ref verdicts (from `push --porcelain` stdout, never from `remote:`
# hook chatter) that mean "the branch moved under you": a plain
# non-fast-forward, and the compare-and-swap failure a server reports when
# two pushes land at once.
_RACE = re.compile(
    r"^!\t\S+\t\[rejected\] \((?:fetch first|non-fast-forward)\)"
    r"|^!\t\S+\t\[remote rejected\] \(.*(?:is at [0-9a-f]+ but expected|failed to update ref)",
    re.MULTILINE,
)
# Settings of the user's own git config that must not touch our commits.
_COMMIT_CONFIG = (
    "-c",
    "commit.gpgsign=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "commit.cleanup=verbatim",
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
    # Never prompt (CI has no terminal); keep auth headers out of any trace
    # a user switched on with GIT_TRACE_CURL.
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_TRACE_REDACT": "1"}
    if not url.startswith(("http://", "https://")):
        return env
    clean_url, url_user, url_password = masking.strip_credentials(url)
    token, source = url_password, "url"
    if token is None:
        token, source = _app_token(clean_url, environ), "app"
    if token is None:
        for name in TOKEN_VARIABLES:
            if environ.get(name):
                token, source = environ[name], name
                break
    if token is None and url_user:  # https://TOKEN@host/…: the token as the user
        token, url_user = url_user, None
    if not token:
        return env
    masking.register(token)
    user = environ.get("PROMOTER_GIT_USERNAME") or url_user
    if not user:
        user = "oauth2" if source == "GITLAB_TOKEN" else "x-access-token"
    basic = base64.b64encode(f"{user}:{token}".encode()).decode()
    masking.register(basic)
    scheme, _, rest = clean_url.partition("://")
    host = rest.split("/", 1)[0]
    if scheme == "http" and not _loopback(host) and not environ.get("PROMOTER_ALLOW_HTTP_TOKEN"):
        raise InputError(
            f"refusing to send a token to {host} over plain http",
            hint="use an https:// URL (or set PROMOTER_ALLOW_HTTP_TOKEN=1 on a trusted network)",
        )
    count_text = environ.get("GIT_CONFIG_COUNT", "0")
    count = int(count_text) if count_text.isdigit() else 0
    env.update(
        {
            "GIT_CONFIG_COUNT": str(count + 1),
            # Scoped to this host: a redirect or submodule elsewhere never gets it.
            f"GIT_CONFIG_KEY_{count}": f"http.{scheme}://{host}/.extraHeader",
            f"GIT_CONFIG_VALUE_{count}": f"Authorization: Basic {basic}",
        }
    )
    return env


class GitRepo:
    """A working tree, driven by git commands with our environment."""

    def __init__(self, path: Path, env: dict[str, str] | None = None) -> None:
        self.path = path
        self.env = env or {}
        self.rehearsal: Rehearsal | None = None
        """Set for --dry-run: pushes become `git push --dry-run` (the remote
        still judges auth and fast-forwards) and are noted there."""
        self.env_source: Callable[[], dict[str, str]] | None = None
        """Computes `env` afresh for each command (a GitHub App token expires)."""
        self.signing: tuple[str, ...] = ()
        """`git -c` options that sign each commit (adapters/signing.py)."""

    def _rehearse(self, branch: str) -> None:
        """Note what pushing HEAD to `branch` would send: the commits the
        remote does not have, with their patches."""
        assert self.rehearsal is not None
        unpushed = ("HEAD", "--not", "--remotes=origin")
        subjects = self.out("log", "--format=%h %s", *unpushed).splitlines()
        patch = self.out("log", "-p", "--no-color", "--format=commit %h %s", *unpushed)
        self.rehearsal.note(
            "push",
            f"push {len(subjects)} commit(s) to branch {branch} "
            "(git push --dry-run: the remote would accept it)",
            branch=branch,
            commit=self.head(),
            commits=subjects,
            patch=masking.mask(patch),
        )

    def _env(self) -> dict[str, str]:
        return self.env_source() if self.env_source is not None else self.env

    def run(
        self,
        *args: str,
        timeout: int | None = None,
        check: bool = True,
        doing: str | None = None,
    ) -> tuple[int, str, str]:
        # -v: the subcommand and its operands (options are noise here).
        log.info("git %s", " ".join(a for a in args[:8] if not a.startswith("-")))
        status, out, err = _execute(self.path, args, self._env(), timeout)
        text, errors = _decode(out), _decode(err)
        if check and status != 0:
            what = doing or f"`git {args[0]}`"
            detail = masking.mask(errors.strip()) or f"exit status {status}"
            raise GitError(f"{what} failed: {detail}", hint=_hint(errors))
        return status, text, errors

    def out(self, *args: str) -> str:
        return self.run(*args)[1]

    def run_bytes(self, *args: str, doing: str | None = None) -> bytes:
        """stdout as bytes (archives), raising GitError on failure."""
        status, out, err = _execute(self.path, args, self._env(), NETWORK_TIMEOUT_S)
        if status != 0:
            errors = _decode(err)
            detail = masking.mask(errors.strip()) or f"exit status {status}"
            raise GitError(f"{doing or 'git ' + args[0]} failed: {detail}", hint=_hint(errors))
        return out

    @classmethod
    def clone(
        cls,
        url: str,
        dest: Path,
        *,
        branch: str | None,
        sparse: list[str],
        env: dict[str, str],
        shallow: bool = True,
    ) -> GitRepo:
        """A blob-less, sparse clone — shallow for a bump, with full commit
        history (still no blobs) when history is read: the cost does not grow
        with the size of the environment repository."""
        clean_url, _, _ = masking.strip_credentials(url)
        args = ["clone", "--quiet", "--filter=blob:none", "--no-checkout"]
        if shallow:
            args += ["--depth", "1"]
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
        # Both fetch the blobs the sparse patterns select, lazily.
        repo.set_sparse(sparse)
        repo.run("checkout", "--quiet", timeout=NETWORK_TIMEOUT_S)
        return repo

    def set_sparse(self, patterns: list[str]) -> None:
        self.run("sparse-checkout", "set", "--no-cone", *patterns, timeout=NETWORK_TIMEOUT_S)

    def checkout_only(self, paths: list[str]) -> None:
        """Sparse-check-out exactly these files, and of these directories only
        their own files (the editors never read subdirectories)."""
        patterns = []
        for path in paths:
            rel = _escape(path.strip("/"))
            if self.object_type(path) == "tree":
                patterns += [f"/{rel}/*", f"!/{rel}/*/"]
            else:
                patterns.append(f"/{rel}")
        self.set_sparse(patterns)

    def object_type(self, path: str) -> str | None:
        """ "tree", "blob" or None: what `path` is at HEAD (no blob download)."""
        listing = self.out("ls-tree", "HEAD", "--", path.strip("/"))
        return listing.split()[1] if listing else None

    def remote_branch(self, branch: str) -> str | None:
        """Fetch origin's `branch` into refs/remotes/origin/; its sha, or None
        when the remote has no such branch."""
        status, _, err = self.run(
            "fetch",
            "--quiet",
            "origin",
            f"+refs/heads/{branch}:refs/remotes/origin/{branch}",
            timeout=NETWORK_TIMEOUT_S,
            check=False,
        )
        if status != 0:
            if "couldn't find remote ref" in err.lower():
                return None
            raise GitError(
                f"fetching branch {branch!r} failed: {masking.mask(err.strip())}",
                hint=_hint(err),
            )
        return self.out("rev-parse", f"refs/remotes/origin/{branch}")

    def has_commit(self, sha: str, *, fetch: bool = True) -> bool:
        """`sha` is a commit here; with `fetch`, try once to fetch it from
        origin first (a controller may report a commit this clone lacks)."""

        def present() -> bool:
            return self.run("cat-file", "-e", f"{sha}^{{commit}}", check=False)[0] == 0

        if present():
            return True
        if fetch and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha):
            self.run("fetch", "--quiet", "origin", sha, timeout=NETWORK_TIMEOUT_S, check=False)
            return present()
        return False

    def archive(self, ref: str, paths: list[str]) -> bytes:
        """A tar of `paths` (those that exist) at `ref`."""
        present = [p for p in paths if self.out("ls-tree", ref, "--", p.strip("/"))]
        if not present:
            return b""
        return self.run_bytes(
            "archive",
            "--format=tar",
            ref,
            "--",
            *[p.strip("/") for p in present],
            doing=f"reading {ref}",
        )

    def log(self, ref: str, paths: list[str] | None = None) -> list[tuple[str, str, str, str]]:
        """(sha, committer date ISO, author "name <email>", message), newest first."""
        args = ["log", "--format=%H%x00%cI%x00%an <%ae>%x00%B%x1e", ref]
        if paths:
            args += ["--", *[p.strip("/") for p in paths]]
        out = self.out(*args)
        records = []
        for chunk in out.split("\x1e"):
            chunk = chunk.strip("\n")
            if chunk:
                sha, date, author, message = chunk.split("\x00", 3)
                records.append((sha, date, author, message))
        return records

    def switch(self, branch: str, start: str) -> None:
        """Check out a new (or reset) local `branch` at `start`."""
        self.run("checkout", "--quiet", "-B", branch, start, timeout=NETWORK_TIMEOUT_S)

    def same_tree(self, a: str, b: str) -> bool:
        return self.out("rev-parse", f"{a}^{{tree}}") == self.out("rev-parse", f"{b}^{{tree}}")

    def push_branch(self, branch: str, expected: str | None) -> None:
        """Force-push HEAD to `branch`, but only if the remote branch is still
        at `expected` (None: must not exist) — never clobber someone's push."""
        lease = f"--force-with-lease=refs/heads/{branch}:{expected or ''}"
        rehearse = ["--dry-run"] if self.rehearsal else []
        self.run(
            "push",
            "--quiet",
            *rehearse,
            lease,
            "origin",
            f"HEAD:refs/heads/{branch}",
            timeout=NETWORK_TIMEOUT_S,
            doing=f"pushing branch {branch!r}",
        )
        if self.rehearsal:
            self._rehearse(branch)

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
        remote = f"refs/remotes/origin/{branch}"
        self.run("checkout", "--quiet", "-B", branch, remote, timeout=NETWORK_TIMEOUT_S)
        self.run("reset", "--quiet", "--hard", remote, timeout=NETWORK_TIMEOUT_S)
        return self.head()

    def commit(self, paths: list[str], message: str, author: Identity) -> str:
        self.run("add", "--sparse", "--", *paths)
        identity = ("-c", f"user.name={author.name}", "-c", f"user.email={author.email}")
        config = (*identity, *_COMMIT_CONFIG, *self.signing)  # signing's -c comes last: it wins
        self.run(*config, "commit", "--quiet", "--no-verify", "-m", message)
        return self.head()

    def push(self, branch: str) -> str | None:
        """Push HEAD to `branch`. None when it landed; git's verdict when it
        was rejected because the branch moved (the caller may retry); any
        other failure raises GitError."""
        rehearse = ["--dry-run"] if self.rehearsal else []
        status, out, err = self.run(
            "push",
            "--porcelain",
            *rehearse,
            "origin",
            f"HEAD:refs/heads/{branch}",
            timeout=NETWORK_TIMEOUT_S,
            check=False,
        )
        if status == 0:
            if self.rehearsal:
                self._rehearse(branch)
            return None
        race = _RACE.search(out)
        if race:
            verdict = race.group(0).rsplit("\t", 1)[-1]
            return masking.mask(f"{verdict}; {err.strip()}" if err.strip() else verdict)
        detail = masking.mask(f"{out.strip()}\n{err.strip()}".strip())
        raise GitError(f"pushing to branch {branch!r} failed: {detail}", hint=_hint(err))


def _app_token(url: str, environ: dict[str, str]) -> str | None:
    """A GitHub App's installation token for an https GitHub remote, if an App is configured."""
    from promoter.adapters.forges.github_app import app_credentials, installation_token
    from promoter.adapters.forges.remote import api_base, parse_remote

    app = app_credentials(environ)
    remote = parse_remote(url)
    if app is None or remote.local or "gitlab" in remote.host:
        return None
    return installation_token(app, api_base("github", remote), remote.path)


def _loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    return name in ("localhost", "[::1]") or name.startswith("127.")


def _escape(path: str) -> str:
    # Sparse patterns are gitignore globs; a configured path is literal.
    return "".join("\\" + c if c in "*?[]\\!#" else c for c in path)


def _execute(
    path: Path, args: tuple[str, ...], env: dict[str, str], timeout: float | None
) -> tuple[int, bytes, bytes]:
    """Run `git args` in `path`: (status, stdout, stderr), one trailing newline
    stripped from each as GitPython does.

    GitPython starts the process (its environment rules: the caller's
    environment, C locale, then ours); we wait for it ourselves. Its own
    `kill_after_timeout` is a non-daemon timer thread that kept an
    interrupted promoter alive for the whole timeout. git runs in its own
    session so that ending it ends its helpers (remote-https, index-pack)
    too: on a timeout, an interrupt or a SIGTERM the group is stopped before
    the exception goes on, so temporary clones can be removed at once.
    """
    from git.cmd import Git  # GitPython loads on the first git command

    handle = Git(str(path)).execute(
        ["git", *args], as_process=True, env=env, start_new_session=True
    )
    proc: subprocess.Popen[bytes] | None = handle.proc
    if proc is None:  # GitPython's AutoInterrupt always carries one
        raise GitError(f"`git {args[0]}` could not be started")
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise GitError(
            f"`git {args[0]}` did not finish within {timeout:g} s; it was stopped",
            hint="check that the remote answers (network, proxy, server load)",
        ) from None
    except BaseException:
        _stop(proc)
        raise
    return int(proc.returncode), out.removesuffix(b"\n"), err.removesuffix(b"\n")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to git's process group (git removes a half-made clone itself),
    SIGKILL if it is still there after a second."""
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")
