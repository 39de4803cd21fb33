"""What the dashboard shows, as plain data: the environment matrix (each
cell's version, since when, and how it compares with the environment it is
promoted from), history, delivery figures over 30 days, open promotion PRs
and the appliers' state.

Built in one go from Git (and, when configured, one forge listing per
target branch and the controllers) by the dashboard's refresher, never per
request: reading the page costs no git command and no forge request.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from promoter.core.config.model import Config
from promoter.core.images import ImageRef, reference_or_none
from promoter.core.policy.versions import same_version
from promoter.core.trailers import Deployment
from promoter.core.versions import compare, parse_version

WINDOW_DAYS = 30


@dataclass(frozen=True)
class Cell:
    service: str
    env: str
    version: str | None
    """The tag, or a short digest; None: the service does not run there."""
    image: str | None
    since: str | None = None
    """ISO date of the deployment that put this version there (None: not
    put there by promoter, or history not read)."""
    commit: str | None = None
    pipeline: str | None = None
    relation: str = ""
    """vs the environment it is promoted from: equal, behind, ahead, differs,
    config (the same version, other `promote:` files or fields), or ''."""
    upstream: str | None = None
    conflicting: bool = False


@dataclass(frozen=True)
class Figures:
    deploys_per_env: dict[str, int]
    """Deployments in the window, per environment (promotion order)."""
    rollbacks_per_env: dict[str, int]
    lead_time_hours: float | None
    """Median hours from a version's first deployment in the first
    environment to its arrival in a last one."""
    days: int = WINDOW_DAYS

    def rollback_rate(self, env: str) -> float:
        total = self.deploys_per_env.get(env, 0)
        return self.rollbacks_per_env.get(env, 0) / total if total else 0.0


@dataclass
class Snapshot:
    environments: list[str]
    services: list[str]
    cells: dict[tuple[str, str], Cell]
    history: list[Deployment] = field(default_factory=list)
    figures: Figures | None = None
    pull_requests: list[dict[str, Any]] = field(default_factory=list)
    appliers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    read_at: str = ""
    source: str = ""
    version: int = 0
    """Bumped by the refresher when anything shown changed."""

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "read_at": self.read_at,
            "source": self.source,
            "environments": self.environments,
            "cells": {
                f"{c.service}/{c.env}": {
                    "version": c.version,
                    "image": c.image,
                    "since": c.since,
                    "commit": c.commit,
                    "relation": c.relation,
                    "upstream": c.upstream,
                }
                for c in self.cells.values()
            },
            "pull_requests": self.pull_requests,
            "appliers": self.appliers,
        }

    def fingerprint(self) -> object:
        """What decides whether the page changed (not the read time)."""
        data = self.to_json()
        data.pop("version")
        data.pop("read_at")
        return repr(data)


def _version(ref: ImageRef | None) -> str | None:
    if ref is None:
        return None
    if ref.tag:
        return ref.tag
    return f"{ref.digest[:19]}…" if ref.digest else None


def _relation(
    mine: ImageRef | None,
    theirs: ImageRef | None,
    here: Mapping[str, Any] | None = None,
    there: Mapping[str, Any] | None = None,
) -> str:
    if mine is None or theirs is None:
        return ""
    if same_version(mine, theirs):
        carried = ((here or {}).get("carried"), (there or {}).get("carried"))
        return "config" if carried[0] != carried[1] else "equal"
    a = parse_version(mine.tag) if mine.tag else None
    b = parse_version(theirs.tag) if theirs.tag else None
    if a is not None and b is not None and compare(a, b) != 0:
        return "behind" if compare(a, b) < 0 else "ahead"
    return "differs"


def build(
    config: Config,
    matrix: Mapping[str, Any],
    history: Iterable[Deployment],
    *,
    now: datetime | None = None,
) -> Snapshot:
    """The snapshot for `matrix` (workflows.status) and `history` (every
    environment's deployments, newest first)."""
    order = [e.name for e in config.promotion_order()]
    upstream = {e.name: e.from_ for e in config.environments}
    past = list(history)
    landed: dict[tuple[str, str], list[Deployment]] = {}
    for d in past:
        landed.setdefault((d.service, d.env), []).append(d)
    cells: dict[tuple[str, str], Cell] = {}
    refs: dict[tuple[str, str], ImageRef | None] = {}
    for service, row in matrix["services"].items():
        for env in order:
            refs[(service, env)] = reference_or_none(row[env]["image"])
    for service, row in matrix["services"].items():
        for env in order:
            ref = refs[(service, env)]
            source = upstream.get(env)
            arrival = next(
                (d for d in landed.get((service, env), ()) if ref and _same(d.to_ref, ref)), None
            )
            cells[(service, env)] = Cell(
                service,
                env,
                _version(ref),
                row[env]["image"],
                since=arrival.date if arrival else None,
                commit=arrival.commit if arrival else None,
                pipeline=arrival.pipeline if arrival else None,
                relation=_relation(ref, refs.get((service, source)), row[env], row.get(source))
                if source
                else "",
                upstream=source,
                conflicting=bool(row[env].get("conflicting")),
            )
    moment = now or datetime.now(UTC)
    return Snapshot(
        order,
        list(matrix["services"]),
        cells,
        past,
        figures(config, past, moment),
        read_at=moment.isoformat(timespec="seconds"),
    )


def _same(text: str, ref: ImageRef) -> bool:
    other = reference_or_none(text)
    return other is not None and same_version(other, ref)


def _when(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def figures(config: Config, past: list[Deployment], now: datetime) -> Figures:
    order = [e.name for e in config.promotion_order()]
    since = now - timedelta(days=WINDOW_DAYS)
    recent = [d for d in past if (_when(d.date) or since) > since]
    deploys = {env: sum(1 for d in recent if d.env == env) for env in order}
    rollbacks = {
        env: sum(1 for d in recent if d.env == env and d.kind == "rollback") for env in order
    }
    roots = {e.name for e in config.environments if e.from_ is None}
    leaves = {e.name for e in config.environments if not config.downstream(e)} - roots
    first_seen: dict[tuple[str, str], datetime] = {}
    for d in past:
        moment = _when(d.date)
        if d.env in roots and moment is not None:
            key = (d.service, d.to_ref)
            first_seen[key] = min(moment, first_seen.get(key, moment))
    leads = []
    for d in recent:
        moment = _when(d.date)
        start = first_seen.get((d.service, d.to_ref))
        if d.env in leaves and d.kind == "promotion" and moment and start and moment >= start:
            leads.append((moment - start).total_seconds() / 3600)
    lead = statistics.median(leads) if leads else None
    return Figures(deploys, rollbacks, lead)
