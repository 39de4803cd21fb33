"""Sending one registry request: timeouts, bounded retries, outage errors.

Retried: connection failures, timeouts, 5xx and 429 (every request promoter
sends to a registry is a read, so repeating one is harmless). Waits double
from `RetryPolicy.backoff` up to `max_backoff`; a 429's numeric
`Retry-After` is honoured up to `max_retry_after`, and a longer one is not
waited for (a CI job must not hang). TLS failures are not retried: they do
not heal by themselves.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from promoter import USER_AGENT
from promoter.core import masking
from promoter.errors import RegistryError

log = logging.getLogger("promoter.registry")

CA_BUNDLE_ENV = "PROMOTER_REGISTRY_CA_BUNDLE"
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

# Module-level so tests can patch it; a client may also be handed its own.
sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    """Tries per request, the first included."""
    backoff: float = 0.5
    """First wait; doubles after each failed try."""
    max_backoff: float = 4.0
    max_retry_after: float = 10.0
    """Longest 429 `Retry-After` we wait for."""
    timeout: tuple[float, float] = (5.0, 30.0)
    """(connect, read) seconds."""


class Transport:
    """A requests session plus the retry policy; counts every try it sends."""

    def __init__(
        self,
        *,
        environ: Mapping[str, str],
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        # A non-None auth stops requests from reading ~/.netrc, which would
        # replace our Authorization header behind our back.
        self.session.auth = _no_auth
        # True: requests' default, which honours REQUESTS_CA_BUNDLE.
        self.verify: str | bool = environ.get(CA_BUNDLE_ENV) or True
        self._sleep = sleep
        self.request_count = 0

    def close(self) -> None:
        self.session.close()

    def send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send with retries; `what` names the server in errors ("registry ghcr.io").

        Returns the last response, which may still be a 5xx or 429 when the
        retries ran out; raises RegistryError when no response came at all.
        """
        attempt = 0
        while True:
            attempt += 1
            self.request_count += 1
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=dict(headers or {}),
                    timeout=self.policy.timeout,
                    verify=self.verify,
                    **kwargs,
                )
            except requests.exceptions.SSLError as err:
                raise _tls_error(what, url, err) from err
            except (requests.ConnectionError, requests.Timeout) as err:
                if attempt >= self.policy.attempts:
                    raise _unreachable(what, url, err, attempt) from err
                self._wait(self._backoff(attempt))
                continue
            except requests.RequestException as err:
                # Anything else (a garbled chunked body, a bad redirect) is
                # the registry's fault, not a bug of ours: still exit code 7.
                raise RegistryError(
                    masking.mask(f"{what}: request to {origin(url)} failed: {err}")
                ) from err
            log.debug("%s %s -> %s", method, url, response.status_code)
            if response.status_code not in RETRY_STATUS or attempt >= self.policy.attempts:
                return response
            wait = self._retry_wait(response, attempt)
            if wait is None:
                return response
            response.close()
            self._wait(wait)

    def _backoff(self, attempt: int) -> float:
        return float(min(self.policy.max_backoff, self.policy.backoff * 2 ** (attempt - 1)))

    def _retry_wait(self, response: requests.Response, attempt: int) -> float | None:
        value = response.headers.get("Retry-After", "").strip()
        if response.status_code == 429 and value.isdigit():
            wait = float(value)
            return wait if wait <= self.policy.max_retry_after else None
        return self._backoff(attempt)

    def _wait(self, seconds: float) -> None:
        (self._sleep or sleep)(seconds)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


def _reason(err: Exception) -> str:
    """A short cause ("[Errno 111] Connection refused") from requests' long text."""
    if isinstance(err, requests.ConnectTimeout):
        return "connection timed out"
    if isinstance(err, requests.ReadTimeout):
        return "no answer in time (read timeout)"
    found = re.findall(r"\[Errno -?\d+\][^'\")]*", str(err))
    return found[-1].strip() if found else type(err).__name__


def _unreachable(what: str, url: str, err: Exception, tries: int) -> RegistryError:
    return RegistryError(
        masking.mask(f"{what} unreachable at {origin(url)}: {_reason(err)} ({tries} tries)"),
        hint="check the registry host name and your network, and that the registry is up; "
        "re-run the job if it was a blip",
    )


def _tls_error(what: str, url: str, err: Exception) -> RegistryError:
    return RegistryError(
        masking.mask(f"{what}: TLS handshake with {origin(url)} failed: {err}"),
        hint=f"for a private CA set {CA_BUNDLE_ENV} (or REQUESTS_CA_BUNDLE) to its PEM bundle; "
        "for a registry without TLS list it in PROMOTER_INSECURE_REGISTRIES",
    )
