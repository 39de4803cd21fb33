"""Turn a forge's HTTP failure into a ForgeError that says what to do next.

Shared by the adapters so that 401/403/404/5xx read the same on GitHub and
GitLab; each adapter supplies its own wording (`Wording`) for token scopes.
Every message is masked: a server may echo a token back.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from promoter.core import masking
from promoter.errors import ForgeError


@dataclass(frozen=True)
class Wording:
    forge: str
    """"GitHub" / "GitLab"."""
    repo_word: str
    """"repository" / "project"."""
    token_variables: str
    """Where the token comes from, e.g. "PROMOTER_FORGE_TOKEN or GITHUB_TOKEN"."""
    scopes: str
    """What a token needs, e.g. "the `repo` scope"."""


def status_error(
    wording: Wording,
    status: int | None,
    detail: str,
    *,
    doing: str,
    repo: str,
    attempts: int,
    subject: str | None = None,
    needs: str | None = None,
) -> ForgeError:
    """`doing` completes "could not ...", e.g. "list pull requests into staging".

    subject: what else a 404 may mean is missing, besides the repository
    (e.g. "pull request #7 in acme/env", "team acme/sre"); needs: what the
    token needs for this call when it is not `wording.scopes` (e.g. `read:org`).
    """
    forge = wording.forge
    said = f" ({detail})" if detail else ""
    if status == 401:
        message = f"{forge} rejected the token{said}: it is invalid, expired or revoked"
        hint = f"create a new token and set it in {wording.token_variables}"
    elif status == 403:
        message = f"{forge} refused to {doing} in {repo}{said}: the token lacks permission"
        hint = f"the token needs {needs or wording.scopes} on {repo}"
    elif status == 404 and subject:
        # A 404 does not say which part of the path is missing; naming only
        # the repository would send people looking in the wrong place.
        message = f"{forge} found no {subject}{said}: it does not exist or the token cannot see it"
        hint = f"check that {subject} exists" + (f"; the token needs {needs}" if needs else "")
    elif status == 404:
        message = (
            f"{forge} found no {wording.repo_word} {repo} while trying to {doing}{said}: "
            f"the {wording.repo_word} name is wrong or the token cannot see it"
        )
        hint = (
            f"check that the remote URL names {repo} correctly and that the token's "
            f"owner can see it"
        )
    elif status is not None and status >= 500:
        message = f"{forge} failed to {doing} in {repo}: HTTP {status}{said} after {attempts} tries"
        hint = f"{forge} may be having an outage; re-run the job later"
    else:
        code = f"HTTP {status}" if status is not None else "an error"
        message = f"{forge} refused to {doing} in {repo}: {code}{said}"
        hint = None
    return ForgeError(masking.mask(message), hint=masking.mask(hint) if hint else None)


def network_error(wording: Wording, err: requests.RequestException, *, doing: str) -> ForgeError:
    host = ""
    url = err.request.url if err.request is not None else None
    if isinstance(url, str):
        host = urlsplit(url).netloc
    kind = type(err).__name__
    message = f"could not reach {wording.forge}{f' at {host}' if host else ''} to {doing}: {kind}"
    return ForgeError(
        masking.mask(message),
        hint="check the network (proxy variables) and the forge API URL (--api-url)",
    )
