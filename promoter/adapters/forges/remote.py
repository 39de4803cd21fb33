"""What a git remote URL tells us about the forge: its kind, the repository
slug, and the API base URL.

Forms understood: https://host[:port]/owner/repo(.git), http://…,
git@host:owner/repo.git (scp-like), ssh://git@host[:port]/owner/repo.git,
git://host/owner/repo.git, and local ones (file://…, plain paths) which have
no forge ("none"). GitLab paths may be nested: group/sub/project.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from promoter.core import masking
from promoter.errors import InputError

KINDS = ("github", "gitlab", "none")

_SCP = re.compile(r"^(?:[^@/\s]+@)?(?P<host>[^:/\s]+):(?P<path>[^/].*)$")
_FORGE_HINT = "pass --forge github, --forge gitlab, or --forge none (no pull requests)"


@dataclass(frozen=True)
class Remote:
    scheme: str
    """"https", "http", "ssh", "git" or "file" (plain paths are "file")."""
    host: str
    """Lower-case host name; "" for local remotes."""
    port: int | None
    """The web/API port, kept only for http(s) remotes (an SSH port is not the API's)."""
    path: str
    """Repository path without leading "/" or trailing ".git", e.g. "acme/env"."""

    @property
    def local(self) -> bool:
        return self.scheme == "file"


def parse_remote(url: str) -> Remote:
    url = url.strip()
    if "://" in url:
        url, _, _ = masking.strip_credentials(url)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "file":
            return Remote("file", "", None, _clean_path(parts.path))
        if scheme.startswith("git+"):  # git+ssh://, git+https:// as some tools write them
            scheme = scheme[4:]
        if scheme == "ssh+git":
            scheme = "ssh"
        port = parts.port if scheme in ("http", "https") else None
        return Remote(scheme, (parts.hostname or "").lower(), port, _clean_path(parts.path))
    match = _SCP.match(url)
    if match and not url.startswith(("/", ".")):
        return Remote("ssh", match["host"].lower(), None, _clean_path(match["path"]))
    return Remote("file", "", None, _clean_path(url))


def _clean_path(path: str) -> str:
    path = path.strip("/")
    # A pasted web URL of a GitLab page: group/project/-/merge_requests/1
    path = path.split("/-/", 1)[0]
    return path.removesuffix(".git").strip("/")


def detect_kind(remote: Remote) -> str:
    """github / gitlab / none from the host, or InputError asking for --forge."""
    if remote.local:
        return "none"
    host = remote.host
    if host == "github.com" or host.endswith(".ghe.com"):
        return "github"
    if host == "gitlab.com" or "gitlab" in host:
        return "gitlab"
    if "github" in host:  # GitHub Enterprise Server usually lives at github.<company>
        return "github"
    raise InputError(f"cannot tell which forge hosts {host or 'this remote'}", hint=_FORGE_HINT)


def repository_slug(kind: str, remote: Remote, url: str) -> str:
    segments = [s for s in remote.path.split("/") if s]
    if kind == "github" and len(segments) != 2:
        raise InputError(
            f"{masking.mask(url)} does not name a GitHub repository as OWNER/REPO",
            hint="use a remote URL like https://github.com/OWNER/REPO.git",
        )
    if kind == "gitlab" and len(segments) < 2:
        raise InputError(
            f"{masking.mask(url)} does not name a GitLab project as GROUP[/SUBGROUP…]/PROJECT",
            hint="use a remote URL like https://gitlab.com/GROUP/PROJECT.git",
        )
    return "/".join(segments)


def api_base(kind: str, remote: Remote) -> str:
    """The API root the adapter talks to (python-gitlab adds /api/v4 itself)."""
    host = remote.host
    if kind == "github" and host == "github.com":
        return "https://api.github.com"
    if kind == "github" and host.endswith(".ghe.com"):  # GitHub Enterprise Cloud, data residency
        return f"https://api.{host}"
    # An http:// remote means the server speaks plain http; ssh remotes don't say.
    scheme = "http" if remote.scheme == "http" else "https"
    port = f":{remote.port}" if remote.port else ""
    if kind == "github":  # GitHub Enterprise Server
        return f"{scheme}://{host}{port}/api/v3"
    return f"{scheme}://{host}{port}"


def web_base(url: str) -> str | None:
    """https://host/owner/name for a clone URL (https or scp-like ssh), credentials dropped."""
    match = re.fullmatch(r"(?:ssh://)?git@([^:/]+)[:/](.+?)(?:\.git)?/?", url)
    if match:
        return f"https://{match[1]}/{match[2]}"
    match = re.fullmatch(r"https?://(?:[^@/]+@)?([^/]+)/(.+?)(?:\.git)?/?", url)
    return f"https://{match[1]}/{match[2]}" if match else None
