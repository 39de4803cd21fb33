"""The one place that builds HTTP sessions for forge APIs.

Both adapters hand their library (PyGithub, python-gitlab) a `ForgeSession`,
so every request gets the same timeouts, user agent, authentication and
retry policy, and the libraries' own retry/throttle machinery stays off
(two layers of retries multiply; theirs also sleep for real, unbounded).

Retried: 5xx, 429, and 403 when it is a rate limit (`Retry-After`, or
`X-RateLimit-Remaining: 0` with `X-RateLimit-Reset`; GitLab spells them
without `X-`), plus connection errors. Waits are bounded: a single wait
longer than `RetryPolicy.max_wait` (e.g. an hour until a primary rate limit
resets) is refused with a `RateLimitError` that says when to come back,
instead of hanging a CI job.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from promoter import USER_AGENT
from promoter.adapters.forges import quota
from promoter.core import masking
from promoter.errors import ForgeError

log = logging.getLogger("promoter.forge")


def _no_query(url: str | None) -> str:
    """The URL for a log line: no query (it can carry tokens or paging noise)."""
    return (url or "").split("?", 1)[0]


# Module-level so tests (and the lead's end-to-end tests) can patch them:
# monkeypatch.setattr(promoter.adapters.forges.session, "sleep", fake_sleep).
sleep: Callable[[float], None] = time.sleep
now: Callable[[], float] = time.time

_RETRY_STATUS = frozenset({500, 502, 503, 504})
# Methods whose repetition cannot do anything twice; a read timeout on a POST
# may mean the server did the work, so only these are retried after one.
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


AuthHeaders = Mapping[str, str] | Callable[[], Mapping[str, str]]
"""Fixed headers, or a function giving them per request (a token that expires)."""


class RateLimitError(ForgeError):
    """The forge rate-limited us for longer than we are willing to wait."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    """Tries per request, the first included."""
    backoff: float = 1.0
    """First wait after a 5xx/connection error; doubles each time."""
    max_backoff: float = 16.0
    max_wait: float = 60.0
    """Longest single wait we accept, e.g. for a rate limit to reset."""
    max_total_wait: float = 120.0
    """Longest time one request may spend waiting across its retries."""
    timeout: tuple[float, float] = (10.0, 30.0)
    """(connect, read) seconds, used when the library gives none."""
    sleep: Callable[[float], None] | None = None
    """None: the module's `sleep` (looked up at call time, so it can be patched)."""
    clock: Callable[[], float] | None = None
    """None: the module's `now` (epoch seconds), for X-RateLimit-Reset."""


def _header(headers: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            return value
    return None


def _retry_after(value: str, clock: float) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - clock)


@dataclass(frozen=True)
class _Verdict:
    wait: float
    rate_limited: bool
    reset_at: float | None = None
    """Set when the server named the reset time (X-RateLimit-Reset)."""


class ForgeSession(requests.Session):
    """A requests session with the forge's auth, our user agent, default
    timeouts and bounded retries. `request_count` counts every attempt sent."""

    def __init__(
        self,
        *,
        forge: str,
        api_url: str,
        auth_headers: AuthHeaders,
        policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__()
        self.forge = forge
        self.policy = policy or RetryPolicy()
        self.request_count = 0
        self._origin = _origin(api_url)
        self._api = _no_query(api_url)
        self._auth_headers = auth_headers
        self._auth()  # a static token is registered (masked) before any request
        self.headers["User-Agent"] = USER_AGENT
        # A non-None auth stops requests from reading ~/.netrc, which would
        # otherwise add (or replace) an Authorization header behind our back.
        self.auth = _no_auth

    def _auth(self) -> dict[str, str]:
        """The credentials for the next request: a GitHub App's installation
        token is asked for each time, so a long-running process (serve, the
        agent, the dashboard) never sends an expired one."""
        headers = dict(self._auth_headers() if callable(self._auth_headers) else self._auth_headers)
        for value in headers.values():
            masking.register(value.split(" ")[-1])
        return headers

    def _sleep(self, seconds: float) -> None:
        (self.policy.sleep or sleep)(seconds)

    def _now(self) -> float:
        return (self.policy.clock or now)()

    def _backoff(self, attempt: int) -> float:
        return float(min(self.policy.max_backoff, self.policy.backoff * 2 ** (attempt - 1)))

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.policy.timeout
        request.headers["User-Agent"] = USER_AGENT
        # Credentials only go to the API's own origin (not to a redirect target).
        if _origin(request.url or "") == self._origin:
            request.headers.update(self._auth())
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            self.request_count += 1
            try:
                response = super().send(request, **kwargs)
                log.info(
                    "%s %s -> %s", request.method, _no_query(request.url), response.status_code
                )
                quota.record(self.forge.lower(), self._api, response.headers)
            except (requests.ConnectionError, requests.Timeout) as err:
                retryable = not isinstance(err, requests.ReadTimeout) or (
                    (request.method or "GET").upper() in _IDEMPOTENT
                )
                wait = self._backoff(attempt)
                if not retryable or attempt >= self.policy.attempts:
                    raise
                if waited + wait > self.policy.max_total_wait:
                    raise
                self._sleep(wait)
                waited += wait
                continue
            verdict = self._verdict(response, attempt)
            if verdict is None:
                return response
            if verdict.wait > self.policy.max_wait:
                why = f"longer than promoter waits at a time ({self.policy.max_wait:.0f} s)"
            elif waited + verdict.wait > self.policy.max_total_wait:
                why = (
                    f"after {waited:.0f} s of waiting already (promoter waits at most "
                    f"{self.policy.max_total_wait:.0f} s per request)"
                )
            elif attempt >= self.policy.attempts:
                why = f"still limited after {attempt} tries"
            else:
                why = ""
            if why:
                if verdict.rate_limited:
                    # Raise ourselves: handing the 429 back would let a library
                    # start its own (unbounded) rate-limit sleeping.
                    raise self._rate_limit_error(verdict, response, why)
                return response
            response.close()
            if verdict.rate_limited:  # -v says why the command pauses
                log.info(
                    "%s API rate limit (%s on %s %s): waiting %.0f s, as told, then retrying",
                    self.forge, response.status_code, request.method, _path(request.url),
                    verdict.wait,
                )  # fmt: skip
            self._sleep(verdict.wait)
            waited += verdict.wait

    def _verdict(self, response: requests.Response, attempt: int) -> _Verdict | None:
        """How long to wait before retrying `response`, or None: don't retry."""
        status = response.status_code
        headers = response.headers
        if status in _RETRY_STATUS:
            return _Verdict(self._backoff(attempt), rate_limited=False)
        if status not in (403, 429):
            return None
        clock = self._now()
        retry_after = _header(headers, "Retry-After")
        if retry_after is not None:
            wait = _retry_after(retry_after, clock)
            if wait is not None:
                return _Verdict(max(wait, 1.0), rate_limited=True)
        remaining = _header(headers, "X-RateLimit-Remaining", "RateLimit-Remaining")
        reset = _header(headers, "X-RateLimit-Reset", "RateLimit-Reset")
        if remaining == "0" and reset is not None and reset.strip().isdigit():
            reset_at = float(reset)
            # +1: the reset second itself may still be limited on their clock.
            return _Verdict(max(reset_at - clock + 1.0, 1.0), rate_limited=True, reset_at=reset_at)
        if status == 429:
            return _Verdict(self._backoff(attempt), rate_limited=True)
        if "secondary rate limit" in response.text.lower():
            # GitHub's docs: without headers, wait at least a minute.
            return _Verdict(60.0, rate_limited=True)
        return None  # a plain 403: permissions, not load

    def _rate_limit_error(
        self, verdict: _Verdict, response: requests.Response, why: str
    ) -> RateLimitError:
        if verdict.reset_at is not None:
            when = datetime.fromtimestamp(verdict.reset_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            wait = f"it resets at {when} (in {verdict.wait:.0f} s)"
        else:
            wait = f"it asked us to wait {verdict.wait:.0f} s"
        message = (
            f"{self.forge} API rate limit hit ({response.status_code} on "
            f"{response.request.method} {_path(response.url)}): {wait}, {why}"
        )
        return RateLimitError(
            masking.mask(message),
            hint="re-run the job later, or use a token with a larger quota "
            "(e.g. a GitHub App installation token or a dedicated bot account)",
        )


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the default port filled in: PyGithub writes
    https://api.github.com:443/… where we were given https://api.github.com."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    default = {"https": 443, "http": 80}.get(scheme)
    return scheme, (parts.hostname or "").lower(), parts.port or default


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


def _path(url: str | None) -> str:
    parts = urlsplit(url or "")
    return parts.path or "/"


def build_session(
    *,
    forge: str,
    api_url: str,
    auth_headers: AuthHeaders,
    policy: RetryPolicy | None = None,
) -> ForgeSession:
    """A session for one forge API; `forge` ("GitHub", "GitLab") names it in messages."""
    return ForgeSession(forge=forge, api_url=api_url, auth_headers=auth_headers, policy=policy)
