"""OCI registry access over the distribution API (no Docker daemon needed).

    list_tags("ghcr.io/acme/api")                 -> ["1.4.1", "1.4.2", ...]
    resolve_digest(parse_reference("nginx:1.27")) -> "sha256:..."
    exists(parse_reference("ghcr.io/acme/api:1.4.2")) -> True / False

`exists` is False only when the registry says the manifest (or repository)
is unknown (404); credentials it refuses, outages and unreachable hosts
raise `RegistryError` (exit code 7), so a failure never reads as "missing".
Use one `RegistryClient` for many calls: it keeps tokens between them.

Environment:

- `PROMOTER_REGISTRY_USERNAME` / `PROMOTER_REGISTRY_PASSWORD`: credentials
  for every registry, ahead of the Docker config (`credentials.py` has the
  whole search order: `DOCKER_CONFIG`, `~/.docker/config.json`, `auths`,
  `credHelpers`, `credsStore`).
- `PROMOTER_INSECURE_REGISTRIES`: comma-separated `host[:port]` spoken to
  over plain HTTP; loopback hosts (127.0.0.0/8, localhost, [::1]) always are.
- `PROMOTER_REGISTRY_CA_BUNDLE`: PEM file of CAs to trust for registries and
  their token services (e.g. a private CA); otherwise requests' default,
  which honours `REQUESTS_CA_BUNDLE`.

Docker Hub names (`nginx`, `docker.io/library/nginx`) are looked up on
`registry-1.docker.io` at path `library/nginx`.
"""

from __future__ import annotations

from promoter.adapters.registry.client import MANIFEST_MEDIA_TYPES, RegistryClient
from promoter.adapters.registry.credentials import Credentials, Lookup, find_credentials
from promoter.adapters.registry.transport import RetryPolicy
from promoter.core.images import ImageRef

__all__ = [
    "MANIFEST_MEDIA_TYPES",
    "Credentials",
    "Lookup",
    "RegistryClient",
    "RetryPolicy",
    "exists",
    "find_credentials",
    "list_tags",
    "resolve_digest",
]


def list_tags(repository: str) -> list[str]:
    """Every tag of `repository` ("ghcr.io/acme/api"); see RegistryClient.list_tags."""
    with RegistryClient() as client:
        return client.list_tags(repository)


def resolve_digest(ref: ImageRef) -> str:
    """The digest `ref`'s tag (or digest) names; see RegistryClient.resolve_digest."""
    with RegistryClient() as client:
        return client.resolve_digest(ref)


def exists(ref: ImageRef) -> bool:
    """Does `ref`'s tag or digest exist? See RegistryClient.exists."""
    with RegistryClient() as client:
        return client.exists(ref)
