"""Where a registry's API lives: host name and scheme.

Docker Hub's images are named `docker.io/...`, but its API answers on
`registry-1.docker.io`. Every registry is spoken to over HTTPS, except
loopback hosts (127.0.0.0/8, `localhost`, `[::1]`), which are test and
development registries that rarely have a certificate, and the hosts listed
in `PROMOTER_INSECURE_REGISTRIES` (comma separated, `host` or `host:port`;
a bare host matches every port), the counterpart of Docker's
`insecure-registries`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
INSECURE_ENV = "PROMOTER_INSECURE_REGISTRIES"


def api_host(registry: str) -> str:
    """The host[:port] that serves `registry`'s /v2/ API."""
    return DOCKER_HUB_API if registry == DOCKER_HUB else registry


def split_host_port(host: str) -> tuple[str, str | None]:
    """("example.com", "5000") for "example.com:5000"; brackets kept on IPv6."""
    if host.startswith("["):
        end = host.find("]")
        rest = host[end + 1 :]
        return host[: end + 1], rest[1:] if rest.startswith(":") else None
    name, colon, port = host.rpartition(":")
    return (name, port) if colon else (host, None)


def is_loopback(host: str) -> bool:
    name = split_host_port(host)[0].strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def insecure_hosts(environ: Mapping[str, str]) -> frozenset[str]:
    raw = environ.get(INSECURE_ENV, "")
    return frozenset(item.strip().lower() for item in raw.split(",") if item.strip())


def scheme_for(registry: str, environ: Mapping[str, str]) -> str:
    host = api_host(registry).lower()
    insecure = insecure_hosts(environ)
    if is_loopback(host) or host in insecure or split_host_port(host)[0] in insecure:
        return "http"
    return "https"


def base_url(registry: str, environ: Mapping[str, str]) -> str:
    """ "https://ghcr.io" for "ghcr.io"; no trailing slash."""
    return f"{scheme_for(registry, environ)}://{api_host(registry)}"
