"""What is left of each forge API's rate limit, as the last response said
(`X-RateLimit-Remaining`/`-Limit`/`-Reset` on GitHub, `RateLimit-*` on
GitLab), for the metrics of `serve` and the agent: an operator sees the
quota run low before requests start waiting."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


@dataclass(frozen=True)
class Quota:
    remaining: float
    limit: float | None
    reset: float | None
    """Unix time the window resets (None: not said)."""


_lock = threading.Lock()
_seen: dict[tuple[str, str], Quota] = {}


def _number(headers: Mapping[str, str], *names: str) -> float | None:
    for name in names:
        value = headers.get(name)
        if value is not None and value.strip().isdigit():
            return float(value)
    return None


def record(forge: str, api: str, headers: Mapping[str, str]) -> None:
    """Remember the quota a response reports (responses without the headers change nothing)."""
    remaining = _number(headers, "X-RateLimit-Remaining", "RateLimit-Remaining")
    if remaining is None:
        return
    quota = Quota(
        remaining,
        _number(headers, "X-RateLimit-Limit", "RateLimit-Limit"),
        _number(headers, "X-RateLimit-Reset", "RateLimit-Reset"),
    )
    with _lock:
        _seen[(forge, api)] = quota


def snapshot() -> dict[tuple[str, str], Quota]:
    with _lock:
        return dict(_seen)


def forget() -> None:
    """Tests: start from nothing."""
    with _lock:
        _seen.clear()


class QuotaCollector(Collector):
    """`promoter_forge_rate_limit_{remaining,limit,reset_timestamp_seconds}`
    per forge and API, read at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["forge", "api"]
        remaining = GaugeMetricFamily(
            "promoter_forge_rate_limit_remaining",
            "Requests left in the forge API's rate-limit window, as its last answer said.",
            labels=labels,
        )
        limit = GaugeMetricFamily(
            "promoter_forge_rate_limit_limit",
            "The size of the forge API's rate-limit window.",
            labels=labels,
        )
        reset = GaugeMetricFamily(
            "promoter_forge_rate_limit_reset_timestamp_seconds",
            "When the forge API's rate-limit window resets (Unix time).",
            labels=labels,
        )
        for (forge, api), quota in sorted(snapshot().items()):
            remaining.add_metric([forge, api], quota.remaining)
            if quota.limit is not None:
                limit.add_metric([forge, api], quota.limit)
            if quota.reset is not None:
                reset.add_metric([forge, api], quota.reset)
        yield from (remaining, limit, reset)
