"""Wire an event to a real forge and workspace: shared by `promoter bot`
(one event from a file) and `promoter serve` (events from webhooks)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from promoter.adapters.forges import make_forge
from promoter.adapters.forges.base import Forge
from promoter.adapters.forges.remote import Remote, detect_kind, parse_remote
from promoter.adapters.registry import RegistryClient
from promoter.core.chatops.events import Event
from promoter.errors import InputError
from promoter.workflows.bot import BotResult, handle
from promoter.workflows.promote import workspace


def forge_for(
    event: Event, repo_url: str, api_url: str | None, environ: Mapping[str, str]
) -> Forge:
    """The event's forge. The repository (OWNER/REPO) comes from `repo_url`;
    from the event only when the URL is local and says nothing (tests,
    repositories on disk), so a payload cannot send API calls to a
    repository other than the URL's."""
    local = parse_remote(repo_url).local
    return make_forge(
        event.forge,
        repo_url,
        api_url=api_url,
        repository=event.repository if local else None,
        environ=environ,
    )


def run_event(
    event: Event,
    *,
    environ: Mapping[str, str],
    repo_url: str | None = None,
    api_url: str | None = None,
    allow_teams: Iterable[str] = (),
) -> BotResult:
    """Handle `event` against the repository at `repo_url` (default: the
    clone URL the event names)."""
    url = repo_url or event.repo_url
    forge = forge_for(event, url, api_url, environ)
    return handle(
        event,
        forge=forge,
        workspace_factory=lambda: workspace(url, environ),
        registry=RegistryClient,
        allow_teams=tuple(allow_teams),
    )


def served_url(repo_urls: Iterable[str], event: Event) -> str | None:
    """The configured URL of the event's repository, or None when it is not
    one of `repo_urls` (`promoter serve` acts only on repositories it was
    told about: a payload must not choose where the tokens go)."""
    return next(
        (
            u
            for u in repo_urls
            if same_repository(u, event.repo_url) and _forge_matches(u, event.forge)
        ),
        None,
    )


def _forge_matches(url: str, forge: str) -> bool:
    """A GitLab delivery (guarded only by a static token) must not act on a
    GitHub repository, and vice versa: the URL's host says which forge it is."""
    remote = parse_remote(url)
    if remote.local:
        return True
    try:
        return detect_kind(remote) == forge
    except InputError:
        return True  # a host we cannot classify: the operator listed it on purpose


def same_repository(a: str, b: str) -> bool:
    """Whether two remote URLs name the same repository (credentials, case of
    host and path, a trailing ".git" or "/" do not matter)."""
    return _key(parse_remote(a)) == _key(parse_remote(b))


def _key(remote: Remote) -> tuple[str, str, int | None, str]:
    return remote.scheme, remote.host, remote.port, remote.path.casefold()
