"""RegistryClient: tags, digests and existence over the OCI distribution API."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

import requests

from promoter.adapters.registry.auth import Authenticator, parse_challenge
from promoter.adapters.registry.hosts import base_url
from promoter.adapters.registry.transport import RETRY_STATUS, RetryPolicy, Transport, origin
from promoter.core import masking
from promoter.core.images import ImageRef, parse_repository, validate_digest
from promoter.errors import ImageRefError, RegistryError

MANIFEST_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
_ACCEPT = {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)}
# A registry that keeps sending "next" links must not keep a CI job busy forever.
_MAX_PAGES = 1000


class RegistryClient:
    """One client per job: it caches credentials and tokens between calls.

    `environ` (default: os.environ) is read for PROMOTER_REGISTRY_*,
    PROMOTER_INSECURE_REGISTRIES, DOCKER_CONFIG and HOME.
    """

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        session: requests.Session | None = None,
        page_size: int = 100,
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._transport = Transport(
            environ=self._environ, policy=policy, sleep=sleep, session=session
        )
        self._auth = Authenticator(self._transport, self._environ)
        self.page_size = page_size

    @property
    def request_count(self) -> int:
        """Every HTTP try sent so far, token requests and retries included."""
        return self._transport.request_count

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ API

    def list_tags(self, repository: str | ImageRef) -> list[str]:
        """Every tag of `repository` across all pages, sorted, each once.

        Sorted because registries disagree: the OCI spec asks for lexical
        order, but distribution 2.x returns directory order (and ignores `n`).
        """
        ref = repository if isinstance(repository, ImageRef) else _repository(repository)
        url: str | None = f"/v2/{ref.path}/tags/list?n={self.page_size}"
        tags: list[str] = []
        seen: set[str] = set()
        while url is not None:
            if url in seen or len(seen) >= _MAX_PAGES:
                raise RegistryError(
                    f"registry {ref.registry} kept paginating the tags of {ref.repository} "
                    f"({len(seen)} pages, {len(tags)} tags)"
                )
            seen.add(url)
            response = self._request(ref, "GET", url)
            if response.status_code == 404:
                raise self._not_found(ref, response, f"repository {ref.repository}")
            self._expect_ok(ref, response)
            tags.extend(_tags_from(response, ref))
            url = self._next_page(ref, response)
        # A tag pushed between two pages may show up on both.
        return sorted(set(tags))

    def resolve_digest(self, ref: ImageRef) -> str:
        """The manifest digest `ref` names now ("sha256:…"); a tag's may change.

        The digest is that of the manifest or index as stored, the one
        `docker pull` prints, not of any one platform's image.
        """
        reference = _manifest_reference(ref)
        response = self._manifest(ref, "HEAD", reference)
        if response.status_code == 404:
            raise self._not_found(ref, response, str(ref))
        self._expect_ok(ref, response)
        digest = _header_digest(response)
        if digest is not None:
            return digest
        if ref.digest is not None:
            return ref.digest  # it exists, and content addressing names it
        # Some registries (and proxies) drop Docker-Content-Digest: hash the bytes.
        response = self._manifest(ref, "GET", reference)
        if response.status_code == 404:
            raise self._not_found(ref, response, str(ref))
        self._expect_ok(ref, response)
        return "sha256:" + hashlib.sha256(response.content).hexdigest()

    def exists(self, ref: ImageRef) -> bool:
        """Does the tag (or digest) exist? Never False for a failure: those raise."""
        response = self._manifest(ref, "HEAD", _manifest_reference(ref))
        if response.status_code == 404:
            return False
        self._expect_ok(ref, response)
        return True

    # ------------------------------------------------------------ internals

    def _manifest(self, ref: ImageRef, method: str, reference: str) -> requests.Response:
        url = f"/v2/{ref.path}/manifests/{reference}"
        response = self._request(ref, method, url, headers=_ACCEPT)
        if method == "HEAD" and response.status_code == 405:
            # A registry (or proxy) without HEAD support: the GET says the same.
            response = self._request(ref, "GET", url, headers=_ACCEPT)
        return response

    def _request(
        self,
        ref: ImageRef,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send, answering one 401 by authenticating; raise on 401/403 after that."""
        registry, scope = ref.registry, f"repository:{ref.path}:pull"
        full = urljoin(base_url(registry, self._environ) + "/", url)
        send_headers = dict(headers or {})
        cached = self._auth.cached(registry, scope)
        if cached is not None:
            send_headers["Authorization"] = cached
        response = self._send(registry, method, full, send_headers)
        if response.status_code == 401:
            # Anonymous, or a cached token that expired: authenticate afresh.
            challenge = parse_challenge(response.headers.get("WWW-Authenticate"))
            response.close()
            send_headers["Authorization"] = self._auth.authorize(
                registry, scope, ref.path, challenge
            )
            response = self._send(registry, method, full, send_headers)
        if response.status_code in (401, 403):
            raise self._auth.refused(registry, ref.path, response.status_code)
        if response.status_code in RETRY_STATUS:
            raise _outage(registry, method, response)
        return response

    def _send(
        self, registry: str, method: str, url: str, headers: Mapping[str, str]
    ) -> requests.Response:
        return self._transport.send(method, url, what=f"registry {registry}", headers=headers)

    def _next_page(self, ref: ImageRef, response: requests.Response) -> str | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        url = urljoin(response.url, link)
        if origin(url) != origin(response.url):
            # Our Authorization header must not follow a link to another host.
            raise RegistryError(
                f"registry {ref.registry} sent a tags page link to another host: {origin(url)}"
            )
        return url

    def _expect_ok(self, ref: ImageRef, response: requests.Response) -> None:
        if response.status_code != 200:
            raise RegistryError(
                masking.mask(
                    f"registry {ref.registry} answered {response.status_code} "
                    f"{response.reason} for {ref}{_error_codes(response)}"
                )
            )

    def _not_found(self, ref: ImageRef, response: requests.Response, what: str) -> RegistryError:
        return RegistryError(
            f"{what} not found on registry {ref.registry}{_error_codes(response)}",
            hint="check the repository name (and tag); on a private registry it may also "
            "mean the credentials cannot see it",
        )


def _repository(text: str) -> ImageRef:
    return ImageRef(parse_repository(text))


def _manifest_reference(ref: ImageRef) -> str:
    # As docker does: with both a tag and a digest the digest decides.
    reference = ref.digest or ref.tag
    if reference is None:
        raise ImageRefError(
            f"image reference {ref} has no tag or digest",
            hint=f"name a version, e.g. '{ref.repository}:1.0' or '{ref.repository}@sha256:…'",
        )
    return reference


def _header_digest(response: requests.Response) -> str | None:
    value = response.headers.get("Docker-Content-Digest", "").strip()
    if not value:
        return None
    try:
        return validate_digest(value)
    except ImageRefError:
        return None  # a mangled header: fall back to hashing the body


def _tags_from(response: requests.Response, ref: ImageRef) -> list[str]:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise RegistryError(f"registry {ref.registry} sent a tags list that is not JSON")
    tags = body.get("tags") or []  # an empty repository may say "tags": null
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise RegistryError(f"registry {ref.registry} sent a malformed tags list")
    return tags


def _error_codes(response: requests.Response) -> str:
    """ " (MANIFEST_UNKNOWN: manifest unknown)" from a distribution error body."""
    try:
        body: Any = response.json() if response.content else None
    except ValueError:
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ""
    parts = [
        f"{e.get('code')}: {e.get('message')}" if e.get("message") else str(e.get("code"))
        for e in errors
        if isinstance(e, dict) and e.get("code")
    ]
    return f" ({'; '.join(parts)})" if parts else ""


def _outage(registry: str, method: str, response: requests.Response) -> RegistryError:
    if response.status_code == 429:
        return RegistryError(
            f"registry {registry} is rate-limiting promoter (429 Too Many Requests)",
            hint="re-run later, or authenticate: registries give logged-in users larger quotas",
        )
    return RegistryError(
        f"registry {registry} failed: {response.status_code} {response.reason} "
        f"on {method} {response.request.path_url} after retries",
        hint="the registry may be having an outage; re-run the job later",
    )
