"""Forges: where promotion pull/merge requests are opened.

`make_forge` is the only entry point the core needs; it imports PyGithub or
python-gitlab lazily, so `import promoter.adapters.forges` stays cheap and the core
never imports a forge library.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from promoter.adapters.forges.remote import (
    KINDS,
    api_base,
    detect_kind,
    parse_remote,
    repository_slug,
)
from promoter.core import masking
from promoter.core.forge import (
    Approval,
    CommentResult,
    Forge,
    ForgeResult,
    PullRequest,
    PullRequestSpec,
)
from promoter.errors import ForgeError, InputError

if TYPE_CHECKING:
    from promoter.adapters.forges.session import RetryPolicy
    from promoter.core.config.model import Config

__all__ = [
    "Approval",
    "CommentResult",
    "Forge",
    "ForgeResult",
    "PullRequest",
    "PullRequestSpec",
    "forge_token",
    "make_forge",
    "make_forge_for",
]

_TOKEN_VARIABLES = {
    "github": ("PROMOTER_FORGE_TOKEN", "GITHUB_TOKEN", "PROMOTER_GIT_TOKEN"),
    "gitlab": ("PROMOTER_FORGE_TOKEN", "GITLAB_TOKEN", "PROMOTER_GIT_TOKEN"),
}
_NAMES = {"github": "GitHub", "gitlab": "GitLab"}


def forge_token(kind: str, environ: Mapping[str, str], repository: str = "") -> str:
    """The API token for `kind`: PROMOTER_FORGE_TOKEN, then GITHUB_TOKEN or
    GITLAB_TOKEN, then PROMOTER_GIT_TOKEN. Registered as a secret."""
    names = _TOKEN_VARIABLES[kind]
    for name in names:
        value = (environ.get(name) or "").strip()
        if value:
            masking.register(value)
            return value
    where = f" on {repository}" if repository else ""
    raise ForgeError(
        f"no token for the {_NAMES[kind]} API: pull requests need one",
        hint=f"set {names[0]} (or {names[1]}, or {names[2]}) to a token that may open "
        f"{'merge' if kind == 'gitlab' else 'pull'} requests{where}",
    )


def make_forge(
    kind: str | None,
    repo_url: str,
    *,
    api_url: str | None = None,
    environ: Mapping[str, str],
    repository: str | None = None,
    policy: RetryPolicy | None = None,
) -> Forge:
    """The forge for the environment repository at `repo_url`.

    kind: "github", "gitlab", "none", or None to detect it from the URL's host
    (github.com → github; gitlab.com or a host containing "gitlab" → gitlab;
    file:// and plain paths → none; anything else: InputError asking for --forge).
    api_url: overrides the API base derived from the URL (https://api.github.com,
    https://HOST/api/v3 for GitHub Enterprise, https://HOST for GitLab).
    repository: overrides the OWNER/REPO (GitLab: GROUP/…/PROJECT) taken from the URL;
    needed when the remote is local but the forge is not "none".
    policy: retry/timeout policy (tests pass one with a fake sleep).
    """
    remote = parse_remote(repo_url)
    chosen = (kind or detect_kind(remote)).strip().lower()
    if chosen not in KINDS:
        raise InputError(f"unknown forge {kind!r}", hint=f"use one of: {', '.join(KINDS)}")
    if chosen == "none":
        from promoter.adapters.forges.none import NoForge

        return NoForge(masking.mask(repo_url))
    if repository:
        slug = repository.strip().strip("/").removesuffix(".git")
    elif remote.local:
        raise InputError(
            f"cannot tell the {_NAMES[chosen]} repository from the local remote "
            f"{masking.mask(repo_url)}",
            hint="set forge.repository in promoter.yaml (e.g. acme/env), or use --forge none",
        )
    else:
        slug = repository_slug(chosen, remote, repo_url)
    if api_url:
        if not api_url.startswith(("https://", "http://")):
            raise InputError(f"the forge API URL must start with https:// ({api_url!r})")
        base = api_url.rstrip("/")
    elif remote.local:
        base = "https://api.github.com" if chosen == "github" else "https://gitlab.com"
    else:
        base = api_base(chosen, remote)
    if chosen == "github":
        from promoter.adapters.forges.github import GitHubForge
        from promoter.adapters.forges.github_app import token_source

        # A GitHub App's credentials, when given, win over tokens: an
        # organisation that forbids personal tokens means it.
        app = token_source(environ, base, slug)
        token = app or forge_token(chosen, environ, slug)
        return GitHubForge(slug, token, api_url=base, policy=policy)
    token = forge_token(chosen, environ, slug)
    from promoter.adapters.forges.gitlab import GitLabForge

    return GitLabForge(slug, token, url=base, policy=policy)


def make_forge_for(
    config: Config, kind: str | None, url: str, api_url: str | None, environ: dict[str, str]
) -> Forge:
    """Flags win over promoter.yaml's `forge:`; the URL decides the rest."""
    settings = config.forge
    return make_forge(
        kind or (settings.type if settings else None),
        url,
        api_url=api_url or (settings.api_url if settings else None),
        repository=settings.repository if settings else None,
        environ=environ,
    )
